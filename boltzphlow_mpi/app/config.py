"""Run configuration: TOML schema, defaults, validation (one-line errors).

Every key is declared in ``SCHEMA`` with its type, default (``REQUIRED`` if none), unit
and check; ``docs/config.md`` documents the same table. Errors are ``InputError`` with
the dotted key, the value and what was expected; unknown keys get a "did you mean".
``load``, ``from_dict`` and ``revalidate`` return a ``Config``: typed, frozen sections
(``cfg.time.t_end_ns``; ``config_types``); ``validate`` gives the resolved tables.
"""
import copy
import difflib
import math
import sys
import tomllib
from dataclasses import dataclass

from boltzphlow_mpi.app import config_types, overrides
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.physics.energy_grid import grid_size

REQUIRED = object()


@dataclass(frozen=True)
class Key:
    kind: type | tuple          # float, int, bool, str, or a tuple of allowed strings
    default: object = REQUIRED
    unit: str = ""
    lo: float | None = None     # bounds (exclusive unless *_incl)
    hi: float | None = None
    lo_incl: bool = False
    hi_incl: bool = False
    doc: str = ""

    def expected(self):
        if isinstance(self.kind, tuple):
            return "one of " + ", ".join(repr(k) for k in self.kind)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "a string"
        word = "an integer" if self.kind is int else "a finite number"
        parts = []
        if self.lo is not None:
            parts.append((">= " if self.lo_incl else "> ") + f"{self.lo:g}")
        if self.hi is not None:
            parts.append(("<= " if self.hi_incl else "< ") + f"{self.hi:g}")
        return word + (" " + " and ".join(parts) if parts else "") + (f" ({self.unit})" if self.unit else "")


def _pos(doc, unit="", default=REQUIRED, hi=None):
    return Key(float, default, unit, lo=0.0, hi=hi, doc=doc)


SCHEMA = {
    "material": {
        "name": Key(str, "Al", doc="Material: Al, Sn, Ta, Nb, In, Pb (see `boltzphlow info`)."),
        "tc_K": _pos("Override: critical temperature.", "K", None),
        "delta0_meV": _pos("Override: zero-temperature gap Delta_0.", "meV", None),
        "tau0_ns": _pos("Override: Kaplan tau_0.", "ns", None),
        "tau0_phonon_ns": _pos("Override: Kaplan tau_0^phi.", "ns", None),
        "debye_meV": _pos("Override: Debye energy k theta_D.", "meV", None),
        "n0_per_eV_um3": _pos("Override: single-spin N_0.", "eV^-1 um^-3", None),
        "fermi_velocity_um_per_ns": _pos("Override: Fermi velocity.", "um/ns", None),
        "sound_speed_um_per_ns": _pos("Override: longitudinal sound speed.", "um/ns", None),
    },
    "bath": {
        "temperature_over_tc": Key(float, None, "T/T_c", lo=0.0, hi=1.0, doc="Bath temperature over T_c (or give temperature_K)."),
        "temperature_K": _pos("Bath temperature (alternative to temperature_over_tc).", "K", None),
    },
    "grid": {
        "energy_step_over_delta0": Key(float, 1 / 16, "Delta_0", lo=0.0, hi=1.0, hi_incl=True,
                                       doc="Energy step h (with align_gap, the largest step at most this that aligns the grid)."),
        "align_gap": Key(bool, True, doc="Shrink h so that the bath gap sits a quarter step below a node "
                         "(docs/numerics.md, 'The gap-aligned grid'; BCS gap model); false: h as given."),
        "energy_max_over_delta0": Key(float, 20.0, "Delta_0", lo=2.0, hi=2000.0, hi_incl=True, doc="Top of the energy grid."),
        "dynes_gamma_over_delta0": Key(float, 0.0, "Delta_0", lo=0.0, hi=1.0, lo_incl=True, doc="Dynes broadening Gamma (0: BCS)."),
        "kernel": Key(("fft", "direct"), "fft", doc="Collision evaluation: FFT O(N log N) or direct O(N^2)."),
    },
    "geometry": {
        "kind": Key(("point", "sphere"), "point", doc="'point' (0-D, one uniform cell) or 'sphere' (radial, MPI-decomposed)."),
        "radius_um": _pos("Sphere radius R.", "um", None),
        "cells": Key(int, None, "", lo=1, lo_incl=True, hi=10_000_000, hi_incl=True, doc="Uniform mesh: number of radial cells."),
        "mesh": Key(str, None, doc="Mesh file (meshes/*.toml, docs/meshes.md) instead of cells."),
    },
    "transport": {
        "qp": Key(("diffusive", "kinetic", "off"), "diffusive", doc="QP transport closure (sphere only)."),
        "qp_solver": Key(("exact", "partition", "ksp"), "exact",
                         doc="Diffusive QPs: exact tridiagonal solves after a transpose (bitwise rank independent), "
                             "the partition method on the cell decomposition (no transpose; for many ranks), "
                             "or a PETSc KSP on the decomposition (options prefix qp_)."),
        "qp_mean_free_path_um": _pos("QP (= normal electron) mean free path l; D_n = v_F l / 3.", "um", 1.0),
        "phonon": Key(("kinetic", "off"), "kinetic", doc="Phonon transport: discrete ordinates, upwind streaming."),
        "phonon_time": Key(("explicit", "implicit"), "explicit",
                           doc="Phonon streaming in time: explicit SSP-RK2 (CFL bound) or implicit backward Euler "
                               "with error control (no bound; docs/numerics.md#implicit-phonon-streaming)."),
        "angles": Key(int, 8, "", lo=2, lo_incl=True, hi=64, hi_incl=True, doc="Number of discrete ordinates (even)."),
        "outer_boundary": Key(("bath", "reflecting"), "bath",
                              doc="r = R: Milne/outflow to the bath, or reflecting (no flux; for tests)."),
    },
    "collisions": {
        "enabled": Key(bool, True, doc="Collision integrals on; false leaves transport (and escape) alone, for tests."),
        "edge_pair_weights": Key(bool, True, doc="Strip weights for pair breaking and recombination at the gap edge "
                                 "(docs/numerics.md, 'Pair processes at the gap edge'); false: products of cell averages."),
    },
    "gap": {
        "mode": Key(("fixed", "self-consistent"), "fixed",
                    doc="Gap fixed at the bath value, or solved per cell from its occupations (every update_every steps)."),
        "model": Key(("bcs", "eliashberg"), "bcs", doc="BCS gap equation, or real-axis Eliashberg self-energies (docs/physics.md)."),
        "update_every": Key(int, 1, "steps", lo=1, lo_incl=True, hi=1_000_000, hi_incl=True,
                            doc="Self-consistent gap: solve every k accepted steps (the spectra are held in between)."),
        "alpha2f": Key(str, "auto", doc="Eliashberg alpha^2F: 'table' (the material's shipped table: Pb, Nb), 'debye' "
                                        "(b Omega^2 up to omega_meV), 'einstein' (Lorentzian at omega_meV, half width width_meV), "
                                        "a file (two columns, meV and alpha^2F), or 'auto': 'table' where the material has one, "
                                        "else 'debye'."),
        "lambda": Key(float, None, "", lo=0.0, hi=10.0, doc="Eliashberg coupling lambda = 2 int alpha^2F/Omega "
                                                            "(Debye default: the material's Z_1 - 1; a table is rescaled to it)."),
        "omega_meV": _pos("Eliashberg: Debye cutoff (default: the material's k theta_D) or Einstein energy.", "meV", None),
        "width_meV": _pos("Eliashberg Einstein: Lorentzian half width (default omega_meV / 20).", "meV", None),
        "mu_star": Key(float, None, "", lo=-1.0, hi=1.0, doc="Coulomb pseudopotential mu* (absent: fitted, see mu_star_fit)."),
        "mu_star_fit": Key(("auto", "delta0", "tc"), "auto",
                           doc="What an absent mu* is fitted to: 'delta0' (the T = 0 gap edge is the material's Delta_0), "
                               "'tc' (the model's own T_c is the material's T_c), 'auto' (the shipped table's choice, "
                               "else 'delta0')."),
        "cutoff_over_omega_max": Key(float, None, "", lo=1.0, lo_incl=True, hi=100.0, hi_incl=True,
                                     doc="Top of the self-energy grid (and mu* cutoff) over the largest phonon energy of "
                                         "alpha^2F; at least max(1, 1 + 10 (lambda - 0.5)) up to 12 (absent: that, at least 3)."),
        "lhs_floor": Key(float, 0.1, "", lo=0.0, hi=1.0, hi_incl=True,
                         doc="Eliashberg: smallest left-hand-side factor ell of the kinetic equation (where L(eps) of "
                             "eq. (178) falls below it the gradient expansion fails; docs/physics.md)."),
        "tolerance": Key(float, 1e-10, "Delta_0", lo=0.0, hi=1e-2, hi_incl=True, doc="Eliashberg: max |Delta change| per iteration at convergence."),
        "max_iterations": Key(int, 400, "", lo=1, lo_incl=True, hi=100000, hi_incl=True, doc="Eliashberg: iterations before it is an error."),
    },
    "phonon_escape": {
        "tau_ns": _pos("Phonon escape time (absent: no escape).", "ns", None),
        "only_subgap": Key(bool, False, doc="Escape only for phonons below 2 Delta."),
    },
    "initial": {
        "species": Key(("qp", "phonon"), "phonon", doc="Where the deposit goes."),
        "energy_center_over_delta0": Key(float, 14.0, "Delta_0", lo=0.0, doc="Centre of the Gaussian packet."),
        "energy_width_over_delta0": Key(float, 0.5, "Delta_0", lo=0.0, doc="Width (sigma) of the packet."),
        "deposit_eV_per_um3": Key(float, 0.0, "eV/um^3", lo=0.0, lo_incl=True, doc="Point geometry: excess energy density deposited."),
        "deposit_eV": Key(float, 0.0, "eV", lo=0.0, lo_incl=True, doc="Sphere: total excess energy deposited."),
        "radius_width_um": _pos("Sphere: width (sigma) of the Gaussian deposit around r = 0 (absent: uniform).", "um", None),
    },
    "time": {
        "t_end_ns": _pos("End time.", "ns"),
        "method": Key(("auto", "euler", "rk4", "tr1", "tr2", "exp", "rosw", "bdf", "ts", "arkimex"), "auto",
                      doc="Time stepper (docs/numerics.md#time-steppers); 'auto': 'bdf' for a point without a fixed "
                          "step and with at most 600 energies, 'exp' otherwise (the winners of the benchmarks); "
                          "'rosw': stiff Rosenbrock-W per cell "
                          "(point and sphere); 'bdf': stiff BDF of a point cell; 'ts', 'arkimex': PETSc TS "
                          "(options under the prefix time_)."),
        "rtol": Key(float, 1e-4, "", lo=0.0, hi=1.0, doc="Relative tolerance of the adaptive step control."),
        "output_interval_ns": _pos("Interval between output records.", "ns", None),
        "dt_ns": _pos("Fixed step (absent: adaptive).", "ns", None),
        "dt_initial_ns": _pos("First adaptive step.", "ns", None),
        "dt_max_ns": _pos("Largest adaptive step.", "ns", None),
        "tr_mu": Key(("global", "local"), "global", doc="TR relaxation rate: one global mu (exact ledger) or one per unknown."),
        "exp_energy_projection": Key(bool, True, doc="exp, rosw, bdf, ts, arkimex: rescale each cell's excitation after a step so its energy ledger is exact."),
        "jacobian_every": Key(int, 5, "steps", lo=1, lo_incl=True, hi=1000, hi_incl=True,
                              doc="rosw, ts, arkimex: accepted steps (TS: Jacobian evaluations) one exact Jacobian serves (a W-method keeps its order with an older one)."),
        "max_steps": Key(int, 10_000_000, "", lo=0, doc="Stop with an error after this many steps."),
    },
    "solve": {
        "mode": Key(("transient", "steady"), "transient",
                    doc="Integrate in time, or find the steady state under the drives (point, or sphere with diffusive QPs)."),
        "tolerance": Key(float, 1e-10, "", lo=0.0, hi=1e-2, hi_incl=True,
                         doc="Steady state: max |ln(G / K y)| (relative rate imbalance) at convergence."),
        "max_iterations": Key(int, 100, "", lo=1, lo_incl=True, hi=10000, hi_incl=True, doc="Steady state: Newton iterations."),
        "transient_ns": _pos("Steady state: integrate this long first and start Newton from there (absent: the bath state).",
                             "ns", None),
        "readout_GHz": _pos("Steady state: also print the Mattis-Bardeen sigma_1/sigma_n, sigma_2/sigma_n at this "
                            "frequency with the steady f (absent: not printed).", "GHz", None),
    },
    "output": {
        "path": Key(str, "out.h5", doc="HDF5 output file (the -o option wins)."),
        "progress_interval_s": Key(float, 2.0, "s", lo=0.0, lo_incl=True, doc="Wall time between progress lines (0: every output)."),
        "checkpoint_interval_ns": _pos("Simulated time between checkpoints (absent: none).", "ns", None),
        "checkpoint_dir": Key(str, "checkpoints", doc="Directory of the checkpoint files."),
        "checkpoint_keep": Key(int, 3, "", lo=1, lo_incl=True, hi=1000, hi_incl=True, doc="Number of checkpoints kept."),
    },
}


# ``[[drive]]``: an array of tables, each validated against DRIVE (docs/config.md#drive).
DRIVE = {
    "kind": Key(("photon", "microwave", "phonon"), REQUIRED,
                doc="'photon' (pair breaking, h nu > 2 Delta), 'microwave' (h nu < 2 Delta, absorbed by QPs) "
                    "or 'phonon' (monochromatic phonons at Omega = h nu)."),
    "energy_over_delta0": Key(float, None, "Delta_0", lo=0.0, doc="Photon / phonon energy over Delta_0 (or frequency_GHz)."),
    "frequency_GHz": _pos("Photon / phonon frequency (or energy_over_delta0).", "GHz", None),
    "power_W_per_um3": Key(float, REQUIRED, "W/um^3", lo=0.0, lo_incl=True, hi=1e3, hi_incl=True,
                           doc="Absorbed power density (at r = 0 with a radial profile)."),
    "radius_width_um": _pos("Sphere: Gaussian radial profile of the power density (absent: uniform).", "um", None),
}


SECTION_TYPES = {name: config_types.section_type(name, keys) for name, keys in SCHEMA.items()}
DriveConfig = config_types.section_type("drive", DRIVE)
Config = config_types.config_type(SECTION_TYPES, DriveConfig)


def typed(resolved):
    """The ``Config`` of resolved tables (``validate``)."""
    return config_types.build(Config, SECTION_TYPES, resolved)


def _validate_drives(value):
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise InputError("[[drive]]", value, "an array of tables ([[drive]] blocks)")
    out = []
    for i, table in enumerate(value):
        for key in table:
            if key not in DRIVE:
                raise InputError(f"drive.{i}.{key}", table[key], "a known key of [[drive]]: " + ", ".join(DRIVE),
                                 _suggest(key, DRIVE))
        d = {}
        for key, spec in DRIVE.items():
            dotted = f"drive.{i}.{key}"
            if key in table and table[key] is not None:
                d[key] = _check_value(dotted, spec, table[key])
            elif spec.default is REQUIRED:
                raise InputError(dotted, None, spec.expected() + " (required)")
            else:
                d[key] = spec.default
        if (d["energy_over_delta0"] is None) == (d["frequency_GHz"] is None):
            raise InputError(f"drive.{i}.energy_over_delta0", d["energy_over_delta0"],
                             "exactly one of energy_over_delta0 and frequency_GHz")
        out.append(d)
    return out


def _suggest(name, choices):
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _check_value(dotted, spec, value):
    kind = spec.kind
    if isinstance(kind, tuple):
        if not isinstance(value, str) or value not in kind:
            raise InputError(dotted, value, spec.expected(), _suggest(str(value), kind))
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise InputError(dotted, value, spec.expected())
        return value
    if kind is str:
        if not isinstance(value, str) or not value:
            raise InputError(dotted, value, "a non-empty string")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise InputError(dotted, value, spec.expected())
    if abs(value) > sys.float_info.max or not math.isfinite(value):  # huge TOML ints: no OverflowError
        raise InputError(dotted, value, spec.expected())
    v = kind(value)
    if spec.lo is not None and (v < spec.lo or (v == spec.lo and not spec.lo_incl)):
        raise InputError(dotted, value, spec.expected())
    if spec.hi is not None and (v > spec.hi or (v == spec.hi and not spec.hi_incl)):
        raise InputError(dotted, value, spec.expected())
    return v


def validate(raw):
    """Check a raw TOML dict against ``SCHEMA``; return the dict with defaults filled in."""
    if not isinstance(raw, dict):
        raise InputError("config", raw, "a TOML table")
    out = {}
    for section, table in raw.items():
        if section == "drive":
            continue
        if section not in SCHEMA:
            raise InputError(f"[{section}]", "...", "a known section: " + ", ".join(list(SCHEMA) + ["drive"]),
                             _suggest(section, list(SCHEMA) + ["drive"]))
        if not isinstance(table, dict):
            raise InputError(f"[{section}]", table, "a table of keys")
        for key in table:
            if key not in SCHEMA[section]:
                raise InputError(f"{section}.{key}", table[key], "a known key of [" + section + "]: " + ", ".join(SCHEMA[section]),
                                 _suggest(key, SCHEMA[section]))
    for section, keys in SCHEMA.items():
        table = raw.get(section, {})
        out[section] = {}
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            if key in table:
                out[section][key] = _check_value(dotted, spec, table[key])
            elif spec.default is REQUIRED:
                raise InputError(dotted, None, spec.expected() + " (required)")
            else:
                out[section][key] = spec.default
    out["drive"] = _validate_drives(raw.get("drive", []))
    _cross_checks(out)
    return out


#: ``time.method = "auto"`` takes ``bdf`` for a point with at most this many energies: beyond
#: it the dense LU of the BDF (``2N`` unknowns, O(N^3)) costs more than ``exp`` saves on a
#: run of ``tau_0`` (measured crossover N = 577 on jobs/eta_al.toml, docs/numerics.md)
AUTO_BDF_MAX_ENERGIES = 600


def _cross_checks(cfg):
    bath = cfg["bath"]
    if (bath["temperature_over_tc"] is None) == (bath["temperature_K"] is None):
        raise InputError("bath.temperature_over_tc", bath["temperature_over_tc"],
                         "exactly one of bath.temperature_over_tc and bath.temperature_K")
    grid = cfg["grid"]
    if grid["energy_max_over_delta0"] / grid["energy_step_over_delta0"] > 200_000:
        raise InputError("grid.energy_step_over_delta0", grid["energy_step_over_delta0"],
                         "a step giving at most 200000 energy points")
    ini = cfg["initial"]
    deposit = ini["deposit_eV_per_um3"] or ini["deposit_eV"]
    if deposit and ini["energy_center_over_delta0"] + 3 * ini["energy_width_over_delta0"] > grid["energy_max_over_delta0"]:
        raise InputError("initial.energy_center_over_delta0", ini["energy_center_over_delta0"],
                         "a packet (centre + 3 widths) inside the grid, below grid.energy_max_over_delta0 = "
                         f"{grid['energy_max_over_delta0']:g}")
    geo, tr = cfg["geometry"], cfg["transport"]
    if geo["kind"] == "point":
        for k in ("radius_um", "cells", "mesh"):
            if geo[k] is not None:
                raise InputError(f"geometry.{k}", geo[k], "no value for kind = 'point' (set geometry.kind = 'sphere')")
        for k in ("deposit_eV", "radius_width_um"):
            if ini[k]:
                raise InputError(f"initial.{k}", ini[k], "no value for a point geometry (use initial.deposit_eV_per_um3)")
    else:
        if geo["radius_um"] is None:
            raise InputError("geometry.radius_um", None, "a positive number (um) for kind = 'sphere' (required)")
        if (geo["cells"] is None) == (geo["mesh"] is None):
            raise InputError("geometry.cells", geo["cells"], "exactly one of geometry.cells and geometry.mesh")
        if ini["deposit_eV_per_um3"]:
            raise InputError("initial.deposit_eV_per_um3", ini["deposit_eV_per_um3"],
                             "no value for a sphere (use initial.deposit_eV, the total energy)")
        if ini["radius_width_um"] is not None and ini["radius_width_um"] > geo["radius_um"]:
            raise InputError("initial.radius_width_um", ini["radius_width_um"],
                             f"a width below geometry.radius_um = {geo['radius_um']:g} um")
    if cfg["solve"]["mode"] == "steady" and geo["kind"] == "sphere" and tr["qp"] == "kinetic":
        raise InputError("solve.mode", "steady", "transport.qp = 'diffusive' or 'off' for a radial steady state "
                         "(the kinetic QP closure is transient only)")
    gap = cfg["gap"]
    if gap["model"] == "bcs":
        for k in ("lambda", "omega_meV", "width_meV", "mu_star", "cutoff_over_omega_max"):
            if gap[k] is not None:
                raise InputError(f"gap.{k}", gap[k], "no value for gap.model = 'bcs' (set gap.model = 'eliashberg')")
        for k in ("alpha2f", "mu_star_fit"):
            if gap[k] != "auto":
                raise InputError(f"gap.{k}", gap[k], "no value for gap.model = 'bcs' (set gap.model = 'eliashberg')")
    if tr["angles"] % 2:
        raise InputError("transport.angles", tr["angles"], "an even integer (Gauss-Legendre ordinates)")
    t = cfg["time"]
    if t["method"] == "auto":  # docs/numerics.md, "Choosing a method"
        energies = grid_size(grid["energy_step_over_delta0"], grid["energy_max_over_delta0"])
        small = energies <= AUTO_BDF_MAX_ENERGIES  # the BDF's dense LU grows as N^3
        t["method"] = "bdf" if geo["kind"] == "point" and t["dt_ns"] is None and small else "exp"
    for k in ("output_interval_ns", "dt_ns", "dt_initial_ns", "dt_max_ns"):
        if t[k] is not None and t[k] > t["t_end_ns"]:
            raise InputError(f"time.{k}", t[k], f"a value <= time.t_end_ns = {t['t_end_ns']:g}")


def revalidate(resolved):
    """The ``Config`` of an already resolved config (tables, e.g. read from a checkpoint,
    or a ``Config``), validated again."""
    if isinstance(resolved, Config):
        resolved = resolved.as_dict()
    raw = {sec: ([{k: v for k, v in t.items() if v is not None} for t in table] if isinstance(table, list)
                 else {k: v for k, v in table.items() if v is not None}) for sec, table in resolved.items()}
    return typed(validate(raw))


def load(path, sets=()):
    """Read a TOML file, apply the ``--set`` items ``sets``, validate. Returns (cfg, text)."""
    raw, text = read_toml(path)
    return from_dict(raw, sets), text


def read_toml(path):
    """The tables of a job file, not validated, and its text: ``(raw, text)``."""
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("CONFIG", str(path), "a readable UTF-8 TOML file", getattr(exc, "strerror", None) or str(exc)) from None
    try:
        raw = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
        raise InputError("CONFIG", str(path), "valid TOML", str(exc)) from None
    return raw, text


def from_dict(raw, sets=()):
    """The ``Config`` of the tables ``raw`` with ``--set`` items ``sets`` (``section.key=value``
    or ``drive.I.key=value``) applied."""
    raw = copy.deepcopy(raw)
    for item in sets:
        section, key, value = overrides.parse_override(item)
        raw = overrides.set_key(raw, f"{section}.{key}", value)  # (drive.I.key too)
    return typed(validate(raw))


def material_overrides(cfg):
    """The ``[material]`` keys given besides the name (overrides of the material table)."""
    return {k: getattr(cfg.material, k) for k in cfg.material.keys if k != "name" and getattr(cfg.material, k) is not None}
