"""Communication costs of the radial step, per call, on all ranks of the launch
(mpirun -n 1 and -n 2): the DMDA ghost exchange of the phonon block
(``Domain.exchange``: globalToLocal, dof = angles x N per cell), the all-to-all transpose
round trip of the QP block (``Transposer.to_columns`` + ``to_cells``, (cells, N)),
``gather_cells`` of one value per cell (the gap gather of ``set_spectra``), and an MPI
ping-pong between ranks 0 and 1 (latency of an 8-byte message, bandwidth of 4 MiB).
Medians of many calls, max over ranks.

    mpirun -n 2 python benchmarks/comm_costs.py [--cells-per-rank 128] [--energies 512] [--angles 4] --json out.json
"""
import time

import numpy as np
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402,F401

from boltzphlow_mpi.parallel.comm import Parallel, Transposer  # noqa: E402
from boltzphlow_mpi.parallel.domain import Domain  # noqa: E402

import _common  # noqa: F401
from _common import arg, dump


def median_time(par, fn, reps):
    times = []
    for _ in range(reps):
        par.comm.barrier()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return par.reduce_max(float(np.median(times)))


def main():
    cpr, N, M = arg("--cells-per-rank", 128, int), arg("--energies", 512, int), arg("--angles", 4, int)
    par = Parallel()
    cells = cpr * par.size
    dom = Domain(par, cells, M * N)
    c0, c1 = dom.cell_range
    rng = np.random.default_rng(par.rank)
    block = rng.random((c1 - c0, M * N))
    t_ghost = median_time(par, lambda: dom.exchange(block), 50)
    T = Transposer(par, dom.ranges, N)
    qp = rng.random((c1 - c0, N))
    t_tr = median_time(par, lambda: T.to_cells(T.to_columns(qp)), 30)
    t_gather = median_time(par, lambda: par.gather_cells(qp[:, 0]), 100)
    res = {"ranks": par.size, "cells_per_rank": cpr, "energies": N, "angles": M,
           "ghost_exchange_s": t_ghost, "ghost_bytes_per_neighbour": 2 * M * N * 8,
           "transpose_roundtrip_s": t_tr, "transpose_bytes_per_rank": (c1 - c0) * N * 8,
           "gather_cells_s": t_gather}
    if par.size > 1:
        comm = par.comm
        for name, nbytes, reps in (("latency_s", 8, 2000), ("bw_time_s", 4 << 20, 20)):
            buf = np.zeros(nbytes // 8)
            comm.barrier()
            t0 = time.perf_counter()
            for _ in range(reps):
                if par.rank == 0:
                    comm.Send(buf, 1); comm.Recv(buf, 1)
                elif par.rank == 1:
                    comm.Recv(buf, 0); comm.Send(buf, 0)
            res[name] = par.bcast((time.perf_counter() - t0) / (2 * reps))
        res["bandwidth_B_per_s"] = (4 << 20) / res.pop("bw_time_s")
    dom.destroy()
    if par.rank == 0:
        dump(res)


if __name__ == "__main__":
    main()
