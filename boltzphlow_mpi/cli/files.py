"""``boltzphlow plot``, ``inspect`` and ``info``: looking at files and at the installation."""
import json
import sys

import numpy as np

from boltzphlow_mpi import __version__
from boltzphlow_mpi.cli.printing import print_lines
from boltzphlow_mpi.errors import InputError


def cmd_plot(args, par):
    from boltzphlow_mpi.extras import plot
    return plot.command(args, par)


def cmd_inspect(args, par):
    """Summary of a file, read by rank 0 with serial h5py."""
    import h5py
    lines = None
    if par.rank == 0:
        try:
            with h5py.File(args.file, "r") as h5:
                lines = _describe(h5, args.config)
        except OSError as exc:
            lines = exc
    lines = par.bcast(lines)
    if isinstance(lines, Exception):
        raise InputError("FILE", args.file, "a readable HDF5 file", str(lines))
    print_lines(par, lines)
    return 0


def _describe(h5, show_config):
    a = h5.attrs
    out = [f"{h5.filename}: BoltzPhlow-MPI {a.get('version', '?')}, written by {a.get('ranks', '?')} rank(s)"]
    if a.get("kind") == "boltzphlow-checkpoint":
        from boltzphlow_mpi.app import config
        from boltzphlow_mpi.app.simulation import Simulation
        tau0 = Simulation.tau0_of(config.revalidate(json.loads(a["config"])))
        out.append(f"  checkpoint at t = {a.get('t_record', a['t']) * tau0:.6g} ns (trajectory at "
                   f"{a['t'] * tau0:.9g} ns), step {a['steps']}, "
                   f"{a['records']} output records, complete = {a.get('complete', 0)}")
        out.append(f"  state {h5['state/y'].shape[0]} cells x {h5['state/y'].shape[1]} unknowns per cell; "
                   f"output file {a.get('output_path', '')}")
    if "material_name" in a:
        out.append(f"  material {a['material_name']}")
    if "time" in h5:
        t = h5["time"][()]
        span = f"{t[0]:.6g} .. {t[-1]:.6g} ns" if len(t) else "none yet"
        out.append(f"  {len(t)} records, t = {span}")
    if "grid/energy" in h5:
        e = h5["grid/energy"][()]
        out.append(f"  energy grid: {len(e)} points, {e[0]:.4g} .. {e[-1]:.4g} meV (step {e[1] - e[0]:.4g} meV)")
    if "grid/r" in h5:
        r = h5["grid/r_edges"][()]
        out.append(f"  radial mesh: {len(r) - 1} cells, R = {r[-1]:.6g} um, widths {np.diff(r).min():.3g} .. "
                   f"{np.diff(r).max():.3g} um")
    out.append("  datasets:")
    names = []
    h5.visit(names.append)
    for n in names:
        o = h5[n]
        if hasattr(o, "shape"):
            out.append(f"    /{n:32s} {o.shape!s:18s} {o.attrs.get('units', '')}")
    if show_config and "config" in a:
        out.append("  config:")
        out.extend("    " + line for line in str(a["config"]).splitlines())
    return out


def cmd_info(args, par):
    import platform

    import mpi4py
    from mpi4py import MPI
    lines = [f"boltzphlow {__version__}", f"python {platform.python_version()}",
             f"numpy {np.__version__}", f"mpi4py {mpi4py.__version__}",
             f"MPI library: {MPI.Get_library_version().splitlines()[0].strip()}"]
    try:
        import petsc4py
        petsc4py.init(sys.argv[:1])
        from petsc4py import PETSc
        lines.append("PETSc {}.{}.{} (petsc4py {})".format(*PETSc.Sys.getVersion(), petsc4py.__version__))
    except Exception as exc:  # noqa: BLE001 - report, do not fail: info is a diagnostic command
        lines.append(f"PETSc: not importable ({exc})")
    try:
        import h5py
        lines.append(f"h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}), MPI: {h5py.get_config().mpi}")
    except Exception as exc:  # noqa: BLE001 - as above
        lines.append(f"h5py: not importable ({exc})")
    lines.append(f"ranks: {par.size}")
    from boltzphlow_mpi.physics.material_table import MATERIALS
    lines.append("")
    lines.append(f"{'material':8} {'T_c (K)':>8} {'Delta_0 (meV)':>13} {'tau_0 (ns)':>10} {'tau_0^ph (ns)':>13} "
                 f"{'Omega_D (meV)':>13} {'N_0 (1/eV/um^3)':>16}")
    for m in MATERIALS.values():
        lines.append(f"{m.name:8} {m.tc_K:8.4g} {m.delta0_meV:13.4g} {m.tau0_ns:10.4g} {m.tau0_phonon_ns:13.4g} "
                     f"{m.debye_meV:13.4g} {m.n0_per_eV_um3:16.4g}")
    print_lines(par, lines)
    return 0


def add_parsers(sub):
    """``plot``, ``inspect`` and ``info`` (docs/cli.md)."""
    from boltzphlow_mpi.extras import plot
    plot.add_parser(sub).set_defaults(func=cmd_plot)

    ins = sub.add_parser("inspect", help="what an output or checkpoint file holds (times, grids, config, version)")
    ins.add_argument("file", help="HDF5 output or checkpoint file")
    ins.add_argument("--config", action="store_true", help="also print the config text stored in the file")
    ins.set_defaults(func=cmd_inspect)

    sub.add_parser("info", help="versions of the stack and the material table").set_defaults(func=cmd_info)
