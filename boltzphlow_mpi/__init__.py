"""BoltzPhlow-MPI: quasiparticle and phonon kinetics in superconductors.

Physics follows ``shared/SPEC.md``; section numbers in docstrings refer to it.
Physics modules (``materials``, ``energy_grid``, ``collisions``, ``gap``,
``steppers``, ``diagnostics``, ``thermal``, ``lifetimes``) import neither PETSc nor MPI.
"""

__version__ = "0.1.0"
