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

from boltzphlow_mpi.jit import njit
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, Spectra
from boltzphlow_mpi.physics.pair_correction import EdgePairCorrection


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

    def __init__(self, grid: EnergyGrid, tau_ratio, delta0, method="fft", tail_temperature=None, edge_pairs=True):
        """``tail_temperature`` (k_B T_c; the bath's): with ``fft``, the gains ``A``, ``A'``
        whose sums decay like ``exp(-E/T)`` are also evaluated exponentially tilted (see
        ``_tilted_gains``) so that cold tails are not FFT round-off; None: plain FFT.
        ``edge_pairs``: the strip pair weights at the gap edge (``pair_correction``; BCS and
        Dynes spectra) in place of the product of cell averages there."""
        if method not in ("fft", "direct"):
            raise ValueError(f"method = {method!r}: expected 'fft' or 'direct'")
        self.grid, self.method = grid, method
        self.coupling = grid.coupling
        self.phonon_mask = grid.phonon_mask
        self.c_scatter = tau_ratio * 2.0 / (np.pi * delta0)
        self.c_pair = 0.5 * self.c_scatter
        self.edge = EdgePairCorrection(grid, self.coupling, self.c_pair) if edge_pairs else None
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
        # Pair processes need both QPs above the gap, so only phonons with index
        # j >= 2 k0 (k0: first cell with states) take part. Cutting the pair inputs to that
        # support is exact and keeps FFT round-off of the large sub-gap phonon population
        # out of the (exponentially small) thermal pair-breaking rates.
        has_states = spectra.rho > 0
        first = np.where(has_states.any(axis=1), np.argmax(has_states, axis=1), self.grid.size)
        pair_support = np.arange(self.grid.size)[None, :] >= 2 * first[:, None]
        rho, phi = np.broadcast_arrays(spectra.rho, spectra.phi, f)[:2]
        inputs = _inputs(np.ascontiguousarray(f, float), np.ascontiguousarray(n, float), np.ascontiguousarray(rho),
                         np.ascontiguousarray(phi), self.coupling, np.ascontiguousarray(pair_support),
                         self.fft_size if self.method == "fft" else self.grid.size)
        if self.method == "fft":
            sums = self._fft(inputs, pair_support, f, n)
        else:
            sums = self._direct(inputs[..., :self.grid.size])
        active = np.broadcast_to(spectra.active, f.shape)
        ratio = np.broadcast_to(spectra.ratio, f.shape)
        A, B, Ap, Bp = _gain_loss(sums, np.ascontiguousarray(ratio, float), np.ascontiguousarray(active),
                                  self.phonon_mask, self.grid.step, clip)
        if self.edge is not None and self.edge.add_to(A, B, Ap, Bp, f, n, spectra) and clip:
            # the corrected weights are >= 0; only round-off of the sums can go below
            A, B, Ap, Bp = (np.maximum(v, 0.0) for v in (A, B, Ap, Bp))
        return Coefficients(A, B, Ap, Bp)

    def rates(self, f, n, spectra, clip=True):
        """``(df/dt, dn/dt)`` from collisions alone."""
        c = self.coefficients(f, n, spectra, clip)
        return (1.0 - f) * c.A - f * c.B, (1.0 + n) * c.Ap - n * c.Bp

    # -- the two evaluations of the same sums --------------------------------------------
    def _fft(self, inputs, pair_support, f, n):
        """The six sums (6, cells, N) from ``inputs`` (a, b, c, d, p0, q0, q1; ``_inputs``):
        seven forward transforms, the products in Fourier space, seven inverse ones."""
        L, N = self.fft_size, self.grid.size
        hat = sfft.rfft(inputs, axis=-1)  # inputs are zero-padded to L
        out = sfft.irfft(_fourier_products(hat, self._coupling_hat, self.c_scatter, self.c_pair), L,
                         axis=-1)[..., :N]
        if self.tilt is not None:
            self._tilted_gains(out, inputs, f, n)
        return _pair_sum(out, np.ascontiguousarray(pair_support))

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

    def _tilted_gains(self, out, inputs, f, n):
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
        tilted_inputs, plain, bound = _tilted_inputs(inputs, self.coupling, up, down, N)
        hat = sfft.rfft(tilted_inputs, axis=-1)
        tilted = sfft.irfft(_tilted_products(hat, self.c_scatter, self.c_pair), L, axis=-1)[..., :N]
        _take_better(out, tilted, down, plain, bound)

    def _direct(self, inputs):
        a, b, c, d, p0, q0, q1 = inputs
        p1 = p0 + self.coupling
        cs, cr = self.c_scatter, self.c_pair
        return np.stack([
            corr(p1, a) + conv(p0, a) + hcorr(q0, c),
            corr(p1, b) + conv(p0, b) - hcorr(q0, d),
            corr(p0, c) + conv(p1, c) + hcorr(q1, a),
            corr(p0, d) + conv(p1, d) - hcorr(q1, b),
            cs * (corr(c, a) - corr(d, b)) + cr * (conv(a, a) + conv(b, b)),
            cs * (corr(a, c) - corr(b, d)) + cr * (conv(c, c) + conv(d, d)),
        ])


# -- compiled element-wise loops (boltzphlow_mpi/jit.py) -----------------------------------
# Each does the arithmetic of the numpy expressions it replaced, in their order, so the
# coefficients are the same to the last bit; only the norms of ``_tilted_inputs`` are summed
# in another order, and they only choose between two evaluations of a gain (``_take_better``).
@njit
def _inputs(f, n, rho, phi, coupling, pair, L):
    """(7, cells, L): ``rho f, phi f, rho (1 - f), phi (1 - f), p0 = g n, q0 = p0 [pair],
    q1 = (p0 + g) [pair]``, zero-padded from N to the FFT length ``L`` (>= N)."""
    cells, N = f.shape
    out = np.empty((7, cells, L))
    for i in range(cells):
        for r in range(7):
            out[r, i, N:] = 0.0
        for k in range(N):
            fk = f[i, k]
            p0 = coupling[k] * n[i, k]
            s = 1.0 if pair[i, k] else 0.0
            out[0, i, k] = rho[i, k] * fk
            out[1, i, k] = phi[i, k] * fk
            out[2, i, k] = rho[i, k] * (1.0 - fk)
            out[3, i, k] = phi[i, k] * (1.0 - fk)
            out[4, i, k] = p0
            out[5, i, k] = p0 * s
            out[6, i, k] = (p0 + coupling[k]) * s
    return out


@njit
def _fourier_products(hat, coupling_hat, cs, cr):
    """The seven sums in Fourier space (module docstring: ``corr`` is ``conj(P) Q``,
    ``conv`` and ``hcorr`` are ``P Q`` and ``P conj(Q)``)."""
    _, cells, M = hat.shape
    out = np.empty((7, cells, M), dtype=np.complex128)
    for i in range(cells):
        for k in range(M):
            a, b, c, d = hat[0, i, k], hat[1, i, k], hat[2, i, k], hat[3, i, k]
            P0, Q0, Q1 = hat[4, i, k], hat[5, i, k], hat[6, i, k]
            P1 = P0 + coupling_hat[k]
            ca, cb, cc, cd = np.conj(a), np.conj(b), np.conj(c), np.conj(d)
            cP0, cP1 = np.conj(P0), np.conj(P1)
            out[0, i, k] = cP1 * a + P0 * a + Q0 * cc
            out[1, i, k] = cP1 * b + P0 * b - Q0 * cd
            out[2, i, k] = cP0 * c + P1 * c + Q1 * ca
            out[3, i, k] = cP0 * d + P1 * d - Q1 * cb
            out[4, i, k] = cs * (cc * a - cd * b) + cr * (a * a + b * b)
            out[5, i, k] = cs * (ca * c - cb * d)
            out[6, i, k] = cr * (c * c + d * d)
    return out


@njit
def _pair_sum(out, pair):
    """(6, cells, N): the first five sums, and ``ap = out[5] + out[6] [pair]``."""
    _, cells, N = out.shape
    sums = np.empty((6, cells, N))
    for i in range(cells):
        for k in range(N):
            for r in range(5):
                sums[r, i, k] = out[r, i, k]
            sums[5, i, k] = out[5, i, k] + out[6, i, k] * (1.0 if pair[i, k] else 0.0)
    return sums


@njit
def _tilted_inputs(inputs, coupling, up, down, N):
    """(7, cells, L) zero-padded: ``a+, b+, c-, d-, p0+, p1-, q0+`` (``x+ = x e^{alpha k}``,
    ``x- = x e^{-alpha k}``) from ``inputs`` (``_inputs``); and the 2-norms over the N
    energies of ``a, b, c, d, p0, p1, q0`` and of the seven tilted arrays, (7, cells) each."""
    _, cells, L = inputs.shape
    out = np.empty((7, cells, L))
    plain = np.empty((7, cells))
    tilted = np.empty((7, cells))
    for i in range(cells):
        for r in range(7):
            out[r, i, N:] = 0.0
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = 0.0
        t0 = t1 = t2 = t3 = t4 = t5 = t6 = 0.0
        for k in range(N):
            u, w = up[i, k], down[i, k]
            a, b, c, d = inputs[0, i, k], inputs[1, i, k], inputs[2, i, k], inputs[3, i, k]
            p0, q0 = inputs[4, i, k], inputs[5, i, k]
            p1 = p0 + coupling[k]
            ta, tb, tc, td, tp0, tp1, tq0 = a * u, b * u, c * w, d * w, p0 * u, p1 * w, q0 * u
            out[0, i, k] = ta
            out[1, i, k] = tb
            out[2, i, k] = tc
            out[3, i, k] = td
            out[4, i, k] = tp0
            out[5, i, k] = tp1
            out[6, i, k] = tq0
            s0 += a * a
            s1 += b * b
            s2 += c * c
            s3 += d * d
            s4 += p0 * p0
            s5 += p1 * p1
            s6 += q0 * q0
            t0 += ta * ta
            t1 += tb * tb
            t2 += tc * tc
            t3 += td * td
            t4 += tp0 * tp0
            t5 += tp1 * tp1
            t6 += tq0 * tq0
        plain[0, i], plain[1, i], plain[2, i], plain[3, i] = s0, s1, s2, s3
        plain[4, i], plain[5, i], plain[6, i] = s4, s5, s6
        tilted[0, i], tilted[1, i], tilted[2, i], tilted[3, i] = t0, t1, t2, t3
        tilted[4, i], tilted[5, i], tilted[6, i] = t4, t5, t6
    return out, np.sqrt(plain), np.sqrt(tilted)


@njit
def _tilted_products(hat, cs, cr):
    """The three tilted gains in Fourier space (``_tilted_gains``)."""
    _, cells, M = hat.shape
    out = np.empty((3, cells, M), dtype=np.complex128)
    for i in range(cells):
        for k in range(M):
            A, B, C, D = hat[0, i, k], hat[1, i, k], hat[2, i, k], hat[3, i, k]
            P0p, P1m, Q0p = hat[4, i, k], hat[5, i, k], hat[6, i, k]
            cP1m, cC, cD = np.conj(P1m), np.conj(C), np.conj(D)
            out[0, i, k] = cP1m * A + P0p * A + cC * Q0p
            out[1, i, k] = cP1m * B + P0p * B - cD * Q0p
            out[2, i, k] = cs * (cC * A - cD * B) + cr * (A * A + B * B)
    return out


@njit
def _take_better(out, tilted, down, plain, bound):
    """Rows 0, 1, 4 of ``out`` (the gains) replaced by ``tilted * down`` where the tilted
    round-off bound, ``down`` times the products of the tilted norms, is the smaller one.
    ``plain``, ``bound``: (7, cells) norms of a, b, c, d, p0, p1, q0 and of their tilted arrays."""
    _, cells, N = out.shape
    for i in range(cells):
        n_a, n_b, n_c, n_d, n_p0, n_p1, n_q0 = (plain[0, i], plain[1, i], plain[2, i], plain[3, i], plain[4, i],
                                                plain[5, i], plain[6, i])
        t_a, t_b, t_c, t_d, t_p0p, t_p1m, t_q0p = (bound[0, i], bound[1, i], bound[2, i], bound[3, i],
                                                   bound[4, i], bound[5, i], bound[6, i])
        pl0 = n_p1 * n_a + n_p0 * n_a + n_q0 * n_c
        pl1 = n_p1 * n_b + n_p0 * n_b + n_q0 * n_d
        pl2 = n_c * n_a + n_d * n_b + n_a * n_a + n_b * n_b
        b0 = t_p1m * t_a + t_p0p * t_a + t_q0p * t_c
        b1 = t_p1m * t_b + t_p0p * t_b + t_q0p * t_d
        b2 = t_c * t_a + t_d * t_b + t_a * t_a + t_b * t_b
        for k in range(N):
            w = down[i, k]
            if b0 * w < pl0:
                out[0, i, k] = tilted[0, i, k] * w
            if b1 * w < pl1:
                out[1, i, k] = tilted[1, i, k] * w
            if b2 * w < pl2:
                out[4, i, k] = tilted[2, i, k] * w


@njit
def _gain_loss(sums, ratio, active, phonon_mask, h, clip):
    """``A = h (a_rho - r a_phi)``, ``B = h (b_rho - r b_phi)``, ``A' = h ap``, ``B' = h bp``,
    clipped at 0 (``clip``), zero where a cell has no states (A, B) or off the phonon band (A', B')."""
    _, cells, N = sums.shape
    A = np.empty((cells, N))
    B = np.empty((cells, N))
    Ap = np.empty((cells, N))
    Bp = np.empty((cells, N))
    for i in range(cells):
        for k in range(N):
            r = ratio[i, k]
            va = h * (sums[0, i, k] - r * sums[1, i, k])
            vb = h * (sums[2, i, k] - r * sums[3, i, k])
            vap = h * sums[4, i, k]
            vbp = h * sums[5, i, k]
            if clip:  # np.maximum(v, 0.0): v where v >= 0 or NaN
                va = va if (va >= 0.0 or np.isnan(va)) else 0.0
                vb = vb if (vb >= 0.0 or np.isnan(vb)) else 0.0
                vap = vap if (vap >= 0.0 or np.isnan(vap)) else 0.0
                vbp = vbp if (vbp >= 0.0 or np.isnan(vbp)) else 0.0
            A[i, k] = va if active[i, k] else 0.0
            B[i, k] = vb if active[i, k] else 0.0
            Ap[i, k] = vap if phonon_mask[k] else 0.0
            Bp[i, k] = vbp if phonon_mask[k] else 0.0
    return A, B, Ap, Bp


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
