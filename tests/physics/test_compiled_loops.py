"""Compiled loops against the numpy code they replaced.

The hot loops of a step are numba-compiled (``boltzphlow_mpi.jit.njit``) and must stay
bitwise equal to the numpy expressions they replaced (docs/performance.md, "Full radial
step"), so the numpy versions are kept here, trimmed, as references. Every comparison is
exact (values, signs of zeros, NaN positions, the state returned, the violation named), on
seeded random inputs that reach the edge cases of each loop; the FFT collision coefficients
are exact with numpy's SIMD off (make test's second serial pass) and to round-off with it on,
where numpy's vectorized complex products may round otherwise on some CPUs.
"""
import os

import numpy as np
import pytest
from scipy import fft as sfft

from boltzphlow_mpi.fileio.mesh import RadialMesh
from boltzphlow_mpi.numerics.steppers import ROUNDOFF, clean_roundoff, exponential_update
from boltzphlow_mpi.physics.collisions import Coefficients, CollisionKernel, conv, corr, hcorr
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO
from boltzphlow_mpi.physics.gap.remap import remap_occupation
from boltzphlow_mpi.physics.kinetics import CellKinetics
from boltzphlow_mpi.physics.statistics import bose, fermi
from boltzphlow_mpi.physics.transport import GHOSTS, Streaming, ghosted_edges, thomas

D0 = BCS_RATIO


def same(new, ref):
    """Bitwise equal: shape, values, NaN positions and the signs of zeros; or both None."""
    assert (new is None) == (ref is None)
    if ref is not None:
        new, ref = np.asarray(new), np.asarray(ref)
        assert new.shape == ref.shape
        assert np.array_equal(new, ref, equal_nan=True)
        assert np.array_equal(np.signbit(new), np.signbit(ref))


# -- Streaming.rate --------------------------------------------------------------------
class OldStreaming(Streaming):
    def rate(self, n_ghosted, n_bath):
        g, mu = GHOSTS, self.mu[None, :, None]
        own, left = n_ghosted[g:-g], n_ghosted[g - 1:-g - 1]
        right = n_ghosted[g + 1:len(n_ghosted) - g + 1].copy()
        if self.order == 2:
            c, n = self.centres_all, n_ghosted
            a = (n[1:-1] - n[:-2]) / (c[1:-1] - c[:-2])[:, None, None]
            b = (n[2:] - n[1:-1]) / (c[2:] - c[1:-1])[:, None, None]
            slope = np.where(a * b > 0, np.where(np.abs(a) < np.abs(b), a, b), 0.0)
            if self.owns_centre:
                slope[:2] = 0.0
            if self.owns_outer:
                slope[-2:] = 0.0
            hw = self.half_width_all[:, None, None] * slope
            own_hi, own_lo = own + hw[1:-1], own - hw[1:-1]
            left_hi, right_lo = left + hw[:-2], right - hw[2:]
        else:
            own_hi = own_lo = own
            left_hi, right_lo = left, right
        if self.owns_outer:
            if self.boundary == "bath":
                right_lo[-1] = np.broadcast_to(n_bath, right_lo[-1].shape)
            else:
                right_lo[-1] = own[-1][::-1]
        face_hi, face_lo = np.where(mu > 0, own_hi, right_lo), np.where(mu > 0, left_hi, own_lo)
        spatial = mu * (self.area[1:, None, None] * face_hi - self.area[:-1, None, None] * face_lo)
        up = self.alpha[None, 1:, None] * own
        down = np.zeros_like(own)
        down[:, 1:] = self.alpha[None, 1:-1, None] * own[:, :-1]
        angular = self.darea[:, None, None] / self.w[None, :, None] * (up - down)
        v = np.asarray(self.speed)
        dn = -v * (spatial + angular) / self.volume[:, None, None]
        flux = v * mu[0] * self.area[-1] * face_hi[-1] if self.owns_outer else None
        return dn, flux


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("owns_centre", [True, False])
@pytest.mark.parametrize("owns_outer", [True, False])
@pytest.mark.parametrize("boundary", ["bath", "reflecting"])
@pytest.mark.parametrize("per_energy", [False, True])
def test_streaming_rate(order, owns_centre, owns_outer, boundary, per_energy):
    rng = np.random.default_rng([order, owns_centre, owns_outer, boundary == "bath", per_energy])
    mesh = RadialMesh.graded(20.0, 20, 1.05)
    c0, c1 = (0 if owns_centre else 4), (20 if owns_outer else 13)
    speed = rng.uniform(0.5, 3.0, 5) if per_energy else 2.0  # 5 energies, 6 directions
    args = (ghosted_edges(mesh, c0, c1), 6, speed, owns_centre, owns_outer, boundary, order)
    n = rng.random((c1 - c0 + 2 * GHOSTS, 6, 5))
    n[rng.random(n.shape) < 0.2] = 0.0         # zero slopes and zero cells
    flat = rng.random(n.shape[0] - 1) < 0.3
    n[1:][flat] = n[:-1][flat]                 # equal neighbours: minmod's zero branch
    n[3, :, 2] = -n[3, :, 2]                   # an extremum of either sign
    n_bath = rng.random(5)
    for new, ref in zip(Streaming(*args).rate(n, n_bath), OldStreaming(*args).rate(n, n_bath)):
        same(new, ref)  # dn/dt, and the flux through R (None unless owns_outer)


# -- thomas ------------------------------------------------------------------------------
def old_thomas(a, b, c, d):
    n = len(b)
    cp, dp, x = np.empty_like(b), np.empty_like(d), np.empty_like(d)
    cp[0], dp[0] = c[0] / b[0], d[0] / b[0]
    for i in range(1, n):
        den = b[i] - a[i] * cp[i - 1]
        cp[i] = c[i] / den
        dp[i] = (d[i] - a[i] * dp[i - 1]) / den
    x[-1] = dp[-1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return x


@pytest.mark.parametrize("shape", [(1,), (7,), (1, 4), (7, 4), (1, 2, 3), (7, 2, 3)])
def test_thomas(shape):
    rng = np.random.default_rng(len(shape) * 10 + shape[0])
    a, c, d = (rng.normal(size=shape) for _ in range(3))
    b = 2.5 + rng.random(shape) + np.abs(a) + np.abs(c)
    a[0] = c[-1] = 0.0
    same(thomas(a, b, c, d), old_thomas(a, b, c, d))


# -- remap_occupation ------------------------------------------------------------------
def old_remap(f, rho_old, rho_new, step):
    f = np.asarray(f, float)
    out = f.copy()
    cells, n = rho_old.shape
    if cells == 0:
        return out
    rows, res = f.reshape(cells, -1, n), out.reshape(cells, -1, n)
    for c in range(cells):
        ro, rn = rho_old[c], rho_new[c]
        if np.array_equal(ro, rn):
            continue
        xo, xn = (np.concatenate([[0.0], np.cumsum(step * r)]) for r in (ro, rn))
        cuts = np.unique(np.concatenate([xo, xn]))
        length = np.diff(cuts)
        mid = 0.5 * (cuts[1:] + cuts[:-1])
        io, inew = (np.clip(np.searchsorted(x, mid, side="right") - 1, 0, n - 1) for x in (xo, xn))
        inside = mid < xo[-1]
        weight = np.bincount(inew, weights=length, minlength=n)
        weight[-1] = step * rn[-1]
        has = (rn > 0) & (weight > 0)
        for m in range(rows.shape[1]):
            content = np.bincount(inew, weights=np.where(inside, length * rows[c, m][io], 0.0), minlength=n)
            new = np.where(has, content / np.where(has, weight, 1.0), rows[c, m])
            new[-1] = min(new[-1], 1.0)
            res[c, m] = new
    return out


GRID = EnergyGrid.from_max(D0 / 8, 6 * D0, 300.0)
SHIFTS = {"none": [], "one": [0.3], "several": [0.0, 0.3, -0.45, 3.7, -2.2]}  # gap change / h


@pytest.mark.parametrize("cells", list(SHIFTS))
@pytest.mark.parametrize("rows", [None, 3, "flat"])
@pytest.mark.parametrize("gamma", [0.0, 0.02])
def test_remap_occupation(cells, rows, gamma):
    h, shifts = GRID.step, SHIFTS[cells]
    rng = np.random.default_rng(len(shifts) + 7 * (rows is None) + int(gamma * 100))
    gaps = D0 * rng.uniform(0.8, 1.2, len(shifts))
    old = cell_spectra(GRID, gaps, gamma).rho
    new = cell_spectra(GRID, gaps + h * np.asarray(shifts), gamma).rho
    assert len(shifts) < 2 or np.array_equal(old[0], new[0])  # the first cell is unchanged
    shape = (len(shifts), GRID.size) if rows is None else (len(shifts), 3, GRID.size)
    f = rng.random(shape)
    f[rng.random(shape) < 0.1] = 0.0
    f[..., -10:] *= 1e-3  # a small tail: the top cell is not capped (that loses number)
    if rows == "flat":
        f = f.reshape(len(shifts), 3 * GRID.size)  # (cells, M * N), as the radial model passes it
    out = remap_occupation(f, old, new, h)
    same(out, old_remap(f, old, new, h))
    full = (len(shifts), 1 if rows is None else 3, GRID.size)  # (cells, directions, N)
    rows_old, rows_new = f.reshape(full), out.reshape(full)
    number_old, number_new = (4 * h * np.einsum("ck,cmk->cm", r, x) for r, x in ((old, rows_old), (new, rows_new)))
    assert np.all(np.abs(number_new - number_old) <= 1e-13 * number_old)


def test_remap_caps_the_top_cell():
    """A larger gap moves old content beyond the new top into the top cell: f = 1 there is capped."""
    h = GRID.step
    old = cell_spectra(GRID, [D0, D0, D0], 0.0).rho
    new = cell_spectra(GRID, [D0 + 2.5 * h, D0 + 0.2 * h, D0], 0.0).rho
    f = np.random.default_rng(3).random((3, 2, GRID.size))
    f[:, :, -3:] = 1.0
    f[:, 1, -1] = 1.0 - 2.0 ** -30
    out = remap_occupation(f, old, new, h)
    same(out, old_remap(f, old, new, h))
    assert out[0, 0, -1] == 1.0 and np.all(out <= 1.0)


# -- CollisionKernel.coefficients --------------------------------------------------------
class OldKernel(CollisionKernel):
    mixed = False  # whether the tilted and the plain evaluation were both taken somewhere

    def coefficients(self, f, n, spectra, clip=True):
        f, n = np.atleast_2d(f), np.atleast_2d(n)
        rho, phi, p0 = spectra.rho, spectra.phi, self.coupling * n
        qp = (rho * f, phi * f, rho * (1.0 - f), phi * (1.0 - f))
        has_states = spectra.rho > 0
        first = np.where(has_states.any(axis=1), np.argmax(has_states, axis=1), self.grid.size)
        pair = np.arange(self.grid.size)[None, :] >= 2 * first[:, None]
        sums = self._fft(qp, p0, pair, f, n) if self.method == "fft" else self._direct(qp, p0, pair)
        (a_rho, a_phi, b_rho, b_phi, ap, bp), h, r = sums, self.grid.step, spectra.ratio
        A, B, Ap, Bp = h * (a_rho - r * a_phi), h * (b_rho - r * b_phi), h * ap, h * bp
        if clip:
            A, B, Ap, Bp = (np.maximum(v, 0.0) for v in (A, B, Ap, Bp))
        return Coefficients(np.where(spectra.active, A, 0.0), np.where(spectra.active, B, 0.0),
                            np.where(self.phonon_mask, Ap, 0.0), np.where(self.phonon_mask, Bp, 0.0))

    def _fft(self, qp, p0, pair, f, n):
        L, N = self.fft_size, self.grid.size
        p1 = p0 + self.coupling
        a, b, c, d, P0, Q0, Q1 = sfft.rfft(np.stack(qp + (p0, p0 * pair, p1 * pair)), L, axis=-1)
        P1, cs, cr = P0 + self._coupling_hat, self.c_scatter, self.c_pair
        ca, cb, cc, cd, cP0, cP1 = (np.conj(x) for x in (a, b, c, d, P0, P1))
        out = sfft.irfft(np.stack([
            cP1 * a + P0 * a + Q0 * cc, cP1 * b + P0 * b - Q0 * cd,
            cP0 * c + P1 * c + Q1 * ca, cP0 * d + P1 * d - Q1 * cb,
            cs * (cc * a - cd * b) + cr * (a * a + b * b), cs * (ca * c - cb * d), cr * (c * c + d * d),
        ]), L, axis=-1)[..., :N]
        if self.tilt is not None:
            self._tilted_gains(out, qp, p0, pair, f, n)
        return tuple(out[:5]) + (out[5] + out[6] * pair,)

    def _tilted_gains(self, out, qp, p0, pair, f, n):
        L, N = self.fft_size, self.grid.size
        alpha = self._tilt_rates(f, n)[:, None]
        k = np.arange(N)[None, :]
        up, down = np.exp(alpha * k), np.exp(-alpha * k)
        a, b, c, d = qp
        q0, p1 = p0 * pair, p0 + self.coupling
        ap_, bp_, cm, dm, p0p, q0p, p1m = (a * up, b * up, c * down, d * down, p0 * up, q0 * up, p1 * down)
        A, B, C, D, P0p, P1m, Q0p = sfft.rfft(np.stack([ap_, bp_, cm, dm, p0p, p1m, q0p]), L, axis=-1)
        cs, cr, cP1m, cC, cD = self.c_scatter, self.c_pair, np.conj(P1m), np.conj(C), np.conj(D)
        tilted = sfft.irfft(np.stack([cP1m * A + P0p * A + cC * Q0p, cP1m * B + P0p * B - cD * Q0p,
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
            self.mixed |= bool(better.any() and not better.all())
            out[row] = np.where(better, tilted[j], out[row])

    def _direct(self, qp, p0, pair):
        a, b, c, d = qp
        p1 = p0 + self.coupling
        q0, q1, cs, cr = p0 * pair, p1 * pair, self.c_scatter, self.c_pair
        return (corr(p1, a) + conv(p0, a) + hcorr(q0, c), corr(p1, b) + conv(p0, b) - hcorr(q0, d),
                corr(p0, c) + conv(p1, c) + hcorr(q1, a), corr(p0, d) + conv(p1, d) - hcorr(q1, b),
                cs * (corr(c, a) - corr(d, b)) + cr * (conv(a, a) + conv(b, b)),
                cs * (corr(a, c) - corr(b, d)) + cr * (conv(c, c) + conv(d, d)))


@pytest.mark.parametrize("method, tail", [("fft", None), ("fft", 0.1), ("direct", None)])
@pytest.mark.parametrize("clip", [True, False])
def test_collision_coefficients(method, tail, clip):
    """Four cells with different gaps at T = 0.1: thermal; a hot phonon packet; a hot QP
    packet; a thermal f with a random perturbation (negative FFT round-off to clip)."""
    g = EnergyGrid.from_max(D0 / 8, 10 * D0, 6 * D0)  # the phonon band ends inside the grid
    spec = cell_spectra(g, D0 * np.array([1.0, 0.9, 1.1, 0.7]), 0.0)
    f, n = np.tile(fermi(g.x, 0.1), (4, 1)), np.tile(bose(g.x, 0.1) * g.phonon_mask, (4, 1))
    bump = np.exp(-0.5 * ((g.x - 4 * D0) / (0.3 * D0)) ** 2)
    n[1] += 1e-3 * bump * g.phonon_mask
    f[2] += 1e-3 * bump * spec.active[2]
    f[3] *= 1.0 + 0.1 * np.random.default_rng(5).random(g.size)
    # the sums themselves (the strip weights at the gap edge are a separate term, pair_correction)
    new = CollisionKernel(g, 438.0 / 0.242, D0, method, tail_temperature=tail, edge_pairs=False)
    ref = OldKernel(g, 438.0 / 0.242, D0, method, tail_temperature=tail)
    c_new, c_ref = new.coefficients(f, n, spec, clip), ref.coefficients(f, n, spec, clip)
    for name in ("A", "B", "Ap", "Bp"):
        if os.environ.get("NPY_DISABLE_CPU_FEATURES") or method == "direct":
            same(getattr(c_new, name), getattr(c_ref, name))
        else:
            # numpy's SIMD complex products may round unlike its scalar loop (and the
            # compiled one) on some CPUs (docs/numerics.md, "Rank independence"): bitwise
            # in make test's pass with numpy's SIMD off, to round-off of each row here
            got, want = getattr(c_new, name), getattr(c_ref, name)
            assert np.all(np.abs(got - want) <= 1e-14 * np.max(np.abs(want), axis=1, keepdims=True))
    assert ref.mixed == (tail is not None)  # the tilted case takes both evaluations


# -- exponential_update ------------------------------------------------------------------
def old_exponential_update(y, G, K, dt):
    z = np.asarray(-K * dt, float)
    small = np.abs(z) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        phi1 = np.where(small, 1.0 + 0.5 * z, np.expm1(z) / np.where(small, 1.0, z))
    return y * np.exp(-K * dt) + G * dt * phi1


@pytest.mark.parametrize("dt", [1e-4, 0.3, 100.0])
def test_exponential_update(dt):
    rng = np.random.default_rng(int(dt * 1e4))
    K = 10.0 ** rng.uniform(-12, 3, (3, 200))
    K[:, :10] = 0.0
    K[:, 10:20] = 1e-8 / dt * (1 + rng.uniform(-1e-6, 1e-6, 10))  # |z| at the branch point
    y, G = rng.random(K.shape), rng.normal(size=K.shape)
    same(exponential_update(y, G, K, dt), old_exponential_update(y, G, K, dt))


# -- check_state and clean_roundoff -------------------------------------------------------
def old_check_state(prob, y):
    f, n = prob.directional(y)
    for name, arr, bad in (("f", f, ~np.isfinite(f) | (f < 0) | (f > 1)), ("n", n, ~np.isfinite(n) | (n < 0))):
        if bad.any():
            c, m, k = np.argwhere(bad)[0]
            return name, int(c), int(k), float(arr[c, m, k])
    acc = y[:, prob.nf + prob.nn:]
    if not np.all(np.isfinite(acc)):
        return "accumulator", int(np.argwhere(~np.isfinite(acc))[0][0]), -1, float("nan")
    return None


def old_clean_roundoff(problem, y, eps=ROUNDOFF):
    out = None
    for name, s in problem.occupation_slices:
        block = y[:, s]
        low, high = block < 0, (block > 1) if name == "f" else None
        if not low.any() and (high is None or not high.any()):
            continue
        if out is None:
            out = y.copy()
        scale = eps * np.max(np.abs(block), axis=1, keepdims=True)
        fixed = np.where(low & (block >= -scale) & np.isfinite(scale), 0.0, block)
        if high is not None:
            fixed = np.where(high & (block <= 1 + eps), 1.0, fixed)
        out[:, s] = fixed
    return y if out is None else out


@pytest.fixture(scope="module")
def three_cells():
    """Three bath-state cells with 2 QP and 4 phonon directions (``directional``: (cells, M, N))."""
    g = EnergyGrid.from_max(D0 / 8, 10 * D0, 6 * D0)
    prob = CellKinetics(g, CollisionKernel(g, 438.0 / 0.242, D0), np.full(3, D0), bath_temperature=0.1,
                        qp_angles=2, phonon_angles=4)
    return prob, np.repeat(prob.reference_state, 3, axis=0)


TINY = 1e-300
# (block, cell, direction, energy index, value): f and n entries set off (or on) their bounds
STATES = {
    "clean": [], "on the bounds": [("f", 1, 0, 5, -0.0), ("n", 2, 3, 7, -0.0), ("f", 0, 1, 3, 1.0), ("n", 1, 1, 3, 5.0)],
    "f NaN": [("f", 1, 1, 30, np.nan)], "f slightly negative": [("f", 2, 0, 50, -TINY)],
    "f round-off negative": [("f", 0, 1, 60, -1e-20)], "f above 1": [("f", 0, 0, 4, 1.0 + 2.0 ** -52)],
    "f above 1 far": [("f", 0, 1, 4, 1.5)], "f inf": [("f", 2, 0, 9, np.inf)], "f -inf": [("f", 1, 1, 9, -np.inf)],
    "n negative": [("n", 1, 2, 40, -TINY)], "n round-off negative": [("n", 0, 3, 40, -1e-30)],
    "n inf": [("n", 2, 1, 41, np.inf)], "n NaN": [("n", 0, 0, 42, np.nan)],
    "f block before n": [("n", 0, 0, 1, -1.0), ("f", 2, 1, 70, -1.0)],
    "C order": [("f", 1, 0, 2, np.nan), ("f", 0, 1, 0, 2.0), ("f", 0, 0, 77, -2.0), ("n", 0, 0, 0, -1.0)],
    "C order in n": [("n", 1, 0, 0, np.nan), ("n", 0, 3, 5, -3.0), ("n", 0, 2, 60, np.inf)],
    "accumulator": [("acc", 1, 0, 0, np.nan)],
}


@pytest.mark.parametrize("state", list(STATES))
def test_check_state_and_clean_roundoff(three_cells, state):
    prob, y = three_cells[0], three_cells[1].copy()
    offset = {"f": 0, "n": prob.nf, "acc": prob.nf + prob.nn}
    for block, cell, m, k, value in STATES[state]:
        y[cell, offset[block] + m * prob.N + k] = value
    assert repr(prob.check_state(y)) == repr(old_check_state(prob, y))
    out, ref = clean_roundoff(prob, y), old_clean_roundoff(prob, y)
    assert (out is y) == (ref is y)
    same(out, ref)
    assert repr(prob.check_state(out)) == repr(old_check_state(prob, ref))


def test_clean_roundoff_leaves_an_inf_cell_for_check_state(three_cells):
    """A cell holding -inf has no round-off scale (eps times inf): cleaning must not set the
    -inf to 0 and hide it from check_state."""
    prob, y = three_cells[0], three_cells[1].copy()
    y[1, prob.N + 9] = -np.inf
    assert prob.check_state(clean_roundoff(prob, y))[:3] == ("f", 1, 9)
