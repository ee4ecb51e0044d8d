"""``boltzphlow sweep``: 0-D steady states over a parameter (``app.sweep``)."""

import numpy as np

from boltzphlow_mpi.errors import InputError


def sweep_units():
    from boltzphlow_mpi.app.sweep import UNITS
    return UNITS


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
                  f"{'sigma1/sn':>10} {'sigma2/sn':>10} {'eta':>7} {'T*_FC (mK)':>10} {'dgap/dgap_T':>11}")
        for v, r in zip(args.values, allrows):
            if "error" in r:
                par.print(f"{v:28.6g} failed: {r['error']}")
                continue
            par.print(f"{v:28.6g} {r['iterations']:5d} {r['qp_number_per_um3']:13.6g} {r['x_qp']:10.4g} "
                      f"{r['t_star_K'] * 1e3:10.5g} {r['gap_meV']:10.6g} {r['sigma1_over_sigman']:10.4g} "
                      f"{r['sigma2_over_sigman']:10.4g} {r['eta']:7.4f} {r['t_star_fc_K'] * 1e3:10.5g} "
                      f"{r['gap_suppression_vs_thermal']:11.4g}")
        if args.plot:
            try:
                sweep.plot(args.plot, args.param, args.values, allrows, args.observable)
                par.print(f"wrote {args.plot}")
            except ImportError:
                par.print("boltzphlow: warning: no matplotlib: --plot skipped")
        par.print(f"output: {args.output} (/sweep/*, one entry per point; units attributes)")
    failed = par.bcast(sum("error" in r for r in allrows) if par.rank == 0 else None)
    return 3 if failed else 0


def add_parsers(sub):
    """``sweep`` (docs/cli.md)."""
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
    sw.set_defaults(func=cmd_sweep)
