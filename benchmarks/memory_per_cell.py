"""Memory per radial cell (serial): tracemalloc (numpy's buffers are traced) of a
``bench.step_config`` sphere for increasing cell counts; held after set-up + one step,
and the peak during one step; the slope of a least-squares line over the cell counts is
the memory per cell. For comparison, the state alone is (angles+1) x N + 2 doubles per cell.

    python benchmarks/memory_per_cell.py [--cells 32,64,128,256] [--energies 512] [--angles 4] --json out.json
"""
import gc
import tracemalloc

import numpy as np
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402,F401

from boltzphlow_mpi.app import config  # noqa: E402
from boltzphlow_mpi.app.simulation import Simulation  # noqa: E402
from boltzphlow_mpi.extras.bench import step_config  # noqa: E402
from boltzphlow_mpi.parallel.comm import Parallel  # noqa: E402

import _common  # noqa: F401
from _common import arg, dump


def measure(cells, N, M):
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    sim = Simulation(config.from_dict(step_config(cells, N, M)), Parallel(MPI.COMM_SELF))
    sim.advance_to(sim.integrator.fixed_dt)
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.reset_peak()
    now = tracemalloc.get_traced_memory()[0]
    sim.advance_to(sim.t + sim.integrator.fixed_dt)
    peak = tracemalloc.get_traced_memory()[1] - now + held
    width = sim.model.width
    sim.transport.domain.destroy()
    del sim
    tracemalloc.stop()
    return {"cells": cells, "held_bytes": held, "peak_bytes": peak, "state_bytes_per_cell": width * 8}


def main():
    sizes = [int(s) for s in arg("--cells", "32,64,128,256", str).split(",")]
    N, M = arg("--energies", 512, int), arg("--angles", 4, int)
    rows = [measure(c, N, M) for c in sizes]
    x = np.array(sizes, float)
    fit = {k: np.polyfit(x, [r[k] for r in rows], 1) for k in ("held_bytes", "peak_bytes")}
    dump({"energies": N, "angles": M, "rows": rows,
          "held_bytes_per_cell": fit["held_bytes"][0], "held_bytes_fixed": fit["held_bytes"][1],
          "peak_bytes_per_cell": fit["peak_bytes"][0], "peak_bytes_fixed": fit["peak_bytes"][1],
          "state_bytes_per_cell": rows[0]["state_bytes_per_cell"]})


if __name__ == "__main__":
    main()
