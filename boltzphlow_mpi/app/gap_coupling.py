"""The self-consistent gap during a run: after every ``gap.update_every`` accepted steps
the spectra are solved again from the cells' occupations (docs/physics.md, "BCS gap",
"Eliashberg self-energies"), the QPs are remapped at fixed ``xi``, which conserves their
number exactly (docs/physics.md, "QP remap when the spectra change"), and the energy
change is booked as exchanged with the condensate."""
from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.gap.remap import remap_occupation


class GapCoupling:
    """Gap updates of the cells of one rank (collective: every rank calls ``update``).

    Parameters
    ----------
    gap_model : physics.gap.models.BCSGap or EliashbergGap
        Solves the spectra of the cells from their occupations.
    model : physics.kinetics.CellKinetics
        The kinetics whose spectra change.
    set_spectra : callable
        ``set_spectra(spectra)``: the new spectra in the kinetics and the transport
        (collective).
    reduce_max : callable
        Global maximum (a failed solve on one rank stops every rank).
    every : int
        ``gap.update_every``.
    """

    def __init__(self, gap_model, model, set_spectra, reduce_max, every):
        self.gap_model, self.model, self.set_spectra = gap_model, model, set_spectra
        self.reduce_max, self.every = reduce_max, every

    def due(self, steps):
        return steps % self.every == 0

    def update(self, y, condensate):
        """New spectra from ``y``; the QP occupations of ``y`` are remapped and the energy
        change added to ``condensate`` (both in place)."""
        m, grid = self.model, self.model.grid
        old = m.spectra
        fbar, nbar, _ = m.unpack(y)
        try:
            new, error = self.gap_model.update(fbar, nbar, old), None
        except SolverError as exc:  # a cell's solve failed: every rank must stop, not hang
            new, error = old, str(exc)
        if self.reduce_max(1.0 if error else 0.0):
            raise SolverError(error or "gap update failed on another rank")
        before = dg.qp_energy(grid, old, fbar)
        f_dir, _ = m.directional(y)
        y[:, : m.nf] = remap_occupation(f_dir, old.rho, new.rho, grid.step).reshape(len(y), m.nf)
        fbar, _, _ = m.unpack(y)
        condensate += dg.qp_energy(grid, new, fbar) - before
        self.set_spectra(new)  # collective (the transport gathers every cell's gap)
