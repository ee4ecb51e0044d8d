"""E1 of issue 13: an event in a point cell to 1 ms, `exp` against the stiff `bdf`, `rosw`
and the PETSc TS methods `ts` (rosw ra34pw2) and `arkimex`, side by side in one run (serial).

Problem: ``jobs/default.toml`` (Al, 0.15 T_c, self-consistent gap, phonon deposit) with
every phonon escaping in 1 ns (``phonon_escape.only_subgap = false``, ``tau_ns = 1``), to
``--t-end`` ns (default 1e6), records every ``--t-end / 100`` ns. Both methods at the job's
``rtol`` (1e-4). Accuracy: N_qp against the independent tight-tolerance reference of
``tests/numerics/test_stiff.py`` at 1e4, 1e5, 2e5, 5e5 and 1e6 ns (those within t_end).

Reported: steps, wall time, the largest relative N_qp error at the reference times, the
largest |energy ledger error| of the records, and the wall-time ratios of exp to each.

    python benchmarks/stiff_e1.py [--t-end 1e6] --json out.json
"""
import time

from mpi4py import MPI  # noqa: F401  (MPI is initialised before the package's first use)

import boltzphlow_mpi as bp

import _common
from _common import arg, dump

#: today's stepper, then the stiff ones (ts: PETSc TS rosw ra34pw2, arkimex: PETSc TS ARKIMEX 3)
METHODS = ("exp", "bdf", "rosw", "ts", "arkimex")
REFERENCE = {1e4: 170.970648, 1e5: 166.929138, 2e5: 162.670126, 5e5: 151.156074, 1e6: 135.366294}  # tests/numerics/test_stiff.py


def run(method, t_end):
    over = {"phonon_escape.only_subgap": False, "phonon_escape.tau_ns": 1.0, "time.t_end_ns": t_end,
            "time.output_interval_ns": t_end / 100, "time.method": method}
    sim = bp.Simulation.from_toml(f"{_common.ROOT}/jobs/default.toml", overrides=over)
    rows = {}
    sim.add_handler(lambda s, tot, first: rows.__setitem__(round(s.t_ns, 6), s.record(tot)))
    t0 = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - t0
    errors = {t: abs(rows[t]["qp_number"] / ref - 1) for t, ref in REFERENCE.items() if t in rows}
    return {"steps": sim.steps, "wall_s": wall, "max_rel_error_qp_number": max(errors.values(), default=float("nan")),
            "errors": {str(t): e for t, e in errors.items()},
            "max_abs_ledger_error": max(abs(r["energy_ledger_error"]) for r in rows.values())}


def main():
    t_end = arg("--t-end", 1e6)
    out = {"t_end_ns": t_end, **{m: run(m, t_end) for m in METHODS}}
    for m in METHODS[1:]:
        out[f"wall_ratio_exp_over_{m}"] = out["exp"]["wall_s"] / out[m]["wall_s"]
        out[f"step_ratio_exp_over_{m}"] = out["exp"]["steps"] / out[m]["steps"]
    dump(out)


if __name__ == "__main__":
    main()
