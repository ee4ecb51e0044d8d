"""What the point and the radial steady-state solvers share (docs/numerics.md, "Steady-state
solvers"): the exact collision sums while a residual is evaluated, and the Newton SNES."""
from contextlib import nullcontext

import numpy as np


def exact_sums(sim):
    """Context in which ``sim.model`` evaluates the direct collision sums instead of the FFT
    ones. The FFT sums carry an absolute error of ~1e-16 of the largest rate, so in a cold
    tail the gain is noise (clipped to 0) and a relative residual there carries no
    information; the direct sums are exact to round-off relative to each entry."""
    from boltzphlow_mpi.physics.collisions import CollisionKernel
    m = sim.model
    if m.kernel is None or m.kernel.method != "fft":
        return nullcontext(m)
    return m.using_kernel(CollisionKernel(m.grid, sim.tau_ratio, sim.delta0, method="direct",
                                          edge_pairs=m.kernel.edge is not None))


def describe_drives(sim):
    """The ``[[drive]]`` tables of ``sim`` as the user wrote them, for an error that names
    them: ``[[drive]] 0: microwave at 0.1111 Delta_0, 1e-16 W/um^3 (peak); ...`` ("no drive")."""
    parts = []
    for i, d in enumerate(sim.cfg.drive):
        at = (f"{d.energy_over_delta0:.4g} Delta_0" if d.energy_over_delta0 is not None else f"{d.frequency_GHz:.4g} GHz")
        peak = " (peak)" if getattr(d, "radius_width_um", None) else ""
        parts.append(f"[[drive]] {i}: {d.kind} at {at}, {d.power_W_per_um3:.3g} W/um^3{peak}")
    return "; ".join(parts) or "no drive"


def net_fractions(model, f):
    """Per cell of ``model`` at QP occupations ``f`` (cells, N): the smallest net upward
    fraction of the microwave drives with power there (``Drive.net_fraction``), infinite
    where there is none. Near 0 a drive normalised to its power is degenerate or saturated
    (``saturation``; the solvers' domains, ``MIN_NET_FRACTION``)."""
    out = np.full(len(f), np.inf)
    for d in model.drives:
        if d.kind == "microwave":
            on = np.broadcast_to(np.asarray(d.power) > 0, out.shape)
            out = np.minimum(out, np.where(on, d.net_fraction(f, model.spectra, model.grid), np.inf))
    return out


#: a microwave drive whose net upward transitions are below this fraction of all its
#: transitions at the last state reached is reported as saturated (``saturation``)
SATURATION_FRACTION = 1e-3


def saturation(sim, y, reached, par=None):
    """The sentence an unreachable steady state adds when a power-normalised microwave drive
    saturates (collective with ``par``): at the last state reached (local rows ``y``, the
    fraction ``reached`` of the power) the drive's net upward transitions are below
    ``SATURATION_FRACTION`` of all of them in some cell, so its amplitude has grown without
    bound while the QPs there, flattened across its ladder up to the top of the grid, cannot
    absorb more. A larger ``E_max`` lifts it (measured: a sphere that stops at 0.069 of its
    power with ``E_max = 5 Delta_0`` converges with ``10 Delta_0``; docs/numerics.md,
    "Steady-state solvers"). "" otherwise."""
    if not reached > 0:  # the last state is a failed first attempt, not one reached on the way
        return ""
    m = sim.model
    frac = net_fractions(m, m.unpack(y)[0])
    worst, where = np.inf, -1
    if len(frac) and frac.min() < worst:
        worst, where = float(frac.min()), int(np.argmin(frac)) + (sim.cell_range[0] if par else 0)
    if par is not None:
        best = par.comm.allgather((worst, where))
        worst, where = min(best)
    if not worst < SATURATION_FRACTION:
        return ""
    cell = f" in cell {where}" if par is not None else ""
    return (f"; the microwave drive saturates{cell}: at {reached:.3g} of the power its net upward transitions are "
            f"{max(worst, 0.0):.2g} of all: its ladder ends at the top of the grid (raise "
            f"grid.energy_max_over_delta0, now {sim.cfg.grid.energy_max_over_delta0:g})")


def true_residual(prob, x):
    """``prob.residual(x)`` with every row the log balance of its own unknown: the number row
    (``prob.number_row``, the point's and the closed sphere's continuation) off for the call."""
    saved, prob.number_row = prob.number_row, False
    try:
        return prob.residual(x)
    finally:
        prob.number_row = saved


def clamped_inverse(v):
    """``1 / v`` where ``v`` is above the residual's clamp at 1e-300, 0 elsewhere (a row
    clamped there has no slope)."""
    return np.where(v > 1e-300, 1.0 / np.where(v > 1e-300, v, 1.0), 0.0)


def log_balance_jacobian(dgain, dloss_rate, gain, loss_rate, y):
    """``dr/dv`` of ``r = ln(gain) - ln(loss_rate) - v`` on unknowns ``v = ln y``, from the
    derivatives of the gain and of the loss rate with respect to ``y`` (rows: residuals,
    columns: unknowns): ``y_j (dgain_i/dy_j / gain_i - dloss_i/dy_j / loss_i) - delta_ij``
    (docs/numerics.md, "Steady states: the structured Jacobian"). The residual's logarithm
    is clamped at 1e-300, so a row at or below it has no slope there."""
    inv_g, inv_k = clamped_inverse(gain), clamped_inverse(loss_rate)
    # y first: a drive's derivative grows like 1/y far from the solution (``Drive.derivatives``,
    # capped at 1e300), its product with y does not; what still overflows there is capped (the
    # Jacobian of such an iterate only has to point away from it)
    with np.errstate(over="ignore", invalid="ignore"):
        J = (dgain * y[None, :]) * inv_g[:, None] - (dloss_rate * y[None, :]) * inv_k[:, None]
    return np.nan_to_num(J, nan=0.0, posinf=1e300, neginf=-1e300) - np.eye(len(y))


#: The smallest tolerance a steady state can meet: the round-off floor of the relative rate
#: imbalance ``max |ln(G / K y)|`` in double precision (measured 1e-14 to 5e-14 at any grid
#: size; docs/numerics.md, "Steady states: the tolerance"). A smaller ``solve.tolerance`` is
#: raised to it.
TOLERANCE_FLOOR = 1e-13


def effective_tolerance(tol):
    """``tol``, or ``TOLERANCE_FLOOR`` where ``tol`` is below the round-off floor."""
    return max(float(tol), TOLERANCE_FLOOR)


def newton_snes(comm, residual, F, J, P, form_jacobian, tol, max_it, accept=None):
    """A ``newtonls`` SNES on ``residual(x)`` (non-finite entries count as 1e3) with options
    prefix ``steady_``, the norms recorded: ``(snes, history)``. Converged when the largest
    residual entry (a relative rate imbalance, so the test means the same at any number of
    unknowns, unlike a norm of all of them) is below ``tol`` and, if given, ``accept(x)``
    holds for the current solution. The caller sets the KSP and PC, then ``setFromOptions``."""
    from petsc4py import PETSc
    history = []

    def converged(snes, its, norms):
        if F.norm(PETSc.NormType.NORM_INFINITY) < tol and (
                accept is None or accept(snes.getSolution().getArray(readonly=True).copy())):
            return PETSc.SNES.ConvergedReason.CONVERGED_FNORM_ABS
        return PETSc.SNES.ConvergedReason.ITERATING

    def form_function(snes, xv, fv):
        r = residual(xv.getArray(readonly=True).copy())
        fv.setArray(np.where(np.isfinite(r), r, 1e3))

    snes = PETSc.SNES().create(comm)
    snes.setOptionsPrefix("steady_")
    snes.setType("newtonls")
    snes.setFunction(form_function, F)
    snes.setJacobian(form_jacobian, J, P)
    snes.setTolerances(atol=0.0, rtol=0.0, stol=0.0, max_it=max_it)
    snes.setConvergenceTest(converged)
    snes.setMonitor(lambda s, it, norm: history.append(float(norm)))
    return snes, history
