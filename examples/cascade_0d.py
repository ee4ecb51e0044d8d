"""A 0-D cascade in Al: phonons of 10 Delta_0 break pairs, the QPs relax and recombine.

    python examples/cascade_0d.py [T_END_NS] [OUTPUT.h5]

Runs jobs/default.toml (shortened to T_END_NS, default 20 ns) into an output file, prints
where the deposited energy went, and reads the file back with ``bp.open_output``.
"""
import pathlib
import sys

import boltzphlow_mpi as bp

ROOT = pathlib.Path(__file__).resolve().parents[1]
t_end = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
path = sys.argv[2] if len(sys.argv) > 2 else "cascade_0d.h5"

sim = bp.Simulation.from_toml(ROOT / "jobs" / "default.toml",
                              overrides={"time.t_end_ns": t_end, "time.output_interval_ns": t_end / 10})
sim.run(output=path, force=True, progress=lambda s, wall: None)
summary = sim.summary()
if sim.par.rank == 0:
    print(f"t = {summary['t_ns']:g} ns after {summary['steps']} steps")
    for part, energy in summary["deposit_parts"].items():
        print(f"  {part:18s} {100 * energy / summary['deposit']:6.2f} % of the deposit")
    print(f"  eta = {summary['eta']:.4f}, ledger error {summary['energy_ledger_error']:.2e}")
    out = bp.open_output(path)
    excess = out.data["qp_number_excess"]
    print(f"  excess QPs: {excess[1]:.4g} -> {excess[-1]:.4g} {out.units['qp_number_excess']} "
          f"from {out.time[1]:g} to {out.time[-1]:g} {out.units['time']}")
