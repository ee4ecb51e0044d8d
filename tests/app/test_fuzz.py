"""Config fuzzing through the command line: a few hundred malformed jobs, each must end with
exactly one line ``boltzphlow: error: ...``, exit code 2, no traceback and no file written.

The cases are generated deterministically (itertools and a seeded numpy RNG) from two small
valid jobs, a 0-D point and a sphere: wrong types and out-of-range values for every key of
``config.SCHEMA``, missing keys and sections, unknown keys and sections (typos must get a
"did you mean"), invalid enum choices, cross-check violations, mesh files that are malformed
or do not match the radius, Eliashberg alpha^2F tables that are unreadable, invalid TOML
syntax, and a restart whose ``--t-end`` is before the checkpoint's time.

Every schema-level case is pre-checked here to be rejected by ``config.from_dict`` (a value
that turns out valid is dropped from the list rather than run); the cases that only the
run set-up can reject (mesh and alpha^2F files, unknown material, ...) are hand-made so that
they fail before any heavy work. All of them go through ``cli.main`` in-process.
"""
import copy
import itertools
import json
import math
import tomllib
import warnings

import numpy as np
import pytest

from boltzphlow_mpi import cli
from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.config import REQUIRED, SCHEMA
from boltzphlow_mpi.errors import InputError

import jobs
from helpers import REPO

rng = np.random.default_rng(20240611)  # every random choice below comes from this one seed
DIR = "@DIR@"  # replaced by the test's tmp_path in the job text and the extra files

POINT = jobs.table("tiny", time__t_end_ns=1.0, time__output_interval_ns=0.5)
SPHERE = {
    "material": {"name": "Al"},
    "bath": {"temperature_over_tc": 0.1},
    "grid": {"energy_step_over_delta0": 0.25, "energy_max_over_delta0": 12.0},
    "geometry": {"kind": "sphere", "radius_um": 10.0, "cells": 4},
    "transport": {"angles": 2},
    "initial": {"species": "phonon", "energy_center_over_delta0": 8.0,
                "energy_width_over_delta0": 0.5, "deposit_eV": 1e-3, "radius_width_um": 2.0},
    "time": {"t_end_ns": 0.1, "method": "exp", "output_interval_ns": 0.05},
}
SPHERE_MESH = copy.deepcopy(SPHERE)
del SPHERE_MESH["geometry"]["cells"]
SPHERE_MESH["geometry"]["mesh"] = f"{DIR}/mesh.toml"
ELIASHBERG = copy.deepcopy(POINT)
ELIASHBERG["gap"] = {"model": "eliashberg", "alpha2f": f"{DIR}/a2f.dat"}


# -- TOML writing ------------------------------------------------------------------------------
def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string (ASCII escapes only)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def dumps(raw):
    """A TOML document of ``raw``: non-table top-level values first, then one [section] each."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for sec, table in raw.items():
        if isinstance(table, dict):
            lines.append(f"\n[{json.dumps(sec) if not sec.replace('_', '').isalnum() else sec}]")
            lines.extend(f"{json.dumps(k) if not k.replace('_', '').isalnum() else k} = {toml_value(v)}"
                         for k, v in table.items())
    return "\n".join(lines) + "\n"


# -- the cases ---------------------------------------------------------------------------------
# a case: id -> (job text, {file name: text or bytes}, fragments the error line must contain)
CASES = {}


def rejection(text):
    """The InputError (or TOML error) that ``config`` rejects the job text with, else None."""
    try:
        config.from_dict(tomllib.loads(text))
    except (InputError, ValueError) as exc:  # ValueError: invalid TOML (the CLI reports it as such)
        return exc
    return None


def add(cid, job, files=None, fragments=(), precheck=True):
    """Register a case; ``job`` is a dict (serialised to TOML) or TOML text. Schema-level
    cases (``precheck``) are kept only if validation rejects them."""
    text = job if isinstance(job, str) else dumps(job)
    exc = rejection(text) if precheck else None
    if precheck and exc is None:
        return False
    if "@KEY@" in fragments:  # the key the error names (a cross check may name a related key)
        assert isinstance(exc, InputError), (cid, exc)
        fragments = [exc.key if f == "@KEY@" else f for f in fragments]
    assert cid not in CASES, cid
    CASES[cid] = (text, dict(files or {}), tuple(fragments))
    return True


def with_value(base, dotted, value):
    raw = copy.deepcopy(base)
    section, key = dotted.split(".")
    raw.setdefault(section, {})[key] = value
    return raw


def without(base, dotted):
    raw = copy.deepcopy(base)
    section, key = dotted.split(".")
    raw.get(section, {}).pop(key, None)
    return raw


def base_for(section, key):
    """The base job where a key is meaningful (sphere keys on the sphere)."""
    return SPHERE if section in ("geometry", "transport") or key in ("deposit_eV", "radius_width_um") else POINT


def sample_valid(spec):
    """A valid value of a key (for the 'number for string' kind of mix-ups)."""
    if isinstance(spec.kind, tuple):
        return spec.kind[0]
    return {bool: True, str: "x", int: 2, float: 0.5}[spec.kind]


def wrong_types(spec):
    kind = spec.kind
    if isinstance(kind, tuple):
        c = kind[0]
        return [("int", 4), ("float", 1.5), ("bool", True), ("list", [c]), ("table", {"v": c}),
                ("empty", ""), ("upper", c.upper()), ("space", f" {c}")]
    if kind is bool:
        return [("int", 1), ("zero", 0), ("string", "true"), ("float", 1.0), ("list", [True]),
                ("table", {"v": False})]
    if kind is str:
        return [("int", 5), ("float", 1.5), ("bool", False), ("list", ["a"]), ("table", {"v": "a"}),
                ("empty", "")]
    out = [("string", "5"), ("word", "five"), ("bool-true", True), ("bool-false", False),
           ("list", [1.0]), ("table", {"v": 1.0}), ("empty-list", [])]
    if kind is int:
        out += [("float", 2.0), ("float-frac", 2.5)]
    return out


def bad_numbers(spec):
    vals = [("neg", -1.0), ("zero", 0.0), ("nan", math.nan), ("inf", math.inf), ("1e308", 1e308),
            ("1e400-int", 10 ** 400)]
    extra = [("neg-int", -1), ("zero-int", 0), ("-inf", -math.inf), ("-1e308", -1e308),
             ("-1e309-int", -(10 ** 309)), ("2^64", 2 ** 64), ("tiny-neg", -5e-324)]
    vals += [extra[int(i)] for i in sorted(rng.choice(len(extra), size=2, replace=False))]  # two more, seeded
    if spec.lo is not None and not spec.lo_incl:
        vals.append(("at-lo", spec.lo))
    if spec.hi is not None:
        vals.append(("above-hi", spec.hi * 10 + 1))
        if not spec.hi_incl:
            vals.append(("at-hi", spec.hi))
    if spec.kind is int:
        vals = [(n, int(v) if isinstance(v, float) and math.isfinite(v) and abs(v) < 1e18 else v) for n, v in vals]
    return vals


# 1. wrong types and out-of-range values for every key of the schema
for section, keys in SCHEMA.items():
    for key, spec in keys.items():
        base = base_for(section, key)
        dotted = f"{section}.{key}"
        for name, value in wrong_types(spec):
            add(f"type-{dotted}-{name}", with_value(base, dotted, value), fragments=[dotted, "expected"])
        assert sum(cid.startswith(f"type-{dotted}-") for cid in CASES) >= 5, dotted
        if spec.kind in (int, float):
            for name, value in bad_numbers(spec):
                add(f"range-{dotted}-{name}", with_value(base, dotted, value), fragments=["@KEY@", "expected"])

# 2. missing required keys and sections
for section, keys in SCHEMA.items():
    for key, spec in keys.items():
        if spec.default is REQUIRED:
            add(f"missing-{section}.{key}", without(POINT, f"{section}.{key}"),
                fragments=[f"{section}.{key}", "(required)"])
for section in POINT:
    raw = copy.deepcopy(POINT)
    del raw[section]
    add(f"missing-section-{section}", raw, fragments=["expected"])
add("missing-everything", "", fragments=["expected"])
add("only-comments", "# nothing here\n", fragments=["expected"])
add("sphere-no-radius", without(SPHERE, "geometry.radius_um"), fragments=["geometry.radius_um", "sphere"])
add("sphere-no-cells-no-mesh", without(SPHERE, "geometry.cells"), fragments=["geometry.cells", "exactly one"])
add("sphere-cells-and-mesh", with_value(SPHERE, "geometry.mesh", f"{DIR}/mesh.toml"),
    fragments=["geometry.cells", "exactly one"])
add("bath-empty", with_value(POINT, "bath.temperature_over_tc", None) | {"bath": {}},
    fragments=["bath.temperature_over_tc", "exactly one"])
add("bath-both", with_value(POINT, "bath.temperature_K", 0.1), fragments=["exactly one"])

# 3. unknown sections and keys; typos of real keys must get "did you mean '<real key>'"


def typos(word):
    """Deterministic misspellings: a dropped, a doubled and two swapped letters, one random."""
    out = []
    if len(word) > 3:
        out.append(word[:-1])                                   # last letter dropped
        out.append(word[:2] + word[2] + word[2:])               # a letter doubled
        i = len(word) // 2
        out.append(word[:i - 1] + word[i] + word[i - 1] + word[i + 1:])  # swapped neighbours
        j = int(rng.integers(1, len(word)))
        out.append(word[:j] + "x" + word[j + 1:])               # one letter replaced
    return [t for t in dict.fromkeys(out) if t != word]


TYPOS = []  # (section, key, typo): every misspelling; a seeded half of them also go through the CLI
for section, keys in SCHEMA.items():
    for key in keys:
        cands = [t for t in typos(key) if t not in keys]
        TYPOS.extend((section, key, t) for t in cands)
        for n in sorted(rng.choice(len(cands), size=min(2, len(cands)), replace=False)) if cands else []:
            add(f"typo-{section}.{key}-{n}", with_value(base_for(section, key), f"{section}.{cands[n]}",
                                                       sample_valid(keys[key])),
                fragments=[f"{section}.{cands[n]}", f"did you mean '{key}'?"])
    for n, typo in enumerate(typos(section)):
        if typo in SCHEMA:
            continue
        raw = copy.deepcopy(POINT)
        raw[typo] = raw.pop(section, {"x": 1})
        add(f"typo-section-{section}-{n}", raw, fragments=[f"[{typo}]", f"did you mean '{section}'?"])
for n, name in enumerate(["zzz", "foo", "meta", "solver", "mpi", "petsc", "Time", "TIME", "time2", "output_", ""]):
    add(f"unknown-section-{n}", POINT | {name: {"a": 1}}, fragments=["known section"])
for n, (section, name) in enumerate(itertools.product(["time", "grid", "bath", "material", "output"],
                                                        ["zzzzzz", "t", "x_y_z", "1", "T_END_NS", "a b"])):
    add(f"unknown-key-{n}", with_value(POINT, f"{section}.{name}", 1.0), fragments=[f"{section}.", "known key"])
for section in SCHEMA:
    add(f"section-not-table-{section}", POINT | {section: 5}, fragments=[f"[{section}]", "a table of keys"])
    add(f"section-array-of-tables-{section}", f"[[{section}]]\na = 1\n" + dumps(
        {k: v for k, v in POINT.items() if k != section}), fragments=[f"[{section}]", "a table of keys"])

# 4. invalid enum choices (with and without a close match)
for section, keys in SCHEMA.items():
    for key, spec in keys.items():
        if isinstance(spec.kind, tuple):
            dotted = f"{section}.{key}"
            base = base_for(section, key)
            for n, choice in enumerate(spec.kind):
                add(f"enum-{dotted}-{choice}-typo", with_value(base, dotted, choice + "x"),
                    fragments=[dotted, f"did you mean '{choice}'?"])
            add(f"enum-{dotted}-far", with_value(base, dotted, "qqqqqqqqqq"), fragments=[dotted, "one of"])

# 5. cross checks (geometry, transport, gap, time, packet)
for k, v in (("radius_um", 10.0), ("cells", 4), ("mesh", "m.toml")):
    add(f"cross-point-with-{k}", with_value(POINT, f"geometry.{k}", v), fragments=[f"geometry.{k}", "point"])
for k, v in (("deposit_eV", 1.0), ("radius_width_um", 1.0)):
    add(f"cross-point-with-initial.{k}", with_value(POINT, f"initial.{k}", v), fragments=[f"initial.{k}"])
add("cross-sphere-with-density", with_value(SPHERE, "initial.deposit_eV_per_um3", 1.0),
    fragments=["initial.deposit_eV_per_um3", "sphere"])
add("cross-sphere-width-above-radius", with_value(SPHERE, "initial.radius_width_um", 11.0),
    fragments=["initial.radius_width_um", "geometry.radius_um = 10"])
for a in (3, 5, 63):
    add(f"cross-odd-angles-{a}", with_value(SPHERE, "transport.angles", a), fragments=["transport.angles", "even"])
for k in ("lambda", "omega_meV", "width_meV", "mu_star"):
    add(f"cross-bcs-with-gap.{k}", with_value(POINT, f"gap.{k}", 0.5), fragments=[f"gap.{k}", "gap.model = 'bcs'"])
    add(f"cross-bcs-explicit-with-gap.{k}", with_value(with_value(POINT, "gap.model", "bcs"), f"gap.{k}", 0.5),
        fragments=[f"gap.{k}", "gap.model = 'bcs'"])
for n, v in enumerate(("einstein", f"{DIR}/a2f.dat")):
    add(f"cross-bcs-with-alpha2f-{n}", with_value(POINT, "gap.alpha2f", v), fragments=["gap.alpha2f", "'bcs'"])
for k in ("output_interval_ns", "dt_ns", "dt_initial_ns", "dt_max_ns"):
    add(f"cross-time-{k}-after-end", with_value(POINT, f"time.{k}", 2.0), fragments=[f"time.{k}", "t_end_ns = 1"])
add("cross-packet-outside", with_value(POINT, "initial.energy_center_over_delta0", 11.0),
    fragments=["initial.energy_center_over_delta0", "inside the grid"])
add("cross-packet-wide", with_value(POINT, "initial.energy_width_over_delta0", 3.0),
    fragments=["initial.energy_center_over_delta0", "inside the grid"])
add("cross-too-many-points", with_value(with_value(POINT, "grid.energy_step_over_delta0", 1e-5),
                                        "grid.energy_max_over_delta0", 12.0),
    fragments=["grid.energy_step_over_delta0", "200000"])

# 6. random multi-key mutations (seeded): two to four bad values at once, the first one found
FLAT = [(s, k, spec) for s, keys in SCHEMA.items() for k, spec in keys.items()]
POOL = ["5", True, [1], {"a": 1}, -1, 0, math.nan, math.inf, 1e308, 10 ** 400, "", "zzz", 1.5]
n_random = 0
for n in range(200):
    raw = copy.deepcopy(POINT if n % 2 else SPHERE)
    picks = rng.choice(len(FLAT), size=int(rng.integers(2, 5)), replace=False)
    for i in picks:
        s, k, spec = FLAT[int(i)]
        raw.setdefault(s, {})[k] = POOL[int(rng.integers(len(POOL)))]
    if add(f"random-{n}", raw, fragments=["expected"]):
        n_random += 1
    if n_random >= 60:
        break

# 7. invalid TOML syntax
SYNTAX = {
    "unclosed-section": "[time\nt_end_ns = 1.0\n",
    "missing-value": "[time]\nt_end_ns =\n",
    "missing-equals": "[time]\nt_end_ns 1.0\n",
    "bare-word": "[time]\nmethod = exp\n",
    "duplicate-key": dumps(POINT) + "\n[time]\nt_end_ns = 2.0\n",
    "duplicate-key-same-table": "[time]\nt_end_ns = 1.0\nt_end_ns = 2.0\n",
    "unterminated-string": '[material]\nname = "Al\n',
    "bad-escape": '[material]\nname = "A\\q"\n',
    "unclosed-list": "[time]\nt_end_ns = [1.0,\n",
    "leading-zero": "[time]\nt_end_ns = 01.0\n",
    "double-dot": "[time]\nt_end_ns = 1..0\n",
    "NaN-capital": "[time]\nt_end_ns = NaN\n",
    "python-none": "[time]\nt_end_ns = None\n",
    "python-True": "[collisions]\nenabled = True\n",
    "tab-in-key": "[time]\nt\tend = 1\n",
    "unicode-garbage": "[time]\nt_end_ns = 1.0 \u00e9\u00e9\n",
    "json": json.dumps(POINT),
    "yaml": "time:\n  t_end_ns: 1.0\n",
    "huge-int-5000-digits": "[time]\nt_end_ns = " + "9" * 5000 + "\n",
    "inline-table-redefined": "time = {t_end_ns = 1.0}\n[time]\nmethod = 'exp'\n",
}
for name, text in SYNTAX.items():
    add(f"syntax-{name}", text, fragments=["CONFIG", "valid TOML"])
add("syntax-not-utf8", "@BYTES@", fragments=["CONFIG", "UTF-8"], precheck=False)
add("missing-config-file", "@MISSING@", fragments=["CONFIG", "readable"], precheck=False)
add("config-is-directory", "@ISDIR@", fragments=["CONFIG", "readable"], precheck=False)

# -- cases only the run set-up can reject (hand-made, checked to pass config validation) ----------
SETUP = {}


def add_setup(cid, raw, files=None, fragments=()):
    text = dumps(raw)
    config.from_dict(tomllib.loads(text))  # valid for the schema: the error must come later
    SETUP[cid] = (text, dict(files or {}), tuple(fragments))


# 8. mesh files: malformed, or not matching geometry.radius_um
MESHES = {  # name: (file text or bytes, fragments)
    "uniform-radius-mismatch": ('kind = "uniform"\nradius_um = 20.0\ncells = 4\n', ["radius_um", "= 10 um"]),
    "graded-radius-mismatch": ('kind = "graded"\nradius_um = 10.001\ncells = 4\ngrading_ratio = 1.1\n',
                               ["radius_um", "= 10 um"]),
    "edges-radius-mismatch": ('kind = "edges"\nedges_um = [0.0, 1.0, 5.0]\n', ["radius_um", "= 10 um"]),
    "edges-radius-slightly-off": ('kind = "edges"\nedges_um = [0.0, 5.0, 10.00001]\n', ["radius_um", "= 10 um"]),
    "default-kind-mismatch": ("radius_um = 100.0\ncells = 4\n", ["radius_um", "= 10 um"]),
    "no-radius": ('kind = "uniform"\ncells = 4\n', ["radius_um", "positive"]),
    "no-cells": ('kind = "uniform"\nradius_um = 10.0\n', ["cells", "integer"]),
    "radius-string": ('radius_um = "10"\ncells = 4\n', ["radius_um", "positive"]),
    "radius-bool": ("radius_um = true\ncells = 4\n", ["radius_um", "positive"]),
    "radius-negative": ("radius_um = -10.0\ncells = 4\n", ["radius_um", "positive"]),
    "radius-zero": ("radius_um = 0\ncells = 4\n", ["radius_um", "positive"]),
    "radius-nan": ("radius_um = nan\ncells = 4\n", ["radius_um", "positive"]),
    "radius-inf": ("radius_um = inf\ncells = 4\n", ["radius_um", "positive"]),
    "radius-huge-int": (f"radius_um = {10 ** 400}\ncells = 4\n", ["radius_um", "positive"]),
    "radius-list": ("radius_um = [10.0]\ncells = 4\n", ["radius_um", "positive"]),
    "cells-zero": ("radius_um = 10.0\ncells = 0\n", ["cells", "integer"]),
    "cells-negative": ("radius_um = 10.0\ncells = -4\n", ["cells", "integer"]),
    "cells-float": ("radius_um = 10.0\ncells = 4.0\n", ["cells", "integer"]),
    "cells-string": ('radius_um = 10.0\ncells = "4"\n', ["cells", "integer"]),
    "cells-bool": ("radius_um = 10.0\ncells = true\n", ["cells", "integer"]),
    "cells-huge": ("radius_um = 10.0\ncells = 100000000000\n", ["cells", "integer"]),
    "cells-huge-int": (f"radius_um = 10.0\ncells = {10 ** 400}\n", ["cells", "integer"]),
    "graded-no-ratio": ('kind = "graded"\nradius_um = 10.0\ncells = 4\n', ["grading_ratio", "(1, 10]"]),
    "graded-ratio-one": ('kind = "graded"\nradius_um = 10.0\ncells = 4\ngrading_ratio = 1.0\n', ["grading_ratio"]),
    "graded-ratio-below-one": ('kind = "graded"\nradius_um = 10.0\ncells = 4\ngrading_ratio = 0.9\n',
                               ["grading_ratio"]),
    "graded-ratio-nan": ('kind = "graded"\nradius_um = 10.0\ncells = 4\ngrading_ratio = nan\n', ["grading_ratio"]),
    "graded-ratio-huge": ('kind = "graded"\nradius_um = 10.0\ncells = 4\ngrading_ratio = 1e308\n',
                          ["grading_ratio"]),
    "graded-ratio-string": ('kind = "graded"\nradius_um = 10.0\ncells = 4\ngrading_ratio = "1.1"\n',
                            ["grading_ratio"]),
    "graded-ratio-bool": ('kind = "graded"\nradius_um = 10.0\ncells = 4\ngrading_ratio = true\n', ["grading_ratio"]),
    # 10^400 overflows: the widths would be inf and the edges NaN
    "graded-overflow": ('kind = "graded"\nradius_um = 10.0\ncells = 400\ngrading_ratio = 10.0\n', ["mesh"]),
    # 2^-1100 underflows: the innermost cells would have zero width
    "graded-underflow": ('kind = "graded"\nradius_um = 10.0\ncells = 1100\ngrading_ratio = 2.0\n', ["mesh"]),
    "unknown-key": ('kind = "graded"\nradius_um = 10.0\ncells = 4\nratio = 1.1\n', ["ratio", "a mesh key"]),
    "unknown-kind": ('kind = "log"\nradius_um = 10.0\ncells = 4\n', ["kind", "'uniform'"]),
    "kind-int": ("kind = 3\nradius_um = 10.0\ncells = 4\n", ["kind", "'uniform'"]),
    "kind-list": ('kind = ["uniform"]\nradius_um = 10.0\ncells = 4\n', ["kind", "'uniform'"]),
    "kind-table": ('kind = {a = "uniform"}\nradius_um = 10.0\ncells = 4\n', ["kind", "'uniform'"]),
    "section": ("[mesh]\nradius_um = 10.0\ncells = 4\n", ["mesh", "a mesh key"]),
    "edges-missing": ('kind = "edges"\n', ["edges_um", "increasing"]),
    "edges-empty": ('kind = "edges"\nedges_um = []\n', ["edges_um", "increasing"]),
    "edges-one": ('kind = "edges"\nedges_um = [0.0]\n', ["edges_um", "increasing"]),
    "edges-decreasing": ('kind = "edges"\nedges_um = [0.0, 6.0, 5.0, 10.0]\n', ["edges_um", "increasing"]),
    "edges-repeated": ('kind = "edges"\nedges_um = [0.0, 5.0, 5.0, 10.0]\n', ["edges_um", "increasing"]),
    "edges-not-from-zero": ('kind = "edges"\nedges_um = [1.0, 5.0, 10.0]\n', ["edges_um", "increasing"]),
    "edges-negative": ('kind = "edges"\nedges_um = [-1.0, 0.0, 10.0]\n', ["edges_um", "increasing"]),
    "edges-nan": ('kind = "edges"\nedges_um = [0.0, nan, 10.0]\n', ["edges_um", "increasing"]),
    "edges-inf": ('kind = "edges"\nedges_um = [0.0, 5.0, inf]\n', ["edges_um", "increasing"]),
    "edges-strings": ('kind = "edges"\nedges_um = ["0", "5", "10"]\n', ["edges_um", "increasing"]),
    "edges-words": ('kind = "edges"\nedges_um = ["a", "b"]\n', ["edges_um", "increasing"]),
    "edges-bools": ('kind = "edges"\nedges_um = [false, true]\n', ["edges_um", "increasing"]),
    "edges-scalar": ('kind = "edges"\nedges_um = 10.0\n', ["edges_um", "increasing"]),
    "edges-string": ('kind = "edges"\nedges_um = "0 5 10"\n', ["edges_um", "increasing"]),
    "edges-nested": ('kind = "edges"\nedges_um = [[0.0, 5.0], [10.0]]\n', ["edges_um", "increasing"]),
    "edges-nested-square": ('kind = "edges"\nedges_um = [[0.0, 5.0], [6.0, 10.0]]\n', ["edges_um", "increasing"]),
    "edges-tables": ('kind = "edges"\nedges_um = [{a = 0.0}, {a = 10.0}]\n', ["edges_um", "increasing"]),
    "edges-huge-int": (f'kind = "edges"\nedges_um = [0, 5, {10 ** 400}]\n', ["edges_um", "increasing"]),
    "edges-long": ('kind = "edges"\nedges_um = [0.0, 3.0, 2.0, 4.0, 5.0, 6.0, 10.0]\n', ["edges_um", "..."]),
    "invalid-toml": ("radius_um = \ncells = 4\n", ["geometry.mesh", "valid TOML"]),
    "huge-int-5000-digits": ("radius_um = 10.0\ncells = " + "9" * 5000 + "\n", ["geometry.mesh"]),
    "not-utf8": (b"radius_um = 10.0\n# \xff\xfe\ncells = 4\n", ["geometry.mesh"]),
    "empty": ("", ["radius_um"]),
}
for name, (text, frags) in MESHES.items():
    add_setup(f"mesh-{name}", SPHERE_MESH, {"mesh.toml": text}, frags)
add_setup("mesh-missing-file", SPHERE_MESH, {}, ["geometry.mesh", "readable mesh file"])
add_setup("mesh-is-directory", with_value(SPHERE_MESH, "geometry.mesh", DIR), {},
          ["geometry.mesh", "readable mesh file"])
add_setup("mesh-radius-mismatch-shipped", with_value(SPHERE_MESH, "geometry.mesh",
                                                     str(REPO / "meshes" / "sn_bubble.toml")),
          {}, ["radius_um = 40.0", "= 10 um"])
add_setup("sphere-one-cell", with_value(SPHERE, "geometry.cells", 1), {}, ["geometry.cells", "at least 2"])
add_setup("mesh-one-cell", SPHERE_MESH, {"mesh.toml": "radius_um = 10.0\ncells = 1\n"},
          ["geometry.cells", "at least 2"])

# 9. Eliashberg alpha^2F tables (all fail before the mu* fit and the bath solve)
A2F = {
    "missing": (None, ["gap.alpha2f", "readable"]),
    "three-columns": ("1 0.1 3\n2 0.2 4\n", ["gap.alpha2f", "two numeric columns"]),
    "one-column": ("1\n2\n3\n", ["gap.alpha2f", "two numeric columns"]),
    "one-row": ("1 0.1\n", ["gap.alpha2f", "at least 2 rows"]),
    "decreasing": ("2 0.1\n1 0.2\n", ["gap.alpha2f", "increasing"]),
    "negative-energy": ("-1 0.1\n2 0.2\n", ["gap.alpha2f", "increasing"]),
    "negative-value": ("1 -0.1\n2 0.2\n", ["gap.alpha2f", ">= 0"]),
    "nan": ("1 nan\n2 0.2\n", ["gap.alpha2f", "finite"]),
    "inf": ("1 0.1\ninf 0.2\n", ["gap.alpha2f", "finite"]),
    "all-zero": ("1 0\n2 0\n", ["gap.alpha2f", "positive"]),
    "words": ("energy alpha2F\n1 0.1\n", ["gap.alpha2f", "two numeric columns"]),
    "commas": ("1,0.1\n2,0.2\n", ["gap.alpha2f", "two numeric columns"]),
    "ragged": ("1 0.1\n2\n", ["gap.alpha2f", "two numeric columns"]),
    "not-utf8": (b"1 0.1\n2 \xff\n", ["gap.alpha2f"]),
    "empty": ("", ["gap.alpha2f"]),
    "comments-only": ("# meV alpha2F\n", ["gap.alpha2f"]),
}
for name, (text, frags) in A2F.items():
    add_setup(f"a2f-{name}", ELIASHBERG, {} if text is None else {"a2f.dat": text}, frags)
add_setup("a2f-is-directory", with_value(ELIASHBERG, "gap.alpha2f", DIR), {}, ["gap.alpha2f"])
add_setup("a2f-typo-of-debye", with_value(ELIASHBERG, "gap.alpha2f", "debey"), {}, ["gap.alpha2f", "'debye'"])
einstein = with_value(ELIASHBERG, "gap.alpha2f", "einstein") | {}
einstein["gap"]["lambda"] = 0.4
add_setup("einstein-no-omega", einstein, {}, ["gap.omega_meV", "Einstein"])
add_setup("einstein-width-too-small", with_value(with_value(einstein, "gap.omega_meV", 1.0), "gap.width_meV", 1e-6),
          {}, ["gap.width_meV", "6 energy steps"])
add_setup("einstein-width-too-large", with_value(with_value(einstein, "gap.omega_meV", 1.0), "gap.width_meV", 0.5),
          {}, ["gap.width_meV", "Omega_E / 10"])
no_z1 = with_value(with_value(ELIASHBERG, "gap.alpha2f", "debye"), "material.name", "Sn")
add_setup("debye-no-lambda-no-z1", no_z1, {}, ["gap.lambda"])

# 10. other set-up errors: material, temperature, deposit
add_setup("material-unknown", with_value(POINT, "material.name", "Unobtainium"), {}, ["material.name", "known material"])
add_setup("material-typo", with_value(POINT, "material.name", "Alu"), {}, ["material.name", "known material"])
add_setup("temperature-K-above-tc", with_value(without(POINT, "bath.temperature_over_tc"), "bath.temperature_K", 5.0),
          {}, ["bath.temperature_K", "below T_c"])
add_setup("temperature-K-at-tc-override",
          with_value(with_value(without(POINT, "bath.temperature_over_tc"), "bath.temperature_K", 2.0),
                     "material.tc_K", 2.0), {}, ["bath.temperature_K", "below T_c"])
qp = with_value(with_value(POINT, "initial.species", "qp"), "initial.deposit_eV_per_um3", 1e6)
add_setup("qp-deposit-too-large", qp, {}, ["initial.deposit_eV_per_um3", "f <= 1"])
add_setup("qp-deposit-too-large-sphere",
          with_value(with_value(SPHERE, "initial.species", "qp"), "initial.deposit_eV", 1e12),
          {}, ["initial.deposit_eV", "f <= 1"])

for n, r in enumerate((1e200, 1e103, 1e-120, 5e-324)):  # cell volumes beyond the floating-point range
    add_setup(f"sphere-radius-extreme-{n}", with_value(without(SPHERE, "initial.radius_width_um"),
                                                       "geometry.radius_um", r), {}, ["geometry.radius_um"])
    add_setup(f"mesh-radius-extreme-{n}", with_value(without(SPHERE_MESH, "initial.radius_width_um"),
                                                     "geometry.radius_um", r),
              {"mesh.toml": f"radius_um = {r!r}\ncells = 4\n"}, ["radius_um"])

ALL = {**CASES, **SETUP}
XFAIL = {}  # case: why (none left: the empty alpha^2F table warning is suppressed in physics/gap/alpha2f.py)


def test_enough_cases_generated():
    assert len(ALL) >= 300, len(ALL)
    categories = {cid.split("-")[0] for cid in ALL}
    assert {"type", "range", "missing", "typo", "enum", "cross", "syntax", "mesh", "a2f", "random"} <= categories


@pytest.mark.parametrize("section", sorted(SCHEMA))
def test_every_typo_suggests_the_real_key(section):
    """All the generated misspellings of the keys of a section (config level: fast)."""
    for sec, key, typo in TYPOS:
        if sec != section:
            continue
        with pytest.raises(InputError) as info:
            config.from_dict(with_value(base_for(sec, key), f"{sec}.{typo}", sample_valid(SCHEMA[sec][key])))
        msg = str(info.value)
        assert msg.startswith(f"{sec}.{typo} = ") and msg.endswith(f"(did you mean '{key}'?)"), msg


# -- running them ------------------------------------------------------------------------------
def materialise(tmp_path, cid, text, files):
    """Write the job and its files under tmp_path; return the job path."""
    d = str(tmp_path)
    job = tmp_path / "job.toml"
    if text == "@BYTES@":
        job.write_bytes(dumps(POINT).encode() + b"# \xff\xfe\n")
    elif text == "@MISSING@":
        job = tmp_path / "nope.toml"
    elif text == "@ISDIR@":
        job = tmp_path / "a_dir.toml"
        job.mkdir()
    else:
        job.write_text(text.replace(DIR, d))
    for name, content in files.items():
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content.replace(DIR, d))
    return job


def assert_rejected(tmp_path, capsys, args, fragments, before):
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    text = out + err
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Traceback" not in text, text
    assert rc == 2, (rc, text)
    assert len(lines) == 1, lines
    assert lines[0].startswith("boltzphlow: error: "), lines[0]
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    # a warning would be printed on stderr by the command line: a second line
    assert not [w for w in caught if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))], \
        [str(w.message) for w in caught]
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, f"files written: {sorted(set(after) - set(before))}"
    return lines[0]


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture
def case_dir(request, fuzz_root):
    """An empty directory per case (cheaper than tmp_path for some 1500 cases)."""
    d = fuzz_root / f"case{len(list(fuzz_root.iterdir())):05d}"
    d.mkdir()
    return d


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.xfail(reason=XFAIL[c], strict=True))
                                 if c in XFAIL else c for c in sorted(ALL)])
def test_malformed_config_is_one_line_exit_2(cid, case_dir, capsys, monkeypatch):
    tmp_path = case_dir
    text, files, fragments = ALL[cid]
    monkeypatch.chdir(tmp_path)  # relative paths (checkpoints/, out.h5) would land here
    job = materialise(tmp_path, cid, text, files)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = tmp_path / "out.h5"
    assert_rejected(tmp_path, capsys, ["run", job, "-o", out], fragments, before)
    assert not out.exists() and not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize("cid", ["type-time.t_end_ns-string", next(c for c in sorted(ALL) if c.startswith("typo-time.t_end_ns")),
                                 "mesh-uniform-radius-mismatch"])
def test_malformed_config_without_output_option(cid, tmp_path, capsys, monkeypatch):
    """No -o: the config's own [output] path (out.h5) is not created either."""
    text, files, fragments = ALL[cid]
    monkeypatch.chdir(tmp_path)
    job = materialise(tmp_path, cid, text, files)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert_rejected(tmp_path, capsys, ["run", job], fragments, before)


# -- overrides: the same checks through --set ---------------------------------------------------
SET_CASES = {
    "set-string-for-number": (["time.t_end_ns=\"5\""], ["time.t_end_ns"]),
    "set-nan": (["time.t_end_ns=nan"], ["time.t_end_ns", "finite"]),
    "set-huge": (["time.max_steps=" + "9" * 400], ["time.max_steps"]),
    "set-5000-digits": (["time.max_steps=" + "9" * 5000], ["time.max_steps"]),
    "set-typo": (["time.t_ned_ns=3"], ["did you mean 't_end_ns'?"]),
    "set-section-typo": (["tiem.t_end_ns=3"], ["did you mean 'time'?"]),
    "set-no-dot": (["t_end_ns=3"], ["--set"]),
    "set-no-equals": (["time.t_end_ns"], ["--set"]),
    "set-bad-enum": (["time.method=rk5"], ["did you mean 'rk4'?"]),
    "set-into-value": (["time.t_end_ns.x=1"], ["time.t_end_ns.x"]),
    "set-geometry-sphere-no-radius": (["geometry.kind=sphere"], ["geometry.radius_um"]),
    "set-mesh-on-point": (["geometry.mesh=m.toml"], ["geometry.mesh", "point"]),
}


@pytest.mark.parametrize("cid", sorted(SET_CASES))
def test_malformed_override_is_one_line_exit_2(cid, tmp_path, capsys, monkeypatch):
    sets, fragments = SET_CASES[cid]
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "job.toml"
    job.write_text(dumps(POINT))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    args = ["run", job, "-o", tmp_path / "out.h5"] + [a for s in sets for a in ("--set", s)]
    assert_rejected(tmp_path, capsys, args, fragments, before)


# -- restart with --t-end before the checkpoint ------------------------------------------------
@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory):
    """One tiny 0-D run with checkpoints at 0.5 ns intervals up to t = 1 ns."""
    d = tmp_path_factory.mktemp("fuzz_ckpt")
    raw = with_value(POINT, "output.checkpoint_interval_ns", 0.5)
    raw["output"]["checkpoint_dir"] = str(d / "ckpts")
    job = d / "job.toml"
    job.write_text(dumps(raw))
    out = d / "run.h5"
    rc = cli.main(["run", str(job), "-o", str(out), "-q"])
    assert rc == 0
    ckpts = sorted((d / "ckpts").glob("ckpt_*.h5"))
    assert ckpts, list(d.iterdir())
    return d, out, ckpts[-1]


@pytest.mark.parametrize("t_end", ["0.5", "0.999", "0", "-1", "nan", "inf", "-inf", "1e-300"])
def test_restart_t_end_before_checkpoint(t_end, checkpointed, tmp_path, capsys, monkeypatch):
    d, _out, ckpt = checkpointed
    monkeypatch.chdir(tmp_path)
    stamp = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in d.rglob("*") if p.is_file()}
    new = tmp_path / "new.h5"
    for extra in ([], ["-o", new]):
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        line = assert_rejected(tmp_path, capsys, ["restart", ckpt, f"--t-end={t_end}"] + extra,
                               ["--t-end", "checkpoint's t = 1 ns"], before)
        assert line.startswith("boltzphlow: error: --t-end = ")
        assert not new.exists()
    # the run's own output file and checkpoints are untouched
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in d.rglob("*") if p.is_file()} == stamp
