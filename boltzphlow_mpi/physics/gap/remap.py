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

from boltzphlow_mpi.jit import njit


def remap_occupation(f, rho_old, rho_new, step):
    """Occupations ``f`` (cells, ..., N) after the DOS of each cell changes from ``rho_old``
    to ``rho_new`` (cells, N). Cells without states keep their old value."""
    f = np.asarray(f, float)
    cells, n = rho_old.shape
    if cells == 0:  # a rank without cells (the point cell lives on one rank)
        return f.copy()
    rows = np.ascontiguousarray(f.reshape(cells, -1, n))
    out = _remap(rows, np.ascontiguousarray(rho_old, float), np.ascontiguousarray(rho_new, float), float(step))
    return out.reshape(f.shape)


@njit
def _remap(rows, rho_old, rho_new, step):
    """The overlap integrals of ``remap_occupation``, per cell: the breakpoints ``X`` of the
    old and the new cells merged into one sorted list without repeats; each piece between
    two breakpoints belongs to the old and the new cell whose ``X`` range holds its
    midpoint (clipped to the grid), and moves its length times the old ``f`` (nothing
    from beyond the old top) into the new cell."""
    cells, R, n = rows.shape
    out = rows.copy()
    xo = np.empty(n + 1)
    xn = np.empty(n + 1)
    cuts = np.empty(2 * n + 2)
    length = np.empty(2 * n + 1)
    inside = np.empty(2 * n + 1, dtype=np.bool_)
    io = np.empty(2 * n + 1, dtype=np.int64)
    inew = np.empty(2 * n + 1, dtype=np.int64)
    weight = np.empty(n)
    content = np.empty(n)
    for c in range(cells):
        same = True
        for k in range(n):
            if rho_old[c, k] != rho_new[c, k]:
                same = False
                break
        if same:
            continue
        xo[0] = 0.0
        xn[0] = 0.0
        so = 0.0
        sn = 0.0
        for k in range(n):
            so += step * rho_old[c, k]
            sn += step * rho_new[c, k]
            xo[k + 1] = so
            xn[k + 1] = sn
        # merge the two sorted lists, dropping repeated values
        i = j = 0
        m = 0
        while i <= n or j <= n:
            if j > n or (i <= n and xo[i] <= xn[j]):
                v = xo[i]
                i += 1
            else:
                v = xn[j]
                j += 1
            if m == 0 or v != cuts[m - 1]:
                cuts[m] = v
                m += 1
        pieces = m - 1
        below_o = below_n = 0  # how many breakpoints lie at or below the midpoint
        for p in range(pieces):
            length[p] = cuts[p + 1] - cuts[p]
            mid = 0.5 * (cuts[p + 1] + cuts[p])
            while below_o <= n and xo[below_o] <= mid:
                below_o += 1
            while below_n <= n and xn[below_n] <= mid:
                below_n += 1
            io[p] = min(max(below_o - 1, 0), n - 1)
            inew[p] = min(max(below_n - 1, 0), n - 1)
            inside[p] = mid < xo[n]
        weight[:] = 0.0
        for p in range(pieces):
            weight[inew[p]] += length[p]
        weight[n - 1] = step * rho_new[c, n - 1]  # the top cell also receives what lies beyond the new top
        for r in range(R):
            content[:] = 0.0
            for p in range(pieces):
                content[inew[p]] += length[p] * rows[c, r, io[p]] if inside[p] else 0.0
            for k in range(n):
                if rho_new[c, k] > 0 and weight[k] > 0:
                    out[c, r, k] = content[k] / weight[k]
            out[c, r, n - 1] = min(out[c, r, n - 1], 1.0)
    return out
