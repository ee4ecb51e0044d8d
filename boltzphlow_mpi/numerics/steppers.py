"""Time steppers for ``dy/dt = G(y) - K(y) y`` (docs/numerics.md, "Time steppers").

The problem object supplies ``split(y, clip=True) -> (G, K)``, ``rhs(y, clip=True)``,
``occupation_slices`` (blocks whose positivity and error are controlled) and
``check_state(y)``. Global reductions (``reduce_max``) are injected so that every rank
takes the same decisions (one global ``dt``), with a communicator of size one in serial.

* ``euler``, ``rk4``: explicit references, conditionally stable.
* ``tr1``: Pareschi-Russo time relaxation, ``y <- (1 - tau) y + tau P(y)/mu`` with
  ``P = Q + mu y``, ``tau = 1 - exp(-mu dt)`` = an Euler step scaled by ``tau/mu``.
  ``mu >= max K`` keeps ``f, 1 - f, n >= 0`` for any ``dt``. With one global ``mu`` it
  keeps every linear invariant (the energy ledger) exactly; ``mu_mode = "local"`` (one
  ``mu`` per unknown) does not, and the ledger error is measured in the tests.
* ``tr2``: second-order member. The Taylor coefficients of ``F(tau) = e^{mu t} y`` are
  ``F0 = y``, ``F1 = P(F0)/mu`` and, for a collision operator that is not bilinear,
  ``F2 = F1 + J_P(F0) (F1 - F0) / (2 mu)`` (for a bilinear P, ``J_P(F0) F0 = 2 P(F0)``
  and this is the ``J_P(F0) F1 / (2 mu)`` of docs/numerics.md, "Time steppers"). The update
  ``(1 - tau) F0 + tau (1 - tau) F1 + tau^2 F2`` (Pareschi-Russo weights) is second order
  and its weights sum to one on every linear invariant (``F0, F1, F2`` all carry the full
  energy). ``J_P v`` is exact: the operator is a cubic polynomial in ``y``, so
  ``(4 D(1) - D(2)) / 3`` with ``D(s) = [Q(y + s v) - Q(y - s v)] / (2 s)`` has no
  truncation error. Positivity: ``mu`` starts at ``max K`` and is doubled until the new
  state is admissible (for ``mu -> inf`` the update tends to ``F2 -> y``).
* ``exp``: exponential (frozen-coefficient) step
  ``y <- y e^{-K dt} + G dt phi1(-K dt)``, ``phi1(z) = (e^z - 1)/z``, which keeps
  ``0 <= f <= 1`` and ``n >= 0`` for any ``dt``; made second order by a trapezoidal
  corrector (coefficients averaged between ``y`` and the predictor). The predictor is the
  embedded first-order solution used for the error estimate. Frozen coefficients do not
  conserve energy; with ``project`` (``[time] exp_energy_projection``) each cell's excitation
  above the bath is rescaled after the step, ``y <- y_bath + s (y - y_bath)``, with the one
  ``s`` per cell that restores its energy ledger exactly (an invariant projection in the
  sense of Hairer, Lubich and Wanner, GNI IV.4; ``s - 1`` is of the size of the local
  error). The projection holds entries that a factor ``s > 1`` would push past a bound at
  the bound and solves ``s`` again on the rest (``kinetics.CellKinetics.project_energy``).

Admissibility: values off their bounds by round-off only (``ROUNDOFF`` = 1e-13 of the
largest value of the block in the cell) are set to the bound by ``clean_roundoff`` before
``check_state`` judges a step; a state further off, or NaN, is rejected and named.
"""
import numpy as np

from boltzphlow_mpi.jit import njit


def phi1(z):
    """``(e^z - 1) / z`` with the removable singularity at 0."""
    z = np.asarray(z, float)
    small = np.abs(z) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(small, 1.0 + 0.5 * z, np.expm1(z) / np.where(small, 1.0, z))
    return out


def _local_max(x):
    return float(np.max(x)) if np.size(x) else 0.0


class Stepper:
    name = "base"
    order = 1
    embedded = False
    conserving = True  # keeps linear invariants exactly (energy ledger)

    def __init__(self, reduce_max=lambda v: v):
        self.reduce_max = reduce_max

    #: largest ``dt * max K`` this method takes (None: no limit). For Euler and RK4 it is
    #: the stability bound; for TR it is an accuracy bound: once ``mu dt >> 1`` the update
    #: saturates at ``y + Q/mu`` whatever ``dt`` is, which step doubling cannot detect.
    stiff_limit = None

    #: the next step a stepper that controls its own error proposes after a step (None:
    #: the controller's growth rule decides)
    proposed_dt = None

    def step(self, problem, y, dt):
        """Return ``(y_new, error_estimate or None)``."""
        raise NotImplementedError

    def state(self):
        """What the stepper carries from step to step (None: nothing)."""

    def set_state(self, snap):
        pass

    def forget(self):
        """Drop what is carried between steps (the next step starts afresh, as after a restart)."""

    def round_step(self, dt):
        """The step the controller proposes next, as the stepper takes it (here unchanged)."""
        return dt

    def dt_limit(self, problem, y):
        """Largest admissible ``dt`` for this state (same on all ranks), or ``inf``."""
        if self.stiff_limit is None:
            return np.inf
        _, K = problem.split(y)
        mu = self.reduce_max(relaxation_rate(problem, K))
        return self.stiff_limit / mu if mu > 0 else np.inf


class Euler(Stepper):
    name, order = "euler", 1
    stiff_limit = 1.0

    def step(self, problem, y, dt):
        return y + dt * problem.rhs(y), None


class RK4(Stepper):
    name, order = "rk4", 4
    stiff_limit = 2.5

    def step(self, problem, y, dt):
        k1 = problem.rhs(y)
        k2 = problem.rhs(y + 0.5 * dt * k1)
        k3 = problem.rhs(y + 0.5 * dt * k2)
        k4 = problem.rhs(y + dt * k3)
        return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), None


def relaxation_rate(problem, K):
    """``max K`` over the controlled blocks of this rank's cells (0 without any); reduce it
    over ranks for the global ``mu``."""
    return max((_local_max(K[:, s]) for _, s in problem.occupation_slices), default=0.0)


class TR1(Stepper):
    name, order = "tr1", 1
    stiff_limit = 1.0

    def __init__(self, reduce_max=lambda v: v, mu_mode="global"):
        super().__init__(reduce_max)
        if mu_mode not in ("global", "local"):
            raise ValueError(f"mu_mode = {mu_mode!r}: expected 'global' or 'local'")
        self.mu_mode = mu_mode
        self.conserving = mu_mode == "global"
        if mu_mode == "local":
            self.stiff_limit = None  # each unknown relaxes with its own rate: no saturation

    def step(self, problem, y, dt):
        G, K = problem.split(y)
        Q = G - K * y
        if self.mu_mode == "global":
            mu = self.reduce_max(relaxation_rate(problem, K))
        else:
            mu = np.maximum(K, 0.0)  # per unknown: frees the step from the stiffest unknown
        # tau / mu = (1 - e^{-mu dt}) / mu = dt phi1(-mu dt)
        return y + dt * phi1(-mu * dt) * Q, None


def directional_derivative(problem, y, v):
    """Exact ``J_Q(y) v`` for the cubic collision operator (see module docstring)."""
    def D(s):
        return (problem.rhs(y + s * v, clip=False) - problem.rhs(y - s * v, clip=False)) / (2 * s)
    return (4.0 * D(1.0) - D(2.0)) / 3.0


class TR2(Stepper):
    name, order = "tr2", 2
    stiff_limit = 1.0
    max_mu_doublings = 40

    def step(self, problem, y, dt):
        G, K = problem.split(y)
        Q = G - K * y
        mu = self.reduce_max(relaxation_rate(problem, K))
        if mu <= 0:
            return y.copy(), None
        JQ = None
        for _ in range(self.max_mu_doublings):
            v = Q / mu
            if JQ is None:
                JQ = directional_derivative(problem, y, Q)  # linear in v: J(Q/mu) = J(Q)/mu
            F1 = y + v
            F2 = F1 + 0.5 * v + JQ / (2 * mu * mu)
            e = np.exp(-mu * dt)
            tau = -np.expm1(-mu * dt)
            y_new = e * y + tau * e * F1 + tau * tau * F2
            y_new = clean_roundoff(problem, y_new)
            bad = 1.0 if problem.check_state(y_new) is not None else 0.0
            if self.reduce_max(bad) == 0.0:
                return y_new, None
            mu *= 2.0
        return y_new, None  # still inadmissible: the controller rejects or the run stops


#: Round-off bound of an occupation, relative to the largest value of its block in the cell.
ROUNDOFF = 1e-13


def clean_roundoff(problem, y, eps=ROUNDOFF):
    """``y`` with occupations off their bounds by round-off only set to the bound.

    A value below 0 by at most ``eps`` times the largest magnitude of its block in its cell
    (``f`` or ``n``), or an ``f`` above 1 by at most ``eps``, is physical to round-off (a far
    tail of a cold distribution after a rescaling, the ``J_P v`` differences of TR2): it is
    set to the bound (docs/numerics.md, "Adaptive step control"). Anything further off, and
    NaN, is left for ``check_state`` to reject and name. Returns ``y`` itself when nothing
    is off its bound.
    """
    out = None
    for name, s in problem.occupation_slices:
        block = y[:, s]
        if not _any_outside(block, 1.0 if name == "f" else np.inf):
            continue
        low = block < 0
        high = (block > 1) if name == "f" else None
        if out is None:
            out = y.copy()
        scale = eps * np.max(np.abs(block), axis=1, keepdims=True)
        # (a cell holding inf has no round-off scale: nothing in it is cleaned, so that
        # check_state sees and names the inf instead of a -inf set to 0)
        fixed = np.where(low & (block >= -scale) & np.isfinite(scale), 0.0, block)
        if high is not None:
            fixed = np.where(high & (block <= 1 + eps), 1.0, fixed)
        out[:, s] = fixed
    return y if out is None else out


@njit
def _any_outside(x, upper):
    """Whether an entry of the 2-D ``x`` lies below 0 or above ``upper`` (NaN does not)."""
    for i in range(x.shape[0]):
        for k in range(x.shape[1]):
            if x[i, k] < 0 or x[i, k] > upper:
                return True
    return False


def exponential_update(y, G, K, dt):
    """``y e^{-K dt} + G dt phi1(-K dt)`` (``y, G, K``: 2-D, one shape): ``exp`` and ``expm1`` in numpy, the rest in one
    compiled pass (the arithmetic of ``phi1`` and of the expression, in their order)."""
    z = -K * dt
    return _exponential_update(y, G, z, np.exp(z), np.expm1(z), dt)


@njit
def _exponential_update(y, G, z, e, em1, dt):
    out = np.empty(y.shape)
    for i in range(y.shape[0]):
        for k in range(y.shape[1]):
            zk = z[i, k]
            phi = 1.0 + 0.5 * zk if abs(zk) < 1e-8 else em1[i, k] / zk
            out[i, k] = y[i, k] * e[i, k] + G[i, k] * dt * phi
    return out


class Exponential(Stepper):
    name, order, embedded = "exp", 2, True
    conserving = False

    def __init__(self, reduce_max=lambda v: v, project=False):
        super().__init__(reduce_max)
        self.project = project
        self.conserving = project

    def step(self, problem, y, dt):
        G0, K0 = problem.split(y)
        pred = exponential_update(y, G0, K0, dt)
        G1, K1 = problem.split(pred)
        corr = exponential_update(y, 0.5 * (G0 + G1), 0.5 * (K0 + K1), dt)
        err = corr - pred
        if self.project:
            corr = problem.project_energy(y, corr)
        return corr, err


STEPPERS = {"euler": Euler, "rk4": RK4, "tr1": TR1, "tr2": TR2, "exp": Exponential}


def make_stepper(name, reduce_max=lambda v: v, **options):
    if name == "rosw":
        from boltzphlow_mpi.numerics.rosenbrock import RosenbrockW  # it builds on this module
        return RosenbrockW(reduce_max, options.get("project", True), options.get("jacobian_every", 1))
    if name in ("ts", "arkimex"):
        from boltzphlow_mpi.numerics.petsc_ts import PetscTS  # PETSc only when asked for
        return PetscTS(options["comm"], reduce_max, name, options.get("rtol", 1e-4), options.get("atol", 1e-14),
                       options.get("project", True), options.get("jacobian_every", 5), options.get("adaptive", True))
    if name not in STEPPERS:
        raise ValueError(f"method = {name!r}: expected one of {', '.join(STEPPERS)}, rosw, ts, arkimex")
    if name == "tr1":
        return TR1(reduce_max, options.get("mu_mode", "global"))
    if name == "exp":
        return Exponential(reduce_max, options.get("project", False))
    return STEPPERS[name](reduce_max)


def error_scales(problem, y, rtol, atol):
    """``(slice, scale)`` per occupation block: ``atol + rtol * max_E |y - y_ref|`` of each
    cell ((cells, 1)), what the error of the block is measured against (the excitation, not
    the thermal background; docs/numerics.md, "Adaptive step control")."""
    dev = y - problem.reference_state
    return [(s, atol + rtol * np.max(np.abs(dev[:, s]), axis=1, keepdims=True)) for _, s in problem.occupation_slices]


class StepController:
    """Adaptive ``dt`` with error control, one global ``dt`` (docs/numerics.md, "Adaptive step control").

    Error norm: ``max |err| / (atol + rtol * max_E |y - y_ref|)`` per cell and occupation
    block, ``y_ref`` the problem's reference (bath) state: the error is measured against the
    excitation being computed, not against the thermal background,
    maximized over all cells of all ranks (``reduce_max``), so the accepted ``dt`` is the
    same on every rank. Steppers without an embedded estimate use step doubling (the two
    half steps are kept). A step that leaves the admissible set (NaN, ``f < 0``,
    ``f > 1``, ``n < 0``) is rejected and retried with a smaller ``dt``.
    """

    def __init__(self, stepper, rtol=1e-4, atol=1e-14, dt_min=1e-14, dt_max=np.inf,  # dt_min relative to t_end
                 safety=0.9, max_growth=4.0, min_shrink=0.2, max_rejects=30):
        self.stepper, self.rtol, self.atol = stepper, rtol, atol
        self.dt_min, self.dt_max = dt_min, dt_max
        self.safety, self.max_growth, self.min_shrink = safety, max_growth, min_shrink
        self.max_rejects = max_rejects
        self.rejected = 0
        self.last_violation = None  # (block, cell, energy index, value) of the last inadmissible try, this rank

    def error_norm(self, problem, y, err):
        worst = 0.0
        for s, scale in error_scales(problem, y, self.rtol, self.atol):
            worst = max(worst, _local_max(np.abs(err[:, s]) / scale))
        return worst

    def attempt(self, problem, y, dt):
        """One try: ``(accepted, y_new, dt_next, error_norm)``.

        The caller passes ``dt`` already clipped to ``stepper.dt_limit`` and to its output
        times (``limit_reason`` of the driver says which bound is active).
        """
        st = self.stepper
        if st.embedded:
            y_new, err = st.step(problem, y, dt)
        else:
            y_big, _ = st.step(problem, y, dt)
            y_half, _ = st.step(problem, y, 0.5 * dt)
            y_new, _ = st.step(problem, y_half, 0.5 * dt)
            err = (y_new - y_big) / (2 ** st.order - 1)
        y_new = clean_roundoff(problem, y_new)
        violation = problem.check_state(y_new)
        bad = violation is not None
        if bad:
            self.last_violation = violation
        # (no estimate from an embedded stepper: it controlled its error inside the step)
        norm = np.inf if bad else (0.0 if err is None else self.error_norm(problem, y_new, err))
        norm = st.reduce_max(norm if np.isfinite(norm) else np.inf)
        p = st.order if st.embedded else st.order + 1
        if norm <= 1.0:
            grow = self.max_growth if norm == 0 else min(self.max_growth, self.safety * norm ** (-1.0 / p))
            dt_next = dt * max(grow, 1.0 if norm < 0.5 else grow) if st.proposed_dt is None else st.proposed_dt
            return True, y_new, st.round_step(min(self.dt_max, dt_next)), norm
        shrink = self.min_shrink if not np.isfinite(norm) else max(self.min_shrink, self.safety * norm ** (-1.0 / p))
        self.rejected += 1
        return False, y, st.round_step(dt * shrink), norm
