"""MPI plumbing: the communicator wrapper and the block partition of cells.

Serial is a communicator of size one, never a second code path. Physics modules do not
import this; the driver hands them plain callables (``reduce_max``).
"""
import sys

import numpy as np


def world():
    from mpi4py import MPI
    return MPI.COMM_WORLD


class Parallel:
    def __init__(self, comm=None):
        from mpi4py import MPI
        self.MPI = MPI
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank = self.comm.rank
        self.size = self.comm.size

    def reduce_max(self, value):
        return self.comm.allreduce(float(value), op=self.MPI.MAX)

    def gather_cells(self, local):
        """Per-cell values of all ranks, in global cell order (leading axis = cells).

        Sums over cells are then taken on the full array in one fixed order, so totals are
        bitwise the same for any number of ranks.
        """
        parts = self.comm.allgather(np.asarray(local, dtype=float))
        return np.concatenate(parts, axis=0)

    def bcast(self, obj, root=0):
        return self.comm.bcast(obj, root=root)

    def print(self, *args, **kw):
        """Only rank 0 prints."""
        if self.rank == 0:
            print(*args, **kw, flush=True)

    def abort(self, code=1):
        sys.stdout.flush()
        sys.stderr.flush()
        if self.size > 1:
            self.comm.Abort(code)
        raise SystemExit(code)


def block_range(n, size, rank):
    """Contiguous block ``[start, stop)`` of ``n`` cells owned by ``rank`` of ``size``."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)
