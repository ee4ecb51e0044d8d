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
from dataclasses import dataclass, field, fields, replace
from numbers import Real
from typing import Any, Mapping

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
    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "Material":
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
    def from_dict(cls, data: Mapping[str, Any]) -> "Material":
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


def _debye(theta_K: float) -> float:
    return K_B_MEV_PER_K * theta_K


def _bcs_delta0(tc_K: float) -> float:
    # Weak-coupling BCS Delta(0) = 1.764 k_B T_c, rounded to 0.1 ueV.
    return round(1.764 * K_B_MEV_PER_K * tc_K, 4)


_BCS_DELTA = (
    "BCS weak-coupling value 1.764 k_B T_c (Bardeen, Cooper, Schrieffer, Phys. Rev. 108, "
    "1175 (1957)); not a measured gap"
)
_GAMMA_N0 = (
    "estimated as 3 gamma / (2 pi^2 k_B^2 V_m) (single spin, dressed) with Sommerfeld "
    "gamma = {gamma} mJ mol^-1 K^-2 (Kittel Table 6.3; not checked here), density {rho} "
    "g/cm^3, M = {mass} g/mol; the same formula gives Al 1.726e10; unverified"
)
_REL7 = (
    "ESTIMATED from relation (7) of the notes, tau0_phi = 18 N_ion tau_0 (kT_c)^3 / "
    "(4 pi N_0 Delta_0 Omega_D^3), with N_ion = {nion} um^-3 and the N_0, Delta_0, "
    "Omega_D stored here; no published value found; unverified (+-20 % at best: the same "
    "estimate gives Al +7.9 %, Ta -14 %, Nb -17 %, Sn -14 % against the tabulated values)"
)

MATERIALS: dict[str, Material] = {
    "al": Material(
        name="Al",
        tc_K=1.19,
        delta0_meV=_bcs_delta0(1.19),
        tau0_ns=438.0,
        tau0_phonon_ns=0.242,
        debye_meV=_debye(428.0),
        n0_per_eV_um3=1.72e10,
        fermi_velocity_um_per_ns=2030.0,
        sound_speed_um_per_ns=6.42,
        b_per_meV2=3.17e-4,
        z1=1.43,
        sources={
            "tc_K": f"1.19 K: {_KAPLAN} Table I as quoted in the starting table of "
            f"docs/materials.md ({_NOT_CHECKED}); G4CMP CrystalMaps/Al/config.txt also uses "
            "1.19 K, and with it Kaplan's relation reproduces tau_0 = 438 ns",
            "delta0_meV": _BCS_DELTA + " (G4CMP's Al config uses 0.176 meV, 2Delta/kTc = 3.43)",
            "tau0_ns": f"438 ns: {_KAPLAN} Table I as quoted in the starting table of "
            "docs/materials.md; same value in G4CMP CrystalMaps/Al/config.txt ('from Kaplan "
            "paper') and McDermott-Group/Simulation-and-Design Quasiparticles/*.m (0.438 us)",
            "tau0_phonon_ns": f"0.242 ns: {_KAPLAN} as quoted in the starting table of "
            "docs/materials.md; same value in G4CMP CrystalMaps/Al/config.txt and "
            "McDermott-Group/Simulation-and-Design "
            "Quasiparticles/plotSteadyStatePhononTimes.m, which cites Kaplan's Table II",
            "debye_meV": "k_B x 428 K: Kittel, Debye-temperature table (checked against "
            "Wikipedia 'Debye model' reproduction); the starting table of docs/materials.md "
            "lists 423 K (attributed to Kaplan 1976, not checkable here)",
            "n0_per_eV_um3": "1.72e10 eV^-1 um^-3 (single spin): the starting table of "
            "docs/materials.md, the value used throughout the KID literature (public code "
            "cites Noroozian's thesis); equals 3 gamma/(2 pi^2 k_B^2 V_m) = 1.726e10 with "
            "gamma = 1.35 mJ mol^-1 K^-2 (Kittel Table 6.3; gamma not checked here)",
            "fermi_velocity_um_per_ns": "2.03e6 m/s: A&M Table 2.1 free-electron v_F "
            "(checked against a reproduction of the table)",
            "sound_speed_um_per_ns": "6420 m/s: CRC Handbook, speed of sound in solids, "
            "aluminum rolled, longitudinal bulk wave",
            "b_per_meV2": f"3.17e-4 meV^-2: {_KAPLAN} Table I as quoted in the starting table "
            "of docs/materials.md; consistent with tau_0 through Kaplan's relation",
            "z1": f"1.43: {_KAPLAN} Table I as quoted in the starting table of "
            "docs/materials.md; same value in McDermott-Group/Simulation-and-Design "
            "Quasiparticles code ('Z1_0 = 1.43; See Table I in Kaplan')",
        },
    ),
    "ta": Material(
        name="Ta",
        tc_K=4.48,
        delta0_meV=_bcs_delta0(4.48),
        tau0_ns=1.78,
        tau0_phonon_ns=0.0227,
        debye_meV=_debye(240.0),
        n0_per_eV_um3=6.94e10,
        fermi_velocity_um_per_ns=1370.0,
        sound_speed_um_per_ns=3.9,
        b_per_meV2=1.73e-3,
        z1=1.69,
        sources={
            "tc_K": f"4.48 K: {_KAPLAN} Table I as quoted in the starting table of "
            f"docs/materials.md ({_NOT_CHECKED}); with it Kaplan's relation reproduces tau_0 "
            "= 1.78 ns",
            "delta0_meV": _BCS_DELTA,
            "tau0_ns": f"1.78 ns: {_KAPLAN} as quoted in the starting table of "
            "docs/materials.md; same value in sahderooij/MKID-models SC.py (alpha-Ta t0 = "
            "1.78e-3 us)",
            "tau0_phonon_ns": f"22.7 ps: {_KAPLAN} as quoted in the starting table of "
            "docs/materials.md; same value in sahderooij/MKID-models SC.py (alpha-Ta tpb = "
            "0.0227e-3 us)",
            "debye_meV": "k_B x 240 K: Kittel, Debye-temperature table (checked against "
            "Wikipedia 'Debye model' reproduction); same as the starting table of "
            "docs/materials.md",
            "n0_per_eV_um3": _GAMMA_N0.format(gamma=5.9, rho=16.65, mass=180.95)
            + " (sahderooij/MKID-models uses 5.7e10 for alpha-Ta films)",
            "fermi_velocity_um_per_ns": "1.37e6 m/s: ESTIMATE, free-electron v_F with one "
            "conduction electron per atom, the convention A&M Table 2.1 uses for Nb (Ta is "
            "bcc with the same lattice constant, 3.30 A); Ta is not in that table; unverified",
            "sound_speed_um_per_ns": "3900 m/s: secondary source, sahderooij/MKID-models "
            "SC.py (alpha-Ta cL, citing Abadias et al. 2019 and Magnuson et al. 2019); "
            "primary table not checked; unverified",
            "b_per_meV2": f"1.73e-3 meV^-2: {_KAPLAN} Table I as quoted in the starting table "
            "of docs/materials.md; consistent with tau_0 through Kaplan's relation",
            "z1": f"1.69: {_KAPLAN} Table I as quoted in the starting table of "
            "docs/materials.md; consistent with tau_0 through Kaplan's relation",
        },
    ),
    "nb": Material(
        name="Nb",
        tc_K=9.2,
        delta0_meV=_bcs_delta0(9.2),
        tau0_ns=0.149,
        tau0_phonon_ns=0.00417,
        debye_meV=_debye(275.0),
        n0_per_eV_um3=9.18e10,
        fermi_velocity_um_per_ns=1370.0,
        sound_speed_um_per_ns=4.95,
        b_per_meV2=4.0e-3,
        z1=2.84,
        sources={
            "tc_K": f"9.2 K: {_KAPLAN} Table I as quoted in the starting table of "
            f"docs/materials.md ({_NOT_CHECKED}); with it Kaplan's relation reproduces tau_0 "
            "= 0.149 ns (bulk Nb: 9.25 K)",
            "delta0_meV": _BCS_DELTA + " (Nb is moderately strong-coupled: measured "
            "2Delta/kTc is quoted near 3.8, i.e. about 8 % larger; not checked here)",
            "tau0_ns": f"0.149 ns: {_KAPLAN} Table I as quoted in the starting table of "
            "docs/materials.md; same value in G4CMP CrystalMaps/Nb/config.txt ('from Kaplan')",
            "tau0_phonon_ns": f"4.17 ps: {_KAPLAN} as quoted in the starting table of "
            "docs/materials.md; same value in G4CMP CrystalMaps/Nb/config.txt (sc_tau0_ph "
            "0.00417 ns)",
            "debye_meV": "k_B x 275 K: the starting table of docs/materials.md (attributed "
            "to Kaplan 1976) and Kittel's Debye-temperature table (the reproduction checked "
            "here omits Nb); unverified",
            "n0_per_eV_um3": _GAMMA_N0.format(gamma=7.79, rho=8.57, mass=92.906),
            "fermi_velocity_um_per_ns": "1.37e6 m/s: A&M Table 2.1 free-electron v_F "
            "(one electron per atom; checked against a reproduction of the table; the "
            "real Nb Fermi surface differs strongly from a free-electron sphere)",
            "sound_speed_um_per_ns": "4950 m/s: ASTM E494 Table X3.1 ('Columbium', "
            "longitudinal); G4CMP Nb config and the pzflex.cn acoustic table give 4920 m/s",
            "b_per_meV2": f"4.0e-3 meV^-2: {_KAPLAN} Table I as quoted in the starting table "
            "of docs/materials.md; consistent with tau_0 through Kaplan's relation",
            "z1": f"2.84: {_KAPLAN} Table I as quoted in the starting table of "
            "docs/materials.md; consistent with tau_0 through Kaplan's relation (note: "
            "larger than the usual lambda ~ 1 for Nb)",
        },
    ),
    "sn": Material(
        name="Sn",
        tc_K=3.72,
        delta0_meV=0.593,
        tau0_ns=2.30,
        tau0_phonon_ns=0.11,
        debye_meV=_debye(200.0),
        n0_per_eV_um3=1.40e10,
        fermi_velocity_um_per_ns=1900.0,
        sound_speed_um_per_ns=3.32,
        b_per_meV2=None,
        z1=None,
        sources={
            "tc_K": "3.72 K: the starting table of docs/materials.md; Vasiliev Table 7.5 "
            "lists the same",
            "delta0_meV": "0.593 meV (Delta_0/kT_c = 1.85): Vasiliev Table 7.5, a "
            "secondary compilation of measured gaps; primary source not checked",
            "tau0_ns": "2.30 ns: value marked '?' in the starting table of "
            f"docs/materials.md, attributed to {_KAPLAN} Table I; NOT verified (no public "
            "copy of the table found)",
            "tau0_phonon_ns": "0.11 ns: value marked '?' in the starting table of "
            "docs/materials.md, attributed to Kaplan 1976; NOT verified; relation (7) with "
            "the values stored here gives 0.095 ns",
            "debye_meV": "k_B x 200 K (white tin): Kittel, Debye-temperature table "
            "(checked against Wikipedia 'Debye model' reproduction)",
            "n0_per_eV_um3": _GAMMA_N0.format(gamma=1.78, rho=7.287, mass=118.71),
            "fermi_velocity_um_per_ns": "1.90e6 m/s: A&M Table 2.1 free-electron v_F "
            "(checked against a reproduction of the table)",
            "sound_speed_um_per_ns": "3320 m/s: CRC Handbook, speed of sound in solids, "
            "tin rolled, longitudinal bulk wave (ASTM E494 Table X3.1 gives the same)",
            "b_per_meV2": "unknown: Kaplan's b for Sn not found",
            "z1": "unknown: Kaplan's Z_1 for Sn not found",
        },
    ),
    "pb": Material(
        name="Pb",
        tc_K=7.19,
        delta0_meV=1.38,
        tau0_ns=0.196,
        tau0_phonon_ns=0.103,
        debye_meV=_debye(105.0),
        n0_per_eV_um3=2.08e10,
        fermi_velocity_um_per_ns=1830.0,
        sound_speed_um_per_ns=2.16,
        b_per_meV2=None,
        z1=None,
        sources={
            "tc_K": "7.19 K: the starting table of docs/materials.md; Vasiliev Table 7.5 "
            "lists the same",
            "delta0_meV": "1.38 meV (Delta_0/kT_c = 2.23, strong coupling): Vasiliev "
            "Table 7.5, a secondary compilation of measured gaps; primary not checked",
            "tau0_ns": "0.196 ns: value marked '?' in the starting table of "
            f"docs/materials.md, attributed to {_KAPLAN} Table I; NOT verified (no public "
            "copy of the table found)",
            "tau0_phonon_ns": _REL7.format(nion="3.30e10"),
            "debye_meV": "k_B x 105 K: Kittel, Debye-temperature table (checked against "
            "Wikipedia 'Debye model' reproduction)",
            "n0_per_eV_um3": _GAMMA_N0.format(gamma=2.98, rho=11.34, mass=207.2),
            "fermi_velocity_um_per_ns": "1.83e6 m/s: A&M Table 2.1 free-electron v_F "
            "(checked against a reproduction of the table)",
            "sound_speed_um_per_ns": "2160 m/s: CRC Handbook, speed of sound in solids, "
            "lead annealed, longitudinal bulk wave (ASTM E494 Table X3.1 gives the same; "
            "rolled lead: 1960 m/s)",
            "b_per_meV2": "unknown: Kaplan's b for Pb not found",
            "z1": "unknown: Kaplan's Z_1 for Pb not found",
        },
    ),
    "in": Material(
        name="In",
        tc_K=3.40,
        delta0_meV=0.541,
        tau0_ns=0.80,
        tau0_phonon_ns=0.184,
        debye_meV=_debye(108.0),
        n0_per_eV_um3=1.37e10,
        fermi_velocity_um_per_ns=1740.0,
        sound_speed_um_per_ns=2.56,
        b_per_meV2=None,
        z1=None,
        sources={
            "tc_K": "3.40 K: the starting table of docs/materials.md; Vasiliev Table 7.5 "
            "lists 3.41 K",
            "delta0_meV": "0.541 meV: Vasiliev Table 7.5 (listed with T_c = 3.41 K, "
            "Delta_0/kT_c = 1.84), a secondary compilation; primary source not checked",
            "tau0_ns": "0.80 ns: value marked '?' in the starting table of "
            f"docs/materials.md, attributed to {_KAPLAN} Table I; NOT verified (no public "
            "copy of the table found)",
            "tau0_phonon_ns": _REL7.format(nion="3.83e10"),
            "debye_meV": "k_B x 108 K: Kittel's Debye-temperature table (the reproduction "
            "checked here omits In); unverified",
            "n0_per_eV_um3": _GAMMA_N0.format(gamma=1.69, rho=7.31, mass=114.82),
            "fermi_velocity_um_per_ns": "1.74e6 m/s: A&M Table 2.1 free-electron v_F "
            "(checked against a reproduction of the table)",
            "sound_speed_um_per_ns": "2560 m/s: 'Acoustic Properties of Solids' table "
            "(pzflex.cn, vendor-supplied entry for indium); weak secondary source; "
            "unverified",
            "b_per_meV2": "unknown: Kaplan's b for In not found",
            "z1": "unknown: Kaplan's Z_1 for In not found",
        },
    ),
}

_ALIASES = {
    "aluminum": "al",
    "aluminium": "al",
    "tantalum": "ta",
    "niobium": "nb",
    "tin": "sn",
    "lead": "pb",
    "indium": "in",
}


def get_material(name: str, overrides: Mapping[str, Any] | None = None) -> Material:
    """Look up a material by symbol (case-insensitive; English names also accepted) and
    apply ``overrides`` (see :meth:`Material.with_overrides`).

    An unknown name raises ``KeyError`` whose message lists the known names.
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in MATERIALS:
        known = ", ".join(sorted(MATERIALS))
        raise KeyError(f"unknown material {name!r}; known materials: {known}")
    material = MATERIALS[key]
    if overrides:
        return material.with_overrides(overrides)
    return material


__all__ = [
    "K_B_EV_PER_K",
    "HBAR_MEV_NS",
    "Material",
    "MATERIALS",
    "OVERRIDABLE_FIELDS",
    "get_material",
    "kaplan_tau0_ns",
]
