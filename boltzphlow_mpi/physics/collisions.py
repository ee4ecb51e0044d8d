"""Chang-Scalapino collision integrals on the shared energy grid (docs/physics.md, "Collision
integrals"; docs/numerics.md, "Collision integrals: FFT and direct").

Internal units: energies k_B T_c, time tau_0. With the QP arrays (cells, N)

    a = rho f,  b = phi f,  c = rho (1 - f),  d = phi (1 - f)

and the phonon arrays ``p0 = g n``, ``p1 = g (1 + n)`` (``g = Omega^2`` on the phonon
band, the Debye alpha^2F), every term of eqs. (35)-(37) and (39)-(40) is one of three
grid sums,

    corr(p, q)_i  = sum_j p_j q_{i+j}      (partner above:  E' = E + Omega)
    conv(p, q)_i  = sum_j p_j q_{i-j}      (partner below:  E' = E - Omega; Omega = E + E')
    hcorr(p, q)_i = sum_k p_{i+k} q_k      (pair partner:   Omega = E + E')

and the rates take the gain-loss form ``C_f = (1 - f) A - f B``, ``C_n = (1 + n) A' - n B'``:

    A  = h [corr(p1,a) + conv(p0,a) + hcorr(p0,c)] - r h [corr(p1,b) + conv(p0,b) - hcorr(p0,d)]
    B  = h [corr(p0,c) + conv(p1,c) + hcorr(p1,a)] - r h [corr(p0,d) + conv(p1,d) - hcorr(p1,b)]
    A' = h [c_s (corr(c,a) - corr(d,b)) + c_r (conv(a,a) + conv(b,b))]
    B' = h [c_s (corr(a,c) - corr(b,d)) + c_r (conv(c,c) + conv(d,d))]

with ``r = phi/rho`` of the cell's own energy (the ``Delta^2/E`` of the coherence factor),
``c_s = (tau_0/tau_0^phi) 2/(pi delta_0)`` and ``c_r = c_s / 2`` (the prefactors). Scattering
(35), recombination (36), pair breaking (37), and the phonon terms (39)-(40) are all in
there: the first two sums of A and B are phonon absorption/emission, the ``hcorr`` sums
recombination (B) and pair breaking (A). Because each pair of states enters the QP and
the phonon equations with the same symmetric weight, detailed balance and
``d(E_qp + E_ph)/dt = 0`` hold on the grid to round-off for any f, n.

Two evaluations of the same sums: ``direct`` (O(N^2) loops over the energy shift, the
reference) and ``fft`` (zero-padded real FFTs, O(N log N); seven forward transforms,
the inverse transforms combined in Fourier space). Both are batched over cells.
"""
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from boltzphlow_mpi.physics.energy_grid import EnergyGrid, Spectra


@dataclass
class Coefficients:
    """Gain/loss coefficients, arrays (cells, N): ``C_f = (1-f)A - fB``, ``C_n = (1+n)A' - nB'``."""

    A: np.ndarray
    B: np.ndarray
    Ap: np.ndarray
    Bp: np.ndarray


class CollisionKernel:
    """Evaluates the collision coefficients for a batch of cells.

    ``tau_ratio``: tau_0 / tau_0^phi; ``delta0``: Delta_0 / k_B T_c (the prefactors of
    docs/physics.md, "Collision integrals").
    """

    #: largest total tilt ``alpha (N - 1)`` (so tilted products stay below e^600)
    MAX_TILT = 300.0

    def __init__(self, grid: EnergyGrid, tau_ratio, delta0, method="fft", tail_temperature=None):
        """``tail_temperature`` (k_B T_c; the bath's): with ``fft``, the gains ``A``, ``A'``
        whose sums decay like ``exp(-E/T)`` are also evaluated exponentially tilted (see
        ``_tilted_gains``) so that cold tails are not FFT round-off; None: plain FFT."""
        if method not in ("fft", "direct"):
            raise ValueError(f"method = {method!r}: expected 'fft' or 'direct'")
        self.grid, self.method = grid, method
        self.coupling = grid.coupling
        self.phonon_mask = grid.phonon_mask
        self.c_scatter = tau_ratio * 2.0 / (np.pi * delta0)
        self.c_pair = 0.5 * self.c_scatter
        n = grid.size
        self.fft_size = sfft.next_fast_len(2 * n - 1, real=True)
        self._coupling_hat = sfft.rfft(self.coupling, self.fft_size)
        self.tilt = None
        if method == "fft" and tail_temperature is not None and tail_temperature > 0 and n > 1:
            self.tilt = min(grid.step / tail_temperature, self.MAX_TILT / (n - 1))  # per grid index

    def coefficients(self, f, n, spectra: Spectra, clip=True):
        """A, B, A', B' for occupations f, n (cells, N). ``clip`` removes FFT round-off
        below zero (docs/numerics.md, "Precision"); the coefficients are >= 0 by construction."""
        f = np.atleast_2d(f)
        n = np.atleast_2d(n)
        rho, phi = spectra.rho, spectra.phi
        qp = (rho * f, phi * f, rho * (1.0 - f), phi * (1.0 - f))
        p0 = self.coupling * n
        # Pair processes need both QPs above the gap, so only phonons with index
        # j >= 2 k0 (k0: first cell with states) take part. Cutting the pair inputs to that
        # support is exact and keeps FFT round-off of the large sub-gap phonon population
        # out of the (exponentially small) thermal pair-breaking rates.
        has_states = spectra.rho > 0
        first = np.where(has_states.any(axis=1), np.argmax(has_states, axis=1), self.grid.size)
        pair_support = np.arange(self.grid.size)[None, :] >= 2 * first[:, None]
        if self.method == "fft":
            a_rho, a_phi, b_rho, b_phi, ap, bp = self._fft(qp, p0, pair_support, f, n)
        else:
            a_rho, a_phi, b_rho, b_phi, ap, bp = self._direct(qp, p0, pair_support)
        h = self.grid.step
        r = spectra.ratio
        A = h * (a_rho - r * a_phi)
        B = h * (b_rho - r * b_phi)
        Ap = h * ap
        Bp = h * bp
        if clip:
            A, B, Ap, Bp = (np.maximum(v, 0.0) for v in (A, B, Ap, Bp))
        # No states (below the gap): no QP rates. Off the phonon band: no phonon modes.
        A = np.where(spectra.active, A, 0.0)
        B = np.where(spectra.active, B, 0.0)
        Ap = np.where(self.phonon_mask, Ap, 0.0)
        Bp = np.where(self.phonon_mask, Bp, 0.0)
        return Coefficients(A, B, Ap, Bp)

    def rates(self, f, n, spectra, clip=True):
        """``(df/dt, dn/dt)`` from collisions alone."""
        c = self.coefficients(f, n, spectra, clip)
        return (1.0 - f) * c.A - f * c.B, (1.0 + n) * c.Ap - n * c.Bp

    # -- the two evaluations of the same sums --------------------------------------------
    def _fft(self, qp, p0, pair_support, f, n):
        L, N = self.fft_size, self.grid.size
        p1 = p0 + self.coupling
        a, b, c, d, P0, Q0, Q1 = sfft.rfft(
            np.stack(qp + (p0, p0 * pair_support, p1 * pair_support)), L, axis=-1)
        P1 = P0 + self._coupling_hat
        cs, cr = self.c_scatter, self.c_pair
        ca, cb, cc, cd = np.conj(a), np.conj(b), np.conj(c), np.conj(d)
        cP0, cP1 = np.conj(P0), np.conj(P1)
        spectra = np.stack([
            cP1 * a + P0 * a + Q0 * cc,
            cP1 * b + P0 * b - Q0 * cd,
            cP0 * c + P1 * c + Q1 * ca,
            cP0 * d + P1 * d - Q1 * cb,
            cs * (cc * a - cd * b) + cr * (a * a + b * b),
            cs * (ca * c - cb * d),
            cr * (c * c + d * d),
        ])
        out = sfft.irfft(spectra, L, axis=-1)[..., :N]
        if self.tilt is not None:
            self._tilted_gains(out, qp, p0, pair_support, f, n)
        return tuple(out[:5]) + (out[5] + out[6] * pair_support,)

    def _tilt_rates(self, f, n):
        """The tilt ``alpha`` per grid index of each cell: the bath's ``h / T``, or less where
        the cell's QP or phonon tail decays more slowly towards the top of the grid (a hot
        tail): there the slowest decay rate of the upper half, measured from its largest
        value, so that the tilted arrays stay bounded (0: no tilt)."""
        N = self.grid.size
        alpha = np.full(len(f), self.tilt)
        k = np.arange(N)
        half = N // 2
        for x in (f, n):
            upper = x[:, half:]
            peak = np.argmax(upper, axis=1)
            top = upper[np.arange(len(x)), peak][:, None]
            dist = (k[half:][None, :] - (half + peak)[:, None]).astype(float)
            beyond = (dist > 0) & (upper > 0) & (top > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(beyond, np.log(np.where(beyond, top / np.where(beyond, upper, 1.0), 1.0))
                                / np.where(beyond, dist, 1.0), np.inf)
            alpha = np.minimum(alpha, np.min(rate, axis=1))
            alpha = np.where(peak == N - 1 - half, 0.0, alpha)  # rising to the top: no tilt
        return np.maximum(alpha, 0.0)

    def _tilted_gains(self, out, qp, p0, pair_support, f, n):
        """Replace the gains ``a_rho, a_phi, ap`` (``out[0, 1, 4]``) by their exponentially
        tilted evaluation where that is the more accurate one (docs/numerics.md, "Precision").

        Every term of the gains at index ``i`` is a sum over pairs whose occupations decay
        like ``exp(-alpha (i + ...))``; with ``x+ = x e^{alpha k}`` and ``x- = x e^{-alpha k}``
        the sums obey ``corr(p, q)_i = e^{-alpha i} corr(p-, q+)_i``, ``conv(p, q)_i =
        e^{-alpha i} conv(p+, q+)_i`` and ``hcorr(p, q)_i = e^{-alpha i} hcorr(p+, q-)_i``, and
        the tilted arrays of a cold tail are flat, so their FFT round-off (about eps times
        the product of the arrays' norms) shrinks with ``e^{-alpha i}`` instead of staying at
        the scale of the largest rate. ``alpha`` follows each cell's tails (``_tilt_rates``);
        a deposit below the top still makes the tilted norms large, so each output index
        takes the evaluation whose round-off bound is smaller."""
        L, N = self.fft_size, self.grid.size
        alpha = self._tilt_rates(f, n)[:, None]
        k = np.arange(N)[None, :]
        up, down = np.exp(alpha * k), np.exp(-alpha * k)
        a, b, c, d = qp
        q0 = p0 * pair_support
        p1 = p0 + self.coupling
        p1m = p1 * down
        ap_, bp_, cm, dm, p0p, q0p = (a * up, b * up, c * down, d * down, p0 * up, q0 * up)
        A, B, C, D, P0p, P1m, Q0p = sfft.rfft(np.stack([ap_, bp_, cm, dm, p0p, p1m, q0p]), L, axis=-1)
        cs, cr = self.c_scatter, self.c_pair
        cP1m, cC, cD = np.conj(P1m), np.conj(C), np.conj(D)
        tilted = sfft.irfft(np.stack([cP1m * A + P0p * A + cC * Q0p,
                                      cP1m * B + P0p * B - cD * Q0p,
                                      cs * (cC * A - cD * B) + cr * (A * A + B * B)]), L, axis=-1)[..., :N] * down
        norm = lambda x: np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
        n_a, n_b, n_c, n_d, n_p0, n_p1, n_q0 = (norm(x) for x in (a, b, c, d, p0, p1, q0))
        t_a, t_b, t_c, t_d, t_p0p, t_p1m, t_q0p = (norm(x) for x in (ap_, bp_, cm, dm, p0p, p1m, q0p))
        plain = (n_p1 * n_a + n_p0 * n_a + n_q0 * n_c, n_p1 * n_b + n_p0 * n_b + n_q0 * n_d,
                 n_c * n_a + n_d * n_b + n_a * n_a + n_b * n_b)
        bound = (t_p1m * t_a + t_p0p * t_a + t_q0p * t_c, t_p1m * t_b + t_p0p * t_b + t_q0p * t_d,
                 t_c * t_a + t_d * t_b + t_a * t_a + t_b * t_b)
        for j, row in enumerate((0, 1, 4)):
            better = bound[j] * down < plain[j]
            out[row] = np.where(better, tilted[j], out[row])

    def _direct(self, qp, p0, pair_support):
        a, b, c, d = qp
        p1 = p0 + self.coupling
        q0, q1 = p0 * pair_support, p1 * pair_support
        cs, cr = self.c_scatter, self.c_pair
        return (
            corr(p1, a) + conv(p0, a) + hcorr(q0, c),
            corr(p1, b) + conv(p0, b) - hcorr(q0, d),
            corr(p0, c) + conv(p1, c) + hcorr(q1, a),
            corr(p0, d) + conv(p1, d) - hcorr(q1, b),
            cs * (corr(c, a) - corr(d, b)) + cr * (conv(a, a) + conv(b, b)),
            cs * (corr(a, c) - corr(b, d)) + cr * (conv(c, c) + conv(d, d)),
        )


def corr(p, q):
    """``out_i = sum_j p_j q_{i+j}`` (direct O(N^2), batched over the leading axis)."""
    p, q = np.broadcast_arrays(np.atleast_2d(p), np.atleast_2d(q))
    out = np.zeros(q.shape)
    n = q.shape[-1]
    for j in range(n):
        out[:, : n - j] += p[:, j : j + 1] * q[:, j:]
    return out


def conv(p, q):
    """``out_i = sum_j p_j q_{i-j}`` (direct O(N^2))."""
    p, q = np.broadcast_arrays(np.atleast_2d(p), np.atleast_2d(q))
    out = np.zeros(q.shape)
    n = q.shape[-1]
    for j in range(n):
        out[:, j:] += p[:, j : j + 1] * q[:, : n - j]
    return out


def hcorr(p, q):
    """``out_i = sum_k p_{i+k} q_k`` (direct O(N^2))."""
    return corr(q, p)
