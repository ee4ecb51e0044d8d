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
        "(boltzphlow run job.toml -- -log_view) or in the PETSC_OPTIONS environment variable; "
        "solver options take the prefix of their solver: qp_ (transport.qp_solver = 'ksp'), "
        "time_ (time.method = 'ts' or 'arkimex'), steady_ (solve.mode = 'steady')."))
    p.add_argument("--version", action="version", version=f"boltzphlow {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for family in (run, tables, bench, files, sweep):  # each adds its commands (set_defaults(func=...))
        family.add_parsers(sub)
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
        return args.func(args, par)
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
