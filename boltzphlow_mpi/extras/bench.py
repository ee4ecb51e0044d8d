"""Benchmarks: printed ratios measured in one run (never timed tests).

``kernels``: direct O(N^2) vs FFT O(N log N) evaluation of the collision coefficients on
the same input (a cold thermal background plus a hot QP and phonon packet), seconds for
each, their ratio and the max-norm difference relative to the largest coefficient.

``steady_vs_transient``: wall time of the Newton steady state (``steady.solve``) against
the transient from the same thermal state reaching the same rate imbalance
(``benchmarks/steady_vs_transient.py``).
"""
import time

import numpy as np

from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO
from boltzphlow_mpi.physics.statistics import bose, fermi


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


def step_config(cells, energies, angles=4, qp_solver="exact"):
    """A sphere run of ``cells`` x ``energies``: Sn, a phonon hot spot, QP diffusion (solved
    by ``qp_solver``), phonon streaming, self-consistent gap, the exp stepper with a fixed step."""
    emax = 12.0
    return {
        "material": {"name": "Sn"}, "bath": {"temperature_over_tc": 0.15},
        "grid": {"energy_step_over_delta0": emax / (energies - 1), "energy_max_over_delta0": emax},
        "geometry": {"kind": "sphere", "radius_um": 40.0, "cells": cells},
        "transport": {"qp": "diffusive", "qp_mean_free_path_um": 0.05, "phonon": "kinetic", "angles": angles,
                      "qp_solver": qp_solver},
        "gap": {"mode": "self-consistent"},
        "initial": {"species": "phonon", "energy_center_over_delta0": 9.0, "deposit_eV": 2000.0,
                    "radius_width_um": 4.0},
        "time": {"t_end_ns": 1.0, "method": "exp", "dt_ns": 1e-4, "output_interval_ns": 1.0},
    }


def time_steps(par, cells, energies, steps, angles=4):
    """Seconds per step of ``steps`` fixed steps (after one warm-up step), on ``par``."""
    from boltzphlow_mpi.app import config
    from boltzphlow_mpi.app.simulation import Simulation
    sim = Simulation(config.from_dict(step_config(cells, energies, angles)), par)
    sim.advance_to(sim.integrator.fixed_dt)  # warm-up: caches, first transposes
    par.comm.barrier()
    # Count the steps computed: advance_to stops its trajectory before the target and lands
    # on a branch (docs/numerics.md, "Output times do not steer the steps"), so the steps
    # between two calls are not the difference of their times over dt.
    taken, step = [0], sim.integrator.step

    def counted(*args, **kwargs):
        taken[0] += 1
        return step(*args, **kwargs)

    sim.integrator.step = counted
    t0 = time.perf_counter()
    sim.advance_to(sim.t + steps * sim.integrator.fixed_dt)
    par.comm.barrier()
    elapsed = par.reduce_max(time.perf_counter() - t0)
    return elapsed / taken[0], sim.local_cells


def step(par, cells=256, energies=512, steps=5, angles=4):
    """Time per full step (collisions, gap, transport, ghost exchange) on one rank and on all
    ranks of ``par``, measured in the same run; rows for 1 and ``par.size`` ranks."""
    from mpi4py import MPI
    from petsc4py import PETSc  # noqa: F401  (PETSc initialization is collective on the world)

    from boltzphlow_mpi.parallel.comm import Parallel
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


#: the 0-D cascades of ``bench eliashberg`` and of the cost rows (the settings of
#: jobs/eliashberg_al.toml and jobs/eliashberg_pb.toml; Al with the self-energy grid to
#: 1.5 Omega_D, Pb with the shipped alpha^2F and the cutoff rule of its lambda = 1.55)
ELIASHBERG_GRIDS = {"Al": {"energy_step_over_delta0": 1 / 8, "energy_max_over_delta0": 12.0},
                    "Pb": {"energy_step_over_delta0": 1 / 16, "energy_max_over_delta0": 12.0}}


def eliashberg_job(material="Al", k=1, t_end_ns=40.0):
    """The config dict of the 0-D QP cascade with a self-consistent Eliashberg gap updated
    every ``k`` steps (sub-gap phonon escape in 1 ns, ``exp``, rtol 1e-4)."""
    if material not in ELIASHBERG_GRIDS:
        raise InputError("--material", material, f"one of {', '.join(ELIASHBERG_GRIDS)}")
    gap = {"mode": "self-consistent", "model": "eliashberg", "update_every": k}
    if material == "Al":
        gap["cutoff_over_omega_max"] = 1.5
    return {"material": {"name": material}, "bath": {"temperature_over_tc": 0.1},
            "grid": dict(ELIASHBERG_GRIDS[material]),
            "initial": {"species": "qp", "energy_center_over_delta0": 3.0, "energy_width_over_delta0": 0.3,
                        "deposit_eV_per_um3": 2e-4},
            "phonon_escape": {"tau_ns": 1.0, "only_subgap": True},
            "time": {"t_end_ns": t_end_ns, "method": "exp", "rtol": 1e-4, "output_interval_ns": t_end_ns},
            "gap": gap}


def eliashberg_cost(material="Al", cells=4, repeat=3):
    """Seconds per cell of one Eliashberg update against one FFT collision evaluation, with
    the solver, grid and collision kernel that the 0-D job ``eliashberg_job(material)``
    builds. Warm: from the solution of the previous step's occupations (the excess changed
    by 0.1 %, as between two steps of a cascade); cold: from the BCS start."""
    from mpi4py import MPI

    from boltzphlow_mpi.app import config
    from boltzphlow_mpi.app.simulation import Simulation
    from boltzphlow_mpi.parallel.comm import Parallel
    sim = Simulation(config.from_dict(eliashberg_job(material)), Parallel(MPI.COMM_SELF))
    solver, grid, T, d0 = sim.gap_model.solver, sim.grid, sim.temperature, sim.delta_bath
    x = grid.x
    f = np.tile(fermi(x, T) + 1e-4 * np.exp(-0.5 * ((x - 3 * d0) / (0.3 * d0)) ** 2), (cells, 1))
    nn = np.tile(bose(x, T) * grid.phonon_mask, (cells, 1))
    t_cold, sol = _best_time(lambda: solver.solve(f, nn), 1)
    f_next = f + 1e-3 * (f - fermi(x, T))
    t_warm, warm = _best_time(lambda: solver.solve(f_next, nn, guess=sol), repeat)
    spectra = sim.gap_model._spectra(sol)
    t_coll, _ = _best_time(lambda: sim.kernel.coefficients(f, nn, spectra), 10 * repeat)
    return {"material": material, "lambda": solver.lam, "n": grid.size, "self_energy_points": solver.M,
            "cells": cells, "collision_s_per_cell": t_coll / cells, "eliashberg_warm_s_per_cell": t_warm / cells,
            "eliashberg_cold_s_per_cell": t_cold / cells, "warm_iterations": int(warm.iterations.max()),
            "cold_iterations": int(sol.iterations.max()), "warm_over_collision": t_warm / t_coll,
            "cold_over_collision": t_cold / t_coll}


def eliashberg_update_every(ks=(1, 4, 16), t_end_ns=40.0, material="Al"):
    """The error of updating the Eliashberg gap every k steps: the 0-D QP cascade of
    ``eliashberg_job(material)``, QP number at t_end against k = 1, and the wall time of
    each run."""
    from mpi4py import MPI

    from boltzphlow_mpi.app import config
    from boltzphlow_mpi.app.simulation import Simulation
    from boltzphlow_mpi.parallel.comm import Parallel
    rows, ref = [], None
    for k in ks:
        sim = Simulation(config.from_dict(eliashberg_job(material, k, t_end_ns)), Parallel(MPI.COMM_SELF))
        t0 = time.perf_counter()
        sim.advance_to(sim.t_end)
        wall = time.perf_counter() - t0
        rec = sim.record()
        if ref is None:
            ref = rec
        rows.append({"material": material, "k": k, "steps": sim.steps, "wall_s": wall,
                     "qp_number_excess": rec["qp_number_excess"],
                     "rel_error_qp_number": abs(rec["qp_number"] / ref["qp_number"] - 1),
                     "rel_error_excess": abs(rec["qp_number_excess"] / ref["qp_number_excess"] - 1),
                     "gap_meV": rec["gap_mean"], "ledger": rec["energy_ledger_error"]})
    return rows


# -- steady state (Newton) against the long-time limit of a transient ---------------------
TAU0_PHONON_AL_NS = 0.242  # Kaplan tau_0^phi of Al (materials.py): tau_pb(2 Delta) at Delta = Delta_0


def steady_point_config(power=1e-10, step_over_delta0=0.05, emax_over_delta0=8.0,
                        tau_esc_ns=5 * TAU0_PHONON_AL_NS, kernel="fft", rtol=1e-4, dt_max_ns=None,
                        t_end_ns=1e4, method="exp"):
    """0-D Al cell (bath 0.15 T_c, fixed BCS gap) under a photon drive at 5 Delta_0, phonon
    escape with ``tau_esc_ns`` (all phonon modes); ``kernel``, ``rtol``, ``dt_max_ns``,
    ``t_end_ns`` and ``method`` (the stepper) set the transient."""
    time_ = {"t_end_ns": t_end_ns, "method": method, "rtol": rtol}
    if dt_max_ns:
        time_["dt_max_ns"] = dt_max_ns
    return {"material": {"name": "Al"}, "bath": {"temperature_over_tc": 0.15},
            "grid": {"energy_step_over_delta0": step_over_delta0, "energy_max_over_delta0": emax_over_delta0,
                     "kernel": kernel},
            "phonon_escape": {"tau_ns": tau_esc_ns},
            "time": time_,
            "drive": [{"kind": "photon", "energy_over_delta0": 5.0, "power_W_per_um3": power}]}


def slowest_relaxation_ns(sim, y, delta):
    """The slowest relaxation time (ns) of the transient near the steady state ``y`` of a point
    ``sim``: with ``v = ln y``, ``dv/dt = (G - K y)/y = K (e^r - 1) ~ K r`` (``r`` the residual
    of ``steady.SteadyProblem``), so the linearized dynamics is ``diag(K) dr/dv``, ``dr/dv``
    the Newton Jacobian; the time is ``tau_0`` over the smallest decay rate."""
    from boltzphlow_mpi.numerics import steady_point as steady
    from boltzphlow_mpi.numerics.steady_common import exact_sums
    with exact_sums(sim):
        prob = steady.SteadyProblem(sim)
        nv = len(prob.idx)
        J = prob.jacobian(prob.pack(y, delta))[:nv, :nv]
        _, K = sim.model.split(y)
        rates = -np.linalg.eigvals(K[0, prob.idx][:, None] * J).real
    return sim.units.tau0_ns / float(np.min(rates))


def transient_label(t):
    """Short description of a transient variant (a row of ``steady_vs_transient``)."""
    return (f"{t.get('method', 'exp')}, {t['kernel']} sums, rtol {t['rtol']:g}"
            + (f", dt_max {t['dt_max_ns']:g} ns" if t["dt_max_ns"] else "") + (", free steps" if t["free"] else ""))


def steady_vs_transient(power=1e-10, step_over_delta0=0.05, emax_over_delta0=8.0, tau_esc_ns=5 * TAU0_PHONON_AL_NS,
                        cap_ns=2e4, check_ns=100.0, loose=1e-6, tol=1e-10, variants=None, wall_cap_s=900.0):
    """Time to the steady state: Newton (``steady.solve`` from the thermal bath state) against
    the transient from the same bath state reaching the same rate imbalance (one process).

    The imbalance of a transient state is ``max |ln(G/(K y))|`` over the unknowns of
    ``steady.SteadyProblem`` with the direct collision sums: the measure ``steady.solve``
    reports as ``max_relative_residual``. Targets: Newton's final imbalance ``r*``, the solver
    tolerance ``tol`` and ``loose``; for N_qp, its relative difference from Newton's N_qp
    below ``loose``. ``variants``: dicts ``kernel`` (collision sums of the transient),
    ``rtol``, ``dt_max_ns`` and ``free``. The imbalance is checked every ``check_ns`` of
    simulated time, as at the output times of a run (``time.output_interval_ns``): the state
    there is landed on a branch and the steps go on as if there were no check
    (docs/numerics.md, "Output times do not steer the steps"); with ``free`` the checks
    come every ``check_ns`` or every two steps. Each transient runs until its
    imbalance is <= r*, to ``cap_ns`` of simulated time, or for about ``wall_cap_s`` of
    stepping. Transient wall times count the stepping only; the checks' cost is reported
    apart (``check_wall_s``)."""
    if variants is None:
        variants = ({"kernel": "fft", "rtol": 1e-4}, {"kernel": "fft", "rtol": 1e-4, "free": True},
                    {"kernel": "direct", "rtol": 1e-4})

    def make(**over):
        return _point_simulation(steady_point_config(power, step_over_delta0, emax_over_delta0, tau_esc_ns,
                                                     t_end_ns=cap_ns, **over))

    sim = make()
    res, newton = _newton_from_bath(sim, tol)
    out = {"power_W_per_um3": power, "step_over_delta0": step_over_delta0, "emax_over_delta0": emax_over_delta0,
           "N": sim.grid.size, "tau_esc_ns": tau_esc_ns, "tau0_phonon_ns": TAU0_PHONON_AL_NS, "tol": tol,
           "loose": loose, "cap_ns": cap_ns, "check_ns": check_ns, "tau0_ns": sim.units.tau0_ns,
           "newton": newton,
           "slowest_relaxation_ns": slowest_relaxation_ns(sim, res["y"], res["delta"]),
           "transients": []}
    targets = {"r_star": newton["r_star"], "tol": tol, "loose": loose}
    for var in variants:
        out["transients"].append(_transient(make, var, targets, newton["qp_number"], check_ns, wall_cap_s))
    return out


def _point_simulation(raw):
    """A ``Simulation`` of the config dict ``raw`` on this process alone."""
    from mpi4py import MPI

    from boltzphlow_mpi.app import config
    from boltzphlow_mpi.app.simulation import Simulation
    from boltzphlow_mpi.parallel.comm import Parallel
    return Simulation(config.from_dict(raw), Parallel(MPI.COMM_SELF))


def _qp_number(sim, y):
    """N_qp (um^-3) of the point state ``y``."""
    from boltzphlow_mpi.physics.analysis import diagnostics as dg
    f = sim.model.unpack(y)[0]
    return float(dg.qp_number(sim.grid, sim.model.spectra, f)[0]) * sim.units.number_density_per_um3


def _newton_from_bath(sim, tol):
    """``steady.solve`` of the point ``sim`` from its (bath) state: ``(result, the "newton" entry
    of steady_vs_transient)``."""
    from boltzphlow_mpi.numerics import steady_point as steady
    t0 = time.perf_counter()
    res = steady.solve(sim, tol=tol)
    newton_wall = time.perf_counter() - t0
    r_star, y_ss = res["max_relative_residual"], res["y"]
    n_ss = _qp_number(sim, y_ss)
    unknowns = steady.SteadyProblem(sim).size
    return res, {"wall_s": newton_wall, "iterations": res["iterations"], "r_star": r_star,
                 "residual_norms": res["residual_norms"], "unknowns": unknowns, "qp_number": n_ss,
                 "bath_qp_number": _qp_number(sim, sim.model.reference_state)}


def _imbalance(sim):
    """A function of no arguments: ``max |ln(G/(K y))|`` of ``sim``'s current state over the
    unknowns of ``steady.SteadyProblem``, with the direct collision sums (Newton's measure)."""
    from boltzphlow_mpi.numerics import steady_point as steady
    from boltzphlow_mpi.numerics.steady_common import exact_sums
    prob = steady.SteadyProblem(sim)  # the imbalance only (with the direct sums)
    delta = float(sim.model.delta[0])

    def imbalance():
        with exact_sums(sim):
            return float(np.max(np.abs(prob.residual(prob.pack(sim.y, delta)))))
    return imbalance


def _transient(make, var, targets, n_ss, check_ns, wall_cap_s):
    """One row of ``steady_vs_transient``: the transient variant ``var`` (``make(**over)`` builds
    its simulation) checked every ``check_ns`` against ``targets`` and Newton's N_qp ``n_ss``
    until its imbalance is <= ``targets["r_star"]``, the simulated-time cap or the wall-time cap."""
    kernel, rtol, dt_max_ns, free = (var.get("kernel", "fft"), var.get("rtol", 1e-4), var.get("dt_max_ns"),
                                     bool(var.get("free", False)))
    method = var.get("method", "exp")
    sim = make(kernel=kernel, rtol=rtol, dt_max_ns=dt_max_ns, method=method)
    imbalance = _imbalance(sim)
    row = {"method": method, "kernel": kernel, "rtol": rtol, "dt_max_ns": dt_max_ns, "free": free, "reached": {},
           "qp_reached": None, "history": []}
    wall = check_wall = 0.0
    check, k, stop = check_ns / sim.units.tau0_ns, 0, None
    while stop is None:
        k += 1
        # (free: not by single steps, advance_to(t + dt): each check lands on a branch)
        target = sim.t + max(check, 2 * sim.dt) if free else k * check
        w0 = time.perf_counter()
        sim.advance_to(min(target, sim.t_end))
        wall += time.perf_counter() - w0
        r, spent = _check_transient(sim, row, imbalance, n_ss, wall, targets)
        check_wall += spent
        if r <= targets["r_star"]:
            stop = "reached r*"
        elif sim.t >= sim.t_end * (1 - 1e-13):
            stop = "simulated-time cap"
        elif wall >= wall_cap_s:
            stop = "wall-time cap"
    hist = row["history"]
    best = min(hist, key=lambda h: h["imbalance"])
    row.update({"stop": stop, "t_ns": hist[-1]["t_ns"], "wall_s": wall, "steps": sim.steps,
                "rejected": sim.integrator.controller.rejected, "check_wall_s": check_wall, "checks": len(hist),
                "final_imbalance": hist[-1]["imbalance"], "min_imbalance": best["imbalance"],
                "min_imbalance_t_ns": best["t_ns"], "final_qp_number_rel_diff": hist[-1]["qp_number_rel_diff"],
                "max_dt_ns": max(h["dt_ns"] for h in hist)})
    return row


def _check_transient(sim, row, imbalance, n_ss, wall, targets):
    """One check of a transient: its imbalance and N_qp against Newton's ``n_ss`` into the
    history of ``row``, with the targets (and N_qp within ``targets["loose"]``) reached first
    here. Returns ``(imbalance, seconds the check took)``."""
    t_ns = sim.t * sim.units.tau0_ns
    w0 = time.perf_counter()
    r = imbalance()
    dn = abs(_qp_number(sim, sim.y) / n_ss - 1)
    spent = time.perf_counter() - w0
    now = {"t_ns": t_ns, "wall_s": wall, "steps": sim.steps}
    row["history"].append({**now, "imbalance": r, "qp_number_rel_diff": dn,
                           "dt_ns": sim.dt * sim.units.tau0_ns})
    for name, goal in targets.items():
        if name not in row["reached"] and r <= goal:
            row["reached"][name] = now
    if row["qp_reached"] is None and dn <= targets["loose"]:
        row["qp_reached"] = now
    return r, spent
