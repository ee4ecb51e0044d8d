"""Our solver against the plain alternative, side by side in one run (serial).

Problem: the 0-D Al QP cascade (T = 0.1 T_c, QPs deposited at 3 Delta_0, width
0.3 Delta_0, 2e-4 eV/um^3; sub-gap phonon escape with tau = 1 ns; fixed BCS gap),
h = Delta_0/8, E_max = 12 Delta_0, to ``--t-end`` ns.

* ours: ``Simulation`` on a point geometry, ``method = "exp"`` (adaptive, rtol 1e-4),
  FFT collision kernel; QP number at every output time (``--interval`` ns).
* plain: what a user would write: the same equations, ``df/dt = (1-f)A - fB`` and
  ``dn/dt = (1+n)A' - nB' - gamma_esc (n - n_T)`` with the O(N^2) direct quadrature
  (``CollisionKernel(method="direct")``), integrated by ``scipy.integrate.solve_ivp``
  (LSODA, rtol 1e-6, atol 1e-14, finite-difference Jacobian) from the same initial state,
  evaluated at the same output times.

Reported: wall time of each, right-hand-side evaluations of LSODA, and the max relative
difference of N_qp (and of the excess N_qp) over the common output times.

    python benchmarks/vs_lsoda.py [--t-end 20] [--interval 1] --json out.json
"""
import time

import numpy as np
from mpi4py import MPI  # noqa: E402
from scipy.integrate import solve_ivp

from boltzphlow_mpi.app import config  # noqa: E402
from boltzphlow_mpi.app.simulation import Simulation  # noqa: E402
from boltzphlow_mpi.parallel.comm import Parallel  # noqa: E402
from boltzphlow_mpi.physics.analysis import diagnostics as dg  # noqa: E402
from boltzphlow_mpi.physics.collisions import CollisionKernel  # noqa: E402
from boltzphlow_mpi.physics.statistics import bose  # noqa: E402

import _common  # noqa: F401
from _common import arg, dump


def cfg(t_end, interval):
    return config.from_dict({
        "material": {"name": "Al"}, "bath": {"temperature_over_tc": 0.1},
        "grid": {"energy_step_over_delta0": 1 / 8, "energy_max_over_delta0": 12.0},
        "initial": {"species": "qp", "energy_center_over_delta0": 3.0, "energy_width_over_delta0": 0.3,
                    "deposit_eV_per_um3": 2e-4},
        "phonon_escape": {"tau_ns": 1.0, "only_subgap": True},
        "time": {"t_end_ns": t_end, "method": "exp", "rtol": 1e-4, "output_interval_ns": interval}})


def main():
    t_end, interval = arg("--t-end", 20.0), arg("--interval", 1.0)
    sim = Simulation(cfg(t_end, interval), Parallel(MPI.COMM_SELF))
    units, grid = sim.units, sim.grid
    f0, n0, _ = sim.model.unpack(sim.y)
    f0, n0 = f0[0].copy(), n0[0].copy()
    # -- ours --------------------------------------------------------------------------
    ours = [(0.0, sim.record()["qp_number"])]
    t0 = time.perf_counter()
    sim.run(progress=lambda s, wall: ours.append((s.t * units.tau0_ns, s.record()["qp_number"])))
    wall_ours = time.perf_counter() - t0
    # -- plain: direct quadrature + LSODA ------------------------------------------------
    t_start = time.perf_counter()
    spec = sim.bath_spectra  # the fixed BCS gap of the bath
    N = grid.size
    x = grid.x
    kernel = CollisionKernel(grid, sim.tau_ratio, sim.delta0, "direct")
    active = spec.active[0].copy()
    active[0] = False
    n_T = bose(x, sim.temperature) * grid.phonon_mask
    gamma = units.tau0_ns / 1.0 * (grid.phonon_mask & (x < 2 * spec.delta[0]))  # escape rate, per tau_0

    def rhs(t, y):
        f, n = y[:N], y[N:]
        c = kernel.coefficients(f[None], n[None], spec)
        df = np.where(active, (1 - f) * c.A[0] - f * c.B[0], 0.0)
        dn = (1 + n) * c.Ap[0] - n * c.Bp[0] - gamma * (n - n_T)
        return np.concatenate([df, dn])

    times_ns = np.array([t for t, _ in ours])
    sol = solve_ivp(rhs, (0.0, t_end / units.tau0_ns), np.concatenate([f0, n0]), method="LSODA",
                    t_eval=times_ns / units.tau0_ns, rtol=1e-6, atol=1e-14)
    wall_plain = time.perf_counter() - t_start
    nd = units.number_density_per_um3
    plain = dg.qp_number(grid, spec, sol.y[:N].T) * nd
    mine = np.array([q for _, q in ours])
    thermal = sim.initial_thermal_number * nd
    k = min(len(plain), len(mine))
    rel = np.abs(mine[:k] / plain[:k] - 1)
    rel_ex = np.abs((mine[:k] - thermal) / (plain[:k] - thermal) - 1)
    dump({"N": N, "t_end_ns": t_end, "interval_ns": interval, "ours_wall_s": wall_ours, "ours_steps": sim.steps,
          "lsoda_wall_s": wall_plain, "lsoda_status": int(sol.status), "lsoda_nfev": int(sol.nfev),
          "lsoda_njev": int(sol.njev), "speedup": wall_plain / wall_ours, "times_compared": int(k),
          "max_rel_diff_qp_number": float(rel.max()), "max_rel_diff_qp_excess": float(rel_ex.max()),
          "time_ns": times_ns[:k].tolist(), "qp_number_ours": mine[:k].tolist(), "qp_number_lsoda": plain[:k].tolist(),
          "thermal_qp_number": thermal})


if __name__ == "__main__":
    main()
