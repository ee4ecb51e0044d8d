"""Config validation: defaults, one-line InputErrors, --set parsing, fuzzed bad configs."""
import copy
import math
import random
import tomllib

import pytest

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.config import REQUIRED, SCHEMA, from_dict, load, validate
from boltzphlow_mpi.app.overrides import parse_override
from boltzphlow_mpi.errors import InputError

import jobs
from helpers import REPO

# A small valid config (the tiny job): the fuzz mutates it, most tests change one key of it.
BASE = jobs.table("tiny")


def with_value(dotted, value, base=BASE):
    raw = copy.deepcopy(base)
    section, key = dotted.split(".")
    raw.setdefault(section, {})[key] = value
    return raw


def without(dotted, base=BASE):
    raw = copy.deepcopy(base)
    section, key = dotted.split(".")
    raw[section].pop(key)
    return raw


def config_error(raw, overrides=()):
    """The InputError that validating ``raw`` raises, checked to be one line."""
    with pytest.raises(InputError) as info:
        from_dict(raw, overrides)
    exc = info.value
    msg = str(exc)
    assert msg and "\n" not in msg and "\r" not in msg, f"error message is not one line: {msg!r}"
    assert msg == msg.strip()
    return exc


def assert_names(exc, key, value_repr, *expected_fragments):
    msg = str(exc)
    assert msg.startswith(f"{key} = {value_repr}: expected "), msg
    assert exc.key == key
    for frag in expected_fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"


# -- valid configs and defaults -----------------------------------------------------------
def test_base_config_is_valid_and_keeps_values():
    cfg = from_dict(BASE)
    assert cfg.time.t_end_ns == 5.0
    assert cfg.grid.energy_step_over_delta0 == 0.25
    assert cfg.initial.species == "phonon"
    assert cfg.bath.temperature_K is None


def test_defaults_fill_every_schema_key():
    minimal = {"bath": {"temperature_over_tc": 0.2}, "time": {"t_end_ns": 3.0}}
    cfg = from_dict(minimal)
    tables = cfg.as_dict()
    assert list(tables) == [*SCHEMA, "drive"] and cfg.drive == () and tables["drive"] == []
    for section, keys in SCHEMA.items():
        assert list(tables[section]) == list(keys), section
        for key, spec in keys.items():
            if (section, key) in (("bath", "temperature_over_tc"), ("time", "t_end_ns"), ("time", "method")):
                continue
            assert spec.default is not REQUIRED
            assert tables[section][key] == spec.default, f"{section}.{key}"
    # a few defaults the docs promise
    assert cfg.material.name == "Al"
    assert cfg.time.method == "bdf"  # 'auto' resolved: a point without a fixed step
    assert from_dict(minimal, ["time.dt_ns=0.01"]).time.method == "exp"
    fine = from_dict(minimal, ["grid.energy_step_over_delta0=0.01", "grid.energy_max_over_delta0=6.0"])
    assert fine.time.method == "exp"  # 601 energies: past the BDF's crossover
    assert from_dict(minimal, ["grid.energy_step_over_delta0=0.01", "grid.energy_max_over_delta0=5.99"]).time.method == "bdf"
    assert from_dict({**minimal, "geometry": {"kind": "sphere", "radius_um": 10.0, "cells": 4}}).time.method == "exp"
    assert cfg.time.rtol == 1e-4
    assert cfg.grid.energy_step_over_delta0 == 1 / 16
    assert cfg.grid.kernel == "fft"
    assert cfg.gap.mode == "fixed"
    assert cfg.geometry.kind == "point"
    assert cfg.time.output_interval_ns is None


def test_config_is_typed_and_frozen():
    """Sections are frozen dataclasses with the schema's keys as fields (a keyword key gets a
    trailing underscore), and ``as_dict`` gives the tables of ``validate`` back."""
    import dataclasses
    raw = copy.deepcopy(BASE)
    raw["gap"] = {"model": "eliashberg", "lambda": 0.43}
    raw["drive"] = [{"kind": "photon", "energy_over_delta0": 3.0, "power_W_per_um3": 1e-12}]
    cfg = from_dict(raw)
    assert cfg.gap.lambda_ == 0.43 and cfg.drive[0].kind == "photon"
    assert {f.name: f.type for f in dataclasses.fields(cfg.time)}["t_end_ns"] is float
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.time.t_end_ns = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.time = None
    assert cfg.as_dict() == validate(copy.deepcopy(raw))
    assert cfg.with_value("output", "path", "x.h5").output.path == "x.h5" and cfg.output.path == "out.h5"


def test_validation_does_not_modify_input():
    raw = copy.deepcopy(BASE)
    from_dict(raw, ["time.rtol=1e-3"])
    assert raw == BASE


def test_integer_for_float_key_becomes_float():
    cfg = from_dict(with_value("time.t_end_ns", 5))
    assert cfg.time.t_end_ns == 5.0 and type(cfg.time.t_end_ns) is float


def test_temperature_K_alone_is_valid():
    raw = copy.deepcopy(BASE)
    raw["bath"] = {"temperature_K": 0.12}
    cfg = from_dict(raw)
    assert cfg.bath.temperature_K == 0.12 and cfg.bath.temperature_over_tc is None


@pytest.mark.parametrize("job", sorted((REPO / "jobs").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_jobs_are_valid(job):
    cfg, text = load(job)
    assert text == job.read_text()
    assert cfg.time.t_end_ns > 0


# -- unknown keys and sections ------------------------------------------------------------
def test_unknown_key_typo_suggests_the_key():
    exc = config_error(with_value("time.t_end_n", 3.0))
    assert_names(exc, "time.t_end_n", "3.0", "known key of [time]", "did you mean 't_end_ns'?")


def test_unknown_key_without_close_match_has_no_suggestion():
    exc = config_error(with_value("grid.zzzzzz", 1))
    assert_names(exc, "grid.zzzzzz", "1", "known key of [grid]")
    assert "did you mean" not in str(exc)


def test_unknown_section_typo_suggests_the_section():
    raw = copy.deepcopy(BASE)
    raw["tmie"] = {"t_end_ns": 1.0}
    exc = config_error(raw)
    assert str(exc).startswith("[tmie] = ")
    assert "known section" in str(exc) and "did you mean 'time'?" in str(exc)


def test_section_that_is_not_a_table():
    raw = copy.deepcopy(BASE)
    raw["grid"] = 5
    exc = config_error(raw)
    assert_names(exc, "[grid]", "5", "a table of keys")


def test_top_level_not_a_table():
    with pytest.raises(InputError) as info:
        config.validate([1, 2])
    assert "\n" not in str(info.value) and "TOML table" in str(info.value)


# -- wrong types ---------------------------------------------------------------------------
@pytest.mark.parametrize("dotted, value, value_repr, expected", [
    ("time.t_end_ns", "5", "'5'", "a finite number > 0 (ns)"),
    ("time.t_end_ns", "five", "'five'", "a finite number > 0 (ns)"),
    ("time.t_end_ns", True, "True", "a finite number > 0 (ns)"),
    ("time.rtol", False, "False", "a finite number > 0 and < 1"),
    ("grid.energy_step_over_delta0", [0.25], "[0.25]", "a finite number"),
    ("bath.temperature_over_tc", {"v": 0.1}, "{'v': 0.1}", "a finite number > 0 and < 1 (T/T_c)"),
    ("time.max_steps", 10.0, "10.0", "an integer > 0"),
    ("time.max_steps", "10", "'10'", "an integer > 0"),
    ("time.max_steps", True, "True", "an integer > 0"),
    ("phonon_escape.only_subgap", 1, "1", "true or false"),
    ("phonon_escape.only_subgap", "true", "'true'", "true or false"),
    ("material.name", 13, "13", "a non-empty string"),
    ("material.name", "", "''", "a non-empty string"),
    ("output.path", 1.5, "1.5", "a non-empty string"),
    ("time.method", 4, "4", "one of 'auto', 'euler', 'rk4', 'tr1', 'tr2', 'exp', 'rosw', 'bdf', 'ts', 'arkimex'"),
    ("initial.species", None, "None", "one of 'qp', 'phonon'"),
])
def test_wrong_type(dotted, value, value_repr, expected):
    exc = config_error(with_value(dotted, value))
    assert_names(exc, dotted, value_repr, expected)
    assert exc.value == value or (isinstance(value, float) and math.isnan(value))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("dotted", ["time.t_end_ns", "initial.deposit_eV_per_um3", "grid.energy_max_over_delta0",
                                    "bath.temperature_over_tc", "phonon_escape.tau_ns"])
def test_non_finite_numbers(dotted, value):
    exc = config_error(with_value(dotted, value))
    assert_names(exc, dotted, repr(value), "a finite number")


@pytest.mark.parametrize("dotted", ["time.t_end_ns", "time.max_steps", "initial.deposit_eV_per_um3"])
@pytest.mark.parametrize("value", [10 ** 400, -(10 ** 309), 2 ** 1024], ids=["1e400", "-1e309", "2^1024"])
def test_huge_integer_is_an_input_error_not_an_overflow(dotted, value):
    # TOML integers can be arbitrarily long in tomllib; float() of these overflows
    exc = config_error(with_value(dotted, value))
    assert exc.key == dotted and ("a finite number" in str(exc) or "an integer" in str(exc))


# -- ranges --------------------------------------------------------------------------------
@pytest.mark.parametrize("dotted, value, expected", [
    ("time.t_end_ns", -1.0, "> 0 (ns)"),
    ("time.t_end_ns", 0.0, "> 0 (ns)"),                      # exclusive bound
    ("time.rtol", 1.0, "> 0 and < 1"),                       # exclusive upper bound
    ("time.rtol", -1e-3, "> 0 and < 1"),
    ("time.max_steps", 0, "an integer > 0"),
    ("time.max_steps", -5, "an integer > 0"),
    ("bath.temperature_over_tc", 1.0, "> 0 and < 1 (T/T_c)"),
    ("bath.temperature_over_tc", 1.5, "> 0 and < 1 (T/T_c)"),
    ("bath.temperature_over_tc", 0.0, "> 0 and < 1 (T/T_c)"),
    ("grid.energy_step_over_delta0", 1.5, "> 0 and <= 1 (Delta_0)"),
    ("grid.energy_max_over_delta0", 2.0, "> 2 and <= 2000 (Delta_0)"),
    ("grid.energy_max_over_delta0", 2000.5, "> 2 and <= 2000 (Delta_0)"),
    ("grid.dynes_gamma_over_delta0", -0.01, ">= 0 and < 1 (Delta_0)"),
    ("initial.deposit_eV_per_um3", -1e-3, ">= 0 (eV/um^3)"),
    ("initial.energy_width_over_delta0", 0.0, "> 0 (Delta_0)"),
    ("phonon_escape.tau_ns", -0.1, "> 0 (ns)"),
    ("material.tc_K", -1.2, "> 0 (K)"),
    ("output.progress_interval_s", -1.0, ">= 0 (s)"),
])
def test_out_of_range(dotted, value, expected):
    exc = config_error(with_value(dotted, value))
    assert_names(exc, dotted, repr(value), expected)


@pytest.mark.parametrize("dotted, value", [
    ("grid.energy_step_over_delta0", 1.0),       # inclusive upper bound
    ("grid.energy_max_over_delta0", 2000.0),     # inclusive upper bound
    ("grid.dynes_gamma_over_delta0", 0.0),       # inclusive lower bound
    ("initial.deposit_eV_per_um3", 0.0),
    ("output.progress_interval_s", 0.0),
    ("time.output_interval_ns", 5.0),            # == t_end is allowed
])
def test_inclusive_bounds_accepted(dotted, value):
    from_dict(with_value(dotted, value))


# -- enums ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dotted, value, suggestion", [
    ("time.method", "rk5", "rk4"),
    ("time.method", "exq", "exp"),
    ("grid.kernel", "fftt", "fft"),
    ("gap.mode", "selfconsistent", "self-consistent"),
    ("initial.species", "phonons", "phonon"),
    ("time.tr_mu", "globl", "global"),
])
def test_bad_enum_suggests(dotted, value, suggestion):
    exc = config_error(with_value(dotted, value))
    assert_names(exc, dotted, repr(value), "expected one of", f"did you mean '{suggestion}'?")


def test_bad_enum_without_close_match():
    exc = config_error(with_value("geometry.kind", "torus"))
    assert_names(exc, "geometry.kind", "'torus'", "one of 'point'")
    assert "did you mean" not in str(exc)


# -- required keys and cross checks ------------------------------------------------------
def test_missing_t_end_is_required():
    exc = config_error(without("time.t_end_ns"))
    assert_names(exc, "time.t_end_ns", "None", "(required)", "(ns)")


def test_missing_time_section():
    raw = copy.deepcopy(BASE)
    del raw["time"]
    exc = config_error(raw)
    assert exc.key == "time.t_end_ns"


def test_neither_temperature():
    raw = copy.deepcopy(BASE)
    raw["bath"] = {}
    exc = config_error(raw)
    assert_names(exc, "bath.temperature_over_tc", "None",
                 "exactly one of bath.temperature_over_tc and bath.temperature_K")


def test_both_temperatures():
    exc = config_error(with_value("bath.temperature_K", 0.1))
    assert_names(exc, "bath.temperature_over_tc", "0.1",
                 "exactly one of bath.temperature_over_tc and bath.temperature_K")


def test_packet_outside_grid():
    raw = with_value("initial.energy_center_over_delta0", 11.0)  # 11 + 3 * 0.5 > 12
    exc = config_error(raw)
    assert_names(exc, "initial.energy_center_over_delta0", "11.0", "inside the grid",
                 "grid.energy_max_over_delta0 = 12")


def test_packet_width_pushes_it_outside_grid():
    raw = with_value("initial.energy_width_over_delta0", 2.0)  # 8 + 3 * 2 > 12
    exc = config_error(raw)
    assert exc.key == "initial.energy_center_over_delta0" and "inside the grid" in str(exc)


def test_packet_touching_grid_top_is_allowed():
    from_dict(with_value("initial.energy_center_over_delta0", 10.5))  # 10.5 + 1.5 == 12


def test_too_many_energy_points():
    raw = with_value("grid.energy_step_over_delta0", 1e-4)
    raw["grid"]["energy_max_over_delta0"] = 100.0  # 1e6 points
    exc = config_error(raw)
    assert_names(exc, "grid.energy_step_over_delta0", "0.0001", "at most 200000 energy points")


@pytest.mark.parametrize("key", ["output_interval_ns", "dt_ns", "dt_initial_ns", "dt_max_ns"])
def test_time_intervals_longer_than_t_end(key):
    exc = config_error(with_value(f"time.{key}", 6.0))
    assert_names(exc, f"time.{key}", "6.0", "a value <= time.t_end_ns = 5")


# -- --set overrides ----------------------------------------------------------------------
@pytest.mark.parametrize("text, parsed", [
    ("time.rtol=1e-3", ("time", "rtol", 1e-3)),
    ("time.t_end_ns=7", ("time", "t_end_ns", 7)),
    (" time.rtol = 2e-4 ", ("time", "rtol", 2e-4)),
    ("material.name=Sn", ("material", "name", "Sn")),
    ('material.name="Nb"', ("material", "name", "Nb")),
    ("time.method=tr2", ("time", "method", "tr2")),
    ("phonon_escape.only_subgap=true", ("phonon_escape", "only_subgap", True)),
    ("output.path=out/a b.h5", ("output", "path", "out/a b.h5")),
    ("output.path=x=y.h5", ("output", "path", "x=y.h5")),
    ("time.t_end_ns=", ("time", "t_end_ns", "")),
])
def test_parse_override(text, parsed):
    section, key, value = parse_override(text)
    assert (section, key) == parsed[:2]
    assert value == parsed[2] and type(value) is type(parsed[2])


@pytest.mark.parametrize("text", ["time.rtol", "rtol=1e-3", "=3", "time=5", ""])
def test_malformed_override(text):
    with pytest.raises(InputError) as info:
        parse_override(text)
    assert str(info.value) == f"--set = {text!r}: expected section.key=value"


def test_override_applies_and_wins():
    cfg = from_dict(BASE, ["time.rtol=1e-3", "time.method=tr2", "time.t_end_ns=9", "material.name=Sn",
                           "phonon_escape.tau_ns=0.5"])
    assert cfg.time.rtol == 1e-3
    assert cfg.time.method == "tr2"
    assert cfg.time.t_end_ns == 9.0
    assert cfg.material.name == "Sn"
    assert cfg.phonon_escape.tau_ns == 0.5  # a section absent from the file


def test_later_override_wins():
    cfg = from_dict(BASE, ["time.rtol=1e-3", "time.rtol=2e-3"])
    assert cfg.time.rtol == 2e-3


@pytest.mark.parametrize("override, key, value_repr", [
    ("time.method=rk5", "time.method", "'rk5'"),
    ("time.rtol=fast", "time.rtol", "'fast'"),
    ("time.rtol=nan", "time.rtol", "nan"),
    ("time.rtol=inf", "time.rtol", "inf"),
    ("time.t_end_ns=5 ns", "time.t_end_ns", "'5 ns'"),
    ("time.t_end_n=5", "time.t_end_n", "5"),
    ("time.max_steps=1e3", "time.max_steps", "1000.0"),
    ("bath.temperature_over_tc=true", "bath.temperature_over_tc", "True"),
])
def test_bad_override_value(override, key, value_repr):
    exc = config_error(BASE, [override])
    assert_names(exc, key, value_repr)


def test_override_typo_suggests():
    exc = config_error(BASE, ["time.t_end_n=3"])
    assert "did you mean 't_end_ns'?" in str(exc)


def test_override_unknown_section_suggests():
    exc = config_error(BASE, ["tiem.rtol=1e-3"])
    assert str(exc).startswith("[tiem] = ") and "did you mean 'time'?" in str(exc)


def test_override_into_non_table():
    raw = copy.deepcopy(BASE)
    raw["grid"] = 3
    exc = config_error(raw, ["grid.kernel=fft"])
    assert exc.key == "[grid]" and "a table of keys" in str(exc)


# -- load ----------------------------------------------------------------------------------
# the tiny job without the keys that are at their defaults (the byte fuzz below mutates this text)
TOML_TEXT = jobs.text("tiny", material__name=None, initial__energy_width_over_delta0=None, time__method=None)


def test_load_returns_config_and_text(tmp_path):
    p = tmp_path / "job.toml"
    p.write_text(TOML_TEXT)
    cfg, text = load(p, ["time.rtol=1e-3"])
    assert text == TOML_TEXT
    assert cfg.time.rtol == 1e-3 and cfg.grid.energy_max_over_delta0 == 12.0


def load_error(path, overrides=()):
    with pytest.raises(InputError) as info:
        load(path, overrides)
    msg = str(info.value)
    assert "\n" not in msg, msg
    return info.value


def test_load_missing_file(tmp_path):
    exc = load_error(tmp_path / "nope.toml")
    assert exc.key == "CONFIG" and "nope.toml" in str(exc) and "readable" in str(exc)


def test_load_directory(tmp_path):
    exc = load_error(tmp_path)
    assert exc.key == "CONFIG"


def test_load_invalid_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[time]\nt_end_ns = = 5\n")
    exc = load_error(p)
    assert exc.key == "CONFIG" and "valid TOML" in str(exc)


def test_load_not_utf8(tmp_path):
    p = tmp_path / "latin1.toml"
    p.write_bytes(TOML_TEXT.encode() + "# caf\xe9\n".encode("latin-1"))
    exc = load_error(p)
    assert exc.key == "CONFIG"


def test_load_integer_too_long_for_python(tmp_path):
    p = tmp_path / "long.toml"
    p.write_text(TOML_TEXT + "max_steps = " + "1" * 5000 + "\n")
    exc = load_error(p)
    assert exc.key == "CONFIG"


def test_load_huge_integer(tmp_path):
    p = tmp_path / "huge.toml"
    p.write_text(TOML_TEXT.replace("t_end_ns = 5.0", "t_end_ns = 1" + "0" * 400))
    exc = load_error(p)
    assert exc.key == "time.t_end_ns"


def test_load_keeps_key_errors(tmp_path):
    p = tmp_path / "typo.toml"
    p.write_text(TOML_TEXT.replace("t_end_ns", "t_end_n"))
    exc = load_error(p)
    assert exc.key == "time.t_end_n" and "did you mean 't_end_ns'?" in str(exc)


# -- fuzz ------------------------------------------------------------------------------------
NUMERIC_KEYS = [(s, k) for s, keys in SCHEMA.items() for k, spec in keys.items() if spec.kind in (int, float)]
BOUNDED_ABOVE = [(s, k) for s, k in NUMERIC_KEYS if SCHEMA[s][k].hi is not None]
ALL_KEYS = [(s, k) for s, keys in SCHEMA.items() for k in keys]
WRONG_FOR = {
    float: ["1.0", "fast", True, False, [1.0], {"x": 1.0}, None],
    int: [1.5, 10.0, "10", True, [10], None],
    bool: [0, 1, "true", "yes", 1.0, None],
    str: [0, 1.5, True, ["Al"], {}, "", None],
}


def _wrong_type_value(rng, spec):
    if isinstance(spec.kind, tuple):
        return rng.choice([0, 1.5, True, None, ["exp"], "", "no-such-choice", spec.kind[0].upper() + "!"])
    return rng.choice(WRONG_FOR[spec.kind])


def _table(raw, section):
    """``raw[section]`` as a dict (replacing a non-table left by an earlier mutation)."""
    if not isinstance(raw.get(section), dict):
        raw[section] = {}
    return raw[section]


def _mutate(rng, raw):
    """Apply one mutation that makes ``raw`` invalid; return its description."""
    kind = rng.choice(["wrong_type", "missing_t_end", "nan", "inf", "huge", "huge_int", "negative",
                       "unknown_key", "unknown_section", "not_a_table", "both_temperatures",
                       "interval_too_long", "typo_key"])
    if kind == "wrong_type":
        s, k = rng.choice(ALL_KEYS)
        _table(raw, s)[k] = _wrong_type_value(rng, SCHEMA[s][k])
    elif kind == "missing_t_end":
        _table(raw, "time").pop("t_end_ns", None)
    elif kind in ("nan", "inf"):
        s, k = rng.choice(NUMERIC_KEYS)
        _table(raw, s)[k] = math.nan if kind == "nan" else rng.choice([math.inf, -math.inf])
    elif kind == "huge":
        s, k = rng.choice(BOUNDED_ABOVE)
        _table(raw, s)[k] = rng.choice([1e300, 1.7e308, 2.5e3, 10.0 ** rng.randint(4, 300)])
    elif kind == "huge_int":
        s, k = rng.choice(NUMERIC_KEYS)
        _table(raw, s)[k] = rng.choice([10 ** 309, -(10 ** 400), 2 ** 1100])
    elif kind == "negative":
        s, k = rng.choice(NUMERIC_KEYS)
        _table(raw, s)[k] = rng.choice([-1, -1e-9, -1.0, -1e300])
    elif kind == "unknown_key":
        s = rng.choice(list(SCHEMA))
        _table(raw, s)["".join(rng.choice("abcxyz_") for _ in range(rng.randint(1, 12))) + "_q"] = 1.0
    elif kind == "typo_key":
        s, k = rng.choice(ALL_KEYS)
        i = rng.randrange(len(k))
        _table(raw, s)[k[:i] + k[i + 1:] + "x"] = 1.0
    elif kind == "unknown_section":
        raw[rng.choice(["tme", "grids", "Time", "solver", ""])] = {"t_end_ns": 1.0}
    elif kind == "not_a_table":
        raw[rng.choice(list(SCHEMA))] = rng.choice([1, "x", [1, 2], 0.5])
    elif kind == "both_temperatures":
        bath = _table(raw, "bath")
        bath["temperature_K"] = rng.choice([0.1, 0.5, 2.0])
        bath.setdefault("temperature_over_tc", 0.1)
    elif kind == "interval_too_long":
        time = _table(raw, "time")
        time["t_end_ns"] = 5.0
        time[rng.choice(["output_interval_ns", "dt_ns", "dt_initial_ns", "dt_max_ns"])] = \
            5.0 * rng.choice([1.0001, 2.0, 1e6])
    return kind


def _fuzz_cases(n=200, seed=20240611):
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        raw = copy.deepcopy(BASE)
        kinds = [_mutate(rng, raw) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        cases.append(pytest.param(raw, id=f"{i:03d}-" + "+".join(kinds)))
    return cases


@pytest.mark.parametrize("raw", _fuzz_cases())
def test_fuzzed_config_raises_one_line_input_error(raw):
    try:
        from_dict(raw)
    except InputError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "\r" not in msg, msg
        assert ": expected " in msg, msg
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{type(exc).__name__} instead of InputError: {exc}")
    else:
        pytest.fail("invalid config accepted")


def _text_fuzz_cases(n=60, seed=7):
    rng = random.Random(seed)
    data = TOML_TEXT.encode()
    cases = []
    for i in range(n):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            op = rng.choice(["delete", "insert", "replace"])
            pos = rng.randrange(len(b))
            if op == "delete":
                del b[pos]
            else:
                byte = rng.choice(b"=[]\"'#.\n 0123456789e-+xnaif\xe9\xff\x00")
                if op == "insert":
                    b.insert(pos, byte)
                else:
                    b[pos] = byte
        cases.append(pytest.param(bytes(b), id=f"text{i:02d}"))
    return cases


@pytest.mark.parametrize("data", _text_fuzz_cases())
def test_fuzzed_toml_text_loads_or_raises_input_error(tmp_path, data):
    p = tmp_path / "fuzz.toml"
    p.write_bytes(data)
    try:
        cfg, _ = load(p)
    except InputError as exc:
        assert "\n" not in str(exc), str(exc)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{type(exc).__name__} instead of InputError: {exc}")
    else:
        assert cfg.time.t_end_ns > 0
        assert tomllib.loads(data.decode())  # it was valid TOML after all


def test_set_reaches_a_drive_table_by_its_index():
    """``--set drive.I.key=value`` sets a key of the I-th [[drive]] (as a sweep's --param);
    an index the job does not have is an error naming the item."""
    raw = jobs.table("driven")
    cfg = from_dict(raw, sets=["drive.0.power_W_per_um3=3e-18", "time.t_end_ns=2.0"])
    assert cfg.drive[0].power_W_per_um3 == 3e-18 and cfg.time.t_end_ns == 2.0
    with pytest.raises(InputError) as err:
        from_dict(raw, sets=["drive.5.power_W_per_um3=1e-18"])
    assert "drive.5.power_W_per_um3" in str(err.value) and "drive index below 1" in str(err.value)
