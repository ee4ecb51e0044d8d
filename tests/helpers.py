"""Plain functions shared by the tests (tests/conftest.py makes fixtures of some) and by
validation/figures.py (no pytest here): physics problems, writing and running jobs (the job
texts are in tests/jobs), launching the CLI and mpirun from a test, reading outputs."""
import os
import pathlib

import numpy as np

from boltzphlow_mpi.physics.analysis.diagnostics import phonon_energy, phonon_energy_weight, qp_energy
from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.energy_grid import EnergyGrid
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO, equilibrium_gap
from boltzphlow_mpi.physics.kinetics import CellKinetics
from boltzphlow_mpi.physics.statistics import bose, fermi

import jobs
from jobs import BOLTZPHLOW, MPIRUN, command, launch, launch_env  # noqa: F401  (for the tests)

REPO = pathlib.Path(__file__).resolve().parents[1]  # the repository root

AL_TAU_RATIO = 438.0 / 0.242


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


def weak_coupling_al():
    """Eliashberg in the weak-coupling limit (tests/physics/test_eliashberg.py and its figure):
    Al with a Debye alpha^2F (Omega_D = 423 K = 355 k T_c, lambda = Z_1 - 1 = 0.43), mu* fitted
    to the T = 0 gap edge Delta_0, bath at 0.1 T_c, h = Delta_0/16 to 20 Delta_0. Returns (grid,
    alpha^2F, solver, mu*, the T = 0 solution of the fit, the solution with the thermal f and n of
    the bath, f, n)."""
    from boltzphlow_mpi.physics.gap.alpha2f import Alpha2F
    from boltzphlow_mpi.physics.gap.eliashberg import EliashbergSolver
    from boltzphlow_mpi.physics.gap.mu_star import fit_mu_star
    d0 = BCS_RATIO
    grid = EnergyGrid.from_max(d0 / 16, 20 * d0, 355.0)
    a2f = Alpha2F.debye(grid.step, 355.0, 0.43)
    s = EliashbergSolver(grid, a2f, delta_ref=d0, bath_temperature=0.1)
    mu, sol0 = fit_mu_star(s, d0)
    f = fermi(grid.x, 0.1)[None]
    n = (bose(grid.x, 0.1) * grid.phonon_mask)[None]
    return grid, a2f, s, mu, sol0, s.solve(f, n), f, n


def excess_qp_number_per_cell(sim):
    """The QP number above the bath in each cell of a radial simulation (per volume)."""
    f, _, _ = sim.model.unpack(sim.y)
    return 4 * sim.grid.step * np.sum(sim.model.spectra.rho * (f - sim.model.f_bath), axis=1)


def mean_r2(sim, density):
    """<r^2> of a density per cell, weighted by the cell volumes."""
    r = sim.mesh.centres
    w = density * sim.mesh.volumes
    return float(np.sum(w * r ** 2) / np.sum(w))


# -- jobs, runs and launching the command line and mpirun from a test ---------------------
def write_job(path, name, *changes, **keys):
    """Job ``name`` of tests/jobs with keys changed (``jobs.text``) written to ``path``."""
    return jobs.write(path, name, *changes, **keys)


def run_job(job, out, *args, code=0, quiet=True):
    """``boltzphlow run JOB -o OUT ARGS [-q]`` in this process; asserts the exit code and
    returns the output path."""
    from boltzphlow_mpi import cli
    argv = ["run", str(job), "-o", str(out), *map(str, args)] + (["-q"] if quiet else [])
    assert cli.main(argv) == code, argv
    return pathlib.Path(out)


def run_to_file(cfg, par, path, checkpoints=False):
    """What ``boltzphlow run`` does with a validated config, without the printing, on the
    communicator of ``par`` (checkpoints: into the config's directory). Returns the simulation."""
    import json

    from boltzphlow_mpi.app import runner
    from boltzphlow_mpi.app.simulation import Simulation
    from boltzphlow_mpi.fileio.output import OutputFile, material_attrs
    sim = Simulation(cfg, par)
    resolved = json.dumps(cfg.as_dict())
    attrs = {"config": resolved, "config_resolved": resolved, **material_attrs(sim.material)}
    writer = OutputFile(path, par, n_cells=sim.n_cells, cell_range=sim.cell_range,
                        energy_meV=sim.grid.x * sim.units.kTc_meV, attrs=attrs, mesh=sim.mesh)
    try:
        if checkpoints:  # what `boltzphlow run` attaches: records and checkpoints
            runner.attach(sim, writer)
            sim.run_records()
        else:
            sim.run(writer)
    finally:
        writer.close()
    return sim


def datasets(path):
    """Every dataset of an HDF5 file (serial h5py): {name: array}."""
    import h5py
    out = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def fault_env(installer, **params):
    """The environment of a ``boltzphlow`` subprocess with the test hook
    ``fault_hooks:<installer>`` (tests/fault_hooks.py) and its parameters."""
    env = launch_env()
    here = str(pathlib.Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    env["BOLTZPHLOW_HOOKS"] = f"fault_hooks:{installer}"
    env.update(params)
    return env
