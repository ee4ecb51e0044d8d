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
"""
import json
import os
from dataclasses import dataclass, field

import numpy as np

from boltzphlow_mpi.errors import InputError

MATPLOTLIB_HINT = "matplotlib installed (pip install 'boltzphlow-mpi[plot]' or apt install python3-matplotlib)"
# Datasets every output file has (docs/output.md); their absence means "not our file".
REQUIRED = ("time", "grid/energy", "qp/f", "phonon/n", "gap/delta",
            "diagnostics/qp_number", "diagnostics/qp_number_excess", "diagnostics/qp_energy",
            "diagnostics/phonon_energy", "diagnostics/energy_escaped", "diagnostics/energy_out",
            "diagnostics/energy_condensate", "diagnostics/energy_ledger_error")
# Occupations span hundreds of decades (thermal tails); log axes show this many below the peak.
LOG_DECADES = 30
MAP_DECADES = 20
FIGURES_POINT = ("f_E", "n_Omega", "qp_number", "energy_ledger", "gap")
FIGURES_SPHERE = ("f_E", "n_Omega", "f_E_r", "qp_number", "energy_ledger", "gap")


# -- command line -----------------------------------------------------------------------
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
    """Check the inputs, then write every figure; returns the paths written (serial)."""
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


# -- reading ----------------------------------------------------------------------------
@dataclass
class PlotData:
    """What the figures need, read from one output file (arrays in the file's units)."""

    path: str
    material: str
    sphere: bool
    time: np.ndarray  # (T,)
    energy: np.ndarray  # (N,)
    gap: np.ndarray  # (T, C)
    units: dict  # dataset name -> units attribute
    diagnostics: dict  # name -> (T,) array
    records: list  # chosen record indices, in the order asked
    cells: list  # chosen cell indices (a point: [0])
    f: dict = field(default_factory=dict)  # record -> (C, N)
    n: dict = field(default_factory=dict)  # record -> (C, N)
    r: np.ndarray = None  # (C,) cell centres, sphere only
    r_edges: np.ndarray = None  # (C + 1,)
    mask_subgap: bool = True  # BCS: no states in an energy cell entirely below the gap


def read_output(path, times=None, radii=None):
    """Read and check an output file; choose the records and cells to show."""
    import h5py
    path = str(path)
    try:
        h5 = h5py.File(path, "r", driver=None)
    except OSError as exc:
        raise InputError("FILE", path, "a readable HDF5 output file of boltzphlow run", _reason(exc)) from None
    with h5:
        _check_layout(h5, path)
        return _read(h5, path, times, radii)


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc)


def _check_layout(h5, path):
    if h5.attrs.get("kind") == "boltzphlow-checkpoint":
        raise InputError("FILE", path, "an output file of boltzphlow run, not a checkpoint")
    missing = [name for name in REQUIRED if name not in h5]
    if missing:
        raise InputError("FILE", path, "a BoltzPhlow-MPI output file", f"no /{missing[0]}")


def _read(h5, path, times, radii):
    t = h5["time"][()]
    if len(t) == 0:
        key, value = ("--times", times) if times is not None else ("FILE", path)
        raise InputError(key, value, "a file with at least one output record (it has none)")
    sphere = "grid/r_edges" in h5
    records = choose_records(t, times)
    r_edges = h5["grid/r_edges"][()] if sphere else None
    if sphere:
        cells = choose_cells(r_edges, radii)
    elif radii is not None:
        raise InputError("--radii", radii, "no --radii: this is a point (0-D) run")
    else:
        cells = [0]
    units = {}
    h5.visititems(lambda name, obj: units.__setitem__(name, str(obj.attrs.get("units", ""))))
    diag = {name: h5["diagnostics/" + name][()] for name in h5["diagnostics"]}
    # Only the chosen records of the occupations: a long run's full /qp/f may not fit in memory.
    wanted = sorted(set(records))
    f_sel, n_sel = h5["qp/f"][wanted], h5["phonon/n"][wanted]
    return PlotData(
        path=path, material=str(h5.attrs.get("material_name", "")), sphere=sphere, time=t,
        energy=h5["grid/energy"][()], gap=h5["gap/delta"][()], units=units, diagnostics=diag,
        records=records, cells=cells, f=dict(zip(wanted, f_sel)), n=dict(zip(wanted, n_sel)),
        r=h5["grid/r"][()] if sphere else None, r_edges=r_edges, mask_subgap=_is_bcs(h5))


def _is_bcs(h5):
    """True unless the run had Dynes broadening (which puts states below the gap)."""
    try:
        cfg = json.loads(h5.attrs["config_resolved"])
        return not cfg["grid"]["dynes_gamma_over_delta0"]
    except (KeyError, TypeError, ValueError):
        return True


def _unique(seq):
    return list(dict.fromkeys(seq))


def choose_records(t, times):
    """Record indices nearest to ``times`` (ns); default first, middle and last."""
    if times is None:
        return _unique([0, len(t) // 2, len(t) - 1])
    lo, hi = float(t[0]), float(t[-1])
    tol = 1e-9 * max(1.0, abs(hi))  # a time typed from a printed value may round past t_end
    bad = [x for x in times if not (np.isfinite(x) and lo - tol <= x <= hi + tol)]
    if bad:
        raise InputError("--times", bad[0], f"times (ns) within the run, {lo:.6g} .. {hi:.6g} ns")
    return _unique([int(np.argmin(np.abs(t - x))) for x in times])


def choose_cells(edges, radii):
    """Cell indices containing ``radii`` (um); default centre, R/2 and the outer cell."""
    R = float(edges[-1])
    last = len(edges) - 2
    if radii is None:
        return _unique([0, _cell_of(edges, R / 2), last])
    bad = [x for x in radii if not (np.isfinite(x) and 0.0 <= x <= R)]
    if bad:
        raise InputError("--radii", bad[0], f"radii (um) in [0, R = {R:.6g}] um")
    return _unique([_cell_of(edges, x) for x in radii])


def _cell_of(edges, r):
    # Cell i is [edges[i], edges[i+1]); r = R belongs to the outer cell.
    return int(np.clip(np.searchsorted(edges, r, side="right") - 1, 0, len(edges) - 2))


# -- figures ----------------------------------------------------------------------------
def build_figures(data, mpl=None):
    """Every figure as a ``matplotlib.figure.Figure``, by file name (without .png).

    Figures are built without pyplot, so nothing is registered globally or shown."""
    (mpl or import_matplotlib())
    figs = {
        "f_E": occupation_figure(data, "qp"),
        "n_Omega": occupation_figure(data, "phonon"),
    }
    if data.sphere:
        figs["f_E_r"] = qp_map_figure(data)
    figs["qp_number"] = qp_number_figure(data)
    figs["energy_ledger"] = energy_ledger_figure(data)
    figs["gap"] = gap_figure(data)
    return figs


def _figure(panels, height=4.0, width=5.5):
    """A Figure with ``panels`` axes, at most three per row; returns (fig, axes list)."""
    from matplotlib.figure import Figure
    ncols = min(3, panels)
    nrows = -(-panels // ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, list(axes[:panels])


def unit_text(units, count=False):
    """The units of a dataset as shown in an axis label: '1' means dimensionless (or a
    count), and an explanation after the unit ('1 (relative to ...)') is dropped."""
    u = units.split(" (")[0].strip()
    if u == "1":
        return "count" if count else "dimensionless"
    return u or "no units given"


def _label(quantity, data, dataset, count=False):
    return f"{quantity} ({unit_text(data.units.get(dataset, ''), count)})"


def _title(data, text):
    return f"{data.material}: {text}" if data.material else text


def _time_label(data, rec):
    return f"t = {data.time[rec]:.4g} {data.units['time']}"


def _cell_label(data, c):
    if not data.sphere:
        return "point"
    u = data.units.get("grid/r", "um")
    return f"r = {data.r[c]:.4g} {u} (cell {c}: {data.r_edges[c]:.4g}..{data.r_edges[c + 1]:.4g} {u})"


def _colours(count):
    from matplotlib import colormaps
    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / max(1, count - 1)) for i in range(count)]


def _positive(values):
    """Non-positive values as NaN: they cannot be drawn on a log axis."""
    v = np.asarray(values, float).copy()
    v[~(v > 0)] = np.nan
    return v


def _subgap_masked(data, f, delta):
    """f where the energy cell [E - h/2, E + h/2] has states; NaN where it lies below the
    gap (BCS: no states there, the stored value is a frozen bath value)."""
    f = np.asarray(f, float).copy()
    if data.mask_subgap and len(data.energy) > 1:
        h = data.energy[1] - data.energy[0]
        f[data.energy + h / 2 <= delta] = np.nan
    return f


def _log_floor(ax, arrays, decades=LOG_DECADES):
    # Thermal tails reach 1e-100 and below; cut the axis so the excitations stay readable.
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays] + [np.zeros(0)])
    if finite.size:
        top = finite.max()
        ax.set_ylim(max(finite.min(), top * 10.0 ** -decades) / 2, top * 2)


def occupation_figure(data, species):
    """f(E) ("qp") or n(Omega) ("phonon"): one panel per chosen cell, a curve per chosen time."""
    qp = species == "qp"
    dataset = "qp/f" if qp else "phonon/n"
    occ = data.f if qp else data.n
    fig, axes = _figure(len(data.cells))
    colours = _colours(len(data.records))
    for ax, c in zip(axes, data.cells):
        curves = []
        for rec, col in zip(data.records, colours):
            y = occ[rec][c]
            y = _subgap_masked(data, y, data.gap[rec, c]) if qp else y
            y = _positive(y)
            curves.append(y)
            ax.plot(data.energy, y, color=col, marker=".", ms=3, lw=1.2, label=_time_label(data, rec))
        ax.set_yscale("log")
        _log_floor(ax, curves)
        if qp:  # the gap edge, where the QP states start (last chosen time)
            d = data.gap[data.records[-1], c]
            ax.axvline(d, color="0.5", ls=":", lw=1, label=f"Delta = {d:.4g} {data.units['gap/delta']}")
        eu = data.units["grid/energy"]
        ax.set_xlabel(f"QP energy E ({eu})" if qp else f"phonon energy Omega ({eu})")
        ax.set_ylabel(_label("QP occupation f" if qp else "phonon occupation n (angle average)", data, dataset))
        ax.set_title(_cell_label(data, c), fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        if len(ax.get_lines()) > 1:
            ax.legend(fontsize="small")
    fig.suptitle(_title(data, "QP occupation f(E)" if qp else "phonon occupation n(Omega)"))
    return fig


def qp_map_figure(data):
    """Sphere: f(E, r) at the last chosen time, log colour scale, gap edge drawn over it."""
    from matplotlib.colors import LogNorm
    rec = data.records[-1]
    f = np.array([_subgap_masked(data, data.f[rec][c], data.gap[rec, c]) for c in range(len(data.r))])
    f = _positive(f)
    h = data.energy[1] - data.energy[0] if len(data.energy) > 1 else 1.0
    e_edges = np.clip(np.append(data.energy - h / 2, data.energy[-1] + h / 2), 0.0, None)
    fig, (ax,) = _figure(1, height=4.5, width=6.5)
    finite = f[np.isfinite(f)]
    top = finite.max() if finite.size else 1.0
    low = max(finite.min(), top * 10.0 ** -MAP_DECADES) if finite.size else top * 1e-3
    mesh = ax.pcolormesh(data.r_edges, e_edges, np.ma.masked_invalid(f).T, norm=LogNorm(low, top),
                         cmap="viridis", shading="flat")
    ax.step(data.r_edges, np.append(data.gap[rec], data.gap[rec, -1]), where="post", color="w", lw=1,
            ls="--", label="gap Delta(r)")
    ru, eu = data.units.get("grid/r", "um"), data.units["grid/energy"]
    ax.set_xlabel(f"radius r ({ru})")
    ax.set_ylabel(f"QP energy E ({eu})")
    ax.set_title(_title(data, f"QP occupation f(E, r) at {_time_label(data, rec)}"))
    ax.legend(fontsize="small", loc="upper right")
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(_label("QP occupation f", data, "qp/f") + ", log scale")
    return fig


def qp_number_figure(data):
    """QP number and excess QP number vs time (two panels: the thermal number dwarfs the excess)."""
    t = data.time
    fig, axes = _figure(2, height=3.6)
    per = "in the sphere" if data.sphere else "density"
    for ax, name, what in zip(axes, ("qp_number", "qp_number_excess"),
                              (f"QP number N_qp ({per})", "excess QP number (over the bath)")):
        ax.plot(t, data.diagnostics[name], marker=".", ms=3)
        ax.set_xlabel(f"time t ({data.units['time']})")
        ax.set_ylabel(_label(what, data, "diagnostics/" + name, count=True))
        ax.set_title(what, fontsize="medium")
        ax.grid(True, alpha=0.3)
    fig.suptitle(_title(data, "quasiparticle number vs time"))
    return fig


# (diagnostic, legend, sign): the parts of the ledger, which sum to zero change since t = 0.
LEDGER = (
    ("qp_energy", "QPs (change of E_qp)", 1.0),
    ("phonon_energy", "phonons (change of E_ph)", 1.0),
    ("energy_escaped", "escaped (phonon escape)", 1.0),
    ("energy_out", "out through r = R", 1.0),
    ("energy_condensate", "condensate (minus energy_condensate)", -1.0),
)


def energy_ledger_figure(data):
    """Where the energy went: each part's change since t = 0 and their sum; the ledger error.

    The file holds totals with the thermal background (much larger than a deposit), so the
    changes since the first record are shown; their sum is the ledger error times its
    reference, i.e. zero to round-off for the conserving steppers."""
    t = data.time
    fig, (ax, ax_err) = _figure(2, height=3.8)
    total = np.zeros_like(t)
    for name, legend, sign in LEDGER:
        if name == "energy_out" and not data.sphere:
            continue  # always 0 in a point
        y = sign * (data.diagnostics[name] - data.diagnostics[name][0])
        total += y
        ax.plot(t, y, marker=".", ms=3, label=legend)
    ax.plot(t, total, color="k", ls="--", lw=1, label="sum (closes the ledger)")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(f"time t ({data.units['time']})")
    ax.set_ylabel(_label("energy change since t = 0", data, "diagnostics/qp_energy"))
    ax.set_title("where the energy went", fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    ax_err.plot(t, data.diagnostics["energy_ledger_error"], color="C3", marker=".", ms=3)
    ax_err.set_xlabel(f"time t ({data.units['time']})")
    ax_err.set_ylabel(_label("relative ledger error", data, "diagnostics/energy_ledger_error"))
    ax_err.set_title("energy ledger error (relative to the deposit)", fontsize="medium")
    ax_err.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax_err.grid(True, alpha=0.3)
    fig.suptitle(_title(data, "energy ledger vs time"))
    return fig


def gap_figure(data):
    """Point: Delta vs time. Sphere: Delta(r) at the chosen times and Delta(t) at the chosen radii."""
    t, gu, tu = data.time, data.units["gap/delta"], data.units["time"]
    if not data.sphere:
        fig, (ax,) = _figure(1)
        ax.plot(t, data.gap[:, 0], marker=".", ms=3)
        ax.set_xlabel(f"time t ({tu})")
        ax.set_ylabel(f"gap Delta ({gu})")
        ax.set_title(_title(data, "gap vs time"))
        ax.grid(True, alpha=0.3)
        ax.ticklabel_format(axis="y", useOffset=False)  # gap changes are tiny: show the values
        return fig
    fig, (ax_r, ax_t) = _figure(2)
    ru = data.units.get("grid/r", "um")
    for rec, col in zip(data.records, _colours(len(data.records))):
        ax_r.plot(data.r, data.gap[rec], color=col, marker=".", ms=4, label=_time_label(data, rec))
    ax_r.set_xlabel(f"radius r ({ru})")
    ax_r.set_ylabel(f"gap Delta ({gu})")
    ax_r.set_title("Delta(r) at the chosen times (cell centres)", fontsize="medium")
    for c, col in zip(data.cells, _colours(len(data.cells))):
        ax_t.plot(t, data.gap[:, c], color=col, marker=".", ms=3, label=f"r = {data.r[c]:.4g} {ru}")
    ax_t.set_xlabel(f"time t ({tu})")
    ax_t.set_ylabel(f"gap Delta ({gu})")
    ax_t.set_title("Delta(t) at the chosen radii", fontsize="medium")
    for ax in (ax_r, ax_t):
        ax.grid(True, alpha=0.3)
        ax.ticklabel_format(axis="y", useOffset=False)  # gap changes are tiny: show the values
        if len(ax.get_lines()) > 1:
            ax.legend(fontsize="small")
    fig.suptitle(_title(data, "gap Delta(r, t)"))
    return fig
