"""Grid convergence of a driven steady state with and without the two gap-edge measures
(docs/numerics.md, "Pair processes at the gap edge" and "The gap-aligned grid"; the table of
docs/validation.md).

The job is issue 14's comparison case (tests/jobs/nestfsss.toml: Al at 0.1 T_c, photons at
``5 Delta_0``, every phonon escaping in ``5 tau_pb``) at ``h = Delta_0/n``. For each
discretization it prints ``eta``, ``N_qp`` (um^-3) and the trapping factor
``tau_esc/tau_B`` of the recombination phonons (``efficiency.generation_efficiency``):

* ``node, product``: the gap on a node, products of cell averages (before issue 16);
* ``node, strip``: the gap on a node, the strip pair weights at the edge;
* ``aligned, product`` and ``aligned, strip`` (the default): the gap-aligned grid.

    python scripts/edge_convergence.py [--steps 16 32 64] [--offsets]

``--offsets`` also prints how the results move with the gap's place in its cell at
``h = Delta_0/16`` (the step stretched so that ``Delta_0/h = 16 + offset``).
"""
import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.numerics import steady_point
from boltzphlow_mpi.parallel.comm import Parallel
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.analysis.efficiency import generation_efficiency

import jobs

SETTINGS = {"node, product": (False, False), "node, strip": (False, True),
            "aligned, product": (True, False), "aligned, strip": (True, True)}


def solve(n, aligned, strip):
    """``(h/Delta_0, gap offset in its cell, eta, N_qp um^-3, trapping, Newton iterations, s)``."""
    sim = Simulation(config.from_dict(jobs.table(
        "nestfsss", grid__energy_step_over_delta0=1.0 / n, grid__align_gap=aligned,
        collisions__edge_pair_weights=strip)), Parallel())
    t = time.perf_counter()
    res = steady_point.solve(sim)
    wall = time.perf_counter() - t
    m = sim.model
    f = m.unpack(res["y"])[0]
    nqp = float(dg.qp_number(sim.grid, m.spectra, f)[0]) * sim.units.number_density_per_um3
    ge = generation_efficiency(m, res["y"], res["balance"]["absorbed"])
    d = float(m.delta[0]) / sim.grid.step
    return (sim.grid.step / sim.delta0, (d + 1e-9) % 1.0, float(ge["eta"][0]), nqp,
            float(ge["trapping"][0]), res["iterations"], wall)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=float, nargs="+", default=[16, 32, 64], help="Delta_0/h requested")
    ap.add_argument("--offsets", action="store_true")
    a = ap.parse_args(argv)
    import petsc4py
    petsc4py.init([])
    print("| discretization | h | gap offset (cells) | eta | N_qp (um^-3) | tau_esc/tau_B | Newton its |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, (aligned, strip) in SETTINGS.items():
        for n in a.steps:
            h, off, eta, nqp, trap, its, _ = solve(n, aligned, strip)
            print(f"| {name} | Delta_0/{1 / h:.2f} | {off:.2f} | {eta:.5f} | {nqp:.3f} | {trap:.4f} | {its} |", flush=True)
    if a.offsets:
        print("\n| gap offset (cells) | h | eta (product) | N_qp (product) | tau_esc/tau_B (product) "
              "| eta (strip) | N_qp (strip) | tau_esc/tau_B (strip) |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for off in (0.0, 0.25, 0.5, 0.75):
            h, o, *prod = solve(16 + off, False, False)[:5]
            strip = solve(16 + off, False, True)[2:5]
            print(f"| {o:.2f} | Delta_0/{1 / h:.2f} | {prod[0]:.5f} | {prod[1]:.3f} | {prod[2]:.4f} "
                  f"| {strip[0]:.5f} | {strip[1]:.3f} | {strip[2]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
