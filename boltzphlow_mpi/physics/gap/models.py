"""The gap of each cell: BCS (``gap``) or real-axis Eliashberg (``eliashberg``) (docs/physics.md,
"BCS gap", "Eliashberg self-energies").

Both models turn a batch of cells' occupations into the cells' spectral functions
(``energy_grid.Spectra``), which is all the kinetic equation and the transport need:

* ``BCSGap``: ``rho``, ``phi`` of the BCS gap, which is the bath value
  (``[gap] mode = "fixed"``) or the solution of the nonequilibrium gap equation of the
  cell (``"self-consistent"``);
* ``EliashbergGap``: ``rho``, ``varphi`` and the left-hand-side factor ``ell`` from the
  self-energies of the cell's ``f`` and ``n``; ``spectra.delta`` is the gap edge. The
  previous solution of each cell is the warm start of the next one, and is part of the
  checkpoint (``state_arrays``), so a restart continues bitwise.

Pure numpy/scipy (no PETSc, no MPI).
"""
import numpy as np

from boltzphlow_mpi.physics.energy_grid import Spectra, cell_spectra
from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap, solve_gap
from boltzphlow_mpi.physics.gap.eliashberg import EliashbergSolver
from boltzphlow_mpi.physics.gap.eliashberg_spectra import Solution
from boltzphlow_mpi.physics.gap.mu_star import fit_mu_star


class BCSGap:
    name = "bcs"

    def __init__(self, grid, delta0, cutoff, gamma):
        self.grid, self.delta0, self.cutoff, self.gamma = grid, delta0, cutoff, gamma

    def bath(self, temperature, f_bath, n_bath, self_consistent):
        """One-cell spectra of the bath state."""
        d = float(equilibrium_gap(temperature, self.delta0, self.cutoff))
        if self_consistent:
            # the bath gap of the discrete gap equation, so the bath state is self-consistent
            d = float(solve_gap(self.grid, f_bath[None, :], self.delta0, self.cutoff, self.gamma, guess=[d])[0])
        return cell_spectra(self.grid, [d], self.gamma)

    def start(self, cells):
        pass

    def update(self, f, n, current):
        d = solve_gap(self.grid, f, self.delta0, self.cutoff, self.gamma, guess=current.delta)
        return cell_spectra(self.grid, d, self.gamma)

    def state_arrays(self):
        return {}

    def snapshot(self):
        return None

    def resume(self, snap):
        pass

    def set_state(self, arrays):
        pass

    def describe(self):
        return "BCS"


class EliashbergGap:
    name = "eliashberg"

    def __init__(self, solver: EliashbergSolver, fit_target=None):
        self.solver = solver
        self.fit_target = fit_target  # mu* fitted to this T = 0 gap edge (None: mu* given)
        self.fitted = False
        self.bath_solution = None
        self.solution = None
        self.stats = {"updates": 0, "cell_solves": 0, "iterations": 0, "max_iterations": 0, "max_residual": 0.0}

    def bath(self, temperature, f_bath, n_bath, self_consistent):
        s = self.solver
        if self.fit_target is not None and not self.fitted:
            s.mu_star, _ = fit_mu_star(s, self.fit_target)
            self.fitted = True
        self.bath_solution = s.solve(f_bath[None, :], n_bath[None, :])
        return self._spectra(self.bath_solution)

    def start(self, cells):
        b = self.bath_solution

        def rep(a):
            return np.repeat(a, cells, axis=0)

        self.solution = Solution(rep(b.Z), rep(b.phi), rep(b.rho), rep(b.varphi), rep(b.edge),
                                 rep(b.iterations), rep(b.residual))

    def _spectra(self, sol):
        rho, varphi, ell = self.solver.kinetic_factors(sol)
        return Spectra.from_arrays(sol.edge, rho, varphi, ell)

    def update(self, f, n, current):
        if len(f) == 0:
            return current
        self.solution = self.solver.solve(f, n, guess=self.solution)
        st, sol = self.stats, self.solution
        st["updates"] += 1
        st["cell_solves"] += len(f)
        st["iterations"] += int(np.sum(sol.iterations))
        st["max_iterations"] = max(st["max_iterations"], int(np.max(sol.iterations)))
        st["max_residual"] = max(st["max_residual"], float(np.max(sol.residual)))
        return self._spectra(self.solution)

    def snapshot(self):
        """The warm start of the next solve (solutions are replaced, never changed in place)."""
        return self.solution

    def resume(self, snap):
        self.solution = snap

    def state_arrays(self):
        """Self-energies of the local cells, as float pairs (cells, 2M) each."""
        return {"Z": self.solution.Z.view(float), "phi": self.solution.phi.view(float)}

    def set_state(self, arrays):
        Z = np.ascontiguousarray(arrays["Z"]).view(complex)
        phi = np.ascontiguousarray(arrays["phi"]).view(complex)
        rho, varphi = self.solver.spectra(Z, phi)  # (an empty batch on a rank without cells)
        cells = len(Z)
        self.solution = Solution(Z, phi, rho, varphi, self.solver.gap_edge(Z, phi), np.zeros(cells, int), np.zeros(cells))
        return self._spectra(self.solution)

    def describe(self):
        s, a = self.solver, self.solver.a2f
        low = s.floored(self.bath_solution) if self.bath_solution is not None else None
        floor = ("" if low is None else
                 f"; ell raised to {s.lhs_floor:g} on {low[0]} energy points, {low[1]:.4g} to {low[2]:.4g} k_B T_c")
        return (f"Eliashberg ({a.label} k_B T_c; lambda = {a.lam:.4g}, omega_ln = {a.omega_log:.4g} k_B T_c, "
                f"mu* = {s.mu_star:.4g}"
                f"{' (fitted)' if self.fit_target is not None else ''}, {s.M} self-energy points to "
                f"{s.eps[-1]:.4g} k_B T_c{floor})")
