"""Command line: ``boltzphlow run|lifetimes|thermal|bench|info`` (docs/cli.md).

Exit codes: 0 success, 2 bad input (one line naming the key, the value and what was
expected), 3 the integration failed (non-physical state, step underflow), 1 anything else
(under MPI an unexpected error on one rank aborts the whole job).
"""
import argparse
import os
import sys

from boltzphlow_mpi import __version__, hooks
from boltzphlow_mpi.cli import bench, files, run, sweep, tables
from boltzphlow_mpi.cli.sweep import sweep_units
from boltzphlow_mpi.errors import InputError, SolverError


def _launcher_rank():
    """This process's rank from the MPI launcher's environment (before MPI starts)."""
    return next((os.environ[v] for v in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID")
                 if v in os.environ), "0")


class _Parser(argparse.ArgumentParser):
    """Help, version and usage errors are printed by the first rank only (every rank parses
    the same argv); no abbreviations, so a typo is an error rather than another option."""

    def __init__(self, *args, **kw):
        kw.setdefault("allow_abbrev", False)
        super().__init__(*args, **kw)

    def _print_message(self, message, file=None):
        if _launcher_rank() == "0":
            super()._print_message(message, file)


def _parser():
    p = _Parser(prog="boltzphlow", description=(
        "Coupled quasiparticle-phonon Boltzmann kinetics in superconductors (BoltzPhlow-MPI). "
        "Run in parallel with mpirun -n N boltzphlow ...; PETSc options go after a '--' separator "
        "(boltzphlow run job.toml -- -log_view) or in the PETSC_OPTIONS environment variable."))
    p.add_argument("--version", action="version", version=f"boltzphlow {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run a simulation from a TOML config")
    r.add_argument("config", help="TOML configuration file (docs/config.md)")
    r.add_argument("-o", "--output", help="HDF5 output file (default: [output] path)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config key (TOML value syntax); repeatable")
    r.add_argument("--force", action="store_true", help="overwrite an existing output file")
    g = r.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="no progress lines, summary only")
    g.add_argument("-v", "--verbose", action="store_true", help="a progress line at every output record")

    rs = sub.add_parser("restart", help="continue a run from a checkpoint, on any number of ranks")
    rs.add_argument("checkpoint", nargs="?", help="checkpoint file (checkpoints/ckpt_NNNNNN.h5)")
    rs.add_argument("--latest", metavar="DIR", help="restart from the newest complete checkpoint in DIR "
                    "(truncated or corrupt ones are skipped with a warning)")
    rs.add_argument("--t-end", type=float, default=None, metavar="NS", help="new end time (ns); default: the run's")
    rs.add_argument("--config", metavar="TOML", help="a changed config: only run-control keys may differ from the "
                    "checkpoint's (time.t_end_ns, output_interval_ns, rtol, dt_max_ns, max_steps, [output])")
    rs.add_argument("-o", "--output", help="write a new output file (default: continue the run's own file)")
    rs.add_argument("--force", action="store_true", help="overwrite an existing -o file")
    g = rs.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="no progress lines, summary only")
    g.add_argument("-v", "--verbose", action="store_true", help="a progress line at every output record")

    lt = sub.add_parser("lifetimes", help="thermal recombination and scattering times vs Kaplan's formulas")
    lt.add_argument("--material", default="Al")
    lt.add_argument("--temperature-over-tc", type=float, default=0.1)
    lt.add_argument("--energies", type=str, default=None,
                    help="comma-separated QP energies in units of Delta (default: the gap edge, 1)")
    lt.add_argument("--step-over-delta0", type=float, default=1 / 256, help="quadrature step h / Delta_0")
    lt.add_argument("--json", action="store_true")

    th = sub.add_parser("thermal", help="kappa_es/kappa_en, C_s/C_n and QP diffusivity vs T/T_c")
    th.add_argument("--material", default="Sn")
    th.add_argument("--mean-free-path-um", type=float, default=1.0, help="QP mean free path l (um)")
    th.add_argument("--points", type=int, default=19, help="number of temperatures in (0, T_c)")
    th.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="benchmarks (ratios measured in one run)")
    bs = b.add_subparsers(dest="bench", required=True)
    bk = bs.add_parser("kernels", help="direct vs FFT collision evaluation")
    bk.add_argument("--n", type=int, nargs="+", default=[4096], help="energy grid sizes")
    bk.add_argument("--cells", type=int, default=1)
    bk.add_argument("--repeat", type=int, default=5)
    bk.add_argument("--json", action="store_true")
    be = bs.add_parser("eliashberg", help="error and wall time of updating the Eliashberg gap every k steps")
    be.add_argument("--k", type=int, nargs="+", default=[1, 4, 16], help="update intervals (steps)")
    be.add_argument("--t-end", type=float, default=40.0, help="simulated time (ns)")
    be.add_argument("--json", action="store_true")
    bst = bs.add_parser("step", help="seconds per radial step on 1 rank and on all ranks (run under mpirun)")
    bst.add_argument("--cells", type=int, default=256)
    bst.add_argument("--energies", type=int, default=512)
    bst.add_argument("--angles", type=int, default=4)
    bst.add_argument("--steps", type=int, default=5)
    bst.add_argument("--json", action="store_true")

    from boltzphlow_mpi.extras import plot
    plot.add_parser(sub)

    sw = sub.add_parser("sweep", help="0-D steady states over a parameter (continuation; points spread over ranks)")
    sw.add_argument("config", help="job file (TOML), point geometry with [[drive]] tables")
    sw.add_argument("--param", required=True, metavar="KEY", help="section.key or drive.I.key, e.g. drive.0.power_W_per_um3")
    sw.add_argument("--values", required=True, type=float, nargs="+", metavar="V", help="values of KEY (in its units)")
    sw.add_argument("-o", "--output", default="sweep.h5", help="HDF5 file with the sweep axis (default sweep.h5)")
    sw.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sw.add_argument("--readout-GHz", type=float, default=5.0, help="Mattis-Bardeen readout frequency (GHz)")
    sw.add_argument("--plot", metavar="PNG", help="also plot an observable against KEY into this PNG (needs matplotlib)")
    sw.add_argument("--observable", default="x_qp", choices=sorted(sweep_units()),
                    help="the observable --plot draws (default x_qp)")

    ins = sub.add_parser("inspect", help="what an output or checkpoint file holds (times, grids, config, version)")
    ins.add_argument("file", help="HDF5 output or checkpoint file")
    ins.add_argument("--config", action="store_true", help="also print the config text stored in the file")

    sub.add_parser("info", help="versions of the stack and the material table")
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    petsc_options = []
    if "--" in argv:  # everything after '--' is for PETSc (-log_view, -ksp_type cg, ...)
        cut = argv.index("--")
        argv, petsc_options = argv[:cut], argv[cut + 1:]
    parser = _parser()
    for a in argv:  # a PETSc-style option before '--' would be read as -o/-q/-v with a value
        if len(a) > 2 and a[0] == "-" and a[1] != "-" and a[1:2].isalpha():
            parser.error(f"{a}: PETSc options go after '--' (e.g. boltzphlow run job.toml -- {a})")
    args = parser.parse_args(argv)
    if petsc_options:
        import petsc4py
        petsc4py.init([sys.argv[0]] + petsc_options)
    from boltzphlow_mpi.parallel.comm import Parallel
    par = Parallel()
    try:
        _load_hooks()
        return {"run": run.cmd_run, "restart": run.cmd_restart, "lifetimes": tables.cmd_lifetimes,
                "thermal": tables.cmd_thermal, "bench": bench.cmd_bench, "inspect": files.cmd_inspect,
                "info": files.cmd_info, "plot": files.cmd_plot, "sweep": sweep.cmd_sweep}[args.command](args, par)
    except InputError as exc:  # raised identically on every rank (inputs are global)
        par.print(f"boltzphlow: error: {exc}")
        return 2
    except SolverError as exc:  # detected through a global reduction: every rank raises
        par.print(f"boltzphlow: integration failed: {exc}")
        return 3
    except Exception as exc:  # one rank only, possibly: print here and end the whole job
        print(f"boltzphlow: error on rank {par.rank}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        if par.size > 1:
            par.comm.Abort(1)
        raise


def _load_hooks():
    """``BOLTZPHLOW_HOOKS=module:function,...`` (docs/architecture.md, "Hooks")."""
    try:
        hooks.load_from_environment()
    except (ImportError, AttributeError, ValueError, KeyError) as exc:
        raise InputError("BOLTZPHLOW_HOOKS", os.environ.get("BOLTZPHLOW_HOOKS"),
                         "importable module:function entries that register hooks", str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
