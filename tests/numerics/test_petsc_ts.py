"""The collision steps by PETSc TS (numerics/petsc_ts.py, ``time.method = "ts"`` and
``"arkimex"``): order of the default types with fixed steps, the exact Jacobian product
against the polynomial directional derivative, a millisecond of the point cell against the
independent reference of E1 (tests/numerics/test_stiff.py), the options prefix; rank
independence and restart are in tests/parallel/test_mpi.py."""
import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc
from test_stiff import REFERENCE, run_millisecond

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.petsc_ts import PREFIX, PetscTS
from boltzphlow_mpi.numerics.rosenbrock import CellLinearization
from boltzphlow_mpi.numerics.steppers import directional_derivative

from helpers import cascade_problem


def _integrate(prob, y, t_end, steps, method):
    st = PetscTS(MPI.COMM_SELF, method=method, project=False, jacobian_every=1, adaptive=False)
    try:
        for _ in range(steps):
            y, _ = st.step(prob, y, t_end / steps)
    finally:
        st.destroy()
    return y


@pytest.mark.parametrize("method", ["ts", "arkimex"])
def test_third_order_in_the_step(method):
    """Fixed steps (one TS step each) over a smooth stretch of the cascade: ROS34PW2 and
    ARKIMEX 3 are third order, so halving the step divides the error (against 8 times
    smaller steps) by 2^3 (within 2^2.6 .. 2^3.4)."""
    prob, y0 = cascade_problem(step=0.25, emax=8.0, escape_rate=0.05, subgap=False)
    y0 = _integrate(prob, y0, 2.0, 50, "ts")  # past the fastest transient
    ref = _integrate(prob, y0, 4.0, 512, method)
    errs = [np.max(np.abs(_integrate(prob, y0, 4.0, n, method) - ref)[:, :prob.nf + prob.nn]) for n in (32, 64)]
    assert 2 ** 2.6 < errs[0] / errs[1] < 2 ** 3.4, errs


def test_huge_steps_stay_admissible():
    """The driver's controller tries a collision step of 1e6 tau_0 after the fastest
    transient: the TS subdivides it under its own error control (a solve that failed would be
    retried shorter), every accepted state is admissible with the exact energy ledger, and
    t = 1e6 tau_0 is reached."""
    from boltzphlow_mpi.numerics.steppers import StepController
    from helpers import total_energy
    prob, y = cascade_problem(step=0.25, emax=8.0, escape_rate=0.05, subgap=False)
    y = _integrate(prob, y, 2.0, 50, "ts")  # past the fastest transient
    energy = total_energy(prob, y)[0]
    st = PetscTS(MPI.COMM_SELF)
    ctl = StepController(st, rtol=1e-4)
    t, dt = 0.0, 1e6
    try:
        for _ in range(60):
            h = dt
            ok, y_new, dt, _ = ctl.attempt(prob, y, h)
            if ok:
                assert prob.check_state(y_new) is None
                assert total_energy(prob, y_new)[0] == pytest.approx(energy, rel=1e-12)
                t, y = t + h, y_new
            if t >= 1e6:
                break
    finally:
        st.destroy()
    assert t >= 1e6


def test_jacobian_product_is_exact():
    """``CellLinearization.apply`` (the TS's matrix) equals the exact directional derivative
    of the cubic collision operator (four evaluations, no truncation error) to 1e-9 of it."""
    prob, y = cascade_problem(escape_rate=0.05, cells=2)
    v = np.random.default_rng(1).standard_normal(y.shape) * (y - prob.reference_state + 1e-6)
    exact = directional_derivative(prob, y, v)
    got = CellLinearization(prob, y).apply(v)
    assert np.max(np.abs(got - exact)) < 1e-9 * np.max(np.abs(exact))


@pytest.fixture(scope="module")
def millisecond():
    return run_millisecond(**{"time.method": "ts", "time.rtol": 1e-4})


def test_a_millisecond_matches_the_reference(millisecond):
    """E1 with the TS (rosw ra34pw2, TSAdapt) at rtol 1e-4: N_qp within 1e-5 of the
    reference at every reference time; ledger exact and occupations admissible."""
    sim, rows = millisecond
    for t, n_ref in REFERENCE.items():
        assert rows[t][0]["qp_number"] == pytest.approx(n_ref, rel=1e-5), t
    assert sim.integrator.stepper.failures == 0
    assert max(abs(r[0]["energy_ledger_error"]) for r in rows.values()) < 1e-11
    assert min(r[1] for r in rows.values()) >= 0 and min(r[2] for r in rows.values()) >= 0


def test_options_pass_under_the_prefix():
    """``-time_ts_type`` picks the type; the method's own defaults (inserted for the
    ``setFromOptions`` call only) do not stay in the options database."""
    prob, y = cascade_problem(escape_rate=0.05)
    opts = PETSc.Options()
    opts.setValue(PREFIX + "ts_type", "beuler")
    st = PetscTS(MPI.COMM_SELF)
    try:
        st.step(prob, y, 0.1)
        assert st.ts.getType() == "beuler" and st.ts.getOptionsPrefix() == PREFIX
    finally:
        opts.delValue(PREFIX + "ts_type")
        st.destroy()
    st = PetscTS(MPI.COMM_SELF)
    try:
        st.step(prob, y, 0.1)
        assert st.ts.getType() == "rosw"
        assert not opts.hasName(PREFIX + "ts_rosw_type") and not opts.hasName(PREFIX + "ts_adapt_wnormtype")
    finally:
        st.destroy()


def test_a_failed_fixed_step_is_an_error():
    """With a fixed step there is no retry: a TS that fails (here: a Newton limited to zero
    iterations) raises instead of returning the old state."""
    prob, y = cascade_problem(escape_rate=0.05)
    opts = PETSc.Options()
    opts.setValue(PREFIX + "snes_max_it", "0")
    st = PetscTS(MPI.COMM_SELF, method="arkimex", adaptive=False)
    try:
        with pytest.raises(SolverError, match="PETSc TS"):
            st.step(prob, y, 10.0)
    finally:
        opts.delValue(PREFIX + "snes_max_it")
        st.destroy()


def test_a_non_finite_solve_is_a_failure():
    """TSAdapt accepts a step whose error norm is NaN: the stepper reports a non-finite state
    as a failed solve (infinite error, for the driver to retry shorter), not as a state."""
    prob, y = cascade_problem(escape_rate=0.05)
    prob.rhs = lambda y, clip=True: np.full(y.shape, np.nan)
    st = PetscTS(MPI.COMM_SELF)
    try:
        y_new, err = st.step(prob, y, 0.1)
    finally:
        st.destroy()
    assert st.failures == 1 and np.all(np.isinf(err)) and np.array_equal(y_new, y)
