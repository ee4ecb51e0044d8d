"""Detector observables of a cell's state (issue 6): QP density, ``x_qp``, the effective
temperature ``T*_N``, and the Mattis-Bardeen complex conductivity with a nonequilibrium ``f``.

Internal units: energies and temperatures in ``k_B T_c``; densities in ``N_0 k_B T_c``.

* ``n_qp = 4 N_0 int rho f dE`` (``diagnostics.qp_number``), ``x_qp = n_qp / (2 N_0 Delta)``.
* ``T*_N``: the temperature whose thermal ``f`` (with the cell's own spectra) gives the same
  ``n_qp``.
* Mattis-Bardeen (Mattis and Bardeen 1958; with a nonequilibrium ``f`` as in Goldie and
  Withington 2013), ``g(E) = (E^2 + Delta^2 + hw E) / (sqrt(E^2 - Delta^2) sqrt((E + hw)^2 - Delta^2))``::

      sigma_1/sigma_n = (2/hw) int_Delta^inf [f(E) - f(E + hw)] g(E) dE
                      + (1/hw) int_{Delta - hw}^{-Delta} [1 - 2 f(E + hw)] |g(E)| dE        (hw > 2 Delta)
      sigma_2/sigma_n = (1/hw) int_{max(Delta - hw, -Delta)}^{Delta} [1 - 2 f(E + hw)]
                        (E^2 + Delta^2 + hw E) / (sqrt(Delta^2 - E^2) sqrt((E + hw)^2 - Delta^2)) dE

  The inverse-square-root end points are removed by substitution (``E = Delta + t^2``,
  and ``E = c + r sin(phi)`` between two singular ends), then Gauss-Legendre panels.
  ``f`` is any callable of ``E >= 0``; ``grid_occupation`` builds one from a grid ``f``
  (linear in ``log f`` between cell centres).
Pure numpy/scipy: no PETSc, no MPI.
"""
import numpy as np
from scipy.optimize import brentq
from scipy.special import i0, k0

from boltzphlow_mpi.physics.statistics import fermi

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def _panels(a, b, n):
    """Gauss-Legendre nodes and weights on ``n`` equal panels of ``[a, b]``."""
    edges = np.linspace(a, b, n + 1)
    half = 0.5 * np.diff(edges)[:, None]
    mid = 0.5 * (edges[1:] + edges[:-1])[:, None]
    return (mid + half * _NODES).ravel(), (half * _WEIGHTS).ravel()


def x_qp(n_qp, delta):
    """``n_qp / (2 N_0 Delta)`` from ``n_qp`` in ``N_0 k_B T_c`` and ``Delta`` in ``k_B T_c``."""
    return n_qp / (2.0 * delta)


def effective_temperature(grid, spectra_row, n_qp, lo=1e-3, hi=1.5):
    """``T*_N`` (units of ``T_c``) with ``4 h sum rho fermi(x, T*) = n_qp`` on the cell's spectra."""
    rho = spectra_row.rho[0]

    def number(t):
        return 4.0 * grid.step * float(np.sum(rho * fermi(grid.x, t)))

    if n_qp <= number(lo):
        return lo
    root = brentq(lambda lt: np.log(max(number(np.exp(lt)), 1e-300) / n_qp), np.log(lo), np.log(hi),
                  xtol=1e-14, rtol=1e-14)
    return float(np.exp(root))


def grid_occupation(grid, f_row, floor=1e-300, states=None):
    """A callable ``f(E)`` from grid values (log-linear between cell centres, constant beyond).

    ``states`` (bool, N): the cells with states (``Spectra.active``); only their values are
    used, so between the gap and the first node above it (the gap-aligned grid puts the gap a
    quarter step below a node) ``f`` is that node's, not a blend with the sub-gap cell's value,
    which no state carries."""
    x = grid.x
    logf = np.log(np.maximum(np.asarray(f_row, float), floor))
    if states is not None and np.any(states):
        x, logf = x[states], logf[states]

    def f(E):
        return np.exp(np.interp(E, x, logf))

    return f


def mattis_bardeen(delta, hw, f, e_max=None, panels=200):
    """``(sigma_1/sigma_n, sigma_2/sigma_n)`` at photon energy ``hw`` for a real gap ``delta``
    and occupation ``f`` (callable, energies ``>= 0``); ``e_max``: where ``f`` is negligible."""
    d = float(delta)
    e_max = e_max if e_max is not None else d + 60.0
    # sigma_1, scattering part: E = Delta + t^2, sqrt(E^2 - Delta^2) = t sqrt(2 Delta + t^2)
    t, w = _panels(0.0, np.sqrt(max(e_max - d, 1e-300)), panels)
    E = d + t * t
    num = E * E + d * d + hw * E
    den = np.sqrt(2 * d + t * t) * np.sqrt((E + hw) ** 2 - d * d)
    s1 = 2.0 / hw * float(np.sum(w * 2.0 * (f(E) - f(E + hw)) * num / den))
    if hw > 2 * d:
        # pair breaking, E in [Delta - hw, -Delta]: the photon makes QPs at E + hw and -E
        E, w = _between(d - hw, -d)
        num = np.abs(E * E + d * d + hw * E)
        rest = np.sqrt(d - E) * np.sqrt(E + hw + d)  # the singular factors cancel the Jacobian
        s1 += 1.0 / hw * float(np.sum(w * (1.0 - f(E + hw) - f(-E)) * num / rest))
    lo = max(d - hw, -d)
    E, w = _between(lo, d)
    num = E * E + d * d + hw * E
    if lo > -d:   # singular: sqrt(Delta - E) and sqrt(E + hw - Delta)
        rest = np.sqrt(d + E) * np.sqrt(E + hw + d)
    else:         # singular: sqrt(Delta - E) and sqrt(Delta + E)
        rest = np.sqrt(E + hw - d) * np.sqrt(E + hw + d)
    s2 = 1.0 / hw * float(np.sum(w * (1.0 - 2.0 * f(E + hw)) * num / rest))
    return s1, s2


def _between(a, b, panels=64):
    """Nodes and weights for ``int_a^b g(E) / (sqrt(b - E) sqrt(E - a)) dE`` as a plain sum
    ``sum w g(E)``: with ``E = c + r sin(phi)`` the Jacobian ``r cos(phi)`` equals the two
    singular square roots, which cancel."""
    c, r = 0.5 * (a + b), 0.5 * (b - a)
    phi, w = _panels(-0.5 * np.pi, 0.5 * np.pi, panels)
    return c + r * np.sin(phi), w


def mattis_bardeen_low_temperature(delta, hw, temperature):
    """Closed forms for ``k T, hw << Delta`` (Mattis and Bardeen 1958; e.g. Zmuidzinas 2012):
    ``sigma_1/sigma_n = (4 Delta/hw) e^(-Delta/kT) sinh(xi) K_0(xi)``,
    ``sigma_2/sigma_n = (pi Delta/hw) [1 - 2 e^(-Delta/kT) e^(-xi) I_0(xi)]``, ``xi = hw/(2 kT)``."""
    xi = hw / (2.0 * temperature)
    ex = np.exp(-delta / temperature)
    return (4.0 * delta / hw * ex * np.sinh(xi) * k0(xi),
            np.pi * delta / hw * (1.0 - 2.0 * ex * np.exp(-xi) * i0(xi)))


def photon_heating_temperature(amplitudes, photon_energies, delta):
    """``T*`` of Fischer and Catelani, Phys. Rev. Applied 19, 054087 (2023), Eq. (24), internal
    units (``k_B T_c``): ``T*^6 = (105/64) T_c^3 Delta sum_k c_k nbar_k tau_0 omega_k^2`` with
    ``T_c = 1`` and ``c nbar tau_0`` the amplitude ``B`` of a microwave drive
    (``drives.Drive.amplitude``; several drives add their energy diffusion ``B omega^2``). The
    width of the nonthermal distribution that the drive makes near the gap, valid for
    ``omega_0 << T* < Delta`` (docs/physics.md, "Readout observables")."""
    b = np.asarray(amplitudes, float)
    w = np.asarray(photon_energies, float)
    return (105.0 / 64.0 * np.asarray(delta, float) * np.sum(b * w * w, axis=0)) ** (1.0 / 6.0)


def gap_suppression_relative_to_thermal(delta, delta_thermal, delta0):
    """``(delta Delta_T - delta Delta) / delta Delta_T`` with ``delta Delta = Delta_0 - Delta``
    and ``delta Delta_T = Delta_0 - Delta_T`` at the bath temperature (Fischer and Catelani
    2023, Fig. 6): positive where the drive suppresses the gap less than the bath does (for
    the same QPs, a wider distribution weakens superconductivity less), negative where it
    suppresses it more. NaN where ``delta Delta_T = 0``."""
    dt = float(delta0) - float(delta_thermal)
    return (float(delta) - float(delta_thermal)) / dt if dt != 0 else float("nan")
