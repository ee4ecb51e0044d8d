"""A Sn sphere on several ranks: a phonon deposit at the centre spreads, breaks pairs and
leaves through the surface.

    mpirun -n 2 python examples/sphere_mpi.py [T_END_NS] [OUTPUT.h5]

The same script runs on any number of ranks; the output file does not depend on it.
"""
import sys

import boltzphlow_mpi as bp

t_end = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
path = sys.argv[2] if len(sys.argv) > 2 else "sphere_mpi.h5"
JOB = {
    "material": {"name": "Sn"},
    "bath": {"temperature_over_tc": 0.15},
    "grid": {"energy_step_over_delta0": 0.25, "energy_max_over_delta0": 8.0},
    "geometry": {"kind": "sphere", "radius_um": 20.0, "cells": 12},
    "transport": {"qp": "diffusive", "qp_mean_free_path_um": 0.3, "phonon": "kinetic", "angles": 4},
    "gap": {"mode": "self-consistent"},
    "initial": {"species": "phonon", "energy_center_over_delta0": 5.0, "deposit_eV": 50.0, "radius_width_um": 3.0},
    "time": {"t_end_ns": t_end, "output_interval_ns": t_end / 4, "rtol": 1e-3},
}
sim = bp.Simulation.from_dict(JOB)  # all ranks of COMM_WORLD share the cells
sim.run(output=path, force=True)
s = sim.summary()  # collective: every rank calls it
if sim.par.rank == 0:
    print(f"{sim.par.size} rank(s): t = {s['t_ns']:g} ns, {s['steps']} steps, "
          f"{100 * s['deposit_parts']['out through R'] / s['deposit']:.2f} % of the deposit out through R, "
          f"ledger error {s['energy_ledger_error']:.2e}")
