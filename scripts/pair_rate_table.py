"""Per-mode pair-breaking rates of the grid against the continuum BCS rate (docs/numerics.md,
"Pair processes at the gap edge"; the table of docs/validation.md).

For each phonon mode ``m`` near ``2 Delta`` it prints the grid's pair-breaking rate per phonon
at ``f = 0`` (``h [conv(rho, rho) + conv(phi, phi)]``, plus the strip correction when it is
on) divided by

* the continuum rate at the mode's node, ``Gamma(x_m) = int_Delta^{x_m - Delta} (E E' + Delta^2)
  / sqrt((E^2 - Delta^2)(E'^2 - Delta^2)) dE`` (``E' = x_m - E``; its limit at ``2 Delta+`` is
  ``pi Delta``), and
* its average over the part of the mode's cell above ``2 Delta``,

both from scipy's adaptive quadrature (independent of the solver's closed forms). Usage::

    python scripts/pair_rate_table.py [--modes 4] [--steps 16 32 64 128]
"""
import argparse

import numpy as np
from scipy.integrate import quad

from boltzphlow_mpi.physics.collisions import CollisionKernel, conv
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra, gap_aligned_step

DELTA = 1.0


def continuum_rate(omega, delta=DELTA):
    """``Gamma(Omega)`` in units of ``Delta`` (0 below ``2 Delta``)."""
    if omega <= 2 * delta:
        return 0.0
    half = omega / 2

    def g(e):  # the integrand times sqrt(E - Delta), smooth on [Delta, Omega/2]
        ep = omega - e
        return (e * ep + delta * delta) / np.sqrt((e + delta) * (ep * ep - delta * delta))

    # symmetric about Omega/2; the 1/sqrt(E - Delta) end by the algebraic weight
    return 2 * quad(g, delta, half, weight="alg", wvar=(-0.5, 0.0), limit=200)[0] if half > delta else 0.0


def grid_rates(step, edge_pairs, delta=DELTA):
    """Per-mode pair-breaking rate per phonon at ``f = 0`` (internal ``c_pair`` set to 1)."""
    grid = EnergyGrid.from_max(step, 8 * delta, 100 * delta)
    kern = CollisionKernel(grid, 1.0, 1.0, edge_pairs=edge_pairs)
    sp = cell_spectra(grid, [delta])
    rate = grid.step * (conv(sp.rho, sp.rho) + conv(sp.phi, sp.phi))
    if kern.edge is not None:
        rate = rate + kern.edge.mode_sums(np.zeros((1, grid.size)), sp)[1]
    return grid, rate[0]


def rows(n, aligned, edge_pairs, modes):
    step = gap_aligned_step(DELTA / n, DELTA) if aligned else DELTA / n
    grid, rate = grid_rates(step, edge_pairs)
    h, x = grid.step, grid.x
    first = int(np.ceil((2 * DELTA) / h - 0.5 + 1e-9))   # first mode whose cell reaches above 2 Delta
    out = []
    for m in range(first, first + modes):
        lo, hi = max(x[m] - h / 2, 2 * DELTA), x[m] + h / 2
        avg = quad(continuum_rate, lo, hi, limit=200)[0] / (hi - lo)
        node = continuum_rate(x[m])
        out.append(((x[m] - 2 * DELTA) / h, rate[m] / node if node > 0 else np.inf, rate[m] * h / (hi - lo) / avg))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", type=int, default=4)
    ap.add_argument("--steps", type=int, nargs="+", default=[16, 32, 64, 128], help="Delta/h (before alignment)")
    a = ap.parse_args(argv)
    print("| grid | weights | h | " + " | ".join(f"mode {j}: (x-2D)/h, /node, /cell" for j in range(a.modes)) + " |")
    print("|---|---|---|" + "---|" * a.modes)
    for aligned in (False, True):
        for edge in (False, True):
            for n in a.steps:
                cells = " | ".join(f"{d:+.2f}, {r:.4f}, {c:.4f}" for d, r, c in rows(n, aligned, edge, a.modes))
                step = gap_aligned_step(DELTA / n, DELTA) if aligned else DELTA / n
                print(f"| {'aligned' if aligned else 'Delta on a node'} | {'strip' if edge else 'product'} | "
                      f"Delta/{DELTA / step:.2f} | {cells} |")


if __name__ == "__main__":
    main()
