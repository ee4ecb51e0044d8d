"""Stiff time integration of a point cell: variable-order BDF with the exact Jacobian
(docs/numerics.md, "Stiff integration: BDF").

The collision operator is stiff (relaxation rates spread over many orders of magnitude),
so explicit-type steppers take steps of the fastest rate long after it has relaxed.
``BDFIntegrator`` integrates ``dy/dt = G - K y`` of the point cell with the variable-order,
variable-step BDF of ``scipy.integrate.BDF`` (orders 1 to 5, NDF error constants), whose
Newton iterations use the exact Jacobian of ``physics.jacobian``; after every step the state
is cleaned of round-off below its bounds and, with ``time.exp_energy_projection``, its
excitation energy is projected back onto the exact ledger (``CellKinetics.project_energy``).
The BDF history is told about every change of the state made outside it (projection, gap
update and remap) through its newest entry.

It has the interface of ``numerics.integrator.SplitIntegrator`` (``planned``, ``step``,
``state``, ``set_state``, ``check``), so the simulation's loop, branches to output times and
gap updates are the same. The point cell lives on one rank; the others follow the step
sizes that rank broadcasts.
"""
import copy

import numpy as np
from scipy.integrate import BDF

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.integrator import describe_violation
from boltzphlow_mpi.numerics.steppers import clean_roundoff
from boltzphlow_mpi.parallel.comm import stage
from boltzphlow_mpi.physics.jacobian import jacobian

#: the solver's attributes that make its next steps (what a branch or snapshot copies)
_SOLVER_STATE = ("t", "y", "D", "order", "h_abs", "h_abs_old", "error_norm_old", "n_equal_steps",
                 "J", "LU", "t_old", "nfev", "njev", "nlu", "status")
_HORIZON = 1e300  # the trajectory's t_bound: the steps do not depend on t_end
#: the solver's scalars in a checkpoint (the last: whether a factorisation is kept)
_SCALARS = ("order", "h_abs", "h_abs_old", "error_norm_old", "n_equal_steps", "has_LU")


class StepCounters:
    """The bookkeeping a ``StepController`` keeps, for an integrator that controls its steps
    itself: rejected tries (the BDF retries inside a step and does not report them, so
    this stays 0), the largest step, the last inadmissible state (none)."""

    def __init__(self, dt_max):
        self.rejected = 0
        self.dt_max = dt_max
        self.last_violation = None


class BDFIntegrator:
    """Variable-order BDF of the point cell (``time.method = "bdf"``).

    Parameters
    ----------
    model : physics.kinetics.CellKinetics
        The kinetics of the point cell (one row on the rank that owns it, none elsewhere).
    par : parallel.comm.Parallel
        The communicator of the run.
    rtol : float
        ``time.rtol``; the absolute tolerance is ``ATOL`` on every unknown.
    dt, dt_max : float
        The first step and the largest one (internal units).
    project : bool
        Project each step onto the exact energy ledger.
    energy_meV, tau0_ns : numpy.ndarray, float
        The energy grid (meV) and the time unit (ns), for messages.
    """

    ATOL = 1e-14
    fixed_dt = None  # it controls its steps (checkpoint restore asks)

    def __init__(self, model, par, rtol, dt, dt_max, project, energy_meV, tau0_ns):
        self.model, self.par, self.rtol, self.project = model, par, rtol, project
        self.energy_meV, self.tau0_ns = energy_meV, tau0_ns
        self.controller = StepCounters(dt_max)
        self.dt = min(dt, dt_max)  # the step the solver tries next (internal units)
        self.limit_reason = "accuracy"
        self.last_accepted_dt = self.dt
        self.rejects_in_row = 0
        self.solver = None
        self.owner = len(model.delta) > 0

    # -- the step sequence's state ---------------------------------------------------------
    def state(self):
        solver = None
        if self.solver is not None:
            solver = {k: copy.deepcopy(getattr(self.solver, k)) for k in _SOLVER_STATE}
        return {"dt": self.dt, "last_accepted_dt": self.last_accepted_dt, "rejected": self.controller.rejected,
                "solver": solver}

    def set_state(self, snap):
        self.dt, self.last_accepted_dt = snap["dt"], snap["last_accepted_dt"]
        self.controller.rejected = snap["rejected"]
        if snap["solver"] is None:
            self.solver = None
        elif self.solver is not None:
            for k, v in snap["solver"].items():
                setattr(self.solver, k, copy.deepcopy(v))

    def checkpoint_arrays(self):
        """The BDF history of the owner's cell as arrays (one row per local cell), so that a
        restart continues bitwise: the differences ``D``, the Jacobian, its factorisation
        (kept by the solver across steps of the same size, possibly from an earlier step
        size) and the scalars of ``_SCALARS`` (NaN where unset)."""
        W = self.model.width
        rows = 1 if (self.owner and self.solver is not None) else 0
        out = {"bdf_D": np.zeros((rows,) + (self.solver.D.shape if rows else (8, W))),
               "bdf_J": np.zeros((rows, W, W)), "bdf_LU": np.zeros((rows, W, W)), "bdf_piv": np.zeros((rows, W)),
               "bdf_scalars": np.zeros((rows, len(_SCALARS)))}
        if rows:
            s = self.solver
            out["bdf_D"][0], out["bdf_J"][0] = s.D, s.J
            if s.LU is not None:
                out["bdf_LU"][0], out["bdf_piv"][0] = s.LU
            out["bdf_scalars"][0] = [np.nan if getattr(s, k) is None else float(getattr(s, k)) for k in _SCALARS[:-1]] + [
                float(s.LU is not None)]
        return out

    def restore_arrays(self, arrays, y, t):
        """A solver at ``(t, y)`` with the history of ``checkpoint_arrays`` (none: a fresh
        history at the next step)."""
        self.solver = None
        if not (self.owner and arrays and len(arrays.get("bdf_D", ()))):
            return
        self._create(y, t)
        s, sc = self.solver, dict(zip(_SCALARS, arrays["bdf_scalars"][0], strict=True))
        s.D, s.J = arrays["bdf_D"][0].copy(), arrays["bdf_J"][0].copy()
        s.order, s.n_equal_steps = int(sc["order"]), int(sc["n_equal_steps"])
        s.h_abs = sc["h_abs"]
        s.h_abs_old = None if np.isnan(sc["h_abs_old"]) else sc["h_abs_old"]
        s.error_norm_old = None if np.isnan(sc["error_norm_old"]) else sc["error_norm_old"]
        s.LU = ((arrays["bdf_LU"][0].copy(), arrays["bdf_piv"][0].astype(np.int32)) if sc["has_LU"] else None)
        # the solver's own y is its newest history entry: a gap remap of y after the last step
        # reaches the history at the next step, as in the run that wrote the checkpoint
        s.t, s.y = t, s.D[0].copy()

    # -- one step --------------------------------------------------------------------------
    def planned(self, y, t, remaining):
        return self.dt, "accuracy"

    def step(self, y, t, h, remaining, reason=None):
        """One BDF step from ``(t, y)``, ending on ``t + remaining`` if the step reaches it.
        Returns ``(True, y_new, (), h_taken)``: the solver rejects and retries internally."""
        land = remaining < np.inf and h >= remaining
        result = None
        if self.owner:
            try:
                result = self._owner_step(y, t, t + remaining if land else _HORIZON)
            except SolverError as exc:
                result = str(exc)
        failed = self.par.reduce_max(1.0 if isinstance(result, str) else 0.0)
        if failed:
            raise SolverError(result if isinstance(result, str) else "BDF step failed on another rank")
        y_new, h_taken, dt_next = result if self.owner else (y, 0.0, 0.0)
        h_taken = self.par.reduce_max(h_taken)
        self.dt = self.par.reduce_max(dt_next)
        self.last_accepted_dt = h_taken
        return True, y_new, (), h_taken

    def _owner_step(self, y, t, t_bound):
        m = self.model
        if self.solver is None:
            self._create(y, t)
        s = self.solver
        if s.t != t or not np.array_equal(s.y, y[0]):  # changed outside: projection, gap update, restart
            s.t, s.y = t, y[0].copy()
            s.D[0] = s.y
        s.t_bound, s.status = t_bound, "running"
        with stage("collisions"):
            message = s.step()
        s.t_bound = _HORIZON
        if s.status == "failed":
            raise SolverError(f"BDF step failed at t = {t * self.tau0_ns:.6g} ns: {message}")
        y_new = clean_roundoff(m, s.y[None])
        if self.project:
            y_new = m.project_energy(y, y_new)
        self.check(y_new, t)
        s.y = y_new[0].copy()
        s.D[0] = s.y
        return y_new, s.t - t, s.h_abs

    def _create(self, y, t):
        m = self.model
        self.solver = BDF(lambda _t, v: m.rhs(v[None])[0], t, y[0].copy(), _HORIZON, rtol=self.rtol,
                          atol=self.ATOL, jac=lambda _t, v: jacobian(m, v[None])[0], first_step=self.dt,
                          max_step=self.controller.dt_max)

    # -- admissibility ---------------------------------------------------------------------
    def check(self, y, t=0.0, raise_error=True):
        """Is ``y`` admissible (on this rank: the owner's cell)? Raises ``SolverError`` naming
        the violation unless ``raise_error`` is false."""
        bad = self.model.check_state(y)
        if bad and raise_error:
            raise SolverError(f"non-physical state {describe_violation(bad, 0, self.energy_meV)} after a BDF "
                              f"step from t = {t * self.tau0_ns:.6g} ns")
        return not bad
