"""Exact derivatives of the collision coefficients ``A, B, A', B'`` with respect to the
occupations (docs/numerics.md, "The exact Jacobian of a cell").

Every coefficient is a sum of the three grid sums of ``collisions`` (``corr``, ``conv``,
``hcorr``), bilinear in one QP factor (``a = rho f``, ``b = phi f``, ``c = rho (1 - f)``,
``d = phi (1 - f)``) and one phonon or QP factor. The derivative of a grid sum with respect
to one of its arguments is a Toeplitz or Hankel matrix of the other:

    d corr(p, q)/dq = U(p),  d corr(p, q)/dp = H(q)      U(p)_ik  = p_{k-i}  (k >= i)
    d conv(p, q)/dq = L(p),  d conv(p, q)/dp = L(q)      L(p)_ik  = p_{i-k}  (k <= i)
    d hcorr(p, q)/dq = H(p), d hcorr(p, q)/dp = U(q)     H(p)_ik  = p_{i+k}  (i + k < N)

so the whole Jacobian of the coefficients is formed in ``O(N^2)`` per cell without any FFT
and without round-off beyond that of the products: no differences of noisy sums.
"""
import numpy as np


def _index_tables(n):
    i = np.arange(n)[:, None]
    k = np.arange(n)[None, :]
    up, lo, ha = k - i, i - k, i + k
    return ((np.clip(up, 0, n - 1), up >= 0), (np.clip(lo, 0, n - 1), lo >= 0), (np.clip(ha, 0, n - 1), ha < n))


class _Shifts:
    """``U``, ``L``, ``H`` of vectors (cells, N) as matrices (cells, N, N)."""

    def __init__(self, n):
        (self._u, self._um), (self._l, self._lm), (self._h, self._hm) = _index_tables(n)

    def U(self, p):
        return np.where(self._um, p[:, self._u], 0.0)

    def L(self, p):
        return np.where(self._lm, p[:, self._l], 0.0)

    def H(self, p):
        return np.where(self._hm, p[:, self._h], 0.0)


def coefficient_derivatives(kernel, f, n, spectra):
    """``d(A, B, A', B')/df`` and ``d(A, B)/dn`` of ``kernel`` (``collisions.CollisionKernel``)
    at occupations ``f``, ``n`` (cells, N), without the clip of negative round-off (the
    coefficients of ``coefficients(..., clip=False)``). Returns a dict of arrays (cells, N,
    N): ``A_f, A_n, B_f, B_n, Ap_f, Bp_f`` (the phonon coefficients do not depend on ``n``).
    """
    f, n = np.atleast_2d(f), np.atleast_2d(n)
    N = f.shape[1]
    s = _Shifts(N)
    rho, phi = np.broadcast_to(spectra.rho, f.shape), np.broadcast_to(spectra.phi, f.shape)
    a, b, c, d = rho * f, phi * f, rho * (1.0 - f), phi * (1.0 - f)
    g = np.broadcast_to(kernel.coupling, f.shape)
    p0 = g * n
    p1 = p0 + g
    has_states = spectra.rho > 0
    first = np.where(has_states.any(axis=1), np.argmax(has_states, axis=1), N)
    sup = (np.arange(N)[None, :] >= 2 * first[:, None]).astype(float)
    sup = np.broadcast_to(sup, f.shape)
    q0, q1 = p0 * sup, p1 * sup

    def cols(M, v):  # M @ diag(v), per cell
        return M * v[:, None, :]

    U_p1, L_p0, H_q0 = s.U(p1), s.L(p0), s.H(q0)
    U_p0, L_p1, H_q1 = s.U(p0), s.L(p1), s.H(q1)
    a_rho_f = cols(U_p1 + L_p0 - H_q0, rho)
    a_phi_f = cols(U_p1 + L_p0 + H_q0, phi)
    b_rho_f = cols(-U_p0 - L_p1 + H_q1, rho)
    b_phi_f = cols(-U_p0 - L_p1 - H_q1, phi)
    gs = g * sup
    a_rho_n = cols(s.H(a) + s.L(a), g) + cols(s.U(c), gs)
    a_phi_n = cols(s.H(b) + s.L(b), g) - cols(s.U(d), gs)
    b_rho_n = cols(s.H(c) + s.L(c), g) + cols(s.U(a), gs)
    b_phi_n = cols(s.H(d) + s.L(d), g) - cols(s.U(b), gs)
    cs, cr = kernel.c_scatter, kernel.c_pair
    ap_f = (cs * (cols(s.U(c) - s.H(a), rho) - cols(s.U(d) - s.H(b), phi))
            + 2.0 * cr * (cols(s.L(a), rho) + cols(s.L(b), phi)))
    bp_f = (cs * (cols(s.H(c) - s.U(a), rho) - cols(s.H(d) - s.U(b), phi))
            - 2.0 * cr * sup[:, :, None] * (cols(s.L(c), rho) + cols(s.L(d), phi)))
    h = kernel.grid.step
    r = np.broadcast_to(spectra.ratio, f.shape)[:, :, None]
    active = np.broadcast_to(spectra.active, f.shape)[:, :, None]
    band = np.broadcast_to(kernel.phonon_mask, f.shape)[:, :, None]
    qp_rows = lambda m: np.where(active, h * m, 0.0)
    ph_rows = lambda m: np.where(band, h * m, 0.0)
    out = {"A_f": qp_rows(a_rho_f - r * a_phi_f), "A_n": qp_rows(a_rho_n - r * a_phi_n),
           "B_f": qp_rows(b_rho_f - r * b_phi_f), "B_n": qp_rows(b_rho_n - r * b_phi_n),
           "Ap_f": ph_rows(ap_f), "Bp_f": ph_rows(bp_f)}
    if kernel.edge is not None:
        kernel.edge.add_derivatives(out, f, n, spectra)
    return out
