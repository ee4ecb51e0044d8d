"""The Rosenbrock-W collision step (numerics/rosenbrock.py, ``time.method = "rosw"``):
order, positivity under huge steps, a millisecond of the point cell against the independent
reference of E1 (tests/numerics/test_stiff.py); its stay on a Newton steady state is tested
with bdf's in tests/numerics/test_stiff.py."""
import numpy as np
import pytest
from test_stiff import REFERENCE, run_millisecond

from boltzphlow_mpi.numerics.rosenbrock import RosenbrockW
from boltzphlow_mpi.numerics.steppers import StepController, clean_roundoff

from helpers import cascade_problem


def _integrate(prob, y, t_end, steps):
    st = RosenbrockW(project=False, jacobian_every=1)
    for _ in range(steps):
        y, _ = st.step(prob, y, t_end / steps)
    return y


def test_third_order_in_the_step():
    """Fixed steps over a stretch of the cascade where the state changes smoothly: halving
    the step divides the error (against 8 times smaller steps) by 2^3 (within 2^2.7 .. 2^3.3)."""
    prob, y0 = cascade_problem(step=0.25, emax=8.0, escape_rate=0.05, subgap=False)
    y0 = _integrate(prob, y0, 2.0, 50)  # past the fastest transient
    ref = _integrate(prob, y0, 4.0, 512)
    errs = [np.max(np.abs(_integrate(prob, y0, 4.0, n) - ref)[:, :prob.nf + prob.nn]) for n in (32, 64)]
    assert 2 ** 2.7 < errs[0] / errs[1] < 2 ** 3.3, errs


def test_huge_steps_stay_admissible():
    """A step of 1e6 tau_0 from a fresh deposit (L-stable: it lands near the quasi-static
    state) is admissible after the round-off clean-up; the controller, started at that
    step, shrinks it until the error is met, and what it accepts is admissible."""
    prob, y = cascade_problem(escape_rate=0.05, subgap=False)
    y_big, _ = RosenbrockW().step(prob, y, 1e6)
    assert prob.check_state(clean_roundoff(prob, y_big)) is None
    ctl = StepController(RosenbrockW(), rtol=1e-4)
    dt, accepted = 1e6, 0
    for _ in range(100):
        ok, y_new, dt, _ = ctl.attempt(prob, y, dt)
        if ok:
            assert prob.check_state(y_new) is None
            y, accepted = y_new, accepted + 1
    assert accepted > 50


@pytest.fixture(scope="module")
def millisecond():
    return run_millisecond(**{"time.method": "rosw", "time.rtol": 1e-4})


def test_a_millisecond_matches_the_reference(millisecond):
    """E1 with rosw at rtol 1e-4: N_qp within 1e-5 of the reference, in a few hundred steps."""
    sim, rows = millisecond
    for t, n_ref in REFERENCE.items():
        assert rows[t][0]["qp_number"] == pytest.approx(n_ref, rel=1e-5), t
    assert sim.steps < 1000


def test_ledger_and_positivity_over_a_millisecond(millisecond):
    _, rows = millisecond
    assert max(abs(r[0]["energy_ledger_error"]) for r in rows.values()) < 1e-11
    assert min(r[1] for r in rows.values()) >= 0 and min(r[2] for r in rows.values()) >= 0

