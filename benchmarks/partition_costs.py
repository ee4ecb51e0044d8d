"""Cost of the interface solve of the partition QP-diffusion solver (``transport.qp_solver =
"partition"``; docs/numerics.md, "QP diffusion at scale: the partition solver"): the banded
system of ``2P`` unknowns per energy that the rank owning an energy block solves for ``P``
ranks, timed on this process for the energy block of one rank, ``ceil(N / P)`` energies,
at each ``P``. Input of the weak-scaling model (``scaling_model.py``); medians of repeats.

    python benchmarks/partition_costs.py [--energies 512] --json out.json
"""
import time

import numpy as np

from boltzphlow_mpi.physics.transport import partition_reduced

import _common  # noqa: F401
from _common import arg, dump


def reduced_time(P, K, reps=5):
    rng = np.random.default_rng(P)
    ends = [rng.random((P, K)) * (0.3 if i % 3 else 1.0) for i in range(6)]
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        partition_reduced(*ends)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    N = arg("--energies", 512, int)
    rows = [{"ranks": P, "energies_per_rank": max(1, -(-N // P)), "reduced_solve_s": reduced_time(P, max(1, -(-N // P)))}
            for P in (1, 2, 8, 64, 256, 1000)]
    dump({"energies": N, "rows": rows})


if __name__ == "__main__":
    main()
