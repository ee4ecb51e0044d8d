"""``boltzphlow bench``: benchmarks printed as ratios measured in one run (``extras.bench``)."""
from boltzphlow_mpi.cli.printing import print_result
from boltzphlow_mpi.errors import InputError


# -- bench, info ---------------------------------------------------------------------
def cmd_bench(args, par):
    from boltzphlow_mpi.extras import bench
    if args.bench == "step":
        for key, v, lo in (("--cells", args.cells, 2 * par.size), ("--energies", args.energies, 16),
                           ("--steps", args.steps, 1), ("--angles", args.angles, 2)):
            if v < lo:
                raise InputError(key, v, f"an integer >= {lo}")
        rows = bench.step(par, args.cells, args.energies, args.steps, args.angles)
        lines = [(f"radial step, {args.cells} cells x {args.energies} energies x {args.angles} angles "
                  "(collisions, self-consistent gap, QP diffusion, phonon streaming, ghost exchange)"),
                 f"{'ranks':>5} {'s/step':>10} {'cell-energy updates/s/rank':>27} {'speed-up':>9} {'efficiency':>10}"]
        lines += [f"{r['ranks']:5d} {r['s_per_step']:10.4g} {r['cell_energy_updates_per_s_per_rank']:27.4g} "
                  f"{r.get('speedup', 1.0):8.2f}x {r.get('efficiency', 1.0):10.2f}" for r in rows]
        return print_result(par, args.json, rows, lines)
    if args.bench == "eliashberg":
        if any(k < 1 for k in args.k) or not args.t_end > 0:
            raise InputError("--k" if any(k < 1 for k in args.k) else "--t-end",
                             args.k if any(k < 1 for k in args.k) else args.t_end, "integers >= 1 and a time > 0 ns")
        for m in args.material:
            if m not in bench.ELIASHBERG_GRIDS:
                raise InputError("--material", m, f"one of {', '.join(bench.ELIASHBERG_GRIDS)}")
        rows = ([r for m in args.material for r in bench.eliashberg_update_every(tuple(args.k), args.t_end, m)]
                if par.rank == 0 else None)
        rows = par.bcast(rows)
        lines = [f"0-D QP cascade to {args.t_end:g} ns, self-consistent Eliashberg gap updated every k steps",
                 (f"{'material':>8} {'k':>4} {'steps':>6} {'wall (s)':>9} {'excess QPs (um^-3)':>19} "
                  f"{'rel err N_qp':>13} {'rel err excess':>15} {'ledger':>9}")]
        lines += [f"{r['material']:>8} {r['k']:4d} {r['steps']:6d} {r['wall_s']:9.3g} {r['qp_number_excess']:19.6g} "
                  f"{r['rel_error_qp_number']:13.2e} {r['rel_error_excess']:15.2e} {r['ledger']:9.1e}" for r in rows]
        return print_result(par, args.json, rows, lines)
    if any(n < 16 or n > 65536 for n in args.n):
        raise InputError("--n", args.n, "grid sizes in 16..65536")
    if args.repeat < 1 or args.cells < 1:
        raise InputError("--repeat" if args.repeat < 1 else "--cells", min(args.repeat, args.cells), "an integer >= 1")
    rows = bench.kernels(tuple(args.n), cells=args.cells, repeat=args.repeat)
    el = [bench.eliashberg_cost(m) for m in bench.ELIASHBERG_GRIDS] if par.rank == 0 else None
    el = par.bcast(el)
    lines = [f"{'N':>6} {'cells':>5} {'direct (s)':>11} {'FFT (s)':>11} {'FFT speed-up':>13} {'max rel diff':>13}"]
    lines += [f"{r['n']:6d} {r['cells']:5d} {r['direct_s']:11.4g} {r['fft_s']:11.4g} "
              f"{r['speedup']:12.1f}x {r['max_rel_diff']:13.2e}" for r in rows]
    for e in el:
        lines += [(f"Eliashberg update per cell ({e['material']}, lambda = {e['lambda']:.3g}, N = {e['n']} energies, "
                   f"{e['self_energy_points']} self-energy points):"),
                  (f"  warm start {e['eliashberg_warm_s_per_cell'] * 1e3:.3g} ms ({e['warm_iterations']} iteration(s)), "
                   f"cold start {e['eliashberg_cold_s_per_cell'] * 1e3:.3g} ms ({e['cold_iterations']} iterations), "
                   f"FFT collision evaluation {e['collision_s_per_cell'] * 1e3:.3g} ms: warm update = "
                   f"{e['warm_over_collision']:.3g} collision evaluations (use gap.update_every; "
                   "`boltzphlow bench eliashberg` measures its error)")]
    return print_result(par, args.json, {"kernels": rows, "eliashberg": el}, lines)


def add_parsers(sub):
    """``bench kernels|eliashberg|step`` (docs/cli.md, docs/performance.md)."""
    b = sub.add_parser("bench", help="benchmarks (ratios measured in one run)")
    b.set_defaults(func=cmd_bench)
    bs = b.add_subparsers(dest="bench", required=True)
    bk = bs.add_parser("kernels", help="direct vs FFT collision evaluation")
    bk.add_argument("--n", type=int, nargs="+", default=[4096], help="energy grid sizes")
    bk.add_argument("--cells", type=int, default=1)
    bk.add_argument("--repeat", type=int, default=5)
    bk.add_argument("--json", action="store_true")
    be = bs.add_parser("eliashberg", help="error and wall time of updating the Eliashberg gap every k steps")
    be.add_argument("--k", type=int, nargs="+", default=[1, 4, 16], help="update intervals (steps)")
    be.add_argument("--t-end", type=float, default=40.0, help="simulated time (ns)")
    be.add_argument("--material", nargs="+", default=["Al", "Pb"], help="the cascades (Al: weak, Pb: strong coupling)")
    be.add_argument("--json", action="store_true")
    bst = bs.add_parser("step", help="seconds per radial step on 1 rank and on all ranks (run under mpirun)")
    bst.add_argument("--cells", type=int, default=256)
    bst.add_argument("--energies", type=int, default=512)
    bst.add_argument("--angles", type=int, default=4)
    bst.add_argument("--steps", type=int, default=5)
    bst.add_argument("--json", action="store_true")
