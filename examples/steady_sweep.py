"""Steady states of Al under a pair-breaking photon drive, over the absorbed power.

    python examples/steady_sweep.py [POWER_W_PER_UM3 ...]

Each point is a Newton solve (``solve_steady``); in this recombination-limited regime the
QP density grows as the square root of the power (Rothwarf-Taylor).
"""
import sys

import numpy as np

import boltzphlow_mpi as bp

JOB = {
    "material": {"name": "Al"},
    "bath": {"temperature_over_tc": 0.15},
    "grid": {"energy_step_over_delta0": 0.125, "energy_max_over_delta0": 12.0},
    "phonon_escape": {"tau_ns": 1.0},
    "drive": [{"kind": "photon", "energy_over_delta0": 5.0, "power_W_per_um3": 1e-12}],
    "solve": {"mode": "steady", "readout_GHz": 5.0},
    "time": {"t_end_ns": 10.0},
}
powers = [float(p) for p in sys.argv[1:]] or [1e-13, 1e-12, 1e-11]

rows = []
for p in powers:
    JOB["drive"][0]["power_W_per_um3"] = p
    s = bp.Simulation.from_dict(JOB).solve_steady()
    cell = s["cells"][0]
    rows.append((p, cell["n_qp_per_um3"], cell["x_qp"], cell["sigma1_over_sigman"], s["iterations"]))
print(f"{'P (W/um^3)':>11} {'n_qp (um^-3)':>13} {'x_qp':>10} {'sigma1/sn':>10} {'Newton':>6}")
for p, n, x, s1, it in rows:
    print(f"{p:11.3g} {n:13.5g} {x:10.4g} {s1:10.4g} {it:6d}")
if len(rows) > 1:
    slope = np.polyfit(np.log([r[0] for r in rows]), np.log([r[1] for r in rows]), 1)[0]
    print(f"d ln n_qp / d ln P = {slope:.3f} (Rothwarf-Taylor: 0.5 when recombination limits)")
