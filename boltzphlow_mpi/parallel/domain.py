"""The radial domain on a PETSc DMDA (docs/physics.md, "Radial transport"): decomposition and ghost
exchange.

One object owns the 1-D DMDA over the radial cells (``GHOSTED`` ends, stencil width 2),
the global and the ghosted local vector (made once), this rank's cell range and whether
it holds ``r = 0`` and ``r = R``. Physics code sees numpy arrays shaped ``(cells, ...)``.
"""
import numpy as np

from boltzphlow_mpi.errors import InputError


class Domain:
    def __init__(self, par, cells, dof, ghosts=2):
        from petsc4py import PETSc
        if cells < ghosts * par.size:
            raise InputError("geometry.cells", cells, f"at least {ghosts} cells per rank ({par.size} ranks)")
        self.par, self.cells, self.dof, self.ghosts = par, int(cells), int(dof), ghosts
        self.da = PETSc.DMDA().create(sizes=(self.cells,), dof=self.dof, stencil_width=ghosts,
                                      boundary_type=(PETSc.DM.BoundaryType.GHOSTED,), comm=par.comm)
        self.gvec = self.da.createGlobalVec()
        self.lvec = self.da.createLocalVec()  # physical-boundary ghosts stay 0 (never read unweighted)
        (xs, xe), = self.da.getRanges()
        self.cell_range = (int(xs), int(xe))
        self.ranges = [tuple(r) for r in par.comm.allgather(self.cell_range)]
        self.owns_centre = xs == 0
        self.owns_outer = xe == self.cells

    def exchange(self, owned):
        """Ghosted copy ``(cells_local + 2 ghosts, dof)`` of this rank's ``(cells_local, dof)`` block."""
        self.gvec.array[:] = np.ascontiguousarray(owned).ravel()
        self.da.globalToLocal(self.gvec, self.lvec)
        return self.lvec.array.reshape(-1, self.dof).copy()

    def destroy(self):
        for obj in (self.gvec, self.lvec, self.da):
            obj.destroy()
