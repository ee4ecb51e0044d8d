"""Exact pair and scattering weights at the gap edge (physics/pair_weights.py): per-mode
rates against the continuum cell averages, symmetry and positivity, quadrature against
scipy, and the QP-side identity. References are independent: scipy quad of the BCS / Dynes
spectral functions, no code shared with the module."""
import itertools
import time
import warnings

import numpy as np
import pytest
from scipy.integrate import IntegrationWarning, quad

from boltzphlow_mpi.physics import pair_weights as pw
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra

D0 = 1.764


def _grid(h, cells=None, emax=None):
    return EnergyGrid.from_max(h, emax if emax is not None else (cells - 1) * h, 300.0)


# -- independent references ---------------------------------------------------------------
def _bcs(delta):
    def rho(e):
        return e / np.sqrt((e - delta) * (e + delta)) if e > delta else 0.0

    def phi(e):
        return delta / np.sqrt((e - delta) * (e + delta)) if e > delta else 0.0

    def R(u):
        return np.sqrt((u - delta) * (u + delta)) if u > delta else 0.0

    def F(u):
        return delta * np.arccosh(u / delta) if u > delta else 0.0

    def rho_s(e):                   # rho sqrt(E - Delta), phi sqrt(E - Delta): smooth at Delta
        return e / np.sqrt(e + delta)

    def phi_s(e):
        return delta / np.sqrt(e + delta)

    return rho, phi, R, F, rho_s, phi_s


def _dynes(delta, gamma):
    def root(e):
        z = complex(e, gamma)
        return np.sqrt(z - delta) * np.sqrt(z + delta)

    def rho(e):
        return (complex(e, gamma) / root(e)).real

    def phi(e):
        return (delta / root(e)).real

    def R(u):
        return root(max(u, 0.0)).real

    def F(u):
        u = max(u, 0.0)
        return (delta * np.log(complex(u, gamma) + root(u))).real

    return rho, phi, R, F, None, None


def _integral(f, f_smooth, lo, hi, points, delta, gamma):
    """int_lo^hi f, split at the points; the piece starting at Delta (BCS) as the weight
    (E - Delta)^(-1/2) times ``f_smooth`` (= f sqrt(E - Delta)), so quad sees no singularity."""
    pts = sorted({lo, hi, *[p for p in points if lo < p < hi]})
    total = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        for a, b in itertools.pairwise(pts):
            if gamma == 0 and a == delta:
                total += quad(f_smooth, a, b, weight="alg", wvar=(-0.5, 0.0), epsabs=0, epsrel=1e-13, limit=200)[0]
            else:
                total += quad(f, a, b, epsabs=0, epsrel=1e-13, limit=400)[0]
    return total


def _ref_band(h, delta, gamma, row, u_lo, u_hi, e_lo=None, e_hi=None, sign=-1.0, coh=1.0):
    """(1/h^2) int [rho(E) (R(u_hi) - R(u_lo)) + coh phi(E) (F(u_hi) - F(u_lo))] dE over E in
    [e_lo, e_hi] (default: cell ``row``). A partner limit ``(u0, moves)`` is the partner energy
    ``u0 + sign (E - x_row)`` (pairs: sign -1, E + E' fixed; scattering: +1, E' - E fixed) or,
    with ``moves`` False, the fixed energy ``u0``."""
    rho, phi, R, F, rho_s, phi_s = _bcs(delta) if gamma == 0 else _dynes(delta, gamma)
    x = row * h
    lo = max(x - h / 2, 0.0) if e_lo is None else e_lo
    hi = x + h / 2 if e_hi is None else e_hi
    if gamma == 0:
        lo = max(lo, delta)
    if hi <= lo:
        return 0.0

    def lim(u, e, fn):
        return fn(u[0] + (sign * (e - x) if u[1] else 0.0))

    def f(e):
        return (rho(e) * (lim(u_hi, e, R) - lim(u_lo, e, R))
                + coh * phi(e) * (lim(u_hi, e, F) - lim(u_lo, e, F)))

    def f_smooth(e):
        return (rho_s(e) * (lim(u_hi, e, R) - lim(u_lo, e, R))
                + coh * phi_s(e) * (lim(u_hi, e, F) - lim(u_lo, e, F)))

    pts = [delta] + [x + (u[0] - delta) / -sign for u in (u_lo, u_hi) if u[1]]
    if gamma > 0:
        pts += [p + s * gamma * 4.0 ** j for p in list(pts) for s in (-1, 1) for j in range(6)]
    return _integral(f, f_smooth, lo, hi, pts, delta, gamma) / h ** 2


def _edge(k, h):
    """Lower edge of cell k, as a partner energy."""
    return k * h - h / 2


def _P(h, delta, row, partner, gamma=0.0):
    """The strip part with E in cell ``row``, partner band ``partner`` (mode row + partner)."""
    m = row + partner
    return _ref_band(h, delta, gamma, row, ((m * h - h / 2) - row * h, True), ((m * h + h / 2) - row * h, True))


def _Gamma(omega, delta):
    """Continuum pair rate int_Delta^(Omega-Delta) w(E, Omega - E) dE (BCS)."""
    if omega <= 2 * delta:
        return 0.0

    def g(e):
        return (e * (omega - e) + delta ** 2) / np.sqrt((e + delta) * (omega - e + delta))

    return quad(g, delta, omega - delta, weight="alg", wvar=(-0.5, -0.5), epsabs=0, epsrel=1e-12)[0]


def _cell_average(m, h, delta):
    lo, hi = max(m * h - h / 2, 2 * delta), m * h + h / 2
    if hi <= lo:
        return 0.0
    return quad(lambda o: _Gamma(o, delta), lo, hi, epsabs=0, epsrel=1e-11, limit=200)[0] / h


def _corrected(g, delta, kmax, gamma=0.0, **kw):
    spec = cell_spectra(g, np.atleast_1d(delta), gamma)
    product = pw.product_pair_weights(spec, kmax)
    k0, dW = pw.pair_weight_correction(g, np.atleast_1d(delta), gamma, **kw)
    return product, pw.apply_pair_correction(product, k0, dW), k0


# -- 1. per-mode rates ----------------------------------------------------------------------
@pytest.mark.parametrize("div", [16, 32, 64])
@pytest.mark.parametrize("offset", [0.0, -0.3])
def test_per_mode_rates_match_continuum_cell_averages(div, offset):
    """Product + correction (default window): every mode from 2 k0 (the first with a pair) to
    2 Delta + 40 h within 1e-3 of (1/h) int_cell Gamma; the product weights fail, by 27 % at
    the threshold. With Delta below a node (offset < 0) mode 2 k0 - 1 also has continuum
    content, but no pair with states: its grid rate is 0 (the dropped part)."""
    h = D0 / div
    k0 = div
    delta = (k0 + offset) * h
    g = _grid(h, cells=k0 + 80)
    product, corrected, kw = _corrected(g, delta, g.size)
    assert kw[0] == k0
    modes = np.arange(2 * k0, int((2 * delta + 40 * h) / h) + 1)
    ref = np.array([_cell_average(m, h, delta) for m in modes])
    rate_new = pw.per_mode_pair_rates(corrected, h)[0]
    rate_old = pw.per_mode_pair_rates(product, h)[0]
    err_new = np.abs(rate_new[modes] / ref - 1)
    err_old = np.abs(rate_old[modes] / ref - 1)
    assert err_new.max() < 1e-3, (modes[err_new.argmax()] - 2 * k0, err_new.max())
    assert err_old.max() > 0.01
    assert rate_new[2 * k0 - 1] == 0.0
    if offset == 0.0:
        # threshold mode: 2/pi of the point value pi Delta (0.6399 at h = Delta/16), ...
        assert rate_old[2 * k0] / (np.pi * delta) == pytest.approx(2 / np.pi, abs=4e-3)
        # ... i.e. 4/pi of its cell average (half the cell lies below 2 Delta)
        assert rate_old[2 * k0] / ref[0] == pytest.approx(4 / np.pi, abs=3e-3)
        assert rate_new[2 * k0] / ref[0] == pytest.approx(1.0, abs=1e-12)
    else:
        assert _cell_average(2 * k0 - 1, h, delta) > 0


def test_exact_weights_per_mode_identity_and_threshold_options():
    """The exact weights (no window) reproduce the cell averages to quadrature accuracy in
    every mode >= 2 k0, for both tilings; ``below_threshold="fold"`` moves the content of
    mode 2 k0 - 1 into (k0, k0)."""
    h = D0 / 16
    k0, delta = 16, (16 - 0.3) * D0 / 16
    g = _grid(h, cells=70)
    modes = np.arange(2 * k0 - 1, 2 * k0 + 12)
    ref = np.array([_cell_average(m, h, delta) for m in modes])
    for tiling in ("edge", "symmetric"):
        rate = pw.per_mode_pair_rates(pw.exact_pair_weights(g, [delta], kmax=60, tiling=tiling), h)[0]
        np.testing.assert_allclose(rate[modes[1:]], ref[1:], rtol=1e-10)
        assert rate[modes[0]] == 0.0
        folded = pw.per_mode_pair_rates(pw.exact_pair_weights(g, [delta], kmax=60, tiling=tiling,
                                                              below_threshold="fold"), h)[0]
        assert folded[modes[1]] == pytest.approx(ref[0] + ref[1], rel=1e-10)
        np.testing.assert_allclose(folded[modes[2:]], ref[2:], rtol=1e-10)


def test_dynes_per_mode_identity():
    """With broadening (states down to E = 0) the exact weights still give the cell average
    of the continuum rate int_0^Omega w(E, Omega - E) dE in every mode, sub-gap ones included."""
    h, gamma = D0 / 16, 0.01 * D0
    delta = (16 - 0.3) * h
    g = _grid(h, cells=50)
    rate = pw.per_mode_pair_rates(pw.exact_pair_weights(g, [delta], gamma, kmax=40), h)[0]
    rho, phi, *_ = _dynes(delta, gamma)

    def Gamma(omega):
        def f(e):
            return rho(e) * rho(omega - e) + phi(e) * phi(omega - e)
        pts = [p for p in (delta, omega - delta, omega / 2) if 0 < p < omega]
        return quad(f, 0, omega, points=pts, epsabs=0, epsrel=1e-12, limit=400)[0]

    for m in (20, 30, 31, 32, 36):
        lo, hi = m * h - h / 2, m * h + h / 2
        pts = [2 * delta] if lo < 2 * delta < hi else None
        ref = quad(Gamma, lo, hi, points=pts, epsabs=0, epsrel=1e-11, limit=200)[0] / h
        assert rate[m] == pytest.approx(ref, rel=1e-9)


def test_symmetric_tiling_does_not_fit_a_window():
    """Documented alternative: the even split shifts ~3 % of the edge row into the next cell
    for every partner, so a window correction leaves a per-mode error of several 1e-3 at
    the window's end (the edge tiling: < 1e-3)."""
    h = D0 / 32
    delta = 32 * h
    g = _grid(h, cells=32 + 120)
    exact = pw.per_mode_pair_rates(pw.exact_pair_weights(g, [delta], kmax=140), h)[0]
    modes = np.arange(64, 32 + 140)
    for tiling, bound in (("edge", (0, 1e-3)), ("symmetric", (2e-3, 1.0))):
        _, corrected, _ = _corrected(g, delta, 140, tiling=tiling)
        err = np.abs(pw.per_mode_pair_rates(corrected, h)[0][modes] / exact[modes] - 1).max()
        assert bound[0] < err < bound[1], (tiling, err)


# -- 2. structure ---------------------------------------------------------------------------
def test_symmetric_nonnegative_and_local():
    """Bitwise symmetric corrections, non-negative corrected weights, nothing changed off
    the window, batch cells independent of each other; Delta = 0 and a gap above the grid
    give zero corrections."""
    h = D0 / 32
    g = _grid(h, cells=120)
    deltas = np.array([D0, 0.93 * D0, (40 - 0.5) * h + 1e-12, 0.0, 5.0 * D0, 0.6 * h])
    for gamma in (0.0, 1e-3 * D0):
        k0, dW = pw.pair_weight_correction(g, deltas, gamma)
        ks, dS = pw.scatter_weight_correction(g, deltas, gamma)
        np.testing.assert_array_equal(k0, ks)
        for d in (dW, dS):
            assert np.array_equal(d, np.swapaxes(d, 1, 2))
        assert np.all(dS[:, np.arange(dS.shape[1]), np.arange(dS.shape[1])] == 0)
        assert not dW[3].any() and not dW[4].any() and not dS[3].any() and not dS[4].any()
        assert k0[4] == g.size
        assert dW[:3].any() and dW[5].any()
        for i, d in enumerate(deltas):
            one_k0, one = pw.pair_weight_correction(g, [d], gamma)
            assert one_k0[0] == k0[i]
            np.testing.assert_allclose(one[0], dW[i], rtol=1e-13, atol=1e-13 * np.abs(dW).max())
        spec = cell_spectra(g, deltas, gamma)
        product = pw.product_pair_weights(spec)
        corrected = pw.apply_pair_correction(product, k0, dW)
        assert corrected.min() >= -1e-12 * product.max()
        changed = corrected != product
        for i in range(deltas.size):
            inside = np.zeros(changed.shape[1:], bool)
            inside[k0[i]:k0[i] + dW.shape[1], k0[i]:k0[i] + dW.shape[1]] = True
            assert not (changed[i] & ~inside).any()
    W = pw.exact_pair_weights(g, deltas[:3], kmax=80)
    assert W.min() >= 0.0 and np.array_equal(W, np.swapaxes(W, 1, 2))


def test_window_at_the_grid_top_is_cut():
    h = D0 / 8
    g = _grid(h, cells=18)                       # k0 = 8: a 24-cell window sticks out
    k0, dW = pw.pair_weight_correction(g, [D0])
    n = g.size - k0[0]
    assert not dW[0, n:].any() and not dW[0, :, n:].any() and dW[0, :n, :n].any()


# -- 3. quadrature against scipy ------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.0, 0.01])
@pytest.mark.parametrize("offset", [0.0, -0.3, 0.45])
def test_quadrature_matches_scipy(gamma, offset):
    """Entries of the exact weights to 1e-10 relative: strip parts (W = P for k' >= k + 2),
    the near-diagonal pairs built from corner triangles, and scattering weights."""
    h = D0 / 16
    delta = (16 + offset) * h
    g = _grid(h, cells=60)
    W = pw.exact_pair_weights(g, [delta], gamma * D0, kmax=40)[0]
    S = pw.exact_scatter_weights(g, [delta], gamma * D0, kmax=40)[0]
    gm = gamma * D0
    first = int(np.argmax(cell_spectra(g, [delta], gm).rho[0] > 0)) if gamma == 0 else 14

    def tri_lower(row, u):          # lower-left corner cut by the partner edge u (E < x_row)
        return _ref_band(h, delta, gm, row, (u, False), (u, True), e_hi=row * h)

    def tri_upper(row, u):          # upper-right corner below the partner edge u (E > x_row)
        return _ref_band(h, delta, gm, row, (u, True), (u, False), e_lo=row * h)

    checks = []
    for a, b in [(0, 2), (0, 7), (1, 3), (1, 12), (4, 9), (2, 20)]:
        k, kk = first + a, first + b
        checks.append((W[k, kk], _P(h, delta, k, kk, gm)))
        checks.append((S[k, kk], _ref_band(h, delta, gm, k, (kk * h - h / 2, True), (kk * h + h / 2, True),
                                           sign=1.0, coh=-1.0)))
    for c in (first, first + 1, first + 5):
        diag = _P(h, delta, c, c, gm) - tri_upper(c, _edge(c, h)) + tri_lower(c, _edge(c + 1, h))
        off = (_P(h, delta, c, c + 1, gm) - 0.5 * tri_upper(c, _edge(c + 1, h))
               + 0.5 * tri_lower(c + 1, _edge(c + 1, h)))
        checks += [(W[c, c], diag), (W[c, c + 1], off)]
    got, ref = np.array(checks).T
    assert (ref > 0).sum() >= ref.size - 1      # (k0, k0) is empty when 2 Delta > x_2k0 + h/2
    np.testing.assert_allclose(got, ref, rtol=1e-10)


# -- 4. the QP side -------------------------------------------------------------------------
def _row_continuum(h, delta, row, lo_mode, hi_mode):
    """(1/h) int_{cell row} dE int dE' w, partner restricted to the strips lo_mode..hi_mode
    (x_lo - h/2 < E + E' < x_hi + h/2)."""
    return h * _ref_band(h, delta, 0.0, row, (lo_mode * h - h / 2 - row * h, True),
                         (hi_mode * h + h / 2 - row * h, True))


@pytest.mark.parametrize("offset", [0.0, -0.3, 0.3])
def test_qp_side_row_identity(offset):
    """Edge tiling: a QP of cell i keeps its exact cell content against every partner two or
    more cells above: h sum_{k=i+2}^{K} W_{i,k} = (1/h) int_{cell i} dE int dE' w over the
    strips of modes 2i+2 .. i+K. With the two corner pairs (i, i), (i, i+1), the edge row
    k0 differs from its cell integral over all strips only by corner triangles:
    h sum_k W_{k0,k} = A - h (O + U/2 - L1/2 - L0), O the dropped triangle of mode 2 k0 - 1,
    U = upper corner of (k0, k0), L1 = lower corner of (k0+1, k0+1), L0 = lower corner of
    (k0, k0+1). The symmetric tiling is off by percents in the same row."""
    h = D0 / 16
    k0, K = 16, 30
    delta = (k0 + offset) * h
    g = _grid(h, cells=k0 + K + 4)
    W = pw.exact_pair_weights(g, [delta], kmax=k0 + K + 1)[0]
    for i in (k0, k0 + 1, k0 + 4):
        got = h * W[i, i + 2:k0 + K + 1].sum()
        assert got == pytest.approx(_row_continuum(h, delta, i, 2 * i + 2, i + k0 + K), rel=1e-10)
    rows = cell_spectra(g, [delta]).rho[0] > 0
    first = int(np.argmax(rows))
    full = _row_continuum(h, delta, first, 2 * first - 1, first + k0 + K)

    def corner(row, u, lower):
        if lower:
            return _ref_band(h, delta, 0.0, row, (u, False), (u, True), e_hi=row * h)
        return _ref_band(h, delta, 0.0, row, (u, True), (u, False), e_lo=row * h)

    e0, e1 = _edge(first, h), _edge(first + 1, h)
    dropped = corner(first, e0, True)                          # partner band first - 1, mode 2 first - 1
    X = dropped + 0.5 * corner(first, e1, False) - 0.5 * corner(first + 1, e1, True) - corner(first, e1, True)
    got = h * W[first, first:k0 + K + 1].sum()
    assert got == pytest.approx(full - h * X, rel=1e-10)
    sym = pw.exact_pair_weights(g, [delta], kmax=k0 + K + 1, tiling="symmetric")[0]
    tail = h * sym[first, first + 2:k0 + K + 1].sum()
    assert abs(tail / _row_continuum(h, delta, first, 2 * first + 2, first + k0 + K) - 1) > 0.005


# -- timing guard ---------------------------------------------------------------------------
def test_batch_of_cells_is_fast():
    """256 batch cells, N = 512, h = Delta/32, default window: one gap update."""
    h = D0 / 32
    g = _grid(h, cells=512)
    deltas = D0 * np.linspace(0.8, 1.0, 256)
    pw.pair_weight_correction(g, deltas[:4])
    t = time.perf_counter()
    pw.pair_weight_correction(g, deltas)
    assert time.perf_counter() - t < 1.0
