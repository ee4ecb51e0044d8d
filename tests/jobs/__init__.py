"""The jobs of the tests, of validation/figures.py and of scripts/compare_outputs.py, and how
to launch the command line on them.

A job is a file here (``NAME.toml``; its leading comment block describes it and is not part of
the text) or a variant in ``VARIANTS`` (a job and the keys that differ). ``text`` gives the
TOML text with keys changed, ``table`` the same as a dict (for ``config.from_dict``),
``write`` puts it in a file::

    text("sphere", geometry__cells=8, gap__mode="self-consistent")
    table("steady", drive__0__power_W_per_um3=0.0)
    text("sphere", {"gap__mode": "self-consistent"}, time__t_end_ns=0.8)  # a dict of changes, then more

Keys are ``section__key`` (``drive__0__key``: a key of the first ``[[drive]]``); a key is
replaced in place, added at the end of its table, or added in a new table (placed in the order
of ``ORDER``); ``None`` removes a key (and a table it leaves empty). Everything else in the
text stays byte for byte, so a job without changes is the file itself.

Standard library only: scripts/compare_outputs.py reads it to run another tree's package,
and validation/figures.py without pytest.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent

# Where a new table goes among the others (the order of the job files here).
ORDER = ("material", "bath", "grid", "geometry", "transport", "collisions", "gap", "phonon_escape", "initial",
         "drive", "solve", "time", "output")

VARIANTS = {
    # the 0-D cascade of the conservation checks (tests/physics/test_physics.py::_run and the
    # "conservation" figure): phonons at 9 Delta_0, sub-gap escape in 0.1 ns
    "cascade": ("tiny", {"bath__temperature_over_tc": 0.15, "grid__energy_step_over_delta0": 0.125,
                         "initial__energy_center_over_delta0": 9.0, "phonon_escape__tau_ns": 0.1,
                         "phonon_escape__only_subgap": True}),
    # the transport checks (tests/parallel/test_radial.py and the diffusion and ballistic figures):
    # a larger, colder sphere with a short mean free path
    "sphere_transport": ("sphere", {"bath__temperature_over_tc": 0.1, "geometry__radius_um": 50.0,
                                    "geometry__cells": 50, "transport__qp_mean_free_path_um": 0.01,
                                    "initial__deposit_eV": 100.0, "time__t_end_ns": 1.0, "time__rtol": 1e-4,
                                    "time__output_interval_ns": 0.5}),
    # the steady job driven in time (tests/numerics/test_steady.py, tests/physics/test_efficiency.py)
    "driven": ("steady", {"solve__mode": None, "time__method": "exp", "time__rtol": 1e-6}),
    # the radial steady job driven in time (tests/numerics/test_steady_radial.py, tests/parallel/test_mpi.py)
    "driven_sphere": ("steady_sphere", {"solve__mode": None, "time__t_end_ns": 10.0, "time__method": "exp"}),
    # Al with the Eliashberg gap in the sphere (tests/parallel/test_mpi.py, tests/physics/test_eliashberg.py)
    "sphere_eliashberg": ("sphere", {"material__name": "Al", "grid__energy_step_over_delta0": 0.125,
                                     "gap__mode": "self-consistent", "gap__model": "eliashberg",
                                     "gap__cutoff_over_omega_max": 1.2, "gap__update_every": 2,
                                     "initial__species": "qp", "initial__energy_center_over_delta0": 3.0,
                                     "initial__deposit_eV": 2.0}),
}

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*\]\]?\s*(#.*)?$")


def names():
    """Every job: the files and the variants."""
    return sorted([p.stem for p in HERE.glob("*.toml")] + list(VARIANTS))


def text(name, *changes, **keys):
    """The TOML text of job ``name`` with the keys of the dicts ``changes``, then ``keys``,
    changed (see the module docstring)."""
    merged = {}
    for c in (*changes, keys):
        merged.update(c)
    if name in VARIANTS:
        base, variant = VARIANTS[name]
        return text(base, variant, merged)
    path = HERE / f"{name}.toml"
    if not path.is_file():
        raise KeyError(f"no job {name!r} in {HERE} (jobs: {', '.join(names())})")
    lines = path.read_text().split("\n")
    while lines and lines[0].startswith("#"):  # the description
        lines.pop(0)
    doc = "\n".join(lines)
    for dotted, value in merged.items():
        doc = _set(doc, dotted.split("__"), value)
    return doc


def table(name, *changes, **keys):
    """The job as a dict, as ``tomllib`` reads ``text(name, *changes, **keys)``."""
    return tomllib.loads(text(name, *changes, **keys))


def write(path, name, *changes, **keys):
    """Write ``text(name, *changes, **keys)`` to ``path``; returns the path."""
    path = pathlib.Path(path)
    path.write_text(text(name, *changes, **keys))
    return path


def toml_value(value):
    """A Python value as a TOML value (floats by repr: 0.1 stays 0.1)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, os.PathLike)):
        return json.dumps(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {value!r}")


def _tables(lines):
    """(start, end, name, index among the tables of that name) of every table."""
    heads = [(i, m.group(2)) for i, m in ((i, _HEADER.match(ln)) for i, ln in enumerate(lines)) if m]
    seen, out = {}, []
    for k, (i, sec) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        out.append((i, end, sec, seen.get(sec, 0)))
        seen[sec] = seen.get(sec, 0) + 1
    return out


def _is_key(line):
    s = line.strip()
    return bool(s) and not s.startswith("#")


def _set(doc, parts, value):
    if len(parts) == 2:
        sec, index, key = parts[0], 0, parts[1]
    elif len(parts) == 3 and parts[1].isdigit():
        sec, index, key = parts[0], int(parts[1]), parts[2]
    else:
        raise KeyError(f"{'__'.join(parts)}: expected section__key or section__I__key")
    lines = doc.split("\n")
    newline = lines[-1] == ""
    if newline:
        lines.pop()
    spaced = "\n\n[" in doc  # tables separated by blank lines
    found = [t for t in _tables(lines) if t[2] == sec and t[3] == index]
    if not found:
        if value is None:
            raise KeyError(f"{sec}.{key}: no [{sec}] to remove it from")
        if index or sec == "drive":
            raise KeyError(f"{'__'.join(parts)}: the job has no such [[{sec}]]")
        rank = ORDER.index(sec) if sec in ORDER else len(ORDER)
        later = [t[0] for t in _tables(lines) if (ORDER.index(t[2]) if t[2] in ORDER else len(ORDER)) > rank]
        new = [f"[{sec}]", f"{key} = {toml_value(value)}"]
        if later:
            lines[later[0]:later[0]] = new + ([""] if spaced else [])
        else:
            lines += ([""] if spaced else []) + new
        return "\n".join(lines) + ("\n" if newline else "")
    start, end = found[0][:2]
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    at = [i for i in range(start + 1, end) if pattern.match(lines[i])]
    if value is None:
        if not at:
            raise KeyError(f"{sec}.{key}: not in the job, nothing to remove")
        del lines[at[0]]
        end -= 1
        if not any(_is_key(ln) for ln in lines[start + 1:end]):
            del lines[start:end]  # the table is empty: it goes (with its blank lines)
            while lines and lines[-1] == "":
                lines.pop()
    elif at:
        lines[at[0]] = f"{key} = {toml_value(value)}"
    else:
        last = max([start] + [i for i in range(start + 1, end) if _is_key(lines[i])])
        lines.insert(last + 1, f"{key} = {toml_value(value)}")
    return "\n".join(lines) + ("\n" if newline else "")


# -- launching the command line (and mpirun) ----------------------------------------------
BIN_DIR = pathlib.Path(sys.executable).parent
if (BIN_DIR / "boltzphlow").exists():
    BOLTZPHLOW = [str(BIN_DIR / "boltzphlow")]
else:
    BOLTZPHLOW = [sys.executable, "-m", "boltzphlow_mpi.cli"]
MPIRUN = str(BIN_DIR / "mpirun") if (BIN_DIR / "mpirun").exists() else shutil.which("mpirun")

# Variables an MPI job (or an MPI singleton: this process may have initialised MPI already)
# leaves in the environment. A child launched with them tries to join the parent's job:
# mpirun fails at once, so they are dropped.
_KEEP = ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_MCA_btl", "OMPI_MCA_rmaps", "OMPI_MCA_mpi_yield", "OMPI_MCA_hwloc")


def launch_env():
    """This process's environment without what MPI left in it."""
    env = {}
    for k, v in os.environ.items():
        if k.startswith(("PMIX_", "ORTE_", "PRTE_")):
            continue
        if k.startswith("OMPI_") and not k.startswith(_KEEP):
            continue
        env[k] = v
    return env


def command(args, ranks=None, program=None):
    """The argv of ``boltzphlow ARGS`` (or of ``program ARGS``), under ``mpirun -n RANKS`` if given."""
    cmd = list(BOLTZPHLOW if program is None else program) + [str(a) for a in args]
    if ranks:
        if MPIRUN is None:
            raise FileNotFoundError("no mpirun next to the interpreter or on PATH")
        cmd = [MPIRUN, "-n", str(ranks)] + cmd
    return cmd


def launch(args, cwd, ranks=None, env=None, timeout=120, program=None):
    """Run ``command(args, ranks, program)`` in ``cwd`` (environment: ``launch_env()`` unless
    given); returns the CompletedProcess (text output captured)."""
    return subprocess.run(command(args, ranks, program), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=launch_env() if env is None else env, check=False)
