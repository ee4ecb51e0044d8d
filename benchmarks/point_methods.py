"""The point jobs with each time method, side by side in one run (serial): the evidence
for ``time.method = "auto"`` choosing ``bdf`` for a point (docs/numerics.md, "Choosing a
method").

``jobs/default.toml`` (Al cascade to 200 ns) and ``jobs/eta_al.toml`` (to 438 ns), each with
``exp``, ``bdf`` and ``rosw`` at the job's ``rtol`` (1e-4), against ``rosw`` at
``rtol = 1e-8`` (the reference): wall time, steps, the largest relative error of the excess
N_qp over the records after t = 0, and the largest |energy ledger error|. Then the cost
against the grid size: ``jobs/eta_al.toml`` at ``h = Delta_0/32, /48, /64`` (577 to 1153
energies) with ``bdf`` and ``exp`` (wall time, steps, eta): where the BDF's dense LU (2N
unknowns, O(N^3)) overtakes what it saves (``time.method = "auto"`` stops at 600 energies).

    python benchmarks/point_methods.py --json out.json
"""
import time

from mpi4py import MPI  # noqa: F401  (MPI is initialised before the package's first use)

import boltzphlow_mpi as bp

import _common
from _common import dump

JOBS = ("default", "eta_al")
METHODS = ("exp", "bdf", "rosw")
REFERENCE = ("rosw", 1e-8)
SIZES = (1 / 32, 1 / 48, 1 / 64)  # energy steps (Delta_0) of the size scan


def run(job, method, rtol):
    sim = bp.Simulation.from_toml(f"{_common.ROOT}/jobs/{job}.toml",
                                  overrides={"time.method": method, "time.rtol": rtol})
    rows = []
    sim.add_handler(lambda s, tot, first: rows.append(s.record(tot)))
    t0 = time.perf_counter()
    sim.run()
    return rows, time.perf_counter() - t0, sim.steps


def main():
    out = {}
    for job in JOBS:
        ref, _, _ = run(job, *REFERENCE)
        out[job] = {"reference": {"method": REFERENCE[0], "rtol": REFERENCE[1]}}
        for m in METHODS:
            rows, wall, steps = run(job, m, 1e-4)
            err = max(abs(a["qp_number_excess"] / b["qp_number_excess"] - 1) for a, b in zip(rows[1:], ref[1:], strict=True))
            out[job][m] = {"wall_s": wall, "steps": steps, "max_rel_error_qp_number_excess": err,
                           "max_abs_ledger_error": max(abs(r["energy_ledger_error"]) for r in rows)}
    out["sizes"] = []
    for h in SIZES:
        row = {"step_over_delta0": h}
        for m in ("bdf", "exp"):
            sim = bp.Simulation.from_toml(f"{_common.ROOT}/jobs/eta_al.toml",
                                          overrides={"time.method": m, "grid.energy_step_over_delta0": h})
            t0 = time.perf_counter()
            sim.run()
            row["energies"] = sim.grid.size
            row[m] = {"wall_s": time.perf_counter() - t0, "steps": sim.steps, "eta": sim.summary()["eta"]}
        out["sizes"].append(row)
    dump(out)


if __name__ == "__main__":
    main()
