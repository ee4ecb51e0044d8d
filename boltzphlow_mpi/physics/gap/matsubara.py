"""T_c from the linearised Eliashberg equations on the imaginary (Matsubara) axis: a route
independent of the real-axis solve of ``eliashberg`` (docs/physics.md, "Eliashberg
self-energies"), used to check the gap ratio ``2 Delta_0 / k_B T_c``.
"""
import functools

import numpy as np

from boltzphlow_mpi.physics.gap.alpha2f import Alpha2F


def matsubara_kernel_eigenvalue(a2f: Alpha2F, temperature, mu_star=0.0, omega_c=None, n_max=None):
    """Largest eigenvalue of the linearised Eliashberg gap equation on the Matsubara axis
    (isotropic, even-frequency gap ``Delta_{-n-1} = Delta_n``)::

        Z_n = 1 + (pi T / w_n) sum_m lambda(n - m) sign(w_m)
        Z_n Delta_n = pi T sum_m [lambda(n - m) - mu* theta(w_c - |w_m|)] Delta_m / |w_m|

    with ``lambda(k) = 2 int Omega alpha^2F / (Omega^2 + (2 pi T k)^2)``; ``T_c`` is where it
    equals 1.

    Parameters
    ----------
    a2f : Alpha2F
        The Eliashberg function.
    temperature : float
        ``T`` (internal units).
    mu_star : float
        Coulomb pseudopotential.
    omega_c : float, optional
        Matsubara cutoff of ``mu*`` (default ``10 Omega_max``).
    n_max : int, optional
        Number of positive Matsubara frequencies (default: those up to ``omega_c``, at least 8).

    Returns
    -------
    float
        The largest eigenvalue of the kernel.
    """
    T = float(temperature)
    wc = omega_c if omega_c is not None else 10.0 * a2f.omega_max
    n = n_max if n_max is not None else max(8, int(np.ceil(wc / (2 * np.pi * T))))
    w = np.pi * T * (2 * np.arange(n) + 1)                   # w_n, n = 0 .. n-1
    om, v = a2f.omega[1:], a2f.values[1:]
    k = np.arange(2 * n + 1)
    lam_k = 2.0 * a2f.step * np.sum(om * v / (om[None, :] ** 2 + (2 * np.pi * T * k[:, None]) ** 2), axis=1)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    same, mirror = lam_k[np.abs(i - j)], lam_k[i + j + 1]     # w_m > 0 and w_{-m-1} = -w_m
    # sum_m lambda(n - m) sign(w_m) = lambda(0) + 2 sum_{k=1..n} lambda(k)
    Z = 1.0 + (np.pi * T / w) * (lam_k[0] + 2.0 * np.concatenate([[0.0], np.cumsum(lam_k[1:n])]))
    coul = mu_star * (w[None, :] <= wc)
    K = np.pi * T * (same + mirror - 2.0 * coul) / (Z[:, None] * w[None, :])
    return float(np.max(np.real(np.linalg.eigvals(K))))


def matsubara_tc(a2f: Alpha2F, mu_star=0.0, lo=None, hi=None, omega_c=None):
    """``T_c`` where the largest eigenvalue of the linearised gap equation is 1 (Brent's
    method in ``log T``).

    Parameters
    ----------
    a2f : Alpha2F
        The Eliashberg function.
    mu_star : float
        Coulomb pseudopotential.
    lo, hi : float, optional
        The bracket of ``T_c`` (default ``1e-3 omega_ln`` and ``Omega_max``).
    omega_c : float, optional
        Matsubara cutoff of ``mu*`` (default ``10 Omega_max``).

    Returns
    -------
    float
        ``T_c`` (internal units); ``lo`` if the kernel at ``lo`` is already below 1.
    """
    from scipy.optimize import brentq
    lo = lo if lo is not None else 1e-3 * a2f.omega_log
    hi = hi if hi is not None else 1.0 * a2f.omega_max

    # cached: Brent's method starts from g(log lo), already computed for the check below
    @functools.cache
    def g(lt):
        return matsubara_kernel_eigenvalue(a2f, np.exp(lt), mu_star, omega_c) - 1.0

    if g(np.log(lo)) <= 0:
        return float(lo)
    return float(np.exp(brentq(g, np.log(lo), np.log(hi), xtol=1e-10)))
