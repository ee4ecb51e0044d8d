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


class _NoStage:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_STAGES = {}


def stage(name):
    """A PETSc log stage (``-log_view`` then reports time, flops and messages per stage:
    collisions, gap, transport, output). A no-op context where PETSc is not initialized,
    so a 0-D run never starts PETSc for it."""
    if "petsc4py.PETSc" not in sys.modules:
        return _NoStage()
    from petsc4py import PETSc
    if name not in _STAGES:
        _STAGES[name] = PETSc.Log.Stage(name)
    st = _STAGES[name]

    class _Stage:
        def __enter__(self):
            st.push()
            return self

        def __exit__(self, *exc):
            st.pop()
            return False

    return _Stage()


def block_range(n, size, rank):
    """Contiguous block ``[start, stop)`` of ``n`` cells owned by ``rank`` of ``size``."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class Transposer:
    """Moves a field between the cell layout and the column layout with one all-to-all.

    Cell layout: this rank holds its cells ``[c0, c1)`` for all ``K`` columns,
    shape ``(c1 - c0, K)``. Column layout: this rank holds all ``C`` cells for its columns
    ``[k0, k1)`` (block partition of ``K``), shape ``(C, k1 - k0)``. Solving along the
    cells in the column layout (e.g. a tridiagonal system per energy) does the same
    arithmetic for any number of ranks, so the result is bitwise rank independent.
    """

    def __init__(self, par, cell_ranges, columns, group=1):
        """``group``: columns that must stay on one rank together (e.g. the directions of
        one energy); ``columns`` is a multiple of it."""
        self.par = par
        self.cell_ranges = cell_ranges  # [(c0, c1)] of every rank
        self.columns = columns
        units = columns // group
        self.col_ranges = [tuple(group * b for b in block_range(units, par.size, r)) for r in range(par.size)]
        self.cells = cell_ranges[-1][1]

    @property
    def my_columns(self):
        return self.col_ranges[self.par.rank]

    def to_columns(self, local):
        """(cells_local, K) -> (C, K_local)."""
        comm = self.par.comm
        local = np.ascontiguousarray(local, dtype=float)
        nloc = local.shape[0]
        send = np.concatenate([local[:, a:b].ravel() for a, b in self.col_ranges]) if nloc else np.zeros(0)
        scounts = [nloc * (b - a) for a, b in self.col_ranges]
        k0, k1 = self.my_columns
        rcounts = [(c1 - c0) * (k1 - k0) for c0, c1 in self.cell_ranges]
        recv = np.empty(sum(rcounts))
        comm.Alltoallv([send, (scounts, _displ(scounts)), self.par.MPI.DOUBLE],
                       [recv, (rcounts, _displ(rcounts)), self.par.MPI.DOUBLE])
        out = np.empty((self.cells, k1 - k0))
        pos = 0
        for (c0, c1), n in zip(self.cell_ranges, rcounts):
            out[c0:c1] = recv[pos:pos + n].reshape(c1 - c0, k1 - k0)
            pos += n
        return out

    def to_cells(self, cols):
        """(C, K_local) -> (cells_local, K)."""
        comm = self.par.comm
        cols = np.ascontiguousarray(cols, dtype=float)
        k0, k1 = self.my_columns
        send = np.concatenate([cols[c0:c1].ravel() for c0, c1 in self.cell_ranges])
        scounts = [(c1 - c0) * (k1 - k0) for c0, c1 in self.cell_ranges]
        c0, c1 = self.cell_ranges[self.par.rank]
        rcounts = [(c1 - c0) * (b - a) for a, b in self.col_ranges]
        recv = np.empty(sum(rcounts))
        comm.Alltoallv([send, (scounts, _displ(scounts)), self.par.MPI.DOUBLE],
                       [recv, (rcounts, _displ(rcounts)), self.par.MPI.DOUBLE])
        out = np.empty((c1 - c0, self.columns))
        pos = 0
        for (a, b), n in zip(self.col_ranges, rcounts):
            out[:, a:b] = recv[pos:pos + n].reshape(c1 - c0, b - a)
            pos += n
        return out


def _displ(counts):
    return [0] + list(np.cumsum(counts)[:-1])
