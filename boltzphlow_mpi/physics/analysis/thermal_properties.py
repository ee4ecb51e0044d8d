"""Transport and thermodynamic functions of notes section 1.2 (docs/physics.md, "Thermal functions").

All in internal units (energies and temperatures in k_B T_c), with the BCS gap
``Delta(T)`` of ``gap.equilibrium_gap`` (weak coupling: ``T`` is measured against the
model's own ``T_c* = Delta_0 e^gamma / pi``).

* Electronic thermal conductivity, impurity limited (BRT 1959, notes eq. (23))::

      kappa_es / kappa_en = int_Delta^inf E^2 (-df/dE) dE / int_0^inf E^2 (-df/dE) dE

  (the denominator is ``pi^2 T^2 / 6``); ``l`` and ``v_F`` cancel.
* Specific heat with the gap term (notes eqs. (25)-(26))::

      C_s = (4 N_0 / T) int_Delta^inf rho(E) (-df/dE) (E^2 - T Delta dDelta/dT) dE,
      C_n = (2 pi^2 / 3) N_0 T,

  using ``(beta/2) dDelta^2/dbeta = -T Delta dDelta/dT``. At ``T_c`` the jump is
  ``Delta C / C_n = 12 / (7 zeta(3)) = 1.426``.
* QP diffusivity ``D_n = v_F l / 3`` and the energy-resolved ``D(E) = v_g(E) l / 3`` with
  ``v_g = v_F sqrt(E^2 - Delta^2) / E``; its thermal average over ``rho f`` is reported too.
"""
import numpy as np

from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap, equilibrium_gap_slope
from boltzphlow_mpi.physics.statistics import fermi

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(200)


def _minus_df(x):
    """-df/dx of the Fermi function at x = E/T (so -df/dE = _minus_df(E/T) / T)."""
    return fermi(x, 1.0) * fermi(-x, 1.0)


def _integrate(fn, a, b, panels=8):
    edges = np.linspace(a, b, panels + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        u = 0.5 * (hi - lo) * _NODES + 0.5 * (hi + lo)
        total += 0.5 * (hi - lo) * np.dot(_WEIGHTS, fn(u))
    return total


def kappa_ratio(temperature, delta0, delta=None):
    """``kappa_es / kappa_en`` at ``temperature`` (BRT, impurity limited)."""
    T = float(temperature)
    d = float(equilibrium_gap(T, delta0)) if delta is None else float(delta)
    # E = Delta + T s: the integrand decays like e^{-s}
    num = _integrate(lambda s: (d + T * s) ** 2 * _minus_df((d + T * s) / T), 0.0, 60.0)  # dE = T ds
    return num / (np.pi ** 2 * T ** 2 / 6)


def specific_heat_ratio(temperature, delta0):
    """``C_s / C_n`` (eq. (26) over the normal value)."""
    T = float(temperature)
    d = float(equilibrium_gap(T, delta0))
    slope = float(equilibrium_gap_slope(T, delta0))
    if d <= 0:
        return 1.0
    # E = Delta cosh u: rho dE = Delta cosh u du (no singularity at the gap edge)
    u_max = np.arccosh(max(1.0, (d + 60 * T) / d))

    def integrand(u):
        E = d * np.cosh(u)
        return d * np.cosh(u) * _minus_df(E / T) / T * (E ** 2 - T * d * slope)

    cs = (4.0 / T) * _integrate(integrand, 0.0, u_max, panels=16)
    cn = (2 * np.pi ** 2 / 3) * T
    return cs / cn


def group_velocity_factor(energy, delta):
    """``v_g / v_F = sqrt(E^2 - Delta^2) / E`` (zero below the gap)."""
    e = np.asarray(energy, float)
    return np.where(e > delta, np.sqrt(np.maximum(e ** 2 - delta ** 2, 0.0)) / np.maximum(e, 1e-300), 0.0)


def mean_diffusivity_factor(temperature, delta0):
    """Thermal average of ``D(E) / D_n = v_g / v_F`` over the QP population ``rho f``.

    With ``rho v_g / v_F = 1`` the average is ``int f dE / int rho f dE``.
    """
    T = float(temperature)
    d = float(equilibrium_gap(T, delta0))
    num = _integrate(lambda s: fermi(d + T * s, T) * T, 0.0, 60.0)
    u_max = np.arccosh(max(1.0, (d + 60 * T) / d)) if d > 0 else 0.0
    den = _integrate(lambda u: d * np.cosh(u) * fermi(d * np.cosh(u), T), 0.0, u_max, panels=16) if d > 0 else num
    return num / den
