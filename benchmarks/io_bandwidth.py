"""Parallel HDF5 output (``io.OutputFile``, driver mpio) and checkpoint cost, on all ranks
of the launch (mpirun -n 1 and -n 2).

Output: a file of ``--cells`` x ``--energies`` (a sphere run's record: f and n, one row
per cell, plus the gap and the diagnostics), ``--records`` appends, each collective with
its flush; MB/s = bytes of f, n and gap per record / median seconds per append. The
file lives in a temporary directory on the local disk (``--dir``).
Checkpoint: ``checkpoint.write`` of a ``bench.step_config`` sphere state (cells x
(angles+1) x N unknowns), median of 3 writes, file size and MB/s.

    mpirun -n 2 python benchmarks/io_bandwidth.py [--cells 256] [--energies 1024] [--records 12] --json out.json
"""
import os
import shutil
import tempfile
import time

import numpy as np
from petsc4py import PETSc  # noqa: E402,F401

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation  # noqa: E402
from boltzphlow_mpi.extras.bench import step_config  # noqa: E402
from boltzphlow_mpi.fileio import checkpoint  # noqa: E402
from boltzphlow_mpi.fileio.output import DIAGNOSTICS, OutputFile  # noqa: E402
from boltzphlow_mpi.parallel.comm import Parallel, block_range  # noqa: E402

import _common  # noqa: F401
from _common import arg, dump


def main():
    cells, N, records = arg("--cells", 256, int), arg("--energies", 1024, int), arg("--records", 12, int)
    par = Parallel()
    base = par.bcast(tempfile.mkdtemp(prefix="bp_io_", dir=arg("--dir", None, str)) if par.rank == 0 else None)
    c0, c1 = block_range(cells, par.size, par.rank)
    rng = np.random.default_rng(par.rank)
    f, n, d = rng.random((c1 - c0, N)), rng.random((c1 - c0, N)), rng.random(c1 - c0)
    diag = {k: 1.0 for k in DIAGNOSTICS}
    path = os.path.join(base, "out.h5")
    par.comm.barrier()
    t0 = time.perf_counter()
    out = OutputFile(path, par, n_cells=cells, cell_range=(c0, c1), energy_meV=np.linspace(0, 1, N),
                     attrs={"config": "bench"}, force=True)
    t_open = time.perf_counter() - t0
    times = []
    for i in range(records):
        par.comm.barrier()
        t0 = time.perf_counter()
        out.append(float(i), f, n, d, diag)
        times.append(time.perf_counter() - t0)
    out.close()
    t_rec = par.reduce_max(float(np.median(times[1:])))
    rec_bytes = (2 * N + 1) * cells * 8
    res = {"ranks": par.size, "cells": cells, "energies": N, "records": records,
           "record_bytes": rec_bytes, "s_per_record": t_rec, "MB_per_s": rec_bytes / t_rec / 1e6,
           "open_s": par.reduce_max(t_open), "file_bytes": os.path.getsize(path) if par.rank == 0 else 0}
    # checkpoint of a sphere state
    ccells, cN = arg("--ckpt-cells", 256, int), arg("--ckpt-energies", 512, int)
    sim = Simulation(config.from_dict(step_config(ccells, cN)), par)
    ck = []
    for i in range(3):
        sim.records = i
        par.comm.barrier()
        t0 = time.perf_counter()
        name = checkpoint.write(sim.checkpoint_state(), par, os.path.join(base, "ckpt"), keep=1)
        ck.append(time.perf_counter() - t0)
    t_ck = par.reduce_max(float(np.median(ck)))
    size = os.path.getsize(name) if par.rank == 0 else 0
    res.update(ckpt_cells=ccells, ckpt_energies=cN, ckpt_unknowns=int(sim.model.width), ckpt_s=t_ck,
               ckpt_bytes=size, ckpt_MB_per_s=size / t_ck / 1e6)
    par.comm.barrier()
    if par.rank == 0:
        shutil.rmtree(base, ignore_errors=True)
        dump(res)


if __name__ == "__main__":
    main()
