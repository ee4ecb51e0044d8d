"""Moments of the distributions, per cell, in internal units (docs/physics.md, "Moments and the
phonon energy weight").

Internal density units: QP number ``N_0 k_B T_c`` per volume, energy ``N_0 (k_B T_c)^2``
per volume (``N_0`` single-spin, per eV per um^3). ``units.py`` converts to um^-3 and eV um^-3.

* ``N_qp = 4 h sum_k rho_k f_k``
* ``E_qp = 4 h sum_k x_k rho_k f_k``                                  (eq. (9))
* ``E_ph = 4 W h sum_j x_j^3 n_j``, ``W = (pi delta_0 / 2) tau_0^phi / tau_0``   (eq. (10) with (7))
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


def phonon_energy(grid, weight, n):
    return 4.0 * weight * grid.step * np.sum(grid.x ** 3 * n, axis=-1)


def qp_to_phonon_power(grid, spectra, f, df_collisions):
    """Power flowing from QPs to phonons, eq. (6): ``-4 h sum x rho df/dt|coll``."""
    return -4.0 * grid.step * np.sum(grid.x * spectra.rho * df_collisions, axis=-1)
