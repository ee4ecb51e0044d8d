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
  fourth-order correction (``hilbert``), a convolution done with zero-padded FFTs; the
  ``1/y`` tail beyond the grid top ``L`` is added in closed form. A ``c/eps`` part of
  ``Im Z`` (finite temperature) has no Hilbert transform off ``eps = 0`` and is removed
  first. The Coulomb pseudopotential adds the constant
  ``phi_c = -mu* int_0^{omega_c} varphi(eps) (1 - 2 f(eps)) d eps`` (``omega_c = L``).
* Spectral functions, eqs. (166)-(167), with ``Delta = phi / Z``:
  ``rho = Re[eps / sqrt(eps^2 - Delta^2)]``, ``varphi = Re[Delta / sqrt(eps^2 - Delta^2)]``
  (principal root, ``Re sqrt >= 0``, so ``rho >= 0``; ``eps -> eps + i Gamma`` with Dynes
  broadening), averaged over each energy cell in closed form with the cell's ``Delta``,
  as ``energy_grid`` does for BCS: the kinetic equation sees the same cell averages.
* Iteration from the BCS guess (``Z = 1 + lambda``, ``phi = Z Delta``), Anderson-accelerated
  fixed-point iteration, per cell independently (a cell's iterations never depend on the
  others), until ``max |Delta_new - Delta| < tol Delta_ref``; non-convergence raises.

Derived per cell (``Solution``): the gap edge ``Delta_0`` (``Re Delta(Delta_0) = Delta_0``),
``Z_1 = Re Z``, ``phi_1 = Re phi`` and their derivatives, and the left-hand-side factor
of eq. (178), ``L = Z_1 + eps dZ_1/deps - (varphi/rho) dphi_1/deps``. The kinetic
rates use ``1/tau_0``, and Kaplan's ``tau_0`` already contains ``Z_1(0) = 1 + lambda``;
the factor applied to ``df/dt`` is therefore ``ell = L / (1 + lambda)`` (1 in the BCS limit).
"""
from dataclasses import dataclass, fields

import numpy as np
from scipy import fft as sfft

from boltzphlow_mpi.errors import InputError, SolverError
from boltzphlow_mpi.physics.statistics import bose, fermi


# -- alpha^2 F ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Alpha2F:
    """``alpha^2F`` sampled at ``Omega_j = j h`` (j = 0 .. J), internal units."""

    step: float
    values: np.ndarray
    label: str

    @property
    def omega(self):
        return self.step * np.arange(len(self.values))

    @property
    def lam(self):
        """``lambda = 2 int alpha^2F / Omega`` (grid sum)."""
        w = self.omega[1:]
        return float(2.0 * self.step * np.sum(self.values[1:] / w))

    @property
    def omega_max(self):
        nz = np.nonzero(self.values > 0)[0]
        return float(self.omega[nz[-1]]) if len(nz) else 0.0

    @property
    def omega_log(self):
        """``omega_ln = exp[(2/lambda) int ln(Omega) alpha^2F / Omega]``."""
        w, v = self.omega[1:], self.values[1:]
        return float(np.exp(2.0 * self.step * np.sum(np.log(w) * v / w) / self.lam))

    def _scaled(self, lam):
        return Alpha2F(self.step, self.values * (lam / self.lam), self.label)

    @classmethod
    def debye(cls, step, omega_d, lam):
        """``b Omega^2`` up to ``Omega_D``, ``b`` such that the grid ``lambda`` is ``lam``."""
        j = np.arange(int(np.floor(omega_d / step + 1e-9)) + 1)
        return cls(step, (step * j) ** 2, f"Debye, Omega_D = {omega_d:g}")._scaled(lam)

    @classmethod
    def einstein(cls, step, omega_e, width, lam):
        """Narrow Lorentzian at ``Omega_E`` (half width ``width``), cut at ``+- 10 width``."""
        if width < 6 * step:
            raise InputError("gap.width_meV", width, "a width of at least 6 energy steps "
                             "(the grid must resolve the Lorentzian)")
        if omega_e - 10 * width <= 0:
            raise InputError("gap.width_meV", width, "a width below Omega_E / 10")
        j = np.arange(int(np.ceil((omega_e + 10 * width) / step)) + 1)
        w = step * j
        v = np.where(np.abs(w - omega_e) <= 10 * width, width / np.pi / ((w - omega_e) ** 2 + width ** 2), 0.0)
        return cls(step, v, f"Einstein, Omega_E = {omega_e:g}, width {width:g}")._scaled(lam)

    @classmethod
    def tabulated(cls, step, energy, values, label):
        """Linear interpolation of a table (energies and values in internal units); zero
        outside it. ``lambda`` is that of the table."""
        j = np.arange(int(np.ceil(energy[-1] / step)) + 1)
        v = np.interp(step * j, energy, values, left=0.0, right=0.0)
        v[0] = 0.0
        return cls(step, v, label)


def read_alpha2f_table(path, key="gap.alpha2f"):
    """Two columns, energy in meV and ``alpha^2F``; ``#`` comments. Returns (meV, values)."""
    import warnings
    try:
        with warnings.catch_warnings():  # an empty file: the InputError below says it, not a warning
            warnings.simplefilter("ignore")
            data = np.loadtxt(path, comments="#", ndmin=2)
    except OSError as exc:
        raise InputError(key, path, "'debye', 'einstein' or a readable two-column file", str(exc)) from None
    except ValueError as exc:
        raise InputError(key, path, "a file of two numeric columns (meV, alpha^2F)", str(exc).splitlines()[0]) from None
    if data.shape[1] != 2 or len(data) < 2:
        raise InputError(key, path, "a file of two numeric columns (meV, alpha^2F) with at least 2 rows")
    e, v = data[:, 0], data[:, 1]
    if not (np.all(np.isfinite(data)) and np.all(np.diff(e) > 0) and e[0] >= 0 and np.all(v >= 0)):
        raise InputError(key, path, "increasing energies >= 0 and alpha^2F >= 0, all finite")
    if not np.any(v > 0):
        raise InputError(key, path, "an alpha^2F with some positive values")
    return e, v


# -- Hilbert transform ---------------------------------------------------------------------
def hilbert_weights(m):
    """Weights ``w_m``, ``m = -(m) .. m``: ``H[u](x_k) = sum_j u_j w_{j-k}`` for piecewise-linear u."""
    k = np.arange(-m, m + 1, dtype=float)

    def xlx(x):
        a = np.abs(x)
        return np.where(a > 0, x * np.log(np.where(a > 0, a, 1.0)), 0.0)

    return (xlx(k + 1) - 2 * xlx(k) + xlx(k - 1)) / np.pi


class Hilbert:
    """``(1/pi) P int u(y)/(y - x) dy`` for samples on the symmetric grid ``j h``,
    ``j = -(M-1) .. M-1``: zero-padded FFT convolution with ``hilbert_weights``, applied to
    ``u - (1/12) delta^2 u`` (fourth order for smooth u), plus the closed-form tail of
    ``u(y) = u(+-L) L / y`` beyond ``|y| > L``."""

    def __init__(self, m):
        self.M = m
        n = 2 * m - 1
        self.size = sfft.next_fast_len(3 * n - 2, real=True)
        w = hilbert_weights(n - 1)  # shifts -(n-1) .. n-1
        # out_k = sum_j u_j w_{j-k} = sum_j u_j wr_{k-j}, wr_s = w_{-s} = -w_s
        self._what = sfft.rfft(-w, self.size)
        self.n = n
        x = np.arange(-(m - 1), m, dtype=float)
        top = m - 0.5  # the tail starts half a step above the last node (in units of h)
        with np.errstate(divide="ignore", invalid="ignore"):
            # (1/pi) int_{|y|>L} (L/y)/(y - x) dy = L ln((L + x)/(L - x)) / (pi x), per unit u(L)
            tail = np.where(x != 0, top / (np.pi * x) * np.log((top + x) / (top - x)), 2.0 / np.pi)
        self._tail = tail  # per unit u(L), for an odd u; in units where h = 1 (scale free)

    def __call__(self, u, odd_tail=True):
        """``u`` shape (..., 2M-1) on ``j = -(M-1) .. M-1``."""
        u = np.asarray(u)
        d2 = np.zeros_like(u)
        d2[..., 1:-1] = u[..., 2:] - 2 * u[..., 1:-1] + u[..., :-2]
        v = u - d2 / 12.0
        out = sfft.irfft(sfft.rfft(v, self.size, axis=-1) * self._what, self.size, axis=-1)
        out = out[..., self.n - 1: 2 * self.n - 1]
        if odd_tail:
            out = out + u[..., -1:] * self._tail
        return out


# -- spectral functions ---------------------------------------------------------------------
def spectral_cell_averages(lo, hi, delta, gamma=0.0):
    """Cell averages of ``Re[z / sqrt(z^2 - D^2)]`` and ``Re[D / sqrt(z^2 - D^2)]`` over
    ``[lo, hi]`` (``z = eps + i Gamma``, principal root) for complex ``delta`` (..., K),
    divided by ``h = hi - lo`` of a full cell (the half cell at 0 keeps ``h``, as in
    ``energy_grid``)."""
    d = np.asarray(delta, complex)

    def anti(e):
        z = e + 1j * gamma
        s = np.sqrt(z * z - d * d)  # principal branch: Re s >= 0, continuous along the cell
        return s, d * np.log(z + s)

    s_hi, p_hi = anti(hi)
    s_lo, p_lo = anti(lo)
    return s_hi - s_lo, p_hi - p_lo


@dataclass
class Solution:
    """Self-energies of a batch of cells on the self-energy grid ``eps_k = k h``, k < M,
    and what the kinetic equation needs on the kinetic grid (first N points)."""

    Z: np.ndarray          # (C, M) complex
    phi: np.ndarray        # (C, M) complex
    rho: np.ndarray        # (C, M) cell averages
    varphi: np.ndarray     # (C, M)
    edge: np.ndarray       # (C,) gap edge Delta_0
    iterations: np.ndarray  # (C,)
    residual: np.ndarray   # (C,) final max |Delta change| / Delta_ref

    @property
    def delta(self):
        return self.phi / self.Z

    @classmethod
    def stack(cls, rows):
        """One solution of the cells of several (one-cell) solutions."""
        return cls(*(np.concatenate([getattr(r, f.name) for r in rows]) for f in fields(cls)))


def _by_row(func, *arrays):
    """``func`` applied to each row (1, ...) of the arrays alone, the outputs stacked.

    numpy's SIMD kernels may treat an element differently by its position in the array
    (on an AVX-512 CPU the complex product ``d * log(z + s)`` of ``spectral_cell_averages``
    gives a row of a batch other bits than the same row alone), so a batched complex
    expression can give a cell other bits than the same cell alone.
    Row by row, a cell's spectra do not depend on which cells share its rank (results are
    bitwise rank independent, docs/numerics.md, "Rank independence")."""
    outs = [func(*(a[c:c + 1] for a in arrays)) for c in range(len(arrays[0]))]
    if not outs:
        return func(*arrays)
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outs))
    return np.concatenate(outs)


class EliashbergSolver:
    """Vectorised real-axis Eliashberg solver for the cells of one energy grid."""

    def __init__(self, grid, a2f: Alpha2F, *, mu_star=0.0, cutoff=None, gamma=0.0,
                 bath_temperature=0.0, delta_ref, tol=1e-10, max_iter=400, history=6, beta=0.5):
        """``grid``: the kinetic ``EnergyGrid`` (same step as ``a2f``); ``cutoff``: top ``L``
        of the self-energy grid (default ``max(grid top, 3 Omega_max)``); ``delta_ref``:
        the gap scale of the tolerance and of the BCS start."""
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
            return _by_row(self.spectra, Z, phi)
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

    def iterate(self, Z, phi, fe, ne):
        rho, varphi = self.spectra(Z, phi)
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
        ``Solution`` (warm start) or None (BCS start). Each cell is solved alone (the same
        arithmetic whatever the batch, see ``_by_row``); it is no slower than the batch."""
        f, n = np.atleast_2d(f), np.atleast_2d(n)
        if len(f) > 1:
            rows = []
            for c in range(len(f)):
                one = None if guess is None else Solution(*(getattr(guess, k.name)[c:c + 1] for k in fields(Solution)))
                try:
                    rows.append(self.solve(f[c:c + 1], n[c:c + 1], one))
                except SolverError as exc:
                    raise SolverError(str(exc).replace("(cell 0:", f"(cell {c}:")) from None
            return Solution.stack(rows)
        C = len(f)
        fe, ne = self.extend(f, n)
        if guess is None:
            Z, phi = self.initial_guess(C)
        else:
            Z, phi = guess.Z.copy(), guess.phi.copy()
        x = np.concatenate([Z, phi], axis=1)
        M = self.M
        iters = np.zeros(C, int)
        resid = np.full(C, np.inf)
        idx = np.arange(C)       # cells still iterating
        hist = []                # (x, g(x)) of the last iterations, rows = idx
        for it in range(self.max_iter):
            xa = x[idx]
            Zn, pn = self.iterate(xa[:, :M], xa[:, M:], fe[idx], ne[idx])
            gx = np.concatenate([Zn, pn], axis=1)
            change = np.max(np.abs(pn / Zn - xa[:, M:] / xa[:, :M]), axis=1) / self.delta_ref
            resid[idx] = change
            iters[idx] = it + 1
            conv = change < self.tol
            if guess is None and it < 10:
                # cold start: plain damped iterations first. phi = 0 is a fixed point too
                # (unstable for plain iteration), and Anderson mixing from far away can land on it
                new, hist = xa + self.beta * (gx - xa), []
            else:
                hist = (hist + [(xa, gx)])[-(self.history + 1):]
                new = self._anderson(hist, self.beta)
            # converged cells stop at their map value; a warm start that is already a fixed
            # point (first iteration) is kept as it is, so unchanged occupations leave the
            # spectra bitwise unchanged (no remap noise, no condensate exchange)
            stop = gx if it > 0 else xa
            x[idx] = np.where(conv[:, None], stop, new)
            keep = ~conv
            idx = idx[keep]
            hist = [(a[keep], b[keep]) for a, b in hist]
            if len(idx) == 0:
                break
        if len(idx):
            bad = int(idx[np.argmax(resid[idx])])
            raise SolverError(f"Eliashberg iteration did not converge in {self.max_iter} iterations "
                              f"(cell {bad}: max |Delta change| = {resid[bad]:.3g} Delta_ref, tolerance {self.tol:g})")
        Z, phi = x[:, :M], x[:, M:]
        rho, varphi = self.spectra(Z, phi)
        return Solution(Z, phi, rho, varphi, self.gap_edge(Z, phi), iters, resid)

    @staticmethod
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

    def gap_edge(self, Z, phi):
        """First root of ``Re Delta(eps) = eps`` (linear interpolation between grid points)."""
        if len(Z) > 1:
            return _by_row(self.gap_edge, Z, phi)
        d = (phi / Z).real
        s = d - self.eps
        below = s <= 0
        k = np.where(below.any(axis=1), np.argmax(below, axis=1), self.M - 1)
        k = np.maximum(k, 1)
        rows = np.arange(len(Z))
        s0, s1 = s[rows, k - 1], s[rows, k]
        t = np.where(s0 != s1, s0 / np.where(s0 != s1, s0 - s1, 1.0), 0.0)
        return self.eps[k - 1] + t * self.h

    # -- what the kinetic equation uses ------------------------------------------------
    def kinetic_factors(self, sol: Solution):
        """``(rho, varphi, ell)`` on the kinetic grid (C, N): cell averages and the
        left-hand-side factor ``ell = L / (1 + lambda)`` of eq. (178) (1 where no states)."""
        N, h = self.N, self.h
        z1, p1 = sol.Z.real, sol.phi.real
        ez1 = self.eps * z1
        dez1 = np.gradient(ez1, h, axis=1)[:, :N]   # Z_1 + eps dZ_1/deps
        dp1 = np.gradient(p1, h, axis=1)[:, :N]
        rho, varphi = sol.rho[:, :N], sol.varphi[:, :N]
        has = rho > 1e-14
        ratio = np.where(has, varphi / np.where(has, rho, 1.0), 0.0)
        ell = np.where(has, (dez1 - ratio * dp1) / (1.0 + self.lam), 1.0)
        if np.any(ell <= 0):
            c, k = np.argwhere(ell <= 0)[0]
            raise SolverError(f"Eliashberg left-hand-side factor L(eps) <= 0 at eps = {self.eps[k]:.4g} k_B T_c "
                              f"(cell {c}): the self-energies are not smooth enough on this grid")
        return np.where(has, rho, 0.0), np.where(has, varphi, 0.0), ell

    def fit_mu_star(self, target_edge, lo=-0.5, hi=0.9, tol=1e-10):
        """``mu*`` for which the gap edge at ``T = 0`` (``f = n = 0``) is ``target_edge``.
        The edge falls as ``mu*`` grows: a bracket is found in steps of 0.02 from a
        McMillan-type estimate (warm-started solves), then Brent's method on ``log(edge / target)``. Returns ``(mu_star, Solution)``."""
        from scipy.optimize import brentq
        f0 = fermi(self.grid.x, 0.0)[None, :]
        n0 = np.zeros((1, self.N))
        saved = self.T, self._f_tail, self._n_tail, self.mu_star
        self.T = 0.0
        self._f_tail = fermi(self.h * np.arange(len(self._f_tail)), 0.0)
        self._n_tail = np.zeros_like(self._n_tail)
        last = {}

        def g(mu):
            self.mu_star = mu
            prev = last.get("sol")
            # a collapsed gap (phi = 0) is a fixed point: never warm-start from one
            warm = prev if prev is not None and prev.edge[0] > 0.1 * target_edge else None
            sol = self.solve(f0, n0, warm)
            last["sol"], last["mu"] = sol, mu
            return np.log(max(float(sol.edge[0]), 1e-300) / target_edge)

        cache = {}

        def gc(mu):
            if mu not in cache:
                cache[mu] = g(mu)
            return cache[mu]

        try:
            # start near the McMillan-type estimate Delta ~ 2 omega_ln exp[-(1+lambda)/(lambda-mu*)]
            # and march in small steps, warm-starting each solve from the last: the trivial
            # solution phi = 0 is also a fixed point, and a cold start far from the answer can
            # converge to it
            guess = self.lam - (1 + self.lam) / np.log(max(2.0 * self.a2f.omega_log / target_edge, 1.5))
            a = float(np.clip(round(guess, 2), lo, hi))
            ga = gc(a)
            step = 0.02 if ga > 0 else -0.02
            b, gb = a, ga
            while np.sign(gb) == np.sign(ga) and gb != 0:
                a, ga = b, gb
                b = round(b + step, 12)
                if not lo <= b <= hi:
                    raise SolverError(f"mu* fit: no mu* in [{lo:g}, {hi:g}] gives the T = 0 gap edge "
                                      f"{target_edge:.6g} k_B T_c with this alpha^2F (lambda = {self.lam:.4g})")
                gb = gc(b)
            mu = b if gb == 0 else brentq(gc, min(a, b), max(a, b), xtol=1e-13, rtol=tol)
            if last.get("mu") != mu:
                g(mu)
            return mu, last["sol"]
        finally:
            self.T, self._f_tail, self._n_tail = saved[:3]


# -- T_c from the linearised imaginary-axis equations (an independent route) -------------------
def matsubara_kernel_eigenvalue(a2f: Alpha2F, temperature, mu_star=0.0, omega_c=None, n_max=None):
    """Largest eigenvalue of the linearised Eliashberg gap equation on the Matsubara axis
    (isotropic, even-frequency gap ``Delta_{-n-1} = Delta_n``)::

        Z_n = 1 + (pi T / w_n) sum_m lambda(n - m) sign(w_m)
        Z_n Delta_n = pi T sum_m [lambda(n - m) - mu* theta(w_c - |w_m|)] Delta_m / |w_m|

    with ``lambda(k) = 2 int Omega alpha^2F / (Omega^2 + (2 pi T k)^2)``; ``T_c`` is where it
    equals 1. Internal units."""
    T = float(temperature)
    wc = omega_c if omega_c is not None else 10.0 * a2f.omega_max
    n = n_max if n_max is not None else max(8, int(np.ceil(wc / (2 * np.pi * T))))
    w = np.pi * T * (2 * np.arange(n) + 1)                   # w_n, n = 0 .. n-1
    om, v = a2f.omega[1:], a2f.values[1:]
    k = np.arange(2 * n + 1)
    lam_k = 2.0 * a2f.step * np.sum(om * v / (om[None, :] ** 2 + (2 * np.pi * T * k[:, None]) ** 2), axis=1)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    same, mirror = lam_k[np.abs(i - j)], lam_k[i + j + 1]     # w_m > 0 and w_{-m-1} = -w_m
    # sum_m lambda(n - m) sign(w_m) = lambda(0) + 2 sum_{k=1..n} lambda(k)
    Z = 1.0 + (np.pi * T / w) * (lam_k[0] + 2.0 * np.concatenate([[0.0], np.cumsum(lam_k[1:n])]))
    coul = mu_star * (w[None, :] <= wc)
    K = np.pi * T * (same + mirror - 2.0 * coul) / (Z[:, None] * w[None, :])
    return float(np.max(np.real(np.linalg.eigvals(K))))


def matsubara_tc(a2f: Alpha2F, mu_star=0.0, lo=None, hi=None):
    """``T_c`` (internal units) where the largest eigenvalue of the linearised gap equation
    is 1 (bisection in ``log T``)."""
    from scipy.optimize import brentq
    lo = lo if lo is not None else 1e-3 * a2f.omega_log
    hi = hi if hi is not None else 1.0 * a2f.omega_max
    g = lambda lt: matsubara_kernel_eigenvalue(a2f, np.exp(lt), mu_star) - 1.0  # noqa: E731
    return float(np.exp(brentq(g, np.log(lo), np.log(hi), xtol=1e-10)))
