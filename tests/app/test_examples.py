"""The scripts in examples/ run and print what they promise (each as a user would run it)."""
import subprocess
import sys

import pytest

from helpers import MPIRUN, REPO, launch_env, needs_mpirun


def _run(cmd, cwd, timeout=300):
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=launch_env())
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_cascade_0d(tmp_path):
    out = _run([sys.executable, str(REPO / "examples" / "cascade_0d.py"), "4", "c.h5"], tmp_path)
    assert "t = 4 ns" in out and "eta = 0.4" in out and (tmp_path / "c.h5").exists()
    ledger = float(out.split("ledger error")[1].split()[0])
    assert abs(ledger) < 1e-9


def test_steady_sweep(tmp_path):
    out = _run([sys.executable, str(REPO / "examples" / "steady_sweep.py"), "1e-12", "1e-11"], tmp_path)
    slope = float(out.split("d ln n_qp / d ln P = ")[1].split()[0])
    assert slope == pytest.approx(0.5, abs=0.02)  # Rothwarf-Taylor, recombination-limited


@needs_mpirun
def test_sphere_on_two_ranks(tmp_path):
    out = _run([MPIRUN, "-n", "2", sys.executable, str(REPO / "examples" / "sphere_mpi.py"), "0.2", "s.h5"], tmp_path)
    assert out.startswith("2 rank(s): t = 0.2 ns") and (tmp_path / "s.h5").exists()
    assert abs(float(out.split("ledger error")[1].split()[0])) < 1e-9
