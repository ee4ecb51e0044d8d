"""The material table: the parameters of Al, Sn, Ta, Nb, In and Pb with their sources
(docs/materials.md; how each value was obtained is in ``physics.materials``), and the
lookup ``get_material`` by symbol or English name with overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boltzphlow_mpi.physics.constants import K_B_MEV_PER_K
from boltzphlow_mpi.physics.materials import _KAPLAN, _NOT_CHECKED, Material


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


__all__ = ["MATERIALS", "get_material"]
