"""The strip pair weights at the gap edge in the collision kernel (physics/pair_correction.py;
docs/numerics.md, "Pair processes at the gap edge"): per-mode pair-breaking rates against the
continuum BCS rate, exact detailed balance and energy conservation with them, and their
derivatives."""
import numpy as np
import pytest
from scipy.integrate import quad

from boltzphlow_mpi.physics.collision_derivatives import coefficient_derivatives
from boltzphlow_mpi.physics.collisions import CollisionKernel, conv
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra, gap_aligned_step
from boltzphlow_mpi.physics.statistics import bose, fermi

D0 = 1.764


def continuum_rate(omega, delta):
    """``Gamma(Omega) = int_Delta^(Omega-Delta) (E E' + Delta^2)/sqrt((E^2-Delta^2)(E'^2-Delta^2)) dE``
    by scipy's quadrature (the 1/sqrt end by its algebraic weight; symmetric about Omega/2)."""
    if omega <= 2 * delta:
        return 0.0

    def g(e):
        ep = omega - e
        return (e * ep + delta * delta) / np.sqrt((e + delta) * (ep * ep - delta * delta))
    return 2 * quad(g, delta, omega / 2, weight="alg", wvar=(-0.5, 0.0), limit=200)[0]


def per_mode_breaking(grid, delta, edge_pairs):
    kern = CollisionKernel(grid, 1.0, D0, edge_pairs=edge_pairs)
    sp = cell_spectra(grid, [delta])
    rate = grid.step * (conv(sp.rho, sp.rho) + conv(sp.phi, sp.phi))[0]
    if kern.edge is not None:
        rate = rate + kern.edge.mode_sums(np.zeros((1, grid.size)), sp)[1][0]
    return rate


@pytest.mark.parametrize("n", [16, 32, 64])
def test_per_mode_pair_breaking_matches_the_continuum_in_every_cell(n):
    """On the gap-aligned grid every phonon mode from 2 Delta to 2 Delta + 3 Delta has the
    continuum's pair-breaking rate at its node within 1e-3 (the issue asks 1 % at Delta_0/32;
    measured 1e-4 in the first cells); the products of cell averages are 4.5 % low in the first
    mode at every h (and 36 % low at the threshold mode with the gap on a node), so this test
    fails on them."""
    delta = D0
    grid = EnergyGrid.from_max(gap_aligned_step(D0 / n, delta), 6 * D0, 100 * D0)
    x, h = grid.x, grid.step
    modes = np.flatnonzero((x - h / 2 >= 2 * delta - 1e-9 * h) & (x <= 5 * delta))
    assert (x[modes[0]] - 2 * delta) / h == pytest.approx(0.5)  # no mode straddles 2 Delta
    strip = per_mode_breaking(grid, delta, True)
    product = per_mode_breaking(grid, delta, False)
    exact = np.array([continuum_rate(x[m], delta) for m in modes])
    assert np.max(np.abs(strip[modes] / exact - 1)) < 1e-3
    assert product[modes[0]] / exact[0] < 0.96
    # below the threshold: no pair breaking
    assert np.all(strip[:modes[0]] == 0.0)


def _batch(grid):
    """Four cells with different gaps (one on a node, one a quarter step off, ...) and states
    away from equilibrium: thermal; a hot phonon packet; a hot QP packet; random."""
    gaps = D0 * np.array([1.0, 0.9, 1.0 + 0.25 / 16, 0.7])
    spec = cell_spectra(grid, gaps, 0.0)
    f, n = np.tile(fermi(grid.x, 0.2), (4, 1)), np.tile(bose(grid.x, 0.2) * grid.phonon_mask, (4, 1))
    bump = np.exp(-0.5 * ((grid.x - 2.2 * D0) / (0.3 * D0)) ** 2)
    n[1] += 1e-2 * bump * grid.phonon_mask
    f[2] += 1e-2 * bump * spec.active[2]
    f[3] *= 1.0 + 0.3 * np.random.default_rng(3).random(grid.size)
    return spec, f, n


@pytest.mark.parametrize("method", ["fft", "direct"])
def test_detailed_balance_and_energy_conservation_with_the_strip_weights(method):
    """Thermal f and n: every rate vanishes to round-off (detailed balance); any f, n: the QP
    energy gained equals the phonon energy lost, ``4 h sum x rho df/dt + 4 W h sum x^3 dn/dt = 0``
    to round-off; and the correction is there (the coefficients differ from the products')."""
    from boltzphlow_mpi.physics.analysis.diagnostics import phonon_energy_weight
    grid = EnergyGrid.from_max(D0 / 16, 8 * D0, 6 * D0)
    spec, f, n = _batch(grid)
    kern = CollisionKernel(grid, 1800.0, D0, method)
    plain = CollisionKernel(grid, 1800.0, D0, method, edge_pairs=False)
    # the correction's own terms balance in the thermal state (what the products leave is
    # their own round-off, the same in both)
    c, c0 = (k.coefficients(f[:1], n[:1], spec.row(0), clip=False) for k in (kern, plain))
    (df, dn), (df0, dn0) = (k.rates(f[:1], n[:1], spec.row(0), clip=False) for k in (kern, plain))
    assert np.max(np.abs(df - df0)) < 1e-12 * np.max(np.abs(c.B - c0.B) * f[:1])
    assert np.max(np.abs(dn - dn0)) < 1e-12 * np.max(np.abs(c.Bp - c0.Bp) * n[:1])
    c, c0 = kern.coefficients(f, n, spec), plain.coefficients(f, n, spec)
    assert np.max(np.abs(c.Bp - c0.Bp)) > 1e-3 * np.max(np.abs(c0.Bp))
    df, dn = kern.rates(f, n, spec)
    x, h, W = grid.x, grid.step, phonon_energy_weight(D0, 1800.0)
    qp = 4 * h * x * spec.rho * df
    ph = 4 * W * h * x ** 3 * dn
    # to round-off of the largest transfer in the batch (the thermal cell's sums are themselves round-off)
    scale = np.max(np.sum(np.abs(qp), axis=1) + np.sum(np.abs(ph), axis=1))
    assert np.all(np.abs(np.sum(qp, axis=1) + np.sum(ph, axis=1)) < 1e-14 * scale)


def test_derivatives_of_the_corrected_coefficients():
    """``coefficient_derivatives`` with the strip weights against central differences of the
    coefficients (quadratic in f, linear in n: differences with steps of order one are exact
    up to round-off), to 1e-9 of each row's largest entry."""
    grid = EnergyGrid.from_max(D0 / 8, 5 * D0, 4 * D0)
    spec, f, n = _batch(grid)
    spec, f, n = spec.row(2), f[2:3], n[2:3]
    kern = CollisionKernel(grid, 1800.0, D0, "direct")
    d = coefficient_derivatives(kern, f, n, spec)
    N = grid.size
    for which, base, names in (("f", f, ("A_f", "B_f", "Ap_f", "Bp_f")), ("n", n, ("A_n", "B_n"))):
        for j in range(N):
            step = 0.5
            up, dn_ = base.copy(), base.copy()
            up[0, j] += step
            dn_[0, j] -= step
            args_up = (up, n) if which == "f" else (f, up)
            args_dn = (dn_, n) if which == "f" else (f, dn_)
            cu = kern.coefficients(*args_up, spec, clip=False)
            cd = kern.coefficients(*args_dn, spec, clip=False)
            for name in names:
                coef = {"A": "A", "B": "B", "Ap": "Ap", "Bp": "Bp"}[name.split("_")[0]]
                fd = (getattr(cu, coef) - getattr(cd, coef))[0] / (2 * step)
                got = d[name][0][:, j]
                scale = np.max(np.abs(d[name][0]), axis=1) + 1e-300
                assert np.all(np.abs(got - fd) <= 1e-9 * scale + 1e-300), (name, j)
