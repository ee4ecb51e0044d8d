"""Conversion between internal units (k_B T_c, tau_0, N_0) and physical units.

Internal: energies in k_B T_c, times in tau_0, number densities in ``N_0 k_B T_c`` and
energy densities in ``N_0 (k_B T_c)^2`` (docs/physics.md, "Units"). Physical: meV, ns, um^-3,
eV um^-3.
"""
from dataclasses import dataclass

from boltzphlow_mpi.physics.constants import JOULE_PER_EV


@dataclass(frozen=True)
class Units:
    kTc_meV: float
    tau0_ns: float
    n0_per_eV_um3: float

    @classmethod
    def of(cls, material):
        return cls(material.kTc_meV, material.tau0_ns, material.n0_per_eV_um3)

    @property
    def number_density_per_um3(self):
        """Internal number-density unit in um^-3."""
        return self.n0_per_eV_um3 * self.kTc_meV * 1e-3

    @property
    def energy_density_eV_per_um3(self):
        """Internal energy-density unit in eV um^-3."""
        return self.n0_per_eV_um3 * (self.kTc_meV * 1e-3) ** 2

    @property
    def power_density_W_per_um3(self):
        """Internal power-density unit (energy-density unit per ``tau_0``) in W um^-3."""
        return self.energy_density_eV_per_um3 * JOULE_PER_EV / (self.tau0_ns * 1e-9)
