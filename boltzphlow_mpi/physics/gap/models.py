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

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.physics.energy_grid import Spectra, cell_spectra
from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap, solve_gap
from boltzphlow_mpi.physics.gap.eliashberg import EliashbergSolver
from boltzphlow_mpi.physics.gap.eliashberg_spectra import Solution
from boltzphlow_mpi.physics.gap.critical_temperature import real_axis_tc
from boltzphlow_mpi.physics.gap.mu_star import fit_mu_star, fit_mu_star_to_tc
from boltzphlow_mpi.physics.statistics import fermi

#: the smallest bath gap edge, in energy steps, of an Eliashberg run
EDGE_STEPS = 4


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

    def __init__(self, solver: EliashbergSolver, fit_target=None, fit_to="delta0"):
        self.solver = solver
        # mu* fitted to this T = 0 gap edge ("delta0") or own T_c ("tc"); None: mu* given
        self.fit_target, self.fit_to = fit_target, fit_to
        self.fitted = False
        self.bath_solution = None
        self.solution = None
        self._tc = self._delta0 = None
        self.stats = {"updates": 0, "cell_solves": 0, "iterations": 0, "max_iterations": 0, "max_residual": 0.0}

    def bath(self, temperature, f_bath, n_bath, self_consistent):
        """One-cell spectra of the bath state (after the ``mu*`` fit, if any). The bath
        must be superconducting, with a gap edge of at least ``EDGE_STEPS`` energy steps
        (an O(h) spurious gap of about one step survives above ``T_c``; docs/numerics.md,
        "Gap near T_c"); otherwise a ``SolverError`` names what to change."""
        s = self.solver
        if self.fit_target is not None and not self.fitted:
            if self.fit_to == "tc":
                s.mu_star = fit_mu_star_to_tc(s, self.fit_target)
                self._tc = float(self.fit_target)
            else:
                s.mu_star, sol0 = fit_mu_star(s, self.fit_target)
                self._delta0 = float(sol0.edge[0])
            self.fitted = True
        self.bath_solution = s.solve(f_bath[None, :], n_bath[None, :])
        edge = float(self.bath_solution.edge[0])
        if edge <= 0:
            raise SolverError(f"the Eliashberg model is normal or gapless at the bath temperature {temperature:.4g} k_B T_c: "
                              f"its own T_c is {self.critical_temperature:.4g} k_B T_c (lower bath.temperature_over_tc, "
                              "or raise gap.lambda or lower gap.mu_star)")
        if edge < EDGE_STEPS * s.h:
            raise SolverError(f"the Eliashberg bath gap edge {edge:.4g} k_B T_c spans {edge / s.h:.2g} energy steps; "
                              f"it needs at least {EDGE_STEPS}: grid.energy_step_over_delta0 = "
                              f"{s.h / s.delta_ref:.4g} must be at most {edge / EDGE_STEPS / s.delta_ref:.3g}")
        return self._spectra(self.bath_solution)

    @property
    def critical_temperature(self):
        """The model's own ``T_c`` (``critical_temperature.real_axis_tc``; computed once)."""
        if self._tc is None:
            self._tc = real_axis_tc(self.solver)
        return self._tc

    @property
    def zero_temperature_edge(self):
        """The model's own ``Delta_0``: the gap edge at ``T = 0`` (the fit's target when ``mu*``
        is fitted; else one solve with ``f = n = 0``, computed once)."""
        if self._delta0 is None:
            s = self.solver
            with s.zero_temperature_bath():
                sol = s.solve(fermi(s.grid.x, 0.0)[None], np.zeros((1, s.N)))
            self._delta0 = float(sol.edge[0])
        return self._delta0

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
        tc, d0 = self.critical_temperature, self.zero_temperature_edge
        return (f"Eliashberg ({a.label} k_B T_c; lambda = {a.lam:.4g}, omega_ln = {a.omega_log:.4g} k_B T_c, "
                f"mu* = {s.mu_star:.4g}"
                f"{' (fitted to ' + ('T_c' if self.fit_to == 'tc' else 'Delta_0') + ')' if self.fit_target is not None else ''}"
                f", {s.M} self-energy points to "
                f"{s.eps[-1]:.4g} k_B T_c; the model's own T_c = {tc:.4g} k_B T_c, Delta_0 = {d0:.4g} k_B T_c, "
                f"2 Delta_0 / k_B T_c(model) = {2 * d0 / tc:.3f}{floor})")
