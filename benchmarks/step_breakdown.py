"""Full radial step (collisions, gap, transport with ghost exchange and transposes): time
per step and its split, on all ranks of the launch (run under mpirun -n 1 and -n 2).

The problem is ``bench.step_config`` (Sn sphere, phonon hot spot, diffusive QPs, kinetic
phonons, self-consistent gap, exp stepper, fixed step). Two independent measurements:

* timers: ``simulation.stage`` is wrapped so that each PETSc stage (collisions, gap,
  transport) also accumulates wall time; ``Domain.exchange`` (DMDA globalToLocal of the
  phonon block) and ``Transposer.to_columns``/``to_cells`` (all-to-all) are wrapped too.
  Reset after the warm-up step, max over ranks.
* PETSc ``-log_view``: the "Summary of Stages" table (it includes the warm-up step and
  the set-up in the Main Stage), parsed from the ASCII log.

    mpirun -n 2 python benchmarks/step_breakdown.py [--cells 256] [--energies 512] [--steps 5]
        [--qp-solver exact|partition] --json out.json
"""
import re
import sys
import tempfile
import time

import petsc4py

petsc4py.init([sys.argv[0], "-log_view", ":/dev/null"])  # logging on; the log is viewed into a file below
from petsc4py import PETSc

from boltzphlow_mpi.app import config, simulation
from boltzphlow_mpi.extras.bench import step_config
from boltzphlow_mpi.numerics import integrator, stiff
from boltzphlow_mpi.parallel import comm as parallel
from boltzphlow_mpi.parallel.comm import Parallel, Transposer
from boltzphlow_mpi.parallel.domain import Domain
from boltzphlow_mpi.physics import collisions

import _common  # noqa: F401
from _common import arg, dump

TIMERS = {}


def _add(name, dt):
    t, n = TIMERS.get(name, (0.0, 0))
    TIMERS[name] = (t + dt, n + 1)


def timed_stage(name):
    inner = parallel.stage(name)

    class _S:
        def __enter__(self):
            inner.__enter__()
            self.t0 = time.perf_counter()
            return self

        def __exit__(self, *exc):
            _add(name, time.perf_counter() - self.t0)
            return inner.__exit__(*exc)

    return _S()


def wrap(cls, meth, label):
    orig = getattr(cls, meth)

    def w(self, *a, **k):
        t0 = time.perf_counter()
        out = orig(self, *a, **k)
        _add(label, time.perf_counter() - t0)
        return out

    setattr(cls, meth, w)


# every module that opens a stage (since issue 12 the integrator opens collisions and transport)
for _module in (simulation, integrator, stiff):
    _module.stage = timed_stage
wrap(Domain, "exchange", "ghost_exchange")


class _TimedFFT:
    """Stands in for ``scipy.fft`` in the collision module: ``rfft`` and ``irfft`` timed
    (the transforms of the collision evaluations, the floor of the collision stage)."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        fn = getattr(self.inner, name)
        if name not in ("rfft", "irfft"):
            return fn

        def timed(*a, **k):
            t0 = time.perf_counter()
            out = fn(*a, **k)
            _add("collision_ffts", time.perf_counter() - t0)
            return out
        return timed


collisions.sfft = _TimedFFT(collisions.sfft)
wrap(Transposer, "to_columns", "transpose")
wrap(Transposer, "to_cells", "transpose")


def parse_stages(text):
    """{stage: (seconds avg over ranks, % of total)} from a -log_view ASCII summary."""
    out = {}
    block = text.split("Summary of Stages:", 1)[-1].split("\n\n", 1)[0]
    for m in re.finditer(r"^\s*\d+:\s+(.+?):\s+([0-9.eE+-]+)\s+([0-9.]+)%", block, re.MULTILINE):
        out[m.group(1).strip()] = (float(m.group(2)), float(m.group(3)))
    return out


def main():
    cells, energies = arg("--cells", 256, int), arg("--energies", 512, int)
    angles, steps = arg("--angles", 4, int), arg("--steps", 5, int)
    par = Parallel()
    qp_solver = arg("--qp-solver", "exact", str)
    sim = simulation.Simulation(config.from_dict(step_config(cells, energies, angles, qp_solver)), par)
    sim.advance_to(sim.integrator.fixed_dt)  # warm-up
    TIMERS.clear()
    par.comm.barrier()
    t0 = time.perf_counter()
    sim.advance_to(sim.t + steps * sim.integrator.fixed_dt)
    par.comm.barrier()
    wall = par.reduce_max(time.perf_counter() - t0)
    # the steps computed, one collision stage each: advance_to stops its trajectory before
    # the target and lands on a branch, so they are not the time advanced over dt
    steps = TIMERS["collisions"][1]
    timers = {k: (par.reduce_max(v[0]) / steps, v[1] / steps) for k, v in TIMERS.items()}
    # -log_view text (ASCII viewer on a file, collective)
    path = par.bcast(tempfile.mktemp(suffix=".log") if par.rank == 0 else None)
    viewer = PETSc.Viewer().createASCII(path, comm=par.comm)
    PETSc.Log.view(viewer)
    viewer.destroy()
    par.comm.barrier()
    if par.rank == 0:
        text = open(path).read()
        dump({"ranks": par.size, "cells": cells, "energies": energies, "angles": angles, "qp_solver": qp_solver, "steps": steps,
              "s_per_step": wall / steps,
              "cell_energy_updates_per_s_per_rank": cells * energies / (wall / steps) / par.size,
              "timers_s_per_step": {k: v[0] for k, v in timers.items()},
              "calls_per_step": {k: v[1] for k, v in timers.items()},
              "log_view_stages": parse_stages(text), "log_view_excerpt": text.split("Summary of Stages:", 1)[-1][:1500]})


if __name__ == "__main__":
    main()
