"""Equilibrium occupations in internal units (energies and temperatures in k_B T_c).

Overflow-safe forms: ``fermi(x, T) = 1 / (exp(x/T) + 1)``, ``bose(x, T) = 1 / (exp(x/T) - 1)``.
"""
import numpy as np
from scipy.special import expit


def fermi(x, temperature):
    """Fermi function; ``temperature == 0`` gives the step ``x < 0``."""
    x = np.asarray(x, dtype=float)
    if temperature <= 0:
        return np.where(x < 0, 1.0, np.where(x == 0, 0.5, 0.0))
    return expit(-x / temperature)


def bose(x, temperature):
    """Bose function for ``x > 0``; zero where ``x <= 0`` (no Omega = 0 mode on the grid)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    pos = x > 0
    if temperature > 0:
        with np.errstate(over="ignore"):
            out[pos] = 1.0 / np.expm1(x[pos] / temperature)
    return out
