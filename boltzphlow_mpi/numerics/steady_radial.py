"""Steady states of the radial problem (all cells coupled, parallel) with PETSc SNES:
``solve`` (docs/physics.md, "Sphere (radial)"; docs/numerics.md, "Steady-state solvers").

The residual of the sphere's steady state in log variables and the matrix of its
preconditioner are ``steady_radial_problem``; Newton-Krylov on it with every cell's spectra
held is ``steady_radial_newton``. Here: the outer iteration that alternates that solve with
the gap update of every cell when the gap is self-consistent.

Scope: QP transport ``diffusive`` or ``off``; phonon transport ``kinetic`` or ``off``; the
gap fixed or self-consistent (``solve``: outer iteration), BCS or Eliashberg.
"""
import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.steady_radial_newton import newton


def solve(sim, tol=1e-10, max_it=100, max_outer=60):
    """Steady state of a sphere ``sim`` from its current state (collective).

    Self-consistent gap (BCS or Eliashberg): an outer iteration alternates Newton-Krylov on
    the occupations with every cell's spectra held and the gap update of every cell from its
    new ``f``, ``n`` (``gap_model.update``: the BCS gap equation or the Eliashberg
    self-energies), until no cell's gap edge moves by more than ``max(tol, Eliashberg
    tolerance) Delta_0``; QP cells that gain states start at the occupation of the first
    cell above them. The transport (open faces, QP trapping) follows each update.

    Parameters
    ----------
    sim : Simulation
        A sphere; with the self-consistent gap its state and spectra are left at the
        steady state's.
    tol : float
        Tolerance of each Newton solve (``steady_radial_newton.newton``) and, times
        ``Delta_0``, of the gap iteration (at least the Eliashberg solver's tolerance).
    max_it : int
        Newton iterations at most per solve.
    max_outer : int
        Gap updates at most.

    Returns
    -------
    dict
        The local rows ``y``, the cells' gaps ``delta``, SNES and KSP iterations (summed
        over the outer iteration), residual norms, ``max_relative_residual`` and the
        balance; with the self-consistent gap also ``outer_iterations``.

    Raises
    ------
    SolverError
        On every rank: Newton did not converge, a gap update failed, or the gap iteration
        did not converge in ``max_outer`` updates.
    """
    if not sim.self_consistent:
        return newton(sim, tol, max_it)
    gap_tol = max(tol, getattr(getattr(sim.gap_model, "solver", None), "tol", 0.0)) * sim.delta0
    its = lin = 0
    history = []
    for outer in range(1, max_outer + 1):
        res = newton(sim, tol, max_it)
        its, lin, history = its + res["iterations"], lin + res["linear_iterations"], history + res["residual_norms"]
        sim.y = res["y"]
        moved = _update_gaps(sim)
        if moved < gap_tol:
            break
    else:
        raise SolverError(f"radial steady state: the gap iteration did not converge in {max_outer} updates "
                          f"(a gap edge still moves by {moved:.3g} k_B T_c)")
    res = newton(sim, tol, max_it)  # balance at the final spectra
    res.update(iterations=its + res["iterations"], linear_iterations=lin + res["linear_iterations"],
               residual_norms=history + res["residual_norms"], outer_iterations=outer)
    return res


def _update_gaps(sim):
    """One gap update of every cell from its ``f``, ``n`` (collective): the new spectra set on
    ``sim``, QP cells that gained states filled (``_fill_gained``). Returns how far the gap
    edge moved at most (over all cells); a failed update raises SolverError on every rank."""
    m, par = sim.model, sim.par
    old = m.spectra
    error = None
    fbar, nbar, _ = m.unpack(sim.y)
    try:
        new = sim.gap_model.update(fbar, nbar, old)
    except SolverError as exc:  # every rank must stop, not hang
        new, error = old, str(exc)
    if par.reduce_max(1.0 if error else 0.0):
        raise SolverError(error or "radial steady state: gap update failed on another rank")
    moved = par.reduce_max(float(np.max(np.abs(np.asarray(new.delta) - np.asarray(old.delta)), initial=0.0)))
    sim.y = _fill_gained(m, sim.y, old.active, new.active)
    sim.set_spectra(new)  # collective: the transport gathers every cell's gap
    return moved


def _fill_gained(m, y, was_active, now_active):
    """QP cells that gained states: the occupation of the first cell (of the same row) that
    had states before, the nearest guess for a level just below it."""
    y = y.copy()
    for c in range(len(y)):
        gained = now_active[c] & ~was_active[c]
        if gained.any() and was_active[c].any():
            first = int(np.argmax(was_active[c]))
            for q in range(m.Mq):
                row = y[c, q * m.N:(q + 1) * m.N]
                row[gained] = row[first]
    return y
