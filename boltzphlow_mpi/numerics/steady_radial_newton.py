"""Newton-Krylov for the radial steady state with every cell's spectra held (docs/numerics.md,
"Steady-state solvers"): the residual of ``steady_radial_problem.RadialSteadyProblem``, PETSc SNES.

Newton's method (``SNES newtonls``) with matrix-free Jacobian-vector products (a one-sided
difference of the residual, step ``1e-7 / |w|_inf`` in ``v``) and GMRES, preconditioned with
the assembled frozen-coefficient Jacobian (``-snes_mf_operator`` in PETSc's terms; its
entries: ``RadialSteadyProblem.block_jacobians`` and ``couplings``). The default
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
from boltzphlow_mpi.numerics.steady_common import describe_drives, effective_tolerance, exact_sums, newton_snes
from boltzphlow_mpi.numerics.steady_radial_problem import RadialSteadyProblem


class _MatrixFree:
    """``PETSc`` python ``Mat``: ``J w = (F(x + e w) - F(x)) / e``, ``e = 1e-7 / |w|_inf``."""

    def __init__(self, prob):
        self.prob, self.x, self.f = prob, None, None

    def set_base(self, x, f):
        self.x, self.f = x, f

    def mult(self, mat, w, out):
        wa = w.getArray(readonly=True)
        norm = w.norm(3)  # NORM_INFINITY: a max, so the same on any number of ranks
        if norm == 0:
            out.set(0.0)
            return
        e = 1e-7 / norm
        out.setArray((self.prob.residual(self.x + e * wa) - self.f) / e)


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
    from petsc4py import PETSc
    prob = RadialSteadyProblem(sim)
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

    snes, history = newton_snes(comm, prob.residual, F, J, P, form_jacobian, tol, max_it)
    ksp, pc = _krylov(snes)
    X.setArray(_starting_point(sim, prob))
    try:
        snes.solve(None, X)
        x = X.getArray().copy()
        reason, its = snes.getConvergedReason(), snes.getIterationNumber()
        r = prob.residual(x)
        worst = sim.par.reduce_max(float(np.max(np.abs(r))) if len(r) else 0.0)
        y = prob.unpack(x)
        balance = prob.balance(y)
        lin = snes.getLinearSolveIterations()
    finally:
        for obj in (pc, ksp, snes, X, F, J, P):  # (no Python reference may outlive PETSc)
            obj.destroy()
    if not (reason > 0 and worst < tol * 10):
        raise SolverError(f"radial steady state: SNES did not converge (reason {reason}, {its} Newton iterations, "
                          f"max |ln(gain/loss)| = {worst:.3g}; {describe_drives(sim)})")
    return {"y": y, "delta": np.asarray(sim.model.delta, float).copy(), "iterations": its, "linear_iterations": lin,
            "residual_norms": history, "max_relative_residual": worst, "balance": balance}


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
    mf.set_base(x, prob.log_balance(gain, loss_rate * y))
    Pm.zeroEntries()
    start = Pm.getOwnershipRange()[0]
    for i, block in enumerate(prob.block_jacobians(y, gain, loss_rate)):
        if block is not None:
            idx = start + prob.offsets[i] + np.arange(len(block), dtype=PETSc.IntType)
            Pm.setValues(idx, idx, block.ravel())
    rows, cols, vals = prob.couplings(y, gain)
    for r, c, v in zip(rows, cols, vals):
        Pm.setValue(int(r), int(c), float(v))
    Pm.assemble()


def _krylov(snes):
    """GMRES with block Jacobi (LU of each rank's block unless the options say otherwise)
    for the Newton steps of ``snes``, then the options: ``(ksp, pc)``."""
    from petsc4py import PETSc
    ksp = snes.getKSP()
    ksp.setType("gmres")
    ksp.setTolerances(rtol=1e-8, max_it=300)
    pc = ksp.getPC()
    pc.setType("bjacobi")  # one block per rank: LU of the rank's cells
    opts = PETSc.Options()
    if not opts.hasName("-steady_sub_pc_type"):  # the command line may choose (e.g. ilu)
        opts.setValue("-steady_sub_pc_type", "lu")
    snes.setFromOptions()
    return ksp, pc
