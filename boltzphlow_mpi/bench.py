"""Benchmarks: printed ratios measured in one run (never timed tests).

``kernels``: direct O(N^2) vs FFT O(N log N) evaluation of the collision coefficients on
the same input (a cold thermal background plus a hot QP and phonon packet), seconds for
each, their ratio and the max-norm difference relative to the largest coefficient.
"""
import time

import numpy as np

from .collisions import CollisionKernel
from .energy_grid import EnergyGrid, cell_spectra
from .gap import BCS_RATIO
from .thermal_functions import bose, fermi


def _best_time(fn, repeat, budget_s=20.0):
    best, start = np.inf, time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return best, out


def kernel_input(n, cells=1, delta0=BCS_RATIO, temperature=0.1):
    grid = EnergyGrid(step=20 * delta0 / n, size=n, debye=1e9)
    x = grid.x
    f = fermi(x, temperature) + 1e-3 * np.exp(-0.5 * ((x - 5 * delta0) / delta0) ** 2)
    nn = (bose(x, temperature) + 1e-3 * np.exp(-0.5 * ((x - 12 * delta0) / delta0) ** 2)) * grid.phonon_mask
    spectra = cell_spectra(grid, np.full(cells, delta0))
    return grid, np.tile(f, (cells, 1)), np.tile(nn, (cells, 1)), spectra


def kernels(sizes=(4096,), cells=1, repeat=5, tau_ratio=1800.0, delta0=BCS_RATIO):
    rows = []
    for n in sizes:
        grid, f, nn, spectra = kernel_input(n, cells, delta0)
        fft = CollisionKernel(grid, tau_ratio, delta0, "fft")
        direct = CollisionKernel(grid, tau_ratio, delta0, "direct")
        t_fft, c_fft = _best_time(lambda: fft.coefficients(f, nn, spectra), repeat)
        t_dir, c_dir = _best_time(lambda: direct.coefficients(f, nn, spectra), max(1, repeat // 3))
        diff = max(np.max(np.abs(getattr(c_fft, k) - getattr(c_dir, k))) / np.max(np.abs(getattr(c_dir, k)))
                   for k in ("A", "B", "Ap", "Bp"))
        rows.append({"n": n, "cells": cells, "direct_s": t_dir, "fft_s": t_fft,
                     "speedup": t_dir / t_fft, "max_rel_diff": diff})
    return rows
