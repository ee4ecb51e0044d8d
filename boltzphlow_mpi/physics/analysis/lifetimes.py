"""Thermal QP lifetimes from the collision integrals (docs/physics.md, "Thermal lifetimes"; Kaplan
et al. 1976).

For thermal ``f``, ``n`` at temperature ``T`` a QP at energy ``E`` recombines at the rate
(eq. (36), per QP, internal units 1/tau_0)::

    1/tau_r(E) = int dE' (E + E')^2 [rho(E') + (Delta/E) phi(E')] f(E') [1 + n(E + E')]

and scatters (eq. (35): absorption upwards, emission downwards) at::

    1/tau_s(E) = int dW W^2 { [rho(E+W) - (Delta/E) phi(E+W)] [1 - f(E+W)] n(W)
                             + [rho(E-W) - (Delta/E) phi(E-W)] [1 - f(E-W)] [1 + n(W)] }

(``rho rho' -+ phi phi'`` over ``rho(E)`` is the coherence factor ``U-+`` of eq. (33)).
The partner energies run over cells of width ``h`` centred on ``E +- x_j`` with the exact
cell averages of ``energy_grid``, so ``E`` need not be a grid point (``E = Delta`` is the
gap edge itself). Kaplan's low-temperature forms at ``E = Delta`` (Kaplan et al. 1976)::

    tau_r = tau_0 / sqrt(pi) (k T_c / 2 Delta)^(5/2) sqrt(T_c / T) exp(Delta / k T)
    tau_s = tau_0 sqrt(2 Delta / k T_c) (T_c / T)^(7/2) / (Gamma(7/2) zeta(7/2))

(the second is the leading term of ``1/tau_s(Delta)`` above for ``k T << Delta``, where
only absorption of thermal phonons, ``int W^(5/2) n(W) dW / sqrt(2 Delta)``, remains).
The exact integral at the gap edge exceeds Kaplan's recombination form by the factor
``1 + 5 kT / (8 Delta) + O(T^2)`` (3.7 % at ``T = 0.1 T_c``); both are reported.
"""
import numpy as np
from scipy.special import gamma as gamma_fn
from scipy.special import zeta

from boltzphlow_mpi.physics.energy_grid import _antiderivatives
from boltzphlow_mpi.physics.statistics import bose, fermi


def _interval_averages(centres, h, delta):
    lo = np.maximum(centres - 0.5 * h, 0.0)
    hi = np.maximum(centres + 0.5 * h, 0.0)
    d_hi, p_hi = _antiderivatives(hi, delta, 0.0)
    d_lo, p_lo = _antiderivatives(lo, delta, 0.0)
    rho = np.maximum(d_hi - d_lo, 0.0) / h
    phi = np.where(rho > 0, (p_hi - p_lo) / h, 0.0)
    return rho, phi


def rates(energies, delta, temperature, h, energy_max, debye):
    """``(1/tau_r, 1/tau_s)`` at QP energies (internal units: k_B T_c, 1/tau_0)."""
    energies = np.atleast_1d(np.asarray(energies, float))
    x = h * np.arange(int(np.floor(energy_max / h)) + 1)
    w = x[1:]  # phonon energies on the grid
    band = w <= debye
    rr, rs = [], []
    for E in energies:
        r = delta / E  # phi/rho of the QP itself (BCS, pointwise)
        # recombination with partners E' = x_k (cells of the grid)
        rho_k, phi_k = _interval_averages(x, h, delta)
        om = E + x
        ok = om <= debye
        rr.append(h * np.sum(np.where(ok, om ** 2 * (rho_k + r * phi_k) * fermi(x, temperature)
                                      * (1 + bose(om, temperature)), 0.0)))
        up_rho, up_phi = _interval_averages(E + w, h, delta)
        dn_rho, dn_phi = _interval_averages(E - w, h, delta)
        n = bose(w, temperature)
        up = np.maximum(up_rho - r * up_phi, 0.0) * (1 - fermi(E + w, temperature)) * n
        dn = np.maximum(dn_rho - r * dn_phi, 0.0) * (1 - fermi(E - w, temperature)) * (1 + n)
        rs.append(h * np.sum(np.where(band, w ** 2 * (up + dn), 0.0)))
    return np.array(rr), np.array(rs)


def kaplan_recombination_time(delta, temperature):
    """Kaplan's low-T ``tau_r(Delta)`` in units of tau_0 (delta, temperature in k_B T_c)."""
    return (1 / np.sqrt(np.pi)) * (1 / (2 * delta)) ** 2.5 * np.sqrt(1 / temperature) * np.exp(delta / temperature)


def kaplan_scattering_time(delta, temperature):
    """Low-T ``tau_s(Delta)`` in units of tau_0."""
    return np.sqrt(2 * delta) * temperature ** -3.5 / (gamma_fn(3.5) * zeta(3.5))


def thermal_average(grid_h, energy_max, delta, temperature, rate_fn):
    """Average of a rate over the thermal QP population, weights ``rho f``."""
    x = grid_h * np.arange(int(np.floor(energy_max / grid_h)) + 1)
    rho, _ = _interval_averages(x, grid_h, delta)
    wgt = rho * fermi(x, temperature)
    sel = wgt > 1e-300 * max(wgt.max(), 1e-300)
    vals = rate_fn(x[sel])
    return np.sum(wgt[sel] * vals) / np.sum(wgt[sel])
