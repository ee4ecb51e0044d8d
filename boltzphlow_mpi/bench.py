"""Benchmarks: printed ratios measured in one run (never timed tests).

``kernels``: direct O(N^2) vs FFT O(N log N) evaluation of the collision coefficients on
the same input (a cold thermal background plus a hot QP and phonon packet), seconds for
each, their ratio and the max-norm difference relative to the largest coefficient.
"""
import time

import numpy as np

from .collisions import CollisionKernel
from .energy_grid import EnergyGrid, cell_spectra
from .gap import BCS_RATIO
from .thermal_functions import bose, fermi


def _best_time(fn, repeat, budget_s=20.0):
    best, start = np.inf, time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return best, out


def kernel_input(n, cells=1, delta0=BCS_RATIO, temperature=0.1):
    grid = EnergyGrid(step=20 * delta0 / n, size=n, debye=1e9)
    x = grid.x
    f = fermi(x, temperature) + 1e-3 * np.exp(-0.5 * ((x - 5 * delta0) / delta0) ** 2)
    nn = (bose(x, temperature) + 1e-3 * np.exp(-0.5 * ((x - 12 * delta0) / delta0) ** 2)) * grid.phonon_mask
    spectra = cell_spectra(grid, np.full(cells, delta0))
    return grid, np.tile(f, (cells, 1)), np.tile(nn, (cells, 1)), spectra


def kernels(sizes=(4096,), cells=1, repeat=5, tau_ratio=1800.0, delta0=BCS_RATIO):
    rows = []
    for n in sizes:
        grid, f, nn, spectra = kernel_input(n, cells, delta0)
        fft = CollisionKernel(grid, tau_ratio, delta0, "fft")
        direct = CollisionKernel(grid, tau_ratio, delta0, "direct")
        t_fft, c_fft = _best_time(lambda: fft.coefficients(f, nn, spectra), repeat)
        t_dir, c_dir = _best_time(lambda: direct.coefficients(f, nn, spectra), max(1, repeat // 3))
        diff = max(np.max(np.abs(getattr(c_fft, k) - getattr(c_dir, k))) / np.max(np.abs(getattr(c_dir, k)))
                   for k in ("A", "B", "Ap", "Bp"))
        rows.append({"n": n, "cells": cells, "direct_s": t_dir, "fft_s": t_fft,
                     "speedup": t_dir / t_fft, "max_rel_diff": diff})
    return rows


def step_config(cells, energies, angles=4):
    """A sphere run of ``cells`` x ``energies``: Sn, a phonon hot spot, QP diffusion, phonon
    streaming, self-consistent gap, the exp stepper with a fixed step."""
    emax = 12.0
    return {
        "material": {"name": "Sn"}, "bath": {"temperature_over_tc": 0.15},
        "grid": {"energy_step_over_delta0": emax / (energies - 1), "energy_max_over_delta0": emax},
        "geometry": {"kind": "sphere", "radius_um": 40.0, "cells": cells},
        "transport": {"qp": "diffusive", "qp_mean_free_path_um": 0.05, "phonon": "kinetic", "angles": angles},
        "gap": {"mode": "self-consistent"},
        "initial": {"species": "phonon", "energy_center_over_delta0": 9.0, "deposit_eV": 2000.0,
                    "radius_width_um": 4.0},
        "time": {"t_end_ns": 1.0, "method": "exp", "dt_ns": 1e-4, "output_interval_ns": 1.0},
    }


def time_steps(par, cells, energies, steps, angles=4):
    """Seconds per step of ``steps`` fixed steps (after one warm-up step), on ``par``."""
    from . import config
    from .simulation import Simulation
    sim = Simulation(config.from_dict(step_config(cells, energies, angles)), par)
    sim.advance_to(sim.fixed_dt)  # warm-up: caches, first transposes
    par.comm.barrier()
    t0 = time.perf_counter()
    sim.advance_to(sim.t + steps * sim.fixed_dt)
    par.comm.barrier()
    elapsed = par.reduce_max(time.perf_counter() - t0)
    return elapsed / steps, sim.local_cells


def step(par, cells=256, energies=512, steps=5, angles=4):
    """Time per full step (collisions, gap, transport, ghost exchange) on one rank and on all
    ranks of ``par``, measured in the same run; rows for 1 and ``par.size`` ranks."""
    from mpi4py import MPI
    from petsc4py import PETSc  # noqa: F401  (PETSc initialization is collective on the world)
    from .parallel import Parallel
    rows = []
    serial = None
    if par.rank == 0:
        serial = time_steps(Parallel(MPI.COMM_SELF), cells, energies, steps, angles)[0]
    serial = par.bcast(serial)
    rows.append({"ranks": 1, "s_per_step": serial,
                 "cell_energy_updates_per_s_per_rank": cells * energies / serial})
    if par.size > 1:
        t, _ = time_steps(par, cells, energies, steps, angles)
        rows.append({"ranks": par.size, "s_per_step": t,
                     "cell_energy_updates_per_s_per_rank": cells * energies / t / par.size,
                     "speedup": serial / t, "efficiency": serial / t / par.size})
    return rows


def eliashberg_cost(step_over_delta0=1 / 16, top_over_delta0=20.0, debye=355.0, lam=0.43, cells=4, repeat=3):
    """Seconds per cell of one Eliashberg update against one FFT collision evaluation on the
    same grid (Al: Debye alpha^2F, Omega_D = 355 k_B T_c, lambda = 0.43, mu* = 0.108). Warm:
    from the solution of the previous step's occupations (the excess changed by 0.1 %, as
    between two steps of a cascade); cold: from the BCS start."""
    from .eliashberg import Alpha2F, EliashbergSolver
    d0 = BCS_RATIO
    grid = EnergyGrid.from_max(step_over_delta0 * d0, top_over_delta0 * d0, debye)
    x = grid.x
    f = np.tile(fermi(x, 0.1) + 1e-4 * np.exp(-0.5 * ((x - 3 * d0) / (0.3 * d0)) ** 2), (cells, 1))
    nn = np.tile(bose(x, 0.1) * grid.phonon_mask, (cells, 1))
    solver = EliashbergSolver(grid, Alpha2F.debye(grid.step, debye, lam), mu_star=0.108, delta_ref=d0,
                              bath_temperature=0.1)
    t_cold, sol = _best_time(lambda: solver.solve(f, nn), 1)
    f_next = f + 1e-3 * (f - fermi(x, 0.1))
    t_warm, warm = _best_time(lambda: solver.solve(f_next, nn, guess=sol), repeat)
    rho, varphi, ell = solver.kinetic_factors(sol)
    kernel = CollisionKernel(grid, 1800.0, d0, "fft")
    spectra = cell_spectra(grid, np.full(cells, d0))
    t_coll, _ = _best_time(lambda: kernel.coefficients(f, nn, spectra), 10 * repeat)
    return {"n": grid.size, "self_energy_points": solver.M, "cells": cells,
            "collision_s_per_cell": t_coll / cells, "eliashberg_warm_s_per_cell": t_warm / cells,
            "eliashberg_cold_s_per_cell": t_cold / cells, "warm_iterations": int(warm.iterations.max()),
            "cold_iterations": int(sol.iterations.max()), "warm_over_collision": t_warm / t_coll}


def eliashberg_update_every(ks=(1, 4, 16), t_end_ns=40.0):
    """The error of updating the Eliashberg gap every k steps: 0-D Al QP cascade
    (self-consistent gap, sub-gap phonon escape), QP number at t_end against k = 1, and the
    wall time of each run."""
    from . import config
    from .parallel import Parallel
    from .simulation import Simulation
    from mpi4py import MPI
    rows, ref = [], None
    for k in ks:
        cfg = config.from_dict({
            "material": {"name": "Al"}, "bath": {"temperature_over_tc": 0.1},
            "grid": {"energy_step_over_delta0": 1 / 8, "energy_max_over_delta0": 12.0},
            "initial": {"species": "qp", "energy_center_over_delta0": 3.0, "energy_width_over_delta0": 0.3,
                        "deposit_eV_per_um3": 2e-4},
            "phonon_escape": {"tau_ns": 1.0, "only_subgap": True},
            "time": {"t_end_ns": t_end_ns, "method": "exp", "rtol": 1e-4, "output_interval_ns": t_end_ns},
            "gap": {"mode": "self-consistent", "model": "eliashberg", "cutoff_over_omega_max": 1.5,
                    "update_every": k}})
        sim = Simulation(cfg, Parallel(MPI.COMM_SELF))
        t0 = time.perf_counter()
        sim.advance_to(sim.t_end)
        wall = time.perf_counter() - t0
        rec = sim.record()
        if ref is None:
            ref = rec
        rows.append({"k": k, "steps": sim.steps, "wall_s": wall, "qp_number_excess": rec["qp_number_excess"],
                     "rel_error_qp_number": abs(rec["qp_number"] / ref["qp_number"] - 1),
                     "rel_error_excess": abs(rec["qp_number_excess"] / ref["qp_number_excess"] - 1),
                     "gap_meV": rec["gap_mean"], "ledger": rec["energy_ledger_error"]})
    return rows
