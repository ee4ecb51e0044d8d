"""Round-off never stops a run (docs/numerics.md, "Adaptive step control" and "The exp
stepper and its energy projection").

These tests build the situations deterministically, so they fail without the fix on any
CPU: a cold tail far below its bath value under an energy projection with a factor above
one, a thermal state whose projection factor is a ratio of round-off numbers, and states
off their bounds by round-off or by a real error.
"""
import numpy as np
import pytest

from boltzphlow_mpi.numerics.steppers import ROUNDOFF, StepController, Stepper, clean_roundoff

from helpers import cascade_problem


@pytest.fixture(scope="module")
def cold():
    """Al-like 0-D cell at T = 0.1 T_c (bath tails down to ~1e-77) with a phonon packet at
    3 Delta_0 (modes above ~7.5 Delta_0 carry bath and excitation below 1e-30)."""
    return cascade_problem(temperature=0.1, deposit=1e-3, centre=3 * 1.764)


def _tail(prob, y0):
    """Phonon modes with bath occupation and excitation both below 1e-30: the cold tail."""
    n_bath, n = prob.n_bath, y0[0, prob.nf:prob.nf + prob.nn]
    k = np.flatnonzero(prob.grid.phonon_mask & (n_bath < 1e-30) & (n_bath > 0) & (np.abs(n - n_bath) < 1e-30))
    assert len(k) > 3
    return prob.nf + k


@pytest.mark.parametrize("excess", [1e-6, 1e-9])
def test_projection_with_factor_above_one_keeps_a_cold_tail_nonnegative(cold, excess):
    """``y1``: the tail relaxed to 0 (FFT noise lets cold tails relax below the bath), the
    excitation short by ``excess`` of the energy that ``y0`` had. The projection factor is then
    ``s = 1 + excess``, and ``y_bath + s (y1 - y_bath)`` is ``-excess * n_bath < 0`` in the tail.
    The projected state must be admissible and carry the energy of ``y0`` (round-off)."""
    prob, y_exc = cold
    ref = prob.reference_state
    tail = _tail(prob, y_exc)
    y1 = y_exc.copy()
    y1[:, tail] = 0.0
    y0 = ref + (1.0 + excess) * (y1 - ref)
    y0[:, -3:] = 0.0
    y1[:, -3:] = 0.0
    e0 = prob.occupation_energy(y0)
    out = prob.project_energy(y0, y1)
    assert prob.check_state(out) is None
    assert np.all(out[:, tail] == 0.0)
    assert prob.occupation_energy(out)[0] == pytest.approx(e0[0], rel=1e-14, abs=0)
    # away from the held entries it is the plain projection with the factor solved again
    free = np.setdiff1d(np.arange(prob.nf + prob.nn), tail)
    dev = y1[0, free] - ref[0, free]
    moving = np.abs(dev) > 1e-3 * np.max(np.abs(dev))
    s = (out[0, free] - ref[0, free])[moving] / dev[moving]
    assert np.allclose(s, 1.0 + excess, rtol=0, atol=1e-2 * excess)


def test_projection_leaves_a_round_off_defect_alone(cold):
    """A thermal state: excitation and energy defect are both a few ulp of the energy, and
    the factor ``s`` would be a ratio of two round-off numbers (about 2 here; 1.125 and 0.85
    in the run that failed). The state must come back unchanged."""
    prob, _ = cold
    ref = prob.reference_state.copy()
    k = prob.nf + int(np.argmax(prob.grid.x ** 3 * prob.n_bath))  # the mode with most energy
    eps = np.finfo(float).eps
    y1, y0 = ref.copy(), ref.copy()
    y1[0, k] *= 1.0 + 4 * eps
    y0[0, k] *= 1.0 + 8 * eps
    y1[0, _tail(prob, ref)] = 0.0  # tail modes relaxed below the bath
    out = prob.project_energy(y0, y1)
    assert np.array_equal(out[:, : prob.nf + prob.nn], y1[:, : prob.nf + prob.nn])


def test_clean_roundoff_sets_round_off_to_the_bound_and_leaves_real_errors(cold):
    prob, y0 = cold
    y = y0.copy()
    nmax = np.max(np.abs(y[0, prob.nf:prob.nf + prob.nn]))
    y[0, prob.nf + 40] = -0.5 * ROUNDOFF * nmax   # round-off: cleaned
    y[0, 30] = 1.0 + 0.5 * ROUNDOFF               # f above 1 by round-off: cleaned
    out = clean_roundoff(prob, y)
    assert out[0, prob.nf + 40] == 0.0 and out[0, 30] == 1.0
    assert prob.check_state(out) is None
    assert y[0, prob.nf + 40] < 0  # the input is not modified
    y[0, prob.nf + 41] = -1e-3 * nmax             # a real error: kept, and named
    y[0, 31] = np.nan
    out = clean_roundoff(prob, y)
    assert out[0, prob.nf + 41] < 0
    assert prob.check_state(out)[:2] == ("f", 0)
    assert clean_roundoff(prob, y0) is y0  # nothing to clean: no copy


class _Returns(Stepper):
    """A stepper that returns a prepared state (with an embedded error estimate of zero)."""
    name, order, embedded = "fake", 2, True

    def __init__(self, y):
        super().__init__()
        self.y = y

    def step(self, problem, y, dt):
        return self.y.copy(), np.zeros_like(y)


def test_controller_accepts_a_state_physical_to_round_off_and_rejects_a_negative_one(cold):
    prob, y0 = cold
    tail = _tail(prob, y0)
    y = y0.copy()
    y[0, tail] = -1e-70                 # below the bound by round-off of its block
    ctl = StepController(_Returns(y))
    ok, y_new, _, _ = ctl.attempt(prob, y0, 1e-3)
    assert ok and np.all(y_new[0, tail] == 0.0)
    y[0, tail[0]] = -1e-3               # genuinely negative: rejected and named
    ctl = StepController(_Returns(y))
    ok, y_new, _, _ = ctl.attempt(prob, y0, 1e-3)
    assert not ok and y_new is y0
    block, cell, k, value = ctl.last_violation
    assert (block, cell, k, value) == ("n", 0, tail[0] - prob.nf, -1e-3)
