"""Changes to a job's tables before validation: ``--set section.key=value`` items, the
Python API's ``overrides={"section.key": value}`` and a sweep's ``--param`` (``set_key``);
docs/config.md, "Overriding keys from the command line"."""
import copy
import tomllib

from boltzphlow_mpi.errors import InputError


def parse_override(text):
    """``section.key=value`` -> (section, key, value); value parsed as TOML, else a string."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise InputError("--set", text, "section.key=value")
    lhs, rhs = text.split("=", 1)
    section, key = lhs.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {rhs.strip()}")["v"]
    except ValueError:  # TOMLDecodeError, or an integer too long to convert
        value = rhs.strip()
    return section, key, value


def with_overrides(raw, overrides=None):
    """A copy of ``raw`` with ``{key: value}`` set, ``key`` as in ``set_key`` (the Python
    API's ``--set``)."""
    for key, value in (overrides or {}).items():
        raw = set_key(raw, key, value, name="overrides")
    return raw


def set_key(raw, key, value, name="--set"):
    """A copy of the raw config with ``key`` set: ``section.key``, ``drive.I.key`` (a key
    of the I-th ``[[drive]]``) or ``drive`` (all of them). ``name`` names the input in
    errors (``--param`` for a sweep)."""
    raw = copy.deepcopy(raw)
    parts = str(key).split(".")
    if parts == ["drive"]:
        raw["drive"] = value
        return raw
    if parts[0] == "drive":
        if len(parts) != 3 or not parts[1].isdigit():
            raise InputError(name, key, "drive.I.key (e.g. drive.0.power_W_per_um3)")
        drives = raw.get("drive", [])
        i = int(parts[1])
        if i >= len(drives):
            raise InputError(name, key, f"a drive index below {len(drives)} (the job's [[drive]] tables)")
        drives[i][parts[2]] = value
        return raw
    if len(parts) != 2 or not all(parts):
        raise InputError(name, key, "section.key (e.g. time.t_end_ns or bath.temperature_over_tc) or drive.I.key")
    if not isinstance(raw.setdefault(parts[0], {}), dict):
        raise InputError(f"[{parts[0]}]", raw[parts[0]], "a table of keys")
    raw[parts[0]][parts[1]] = value
    return raw
