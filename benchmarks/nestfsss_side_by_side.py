"""Ours against the thin-film steady-state solver nestfsss on the cases of issue 14 that it
converges on, side by side in one run (serial; optional part of ``make bench``).

nestfsss (Guruswamy, Goldie and Withington, SuST 27, 055012 (2014); MATLAB, GPL-3) is not
part of the project and is never imported or copied: this script runs its own Octave driver
``run_case.m`` (in the nestfsss directory) in a scratch directory and reads the ``RESULT``
line it prints. The directory: ``--nestfsss DIR``, else ``$NESTFSSS_DIR``, else
``../shared/peers/nestfsss`` next to the repository. Without Octave or that directory the
result says why it was skipped, and ``make bench`` reports that instead of numbers.

Cases (``--cases``, default ``3:5,5:5,10:5``; photon energy in Delta_0 : tau_l / tau_pb):
nestfsss takes tau_l = k tau_pb with its own thermal tau_pb at 2 Delta, which on its default
grid (1.8 ueV bins) is the 0.2893 ns of ``benchmarks/steady_table.py``, so both solve the
same job (tests/jobs/nestfsss.toml, ours at ``--h`` Delta_0, default 1/32). Reported per
case: eta of each (ours also with nestfsss's averaged trapping correction,
``efficiency.averaged_trapping_efficiency``), N_qp (um^-3), Newton iterations (ours), wall
times (ours: the steady solve; nestfsss: its solve as it times it, and the whole Octave
process), and the ratio of the solve times.

    python benchmarks/nestfsss_side_by_side.py [--nestfsss DIR] [--cases 3:5,5:5,10:5] [--h 0.03125] [--json out.json]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from mpi4py import MPI  # noqa: F401  (MPI is initialised before the package's first use)
from steady_table import config, key, parse_cases

import boltzphlow_mpi as bp

import _common  # noqa: F401
from _common import ROOT, arg, dump

DEFAULT_CASES = "3:5,5:5,10:5"
#: the absorbed power of issue 14 in nestfsss's unit (W/m^3; ours is 2e-19 W/um^3)
POWER_W_PER_M3 = 0.2
RESULT = re.compile(r"^RESULT (.*)$", re.MULTILINE)


def nestfsss_dir():
    """The nestfsss directory to use, or None."""
    for path in (arg("--nestfsss", None, str), os.environ.get("NESTFSSS_DIR"),
                 os.path.join(os.path.dirname(ROOT), "shared", "peers", "nestfsss")):
        if path and os.path.isfile(os.path.join(path, "run_case.m")):
            return os.path.abspath(path)
    return None


def run_nestfsss(path, photon, k, timeout=1800):
    """One nestfsss steady state through its driver; its ``RESULT`` fields as a dict (numbers
    as floats) with the process wall time, or ``{"error": ...}``."""
    tag = f"c{photon:g}_{k:g}".replace(".", "p")
    scratch = tempfile.mkdtemp(prefix="bp_nestfsss_")
    cmd = ["octave", "--no-gui", "--quiet", "--eval",
           f"addpath('{path}'); run_case({photon:g}, {k:g}, {POWER_W_PER_M3:g}, '{tag}')"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"no result in {timeout} s"}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    wall = time.perf_counter() - t0
    found = RESULT.search(proc.stdout)
    if found is None:  # Octave 7 may exit non-zero after a clean run; only a missing line is an error
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:] or "no RESULT line"}
    fields = dict(item.split("=", 1) for item in found.group(1).split())
    out = {}
    for name, value in fields.items():
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value
    out["process_wall_s"] = wall
    return out


def run_ours(photon, k, h):
    """Our steady state of the same case: eta both ways, N_qp, iterations, wall (s)."""
    from boltzphlow_mpi.app import steady
    from boltzphlow_mpi.physics.analysis.efficiency import averaged_trapping_efficiency
    sim = bp.Simulation.from_dict(config(photon, k, h))
    t0 = time.perf_counter()
    res = steady.solve(sim)
    wall = time.perf_counter() - t0
    summary = sim.summary()
    averaged = averaged_trapping_efficiency(sim.model, res["y"], res["balance"]["absorbed"])
    return {"eta": summary["eta"], "eta_averaged": float(averaged[0]), "qp_number_per_um3": summary["cells"][0]["n_qp_per_um3"],
            "iterations": res["iterations"], "wall_s": wall, "energies": sim.grid.size}


def main():
    h = arg("--h", 0.03125)
    cases = parse_cases(arg("--cases", DEFAULT_CASES, str))
    path = nestfsss_dir()
    out = {"step_over_delta0": h, "power_W_per_m3": POWER_W_PER_M3, "cases": []}
    if shutil.which("octave") is None:
        out["skipped"] = "no octave on PATH (apt-get install -y octave)"
    elif path is None:
        out["skipped"] = "no nestfsss directory with run_case.m (--nestfsss DIR or NESTFSSS_DIR)"
    if "skipped" in out:
        print(f"[nestfsss] skipped: {out['skipped']}", file=sys.stderr, flush=True)
        dump(out)
        return
    out["nestfsss_dir"] = path
    run_ours(5, 5, 0.125)  # warm-up (numba's compiled loops, PETSc)
    for photon, k in cases:
        row = {"case": key(photon, k), "ours": run_ours(photon, k, h), "nestfsss": run_nestfsss(path, photon, k)}
        nest = row["nestfsss"]
        if "t_solve" in nest:
            row["solve_ratio_nestfsss_over_ours"] = nest["t_solve"] / row["ours"]["wall_s"]
        print(f"[nestfsss] {row['case']}: ours {row['ours']['wall_s']:.3g} s, nestfsss "
              f"{nest.get('t_solve', float('nan')):.3g} s", file=sys.stderr, flush=True)
        out["cases"].append(row)
    dump(out)


if __name__ == "__main__":
    import petsc4py
    petsc4py.init([])
    main()
