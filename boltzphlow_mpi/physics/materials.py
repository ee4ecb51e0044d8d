"""Material parameters for the kinetic equations (docs/materials.md), with a citation for
every number.

Pure stdlib (no numpy, PETSc or MPI). Units are the physical input/output units of the
solver: K, meV, ns, um, eV^-1 um^-3, um/ns. ``N(0)`` is the single-spin density of states
at the Fermi level.

Abbreviations in the ``sources`` strings
----------------------------------------
* Kaplan 1976: S. B. Kaplan, C. C. Chi, D. N. Langenberg, J. J. Chang, S. Jafarey and
  D. J. Scalapino, "Quasiparticle and phonon lifetimes in superconductors",
  Phys. Rev. B 14, 4854 (1976). The paper itself could not be consulted while this file
  was written. Its numbers are taken from the starting table of docs/materials.md and,
  where possible, matched against public code that quotes the paper: G4CMP
  (kelseymh/G4CMP, CrystalMaps/{Al,Nb}/config.txt), McDermott-Group/Simulation-and-Design
  (Quasiparticles/*.m) and sahderooij/MKID-models (SC.py). One of those sources cites
  Kaplan's *Table II* (not Table I) for tau_0^phi, so the phonon times may sit in Table II.
* A&M: Ashcroft & Mermin, Solid State Physics (1976), Table 2.1 (free-electron v_F);
  values checked against a public reproduction of the table.
* CRC: CRC Handbook of Chemistry and Physics, "Speed of sound in various media", Table 1
  (longitudinal bulk waves); checked against the handbook page excerpt.
* ASTM E494: ASTM E494, Table X3.1 "Acoustic velocity in engineering materials".
* Kittel: C. Kittel, Introduction to Solid State Physics, Debye-temperature table (ch. 5)
  and electronic-heat-capacity table (ch. 6, "Table 6.3"). The Debye temperatures of Al,
  Pb, Ta and white Sn were checked against a public reproduction of the table (Wikipedia,
  "Debye model"); Nb, In and all the Sommerfeld gamma values were NOT checked here.
* Vasiliev: B. V. Vasiliev, "Superconductivity and Superfluidity" (Science Publishing
  Group, ISBN 978-1-940366-36-4), Table 7.5 (measured T_c and Delta_0 of type-I
  superconductors). A secondary compilation; its primary sources were not checked.

How N(0) is defined here
------------------------
Al uses the N_0 = 1.72e10 eV^-1 um^-3 of the starting table of docs/materials.md. That
equals the "dressed" single-spin DOS from the Sommerfeld coefficient, N_0 = 3 gamma /
(2 pi^2 k_B^2 V_m) (gamma = 1.35 mJ mol^-1 K^-2 gives 1.726e10), so the other metals use
the same formula with Kittel's gamma and standard densities. Those N_0 values are
estimates and are marked unverified.

Kaplan's relation
-----------------
``tau_0 = Z_1 hbar / (2 pi b (k_B T_c)^3)`` (see :func:`kaplan_tau0_ns`), applied to the
stored T_c, b and Z_1 (hbar = 6.582119569e-4 meV ns, CODATA 2018):

=====  ==============  ============  ==========
metal  relation (ns)   stored (ns)   difference
=====  ==============  ============  ==========
Al     438.23          438           +0.05 %
Ta     1.7786          1.78          -0.08 %
Nb     0.14927         0.149         +0.18 %
=====  ==============  ============  ==========

The stored T_c, b, Z_1 and tau_0 are therefore consistent with each other. This checks
the values *against each other* (all four come from the same table), not against the
paper. Sn, Pb and In cannot be checked because Kaplan's b and Z_1 for them were not found
(``b_per_meV2`` and ``z1`` are None).

Energy relation (7) of the notes
--------------------------------
Relation (7), 4 N_0 / (tau_0 (k T_c)^3) = 18 N_ion / (pi tau_0^phi Delta_0 Omega_D^3), is
used in two ways. First, as a consistency check of the tabulated tau_0^phi, using the N_0,
Delta_0 and Omega_D stored here and N_ion = rho N_A / M. The tau_0^phi it gives, relative
to the stored value, is Al +7.9 %, Ta -14 %, Nb -17 %, Sn -14 %. Second, it supplies
tau_0^phi for Pb (0.103 ns) and In (0.184 ns), for which no published value was found.
Those two numbers are estimates, good to about +-20 % at best.

Unverified values (see ``sources`` and docs/materials.md)
--------------------------------------------------------
Sn, Pb and In tau_0 (marked "?" in the starting table of docs/materials.md); Sn tau_0^phi;
Pb and In tau_0^phi (estimated); all N_0 except Al; Ta v_F (estimate) and Ta and In sound
speeds (secondary sources); Nb and In Debye temperatures (Kittel values not checked here).
Delta_0 of Al, Ta and Nb is the BCS weak-coupling value 1.764 k_B T_c, not a measurement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from numbers import Real
from typing import Any

# k_B and hbar are re-exported here for the callers that took them from this module
from boltzphlow_mpi.physics.constants import HBAR_MEV_NS, K_B_EV_PER_K, K_B_MEV_PER_K

_KAPLAN = "Kaplan et al. PRB 14, 4854 (1976)"
_NOT_CHECKED = "Kaplan's table not available here"


@dataclass(frozen=True)
class Material:
    """Parameters of one superconductor. See the module docstring for units and sources."""

    name: str
    tc_K: float
    delta0_meV: float  # Delta(T=0)
    tau0_ns: float  # Kaplan's characteristic electron-phonon time tau_0
    tau0_phonon_ns: float  # Kaplan's phonon pair-breaking time tau_0^phi
    debye_meV: float  # k_B theta_D
    n0_per_eV_um3: float  # single-spin N(0) at the Fermi level, eV^-1 um^-3
    fermi_velocity_um_per_ns: float
    sound_speed_um_per_ns: float  # longitudinal sound speed
    b_per_meV2: float | None  # Kaplan's alpha^2F = b Omega^2 coefficient (None if unknown)
    z1: float | None  # 1 + lambda
    sources: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        for key in _OPTIONAL:
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, _positive_finite(key, value))
        for key in _REQUIRED:
            object.__setattr__(self, key, _positive_finite(key, getattr(self, key)))
        # Own copy, so a caller's dict (or another Material's) is never shared.
        object.__setattr__(self, "sources", dict(self.sources))

    # Derived quantities ---------------------------------------------------------------
    @property
    def kTc_meV(self) -> float:
        """k_B T_c in meV (the internal energy unit)."""
        return K_B_MEV_PER_K * self.tc_K

    @property
    def delta0_over_kTc(self) -> float:
        """Delta(0) / (k_B T_c); 1.764 in weak-coupling BCS."""
        return self.delta0_meV / self.kTc_meV

    @property
    def tau0_ratio(self) -> float:
        """tau_0 / tau_0^phi (about 1800 for Al): the stiffness of the collision operator."""
        return self.tau0_ns / self.tau0_phonon_ns

    @property
    def debye_K(self) -> float:
        """Debye temperature theta_D in K."""
        return self.debye_meV / K_B_MEV_PER_K

    # Overrides and serialisation ------------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Material:
        """Return a copy with some parameters replaced.

        Keys are the field names except ``name`` and ``sources``. An unknown key raises
        ``KeyError(key)``; a value that is not a positive finite number raises
        ``ValueError``. Each overridden field gets ``sources[field] = "user override"``.
        """
        if not overrides:
            return replace(self)
        values: dict[str, float] = {}
        for key, value in overrides.items():
            if key not in OVERRIDABLE_FIELDS:
                raise KeyError(key)
            values[key] = _positive_finite(key, value)
        new_sources = dict(self.sources)
        for key in values:
            new_sources[key] = "user override"
        return replace(self, sources=new_sources, **values)

    def as_dict(self) -> dict:
        """Plain ``str``/``float`` mapping for HDF5 attributes and JSON.

        Keys: ``name``; every numeric field (a field whose value is None, i.e. an unknown
        ``b_per_meV2`` or ``z1``, is left out, because HDF5 attributes cannot hold None);
        ``source_<field>`` holding each citation string. :meth:`from_dict` inverts it.
        """
        out: dict[str, Any] = {"name": str(self.name)}
        for key in _NUMERIC:
            value = getattr(self, key)
            if value is not None:
                out[key] = float(value)
        for key, text in self.sources.items():
            out[f"source_{key}"] = str(text)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Material:
        """Rebuild a Material from :meth:`as_dict` output (extra keys are ignored)."""
        kwargs: dict[str, Any] = {"name": str(data["name"])}
        for key in _NUMERIC:
            if key in data:
                kwargs[key] = float(data[key])
            elif key in _OPTIONAL:
                kwargs[key] = None
            else:
                raise KeyError(key)
        kwargs["sources"] = {
            k[len("source_"):]: str(v) for k, v in data.items() if k.startswith("source_")
        }
        return cls(**kwargs)


_NUMERIC = tuple(f.name for f in fields(Material) if f.name not in ("name", "sources"))
_OPTIONAL = ("b_per_meV2", "z1")
_REQUIRED = tuple(k for k in _NUMERIC if k not in _OPTIONAL)
OVERRIDABLE_FIELDS = frozenset(_NUMERIC)
"""Field names accepted by :meth:`Material.with_overrides`."""


def _positive_finite(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(
            f"material parameter {key!r} = {value!r}: expected a positive finite number"
        )
    number = float(value)
    if not math.isfinite(number) or number <= 0.0:
        raise ValueError(
            f"material parameter {key!r} = {value!r}: expected a positive finite number"
        )
    return number


def kaplan_tau0_ns(material: Material) -> float | None:
    """Kaplan's relation tau_0 = Z_1 hbar / (2 pi b (k_B T_c)^3), in ns.

    Returns None when ``b_per_meV2`` or ``z1`` is unknown.
    """
    if material.b_per_meV2 is None or material.z1 is None:
        return None
    return material.z1 * HBAR_MEV_NS / (2.0 * math.pi * material.b_per_meV2 * material.kTc_meV**3)


__all__ = [
    "HBAR_MEV_NS",
    "K_B_EV_PER_K",
    "OVERRIDABLE_FIELDS",
    "Material",
    "kaplan_tau0_ns",
]
