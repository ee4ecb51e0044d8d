"""``boltzphlow plot FILE``: PNG figures of an output file (matplotlib, the ``plot`` extra).

Rank 0 reads the file with serial h5py and writes, into ``-o DIR`` (default
``<file stem>_plots`` next to the file):

* ``f_E.png``, ``n_Omega.png``: QP and phonon occupations at the chosen times (a sphere:
  one panel per chosen radius), log scale;
* ``f_E_r.png`` (sphere only): map of ``f(E, r)`` at the last chosen time;
* ``qp_number.png``: QP number and excess QP number vs time;
* ``energy_ledger.png``: where the energy went vs time, and the relative ledger error;
* ``gap.png``: gap vs time (point), or ``Delta(r)`` at the chosen times and ``Delta(t)``
  at the chosen radii (sphere).

Every input is checked before anything is written; bad input is an ``InputError``
raised on every rank (the CLI prints one line and exits with code 2).

This module is the command; ``plot_data`` reads the file, ``plot_figures`` draws what
every geometry has, ``plot_point`` and ``plot_sphere`` what differs, ``plot_style`` the
shared look.
"""
import os

import numpy as np

from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.extras import plot_point, plot_sphere
from boltzphlow_mpi.extras.plot_data import read_output

MATPLOTLIB_HINT = "matplotlib installed (pip install 'boltzphlow-mpi[plot]' or apt install python3-matplotlib)"
# The figures of each geometry (``PlotData.geometry``), by file name, in the order they are written.
FIGURES = {"point": plot_point.FIGURES, "sphere": plot_sphere.FIGURES}


def add_parser(sub):
    """Add ``plot`` to an argparse subparsers object; returns the new parser."""
    p = sub.add_parser("plot", help="PNG figures of an output file (needs matplotlib: the 'plot' extra)")
    p.add_argument("file", help="HDF5 output file of boltzphlow run")
    p.add_argument("-o", "--outdir", default=None, metavar="DIR",
                   help="directory for the PNGs (default: <file stem>_plots next to the file)")
    p.add_argument("--times", type=float, nargs="+", default=None, metavar="NS",
                   help="times (ns) of the f(E), n(Omega) and Delta(r) curves, each shown at the nearest "
                        "record (default: first, middle and last record)")
    p.add_argument("--radii", type=float, nargs="+", default=None, metavar="UM",
                   help="sphere only: radii (um), each shown in the cell that contains it "
                        "(default: centre, R/2, outer cell)")
    p.add_argument("--dpi", type=float, default=120.0, help="resolution of the PNGs (default 120)")
    return p


def command(args, par):
    """``boltzphlow plot``: rank 0 writes the PNGs, every rank returns 0 or raises the same
    ``InputError`` (the error is broadcast so that all ranks exit alike)."""
    written = error = None
    if par.rank == 0:
        try:
            written = make_plots(args.file, outdir=args.outdir, times=args.times, radii=args.radii,
                                 dpi=args.dpi)
        except InputError as exc:
            # InputError does not survive pickling (its __init__ takes four arguments): send the parts.
            error = (exc.key, exc.value, exc.expected, exc.hint)
    written, error = par.bcast((written, error))
    if error is not None:
        raise InputError(*error)
    for path in written:
        par.print(f"wrote {path}")
    return 0


def make_plots(path, outdir=None, times=None, radii=None, dpi=120.0):
    """Check the inputs, then write every figure (serial).

    Parameters
    ----------
    path : str or path-like
        An HDF5 output file of ``boltzphlow run``.
    outdir : str, optional
        Directory for the PNGs (default ``default_outdir(path)``), created if needed.
    times, radii : list of float, optional
        The records and (sphere) cells to show, as in ``plot_data.read_output``.
    dpi : float
        Resolution of the PNGs.

    Returns
    -------
    list of str
        The paths written, in the order of ``FIGURES``.
    """
    mpl = import_matplotlib()
    if not (np.isfinite(dpi) and dpi > 0):
        raise InputError("--dpi", dpi, "a positive number")
    data = read_output(path, times, radii)
    outdir = default_outdir(path) if outdir is None else str(outdir)
    _make_outdir(outdir)
    figures = build_figures(data, mpl)
    written = []
    for name, fig in figures.items():
        target = os.path.join(outdir, name + ".png")
        fig.savefig(target, dpi=dpi)
        written.append(target)
    return written


def import_matplotlib():
    """matplotlib with the Agg backend (files only, no display needed), or an InputError."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("plot", "matplotlib", MATPLOTLIB_HINT) from None
    matplotlib.use("Agg")
    return matplotlib


def default_outdir(path):
    """``<file stem>_plots`` next to the file."""
    path = os.path.abspath(str(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.join(os.path.dirname(path), stem + "_plots")


def _make_outdir(outdir):
    if os.path.exists(outdir) and not os.path.isdir(outdir):
        raise InputError("-o", outdir, "a directory (this is a file)")
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as exc:
        raise InputError("-o", outdir, "a directory that can be created", exc.strerror or str(exc)) from None


def build_figures(data, mpl=None):
    """Every figure of ``data``'s geometry as a ``matplotlib.figure.Figure``, by file name
    (without .png).

    Figures are built without pyplot, so nothing is registered globally or shown."""
    (mpl or import_matplotlib())
    return {name: draw(data) for name, draw in FIGURES[data.geometry].items()}
