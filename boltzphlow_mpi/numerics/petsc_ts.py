"""Collision steps by PETSc TS (``time.method = "ts"`` or ``"arkimex"``; docs/numerics.md,
"Stiff integration with PETSc TS").

Each collision step of the driver (a whole step of a point cell, the ``C(h)`` of a sphere's
Strang splitting) is one ``TSSolve`` over ``[0, h]``: the TS takes as many steps inside as
its own error control (``TSAdapt``) asks for and lands on ``h``. The TS, its SNES, KSP and
PC are built once and reused; they read the PETSc options database under the prefix
``time_`` (``-time_ts_type``, ``-time_ts_rosw_type``, ``-time_ts_adapt_type``,
``-time_ts_rtol`` ..., ``-time_snes_*``, ``-time_ksp_*``), after the defaults below.

* Problem: ``F(t, y, ydot) = ydot - rhs(y)`` (an ``IFunction``) with the shifted Jacobian
  ``a I - J`` applied by ``CellLinearization`` (``numerics/rosenbrock.py``): the exact
  Jacobian of each cell, kept for ``jacobian_every`` evaluations (a W-method keeps its
  order with it; a Newton method converges with it). The preconditioner is the exact
  per-cell solve of ``a I - J``, so ``KSPPREONLY`` solves exactly.
* Vector: one MPI ``Vec`` over the run's communicator holding every rank's cells, with
  ``-ts_adapt_wnormtype infinity``: the error norm is a maximum, the same on every rank
  and for any partition, so the TS takes the same steps on any number of ranks. Linearly
  implicit types (``rosw``, the default, with ROS34PW2, the tableau of ``rosw`` here) make
  no other reduction, and results are bitwise independent of the rank count; Newton-based
  types (``arkimex``, ``bdf``, ``beuler``, ``theta``) test convergence with global 2-norms
  and are rank independent to their SNES tolerance.
* Tolerances: the driver's error norm (``time.rtol`` of each cell's largest excitation
  per block, ``StepController.error_norm``) as an absolute tolerance per entry.
* Positivity and energy: after the solve the state is cleaned of round-off below its bounds
  and projected onto the exact energy ledger (``time.exp_energy_projection``); the driver
  rejects an inadmissible state, as for every stepper. A solve that fails (diverged, too
  many rejections, a non-finite state) reports an infinite error, so the driver retries a
  shorter step; the driver's next step is the TS's proposal.
"""
import atexit
import weakref

import numpy as np
from petsc4py import PETSc

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.petsc_options import set_from_options
from boltzphlow_mpi.numerics.rosenbrock import CellLinearization
from boltzphlow_mpi.numerics.steppers import Stepper, clean_roundoff, error_scales

#: options prefix of the collision TS and its solvers
PREFIX = "time_"
#: per method: the TS type and options that hold unless the options database has them
DEFAULTS = {
    "ts": {"ts_type": "rosw", "ts_rosw_type": "ra34pw2"},
    "arkimex": {"ts_type": "arkimex"},
}
#: defaults for every type: max norm (rank independent), exact solves by the per-cell PC,
#: no line search (the PC is exact up to the Jacobian's age)
COMMON = {"ts_adapt_wnormtype": "infinity", "ksp_type": "preonly", "snes_linesearch_type": "basic",
          "ts_max_snes_failures": "-1", "ts_max_reject": "50"}
#: largest number of TS steps in one collision step
MAX_STEPS = 100000
#: tolerance of an entry that is not controlled (the outflow accumulators)
_UNCONTROLLED = 1e300


_LIVE = weakref.WeakSet()


@atexit.register
def _destroy_live():
    """Destroy the TS objects still alive before PETSc finalizes (registered after petsc4py's
    own exit handler, so it runs first): python contexts freed after PetscFinalize crash."""
    for stepper in list(_LIVE):
        stepper.destroy()


class _Context:
    """What the TS callbacks need, set before each solve (the problem changes with the gap)."""

    def __init__(self, jacobian_every):
        self.problem, self.shape = None, None
        self.linearization, self.uses, self.jacobian_every = None, 0, jacobian_every
        self.shift = None

    def state(self, x):
        return x.getArray(readonly=True).reshape(self.shape)

    def ifunction(self, ts, t, x, xdot, f):
        rhs = self.problem.rhs(self.state(x))
        f.setArray(xdot.getArray(readonly=True) - rhs.ravel())

    def ijacobian(self, ts, t, x, xdot, shift, A, P):
        if self.linearization is None or self.uses >= self.jacobian_every:
            self.linearization, self.uses = CellLinearization(self.problem, self.state(x)), 0
        self.uses += 1
        self.shift = float(shift)
        return True

    # the shifted Jacobian, a I - J (python Mat), and its exact per-cell inverse (python PC)
    def mult(self, mat, x, y):
        v = self.state(x)
        y.setArray((self.shift * v - self.linearization.apply(v)).ravel())

    def apply(self, pc, x, y):
        self.linearization.factor(self.shift)
        y.setArray(self.linearization.solve(self.state(x)).ravel())


class PetscTS(Stepper):
    """The collision steps by a PETSc TS (``time.method`` ``"ts"``: rosw ra34pw2 unless the
    options say otherwise; ``"arkimex"``: ARKIMEX, fully implicit).

    Parameters
    ----------
    comm : mpi4py communicator
        The run's communicator (the TS's vector spans every rank's cells).
    reduce_max : callable
        Global maximum.
    method : str
        ``"ts"`` or ``"arkimex"`` (the default type; ``-time_ts_type`` overrides it).
    rtol, atol : float
        The driver's tolerances (``StepController``), the TS's per entry.
    project : bool
        Project each cell's excitation onto its exact energy ledger after the step.
    jacobian_every : int
        Jacobian evaluations (TS steps for rosw, Newton iterations for implicit types) one
        exact Jacobian serves.
    adaptive : bool
        False with a fixed ``time.dt_ns``: one TS step per collision step (no TSAdapt).
    """

    #: ra34pw2 and ARKIMEX 3 (the controller's growth rule only: the TS controls its steps)
    name, order, embedded = "ts", 3, True

    def __init__(self, comm, reduce_max=lambda v: v, method="ts", rtol=1e-4, atol=1e-14, project=True,
                 jacobian_every=5, adaptive=True):
        super().__init__(reduce_max)
        if method not in DEFAULTS:
            raise ValueError(f"method = {method!r}: expected one of {', '.join(DEFAULTS)}")
        self.comm, self.method, self.rtol, self.atol = comm, method, rtol, atol
        self.project, self.conserving, self.adaptive = project, True, adaptive
        self.ctx = _Context(int(jacobian_every))
        self.ts, self.size = None, None
        self.proposed_dt = None  # the TS's next step
        self._proposals = []  # the next step each TS step of a solve proposed
        self.steps = self.rejections = self.failures = 0
        self.name = method

    def _from_options(self, ts):
        """``ts.setFromOptions()`` with this method's defaults for what the options database
        does not set (inserted for the call only: another run in the process starts clean)."""
        wanted = dict(COMMON, **DEFAULTS[self.method])
        if not self.adaptive:
            wanted["ts_adapt_type"] = "none"
        set_from_options(ts, PREFIX, wanted)

    def _build(self, local_size):
        """The TS for vectors of ``local_size`` entries on this rank (once: a run's cells and
        unknowns per rank do not change, so the global size is reduced only then)."""
        if self.ts is not None and self.size[0] == local_size:
            return
        from mpi4py import MPI
        total = self.comm.allreduce(local_size, op=MPI.SUM)
        if self.ts is not None:
            self.ts.destroy()
        ctx = self.ctx
        pcomm = PETSc.Comm(self.comm)
        self.x = PETSc.Vec().createMPI((local_size, total), comm=pcomm)
        self.atol_vec = self.x.duplicate()
        F = self.x.duplicate()
        A = PETSc.Mat().createPython(((local_size, total), (local_size, total)), ctx, comm=pcomm)
        A.setUp()
        ts = PETSc.TS().create(comm=pcomm)
        ts.setOptionsPrefix(PREFIX)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        ts.setIFunction(ctx.ifunction, F)
        ts.setIJacobian(ctx.ijacobian, A, A)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        ts.setMaxSteps(MAX_STEPS)
        ts.setErrorIfStepFails(False)
        ts.setPostStep(self._record_step)
        self._from_options(ts)
        if ts.getType() == PETSc.TS.Type.ARKIMEX:
            ts.setARKIMEXFullyImplicit(True)  # the whole rate is in the IFunction
        pc = ts.getSNES().getKSP().getPC()
        pc.setType(PETSc.PC.Type.PYTHON)
        pc.setPythonContext(ctx)
        self.ts, self.size = ts, (local_size, total)
        _LIVE.add(self)

    def destroy(self):
        """Free the TS and its vectors (the stepper builds them again if used)."""
        for obj in (self.ts, getattr(self, "x", None), getattr(self, "atol_vec", None)):
            if obj is not None:
                obj.destroy()
        self.ts, self.size = None, None

    def _record_step(self, ts):
        self._proposals.append(ts.getTimeStep())

    def _next_step(self):
        """The TS's proposal after this solve: the largest of its steps' proposals. The last
        ones can be cut to land on ``h`` (TSAdapt clips a proposal to the time left, and a
        remainder of round-off size proposes from its own size), so the last proposal alone
        can be 1e-15 of the step (seen on E1 with numpy's SIMD off)."""
        return max(self._proposals)

    def _tolerances(self, problem, y):
        """Per entry: the driver's error scale of the entry's cell and block."""
        tol = np.full(y.shape, _UNCONTROLLED)
        for s, scale in error_scales(problem, y, self.rtol, self.atol):
            tol[:, s] = scale
        return tol

    def step(self, problem, y, dt):
        self._build(y.size)
        ctx, ts = self.ctx, self.ts
        ctx.problem, ctx.shape = problem, y.shape
        if ctx.linearization is not None and ctx.linearization.model is not problem:
            ctx.linearization = None
        self.x.setArray(y.ravel())
        self.atol_vec.setArray(self._tolerances(problem, y).ravel())
        ts.setTolerances(rtol=0.0, atol=self.atol_vec)
        ts.setTime(0.0)
        ts.setStepNumber(0)
        ts.setMaxTime(dt)
        ts.setTimeStep(dt if (self.proposed_dt is None or not self.adaptive) else min(self.proposed_dt, dt))
        ts.setConvergedReason(PETSc.TS.ConvergedReason.CONVERGED_ITERATING)
        # a multistep type (-time_ts_type bdf) must not reuse its history: the state was
        # changed outside the TS since (projection, gap update, transport half steps)
        ts.restartStep()
        self._proposals = []
        ts.solve(self.x)
        self.steps += ts.getStepNumber()
        self.rejections += ts.getStepRejections()
        reason = ts.getConvergedReason()
        y_new = self.x.getArray(readonly=True).reshape(y.shape).copy()
        # TSAdapt accepts a step whose error norm is NaN (NaN > 1 is false): a non-finite
        # state is a failure here, not a state for the driver to judge
        if reason < 0 or ts.getTime() < dt * (1 - 1e-12) or not np.all(np.isfinite(y_new)):
            self.failures += 1
            self.proposed_dt = None
            if not self.adaptive:  # a fixed step has no retry
                raise SolverError(f"PETSc TS ({ts.getType()}) failed in a fixed step: converged reason {reason}")
            return y.copy(), np.full(y.shape, np.inf)
        if self.adaptive:  # the driver's next step is the TS's next step (gap updates follow it)
            self.proposed_dt = self._next_step()
        if self.project:
            # cleaned first: a Newton type leaves tails off their bounds by its solve
            # tolerance, and setting them to the bound after the projection would move energy
            y_new = problem.project_energy(y, clean_roundoff(problem, y_new))
        return y_new, None

    def state(self):
        return {"proposed_dt": self.proposed_dt, "linearization": self.ctx.linearization, "uses": self.ctx.uses}

    def set_state(self, snap):
        if snap is not None:
            self.proposed_dt, self.ctx.linearization, self.ctx.uses = snap["proposed_dt"], snap["linearization"], snap["uses"]

    def forget(self):
        self.proposed_dt, self.ctx.linearization, self.ctx.uses = None, None, 0
