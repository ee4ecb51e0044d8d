"""Numerics: time steppers and the step controller, steady-state solvers (PETSc SNES).
"""
