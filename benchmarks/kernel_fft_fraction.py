"""FFT vs direct collision evaluation, and the share of the FFT path spent in the FFTs.

For each N: best wall time of ``CollisionKernel.coefficients`` with method fft and
direct on the ``bench.kernel_input`` problem (same input as ``boltzphlow bench kernels``),
their ratio and max-norm difference; then the scipy.fft calls of ``CollisionKernel._fft``
alone (one batched rfft of the 7 x cells x N inputs to length L, one batched irfft of the
7 x cells x (L/2+1) products), and their share of the FFT path ("FFT bound": the path
cannot be faster than its transforms). Serial.

    python benchmarks/kernel_fft_fraction.py [--sizes 512,1024,...] [--cells 1] [--json out.json]
"""
import numpy as np
from scipy import fft as sfft

from boltzphlow_mpi.extras.bench import kernel_input
from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO

import _common  # noqa: F401  (sys.path)
from _common import arg, best_time, dump


def fft_only(kernel, cells, repeat):
    """Seconds of the batched rfft and irfft of ``_fft`` on arrays of its shapes."""
    L, N = kernel.fft_size, kernel.grid.size
    rng = np.random.default_rng(0)
    real_in = rng.random((7, cells, N))
    spec_in = sfft.rfft(rng.random((7, cells, N)), L, axis=-1)
    t_r, _ = best_time(lambda: sfft.rfft(real_in, L, axis=-1), repeat)
    t_i, _ = best_time(lambda: sfft.irfft(spec_in, L, axis=-1), repeat)
    return t_r, t_i


def run(sizes, cells, repeat=7, direct=True):
    rows = []
    for n in sizes:
        grid, f, nn, spectra = kernel_input(n, cells)
        fft = CollisionKernel(grid, 1800.0, BCS_RATIO, "fft")
        t_fft, c_fft = best_time(lambda: fft.coefficients(f, nn, spectra), repeat)
        t_r, t_i = fft_only(fft, cells, repeat)
        row = {"n": n, "cells": cells, "fft_len": fft.fft_size, "fft_s": t_fft, "rfft_s": t_r, "irfft_s": t_i,
               "fft_fraction": (t_r + t_i) / t_fft}
        if direct:
            dk = CollisionKernel(grid, 1800.0, BCS_RATIO, "direct")
            t_dir, c_dir = best_time(lambda: dk.coefficients(f, nn, spectra), 3 if n <= 2048 else 1, budget_s=5.0)
            row.update(direct_s=t_dir, speedup=t_dir / t_fft,
                       max_rel_diff=max(np.max(np.abs(getattr(c_fft, k) - getattr(c_dir, k)))
                                        / np.max(np.abs(getattr(c_dir, k))) for k in ("A", "B", "Ap", "Bp")))
        rows.append(row)
    return rows


if __name__ == "__main__":
    sizes = [int(s) for s in arg("--sizes", "512,1024,2048,4096,8192", str).split(",")]
    batch = arg("--batch-cells", 32, int)
    dump({"single": run(sizes, 1), "batched": run(sizes, batch, repeat=5, direct=False)})
