"""Newton-Krylov for the radial steady state with every cell's spectra held (docs/numerics.md,
"Steady-state solvers"): the residual of ``steady_radial_problem.RadialSteadyProblem``, PETSc SNES.

Newton's method (``SNES newtonls``) with Jacobian-vector products that do not form the
matrix (``RadialSteadyProblem.jacobian_product``, exact to round-off) and GMRES,
preconditioned with the assembled frozen-coefficient Jacobian (``-snes_mf_operator`` in
PETSc's terms; its entries: ``RadialSteadyProblem.block_jacobians`` and ``couplings``). The default
preconditioner is block Jacobi over the ranks with an LU of each rank's block (one rank:
the exact LU of the frozen Jacobian). PETSc options with the prefix ``steady_`` override it
(``-steady_ksp_type``, ``-steady_ksp_rtol``, ``-steady_pc_type asm``,
``-steady_sub_pc_type ilu``, ``-steady_snes_monitor``, ...). The start is the current state
or the per-cell quasi-thermal state, whichever has the smaller residual. Every rank takes
part in every residual evaluation (ghost exchange and gathers are collective). The result
agrees between rank counts to the solver tolerance, not bitwise: the Krylov inner
products sum over ranks.
"""
import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.petsc_options import set_from_options
from boltzphlow_mpi.numerics.steady_common import (
    describe_drives,
    effective_tolerance,
    exact_sums,
    newton_snes,
    saturation,
)
from boltzphlow_mpi.numerics.steady_radial_problem import RadialSteadyProblem


class _MatrixFree:
    """``PETSc`` python ``Mat``: the Jacobian of the residual at the last point where the
    preconditioner was assembled, applied without forming it
    (``RadialSteadyProblem.jacobian_product``)."""

    def __init__(self, prob):
        self.prob, self.base = prob, None

    def set_base(self, base):
        """``base``: ``RadialSteadyProblem.linearization`` at the new point."""
        self.base = base

    def mult(self, mat, w, out):
        out.setArray(self.prob.jacobian_product(self.base, w.getArray(readonly=True)))


def _starting_point(sim, prob):
    """The current state, or where that has the larger residual norm, the per-cell
    quasi-thermal state (``steady.quasi_thermal_rows``: each cell at the temperature whose
    escape power is its absorbed power; cells without drive at the bath)."""
    from boltzphlow_mpi.numerics.steady_point import quasi_thermal_rows
    x_now = prob.pack(prob.y0)
    hot, found = quasi_thermal_rows(sim.model, 50.0)
    if not sim.par.reduce_max(float(found.any())):
        return x_now
    hot = np.where(found[:, None], hot, prob.y0)
    hot[:, sim.model.nf + sim.model.nn:] = prob.y0[:, sim.model.nf + sim.model.nn:]
    x_hot = prob.pack(hot)
    norms = [float(np.sum(np.square(prob.residual(x)))) for x in (x_now, x_hot)]
    now, warm = (float(np.sqrt(np.sum(sim.par.gather_cells(np.atleast_1d(v))))) for v in norms)
    return x_hot if warm < now else x_now


def newton(sim, tol=1e-10, max_it=100):
    """Newton-Krylov on the occupations of all cells of a sphere, every cell's spectra held
    (collective; see the module docstring), with the exact (direct) collision sums.

    Parameters
    ----------
    sim : Simulation
        A sphere; its current state ``sim.y`` is one candidate start (``_starting_point``).
    tol : float
        Converged when ``max |ln(gain/loss)|`` over all unknowns is below ``tol`` (raised
        to ``steady_common.TOLERANCE_FLOOR``, the round-off floor, if smaller).
    max_it : int
        Newton iterations at most.

    Returns
    -------
    dict
        ``y`` (the local rows), ``delta`` (the local cells' gaps), ``iterations`` (Newton),
        ``linear_iterations`` (GMRES), ``residual_norms``, ``max_relative_residual`` and
        ``balance`` (``RadialSteadyProblem.balance``).

    Raises
    ------
    SolverError
        On every rank, if SNES did not converge or the check in ``max |ln(gain/loss)|`` fails.
    """
    with exact_sums(sim):
        return _newton_exact(sim, effective_tolerance(tol), max_it)


def _newton_exact(sim, tol, max_it):
    from boltzphlow_mpi.numerics.steady_point import FULL_STEP_ITERATIONS
    prob = RadialSteadyProblem(sim)
    # with drives, a first attempt that has not converged in as many iterations as the point
    # solver's gives way to continuation
    first = min(max_it, FULL_STEP_ITERATIONS) if sim.model.drives else max_it
    x, reason, its, lin, history, worst = _snes_solve(sim, prob, _starting_point(sim, prob), tol, first)
    how = "newton"
    if not (reason > 0 and worst < tol * 10) and sim.model.drives:
        x, n, l, hist, reached, worst = _power_continuation(sim, prob, tol, max_it)
        its, lin, history, how = its + n, lin + l, history + hist, "continuation"
        if reached < 1.0:
            raise SolverError(f"radial steady state: not reached ({its} Newton iterations): Newton from the start "
                              f"and continuation in the drives' power from the bath state failed; the continuation "
                              f"reached {reached:.3g} of the power ({describe_drives(sim)})"
                              f"{saturation(sim, prob.unpack(x), reached, sim.par)}")
    elif not (reason > 0 and worst < tol * 10):
        raise SolverError(f"radial steady state: SNES did not converge (reason {reason}, {its} Newton iterations, "
                          f"max |ln(gain/loss)| = {worst:.3g}; {describe_drives(sim)})")
    y = prob.unpack(x)
    return {"y": y, "delta": np.asarray(sim.model.delta, float).copy(), "iterations": its, "linear_iterations": lin,
            "residual_norms": history, "max_relative_residual": worst, "balance": prob.balance(y),
            "globalization": how}


#: A closed sphere's continuation starts where the bath state is this near balance (the
#: point's ``CONTINUATION_START_RESIDUAL`` is 0.1): the first state's Newton steps in the
#: number row move log occupations near the gap by up to 40 from there. At 50 mK on a
#: ``Delta_0/36`` grid, 0.1 failed (3 cells), 0.01 failed for 8 cells (a two-cycle of the
#: clipped steps), 1e-3 and 1e-4 converged for all (docs/numerics.md, "Steady-state
#: solvers", closed spheres)
CLOSED_START_RESIDUAL = 1e-3


def _power_continuation(sim, prob, tol, max_it):
    """The point solver's continuation (``steady_point._power_continuation``, same constants)
    for the sphere: the drives' power scaled by ``s`` from where the bath state is near balance
    to 1, each state from the last, the step in ``ln s`` doubled after an easy state and
    divided by 4 after a failure: ``(x, iterations, linear iterations, residual norms,
    s reached, max |ln(gain/loss)|)`` (collective; every rank takes the same steps)."""
    from boltzphlow_mpi.numerics import steady_point as sp
    m = sim.model
    full = [np.array(d.power, float) for d in m.drives]

    def scale(s):
        for d, p in zip(m.drives, full, strict=True):
            d.power = p * s

    its = lin = 0
    history = []
    start = CLOSED_START_RESIDUAL if prob.closed else sp.CONTINUATION_START_RESIDUAL
    try:
        x = prob.pack(np.broadcast_to(m.reference_state, prob.y0.shape))
        s = sp.CONTINUATION_START
        for _ in range(sp.CONTINUATION_START_TRIES):
            scale(s)
            worst = sim.par.reduce_max(_worst(prob.residual(x)))
            if worst <= start:
                break
            s *= max(min(0.5 * start / worst, 0.5), 1e-6) if np.isfinite(worst) else 1e-6
        x, reason, n, l, hist, worst = _snes_solve(sim, prob, x, max(tol, sp.CONTINUATION_TOL), max_it, True)
        its, lin, history = its + n, lin + l, history + hist
        if not reason > 0:
            return x, its, lin, history, 0.0, worst
        step = sp.CONTINUATION_STEP
        while s < 1.0:
            s_new = min(1.0, s * np.exp(step))
            scale(s_new)
            x_new, reason, n, l, hist, w = _snes_solve(sim, prob, x, tol if s_new == 1.0 else max(tol, sp.CONTINUATION_TOL),
                                                       min(max_it, sp.CONTINUATION_STEP_ITERATIONS), True)
            its, lin, history = its + n, lin + l, history + hist
            if reason > 0:
                x, s, worst = x_new, s_new, w
                if n <= 8:
                    step *= 2.0
            else:
                step /= 4.0
                if step < sp.CONTINUATION_MIN_STEP:
                    return x, its, lin, history, s, worst
        return x, its, lin, history, 1.0, worst
    finally:
        scale(1.0)


def _worst(r):
    """``max |r|`` of this rank's entries, infinite where one is not finite."""
    return float(np.max(np.abs(r), initial=0.0)) if np.all(np.isfinite(r)) else np.inf


class _ClippedStep:
    """SNES line-search pre-check (collective): clips the Newton step ``Y`` (the new iterate is
    ``X - Y``) to ``clip`` in every log unknown and halves it while ``X - Y`` is outside the
    domain or, for a step longer than 1, the residual there is not finite (a microwave
    drive's degenerate states; at most 40 times), as the point solver's pre-check does."""

    def __init__(self, prob, clip):
        self.prob, self.clip = prob, clip

    def __call__(self, X, Y):
        x, y = X.getArray(readonly=True), Y.getArray()
        np.clip(y, -self.clip, self.clip, out=y)
        par = self.prob.par
        for _ in range(40):
            # a short step inside the domain needs no trial evaluation (it costs a residual)
            if self.prob.in_domain(x - y) and (par.reduce_max(float(np.max(np.abs(y), initial=0.0))) <= 1.0
                                               or np.isfinite(par.reduce_max(_worst(self.prob.residual(x - y))))):
                break
            y *= 0.5


def _snes_solve(sim, prob, x0, tol, max_it, clipped=False):
    """One Newton-Krylov solve from ``x0`` (collective): ``(x, reason, iterations, linear
    iterations, residual norms, max |ln(gain/loss)|)``; the SNES, its matrices and the
    preconditioner are built for the solve and destroyed. Steps clipped to
    ``steady_point.STEP_CLIP`` (``clipped``: the continuation) or ``FULL_STEP_CLIP`` (only
    against overflow: a tighter clip turns the first steps of a hot start into directions the
    line search cannot follow, measured 67 iterations instead of 10 on the photon sphere)."""
    from petsc4py import PETSc

    from boltzphlow_mpi.numerics.steady_point import FULL_STEP_CLIP, STEP_CLIP
    comm = PETSc.Comm(sim.par.comm)
    n = prob.size
    X = PETSc.Vec().createMPI((n, PETSc.DECIDE), comm=comm)
    F = X.duplicate()
    mf = _MatrixFree(prob)
    J = PETSc.Mat().createPython(((n, PETSc.DECIDE), (n, PETSc.DECIDE)), context=mf, comm=comm)
    J.setUp()
    P = _preconditioner_matrix(sim, prob, comm)

    def form_jacobian(snes, xv, Jm, Pm):
        _assemble_preconditioner(prob, mf, xv.getArray(readonly=True).copy(), Pm)

    prob.number_row = clipped and prob.closed
    accept = (lambda x: sim.par.reduce_max(_worst(prob.true_residual(x))) < tol) if prob.number_row else None
    snes, history = newton_snes(comm, prob.residual, F, J, P, form_jacobian, tol, max_it, accept)
    snes.setLineSearchPreCheck(_ClippedStep(prob, STEP_CLIP if clipped else FULL_STEP_CLIP))
    ksp, pc = _krylov(snes, {"snes_linesearch_type": "basic"} if clipped else {}, whole=prob.number_row)
    X.setArray(x0)
    try:
        snes.solve(None, X)
        x = X.getArray().copy()
        reason, its = snes.getConvergedReason(), snes.getIterationNumber()
        worst = sim.par.reduce_max(_worst(prob.true_residual(x)))
        lin = snes.getLinearSolveIterations()
    finally:
        prob.number_row = False
        for obj in (pc, ksp, snes, X, F, J, P):  # (no Python reference may outlive PETSc)
            obj.destroy()
    return x, reason, its, lin, history, worst


def _preconditioner_matrix(sim, prob, comm):
    """The distributed AIJ matrix of the frozen-coefficient Jacobian, preallocated for a
    cell's block and two neighbour entries per row."""
    from petsc4py import PETSc
    n = prob.size
    P = PETSc.Mat().createAIJ(((n, PETSc.DECIDE), (n, PETSc.DECIDE)), comm=comm)
    width = int(sim.par.reduce_max(max(prob.counts, default=0)))
    P.setPreallocationNNZ((width + 2, 2))
    P.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    return P


def _assemble_preconditioner(prob, mf, x, Pm):
    """The frozen-coefficient Jacobian at ``x`` (this rank's unknowns) into ``Pm``; the
    residual there becomes the base of the matrix-free products."""
    from petsc4py import PETSc
    y = prob.unpack(x)
    gain, loss_rate = prob.rates(y)  # once: the base of the products, blocks and couplings
    local = prob.local_derivatives(y)
    mf.set_base(prob.linearization(y, gain, loss_rate, local))
    Pm.zeroEntries()
    start = Pm.getOwnershipRange()[0]
    number = prob.number_index if prob.number_row else None
    for i, block in enumerate(prob.block_jacobians(y, gain, loss_rate, local)):
        if block is not None:
            idx = start + prob.offsets[i] + np.arange(len(block), dtype=PETSc.IntType)
            if number is not None and idx[0] <= number <= idx[-1]:
                block[number - idx[0]] = 0.0  # the number row's entries follow
            Pm.setValues(idx, idx, block.ravel())
    rows, cols, vals = prob.couplings(y, gain)
    for r, c, v in zip(rows, cols, vals):
        if r != number:
            Pm.setValue(int(r), int(c), float(v))
    if number is not None:
        cols, vals = prob.number_row_entries(y)
        Pm.setValues([number], cols.astype(PETSc.IntType), vals)
    Pm.assemble()


def _krylov(snes, defaults, whole=False):
    """GMRES with block Jacobi (LU of each rank's block unless the options say otherwise)
    for the Newton steps of ``snes``, then the options with ``defaults`` for what they do not
    set (the continuation's full steps: line search ``basic``, as for a point; the
    backtracking search crawls at 1 % per step there, measured 337 against 68 Newton
    iterations on the 100 mK sphere of the tests): ``(ksp, pc)``.

    ``whole``: the number row of a closed sphere couples the QP unknowns of all ranks, and
    block Jacobi, which drops it between ranks, lets GMRES stagnate (measured: 6 cells on 2
    ranks at 50 mK, the true residual growing while the preconditioned one fell, then a
    breakdown). Then the preconditioner is the LU of the whole frozen Jacobian: a parallel
    direct solver of PETSc's (MUMPS or SuperLU_dist) on more than one rank, additive Schwarz
    if it has none; on one rank the same LU as block Jacobi."""
    from petsc4py import PETSc
    ksp = snes.getKSP()
    ksp.setType("gmres")
    ksp.setTolerances(rtol=1e-8, max_it=300)
    pc = ksp.getPC()
    opts = PETSc.Options()
    parallel = [p for p in ("mumps", "superlu_dist") if PETSc.Sys.hasExternalPackage(p)]
    if whole and snes.getComm().getSize() > 1 and parallel:
        pc.setType("lu")
        pc.setFactorSolverType(parallel[0])
    elif whole and snes.getComm().getSize() > 1:
        pc.setType("asm")
    else:
        pc.setType("bjacobi")  # one block per rank: LU of the rank's cells
    if not opts.hasName("-steady_sub_pc_type"):  # the command line may choose (e.g. ilu)
        opts.setValue("-steady_sub_pc_type", "lu")
    set_from_options(snes, "-steady_", defaults)
    return ksp, pc
