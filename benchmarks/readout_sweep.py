"""The power sweep of issue 16 at 100 mK (serial): wall time and Newton iterations per point.

Job: tests/jobs/readout.toml (Al at 100 mK, microwaves at Delta_0/9, the self-consistent gap,
every phonon escaping in 0.242 ns, h = Delta_0/36, E_max = 5 Delta_0); the sweep of
``boltzphlow sweep --param drive.0.power_W_per_um3`` over ``--points`` powers (default 12)
from ``--from`` to ``--to`` W/um^3 (default 1e-20 to 1e-16), each point continued from the
last (``app.sweep.run_block``, as the command runs a block on one rank). Reported per point:
the power, wall time, Newton iterations, n_qp (um^-3), T*_N (K), the gap (meV), or the error.

    python benchmarks/readout_sweep.py [--points 12] [--from 1e-20] [--to 1e-16] [--json out.json]
"""
import os
import sys
import time

import numpy as np
from mpi4py import MPI  # noqa: F401  (MPI is initialised before the package's first use)

import _common  # noqa: F401
from _common import ROOT, arg, dump

sys.path.insert(0, os.path.join(ROOT, "tests"))  # the jobs of the tests (tests/jobs)
import jobs


def main():
    from boltzphlow_mpi.app.sweep import point_configs, run_block
    points = int(arg("--points", 12, int))
    powers = np.geomspace(arg("--from", 1e-20), arg("--to", 1e-16), points)
    raw = jobs.table("readout")
    cfgs = point_configs(raw, "drive.0.power_W_per_um3", powers)
    run_block(cfgs[:1], 5.0)  # warm-up (numba's compiled loops, PETSc)
    t0 = time.perf_counter()
    out = run_block(cfgs, 5.0)  # one block with continuation, as `boltzphlow sweep` on one rank
    total = time.perf_counter() - t0
    rows = []
    for p, r in zip(powers, out, strict=True):
        row = {"power_W_per_um3": float(p), "wall_s": r["wall_s"]}
        if "error" in r:
            row["error"] = r["error"]
        else:
            row.update(iterations=r["iterations"], qp_number_per_um3=r["qp_number_per_um3"], t_star_K=r["t_star_K"],
                       gap_meV=r["gap_meV"])
        rows.append(row)
    dump({"job": "tests/jobs/readout.toml", "points": rows, "total_wall_s": total, "warmup_excluded": True})


if __name__ == "__main__":
    import petsc4py
    petsc4py.init([])
    main()
