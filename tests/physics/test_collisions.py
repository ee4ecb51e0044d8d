"""Collision integrals (docs/physics.md, "Collision integrals"): detailed balance, energy
conservation, FFT vs direct, and exact normal-state limits."""
import numpy as np
import pytest

from boltzphlow_mpi.physics.analysis.diagnostics import phonon_energy_weight
from boltzphlow_mpi.physics.collisions import CollisionKernel, conv, corr, hcorr
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO, equilibrium_gap
from boltzphlow_mpi.physics.statistics import bose, fermi

D0 = BCS_RATIO
RATIO = 438.0 / 0.242


def grid(step=D0 / 16, emax=16 * D0, debye=300.0):
    return EnergyGrid.from_max(step, emax, debye)


def thermal(g, T):
    return fermi(g.x, T)[None], (bose(g.x, T) * g.phonon_mask)[None]


@pytest.mark.parametrize("T", [0.1, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("gamma", [0.0, 1e-3])
def test_detailed_balance_direct_pointwise(T, gamma):
    """Thermal f, n with the gap of that T: each rate below 1e-12 of its individual terms."""
    g = grid()
    spec = cell_spectra(g, [equilibrium_gap(T, D0)], gamma * D0)
    f, n = thermal(g, T)
    c = CollisionKernel(g, RATIO, D0, "direct").coefficients(f, n, spec)
    gain, loss = (1 - f) * c.A, f * c.B
    assert np.all(np.abs(gain - loss) <= 1e-12 * np.maximum(gain, loss) + 1e-300)
    gain, loss = (1 + n) * c.Ap, n * c.Bp
    assert np.all(np.abs(gain - loss) <= 1e-12 * np.maximum(gain, loss) + 1e-300)
    assert gain.max() > 0 and (1 - f).max() * c.A.max() > 0


@pytest.mark.parametrize("T", [0.1, 0.5])
def test_detailed_balance_fft_max_norm(T):
    """FFT path: rates below 1e-12 of the largest rate (docs/numerics.md, "Precision")."""
    g = grid()
    spec = cell_spectra(g, [equilibrium_gap(T, D0)])
    f, n = thermal(g, T)
    c = CollisionKernel(g, RATIO, D0, "fft").coefficients(f, n, spec)
    scale_f = max(c.A.max(), c.B.max())
    scale_n = max(c.Ap.max(), c.Bp.max())
    assert np.abs((1 - f) * c.A - f * c.B).max() <= 1e-12 * scale_f
    assert np.abs((1 + n) * c.Ap - n * c.Bp).max() <= 1e-12 * scale_n


def _random_state(g, cells, seed):
    rng = np.random.default_rng(seed)
    f = rng.random((cells, g.size)) * 0.6
    n = rng.random((cells, g.size)) * 3 * g.phonon_mask
    return f, n


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_energy_conserved_for_arbitrary_states(method):
    """d(E_qp + E_ph)/dt = 0 to round-off for random f, n and several gaps (batched cells)."""
    g = grid(step=D0 / 8)
    f, n = _random_state(g, 3, 7)
    spec = cell_spectra(g, [D0, 0.7 * D0, 0.0])
    k = CollisionKernel(g, RATIO, D0, method)
    df, dn = k.rates(f, n, spec)
    w = phonon_energy_weight(D0, RATIO)
    dq = np.sum(g.x * spec.rho * df, axis=1)
    dp = w * np.sum(g.x ** 3 * dn, axis=1)
    scale = np.sum(np.abs(g.x * spec.rho * df), axis=1)
    assert np.all(np.abs(dq + dp) <= 1e-13 * scale)
    assert np.all(scale > 0)


def test_fft_matches_direct_random_and_cascade():
    g = grid(step=D0 / 16)
    f, n = _random_state(g, 2, 3)
    x = g.x
    f3 = fermi(x, 0.1) + 1e-4 * np.exp(-0.5 * ((x - 4 * D0) / D0) ** 2)
    n3 = (bose(x, 0.1) + 1e-4 * np.exp(-0.5 * ((x - 12 * D0) / D0) ** 2)) * g.phonon_mask
    f = np.vstack([f, f3])
    n = np.vstack([n, n3])
    spec = cell_spectra(g, [D0, 0.5 * D0, D0])
    cd = CollisionKernel(g, RATIO, D0, "direct").coefficients(f, n, spec)
    cf = CollisionKernel(g, RATIO, D0, "fft").coefficients(f, n, spec)
    for name in ("A", "B", "Ap", "Bp"):
        a, b = getattr(cd, name), getattr(cf, name)
        assert np.all(a >= 0) and np.all(b >= 0)
        for c in range(3):
            assert np.abs(a[c] - b[c]).max() <= 1e-12 * np.abs(a[c]).max(), (name, c)


def test_batched_equals_per_cell():
    g = grid(step=D0 / 8)
    f, n = _random_state(g, 3, 11)
    spec = cell_spectra(g, [D0, 0.8 * D0, 0.3 * D0])
    k = CollisionKernel(g, RATIO, D0, "fft")
    batch = k.coefficients(f, n, spec)
    for c, d in enumerate([D0, 0.8 * D0, 0.3 * D0]):
        one = k.coefficients(f[c:c + 1], n[c:c + 1], cell_spectra(g, [d]))
        assert np.allclose(one.B[0], batch.B[c], rtol=1e-13, atol=1e-13 * batch.B[c].max())


def test_grid_sums_match_definitions():
    rng = np.random.default_rng(0)
    p, q = rng.random((1, 9)), rng.random((1, 9))
    i = 3
    assert np.isclose(corr(p, q)[0, i], sum(p[0, j] * q[0, i + j] for j in range(9 - i)))
    assert np.isclose(conv(p, q)[0, i], sum(p[0, j] * q[0, i - j] for j in range(i + 1)))
    assert np.isclose(hcorr(p, q)[0, i], sum(p[0, i + k] * q[0, k] for k in range(9 - i)))


def test_normal_state_emission_rate_is_sum_of_squares():
    """Delta = 0, T = 0: a QP at x_i emits phonons at the rate h sum_{j=1}^{i} x_j^2 rho_{i-j}
    (the Debye alpha^2F, 1/tau = E^3/3 in the continuum; rho = 1 except the half cell
    [0, h/2] at E = 0, rho_0 = 1/2), and a phonon breaks pairs at c_r h sum_{i+k=j} rho_i rho_k
    = c_r h j."""
    g = grid(step=0.1, emax=5.0)
    spec = cell_spectra(g, [0.0])
    f = np.zeros((1, g.size))
    n = np.zeros((1, g.size))
    k = CollisionKernel(g, RATIO, D0, "fft")
    c = k.coefficients(f, n, spec)
    i = np.arange(g.size)
    h = g.step
    expected = h ** 3 * (i * (i + 1) * (2 * i + 1) / 6 - 0.5 * i ** 2)
    assert np.allclose(c.B[0], expected, rtol=1e-12, atol=1e-14 * expected.max())
    assert np.allclose(c.Bp[0][1:], k.c_pair * h * i[1:], rtol=1e-12)
    # continuum limit E^3 / 3 at E = 5
    assert abs(c.B[0, -1] / (g.x[-1] ** 3 / 3) - 1) < 0.11


@pytest.mark.parametrize("T, deposit", [(0.1, False), (0.1, True), (0.2, True)])
def test_tilted_fft_gains_match_direct_sums_in_cold_tails(T, deposit):
    """With ``tail_temperature`` the FFT gains A, A' hold their own relative accuracy at
    every energy, cold tails down to 1e-119 included, where the plain FFT leaves them at eps
    times the largest rate (relative errors up to 1e97 here): relative to the direct sums
    within 1e-4 wherever the direct value is above 1e-280 (measured: A 3e-10, A' 3e-7 to
    7e-6 with a deposit of QPs at 4 Delta_0 and phonons at 12 Delta_0, whose bumps dominate
    the tilted norms; 2.2e-5 with numpy's SIMD off). The losses B, B' stay as accurate as
    before."""
    g = grid(step=D0 / 8)
    x = g.x
    f = fermi(x, T)[None, :] * np.ones((2, 1))
    n = (bose(x, T) * g.phonon_mask)[None, :] * np.ones((2, 1))
    if deposit:
        f[1] += 1e-4 * np.exp(-0.5 * ((x - 4 * D0) / D0) ** 2)
        n[1] += 1e-4 * np.exp(-0.5 * ((x - 12 * D0) / D0) ** 2) * g.phonon_mask
    spec = cell_spectra(g, [equilibrium_gap(T, D0)] * 2)
    cd = CollisionKernel(g, RATIO, D0, "direct").coefficients(f, n, spec, clip=False)
    ct = CollisionKernel(g, RATIO, D0, "fft", tail_temperature=T).coefficients(f, n, spec, clip=False)
    cp = CollisionKernel(g, RATIO, D0, "fft").coefficients(f, n, spec, clip=False)
    for name in ("A", "Ap"):
        ref, tilted, plain = getattr(cd, name), getattr(ct, name), getattr(cp, name)
        ok = np.abs(ref) > 1e-280
        assert np.max(np.abs(tilted - ref)[ok] / np.abs(ref)[ok]) < 1e-4, name
        assert np.max(np.abs(plain - ref)[ok] / np.abs(ref)[ok]) > 1e3, name  # the plain FFT's floor
    for name in ("B", "Bp"):
        ref, tilted = getattr(cd, name), getattr(ct, name)
        assert np.abs(tilted - ref).max() <= 1e-12 * np.abs(ref).max(), name
