"""Faults: a kill -9 during a checkpoint write, non-physical states, the emergency
checkpoint. (Config fuzzing: test_fuzz.py; one-rank exceptions: test_cli.py / test_mpi.py.)"""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from boltzphlow_mpi import cli
from boltzphlow_mpi.physics.kinetics import CellKinetics

from helpers import REPO, fault_env

ROOT = str(REPO)
VENV = os.path.join(ROOT, ".venv", "bin")

SPHERE = """
[material]
name = "Sn"
[bath]
temperature_over_tc = 0.15
[grid]
energy_step_over_delta0 = 0.25
energy_max_over_delta0 = 8.0
[geometry]
kind = "sphere"
radius_um = 20.0
cells = 8
[transport]
qp_mean_free_path_um = 0.3
angles = 4
[gap]
mode = "self-consistent"
[initial]
species = "phonon"
energy_center_over_delta0 = 5.0
deposit_eV = 50.0
radius_width_um = 3.0
[time]
t_end_ns = 0.5
output_interval_ns = 0.1
rtol = 1e-3
[output]
checkpoint_interval_ns = 0.1
checkpoint_keep = 10
checkpoint_dir = "{ckdir}"
"""


def datasets(path):
    out = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def _mpirun(args, **kw):
    env = dict(kw.pop("env", os.environ))
    env.pop("OMPI_COMM_WORLD_SIZE", None)
    return subprocess.Popen([os.path.join(VENV, "mpirun"), "-n", "2", os.path.join(VENV, "boltzphlow")] + args,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, **kw)


@pytest.mark.skipif(not os.path.exists(os.path.join(VENV, "mpirun")), reason="needs the .venv mpirun wrapper")
def test_kill_during_checkpoint_write_keeps_previous_checkpoint_and_output(tmp_path):
    """``mpirun -n 2`` killed with SIGKILL while the checkpoint after record 4 is being
    written: the output file opens and holds the records flushed before the kill, the
    checkpoint after record 3 is intact, ``restart --latest`` picks it (skipping the
    half-written ``.tmp``) and reproduces the uninterrupted run bitwise."""
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    for d in (ref_dir, kill_dir):
        d.mkdir()
        (d / "job.toml").write_text(SPHERE.format(ckdir=d / "ck"))
    # the uninterrupted reference (2 ranks, like the killed run)
    ref = _mpirun(["run", str(ref_dir / "job.toml"), "-o", str(ref_dir / "out.h5"), "-q"])
    job = _mpirun(["run", str(kill_dir / "job.toml"), "-o", str(kill_dir / "out.h5"), "-q"],
                  env=fault_env("stall_checkpoint", FAULT_RECORDS="4"))
    marker = kill_dir / "ck" / "ckpt_000004.h5.tmp.stall"
    try:
        deadline = time.time() + 240
        while not marker.exists():
            assert job.poll() is None, job.stdout.read().decode()
            assert time.time() < deadline, "the run never reached the stalled checkpoint"
            time.sleep(0.2)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(timeout=30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert ref.wait(timeout=300) == 0, ref.stdout.read().decode()
    # the output file: readable, every record before the kill (t = 0 .. 0.3 ns)
    with h5py.File(kill_dir / "out.h5", "r") as h5:
        assert h5["time"].shape[0] >= 4
        assert np.allclose(h5["time"][:4], [0.0, 0.1, 0.2, 0.3])
        assert np.all(np.isfinite(h5["qp/f"][:4]))
    names = sorted(p.name for p in (kill_dir / "ck").iterdir())
    assert "ckpt_000004.h5" not in names and "ckpt_000004.h5.tmp" in names
    assert "ckpt_000003.h5" in names
    # restart from the newest complete checkpoint, on one rank (in process)
    assert cli.main(["restart", "--latest", str(kill_dir / "ck"), "-q"]) == 0
    a, b = datasets(ref_dir / "out.h5"), datasets(kill_dir / "out.h5")
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


POINT = """
[bath]
temperature_over_tc = 0.1
[grid]
energy_step_over_delta0 = 0.25
energy_max_over_delta0 = 10.0
[initial]
species = "qp"
energy_center_over_delta0 = 3.0
deposit_eV_per_um3 = 0.5
[time]
t_end_ns = 100.0
output_interval_ns = 20.0
{time}
[output]
checkpoint_dir = "{ckdir}"
"""


def _one_error_line(text, start):
    lines = [ln for ln in text.splitlines() if ln.startswith("boltzphlow:")]
    assert "Traceback" not in text
    return [ln for ln in lines if ln.startswith(start)]


def test_negative_occupation_with_fixed_step_stops_with_emergency_checkpoint(tmp_path, capsys):
    """Explicit Euler with a step far beyond its stability limit: the step that makes f < 0
    is not accepted; the run names the cell, energy and time, saves the last good state and
    exits 3; the emergency checkpoint restarts (here with a stable method)."""
    job = tmp_path / "job.toml"
    job.write_text(POINT.format(time='method = "euler"\ndt_ns = 20.0', ckdir=tmp_path / "ck"))
    assert cli.main(["run", str(job), "-o", str(tmp_path / "out.h5")]) == 3
    text = capsys.readouterr().out
    (err,) = _one_error_line(text, "boltzphlow: integration failed")
    assert "f[cell 0, E = " in err and "meV] = -" in err and "from t = 0 ns" in err
    (emergency,) = list((tmp_path / "ck").glob("emergency_*.h5"))
    with h5py.File(emergency, "r") as h5:
        assert h5.attrs["complete"] == 1 and h5.attrs["t"] == 0.0
        y = h5["state/y"][()]
        assert np.all(np.isfinite(y)) and y[:, :41].min() >= 0
    # the output file keeps the records written before the failure
    with h5py.File(tmp_path / "out.h5", "r") as h5:
        assert h5["time"].shape[0] == 1


def test_nan_in_one_cell_rejects_smaller_steps_then_stops(tmp_path, capsys, monkeypatch):
    """A NaN appears in the rates of cell 0 at one energy after t = 30 ns: the controller
    retries with smaller steps (bounded by max_rejects), then stops naming the cell and energy,
    writes the emergency checkpoint of the last good state and exits 3."""
    original = CellKinetics.split
    calls = {"n": 0}

    def poisoned(self, y, clip=True):
        G, K = original(self, y, clip)
        if poisoned.armed:
            calls["n"] += 1
            G = G.copy()
            G[0, 7] = np.nan
        return G, K

    poisoned.armed = False
    monkeypatch.setattr(CellKinetics, "split", poisoned)
    job = tmp_path / "job.toml"
    job.write_text(POINT.format(time='method = "exp"', ckdir=tmp_path / "ck"))
    from boltzphlow_mpi import hooks

    def arm(sim):
        if sim.t * sim.units.tau0_ns > 30.0:
            poisoned.armed = True

    hooks.register("before_step", arm)
    try:
        assert cli.main(["run", str(job), "-o", str(tmp_path / "out.h5"), "-q"]) == 3
    finally:
        hooks.clear()
    text = capsys.readouterr().out
    (err,) = _one_error_line(text, "boltzphlow: integration failed")
    assert ("step rejections in a row" in err or "step size underflow" in err)
    assert "last inadmissible try: f[cell 0, E = " in err and "nan" in err
    assert calls["n"] > 10  # it tried smaller steps first
    (emergency,) = list((tmp_path / "ck").glob("emergency_*.h5"))
    with h5py.File(emergency, "r") as h5:
        assert 30.0 < h5.attrs["t"] * 438.0 < 100.0  # t in tau_0 units; Al tau_0 = 438 ns
        assert np.all(np.isfinite(h5["state/y"][()]))
    monkeypatch.undo()  # the fault is gone: the emergency checkpoint continues the run
    assert cli.main(["restart", str(emergency), "-o", str(tmp_path / "again.h5"), "-q"]) == 0
    with h5py.File(tmp_path / "again.h5", "r") as h5:
        assert h5["time"][-1] == pytest.approx(100.0)
