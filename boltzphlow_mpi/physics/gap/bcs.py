"""BCS gap: equilibrium Delta(T) and the nonequilibrium gap equation (docs/physics.md, "BCS gap").

Gap equation with the occupation in place of ``tanh``::

    1 = lambda int_0^{Omega_c} dxi (1 - 2 f(E)) / E,   E = sqrt(xi^2 + Delta^2),

with ``1/lambda = asinh(Omega_c / Delta_0)`` so that ``Delta(T=0) = Delta_0``. Since
``dxi / E = dE / sqrt(E^2 - Delta^2) = (phi(E) / Delta) dE`` it reads::

    asinh(Omega_c / Delta) - asinh(Omega_c / Delta_0) = 2 int dE f(E) phi(E) / Delta,

and on the energy grid the right side is ``2 h sum_k f_k phi_k / Delta`` with the exact
cell averages ``phi_k`` of ``energy_grid`` (valid for any gap position). Equilibrium
``Delta(T)`` uses the same equation with the Fermi function, integrated in
``E = Delta cosh u``. In this model the gap closes at ``k T_c* = Delta_0 e^gamma / pi``
(``Delta_0 / k T_c* = 1.764``, the BCS ratio).
"""
import numpy as np
from scipy.optimize import brentq

from boltzphlow_mpi.physics.energy_grid import cell_spectra
from boltzphlow_mpi.physics.statistics import fermi

BCS_RATIO = np.pi * np.exp(-np.euler_gamma)  # Delta(0) / k T_c in weak-coupling BCS

_U_NODES, _U_WEIGHTS = np.polynomial.legendre.leggauss(400)


def _thermal_integral(delta, temperature, u_max):
    """``2 int_0^{u_max} du f(Delta cosh u)`` by Gauss-Legendre in pieces (smooth integrand)."""
    if temperature <= 0:
        return 0.0
    # Past u_cut the integrand is below 1e-300 relative; integrate up to it in 4 panels.
    u_cut = min(u_max, np.arccosh(max(1.0, 700.0 * temperature / delta)) if delta > 0 else u_max)
    total = 0.0
    for a, b in zip(np.linspace(0, u_cut, 5)[:-1], np.linspace(0, u_cut, 5)[1:]):
        u = 0.5 * (b - a) * _U_NODES + 0.5 * (b + a)
        total += 0.5 * (b - a) * np.dot(_U_WEIGHTS, fermi(delta * np.cosh(u), temperature))
    return 2.0 * total


def critical_temperature(delta0):
    """``T_c*`` of the gap equation (units of delta0): ``Delta_0 e^gamma / pi``."""
    return delta0 / BCS_RATIO


def equilibrium_gap(temperature, delta0, cutoff=np.inf):
    """Equilibrium BCS gap at ``temperature`` (same units as ``delta0``; vectorized).

    ``cutoff`` is Omega_c (Debye energy); ``inf`` gives the ``ln(Delta_0/Delta)`` form.
    """
    temps = np.atleast_1d(np.asarray(temperature, dtype=float))
    out = np.empty_like(temps)
    tc = critical_temperature(delta0)
    for i, t in enumerate(temps):
        if t >= tc:
            out[i] = 0.0
            continue
        if t <= 0:
            out[i] = delta0
            continue

        def residual(d):
            lhs = _log_ratio(d, delta0, cutoff)
            return lhs - _thermal_integral(d, t, np.arcsinh(cutoff / d))

        lo = 1e-12 * delta0
        if residual(delta0) >= 0:
            out[i] = delta0
            continue
        out[i] = brentq(residual, lo, delta0, xtol=1e-15 * delta0, rtol=1e-15, maxiter=200)
    return out if np.ndim(temperature) else out[0]


def _log_ratio(delta, delta0, cutoff):
    if np.isinf(cutoff):
        return np.log(delta0 / delta)
    return np.arcsinh(cutoff / delta) - np.arcsinh(cutoff / delta0)


def equilibrium_gap_slope(temperature, delta0, cutoff=np.inf):
    """``d Delta / dT`` of the equilibrium gap by implicit differentiation of the gap equation.

    With ``G(Delta, T) = ln(Delta0/Delta) - 2 int du f(Delta cosh u / T)``:
    ``dDelta/dT = -G_T / G_Delta``, both integrals smooth in ``u``.
    """
    temps = np.atleast_1d(np.asarray(temperature, dtype=float))
    deltas = np.atleast_1d(equilibrium_gap(temps, delta0, cutoff))
    out = np.zeros_like(temps)
    for i, (t, d) in enumerate(zip(temps, deltas)):
        if d <= 0 or t <= 0:
            continue
        u_cut = np.arccosh(max(1.0, 700.0 * t / d))
        u = 0.5 * u_cut * (_U_NODES + 1)
        w = 0.5 * u_cut * _U_WEIGHTS
        x = d * np.cosh(u) / t
        fp = -fermi(x, 1.0) * fermi(-x, 1.0)  # df/dx
        dlog = (-1.0 / d) if np.isinf(cutoff) else (-cutoff / (d * np.sqrt(cutoff ** 2 + d ** 2)))
        g_delta = dlog - 2.0 * np.dot(w, fp * np.cosh(u) / t)
        g_t = 2.0 * np.dot(w, fp * d * np.cosh(u) / t ** 2)
        out[i] = -g_t / g_delta
    return out if np.ndim(temperature) else out[0]


def gap_residual(grid, f, delta, delta0, cutoff, gamma=0.0):
    """``asinh(Oc/D) - asinh(Oc/D0) - 2 h sum_k f_k phi_k(D) / D`` per cell (``f`` (cells, N),
    ``delta`` (cells,)): zero at the nonequilibrium gap."""
    spec = cell_spectra(grid, delta, gamma)
    with np.errstate(divide="ignore", invalid="ignore"):
        rhs = 2.0 * grid.step * np.sum(f * spec.phi, axis=1) / delta
    return _log_ratio(delta, delta0, cutoff) - rhs


def _pair_and_slope(e, delta, gamma):
    """The pair-DOS antiderivative ``P(e; Delta)`` of ``energy_grid``, its derivative
    ``dP/dDelta`` and the DOS antiderivative (None for BCS, where ``e > Delta`` says where
    the states are): BCS ``Delta acosh(e/Delta)`` and ``acosh(e/Delta) - e/sqrt(e^2 - Delta^2)``
    above the gap (0 below); Dynes ``Re[Delta log(z + r)]``, ``Re[log(z + r) - Delta^2 /
    (r (z + r))]`` and ``Re r`` with ``r = sqrt(z - Delta) sqrt(z + Delta)``."""
    if gamma == 0:
        e, d = np.broadcast_arrays(np.asarray(e, float), np.asarray(delta, float))
        above = (e > d) & (d > 0)
        ratio = np.where(above, e / np.where(d > 0, d, 1.0), 1.0)
        ach = np.arccosh(ratio)
        root = np.sqrt(np.where(above, e * e - d * d, 1.0))
        return np.where(above, d * ach, 0.0), np.where(above, ach - e / root, 0.0), None
    z = e + 1j * gamma
    d = delta + 0j
    r = np.sqrt(z - d) * np.sqrt(z + d)
    lg = np.log(z + r)
    return (d * lg).real, (lg - d * d / (r * (z + r))).real, r.real


def gap_residual_and_slope(grid, f, delta, delta0, cutoff, gamma=0.0):
    """``(R, dR/dDelta)`` of ``gap_residual`` per cell, from one evaluation of the
    antiderivatives at the cell edges (the cells without states, ``rho <= 1e-14``, left out
    as in ``cell_spectra``)."""
    lo, hi = grid.edges
    d = np.asarray(delta, float)[:, None]
    p_hi, s_hi, dos_hi = _pair_and_slope(hi[None, :], d, gamma)
    p_lo, s_lo, dos_lo = _pair_and_slope(lo[None, :], d, gamma)
    active = (dos_hi - dos_lo) / grid.step > 1e-14 if gamma else (hi[None, :] > d)
    S = np.sum(np.where(active, f * (p_hi - p_lo), 0.0), axis=1)
    dS = np.sum(np.where(active, f * (s_hi - s_lo), 0.0), axis=1)
    dv = d[:, 0]
    if np.isinf(cutoff):
        dlog = -1.0 / dv
    else:
        dlog = -cutoff / (dv * np.sqrt(cutoff ** 2 + dv ** 2))
    return _log_ratio(dv, delta0, cutoff) - 2.0 * S / dv, dlog - 2.0 * (dS / dv - S / dv ** 2)


def solve_gap(grid, f, delta0, cutoff, gamma=0.0, guess=None, tol=1e-13, max_iter=200, method="newton"):
    """Nonequilibrium gap of each cell from its occupation (docs/physics.md, "BCS gap").

    Solves ``asinh(Oc/D) - asinh(Oc/D0) = 2 h sum_k f_k phi_k(D) / D`` per cell. ``method =
    "newton"``: Newton with the analytic derivative (``gap_residual_and_slope``, one
    evaluation of the spectra per iteration), from the warm start ``guess`` (else
    ``Delta_0``), safeguarded by the bracket the residual signs give (a step that leaves it
    is a bisection); cells that do not converge in 30 iterations (a gap destroyed, a root
    at a cell edge) are solved by the Illinois iteration. ``"illinois"``: the Illinois
    (regula falsi) iteration on a bracket ``[lo, hi]`` (residual positive at ``lo``,
    non-positive at ``hi``): with a warm start ``guess`` the bracket is ``guess (1 -+ 1e-6)``,
    widened geometrically where it does not bracket; the upper end never exceeds
    ``Delta_0``, where the residual is non-positive. A cell's iterations never depend on the
    others.

    Parameters
    ----------
    grid : EnergyGrid
        The energy grid of ``f``.
    f : ndarray
        Occupations, (cells, N) (or (N,) for one cell).
    delta0 : float
        ``Delta_0``, the gap at ``T = 0``; its units are those of the result.
    cutoff : float
        ``Omega_c`` (``inf``: the ``ln(Delta_0/Delta)`` form).
    gamma : float
        Dynes broadening of the spectra (``energy_grid.cell_spectra``).
    guess : ndarray, optional
        The previous gaps (cells,), for a warm start.
    tol : float
        Relative size of the last correction (Newton) or width of the bracket (Illinois)
        at convergence.
    max_iter : int
        Illinois iterations at most.
    method : {"newton", "illinois"}
        The iteration.

    Returns
    -------
    ndarray
        The gaps (cells,); ``0`` where no root lies above ``2^-60 Delta_0`` (gap destroyed).
    """
    f = np.atleast_2d(f)
    if method == "newton" and guess is not None:
        x, ok = _newton(grid, f, delta0, cutoff, gamma, guess, tol)
        if ok.all():
            return x
        rest = ~ok
        x[rest] = solve_gap(grid, f[rest], delta0, cutoff, gamma, None if guess is None else np.asarray(guess)[rest],
                            tol, max_iter, method="illinois")
        return x
    if method not in ("newton", "illinois"):
        raise ValueError(f"method = {method!r}: expected 'newton' or 'illinois'")

    def residual(d):
        return gap_residual(grid, f, d, delta0, cutoff, gamma)

    lo, hi, r_lo, r_hi, done = _bracket(residual, f.shape[0], delta0, guess)
    collapsed = (r_lo <= 0) & ~done  # no root above 2^-60 Delta_0: gap destroyed
    x = _illinois(residual, lo, hi, r_lo, r_hi, done, collapsed, tol, max_iter)
    return np.where(collapsed, 0.0, x)


def _newton(grid, f, delta0, cutoff, gamma, guess, tol, max_iter=30):
    """Safeguarded Newton of ``solve_gap``: ``(x, converged)`` per cell."""
    cells = f.shape[0]
    r0, _ = gap_residual_and_slope(grid, f, np.full(cells, float(delta0)), delta0, cutoff, gamma)
    at_top = r0 >= 0  # no excitations: Delta = Delta_0
    x = np.clip(np.asarray(guess, float), 1e-300, delta0)
    x = np.where(at_top, delta0, x)
    lo, hi = np.zeros(cells), np.full(cells, float(delta0))
    ok = at_top.copy()
    for _ in range(max_iter):
        act = ~ok
        if not act.any():
            break
        r, dr = gap_residual_and_slope(grid, f[act], x[act], delta0, cutoff, gamma)
        xa, la, ha = x[act], lo[act], hi[act]
        la = np.where(r > 0, xa, la)
        ha = np.where(r <= 0, xa, ha)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dr < 0, -r / dr, np.nan)
        new = xa + step
        # a correction at the round-off of the root converges even where it leaves the
        # bracket (a residual of +-1e-16 at Delta_0 itself)
        done = (np.isfinite(step) & (np.abs(step) <= tol * xa)) | (r == 0)
        inside = np.isfinite(new) & (new > la) & (new < ha)
        new = np.where(done, np.minimum(np.where(r == 0, xa, new), delta0),
                       np.where(inside, new, 0.5 * (la + ha)))
        x[act], lo[act], hi[act] = new, la, ha
        ok[act] = done
    return x, ok


def _bracket(residual, cells, delta0, guess):
    """``(lo, hi, r_lo, r_hi, done)`` per cell: the bracket of ``solve_gap`` and its residuals;
    ``done`` where the residual at ``Delta_0`` is already non-negative (``Delta = Delta_0``).
    Where no ``lo`` with a positive residual was found, ``r_lo <= 0``."""
    hi = np.full(cells, float(delta0))
    r_hi = residual(hi)
    done = r_hi >= 0  # no excitations: Delta = Delta_0
    if guess is None:
        lo = hi * (1 - 1e-9)
    else:
        # warm start: a narrow bracket around the previous gap, widened only where needed
        g = np.minimum(np.asarray(guess, float), delta0)
        up = np.minimum(g * (1 + 1e-6), delta0)
        r_up = residual(np.maximum(up, 1e-300))
        tight = (r_up <= 0) & (up < delta0) & ~done
        hi = np.where(tight, up, hi)
        r_hi = np.where(tight, r_up, r_hi)
        lo = g * (1 - 1e-6)
    lo = np.where(done, hi, lo)
    r_lo = residual(np.maximum(lo, 1e-300))
    step = np.full(cells, 1e-6)  # per cell: a cell's iterations never depend on the others
    for _ in range(80):  # move lo down until the residual is positive (the gap lies above lo)
        need = (r_lo <= 0) & ~done
        if not need.any():
            break
        step = np.where(need, np.minimum(0.5, step * 8), step)
        lo = np.where(need, lo * (1 - step), lo)
        r_lo = np.where(need, residual(np.maximum(lo, 1e-300)), r_lo)
    return lo, hi, r_lo, r_hi, done


def _illinois(residual, lo, hi, r_lo, r_hi, done, collapsed, tol, max_iter):
    """The Illinois iteration of ``solve_gap`` on the brackets of the cells neither ``done``
    nor ``collapsed``; returns the root estimates (``hi`` where ``done``)."""
    a, b, fa, fb = lo.copy(), hi.copy(), r_lo.copy(), r_hi.copy()
    x = np.where(done, hi, 0.5 * (a + b))
    side = np.zeros(len(lo))
    for _ in range(max_iter):
        active = ~done & ~collapsed
        if not active.any():
            break
        x = np.where(active, (a * fb - b * fa) / np.where(fb != fa, fb - fa, 1.0), x)
        x = np.where(active & ((x <= np.minimum(a, b)) | (x >= np.maximum(a, b))), 0.5 * (a + b), x)
        fx = np.where(active, residual(x), 0.0)
        left = active & (np.sign(fx) == np.sign(fa))
        right = active & ~left
        # Illinois modification keeps the convergence superlinear for one-sided approach.
        fb = np.where(left & (side == -1), 0.5 * fb, fb)
        fa = np.where(right & (side == 1), 0.5 * fa, fa)
        a = np.where(left, x, a)
        fa = np.where(left, fx, fa)
        b = np.where(right, x, b)
        fb = np.where(right, fx, fb)
        side = np.where(left, -1, np.where(right, 1, side))
        done = done | (active & ((np.abs(b - a) <= tol * np.abs(x)) | (fx == 0)))
    return x
