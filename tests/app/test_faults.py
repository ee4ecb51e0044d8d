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

from helpers import MPIRUN, command, datasets, fault_env, launch_env

# the sphere with a self-consistent gap, 8 cells, to 0.5 ns, a checkpoint after every record
SPHERE = {"geometry__cells": 8, "gap__mode": "self-consistent", "initial__energy_width_over_delta0": 0.5,
          "time__t_end_ns": 0.5, "output__checkpoint_interval_ns": 0.1, "output__checkpoint_keep": 10}


def _mpirun(args, env=None):
    return subprocess.Popen(command(args, ranks=2), env=env or launch_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.skipif(MPIRUN is None, reason="no mpirun (run `make setup`)")
def test_kill_during_checkpoint_write_keeps_previous_checkpoint_and_output(tmp_path, job):
    """``mpirun -n 2`` killed with SIGKILL while the checkpoint after record 4 is being
    written: the output file opens and holds the records flushed before the kill, the
    checkpoint after record 3 is intact, ``restart --latest`` picks it (skipping the
    half-written ``.tmp``) and reproduces the uninterrupted run bitwise."""
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    for d in (ref_dir, kill_dir):
        d.mkdir()
        job("sphere", SPHERE, file=f"{d.name}/job.toml", output__checkpoint_dir=d / "ck")
    # the uninterrupted reference (2 ranks, like the killed run)
    ref = _mpirun(["run", str(ref_dir / "job.toml"), "-o", str(ref_dir / "out.h5"), "-q"])
    killed = _mpirun(["run", str(kill_dir / "job.toml"), "-o", str(kill_dir / "out.h5"), "-q"],
                     env=fault_env("stall_checkpoint", FAULT_RECORDS="4"))
    marker = kill_dir / "ck" / "ckpt_000004.h5.tmp.stall"
    try:
        deadline = time.time() + 240
        while not marker.exists():
            assert killed.poll() is None, killed.stdout.read().decode()
            assert time.time() < deadline, "the run never reached the stalled checkpoint"
            time.sleep(0.2)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        if killed.poll() is None:
            os.killpg(killed.pid, signal.SIGKILL)
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


# the tiny job with QPs at 3 Delta_0, to 100 ns
POINT = {"grid__energy_max_over_delta0": 10.0, "initial__species": "qp", "initial__energy_center_over_delta0": 3.0,
         "initial__deposit_eV_per_um3": 0.5, "time__t_end_ns": 100.0, "time__output_interval_ns": 20.0}


def _one_error_line(text, start):
    lines = [ln for ln in text.splitlines() if ln.startswith("boltzphlow:")]
    assert "Traceback" not in text
    return [ln for ln in lines if ln.startswith(start)]


def test_negative_occupation_with_fixed_step_stops_with_emergency_checkpoint(tmp_path, capsys, job, run):
    """Explicit Euler with a step far beyond its stability limit: the step that makes f < 0
    is not accepted; the run names the cell, energy and time, saves the last good state and
    exits 3; the emergency checkpoint restarts (here with a stable method)."""
    path = job("tiny", POINT, file="job.toml", time__method="euler", time__dt_ns=20.0,
               output__checkpoint_dir=tmp_path / "ck")
    run(path, "out.h5", code=3, quiet=False)
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


def test_nan_in_one_cell_rejects_smaller_steps_then_stops(tmp_path, capsys, monkeypatch, job, run):
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
    path = job("tiny", POINT, file="job.toml", output__checkpoint_dir=tmp_path / "ck")
    from boltzphlow_mpi import hooks

    def arm(sim):
        if sim.t * sim.units.tau0_ns > 30.0:
            poisoned.armed = True

    hooks.register("before_step", arm)
    try:
        run(path, "out.h5", code=3)
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
