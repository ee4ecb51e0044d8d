"""Physical constants in the units of the solver's input and output (docs/physics.md, "Units").

CODATA 2018 values; ``h``, ``e`` and ``k_B`` are exact in the 2019 SI, so the only error in
a value here is its last decimal. Every module takes them from here. Pure stdlib.
"""

K_B_EV_PER_K = 8.617333262e-5
"""Boltzmann constant in eV/K (CODATA 2018, exact in the 2019 SI)."""

K_B_MEV_PER_K = K_B_EV_PER_K * 1.0e3
"""Boltzmann constant in meV/K: ``k_B T_c`` in meV is the internal energy unit."""

HBAR_MEV_NS = 6.582119569e-4
"""Reduced Planck constant in meV ns (CODATA 2018: 6.582119569e-16 eV s)."""

PLANCK_MEV_PER_GHZ = 4.135667696e-3
"""Planck constant ``h`` in meV/GHz, i.e. meV ns (CODATA 2018: 4.135667696e-15 eV s); the
photon energy of a frequency. Its own CODATA value, not ``2 pi HBAR_MEV_NS``, which differs
in the last digit."""

JOULE_PER_EV = 1.602176634e-19
"""Joules per electronvolt, the elementary charge in C (CODATA 2018, exact in the 2019 SI)."""

__all__ = ["HBAR_MEV_NS", "JOULE_PER_EV", "K_B_EV_PER_K", "K_B_MEV_PER_K", "PLANCK_MEV_PER_GHZ"]
