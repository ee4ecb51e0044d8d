"""One time step of the kinetics with an optional transport: Strang splitting
``T(h/2) C(h) T(h/2)`` (docs/numerics.md, "Operator splitting (sphere)"), the collisions by a
stepper under a ``StepController`` (docs/numerics.md, "Adaptive step control") or at a
fixed step.

``SplitIntegrator`` holds the step sequence (next ``dt``, what limits it, rejections in a
row) and turns a state into the next one; the simulation owns the state, the time and
the ledgers. Every method is collective: all ranks take the same decisions (global
reductions), also ranks that own no cell (their arrays are empty).
"""
import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.steppers import clean_roundoff
from boltzphlow_mpi.parallel.comm import stage

#: the step sequence's state besides the controller's (``state()``, a checkpoint's scalars)
STATE = ("dt", "last_accepted_dt", "rejects_in_row", "limit_reason")


def describe_violation(bad, cell_offset, energy_meV):
    """``f[cell 3, E = 0.25 meV] = -1e-3`` for a violation ``(block, cell, k, value)`` of
    ``CellKinetics.check_state`` (``cell_offset``: global index of the rank's first cell)."""
    name, c, k, v = bad
    energy = f", E = {energy_meV[k]:.4g} meV" if k >= 0 else ""
    return f"{name}[cell {c + cell_offset}{energy}] = {v!r}"


class SplitIntegrator:
    """Collisions of ``model`` by ``stepper``/``controller``, split with ``transport``.

    Parameters
    ----------
    model : physics.kinetics.CellKinetics
        The collision problem of this rank's cells.
    controller : numerics.steppers.StepController
        Error control of adaptive steps (its ``stepper`` makes the collision steps).
    transport : parallel.radial.RadialTransport or None
        Half steps ``T(h/2)`` and their outflow through the boundary; None for a point.
    par : parallel.comm.Parallel
        The communicator of the run.
    fixed_dt : float or None
        ``time.dt_ns`` in internal units: no error control.
    dt : float
        The first step.
    cell_offset : int
        Global index of this rank's first cell (names a violation).
    energy_meV, tau0_ns : numpy.ndarray, float
        The energy grid (meV) and the time unit (ns), for messages.
    """

    def __init__(self, model, controller, transport, par, fixed_dt, dt, cell_offset, energy_meV, tau0_ns):
        self.model, self.controller, self.stepper = model, controller, controller.stepper
        self.transport, self.par, self.fixed_dt = transport, par, fixed_dt
        self.cell_offset, self.energy_meV, self.tau0_ns = cell_offset, energy_meV, tau0_ns
        self.dt = fixed_dt if fixed_dt is not None else min(dt, controller.dt_max)
        self.limit_reason = "accuracy"
        self.last_accepted_dt = self.dt
        self.rejects_in_row = 0
        self._forget_at_next_step = False

    # -- the step sequence's state (branches, checkpoints) ------------------------------
    def state(self):
        """What the steps after this point depend on besides the physical state."""
        snap = {k: getattr(self, k) for k in STATE}
        snap.update(rejected=self.controller.rejected, violation=self.controller.last_violation,
                    stepper=self.stepper.state())
        return snap

    def set_state(self, snap):
        for k in STATE:
            setattr(self, k, snap[k])
        self.controller.rejected, self.controller.last_violation = snap["rejected"], snap["violation"]
        self.stepper.set_state(snap.get("stepper"))

    def checkpoint_arrays(self):
        """Arrays per local cell a checkpoint must hold to continue bitwise: none (the state
        and the scalars of ``STATE`` suffice). What the stepper carries between steps (the
        Jacobian of rosw) is dropped at the next trajectory step instead, as a restart from
        this checkpoint starts without it: both runs then take the same steps."""
        self._forget_at_next_step = True
        return {}

    def restore_arrays(self, arrays, y, t):
        pass

    # -- one step -----------------------------------------------------------------------
    def planned(self, y, t, remaining):
        """The step the sequence takes next and the bound that sets it (None for fixed
        steps): accuracy, stiffness or CFL. Raises ``SolverError`` on step size underflow."""
        if self.fixed_dt is not None:
            return self.fixed_dt, None
        limits = {"stiffness": self.stepper.dt_limit(self.model, y)}
        if self.transport is not None:
            limits["CFL"] = self.transport.dt_limit()
        reason, limit = min(limits.items(), key=lambda kv: kv[1])
        limit, reason = (limit, reason) if limit < min(self.dt, remaining) else (np.inf, "accuracy")
        planned = min(self.dt, limit)
        if planned < self.controller.dt_min * max(t, 1e-3):
            why = self._first_violation(self.controller.last_violation) if self.rejects_in_row else None
            raise SolverError(f"step size underflow (dt = {planned * self.tau0_ns:.3g} ns) at "
                              f"t = {t * self.tau0_ns:.6g} ns after {self.rejects_in_row} rejections"
                              + (f"; last inadmissible try: {why}" if why else ""))
        return planned, reason

    def step(self, y, t, h, remaining, reason=None):
        """One try of a step ``h`` from ``(t, y)`` (``remaining``: to the time being landed
        on, inf otherwise). Returns ``(accepted, y_new, outflows, h)``; sets the next ``dt``."""
        if self._forget_at_next_step:
            self.stepper.forget()
            self._forget_at_next_step = False
        if self.fixed_dt is not None:
            return (*self._fixed_step(y, t, h), h)
        if h < remaining:  # a step cut short by an output time says nothing about the bound
            self.limit_reason = reason
        return (*self._adaptive_step(y, t, h, remaining), h)

    def _fixed_step(self, y, t, h):
        """No error control: an inadmissible state ends the run (the caller's ``y`` stays
        the last good state)."""
        y1, out1, _ = self._transport(y, 0.5 * h)
        with stage("collisions"):
            y2, _ = self.stepper.step(self.model, y1, h)
        y3, out3, _ = self._transport(clean_roundoff(self.model, y2), 0.5 * h)
        self.dt = h
        self.check(y3, t)
        return True, y3, (out1, out3)

    def _adaptive_step(self, y, t, h, remaining):
        y1, out1, ok = self._transport(y, 0.5 * h)
        err1 = self._transport_error()
        accepted, dt_next, y_new, outs = False, 0.5 * h, y, ()
        if ok:
            with stage("collisions"):
                accepted, y2, dt_next, _ = self.controller.attempt(self.model, y1, h)
            if accepted:
                y3, out3, ok = self._transport(y2, 0.5 * h)
                if ok:
                    accepted, dt_next = self._transport_control(y3, err1, h, dt_next)
                    y_new, outs = y3, (out1, out3)
                else:
                    accepted, dt_next = False, 0.5 * h
        if accepted:
            self.rejects_in_row = 0
            self.controller.last_violation = None
            self.last_accepted_dt = h
        else:
            y_new, outs = y, ()
            self.rejects_in_row += 1
            if self.rejects_in_row > self.controller.max_rejects:
                why = self._first_violation(self.controller.last_violation)
                raise SolverError(f"{self.rejects_in_row} step rejections in a row at t = "
                                  f"{t * self.tau0_ns:.6g} ns (dt = {h * self.tau0_ns:.3g} ns)"
                                  + (f"; last inadmissible try: {why}" if why else ""))
        if not (accepted and h == remaining and h < self.dt):
            self.dt = dt_next  # (a step cut short by an output time keeps the old dt)
        return accepted, y_new, outs

    def _transport_error(self):
        """The error estimate of the last transport half step (None: explicit transport)."""
        return None if self.transport is None else self.transport.error

    def _transport_control(self, y, err1, h, dt_next):
        """Error control of an implicit transport (first order: local error ~ h^2) on top of
        the collisions': ``(accepted, dt_next)`` with the error of both half steps."""
        err3 = self._transport_error()
        if err1 is None or err3 is None:
            return True, dt_next
        c = self.controller
        norm = self.par.reduce_max(c.error_norm(self.model, y, err1 + err3))
        if not np.isfinite(norm) or norm > 1.0:
            c.rejected += 1
            self.limit_reason = "transport"
            shrink = c.min_shrink if not np.isfinite(norm) else max(c.min_shrink, c.safety * norm ** -0.5)
            return False, self.stepper.round_step(h * shrink)
        grow = c.max_growth if norm == 0 else min(c.max_growth, c.safety * norm ** -0.5)
        return True, min(dt_next, self.stepper.round_step(h * max(grow, 1.0)))

    def _transport(self, y, h):
        """Half step of transport (or nothing). Returns (y, outflow, admissible)."""
        if self.transport is None:
            return y, None, True
        with stage("transport"):
            y2, out = self.transport.half_step(y, h)
            y2 = clean_roundoff(self.model, y2)
        return y2, out, self.check(y2, raise_error=False)

    # -- admissibility ------------------------------------------------------------------
    def check(self, y, t=0.0, raise_error=True):
        """Collective: is ``y`` admissible on every rank? Raises ``SolverError`` naming the
        first violation unless ``raise_error`` is false."""
        bad = self.model.check_state(y)
        flag = self.par.reduce_max(1.0 if bad else 0.0)
        if flag and raise_error:
            raise SolverError(f"non-physical state {self._first_violation(bad)} after a step from "
                              f"t = {t * self.tau0_ns:.6g} ns (dt = {self.dt * self.tau0_ns:.3g} ns)")
        return not flag

    def _first_violation(self, bad):
        """Collective: ``f[cell 3, E = 0.25 meV] = -1e-3`` for the first rank's violation
        ``(block, cell, k, value)`` (every rank gets it), or None."""
        text = describe_violation(bad, self.cell_offset, self.energy_meV) if bad else None
        return next((s for s in self.par.comm.allgather(text) if s), None)
