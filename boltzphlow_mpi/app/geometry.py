"""The geometry of a run behind one interface: a ``Point`` (one uniform cell of unit
volume, densities per um^3) or a ``Sphere`` (cells on a PETSc DMDA, radial transport).

The builder picks one from ``geometry.kind`` (``make``); the rest of the application asks
it for what differs (cells, volumes, deposit and drive profiles, transport, units, what a
summary reports, the steady-state solver) instead of branching on the kind. The point
cell belongs to rank 0 of the block partition while every rank runs the same steps and
collectives (docs/numerics.md, "Rank independence").
"""
import numpy as np

from boltzphlow_mpi.errors import InputError, SolverError


def make(cfg, par, grid):
    return Sphere(cfg, par, grid) if cfg.geometry.kind == "sphere" else Point(cfg, par)


class _Cells:
    """What both geometries share: the owned cell range and the volumes."""

    def _own(self, cell_range, volumes_all):
        self.cell_range = cell_range
        self.volumes_all = volumes_all
        c0, c1 = cell_range
        self.local_cells = c1 - c0
        self.volumes = volumes_all[c0:c1]


class Point(_Cells):
    kind = "point"
    mesh = None
    n_cells = 1
    qp_angles = phonon_angles = 1
    number_unit, energy_unit = " um^-3", "eV/um^3"   # totals are densities
    deposit_key = "deposit_eV_per_um3"
    summary_parts = ("QPs (excess)", "phonons (excess)", "escaped", "condensate")

    def __init__(self, cfg, par):
        from boltzphlow_mpi.parallel.comm import block_range
        self._own(block_range(1, par.size, par.rank), np.ones(1))

    def describe(self):
        return ""

    def transport(self, par, model, material, cfg):
        return None

    def profile(self, width_um):
        """Shape of the deposit on the local cells and its volume integral."""
        return np.ones(self.local_cells), 1.0

    def drive_shape(self, width_um, key):
        if width_um is not None:
            raise InputError(key, width_um, "no value for a point geometry")
        return np.ones(self.local_cells)

    def report_cells(self, n_cells):
        return [("", 0)]

    def solve_steady(self, sim, tol, max_it):
        """The point cell's Newton solve on the rank that owns it, broadcast to all; the
        owner's state becomes the steady state."""
        from boltzphlow_mpi.numerics import steady_point
        result = None
        if self.local_cells:
            try:
                result = steady_point.solve(sim, tol=tol, max_it=max_it)
            except SolverError as exc:
                result = str(exc)
        result = sim.par.bcast(result)
        if isinstance(result, str):
            raise SolverError(result)
        if self.local_cells:
            sim.y = result["y"]
        return result

    def efficiency(self, sim, absorbed):
        """eta of the point cell's steady state (docs/physics.md, "Generation efficiency
        `eta`"), on the rank that owns it, broadcast to all; NaN without pair breaking."""
        from boltzphlow_mpi.app import sweep
        eta = sweep.generation_efficiency_or_nan(sim, absorbed) if self.local_cells else np.nan
        return float(sim.par.bcast(eta))


class Sphere(_Cells):
    kind = "sphere"
    number_unit, energy_unit = "", "eV"               # totals are counts and energies
    deposit_key = "deposit_eV"
    summary_parts = ("QPs (excess)", "phonons (excess)", "escaped", "out through R", "condensate")

    def __init__(self, cfg, par, grid):
        from boltzphlow_mpi.fileio.mesh import RadialMesh, load_mesh_file
        from boltzphlow_mpi.parallel.domain import Domain
        geo, tr = cfg.geometry, cfg.transport
        self.mesh = (load_mesh_file(geo.mesh, geo.radius_um) if geo.mesh is not None
                     else RadialMesh.uniform(geo.radius_um, geo.cells))
        self.n_cells = self.mesh.cells
        self.qp_angles = tr.angles if tr.qp == "kinetic" else 1
        self.phonon_angles = tr.angles if tr.phonon == "kinetic" else 1
        self.domain = Domain(par, self.n_cells, self.phonon_angles * grid.size if tr.phonon == "kinetic" else 1)
        self._own(self.domain.cell_range, self.mesh.volumes)

    def describe(self):
        return f"sphere R = {self.mesh.radius:g} um in {self.n_cells} cells, "

    def transport(self, par, model, material, cfg):
        from boltzphlow_mpi.parallel.radial import RadialTransport
        tr = cfg.transport
        return RadialTransport(
            par, self.mesh, model, self.domain, qp=tr.qp, phonon=tr.phonon,
            mean_free_path_um=tr.qp_mean_free_path_um,
            fermi_velocity=material.fermi_velocity_um_per_ns * material.tau0_ns,
            sound_speed=material.sound_speed_um_per_ns * material.tau0_ns, boundary=tr.outer_boundary,
            qp_solver=tr.qp_solver, phonon_time=tr.phonon_time)

    def profile(self, width_um):
        r = self.mesh.centres
        shape = np.ones_like(r) if width_um is None else np.exp(-0.5 * (r / width_um) ** 2)
        c0, c1 = self.cell_range
        return shape[c0:c1], float(np.sum(shape * self.mesh.volumes))

    def drive_shape(self, width_um, key):
        if width_um is None:
            return np.ones(self.local_cells)
        c0, c1 = self.cell_range
        return np.exp(-0.5 * (self.mesh.centres[c0:c1] / width_um) ** 2)

    def report_cells(self, n_cells):
        return [("centre cell", 0), ("outer cell", n_cells - 1)]

    def solve_steady(self, sim, tol, max_it):
        """Newton on all cells on all ranks; the state becomes the steady state."""
        from boltzphlow_mpi.numerics import steady_radial
        result = steady_radial.solve(sim, tol=tol, max_it=max_it)  # raises alike on every rank
        sim.y = result["y"]
        return result

    def efficiency(self, sim, absorbed):
        """eta is defined for a uniform cell (docs/physics.md, "Generation efficiency `eta`")."""
        return np.nan
