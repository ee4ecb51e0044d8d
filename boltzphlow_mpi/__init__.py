"""BoltzPhlow-MPI: quasiparticle and phonon kinetics in superconductors.

The equations are described in ``docs/physics.md``, their numerics in ``docs/numerics.md``,
the material data in ``docs/materials.md``; docstrings cite their sections by heading.

Layers (``docs/architecture.md``), each importing only the ones above it:

* ``physics``: materials, units, statistics, energy grid, collisions, kinetics, drives,
  transport operators, ``gap`` (BCS, Eliashberg, models, remap), ``analysis``; numpy and
  scipy only, no mpi4py, petsc4py or h5py;
* ``numerics``: time steppers, the step controller, the split integrator, steady-state solvers;
* ``parallel``: communicator, transposes, log stages, the DMDA domain, radial transport;
* ``fileio``: output files, checkpoints, mesh files;
* ``app``: config (typed, frozen sections), builder, simulation, schedule and handlers, sweeps;
* ``cli`` (the ``boltzphlow`` command) and ``extras`` (plots, benchmarks) on top.

The Python API (``public``, docs/api.md)::

    import boltzphlow_mpi as bp
    sim = bp.Simulation.from_toml("jobs/default.toml", overrides={"time.t_end_ns": 50})
    sim.run(output="out/default.h5")
    print(sim.summary()["eta"])
"""

import os

# One BLAS/OpenMP thread per rank unless the environment says otherwise: a threaded LAPACK
# factorisation (the BDF's LU) rounds differently with the thread count, which depends on
# how mpirun binds the ranks (bound ranks see one core, oversubscribed ones all), and the
# results must not depend on the number of ranks (docs/numerics.md, "Rank independence").
# It acts when the package is imported before numpy (the command line, `import
# boltzphlow_mpi` first); `scripts/setup.sh`'s mpirun wrapper exports it to every rank.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"

_PUBLIC = ("Checkpoints", "InputError", "Output", "Records", "Simulation", "SolverError", "open_output")
__all__ = list(_PUBLIC)


def __getattr__(name):
    """``bp.Simulation`` and the rest of ``public`` on first use (PEP 562): importing the
    package alone, or its ``physics`` layer, does not import mpi4py, petsc4py or h5py."""
    if name in _PUBLIC:
        from boltzphlow_mpi import public
        return getattr(public, name)
    raise AttributeError(f"module 'boltzphlow_mpi' has no attribute {name!r}")
