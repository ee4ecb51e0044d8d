"""The exact Jacobian of a cell's kinetics (physics/jacobian.py) against independent
derivatives of ``CellKinetics.rhs`` and against energy conservation."""
import numpy as np
import pytest

from boltzphlow_mpi.physics.drives import Drive
from boltzphlow_mpi.physics.jacobian import jacobian
from boltzphlow_mpi.physics.kinetics import CellKinetics

from helpers import BCS_RATIO, cascade_problem


def _state(prob, y, seed=1):
    """A non-thermal admissible state: the cascade packet plus smooth noise on f and n."""
    rng = np.random.default_rng(seed)
    f, n = prob.directional(y)
    f = np.clip(f * (1 + 0.2 * rng.random(f.shape)) + 1e-3 * rng.random(f.shape) * prob.spectra.active[:, None], 0, 1)
    n = n * (1 + 0.2 * rng.random(n.shape)) + 1e-3 * rng.random(n.shape) * prob.grid.phonon_mask
    return prob.pack(f, n, 0.0)


def _jvp(prob, y, v, h=1e-3):
    """``J v`` from the 5-point central stencil of ``rhs`` (no clipping): exact for the cubic
    collision part, O(h^4) for the drives."""
    r = lambda s: prob.rhs(y + s * v, clip=False)
    return (8 * (r(h) - r(-h)) - (r(2 * h) - r(-2 * h))) / (12 * h)


def _direction(prob, y, seed=2):
    rng = np.random.default_rng(seed)
    v = np.zeros_like(y)
    occ = prob.nf + prob.nn
    v[:, :occ] = rng.standard_normal((len(y), occ)) * np.maximum(np.abs(y[:, :occ]), 1e-4)
    return v


def _close(a, b, rtol, prob=None):
    """Equal to ``rtol`` of the scale of each block of rows (f, n, each accumulator), or to
    round-off (1e-12) of the largest entry for a block that is zero (a constant accumulator
    gain: its central differences leave round-off, its exact derivative is 0)."""
    if prob is None:
        blocks = [slice(None)]
    else:
        occ = prob.nf + prob.nn
        blocks = [slice(0, prob.nf), slice(prob.nf, occ)] + [slice(k, k + 1) for k in range(occ, prob.width)]
    for rows in blocks:
        scale = np.max(np.abs(b[..., rows]))
        err = np.max(np.abs(a[..., rows] - b[..., rows]))
        assert err <= max(rtol * scale, 1e-12 * np.max(np.abs(b))), (rows, err, scale)


@pytest.mark.parametrize("species", ["phonon", "qp"])
def test_jacobian_times_vector_matches_the_derivative_of_rhs(species):
    prob, y0 = cascade_problem(step=BCS_RATIO / 4, emax=8 * BCS_RATIO, method="direct", species=species,
                               centre=5 * BCS_RATIO, escape_rate=0.05, subgap=False)
    y = _state(prob, y0)
    v = _direction(prob, y)
    J = jacobian(prob, y)
    _close(np.einsum("cij,cj->ci", J, v), _jvp(prob, y, v), 1e-9, prob)


def test_jacobian_with_angles_and_several_cells():
    """Directional unknowns (two QP and two phonon angles), three cells with other gaps:
    the assembly from the angle averages, cell by cell."""
    base, y0 = cascade_problem(step=BCS_RATIO / 4, emax=8 * BCS_RATIO, method="direct", cells=3,
                               centre=5 * BCS_RATIO)
    prob = CellKinetics(base.grid, base.kernel, base.delta * np.array([1.0, 0.9, 1.1]),
                        bath_temperature=base.bath_temperature, phonon_weight=base.phonon_weight,
                        qp_angles=2, phonon_angles=2)
    f, n, _ = base.unpack(y0)
    rng = np.random.default_rng(3)
    fd = np.clip(f[:, None, :] * (1 + 0.3 * rng.random((3, 2, prob.N))), 0, 1) * prob.spectra.active[:, None]
    nd = n[:, None, :] * (1 + 0.3 * rng.random((3, 2, prob.N)))
    y = prob.pack(fd, nd, 0.0)
    v = _direction(prob, y)
    _close(np.einsum("cij,cj->ci", jacobian(prob, y), v), _jvp(prob, y, v), 1e-9, prob)


def test_fft_and_direct_jacobians_agree_cold_tails_included():
    """The FFT sums' round-off stays at eps of each block's scale: the steps are O(1)."""
    prob, y0 = cascade_problem(method="fft", temperature=0.1)
    y = _state(prob, y0)
    J_fft = jacobian(prob, y)
    with prob.using_kernel(type(prob.kernel)(prob.grid, 438.0 / 0.242, BCS_RATIO, "direct")):
        J_dir = jacobian(prob, y)
    occ = prob.nf + prob.nn
    for rows in (slice(0, prob.nf), slice(prob.nf, occ)):
        for cols in (slice(0, prob.nf), slice(prob.nf, occ)):
            _close(J_fft[0, rows, cols], J_dir[0, rows, cols], 1e-11)


def test_closed_cell_conserves_energy_in_the_jacobian():
    """Without escape and drives ``d(E_qp + E_ph)/dt = 0`` for every state, so the energy
    weights annihilate the Jacobian's columns: ``w^T J = 0`` (to round-off)."""
    prob, y0 = cascade_problem(method="fft")
    y = _state(prob, y0)
    J = jacobian(prob, y)[0]
    occ = prob.nf + prob.nn
    w = prob.energy_weights()[0]
    wJ = w @ J[:occ, :occ]
    assert np.max(np.abs(wJ)) <= 1e-12 * np.max(np.abs(w[:, None] * J[:occ, :occ])) * occ


@pytest.mark.parametrize("kind, energy", [("photon", 4.0), ("microwave", 0.5), ("phonon", 3.0)])
def test_jacobian_with_a_drive(kind, energy):
    prob, y0 = cascade_problem(step=BCS_RATIO / 4, emax=8 * BCS_RATIO, method="direct", centre=5 * BCS_RATIO,
                               escape_rate=0.05, subgap=False)
    m = round(energy * BCS_RATIO / prob.grid.step)
    prob.drives = [Drive(kind, m, np.array([1e-4]))]
    y = _state(prob, y0)
    v = _direction(prob, y)
    _close(np.einsum("cij,cj->ci", jacobian(prob, y), v), _jvp(prob, y, v, h=1e-6), 1e-6, prob)


def _polynomial_differences(model, u0, spectra, step=0.25):
    """``d(gf, kf, gn, kn, acc)/du`` of one cell without drives at ``u0`` (2N,) by central
    differences with steps of order one (``step`` of an occupation): along one unknown
    every rate is a polynomial of degree at most two, so they are exact, and the FFT
    round-off of the sums is not divided by a tiny step. Each (outputs, 2N)."""
    n, N = len(u0), model.N
    cols = np.arange(n)
    u = np.repeat(u0[None, :], 2 * n, axis=0)
    u[cols, cols] += step
    u[n + cols, cols] -= step
    y = model.pack(u[:, :N], u[:, N:], 0.0)
    saved = model.spectra, model.drives
    model.set_spectra(spectra.tile(len(u)))
    model.drives = []
    try:
        G, K = model.split(y, clip=False)
    finally:
        model.drives = saved[1]
        model.set_spectra(saved[0])
    nf, nn = model.nf, model.nn
    parts = G[:, :N], K[:, :N], G[:, nf:nf + N], K[:, nf:nf + N], G[:, nf + nn:]
    return [((p[:n] - p[n:]) / (2 * step)).T for p in parts]


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_analytic_derivatives_match_the_polynomial_differences(method):
    """The Toeplitz/Hankel derivatives of the grid sums (physics/collision_derivatives.py)
    against central differences with O(1) steps, exact for the polynomial rates: three
    cells with other gaps, escape on all phonons."""
    from boltzphlow_mpi.physics.jacobian import derivatives

    base, y0 = cascade_problem(step=BCS_RATIO / 4, emax=8 * BCS_RATIO, method=method, cells=3,
                               centre=5 * BCS_RATIO)
    prob = CellKinetics(base.grid, base.kernel, base.delta * np.array([1.0, 0.9, 1.1]),
                        bath_temperature=base.bath_temperature, phonon_weight=base.phonon_weight,
                        escape_rate=0.05)
    y = _state(prob, prob.pack(*base.unpack(y0)[:2], 0.0))
    fbar, nbar, _ = prob.unpack(y)
    d = derivatives(prob, y)
    for c in range(3):
        u0 = np.concatenate([fbar[c], nbar[c]])
        ref = _polynomial_differences(prob, u0, prob.spectra.row(c))
        for k, r in zip(("dgf", "dkf", "dgn", "dkn", "dacc"), ref, strict=True):
            assert np.max(np.abs(d[k][c] - r)) <= 1e-11 * np.max(np.abs(r)), (c, k)
