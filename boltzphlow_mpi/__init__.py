"""BoltzPhlow-MPI: quasiparticle and phonon kinetics in superconductors.

The equations are described in ``docs/physics.md``, their numerics in ``docs/numerics.md``,
the material data in ``docs/materials.md``; docstrings cite their sections by heading.
Physics modules (``materials``, ``energy_grid``, ``collisions``, ``gap``,
``steppers``, ``diagnostics``, ``thermal``, ``lifetimes``) import neither PETSc nor MPI.
"""

__version__ = "0.1.0"
