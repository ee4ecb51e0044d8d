"""The Coulomb pseudopotential ``mu*`` fitted to a gap edge or to the model's own ``T_c``
(docs/physics.md, "Eliashberg self-energies", ``mu*``).

A fitted ``mu*`` belongs to the self-energy cutoff of the solver it was fitted with.
"""
import functools

import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.physics.statistics import fermi


def fit_mu_star(solver, target_edge, lo=-0.5, hi=0.9, tol=1e-10):
    """``mu*`` for which the gap edge at ``T = 0`` (``f = n = 0``) is ``target_edge``.

    The edge falls as ``mu*`` grows: a bracket is found in steps of 0.02 from a
    McMillan-type estimate (warm-started solves), then Brent's method on
    ``log(edge / target)``. The solver's bath is at ``T = 0`` during the fit and restored
    after it; its ``mu_star`` is left at the fitted value.

    Parameters
    ----------
    solver : EliashbergSolver
        The solver (its ``alpha^2F``, grids and cutoff) to fit ``mu*`` for.
    target_edge : float
        The ``T = 0`` gap edge to reach (internal units).
    lo, hi : float
        The interval of ``mu*`` searched.
    tol : float
        Relative tolerance of Brent's method on ``mu*``.

    Returns
    -------
    mu_star : float
        The fitted ``mu*``.
    solution : Solution
        The ``T = 0`` solution at that ``mu*``.

    Raises
    ------
    SolverError
        If no ``mu*`` in ``[lo, hi]`` gives the edge.
    """
    from scipy.optimize import brentq
    f0 = fermi(solver.grid.x, 0.0)[None, :]
    n0 = np.zeros((1, solver.N))
    last = {}

    def g(mu):
        solver.mu_star = mu
        prev = last.get("sol")
        # a collapsed gap (phi = 0) is a fixed point: never warm-start from one
        warm = prev if prev is not None and prev.edge[0] > 0.1 * target_edge else None
        sol = solver.solve(f0, n0, warm)
        last["sol"], last["mu"] = sol, mu
        return np.log(max(float(sol.edge[0]), 1e-300) / target_edge)

    gc = functools.cache(g)
    with solver.zero_temperature_bath():
        # start near the McMillan-type estimate Delta ~ 2 omega_ln exp[-(1+lambda)/(lambda-mu*)]
        # and march in small steps, warm-starting each solve from the last: the trivial
        # solution phi = 0 is also a fixed point, and a cold start far from the answer can
        # converge to it
        guess = solver.lam - (1 + solver.lam) / np.log(max(2.0 * solver.a2f.omega_log / target_edge, 1.5))
        bracket = march(gc, float(np.clip(round(guess, 2), lo, hi)), lo, hi)
        if bracket is None:
            raise SolverError(f"mu* fit: no mu* in [{lo:g}, {hi:g}] gives the T = 0 gap edge "
                              f"{target_edge:.6g} k_B T_c with this alpha^2F (lambda = {solver.lam:.4g})")
        a, b, gb = bracket
        mu = b if gb == 0 else brentq(gc, min(a, b), max(a, b), xtol=1e-13, rtol=tol)
        if last.get("mu") != mu:
            g(mu)
        return mu, last["sol"]


def march(gc, a, lo, hi, step=0.02, digits=12):
    """From ``a``, steps of ``step`` towards the root of the decreasing ``gc`` until ``gc``
    changes sign (or is 0); each point rounded to ``digits`` decimals (None: not rounded).
    Returns ``(a, b, gc(b))`` with the root between ``a`` and ``b``, or None when the march
    leaves ``[lo, hi]``."""
    ga = gc(a)
    step = step if ga > 0 else -step
    b, gb = a, ga
    while np.sign(gb) == np.sign(ga) and gb != 0:
        a, ga = b, gb
        b = b + step if digits is None else round(b + step, digits)
        if not lo <= b <= hi:
            return None
        gb = gc(b)
    return a, b, gb


def fit_mu_star_to_tc(solver, target_tc=1.0, lo=-0.3, hi=0.9, tol=1e-7):
    """``mu*`` for which the model's own ``T_c`` (``critical_temperature.real_axis_tc``) is
    ``target_tc``: steps of 0.05 from ``mu* = 0.1`` until ``ln(T_c / target)`` changes sign,
    then Brent's method. The solver's ``mu_star`` is left at the fitted value.

    Parameters
    ----------
    solver : EliashbergSolver
        The model (its ``alpha^2F``, grids and cutoff).
    target_tc : float
        The ``T_c`` to reach (internal units: 1 is the material's measured ``T_c``).
    lo, hi : float
        The interval of ``mu*`` searched.
    tol : float
        Absolute tolerance of ``mu*``.

    Returns
    -------
    float
        The fitted ``mu*``.

    Raises
    ------
    SolverError
        If no ``mu*`` in ``[lo, hi]`` gives ``target_tc``.
    """
    from scipy.optimize import brentq

    from boltzphlow_mpi.physics.gap.critical_temperature import real_axis_tc

    def g(mu):
        solver.mu_star = mu
        return np.log(real_axis_tc(solver, guess=target_tc, lowest=1e-3 * target_tc) / target_tc)

    gc = functools.cache(g)
    # T_c falls as mu* grows
    bracket = march(gc, 0.1, lo, hi, step=0.05)
    if bracket is None:
        raise SolverError(f"mu* fit: no mu* in [{lo:g}, {hi:g}] gives the model's own T_c = {target_tc:.6g} k_B T_c "
                          f"with this alpha^2F (lambda = {solver.lam:.4g})")
    a, b, gb = bracket
    mu = b if gb == 0 else brentq(gc, min(a, b), max(a, b), xtol=tol)
    solver.mu_star = mu
    return mu
