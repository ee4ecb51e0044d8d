"""Physics: materials, units, statistics, the energy grid, collision integrals, kinetics, drives,
transport operators, the gap (BCS, Eliashberg) and analysis. numpy and scipy only: nothing
here imports mpi4py, petsc4py or h5py (tests/physics/test_layering.py).
"""
