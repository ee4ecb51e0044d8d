"""Checkpoints and restart (serial; the rank-count change is in test_mpi.py)."""
import shutil

import h5py
import numpy as np
import pytest

from boltzphlow_mpi import cli

from helpers import datasets, write_job

# the sphere with a self-consistent gap, 12 cells, to 0.6 ns, checkpoints every 0.2 ns, two kept
SPHERE = {"geometry__cells": 12, "gap__mode": "self-consistent", "initial__energy_width_over_delta0": 0.5,
          "time__t_end_ns": 0.6, "output__checkpoint_interval_ns": 0.2, "output__checkpoint_keep": 2}


@pytest.fixture
def finished_run(tmp_path, job, run):
    ck = tmp_path / "ck"
    out = run(job("sphere", SPHERE, file="job.toml", output__checkpoint_dir=ck), "run.h5")
    return tmp_path, out, ck


def test_checkpoints_are_written_and_pruned(finished_run):
    _, _, ck = finished_run
    names = sorted(p.name for p in ck.iterdir())
    assert names == ["ckpt_000005.h5", "ckpt_000007.h5"]  # keep = 2; records 5 (t=0.4), 7 (t=0.6)
    with h5py.File(ck / names[0], "r") as h5:
        assert h5.attrs["complete"] == 1 and h5.attrs["kind"] == "boltzphlow-checkpoint"
        assert h5["state/y"].shape[0] == 12
        assert h5.attrs["t"] > 0 and h5.attrs["dt"] > 0


def test_restart_continues_bitwise(finished_run):
    tmp, out, ck = finished_run
    reference = datasets(out)
    copy = tmp / "copy.h5"
    shutil.copy(out, copy)
    # continue the run's own file from t = 0.4 ns (records after it are replaced)
    assert cli.main(["restart", str(ck / "ckpt_000005.h5"), "-q"]) == 0
    again = datasets(out)
    assert reference.keys() == again.keys()
    for k in reference:
        assert np.array_equal(reference[k], again[k]), k


def test_restart_to_new_file_and_later_end(finished_run):
    tmp, out, ck = finished_run
    new = tmp / "more.h5"
    assert cli.main(["restart", str(ck / "ckpt_000007.h5"), "--t-end", "0.8", "-o", str(new), "-q"]) == 0
    d = datasets(new)
    assert np.allclose(d["time"], [0.6, 0.7, 0.8])
    ref = datasets(out)
    assert np.array_equal(d["qp/f"][0], ref["qp/f"][-1])  # the restart state opens the file


def test_restart_bad_input(finished_run, capsys):
    tmp, _out, ck = finished_run
    capsys.readouterr()
    assert cli.main(["restart", str(ck / "ckpt_000007.h5"), "--t-end", "0.1"]) == 2
    assert "--t-end" in capsys.readouterr().out
    junk = tmp / "junk.h5"
    junk.write_bytes(b"not hdf5")
    assert cli.main(["restart", str(junk)]) == 2
    assert "CHECKPOINT" in capsys.readouterr().out
    # a truncated (half-written) checkpoint is refused too
    part = tmp / "partial.h5"
    part.write_bytes((ck / "ckpt_000007.h5").read_bytes()[:2000])
    assert cli.main(["restart", str(part)]) == 2


def test_restart_latest_skips_a_corrupt_newest_checkpoint(finished_run, capsys):
    tmp, out, ck = finished_run
    reference = datasets(out)
    newest = ck / "ckpt_000007.h5"
    newest.write_bytes(newest.read_bytes()[:3000])  # damaged
    capsys.readouterr()
    assert cli.main(["restart", "--latest", str(ck), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "skipping checkpoint" in printed and "ckpt_000007.h5" in printed
    assert "restart from" in printed and "ckpt_000005.h5" in printed
    again = datasets(out)
    for k in reference:
        assert np.array_equal(reference[k], again[k]), k
    assert cli.main(["restart", "--latest", str(tmp / "nowhere")]) == 2


def test_inspect_output_and_checkpoint(finished_run, capsys):
    tmp, out, ck = finished_run
    capsys.readouterr()
    assert cli.main(["inspect", str(out), "--config"]) == 0
    text = capsys.readouterr().out
    assert "7 records, t = 0 .. 0.6 ns" in text and "radial mesh: 12 cells, R = 20 um" in text
    assert "/qp/f" in text and "[geometry]" in text
    assert cli.main(["inspect", str(ck / "ckpt_000007.h5")]) == 0
    text = capsys.readouterr().out
    assert "checkpoint at t = 0.6 ns" in text and "complete = 1" in text
    assert cli.main(["inspect", str(tmp / "missing.h5")]) == 2


def test_restart_with_changed_config(finished_run, capsys):
    """Run-control keys may change on restart (end time, output cadence); physics keys are
    refused with the key, both values and what may change; t_end before the checkpoint too."""
    tmp, _out, ck = finished_run
    more = write_job(tmp / "more.toml", "sphere", SPHERE, output__checkpoint_dir=tmp / "ck2", time__t_end_ns=1.0,
                     time__output_interval_ns=0.2)
    new = tmp / "more.h5"
    assert cli.main(["restart", str(ck / "ckpt_000007.h5"), "--config", str(more), "-o", str(new), "-q"]) == 0
    assert np.allclose(datasets(new)["time"], [0.6, 0.8, 1.0])
    capsys.readouterr()
    for key, changed in (("material.name", "Al"), ("grid.energy_step_over_delta0", 0.125), ("time.t_end_ns", 0.3)):
        bad = write_job(tmp / "bad.toml", "sphere", SPHERE, {key.replace(".", "__"): changed}, output__checkpoint_dir=ck)
        assert cli.main(["restart", str(ck / "ckpt_000007.h5"), "--config", str(bad), "-o", str(tmp / "x.h5")]) == 2
        lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("boltzphlow: error")]
        assert len(lines) == 1 and key in lines[0]
        assert not (tmp / "x.h5").exists()


def test_extending_a_finished_run_is_the_longer_run(finished_run, job, run):
    """``restart --t-end 0.8`` of the run that ended at 0.6 ns gives bitwise the records of
    the run straight to 0.8 ns at 0.7 and 0.8 ns (the first record of the new file is the
    landing at 0.6 ns again, the old run's last record)."""
    tmp, _out, ck = finished_run
    new = tmp / "more.h5"
    assert cli.main(["restart", str(ck / "ckpt_000007.h5"), "--t-end", "0.8", "-o", str(new), "-q"]) == 0
    run(job("sphere", SPHERE, file="long.toml", output__checkpoint_dir=tmp / "ck_long", time__t_end_ns=0.8), "long.h5")
    ext, ref = datasets(new), datasets(tmp / "long.h5")
    # 0.6 ns is t_end inside the first run and 6 x 0.1 ns in the second: an ulp apart, so
    # that record agrees to round-off; the later ones are the same times and bitwise equal
    assert np.array_equal(ext["time"][1:], ref["time"][-2:])
    for k in ("qp/f", "phonon/n", "gap/delta"):
        assert np.array_equal(ext[k][1:], ref[k][-2:]), k
        assert np.allclose(ext[k][0], ref[k][-3], rtol=1e-12, atol=1e-14 * np.max(ref[k][-3])), k
    assert np.array_equal(ext["diagnostics/steps"][1:], ref["diagnostics/steps"][-2:])
