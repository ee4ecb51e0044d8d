"""The scripts in examples/ run and print what they promise (each as a user would run it)."""
import sys

import pytest

from helpers import REPO

PYTHON = [sys.executable]
EXAMPLES = REPO / "examples"


def stdout(done):
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_cascade_0d(tmp_path, launch):
    out = stdout(launch(EXAMPLES / "cascade_0d.py", "4", "c.h5", program=PYTHON, timeout=300))
    assert "t = 4 ns" in out and "eta = 0.4" in out and (tmp_path / "c.h5").exists()
    ledger = float(out.split("ledger error")[1].split()[0])
    assert abs(ledger) < 1e-9


def test_steady_sweep(launch):
    out = stdout(launch(EXAMPLES / "steady_sweep.py", "1e-12", "1e-11", program=PYTHON, timeout=300))
    slope = float(out.split("d ln n_qp / d ln P = ")[1].split()[0])
    assert slope == pytest.approx(0.5, abs=0.02)  # Rothwarf-Taylor, recombination-limited


def test_sphere_on_two_ranks(tmp_path, mpirun):
    out = stdout(mpirun(2, EXAMPLES / "sphere_mpi.py", "0.2", "s.h5", program=PYTHON, timeout=300))
    assert out.startswith("2 rank(s): t = 0.2 ns") and (tmp_path / "s.h5").exists()
    assert abs(float(out.split("ledger error")[1].split()[0])) < 1e-9
