"""Moments of the distributions, per cell, in internal units (docs/physics.md, "Moments and the
phonon energy weight").

Internal density units: QP number ``N_0 k_B T_c`` per volume, energy ``N_0 (k_B T_c)^2``
per volume (``N_0`` single-spin, per eV per um^3). ``units.py`` converts to um^-3 and eV um^-3.

* ``N_qp = 4 h sum_k rho_k f_k``
* ``E_qp = 4 h sum_k x_k rho_k f_k``                                  (eq. (9))
* ``E_ph = 4 W h sum_j x_j^3 n_j``, ``W = (pi delta_0 / 2) tau_0^phi / tau_0``   (eq. (10) with (7))

Every phonon energy of the package (moments, ledger, escape power, boundary outflow, energy
projection, phonon drives) is ``sum_j w_j n_j`` with the per-energy weights
``w = phonon_energy_weights(grid, W)``, so all of them round alike.
"""
import numpy as np


def phonon_energy_weight(delta0, tau_ratio):
    """``W``: energy weight of the phonon system (tau_ratio = tau_0 / tau_0^phi)."""
    return 0.5 * np.pi * delta0 / tau_ratio


def qp_number(grid, spectra, f):
    return 4.0 * grid.step * np.sum(spectra.rho * f, axis=-1)


def qp_energy(grid, spectra, f):
    """``4 h sum x rho f`` (with the Eliashberg factor: ``rho ell``, see ``Spectra.mass``)."""
    return 4.0 * grid.step * np.sum(grid.x * spectra.mass * f, axis=-1)


def phonon_energy_weights(grid, weight):
    """Per-energy weights of the phonon energy, ``w_j = 4 W h x_j^3`` (docs/physics.md,
    "Moments and the phonon energy weight").

    Parameters
    ----------
    grid : EnergyGrid
        The energy grid (``x``, ``step``).
    weight : float
        The phonon energy weight ``W`` (``phonon_energy_weight``).

    Returns
    -------
    numpy.ndarray
        ``(N,)``: ``E_ph = sum_j w_j n_j`` for occupations ``n`` on the grid.
    """
    return 4.0 * weight * grid.step * grid.x ** 3


def phonon_energy(grid, weight, n):
    """Phonon energy ``E_ph = 4 W h sum_j x_j^3 n_j`` of occupations ``n``.

    Parameters
    ----------
    grid : EnergyGrid
        The energy grid.
    weight : float
        The phonon energy weight ``W``.
    n : array_like
        Occupations (or their changes, fluxes) on the grid, energy on the last axis.

    Returns
    -------
    numpy.ndarray
        The sum over the last axis, ``sum_j w_j n_j`` with ``w = phonon_energy_weights(grid, weight)``.
    """
    return np.sum(phonon_energy_weights(grid, weight) * n, axis=-1)


def qp_to_phonon_power(grid, spectra, f, df_collisions):
    """Power flowing from QPs to phonons, eq. (6): ``-4 h sum x rho df/dt|coll``."""
    return -4.0 * grid.step * np.sum(grid.x * spectra.rho * df_collisions, axis=-1)
