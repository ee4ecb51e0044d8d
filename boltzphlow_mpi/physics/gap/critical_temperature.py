"""``T_c`` of the real-axis Eliashberg model itself: the temperature where the linearised
real-axis gap equation has the eigenvalue 1 (docs/physics.md, "Eliashberg self-energies",
"The model's own T_c").

At ``T > 0`` in the normal state (``phi = 0``) the renormalisation ``Z_N`` follows from one
evaluation of the self-energy map (``rho = 1`` whatever ``Z``), and ``eps Z_N`` is finite
at ``eps = 0`` (its imaginary part there is the thermal ``Im[eps Z](0) > 0``). To first
order in ``phi`` the spectra are ``rho = 1`` and ``varphi = Re[phi / (eps Z_N)]``, and the
map returns ``phi'`` linear in ``varphi``: the gap equation linearised about the normal
state is the real-linear map ``v -> Re[phi'(v) / (eps Z_N)]`` on the ``M`` values of
``varphi``, with the same grid, cutoff and ``mu*`` convention as the solve. Its largest
eigenvalue (ARPACK, ``which = "LR"``) exceeds 1 below ``T_c``.

The sampling of ``varphi ~ 1/eps`` near ``eps = 0`` converges like ``h`` (Al, Debye,
``lambda = 0.43``: ``T_c`` = 0.9423, 0.9709, 0.9848, 0.9917 at ``h = Delta_0/8 .. /64``), so
``real_axis_tc`` returns the Richardson value ``2 T_c(h) - T_c(2h)`` from the model's grid
and the same model on every second point (0.9986 from the last two; weak-coupling BCS:
1.0000 for the fitted ``Delta_0 = 1.764``).

This is the route that matches the real-axis model at any cutoff; the Matsubara route
(``matsubara``) truncates ``mu*`` at a Matsubara frequency instead and agrees with it only
when the cutoff lies far above the phonon structure.
"""
import functools

import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.physics.statistics import bose, fermi


def linearized_eigenvalue(solver, temperature):
    """Largest eigenvalue of the real-axis gap equation linearised about the normal state
    at ``temperature`` (thermal ``f`` and ``n`` on the whole grid).

    Parameters
    ----------
    solver : EliashbergSolver
        Grids, ``alpha^2F``, ``mu*`` and cutoff of the model.
    temperature : float
        ``T > 0`` (internal units).

    Returns
    -------
    float
        The eigenvalue (1 at ``T_c``).
    """
    from scipy.sparse.linalg import LinearOperator, eigs
    s, T = solver, float(temperature)
    grid = s.grid
    f = fermi(grid.x, T)[None]
    n = (bose(grid.x, T) * grid.phonon_mask)[None]
    with s.bath_at(T):
        fe, ne = s.extend(f, n)
        rho = np.ones((1, s.M))
        im_ez, _ = s.imaginary_parts(rho, np.zeros((1, s.M)), fe, ne)
        re_z, _ = s.real_parts(im_ez, np.zeros((1, s.M)), np.zeros((1, s.M)), fe)
        ez = s.eps * re_z[0] + 1j * im_ez[0]     # eps Z_N; i Im[eps Z](0) at eps = 0

        def apply(v):
            varphi = np.asarray(v, float).reshape(1, -1)
            im_ez1, im_phi = s.imaginary_parts(rho, varphi, fe, ne)
            _, re_phi = s.real_parts(im_ez1, im_phi, varphi, fe)
            return ((re_phi[0] + 1j * im_phi[0]) / ez).real

        op = LinearOperator((s.M, s.M), matvec=apply, dtype=float)
        start = (1.0 / np.abs(ez)).real   # a BCS-like varphi ~ Delta / eps
        vals = eigs(op, k=1, which="LR", v0=start, tol=1e-10, maxiter=2000, return_eigenvectors=False)
    return float(np.max(vals.real))


def real_axis_tc(solver, guess=1.0, lowest=0.01, rtol=1e-7):
    """``T_c`` of the real-axis model: the Richardson extrapolation ``2 T_1 - T_2`` of the
    roots ``T_1`` of ``linearized_eigenvalue(T) = 1`` on the model's grid and ``T_2`` on
    every second point of it (``EliashbergSolver.coarsened``).

    Parameters
    ----------
    solver : EliashbergSolver
        The model.
    guess : float
        Where the bracket search starts (internal units).
    lowest : float
        Below this ``T_c`` is reported as ``lowest`` (the model is normal above it).
    rtol : float
        Relative tolerance of ``T_c``.

    Returns
    -------
    float
        ``T_c`` (internal units), or ``lowest`` if the eigenvalue is below 1 there.

    Raises
    ------
    SolverError
        If no bracket is found below ``1e3 guess``.
    """
    fine = grid_tc(solver, guess, lowest, rtol)
    if fine <= lowest:
        return fine
    return max(2.0 * fine - grid_tc(solver.coarsened(), fine, lowest, rtol), lowest)


def grid_tc(solver, guess=1.0, lowest=0.01, rtol=1e-7):
    """The root of ``linearized_eigenvalue(T) = 1`` on the solver's grid (``real_axis_tc``
    without the extrapolation; same parameters)."""
    from scipy.optimize import brentq

    from boltzphlow_mpi.physics.gap.mu_star import march

    # cached: Brent's method starts from the bracket's ends, each an eigenvalue solve already done
    @functools.cache
    def g(lt):
        return linearized_eigenvalue(solver, np.exp(lt)) - 1.0

    a = np.log(guess)
    bracket = march(g, a, np.log(lowest), np.log(1e3 * guess), step=np.log(1.5), digits=None)
    if bracket is None:
        if g(a) <= 0:
            return float(lowest)
        raise SolverError("real-axis T_c: the linearised gap equation has an eigenvalue above 1 up to "
                          f"{1e3 * guess:g} k_B T_c")
    a, b, _gb = bracket
    return float(np.exp(brentq(g, min(a, b), max(a, b), xtol=rtol, rtol=1e-12)))
