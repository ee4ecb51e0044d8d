"""BoltzPhlow-MPI: quasiparticle and phonon kinetics in superconductors.

The equations are described in ``docs/physics.md``, their numerics in ``docs/numerics.md``,
the material data in ``docs/materials.md``; docstrings cite their sections by heading.

Layers (``docs/architecture.md``), each importing only the ones above it:

* ``physics``: materials, units, statistics, energy grid, collisions, kinetics, drives,
  transport operators, ``gap`` (BCS, Eliashberg, models, remap), ``analysis``; numpy and
  scipy only, no mpi4py, petsc4py or h5py;
* ``numerics``: time steppers and the step controller, steady-state solvers;
* ``parallel``: communicator, transposes, log stages, the DMDA domain, radial transport;
* ``fileio``: output files, checkpoints, mesh files;
* ``app``: config, simulation, sweeps;
* ``cli`` (the ``boltzphlow`` command) and ``extras`` (plots, benchmarks) on top.
"""

__version__ = "0.1.0"
