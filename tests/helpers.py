"""Small builders shared by the tests: physics problems (no MPI), jobs, and launching the CLI
and mpirun from a test."""
import os
import pathlib
import shutil
import sys

import numpy as np
import pytest

from boltzphlow_mpi.physics.analysis.diagnostics import phonon_energy, phonon_energy_weight, qp_energy
from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.energy_grid import EnergyGrid
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO, equilibrium_gap
from boltzphlow_mpi.physics.kinetics import CellKinetics
from boltzphlow_mpi.physics.statistics import bose, fermi

REPO = pathlib.Path(__file__).resolve().parents[1]  # the repository root

AL_TAU_RATIO = 438.0 / 0.242

# A small 0-D job (Al, phonons at 8 Delta_0, 5 ns) shared by the CLI and output tests.
TINY_TOML = """\
[material]
name = "Al"

[bath]
temperature_over_tc = 0.1

[grid]
energy_step_over_delta0 = 0.25
energy_max_over_delta0 = 12.0

[initial]
species = "phonon"
energy_center_over_delta0 = 8.0
energy_width_over_delta0 = 0.5
deposit_eV_per_um3 = 1.0e-3

[time]
t_end_ns = 5.0
method = "exp"
output_interval_ns = 1.0
"""


def cascade_problem(step=BCS_RATIO / 8, emax=10 * BCS_RATIO, temperature=0.2, tau_ratio=AL_TAU_RATIO,
                    escape_rate=0.0, subgap=True, deposit=1e-3, centre=7 * BCS_RATIO, cells=1,
                    method="fft", species="phonon"):
    """A 0-D cascade: thermal state plus a phonon (or QP) packet. Returns (problem, y0)."""
    d0 = BCS_RATIO
    grid = EnergyGrid.from_max(step, emax, 300.0)
    delta = equilibrium_gap(temperature, d0)
    kernel = CollisionKernel(grid, tau_ratio, d0, method)
    w = phonon_energy_weight(d0, tau_ratio)
    prob = CellKinetics(grid, kernel, np.full(cells, delta), bath_temperature=temperature,
                        escape_rate=escape_rate, escape_subgap_only=subgap, phonon_weight=w)
    x = grid.x
    f = np.tile(fermi(x, temperature), (cells, 1))
    n = np.tile(bose(x, temperature) * grid.phonon_mask, (cells, 1))
    bump = np.exp(-0.5 * ((x - centre) / (0.5 * d0)) ** 2)
    if species == "phonon":
        bump = bump * grid.phonon_mask
        n = n + deposit * bump / phonon_energy(grid, w, bump[None])[0]
    else:
        bump = bump * prob.spectra.active[0]
        f = f + deposit * bump / qp_energy(grid, prob.spectra, bump[None])[0]
    return prob, prob.pack(f, n, np.zeros(cells))


def total_energy(prob, y):
    f, n, e = prob.unpack(y)
    return qp_energy(prob.grid, prob.spectra, f) + phonon_energy(prob.grid, prob.phonon_weight, n) + e


# -- launching the command line and mpirun from a test ---------------------------------
BIN_DIR = pathlib.Path(sys.executable).parent
if (BIN_DIR / "boltzphlow").exists():
    BOLTZPHLOW = [str(BIN_DIR / "boltzphlow")]
else:
    BOLTZPHLOW = [sys.executable, "-m", "boltzphlow_mpi.cli"]
MPIRUN = str(BIN_DIR / "mpirun") if (BIN_DIR / "mpirun").exists() else shutil.which("mpirun")
needs_mpirun = pytest.mark.skipif(MPIRUN is None, reason="no mpirun (run `make setup`)")

# Variables an MPI job (or an MPI singleton: this pytest process may have initialised
# MPI already) leaves in the environment. A child launched with them tries to join the
# parent's job: mpirun fails at once, so they are dropped.
_KEEP = ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_MCA_btl", "OMPI_MCA_rmaps", "OMPI_MCA_mpi_yield", "OMPI_MCA_hwloc")


def launch_env():
    env = {}
    for k, v in os.environ.items():  # os.environ: the environment pytest started with
        if k.startswith(("PMIX_", "ORTE_", "PRTE_")):
            continue
        if k.startswith("OMPI_") and not k.startswith(_KEEP):
            continue
        env[k] = v
    return env


def fault_env(installer, **params):
    """The environment of a ``boltzphlow`` subprocess with the test hook
    ``fault_hooks:<installer>`` (tests/fault_hooks.py) and its parameters."""
    env = launch_env()
    here = str(pathlib.Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    env["BOLTZPHLOW_HOOKS"] = f"fault_hooks:{installer}"
    env.update(params)
    return env
