"""Real-axis Eliashberg self-energies per cell (docs/physics.md, "Eliashberg self-energies"; notes
section 3.1).

Isotropic, real frequency axis, internal units (energies k_B T_c). For every cell the
solver finds the complex renormalisation ``Z(eps)`` and pairing self-energy ``phi(eps)``
from ``alpha^2F`` and that cell's QP occupation ``f`` and phonon occupation ``n``:

* Imaginary parts, eqs. (182)-(183) of the notes written for arbitrary occupations
  (they reduce to (182)-(183) at ``f = n = 0``)::

      Im[eps Z](eps) = pi int dOmega a2F(Omega) { N(eps-Omega) [1 + n(Omega) - F(eps-Omega)]
                                                + N(eps+Omega) [n(Omega) + F(eps+Omega)] }
      Im[phi](eps)   = the same with N -> P

  where ``N(e) = rho(|e|)`` (even), ``P(e) = sign(e) varphi(|e|)`` (odd) and
  ``F(e) = f(e)`` for ``e >= 0``, ``1 - f(-e)`` below (particle-hole symmetry). On the
  symmetric grid both are two convolutions, evaluated with FFTs.
* Real parts by Kramers-Kronig, eqs. (184)-(186): ``Re Z - 1 = H[Im Z]`` and
  ``Re phi = H[Im phi] + phi_c`` with the Hilbert transform
  ``H[u](x) = (1/pi) P int u(y) / (y - x) dy`` over the whole axis (``Im Z`` and ``Im phi``
  are odd). ``H`` is the exact transform of the piecewise-linear interpolant with a
  fourth-order correction (``hilbert.Hilbert``), a convolution done with zero-padded FFTs; the
  ``1/y`` tail beyond the grid top ``L`` is added in closed form. A ``c/eps`` part of
  ``Im Z`` (finite temperature) has no Hilbert transform off ``eps = 0`` and is removed
  first. The Coulomb pseudopotential adds the constant
  ``phi_c = -mu* int_0^{omega_c} varphi(eps) (1 - 2 f(eps)) d eps`` (``omega_c = L``).
* Spectral functions, eqs. (166)-(167), with ``Delta = phi / Z``:
  ``rho = Re[eps / sqrt(eps^2 - Delta^2)]``, ``varphi = Re[Delta / sqrt(eps^2 - Delta^2)]``
  (principal root, ``Re sqrt >= 0``, so ``rho >= 0``; ``eps -> eps + i Gamma`` with Dynes
  broadening), averaged over each energy cell in closed form with the cell's ``Delta``,
  as ``energy_grid`` does for BCS: the kinetic equation sees the same cell averages
  (``eliashberg_spectra``).
* The iteration convolves hat averages of ``rho`` and ``varphi`` (smooth in the gap edge;
  ``eliashberg_spectra.hat_averages``). From the BCS guess (``Z = 1 + lambda``,
  ``phi = Z Delta``) or the cell's previous solution, a schedule of damped and
  Anderson-accelerated fixed-point tries, per cell independently (a cell's iterations never
  depend on the others), until ``max |Delta_new - Delta| < tol Delta_ref``; a cold try that
  ends normal is followed by a more strongly damped one; non-convergence raises. The
  self-energy grid must reach ``minimum_cutoff(lambda)`` times ``Omega_max``.

Derived per cell (``Solution``): the gap edge ``Delta_0`` (``Re Delta(Delta_0) = Delta_0``,
the root after the maximum of ``Re Delta - eps``),
``Z_1 = Re Z``, ``phi_1 = Re phi`` and their derivatives, and the left-hand-side factor
of eq. (178), ``L = Z_1 + eps dZ_1/deps - (varphi/rho) dphi_1/deps``. The kinetic
rates use ``1/tau_0``, and Kaplan's ``tau_0`` already contains ``Z_1(0) = 1 + lambda``;
the factor applied to ``df/dt`` is therefore ``ell = L / (1 + lambda)`` (1 in the BCS limit),
raised to ``lhs_floor`` where the gradient expansion behind ``L`` fails (``L`` < 0 above
``Delta_0 + Omega`` of a strong coupler).

``alpha^2F`` is in ``alpha2f``, the ``mu*`` fit in ``mu_star``, and ``T_c`` of the
linearised imaginary-axis equations (an independent check) in ``matsubara``.
"""
from contextlib import contextmanager

import numpy as np
from scipy import fft as sfft

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.physics.energy_grid import EnergyGrid
from boltzphlow_mpi.physics.gap.alpha2f import Alpha2F
from boltzphlow_mpi.physics.gap.eliashberg_spectra import (Solution, by_row, gap_edge, hat_averages,
                                                            spectral_cell_averages)
from boltzphlow_mpi.physics.gap.hilbert import Hilbert
from boltzphlow_mpi.physics.statistics import bose, fermi


#: (damped steps, mixing over ``beta``) of the successive tries of a solve from the BCS
#: start and from a previous solution (``EliashbergSolver._scheduled``); the last try is
#: damped steps only
COLD_SCHEDULE = ((10, 1.0), (40, 0.5), (1_000_000, 0.6))
WARM_SCHEDULE = ((0, 1.0), (1_000_000, 0.6))
#: a change below ``ROUNDOFF_FACTOR * tolerance`` that stops falling is the round-off floor
#: of the map (the hat averages near the edge amplify round-off); it is accepted
ROUNDOFF_FACTOR = 10.0
#: the smallest left-hand-side factor ``ell`` (``kinetic_factors``)
LHS_FLOOR = 0.1


class EliashbergSolver:
    """Vectorised real-axis Eliashberg solver for the cells of one energy grid."""

    def __init__(self, grid, a2f: Alpha2F, *, mu_star=0.0, cutoff=None, gamma=0.0,
                 bath_temperature=0.0, delta_ref, tol=1e-10, max_iter=400, history=6, beta=0.5,
                 lhs_floor=LHS_FLOOR):
        """``grid``: the kinetic ``EnergyGrid`` (same step as ``a2f``); ``cutoff``: top ``L``
        of the self-energy grid (default ``max(grid top, 3 Omega_max)``); ``delta_ref``:
        the gap scale of the tolerance and of the BCS start; ``lhs_floor``: the smallest
        ``ell`` of ``kinetic_factors``."""
        if abs(a2f.step - grid.step) > 1e-12 * grid.step:
            raise ValueError("alpha^2F must be sampled with the kinetic energy step")
        self.grid, self.a2f = grid, a2f
        self.h = grid.step
        self.N = grid.size
        top = max((grid.size - 1) * grid.step, 3.0 * a2f.omega_max) if cutoff is None else float(cutoff)
        self.M = max(int(np.ceil(top / self.h)) + 1, grid.size)
        self.J = len(a2f.values) - 1
        self.mu_star, self.gamma = float(mu_star), float(gamma)
        self.T = float(bath_temperature)
        self.delta_ref = float(delta_ref)
        self.tol, self.max_iter, self.history, self.beta = tol, int(max_iter), int(history), float(beta)
        self.lhs_floor = float(lhs_floor)
        self.lam = a2f.lam
        M, J = self.M, self.J
        self.eps = self.h * np.arange(M)
        lo = np.maximum(self.eps - 0.5 * self.h, 0.0)
        self._lo, self._hi = lo, self.eps + 0.5 * self.h
        # data on e = -(M-1+J) .. M-1+J, kernels on w = -J .. J; output at e = 0 .. M-1
        self.D = M - 1 + J
        self.conv_size = sfft.next_fast_len((2 * self.D + 1) + (2 * J + 1) - 1, real=True)
        g = a2f.values
        self._a2f_odd = np.concatenate([-g[:0:-1], g])  # sign(w) a2F(|w|), w = -J..J
        self._hilbert = Hilbert(M)
        self._f_tail = fermi(self.h * np.arange(M + J), self.T)
        self._n_tail = bose(a2f.omega, self.T)
        self._n_tail[0] = 0.0

    # -- pieces -----------------------------------------------------------------------
    def coarsened(self):
        """The same model on every second point of the energy grid (step ``2h``; ``alpha^2F``
        sampled at every second point), for the extrapolation of ``critical_temperature``."""
        g = self.grid
        grid = EnergyGrid.from_max(2 * g.step, (g.size - 1) * g.step, g.debye)
        a2f = Alpha2F(2 * g.step, self.a2f.values[::2].copy(), self.a2f.label)
        return EliashbergSolver(grid, a2f, mu_star=self.mu_star, cutoff=(self.M - 1) * self.h, gamma=self.gamma,
                                bath_temperature=self.T, delta_ref=self.delta_ref, tol=self.tol,
                                max_iter=self.max_iter, history=self.history, beta=self.beta,
                                lhs_floor=self.lhs_floor)

    def extend(self, f, n):
        """Occupations on the self-energy grid: the cell's ``f`` (C, N) then the bath Fermi
        function (length M + J); ``n`` on ``Omega_j``, j = 0..J (the cell's n on the kinetic
        grid, the bath beyond)."""
        C = len(f)
        fe = np.tile(self._f_tail, (C, 1))
        fe[:, : self.N] = f
        ne = np.tile(self._n_tail, (C, 1))
        k = min(self.N, self.J + 1)
        inside = self.grid.phonon_mask[:k]
        ne[:, :k] = np.where(inside, n[:, :k], ne[:, :k])
        return fe, ne

    def spectra(self, Z, phi):
        if len(Z) > 1:
            return by_row(self.spectra, Z, phi)
        delta = phi / Z
        s, p = spectral_cell_averages(self._lo, self._hi, delta, self.gamma)
        rho = np.maximum(s.real / self.h, 0.0)
        varphi = p.real / self.h
        return rho, varphi

    def imaginary_parts(self, rho, varphi, fe, ne):
        """``Im[eps Z]`` and ``Im[phi]`` at ``eps_k``, k < M (C, M)."""
        C, M, J, D = len(rho), self.M, self.J, self.D
        Nf = np.ones((C, D + 1)); Nf[:, :M] = rho
        Pf = np.zeros((C, D + 1)); Pf[:, :M] = varphi
        Ff = fe[:, : D + 1] if fe.shape[1] >= D + 1 else np.pad(fe, ((0, 0), (0, D + 1 - fe.shape[1])))
        # full axis e = -D .. D
        Nt = np.concatenate([Nf[:, :0:-1], Nf], axis=1)
        Pt = np.concatenate([-Pf[:, :0:-1], Pf], axis=1)
        Ft = np.concatenate([1.0 - Ff[:, :0:-1], Ff], axis=1)
        a2f = self.a2f.values
        g = np.tile(self._a2f_odd, (C, 1))
        # g (1 + n_b(w)): a2F (1 + n) for w > 0, a2F n for w < 0
        g1 = np.concatenate([(a2f * ne)[:, :0:-1], a2f * (1.0 + ne)], axis=1)
        L = self.conv_size
        Nh, NFh, Ph, PFh = sfft.rfft(np.stack([Nt, Nt * Ft, Pt, Pt * Ft]), L, axis=-1)
        G, G1 = sfft.rfft(np.stack([g, g1]), L, axis=-1)
        out = sfft.irfft(np.stack([G1 * Nh - G * NFh, G1 * Ph - G * PFh]), L, axis=-1)
        sl = slice(D + J, D + J + M)  # energy index 0 .. M-1
        scale = np.pi * self.h
        return scale * out[0][:, sl], scale * out[1][:, sl]

    def real_parts(self, im_ez, im_phi, varphi, fe):
        """``Re Z`` and ``Re phi`` by Kramers-Kronig (+ the Coulomb term)."""
        M = self.M
        # Im Z = Im[eps Z]/eps: drop the c/eps part (no transform off eps = 0), odd extension
        r = im_ez - im_ez[:, :1]
        im_z = np.zeros_like(r)
        im_z[:, 1:] = r[:, 1:] / self.eps[1:]
        full_z = np.concatenate([-im_z[:, :0:-1], im_z], axis=1)
        full_p = np.concatenate([-im_phi[:, :0:-1], im_phi], axis=1)
        hz, hp = self._hilbert(np.stack([full_z, full_p]))
        re_z = 1.0 + hz[:, M - 1:]
        re_phi = hp[:, M - 1:]
        if self.mu_star:
            coulomb = -self.mu_star * self.h * np.sum(varphi * (1.0 - 2.0 * fe[:, :M]), axis=1)
            re_phi = re_phi + coulomb[:, None]
        return re_z, re_phi

    def iteration_spectra(self, Z, phi):
        """The hat averages of ``rho`` and ``varphi`` that the iteration convolves
        (``eliashberg_spectra.hat_averages``; the kinetic equation gets cell averages)."""
        if len(Z) > 1:
            return by_row(self.iteration_spectra, Z, phi)
        r, p = hat_averages(self.eps, self.h, phi / Z, self.gamma)
        return np.maximum(r.real, 0.0), p.real

    def iterate(self, Z, phi, fe, ne):
        rho, varphi = self.iteration_spectra(Z, phi)
        im_ez, im_phi = self.imaginary_parts(rho, varphi, fe, ne)
        re_z, re_phi = self.real_parts(im_ez, im_phi, varphi, fe)
        im_z = np.zeros_like(im_ez)
        im_z[:, 1:] = im_ez[:, 1:] / self.eps[1:]
        return re_z + 1j * im_z, re_phi + 1j * im_phi

    # -- the solve ----------------------------------------------------------------------
    def initial_guess(self, cells, delta=None):
        d = self.delta_ref if delta is None else delta
        Z = np.full((cells, self.M), 1.0 + self.lam, complex)
        phi = Z * np.asarray(d, float).reshape(-1, 1) * np.ones((1, self.M))
        return Z, phi

    def solve(self, f, n, guess=None):
        """Self-energies for occupations ``f``, ``n`` (C, N); ``guess``: a previous
        ``Solution`` (warm start) or None (BCS start, ``cold_solve``). Each cell is solved
        alone (the same arithmetic whatever the batch, see ``eliashberg_spectra.by_row``);
        it is no slower than the batch."""
        f, n = np.atleast_2d(f), np.atleast_2d(n)
        if len(f) > 1:
            return self._solve_each(f, n, guess)
        fe, ne = self.extend(f, n)
        if guess is None:
            x, iters, resid = self._scheduled(fe, ne, None, COLD_SCHEDULE)
        else:
            x, iters, resid = self._scheduled(fe, ne, np.concatenate([guess.Z, guess.phi], axis=1), WARM_SCHEDULE)
        Z, phi = x[:, :self.M], x[:, self.M:]
        rho, varphi = self.spectra(Z, phi)
        return Solution(Z, phi, rho, varphi, self.gap_edge(Z, phi), np.array([iters]), np.array([resid]))

    def _solve_each(self, f, n, guess):
        """``solve`` of each cell alone; an error names the cell's index in the batch."""
        rows = []
        for c in range(len(f)):
            try:
                rows.append(self.solve(f[c:c + 1], n[c:c + 1], None if guess is None else guess.row(c)))
            except SolverError as exc:
                raise SolverError(str(exc).replace("(cell 0:", f"(cell {c}:")) from None
        return Solution.stack(rows)

    def _scheduled(self, fe, ne, x0, schedule):
        """The solve from ``x0`` (None: the BCS start) with each (damped steps, mixing over
        ``beta``) of ``schedule`` in turn (``COLD_SCHEDULE``, ``WARM_SCHEDULE``) until one
        converges to a superconducting state (gap edge > 0). ``phi = 0`` is a fixed point
        too, unstable for plain iteration but reachable by Anderson mixing from far away;
        and where the gap edge and a sharp edge of ``alpha^2F`` meet, the map changes
        faster than Anderson's secant model follows, while damped steps still contract.
        If no try ends superconducting, the first normal state found is returned (the model
        may be normal at these occupations; the caller decides); if every try fails the
        last error is raised."""
        total, error, normal = 0, None, None
        for damped, mixing in schedule:
            start = np.concatenate(self.initial_guess(1), axis=1) if x0 is None else x0
            try:
                x, iters, resid = self._fixed_point(start, fe, ne, damped, mixing * self.beta)
            except SolverError as exc:
                total, error = total + self.max_iter, exc
                continue
            total += iters
            if self.gap_edge(x[:, :self.M], x[:, self.M:])[0] > 0:
                return x, total, resid
            normal = normal or (x, resid)
        if normal is None:
            raise error
        return normal[0], total, normal[1]

    def _fixed_point(self, x, fe, ne, damped, beta):
        """Iterate the one-cell ``x = (Z, phi)`` (1, 2M) to the fixed point of ``iterate``:
        ``damped`` plain steps ``x + beta (G(x) - x)``, then Anderson mixing with ``beta``
        (docs/numerics.md, "Eliashberg self-energies: FFT sums, Hilbert transform, Anderson
        iteration"). When the change has not reached a new minimum for ``history + 2``
        iterations the mixing restarts from the best iterate with half the mixing
        parameter (down to 1/64 of it). Returns ``(x, iterations, residual)``; no
        convergence in ``max_iterations`` raises."""
        M = self.M
        hist, best, since, beta0 = [], (np.inf, x), 0, beta
        for it in range(self.max_iter):
            Zn, pn = self.iterate(x[:, :M], x[:, M:], fe, ne)
            gx = np.concatenate([Zn, pn], axis=1)
            change = float(np.max(np.abs(pn / Zn - x[:, M:] / x[:, :M]))) / self.delta_ref
            if change < self.tol:
                # the map value, except for a warm start that is already a fixed point: it
                # is kept as it is, so unchanged occupations leave the spectra bitwise
                # unchanged (no remap noise, no condensate exchange)
                return (gx if it > 0 else x), it + 1, change
            if change < best[0]:
                best, since = (change, x), 0
            else:
                since += 1
                if best[0] < ROUNDOFF_FACTOR * self.tol and since > self.history + 2:
                    return best[1], it + 1, best[0]
            if it < damped:
                x = x + beta * (gx - x)
            elif since > self.history + 2 and beta > beta0 / 64:
                beta, x, hist, since = 0.5 * beta, best[1], [], 0
            else:
                hist = (hist + [(x, gx)])[-(self.history + 1):]
                x = _anderson(hist, beta)
        raise SolverError(f"Eliashberg iteration did not converge in {self.max_iter} iterations "
                          f"(cell 0: max |Delta change| = {best[0]:.3g} Delta_ref, tolerance {self.tol:g})")

    def gap_edge(self, Z, phi):
        """First root of ``Re Delta(eps) = eps`` on this solver's grid (``eliashberg_spectra.gap_edge``)."""
        return gap_edge(Z, phi, self.eps, self.h)

    @contextmanager
    def bath_at(self, temperature):
        """Within the block, the bath beyond the kinetic grid is at ``temperature`` (at
        ``T = 0``: ``f`` a step, ``n = 0``, as ``mu_star.fit_mu_star`` needs); restored after it."""
        saved = self.T, self._f_tail, self._n_tail
        self.T = float(temperature)
        self._f_tail = fermi(self.h * np.arange(len(self._f_tail)), self.T)
        self._n_tail = bose(self.a2f.omega, self.T) if self.T > 0 else np.zeros_like(self._n_tail)
        self._n_tail[0] = 0.0
        try:
            yield self
        finally:
            self.T, self._f_tail, self._n_tail = saved

    def zero_temperature_bath(self):
        """``bath_at(0)``."""
        return self.bath_at(0.0)

    # -- what the kinetic equation uses ------------------------------------------------
    def lhs_factor(self, sol: Solution):
        """The left-hand-side factor ``L / (1 + lambda)`` of eq. (178) on the kinetic grid
        (C, N), before the floor of ``kinetic_factors`` (1 where no states)."""
        N, h = self.N, self.h
        z1, p1 = sol.Z.real, sol.phi.real
        dez1 = np.gradient(self.eps * z1, h, axis=1)[:, :N]   # Z_1 + eps dZ_1/deps
        dp1 = np.gradient(p1, h, axis=1)[:, :N]
        rho, varphi = sol.rho[:, :N], sol.varphi[:, :N]
        has = rho > 1e-14
        ratio = np.where(has, varphi / np.where(has, rho, 1.0), 0.0)
        return np.where(has, (dez1 - ratio * dp1) / (1.0 + self.lam), 1.0)

    def kinetic_factors(self, sol: Solution):
        """``(rho, varphi, ell)`` on the kinetic grid (C, N): cell averages and the
        left-hand-side factor ``ell = max(L / (1 + lambda), lhs_floor)`` of eq. (178) (1
        where no states). Where ``L`` falls below the floor (above ``Delta_0 + Omega`` of a
        strong coupler, where ``eps Z_1`` falls with ``eps``) the gradient expansion behind
        eq. (178) fails; docs/physics.md, "Left-hand-side factor", says what the floor does."""
        N = self.N
        rho, varphi = sol.rho[:, :N], sol.varphi[:, :N]
        has = rho > 1e-14
        ell = np.maximum(self.lhs_factor(sol), self.lhs_floor)
        return np.where(has, rho, 0.0), np.where(has, varphi, 0.0), ell

    def floored(self, sol: Solution):
        """Where ``kinetic_factors`` floors ``ell`` in the first cell of ``sol``: the number
        of energy points and their lowest and highest energy (None if none)."""
        k = np.nonzero(self.lhs_factor(sol.row(0))[0] < self.lhs_floor)[0]
        return (len(k), float(self.eps[k[0]]), float(self.eps[k[-1]])) if len(k) else None


def minimum_cutoff(lam):
    """The smallest ``cutoff_over_omega_max`` (``L / Omega_max``) for a coupling ``lam``:
    ``max(1, 1 + 10 (lambda - 0.5))``, at most 12 (docs/numerics.md, "Self-energy cutoff").
    The gap function of a strong coupler has multi-phonon structure up to several
    ``Omega_max``; a grid that ends inside it changes the gap edge by tens of per cent."""
    return float(min(max(1.0, 1.0 + 10.0 * (lam - 0.5)), 12.0))


def _anderson(hist, beta=1.0):
    """Anderson (type II) update from the last ``(x, g(x))`` pairs, one least-squares
    problem per cell (rows)."""
    g = hist[-1][1]
    m = len(hist) - 1
    if m == 0:
        return hist[-1][0] + beta * (g - hist[-1][0])
    res = [hg - hx for hx, hg in hist]
    dF = np.stack([res[i + 1] - res[i] for i in range(m)], axis=-1)      # (C, K, m)
    dG = np.stack([hist[i + 1][1] - hist[i][1] for i in range(m)], axis=-1)
    A = np.einsum("ckm,ckn->cmn", dF.conj(), dF).real
    b = np.einsum("ckm,ck->cm", dF.conj(), res[-1]).real
    reg = 1e-12 * np.trace(A, axis1=1, axis2=2)[:, None, None] * np.eye(m) + 1e-300 * np.eye(m)
    gamma = np.linalg.solve(A + reg, b[..., None])[..., 0]
    dX = dG - dF
    x_bar = hist[-1][0] - np.einsum("ckm,cm->ck", dX, gamma)
    f_bar = res[-1] - np.einsum("ckm,cm->ck", dF, gamma)
    return x_bar + beta * f_bar
