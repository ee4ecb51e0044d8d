"""``boltzphlow run`` and ``restart``: thin clients of ``app`` (runner, steady, restart, reports)."""

import numpy as np

from boltzphlow_mpi.app import reports
from boltzphlow_mpi.cli.printing import print_lines
from boltzphlow_mpi.errors import InputError, SolverError


# -- run ---------------------------------------------------------------------------
def cmd_run(args, par):
    from boltzphlow_mpi.app import config, runner
    from boltzphlow_mpi.app.simulation import Simulation

    cfg, text = config.load(args.config, args.overrides)
    out = args.output or cfg.output.path
    runner.check_new_output(out, args.force, par)
    sim = Simulation(cfg, par)  # every input check happens before the file is created
    sim.config_text = text
    print_lines(par, reports.banner_lines(sim))
    writer = runner.open_output(sim, out, args.force)
    if cfg.solve.mode == "steady":
        return _steady(sim, writer, out, par)
    return _execute(sim, writer, out, args, par)


def _steady(sim, writer, out, par):
    """``[solve] mode = "steady"``: one output record holding the steady state, a summary
    with the balance and observables (``app.steady``, ``app.reports``)."""
    from boltzphlow_mpi.app import steady
    try:
        steady.solve(sim)
    except SolverError as exc:  # raised on every rank alike
        writer.close()
        par.print(f"boltzphlow: steady state failed: {exc}")
        return 3
    sim.write_record(writer)
    writer.close()
    print_lines(par, reports.steady_summary_lines(sim.summary()))
    par.print(f"  output: {out} (one record: the steady state)")
    return 0


def _execute(sim, writer, out, args, par):
    """Run to the end with progress lines and checkpoints, close the file, print the summary."""
    from boltzphlow_mpi.app import runner
    u = sim.units
    interval = 0.0 if args.verbose else sim.cfg.output.progress_interval_s
    last = [-np.inf]

    def progress(s, wall):
        if args.quiet or (wall - last[0] < interval and s.t < s.t_end):
            return
        last[0] = wall
        r = s.record()
        left = wall * (s.t_end - s.t) / max(s.t - t_start, 1e-300)
        nu, _ = reports.units_of_totals(s)
        par.print(f"  step {s.steps:7d}  t = {s.t * u.tau0_ns:10.4g} ns  dt = {s.dt * u.tau0_ns:9.3g} ns "
                  f"({s.limit_reason})  N_qp = {r['qp_number']:10.4g}{nu}  ledger = {r['energy_ledger_error']:9.2e}  "
                  f"wall = {wall:7.1f} s  left ~ {left:6.1f} s")

    t_start = sim.t
    try:
        runner.run_into(sim, writer, progress)
    except SolverError as exc:  # every rank alike (global reductions): the file is closed, the state saved
        par.print(f"boltzphlow: integration failed: {exc}")
        path = exc.emergency_checkpoint
        if path:
            par.print(f"  the last good state (t = {sim.t * u.tau0_ns:.6g} ns) is saved in {path} "
                      f"(emergency checkpoint; `boltzphlow restart {path}`)")
        return 3
    # (any other exception may be on one rank only: no collective close, main() aborts the job;
    # the file holds every record flushed before)
    print_lines(par, reports.run_summary_lines(sim.summary()))
    par.print(f"  output: {out} (open with h5py or `h5dump -H {out}`)")
    if sim.last_checkpoint:
        par.print(f"  last checkpoint: {sim.last_checkpoint} (t = {sim.t * u.tau0_ns:.6g} ns)")
    return 0


def cmd_restart(args, par):
    from boltzphlow_mpi.app import restart, runner
    from boltzphlow_mpi.fileio import checkpoint

    if (args.checkpoint is None) == (args.latest is None):
        raise InputError("CHECKPOINT", args.checkpoint, "a checkpoint file or --latest DIR (one of them)")
    if args.latest is not None:
        args.checkpoint = checkpoint.latest(args.latest, par)
    sim, meta = restart.from_checkpoint(args.checkpoint, par, args.t_end, args.config)
    par.print(f"restart from {args.checkpoint}: t = {sim.t * sim.units.tau0_ns:.6g} ns, step {sim.steps}, "
              f"written by {meta['ranks']} rank(s), now {par.size}")
    print_lines(par, reports.banner_lines(sim))
    if args.output:
        out = args.output
        writer = runner.open_output(sim, out, args.force, restarted_from=args.checkpoint)
        sim.write_record(writer)  # the restart state opens the new file
    else:
        out = meta["output_path"]
        if not out:
            raise InputError("-o", None, "an output file (the checkpoint names none)")
        writer = runner.reopen_output(sim, out)
    return _execute(sim, writer, out, args, par)


# -- parsers -------------------------------------------------------------------------
def _verbosity(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="no progress lines, summary only")
    g.add_argument("-v", "--verbose", action="store_true", help="a progress line at every output record")


def add_parsers(sub):
    """``run`` and ``restart`` (docs/cli.md)."""
    r = sub.add_parser("run", help="run a simulation from a TOML config")
    r.add_argument("config", help="TOML configuration file (docs/config.md)")
    r.add_argument("-o", "--output", help="HDF5 output file (default: [output] path)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config key (TOML value syntax): section.key or drive.I.key "
                        "(a key of the I-th [[drive]]); repeatable")
    r.add_argument("--force", action="store_true", help="overwrite an existing output file")
    _verbosity(r)
    r.set_defaults(func=cmd_run)

    rs = sub.add_parser("restart", help="continue a run from a checkpoint, on any number of ranks")
    rs.add_argument("checkpoint", nargs="?", help="checkpoint file (checkpoints/ckpt_NNNNNN.h5)")
    rs.add_argument("--latest", metavar="DIR", help="restart from the newest complete checkpoint in DIR "
                    "(truncated or corrupt ones are skipped with a warning)")
    rs.add_argument("--t-end", type=float, default=None, metavar="NS", help="new end time (ns); default: the run's")
    rs.add_argument("--config", metavar="TOML", help="a changed config: only run-control keys may differ from the "
                    "checkpoint's (time.t_end_ns, output_interval_ns, rtol, dt_max_ns, max_steps, [output])")
    rs.add_argument("-o", "--output", help="write a new output file (default: continue the run's own file)")
    rs.add_argument("--force", action="store_true", help="overwrite an existing -o file")
    _verbosity(rs)
    rs.set_defaults(func=cmd_restart)
