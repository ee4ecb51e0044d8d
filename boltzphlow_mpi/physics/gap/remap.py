"""QP remapping when a cell's gap (spectral functions) changes (notes section 2.3).

With ``E^2 = xi^2 + Delta(r, t)^2`` the phase-space flow conserves volume: a QP keeps its
``xi`` while its energy follows the gap. On the grid the measure of ``xi`` is the cumulative
density of states, ``X(E) = int_0^E rho dE'`` (cell ``k`` spans ``[X_k, X_k + h rho_k]``), for
BCS as for any broadened or Eliashberg ``rho``. The old occupation is piecewise constant
on the old ``X`` cells; each new cell receives the overlap integral, so

* the QP number ``4 h sum rho f = 4 int f dX`` is conserved to round-off (relative to
  the total ``X`` range),
* every new ``f`` is a convex combination of old values (weights: the lengths of the
  overlaps, from the merged sorted breakpoints, so they are never negative), so
  ``0 <= f <= 1`` holds exactly, also for the tiny cells at a gap edge,
* an unchanged ``rho`` leaves ``f`` unchanged; there are no QPs beyond the old top, and
  old content beyond the new top goes into the top cell (``f`` there is negligible by
  the choice of ``E_max``, docs/physics.md, "Energy grid and cell-averaged spectral functions").

The energy change ``4 h sum x rho (f_new - f_old)`` is exchanged with the condensate (the
caller books it). Pure numpy: no PETSc, no MPI.
"""
import numpy as np


def remap_occupation(f, rho_old, rho_new, step):
    """Occupations ``f`` (cells, ..., N) after the DOS of each cell changes from ``rho_old``
    to ``rho_new`` (cells, N). Cells without states keep their old value."""
    f = np.asarray(f, float)
    out = f.copy()
    cells, n = rho_old.shape
    if cells == 0:  # a rank without cells (the point cell lives on one rank)
        return out
    rows = f.reshape(cells, -1, n)
    res = out.reshape(cells, -1, n)
    for c in range(cells):
        ro, rn = rho_old[c], rho_new[c]
        if np.array_equal(ro, rn):
            continue
        xo = np.concatenate([[0.0], np.cumsum(step * ro)])
        xn = np.concatenate([[0.0], np.cumsum(step * rn)])
        cuts = np.unique(np.concatenate([xo, xn]))
        length = np.diff(cuts)
        mid = 0.5 * (cuts[1:] + cuts[:-1])
        io = np.clip(np.searchsorted(xo, mid, side="right") - 1, 0, n - 1)
        inew = np.clip(np.searchsorted(xn, mid, side="right") - 1, 0, n - 1)
        inside = mid < xo[-1]   # no QPs beyond the old top
        weight = np.bincount(inew, weights=length, minlength=n)
        weight[-1] = step * rn[-1]  # the top cell also receives what lies beyond the new top
        has = (rn > 0) & (weight > 0)
        for m in range(rows.shape[1]):
            content = np.bincount(inew, weights=np.where(inside, length * rows[c, m][io], 0.0), minlength=n)
            new = np.where(has, content / np.where(has, weight, 1.0), rows[c, m])
            new[-1] = min(new[-1], 1.0)
            res[c, m] = new
    return out
