"""Command line: ``boltzphlow run|lifetimes|thermal|bench|info`` (docs/cli.md).

Exit codes: 0 success, 2 bad input (one line naming the key, the value and what was
expected), 3 the integration failed (non-physical state, step underflow), 1 anything else
(under MPI an unexpected error on one rank aborts the whole job).
"""
import argparse
import json
import os
import sys

import numpy as np

from boltzphlow_mpi import __version__, hooks
from boltzphlow_mpi.app import reports
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
        return {"run": cmd_run, "restart": cmd_restart, "lifetimes": cmd_lifetimes, "thermal": cmd_thermal,
                "bench": cmd_bench, "inspect": cmd_inspect, "info": cmd_info,
                "plot": _cmd_plot, "sweep": cmd_sweep}[args.command](args, par)
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


# -- run ---------------------------------------------------------------------------
def cmd_run(args, par):
    from boltzphlow_mpi.app import config, runner
    from boltzphlow_mpi.app.simulation import Simulation

    cfg, text = config.load(args.config, args.overrides)
    out = args.output or cfg["output"]["path"]
    runner.check_new_output(out, args.force, par)
    sim = Simulation(cfg, par)  # every input check happens before the file is created
    sim.config_text = text
    _print(par, reports.banner_lines(sim))
    writer = runner.open_output(sim, out, args.force)
    if cfg["solve"]["mode"] == "steady":
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
    _print(par, reports.steady_summary_lines(sim.summary()))
    par.print(f"  output: {out} (one record: the steady state)")
    return 0


def sweep_units():
    from boltzphlow_mpi.app.sweep import UNITS
    return UNITS


def _print(par, lines):
    for line in lines:
        par.print(line)


def _execute(sim, writer, out, args, par):
    """Run to the end with progress lines and checkpoints, close the file, print the summary."""
    from boltzphlow_mpi.app import runner
    u = sim.units
    interval = 0.0 if args.verbose else sim.cfg["output"]["progress_interval_s"]
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
    _print(par, reports.run_summary_lines(sim.summary()))
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
    _print(par, reports.banner_lines(sim))
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


# -- lifetimes ---------------------------------------------------------------------
def cmd_lifetimes(args, par):
    from boltzphlow_mpi.app.builder import resolve_material
    from boltzphlow_mpi.physics.analysis import lifetimes as lt
    from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap

    mat = resolve_material({"material": {"name": args.material}}, "--material")
    T = args.temperature_over_tc
    if not (0 < T < 1):
        raise InputError("--temperature-over-tc", T, "a number in (0, 1)")
    if not (0 < args.step_over_delta0 <= 0.25):
        raise InputError("--step-over-delta0", args.step_over_delta0, "a number in (0, 0.25]")
    d0 = mat.delta0_over_kTc
    debye = mat.debye_meV / (mat.tc_K * 8.617333262e-2)
    delta = float(equilibrium_gap(T, d0, debye))
    if args.energies:
        try:
            e_over = [float(v) for v in args.energies.split(",")]
        except ValueError:
            raise InputError("--energies", args.energies, "comma-separated numbers (units of Delta)") from None
        if not all(np.isfinite(e) and e >= 1 for e in e_over):
            raise InputError("--energies", args.energies, "finite energies >= 1 (units of Delta)")
    else:
        e_over = [1.0]
    h = args.step_over_delta0 * d0
    emax = max(e_over) * delta + 60 * T + 4 * delta
    rr, rs = lt.rates(np.array(e_over) * delta, delta, T, h, emax, debye)
    t0 = mat.tau0_ns
    kr = lt.kaplan_recombination_time(delta, T) * t0
    ks = lt.kaplan_scattering_time(delta, T) * t0
    avg_r = lt.thermal_average(h, emax, delta, T, lambda e: lt.rates(e, delta, T, h, emax + e.max(), debye)[0])
    rows = [{"energy_over_delta": e, "energy_meV": e * delta * mat.kTc_meV,
             "tau_r_ns": t0 / a, "tau_s_ns": t0 / b} for e, a, b in zip(e_over, rr, rs)]
    result = {"material": mat.name, "temperature_over_tc": T, "gap_meV": delta * mat.kTc_meV,
              "kaplan_tau_r_ns": kr, "kaplan_tau_s_ns": ks,
              "tau_r_thermal_average_ns": t0 / avg_r, "rows": rows}
    if args.json:
        par.print(json.dumps(result, indent=2))
        return 0
    par.print(f"{mat.name} at T = {T:g} T_c ({T * mat.tc_K * 1e3:.4g} mK), Delta = {delta * mat.kTc_meV:.5g} meV, "
              f"tau_0 = {t0:g} ns")
    par.print(f"{'E/Delta':>8} {'E (meV)':>10} {'tau_r (ns)':>12} {'tau_s (ns)':>12}")
    for r in rows:
        par.print(f"{r['energy_over_delta']:8.4g} {r['energy_meV']:10.5g} {r['tau_r_ns']:12.5g} {r['tau_s_ns']:12.5g}")
    par.print(f"Kaplan low-T formulas at E = Delta: tau_r = {kr:.5g} ns, tau_s = {ks:.5g} ns")
    if e_over[0] == 1.0:
        par.print(f"  ratio collision integral / Kaplan at the gap edge: tau_r {rows[0]['tau_r_ns'] / kr:.4f}, "
                  f"tau_s {rows[0]['tau_s_ns'] / ks:.4f}")
    par.print(f"tau_r averaged over the thermal QP population: {t0 / avg_r:.5g} ns")
    return 0


# -- thermal -----------------------------------------------------------------------
def cmd_thermal(args, par):
    from boltzphlow_mpi.app.builder import resolve_material
    from boltzphlow_mpi.physics.analysis import thermal_properties as thermal
    from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap

    mat = resolve_material({"material": {"name": args.material}}, "--material")
    if args.points < 1 or args.points > 10000:
        raise InputError("--points", args.points, "an integer in 1..10000")
    if not (args.mean_free_path_um > 0 and np.isfinite(args.mean_free_path_um)):
        raise InputError("--mean-free-path-um", args.mean_free_path_um, "a positive number (um)")
    d0 = mat.delta0_over_kTc
    # weak-coupling BCS functions of t = T / T_c, with T_c the material's
    from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO
    dn = mat.fermi_velocity_um_per_ns * args.mean_free_path_um / 3
    rows = []
    for t in np.linspace(0, 1, args.points + 2)[1:-1]:
        T = t * d0 / BCS_RATIO  # the model's T_c* scaled to the material's T_c
        rows.append({"t": t, "gap_meV": float(equilibrium_gap(T, d0)) * mat.kTc_meV,
                     "kappa_es_over_kappa_en": thermal.kappa_ratio(T, d0),
                     "C_s_over_C_n": thermal.specific_heat_ratio(T, d0),
                     "D_mean_um2_per_ns": dn * thermal.mean_diffusivity_factor(T, d0)})
    jump = thermal.specific_heat_ratio((1 - 1e-5) * d0 / BCS_RATIO, d0) - 1
    result = {"material": mat.name, "tc_star_K": mat.tc_K * d0 / BCS_RATIO,
              "D_n_um2_per_ns": dn, "mean_free_path_um": args.mean_free_path_um,
              "specific_heat_jump": jump, "rows": rows}
    if args.json:
        par.print(json.dumps(result, indent=2))
        return 0
    tcs = mat.tc_K * d0 / BCS_RATIO
    par.print(f"{mat.name}: weak-coupling BCS with Delta_0 = {mat.delta0_meV:g} meV, so the gap closes at "
              f"T_c* = Delta_0 e^gamma / (pi k_B) = {tcs:.4g} K (material T_c = {mat.tc_K:g} K); t = T / T_c*")
    par.print(f"D_n = v_F l / 3 = {dn:.5g} um^2/ns (l = {args.mean_free_path_um:g} um); "
              f"specific-heat jump at T_c*: Delta C / C_n = {jump:.4f}")
    par.print(f"{'t':>6} {'T (K)':>7} {'Delta (meV)':>12} {'k_es/k_en':>10} {'C_s/C_n':>9} {'<D> (um^2/ns)':>14}")
    for r in rows:
        par.print(f"{r['t']:6.3f} {r['t'] * tcs:7.4g} {r['gap_meV']:12.5g} {r['kappa_es_over_kappa_en']:10.4g} "
                  f"{r['C_s_over_C_n']:9.4g} {r['D_mean_um2_per_ns']:14.5g}")
    return 0


# -- bench, info ---------------------------------------------------------------------
def cmd_bench(args, par):
    from boltzphlow_mpi.extras import bench
    if args.bench == "step":
        for key, v, lo in (("--cells", args.cells, 2 * par.size), ("--energies", args.energies, 16),
                           ("--steps", args.steps, 1), ("--angles", args.angles, 2)):
            if v < lo:
                raise InputError(key, v, f"an integer >= {lo}")
        rows = bench.step(par, args.cells, args.energies, args.steps, args.angles)
        if args.json:
            par.print(json.dumps(rows, indent=2))
            return 0
        par.print(f"radial step, {args.cells} cells x {args.energies} energies x {args.angles} angles "
                  f"(collisions, self-consistent gap, QP diffusion, phonon streaming, ghost exchange)")
        par.print(f"{'ranks':>5} {'s/step':>10} {'cell-energy updates/s/rank':>27} {'speed-up':>9} {'efficiency':>10}")
        for r in rows:
            par.print(f"{r['ranks']:5d} {r['s_per_step']:10.4g} {r['cell_energy_updates_per_s_per_rank']:27.4g} "
                      f"{r.get('speedup', 1.0):8.2f}x {r.get('efficiency', 1.0):10.2f}")
        return 0
    if args.bench == "eliashberg":
        if any(k < 1 for k in args.k) or not args.t_end > 0:
            raise InputError("--k" if any(k < 1 for k in args.k) else "--t-end",
                             args.k if any(k < 1 for k in args.k) else args.t_end, "integers >= 1 and a time > 0 ns")
        rows = bench.eliashberg_update_every(tuple(args.k), args.t_end) if par.rank == 0 else None
        rows = par.bcast(rows)
        if args.json:
            par.print(json.dumps(rows, indent=2))
            return 0
        par.print(f"0-D Al QP cascade to {args.t_end:g} ns, self-consistent Eliashberg gap updated every k steps")
        par.print(f"{'k':>4} {'steps':>6} {'wall (s)':>9} {'excess QPs (um^-3)':>19} {'rel err N_qp':>13} "
                  f"{'rel err excess':>15} {'ledger':>9}")
        for r in rows:
            par.print(f"{r['k']:4d} {r['steps']:6d} {r['wall_s']:9.3g} {r['qp_number_excess']:19.6g} "
                      f"{r['rel_error_qp_number']:13.2e} {r['rel_error_excess']:15.2e} {r['ledger']:9.1e}")
        return 0
    if any(n < 16 or n > 65536 for n in args.n):
        raise InputError("--n", args.n, "grid sizes in 16..65536")
    if args.repeat < 1 or args.cells < 1:
        raise InputError("--repeat" if args.repeat < 1 else "--cells", min(args.repeat, args.cells), "an integer >= 1")
    rows = bench.kernels(tuple(args.n), cells=args.cells, repeat=args.repeat)
    el = bench.eliashberg_cost() if par.rank == 0 else None
    el = par.bcast(el)
    if args.json:
        par.print(json.dumps({"kernels": rows, "eliashberg": el}, indent=2))
        return 0
    par.print(f"{'N':>6} {'cells':>5} {'direct (s)':>11} {'FFT (s)':>11} {'FFT speed-up':>13} {'max rel diff':>13}")
    for r in rows:
        par.print(f"{r['n']:6d} {r['cells']:5d} {r['direct_s']:11.4g} {r['fft_s']:11.4g} "
                  f"{r['speedup']:12.1f}x {r['max_rel_diff']:13.2e}")
    par.print(f"Eliashberg update per cell (Al, h = Delta_0/16, N = {el['n']} energies, "
              f"{el['self_energy_points']} self-energy points):")
    par.print(f"  warm start {el['eliashberg_warm_s_per_cell'] * 1e3:.3g} ms ({el['warm_iterations']} iteration(s)), "
              f"cold start {el['eliashberg_cold_s_per_cell'] * 1e3:.3g} ms ({el['cold_iterations']} iterations), "
              f"FFT collision evaluation {el['collision_s_per_cell'] * 1e3:.3g} ms: warm update = "
              f"{el['warm_over_collision']:.3g} collision evaluations (use gap.update_every; "
              f"`boltzphlow bench eliashberg` measures its error)")
    return 0


def cmd_sweep(args, par):
    """Points split into contiguous blocks over the ranks; continuation within a block."""
    import tomllib

    from petsc4py import PETSc  # noqa: F401  (PETSc initialization is collective on the world)

    from boltzphlow_mpi.app import runner, sweep
    from boltzphlow_mpi.parallel.comm import block_range
    try:
        with open(args.config, "rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError("CONFIG", args.config, "a readable TOML job file", str(exc).splitlines()[0]) from None
    if not all(np.isfinite(args.values)):
        raise InputError("--values", args.values, "finite numbers")
    if not (np.isfinite(args.readout_GHz) and args.readout_GHz > 0):
        raise InputError("--readout-GHz", args.readout_GHz, "a frequency > 0 GHz")
    cfgs = sweep.point_configs(raw, args.param, args.values)  # every input error first, on every rank
    runner.check_new_output(args.output, args.force, par)
    a, b = block_range(len(cfgs), par.size, par.rank)
    par.print(f"sweep of {args.param} over {len(cfgs)} points on {par.size} rank(s) "
              f"(continuation within blocks of {len(cfgs) // par.size}-{-(-len(cfgs) // par.size)} points)")
    rows = sweep.run_block(cfgs[a:b], args.readout_GHz)
    parts = par.comm.gather(rows, root=0)  # collective: every rank sends its block
    allrows = [r for part in parts for r in part] if par.rank == 0 else None
    if par.rank == 0:
        sweep.write(args.output, args.param, args.values, allrows, raw, args.readout_GHz)
        par.print(f"{args.param:>28} {'iters':>5} {'n_qp (um^-3)':>13} {'x_qp':>10} {'T*_N (mK)':>10} {'gap (meV)':>10} "
                  f"{'sigma1/sn':>10} {'sigma2/sn':>10} {'eta':>7}")
        for v, r in zip(args.values, allrows):
            if "error" in r:
                par.print(f"{v:28.6g} failed: {r['error']}")
                continue
            par.print(f"{v:28.6g} {r['iterations']:5d} {r['qp_number_per_um3']:13.6g} {r['x_qp']:10.4g} "
                      f"{r['t_star_K'] * 1e3:10.5g} {r['gap_meV']:10.6g} {r['sigma1_over_sigman']:10.4g} "
                      f"{r['sigma2_over_sigman']:10.4g} {r['eta']:7.4f}")
        if args.plot:
            try:
                sweep.plot(args.plot, args.param, args.values, allrows, args.observable)
                par.print(f"wrote {args.plot}")
            except ImportError:
                par.print("boltzphlow: warning: no matplotlib: --plot skipped")
        par.print(f"output: {args.output} (/sweep/*, one entry per point; units attributes)")
    failed = par.bcast(sum("error" in r for r in allrows) if par.rank == 0 else None)
    return 3 if failed else 0


def _cmd_plot(args, par):
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
    for line in lines:
        par.print(line)
    return 0


def _describe(h5, show_config):
    a = h5.attrs
    out = [f"{h5.filename}: BoltzPhlow-MPI {a.get('version', '?')}, written by {a.get('ranks', '?')} rank(s)"]
    if a.get("kind") == "boltzphlow-checkpoint":
        cfg = json.loads(a["config"])
        from boltzphlow_mpi.app.simulation import Simulation
        tau0 = Simulation.tau0_of(cfg)
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
            out.append(f"    /{n:32s} {str(o.shape):18s} {o.attrs.get('units', '')}")
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
    except Exception as exc:  # report, do not fail: info is a diagnostic command
        lines.append(f"PETSc: not importable ({exc})")
    try:
        import h5py
        lines.append(f"h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}), MPI: {h5py.get_config().mpi}")
    except Exception as exc:
        lines.append(f"h5py: not importable ({exc})")
    lines.append(f"ranks: {par.size}")
    from boltzphlow_mpi.physics.materials import MATERIALS
    lines.append("")
    lines.append(f"{'material':8} {'T_c (K)':>8} {'Delta_0 (meV)':>13} {'tau_0 (ns)':>10} {'tau_0^ph (ns)':>13} "
                 f"{'Omega_D (meV)':>13} {'N_0 (1/eV/um^3)':>16}")
    for m in MATERIALS.values():
        lines.append(f"{m.name:8} {m.tc_K:8.4g} {m.delta0_meV:13.4g} {m.tau0_ns:10.4g} {m.tau0_phonon_ns:13.4g} "
                     f"{m.debye_meV:13.4g} {m.n0_per_eV_um3:16.4g}")
    for line in lines:
        par.print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
