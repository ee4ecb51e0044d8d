"""E2 of issue 13: a sphere event to its end, `jobs/sn_event_1us.toml` (2 keV of phonons in
a tin sphere, exp with implicit phonon streaming) to 1 us, run under mpirun (2 ranks in
`make bench`), the same event with `rosw`, and the methods against each other over one fixed
window, in one run.

1. The job to ``--t-end`` ns (1000): wall time, steps, N_qp and the energy out through R at
   every record, with a checkpoint at ``--window-start`` ns (50); then the same with
   ``time.method = "rosw"`` (the stiff Rosenbrock-W).
2. From that checkpoint, ``--window`` ns (5) of the same event with the `exp` stepper and
   the explicit SSP-RK2 phonon streaming (the settings of `jobs/sn_bubble.toml`), with the
   job's own settings, with `rosw` and with `ts` (PETSc TS rosw ra34pw2), both with implicit
   streaming: wall time of each, the ratios to the job's.
3. With ``--reference FILE`` (the same event at a tighter ``time.rtol``: its output file, or
   ``benchmarks/data/sn_event_1us_reference.json`` made from one by ``--write-reference``):
   the largest difference of the excess N_qp and of the energy out through R over the
   common records, relative to the largest value of each, for both whole runs.

    mpirun -n 2 python benchmarks/sphere_e2.py [--t-end 1000] [--window-start 50] [--window 5]
        [--reference benchmarks/data/sn_event_1us_reference.json] --json out.json
    python benchmarks/sphere_e2.py --write-reference REF.h5 DEST.json "command that made REF.h5"
"""
import json
import os
import sys
import tempfile
import time

from mpi4py import MPI

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.fileio import checkpoint
from boltzphlow_mpi.parallel.comm import Parallel

import _common
from _common import arg, dump

JOB = os.path.join(_common.ROOT, "jobs", "sn_event_1us.toml")
STIFF = {"method": "rosw", "phonon_time": "implicit"}  # the stiff one-step method with the job's streaming
#: the settings of each window: today's (jobs/sn_bubble.toml: exp, explicit SSP-RK2 streaming),
#: the job's (exp, implicit streaming), rosw and PETSc TS (rosw ra34pw2) with implicit streaming
WINDOWS = {"today": {"method": "exp", "phonon_time": "explicit"}, "job": {}, "rosw": STIFF,
           "petsc_ts": {"method": "ts", "phonon_time": "implicit"}}


def _timed(sim, output):
    MPI.COMM_WORLD.barrier()
    t0 = time.perf_counter()
    sim.run(output=output)
    MPI.COMM_WORLD.barrier()
    return time.perf_counter() - t0


def full_run(tmp, t_end, window_start, method=None, name="e2"):
    """The job to ``t_end`` (with ``time.method = method`` if given), checkpoints every
    ``window_start`` ns in ``tmp/ck_<name>``: ``(sim, rows by t_ns, wall s)``."""
    over = {"time.t_end_ns": t_end, "output.checkpoint_interval_ns": window_start,
            "output.checkpoint_dir": os.path.join(tmp, f"ck_{name}"), "output.checkpoint_keep": 1000}
    if method:
        over["time.method"] = method
    sim = Simulation.from_toml(JOB, overrides=over)
    rows = {}
    sim.add_handler(lambda s, tot, first: rows.__setitem__(round(s.t_ns, 6), s.record(tot)))
    wall = _timed(sim, os.path.join(tmp, f"{name}.h5"))
    return sim, rows, wall


def summary(sim, rows, wall, t_end, reference):
    """Wall time, steps, ledger and, against ``reference``, the errors of a whole run."""
    out = {"method": sim.cfg.time.method, "phonon_time": sim.cfg.transport.phonon_time, "t_end_ns": t_end,
           "wall_s": wall, "steps": sim.steps, "rejected": sim.integrator.controller.rejected,
           "max_abs_ledger_error": max(abs(r["energy_ledger_error"]) for r in rows.values()),
           "final": {k: rows[max(rows)][k] for k in ("qp_number", "qp_number_excess", "energy_out")}}
    if reference:
        out["reference"] = {"path": os.path.relpath(reference, _common.ROOT), **compare(rows, reference)}
    return out


def window(ckpt, window_ns, method=None, phonon_time=None):
    """``window_ns`` from checkpoint ``ckpt``, with the stepper changed if given (benchmark
    only: a restart from the command line keeps the checkpoint's stepper)."""
    par = Parallel(MPI.COMM_WORLD)
    meta = checkpoint.read_meta(ckpt, par)
    raw = meta["config"]
    if method:
        raw["time"]["method"] = method
        raw["transport"]["phonon_time"] = phonon_time
    sim = Simulation(config.revalidate(raw), par)
    sim.restore(meta, *checkpoint.read_state(ckpt, par, sim.cell_range))
    t0_ns, steps0 = sim.t_ns, sim.steps
    MPI.COMM_WORLD.barrier()
    t0 = time.perf_counter()
    sim.advance_to((t0_ns + window_ns) / sim.units.tau0_ns)
    MPI.COMM_WORLD.barrier()
    return {"wall_s": time.perf_counter() - t0, "steps": sim.steps - steps0, "t0_ns": t0_ns, "t1_ns": sim.t_ns,
            "method": sim.cfg.time.method, "phonon_time": sim.cfg.transport.phonon_time}


def reference_series(path):
    """``{t_ns: (N_qp excess, energy out)}`` of a reference: an output file of the job
    (``.h5``) or the JSON that ``--write-reference`` made from one."""
    if path.endswith(".json"):
        with open(path) as fh:
            d = json.load(fh)
        return {round(t, 6): (n, e) for t, n, e in zip(d["time_ns"], d["qp_number_excess"], d["energy_out_eV"], strict=True)}
    import h5py
    with h5py.File(path, "r") as h:
        return {round(float(t), 6): (float(n), float(e)) for t, n, e in
                zip(h["time"][()], h["diagnostics/qp_number_excess"][()], h["diagnostics/energy_out"][()], strict=True)}


def compare(rows, reference):
    ref = reference_series(reference)
    common = sorted(set(ref) & set(rows))
    scale_n = max(abs(ref[t][0]) for t in common)
    scale_e = max(abs(ref[t][1]) for t in common)
    return {"records": len(common),
            "max_rel_error_qp_number_excess": max(abs(rows[t]["qp_number_excess"] - ref[t][0]) for t in common) / scale_n,
            "max_rel_error_energy_out": max(abs(rows[t]["energy_out"] - ref[t][1]) for t in common) / scale_e}


def write_reference(src, dest, command):
    """The records of the output file ``src`` as the JSON reference ``dest``."""
    series = reference_series(src)
    t = sorted(series)
    with open(dest, "w") as fh:
        json.dump({"command": command, "time_ns": t, "qp_number_excess": [series[x][0] for x in t],
                   "energy_out_eV": [series[x][1] for x in t]}, fh, indent=1)


def main():
    argv = sys.argv[1:]
    if "--write-reference" in argv:  # SRC.h5 DEST.json "the command that made SRC"
        i = argv.index("--write-reference")
        return write_reference(argv[i + 1], argv[i + 2], argv[i + 3])
    t_end, start, width = arg("--t-end", 1000.0), arg("--window-start", 50.0), arg("--window", 5.0)
    reference = arg("--reference", None, str)
    tmp = tempfile.mkdtemp(prefix="bp_e2_") if MPI.COMM_WORLD.rank == 0 else None
    tmp = MPI.COMM_WORLD.bcast(tmp, root=0)
    sim, rows, wall = full_run(tmp, t_end, start)
    out = {"ranks": MPI.COMM_WORLD.size, **summary(sim, rows, wall, t_end, reference)}
    stiff = full_run(tmp, t_end, start, STIFF["method"], "stiff")
    out["stiff"] = summary(*stiff, t_end, reference)
    out["ratio_stiff_over_job"] = out["stiff"]["wall_s"] / out["wall_s"]
    ck = min(os.listdir(os.path.join(tmp, "ck_e2")))  # the first checkpoint: t = window start
    ckpt = os.path.join(tmp, "ck_e2", ck)
    out["window"] = {key: window(ckpt, width, **settings) for key, settings in WINDOWS.items()}
    for key in WINDOWS:
        if key != "job":
            out["window"][f"ratio_{key}_over_job"] = out["window"][key]["wall_s"] / out["window"]["job"]["wall_s"]
    if MPI.COMM_WORLD.rank == 0:
        dump(out)


if __name__ == "__main__":
    sys.exit(main())
