"""The steady-state table of issue 14 at production resolution, new solver against old, in one run
(serial).

Problem (the nestfsss constants of issue 14, tests/jobs/nestfsss.toml, ``config``): 0-D Al, bath 0.1 T_c, fixed BCS
gap, h = Delta_0/32 (``--h`` 0.03125), E_max = 12 Delta_0, a photon drive of 2e-19 W/um^3,
every phonon mode escaping with tau_l = k tau_pb (tau_pb = 1.44639825/5 ns). Cases
(photon energy in Delta_0, k): ``CASES``. Each case: a ``Simulation`` from the config dict,
then the steady solve as ``boltzphlow run`` does it (``app.steady.solve``) and eta as it
prints it (``sim.summary()["eta"]``, i.e. ``geometry.efficiency`` of the absorbed power).

* new solver: ``SteadyProblem.jacobian`` (structured, analytic) and the globalization of
  ``steady_point._newton_exact`` (full Newton steps, line search ``basic``, then ``bt``);
* old solver (``old_solver``): ``SteadyProblem.jacobian_fd`` (finite differences) and the
  line search ``bt`` throughout (PETSc option ``-steady_snes_linesearch_type bt``), on the
  cases of ``--old`` (default ``5:5,10:50``; ``--old none`` skips it). A failure (a
  ``SolverError``) is recorded, not raised.

Reported per case and solver: wall time of the steady solve alone and including building the
``Simulation``, Newton iterations, the line search that ended it (``"options"``: the one the
options database chose, ``bt`` for the old solver), eta, max |ln(G/Ky)|, and the power
balance |escaped / absorbed - 1|. A
warm-up solve on a coarse grid first (numba's cached loops are loaded there, not in the first
case). ``ISSUE_OLD``: the old solver's numbers as published in issue 14 (a loaded machine,
not this run; its eta is of the photon drive before issue 14 corrected the pair-creation
coherence factor, docs/physics.md, "Drives": 0.5689 there is 0.5628 now at 5 Delta_0).

    python benchmarks/steady_table.py [--h 0.03125] [--old 5:5,10:50] [--json out.json]
"""
import contextlib
import os
import sys
import time

from mpi4py import MPI  # noqa: F401  (MPI is initialised before the package's first use)

import boltzphlow_mpi as bp
from boltzphlow_mpi.errors import SolverError

import _common  # noqa: F401
from _common import ROOT, arg, dump

sys.path.insert(0, os.path.join(ROOT, "tests"))  # the jobs of the tests (tests/jobs)
import jobs

#: tau_l = k tau_pb; phonon_escape.tau_ns = 1.44639825 ns is 5 tau_pb
TAU_PB_NS = 1.44639825 / 5
#: (photon energy / Delta_0, tau_l / tau_pb)
CASES = ((3, 5), (5, 5), (10, 5), (3, 50), (5, 50), (10, 50), (5, 1e4), (10, 1e4), (5, 1e6))
OLD_DEFAULT = "5:5,10:50"
#: the old solver (jacobian_fd + bt) at h = Delta_0/32 as published in issue 14
ISSUE_OLD = {
    "label": "issue 14 text, loaded machine, not this run, eta with the photon weight w_+ of before the fix",
    "cases": {"3:5": {"eta": 0.6667, "iterations": 30, "wall_s": 170},
              "5:5": {"eta": 0.5689, "iterations": 13, "wall_s": 69},
              "10:5": {"eta": 0.5406, "iterations": 9, "wall_s": 45},
              "3:50": {"eta": 0.6665, "iterations": 37, "wall_s": 261},
              "5:50": {"eta": 0.5945, "iterations": 12, "wall_s": 78},
              "10:50": {"eta": 0.5873, "iterations": 11, "wall_s": 76},
              "5:1e4": {"eta": 0.3995, "iterations": 67, "wall_s": 383},
              "10:1e4": {"note": "converged", "wall_s": 254},
              "5:1e6": {"note": "fails after 100 iterations", "iterations": 100, "wall_s": 462}}}


def key(photon, k):
    """``"5:50"``, ``"5:1e4"``: the case's label (photon energy : tau_l / tau_pb)."""
    tail = f"{k:.0e}".replace("e+0", "e").replace("e+", "e") if k >= 1e4 else f"{k:g}"
    return f"{photon:g}:{tail}"


def config(photon, k, h):
    """The job of issue 14 (tests/jobs/nestfsss.toml, nestfsss constants) for photons at
    ``photon`` Delta_0 and tau_l = ``k`` tau_pb, energy step ``h`` Delta_0."""
    return jobs.table("nestfsss", drive__0__energy_over_delta0=float(photon), phonon_escape__tau_ns=k * TAU_PB_NS,
                      grid__energy_step_over_delta0=h)


@contextlib.contextmanager
def old_solver():
    """The solver before issue 14's change: the Jacobian by finite differences
    (``SteadyProblem.jacobian_fd``) and the backtracking line search for every Newton step
    (``-steady_snes_linesearch_type bt``). Both are restored afterwards."""
    from petsc4py import PETSc

    from boltzphlow_mpi.numerics.steady_point import SteadyProblem
    opts, name = PETSc.Options(), "steady_snes_linesearch_type"
    saved_jac = SteadyProblem.__dict__["jacobian"]
    saved_opt = opts.getString(name) if opts.hasName(name) else None
    SteadyProblem.jacobian = SteadyProblem.jacobian_fd
    opts.setValue(name, "bt")
    try:
        yield
    finally:
        SteadyProblem.jacobian = saved_jac
        if saved_opt is None:
            opts.delValue(name)
        else:
            opts.setValue(name, saved_opt)


def solve_case(photon, k, h):
    """One steady solve as ``boltzphlow run`` does it; a ``SolverError`` is recorded."""
    from boltzphlow_mpi.app import steady
    t0 = time.perf_counter()
    sim = bp.Simulation.from_dict(config(photon, k, h))
    t1 = time.perf_counter()
    row = {"photon_over_delta0": photon, "tau_l_over_tau_pb": k, "tau_esc_ns": k * TAU_PB_NS,
           "energies": sim.grid.size}
    try:
        res = steady.solve(sim)
    except SolverError as exc:
        t2 = time.perf_counter()
        row.update(converged=False, error=str(exc), wall_s=t2 - t1, total_wall_s=t2 - t0)
        return row
    t2 = time.perf_counter()
    summary = sim.summary()
    row.update(converged=True, wall_s=t2 - t1, total_wall_s=t2 - t0, iterations=res["iterations"],
               line_search=res["line_search"], eta=summary["eta"], max_abs_log_balance=res["max_relative_residual"],
               power_balance=summary["balance"])
    return row


def parse_cases(text):
    if text.strip().lower() in ("", "none"):
        return []
    return [tuple(float(v) for v in item.split(":")) for item in text.split(",")]


def main():
    h = arg("--h", 0.03125)
    old_cases = parse_cases(arg("--old", OLD_DEFAULT, str))
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    solve_case(5, 5, 0.125)  # warm-up (numba's compiled loops, PETSc)
    from boltzphlow_mpi.numerics.steady_point import FULL_STEP_ITERATIONS
    out = {"step_over_delta0": h, "energy_max_over_delta0": 12.0, "tau_pb_ns": TAU_PB_NS,
           "full_step_iterations": FULL_STEP_ITERATIONS,
           "power_W_per_um3": 2.0e-19, "bath_over_tc": 0.1, "warmup_s": time.perf_counter() - t0,
           "cases": [], "issue_old": ISSUE_OLD}
    for photon, k in CASES:
        row = {"case": key(photon, k), "new": solve_case(photon, k, h)}
        print(f"[steady_table] {row['case']} new: {row['new'].get('wall_s', 0):.3g} s", file=sys.stderr, flush=True)
        out["cases"].append(row)
    by_key = {row["case"]: row for row in out["cases"]}
    for photon, k in old_cases:
        with old_solver():
            old = solve_case(photon, k, h)
        print(f"[steady_table] {key(photon, k)} old: {old['wall_s']:.3g} s", file=sys.stderr, flush=True)
        row = by_key.get(key(photon, k))
        if row is None:
            row = {"case": key(photon, k)}
            out["cases"].append(row)
            by_key[row["case"]] = row
        row["old"] = dict(old, solver="jacobian_fd + bt")
        if "new" in row and row["new"]["converged"] and old["converged"]:
            row["wall_ratio_old_over_new"] = old["wall_s"] / row["new"]["wall_s"]
            row["eta_diff_old_minus_new"] = old["eta"] - row["new"]["eta"]
    out["old_cases"] = [key(p, k) for p, k in old_cases]
    out["total_wall_s"] = time.perf_counter() - t_start
    dump(out)


if __name__ == "__main__":
    import petsc4py
    petsc4py.init([])
    main()
