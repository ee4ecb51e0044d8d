"""Exact pair-breaking / recombination and scattering weights near the gap edge
(docs/physics.md, "Energy grid and cell-averaged spectral functions" and "Collision integrals").

A phonon mode ``m`` (``Omega_m = x_m``) is coupled to the QP pairs ``(k, k')`` with
``k + k' = m`` through the case-I coherence weight ``w = rho rho' + phi phi'``. The
collision kernel uses the product of cell averages ``rho_k rho_k' + phi_k phi_k'``, which is
``1/h^2`` times the integral of ``w`` over the square ``cell k x cell k'``. That square spans
``E + E'`` in ``[x_m - h, x_m + h]``; near the edge, where ``w`` is singular on both axes, the
per-mode pair-breaking rate is then O(1) off the continuum at every ``h`` (1.27 times the
cell average of ``Gamma(Omega)`` at the threshold mode).

Finite volume in the phonon energy: mode ``m`` stands for the strip
``S_m = {x_m - h/2 < E + E' < x_m + h/2}``, and the weights of its pairs must share out the
integral of ``w`` over ``S_m``. ``P_{k,m}`` is the part with ``E`` in cell ``k`` (a
parallelogram: the hexagon ``S_m & square(k, m-k)`` and the corner triangles of the squares
``(k, m-k-1)`` and ``(k, m-k+1)``). Each corner triangle lies in one square but is claimed by
two pairs of mode ``m``, one that keeps each of its two QP cells. Two tilings:

``tiling="edge"`` (default): the triangle goes to the pair that keeps the cell of the QP of
lower energy (the one nearer the edge); ties on the diagonal are split. Then
``W_{k,k'} = P_{k,k+k'}`` for ``k' >= k + 2``: the lower QP's cell content is exact, so an
edge QP paired with a far partner keeps its product weight up to a relative
``O(h / (E' - Delta))``, and the correction fits a small window. Near the diagonal the
triangles are moved explicitly (``_window_weights``).

``tiling="symmetric"``: ``W_{k,k'} = (P_{k,k+k'} + P_{k',k+k'}) / 2``, every triangle split
evenly. Equally exact per mode, but it moves ~3 % of the edge cell's weight (all partners,
at every ``h``) into the next cell, so the correction does not fit a window (J = 96 still
leaves 0.5-1.5 % per-mode errors).

Both are symmetric and non-negative, and ``h sum_{k+k'=m} W_{k,k'} = (1/h) int_{cell m}
Gamma dOmega`` for every mode with a pair on the grid. BCS with the gap inside the first
cell with states ``k0``: the strip content with a partner in the empty cell ``k0 - 1`` is
kept in the same mode (it belongs to triangles of the squares ``(k0 + a, k0)``, which the
edge tiling gives to ``(k0 + a - 1, k0)``; the symmetric tiling folds it there). Only mode
``2 k0 - 1`` has content but no pair with states; it is dropped (``below_threshold="drop"``,
default: every mode >= 2 k0 stays exact) or added to ``(k0, k0)`` (``"fold"``: keeps that
pair's QP-side content, over-weights mode ``2 k0``).

Scattering (a QP at ``E`` absorbs ``Omega``, ``E' = E + Omega``, case-II factor
``rho rho' - phi phi'``): the strip of phonon mode ``j`` is ``x_j - h/2 < E' - E < x_j + h/2``
and the pair ``(k, k + j)`` gets the part with the lower QP in cell ``k``.

What no per-mode-exact weight can keep: the product weights are the exact integral over
``cell k x cell k'``, i.e. exact on the QP side (the recombination weight of a QP cell for
any cell-wise constant partner occupation). The strip weights move content between the
first three QP cells instead: for a cold distribution ``exp(-E/T*)`` the edge cell's
recombination weight changes by -1 to -23 %, and the total recombination rate by up to -14 %
at ``T*/h = 1`` and up to -2.5 % at ``T*/h = 10`` (independent of ``h`` at fixed ``T*/h``,
strongly dependent on the gap position). Likewise for
scattering: the weight with the lower QP in its cell is exact for absorption, the one with
the upper QP in its cell (emission) differs from it by 5-15 % at the edge.

The public functions return corrections to the product weights on a ``J x J`` window at the
edge per batch cell (``pair_weight_correction``, ``scatter_weight_correction``).

Quadrature. Every weight is a difference of 1-D integrals over a half cell of ``E`` of
``rho R(u - tau) + phi F(u - tau)`` (``R``, ``F``: antiderivatives of ``rho``, ``phi``; ``u``:
a partner band edge), with singular points at ``E = Delta`` (``1/sqrt``, approached from
above) and where the partner reaches ``Delta`` (``sqrt``, one-sided). Pieces split at those
inside, each piece halved, each half mapped by ``E = s + t^2`` or ``E = s - t^2`` about the
nearest singular point ``s`` outside it, Gauss-Legendre in ``t``: analytic in ``t`` whether
``s`` is at the end of the piece or just beyond it. With Dynes broadening the singular points
move ``gamma`` off the axis and the pieces are also graded geometrically down to ``gamma``.
Rows and bands away from the edge share Gauss nodes (a matrix product); an edge row
against a far band interpolates the smooth band function on those nodes and integrates the
singular density against the cardinal functions (and the other way round), so only edge
row x edge band pairs need nodes of their own. Pure numpy, vectorized over batch cells.
"""
import numpy as np

from boltzphlow_mpi.physics.energy_grid import cell_spectra

#: Gauss-Legendre nodes per half piece near singular points
QUAD_NODES = 16
#: Gauss-Legendre nodes per half cell shared by all pairs (also the interpolation nodes of
#: the partner functions of edge rows; their singular points are >= h/2 off the cell)
FAR_NODES = 20
#: Window (cells) of ``pair_weight_correction``. Worst per-mode error against the continuum
#: cell average over gap positions: J = 20: 1.1e-3, 22: 9.0e-4, 24: 7.8e-4 (h = Delta/64;
#: 8.5e-4 at Delta/128, 5.1e-4 at Delta/16); 24 keeps a margin below 1e-3 down to Delta/128
DEFAULT_WINDOW = 24
#: For Dynes broadening the window starts this many cells below the cell holding Delta
#: (every cell has states there, so "the first cell with states" is cell 0)
DYNES_MARGIN = 2
_GRADING = 4.0
_MAX_GRADES = 12


def _gauss01(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def _spectral(e, e_rel, delta, gamma):
    """Pointwise ``rho``, ``phi`` at ``E = e``; ``e_rel = E - Delta`` is passed separately
    because near the edge it cannot be recovered from ``e`` without cancellation."""
    if gamma == 0:
        above = e_rel > 0
        root = np.sqrt(np.where(above, e_rel * (e + delta), 1.0))
        inv = np.where(above, 1.0 / root, 0.0)
        return e * inv, delta * inv
    # same branch as energy_grid._antiderivatives: sqrt(z - D) sqrt(z + D)
    z = e + 1j * gamma
    inv = 1.0 / (np.sqrt(e_rel + 1j * gamma) * np.sqrt(z + delta))
    return (z * inv).real, (delta * inv).real


def _antiderivative(v, delta, gamma):
    """``R``, ``F`` (antiderivatives of ``rho``, ``phi``) at ``u = Delta + v``, clipped at
    ``u = 0`` (partners have ``E' >= 0``); consistent with ``energy_grid._antiderivatives``."""
    if gamma == 0:
        v = np.maximum(v, 0.0)
        r = np.sqrt(v * (v + 2.0 * delta))
        # arccosh(u/D) = log1p((u - D + R)/D): no cancellation at the edge
        return r, delta * np.log1p((v + r) / delta)
    v = np.maximum(v, -delta)
    z = delta + v + 1j * gamma
    root = np.sqrt(v + 1j * gamma) * np.sqrt(z + delta)
    return root.real, (delta * np.log(z + root)).real


def _nearest(cands, p, reach, below):
    """Nearest candidate at or below ``p`` (``below``) / at or above it, within ``reach``;
    ``p -+ reach`` where there is none."""
    if below:
        ok = (cands <= p[..., None]) & (cands >= (p - reach)[..., None])
        best = np.where(ok, cands, -np.inf).max(axis=-1)
        return np.where(np.isfinite(best), best, p - reach)
    ok = (cands >= p[..., None]) & (cands <= (p + reach)[..., None])
    best = np.where(ok, cands, np.inf).min(axis=-1)
    return np.where(np.isfinite(best), best, p + reach)


def _panels(lo, hi, cuts, lower, upper, nodes=QUAD_NODES):
    """Nodes of the piecewise quadrature on ``[lo, hi]`` (arrays of shape S).

    ``cuts`` (S + (nc,)): split points (those outside ``[lo, hi]`` are ignored);
    ``lower`` / ``upper`` (S + (nl,)), (S + (nu,)): singular points that matter when approached
    from above / from below. Returns ``base``, ``offset``, ``weight``, ``minus``, each of shape
    S + (q,): the node is at ``base + offset`` (``offset`` is the small part, so the distance
    to a singular point equal to ``base`` carries no cancellation); ``minus`` marks nodes of
    pieces below 0 (0 must be among the cuts when the halves are needed separately).
    """
    x, w = _gauss01(nodes)
    hi = np.maximum(hi, lo)
    cut = np.clip(cuts, lo[..., None], hi[..., None])
    edges = np.sort(np.concatenate([lo[..., None], cut, hi[..., None]], axis=-1), axis=-1)
    p, q = edges[..., :-1], edges[..., 1:]
    length = q - p
    mid = p + 0.5 * length

    def spread(a):
        return np.broadcast_to(a[..., None, :], p.shape + a.shape[-1:])

    sl = _nearest(spread(lower), p, length, below=True) if lower.shape[-1] else p - length
    su = _nearest(spread(upper), q, length, below=False) if upper.shape[-1] else q + length
    # E = sl + t^2 (lower half), su - t^2 (upper half): sqrt behaviour at sl, su becomes analytic in t
    t0, t1 = np.sqrt(p - sl), np.sqrt(np.maximum(mid - sl, p - sl))
    t = t0[..., None] + (t1 - t0)[..., None] * x
    s0, s1 = np.sqrt(su - q), np.sqrt(np.maximum(su - mid, su - q))
    r = s0[..., None] + (s1 - s0)[..., None] * x
    base = np.concatenate([np.broadcast_to(sl[..., None], t.shape), np.broadcast_to(su[..., None], r.shape)], axis=-1)
    offset = np.concatenate([t * t, -r * r], axis=-1)
    weight = np.concatenate([2.0 * t * (t1 - t0)[..., None] * w, 2.0 * r * (s1 - s0)[..., None] * w], axis=-1)
    minus = np.broadcast_to((mid < 0)[..., None], base.shape)
    flat = p.shape[:-1] + (-1,)
    return base.reshape(flat), offset.reshape(flat), weight.reshape(flat), minus.reshape(flat)


def _grades(points, gamma, step):
    """Dynes: geometric split points ``s +- gamma 4^j`` (``< step``) around each point."""
    if gamma == 0:
        return points[..., :0]
    levels = int(np.clip(np.ceil(np.log(step / gamma) / np.log(_GRADING)), 0, _MAX_GRADES))
    if levels == 0:
        return points[..., :0]
    d = gamma * _GRADING ** np.arange(levels)
    d = np.concatenate([-d, d])
    return (points[..., :, None] + d).reshape(points.shape[:-1] + (-1,))


def _first_active(spectra, size):
    has = spectra.active
    return np.where(has.any(axis=1), np.argmax(has, axis=1), size)


def _legendre(y, n):
    """Shifted Legendre polynomials ``P_k(2 y - 1)``, k < n, on a new last axis."""
    t = 2.0 * y - 1.0
    out = np.empty(np.shape(y) + (n,))
    out[..., 0] = 1.0
    if n > 1:
        out[..., 1] = t
    for k in range(2, n):
        out[..., k] = ((2 * k - 1) * t * out[..., k - 1] - (k - 1) * out[..., k - 2]) / k
    return out


def _cardinal(y, x, w):
    """Lagrange cardinal functions of the Gauss-Legendre nodes ``x`` (weights ``w``, on
    [0, 1]) at the points ``y``: shape ``y.shape + (len(x),)``. Discrete orthogonality of the
    Legendre polynomials on the nodes gives them without solving a Vandermonde system."""
    n = x.size
    coef = w[:, None] * _legendre(x, n) * (2 * np.arange(n) + 1)
    return _legendre(y, n) @ coef.T


def _edge_integrals(grid, delta, gamma, start, J, scatter=False):
    """The primitive integrals of the window rows ``start + a`` (a = 0..J) against the partner
    band edges ``u_n = x_{start+n-1} - h/2`` (n = 0..J+1), per half cell ``s`` (0: tau < 0,
    1: tau > 0; ``tau = E - x_row``), divided by ``h^2``:

        I[s, :, a, n] = int_{half s} rho(E) R(u_n - tau) + phi(E) F(u_n - tau) dtau,
        K[s, :, a, n] = R(u_n) int_{half s} rho dtau + F(u_n) int_{half s} phi dtau

    (``K`` from the same rule as ``I``, so ``I - K`` has no quadrature mismatch). With
    ``scatter`` the integrand is ``rho R(u_n + tau) - phi F(u_n + tau)``: the partner
    ``E' = E + Omega`` of scattering, case-II factor ``rho rho' - phi phi'``; ``K`` is then
    not used. The band
    ``b`` (partner cell ``start + b``) lies between the edges ``n = b + 1`` and ``b + 2``, so
    ``P = sum_s diff_n I``; ``I - K`` are the corner triangles of the squares. Arrays
    (2, cells, J + 1, J + 2); batch cells must have ``delta > 0``.

    Every entry is ``sum_j A[a, s, j] B[n, s, j]`` over shared Gauss nodes ``tau_j`` of the
    half cells. A row away from ``E = Delta`` has ``A = w_j rho(tau_j)``; a row at the edge
    has ``A_j = int rho l_j`` (``l_j``: the Lagrange cardinal function of node j), i.e. the
    far partner function is interpolated on the nodes and the singular density integrated
    by the piecewise rule. Symmetrically for the edges ``B`` (``R(u_n - tau_j)`` or the
    moments of ``R`` against ``l_j``). Only pairs with both an edge row and an edge band
    need a rule of their own.
    """
    h = grid.step
    half = 0.5 * h
    sgn, coh = (-1.0, -1.0) if scatter else (1.0, 1.0)
    C = delta.shape[0]
    D = delta[:, None]
    rows = start[:, None] + np.arange(J + 1)
    dl = D - rows * h                                         # tau of E = Delta, per row
    sg = ((start[:, None] + np.arange(-1, J + 1)) * h - half) - D    # u_n - Delta
    R0, F0 = _antiderivative(sg, D, gamma)
    inv_h2 = 1.0 / (h * h)
    x, w = _gauss01(FAR_NODES)
    tau = half * np.stack([x - 1.0, x])                       # (2, q): the two half cells
    D4 = D[:, :, None, None]

    A = np.zeros((2, C, J + 2, 2, x.size))                    # rho, phi parts; last row: sink
    e_rel = tau - dl[:, :, None, None]                        # E - Delta
    A[:, :, :J + 1] = np.stack(_spectral(D4 + e_rel, e_rel, D4, gamma)) * (half * inv_h2 * w)
    B = np.zeros((2, C, J + 3, 2, x.size))                    # R, F parts; last edge: sink
    B[:, :, :J + 2] = np.stack(_antiderivative(sg[:, :, None, None] - sgn * tau, D4, gamma))

    c = np.floor(delta / h + 0.5).astype(int)                 # cell holding Delta
    near_rows = c[:, None] + np.array([0, 1] if gamma == 0 else [-1, 0, 1])
    if gamma > 0 and np.any((start == 0) & (c > 1)):          # cell 0 is a half cell
        extra = np.where((start == 0) & (c > 1), 0, -1)
        near_rows = np.concatenate([near_rows, extra[:, None]], axis=1)
    near_edges = c[:, None] + np.array([0, 1])                # lower edges of cells c, c + 1
    ra = near_rows - start[:, None]
    ra = np.where((ra >= 0) & (ra <= J) & (near_rows >= 0), ra, J + 1)
    nb = near_edges - start[:, None] + 1
    nb = np.where((nb >= 0) & (nb <= J + 1), nb, J + 2)
    ci = np.arange(C)[:, None]
    kr = np.maximum(near_rows, 0)
    r_dl = D - kr * h
    r_lo = np.maximum(-half, -kr * h)                         # cell 0 starts at E = 0
    r_hi = np.full(r_lo.shape, half)
    if gamma == 0:
        r_lo = np.maximum(r_lo, r_dl)                         # BCS: no states below Delta
    e_sg = (near_edges * h - half) - D
    e_R0, e_F0 = _antiderivative(e_sg, D, gamma)
    e_tau = sgn * e_sg                                        # tau where the partner is at Delta
    # BCS: the partner terms vanish on one side of e_tau (above it for pairs, below for scattering)
    e_low, e_up = (slice(0, 0), slice(None)) if not scatter else (slice(None), slice(0, 0))
    if gamma > 0:
        e_low = e_up = slice(None)

    def cuts(pts):
        return np.concatenate([pts, np.zeros(pts.shape[:-1] + (1,)), _grades(pts, gamma, h)], axis=-1)

    def halves(base, off, minus):
        """Cardinal functions of the half cell holding each node."""
        t = base + off
        return _cardinal(np.where(minus, t + half, t) / half, x, w)

    # -- edge rows: moments of rho, phi against the cardinal functions -----------------------
    pts = r_dl[..., None]
    base, off, wt, minus = _panels(r_lo, r_hi, cuts(pts), pts, pts if gamma > 0 else pts[..., :0])
    e_rel = (base - r_dl[..., None]) + off
    rho, phi = _spectral(D[:, :, None] + e_rel, e_rel, D[:, :, None], gamma)
    card = halves(base, off, minus)                           # (C, S, f, q)
    for s, m in enumerate((minus, ~minus)):
        ws = wt * m * inv_h2
        A[0, ci, ra, s] = np.einsum("csf,csfq->csq", rho * ws, card)
        A[1, ci, ra, s] = np.einsum("csf,csfq->csq", phi * ws, card)

    # -- edge bands: moments of R, F against the cardinal functions, over w_j ----------------
    pts = e_tau[..., None]
    lo, hi = np.full(e_sg.shape, -half), np.full(e_sg.shape, half)
    base, off, wt, minus = _panels(lo, hi, cuts(pts), pts[..., e_low], pts[..., e_up])
    R, F = _antiderivative((e_sg[..., None] - sgn * base) - sgn * off, D[:, :, None], gamma)
    card = halves(base, off, minus) / (half * w)
    for s, m in enumerate((minus, ~minus)):
        ws = wt * m
        B[0, ci, nb, s] = np.einsum("ctf,ctfq->ctq", R * ws, card)
        B[1, ci, nb, s] = np.einsum("ctf,ctfq->ctq", F * ws, card)

    B[1] *= coh
    I = np.einsum("ycasq,ycnsq->scan", A, B)
    Arow = A.sum(-1)                                          # (2, C, J+2, 2): int rho, int phi
    K = (np.einsum("cas,cn->scan", Arow[0], np.pad(R0, ((0, 0), (0, 1))))
         + np.einsum("cas,cn->scan", Arow[1], np.pad(F0, ((0, 0), (0, 1)))))

    # -- edge rows x edge bands: a rule per pair ---------------------------------------------
    S, T = near_rows.shape[1], near_edges.shape[1]
    shape = (C, S, T)
    dl2 = np.broadcast_to(r_dl[:, :, None], shape)
    sg2 = np.broadcast_to(e_sg[:, None, :], shape)
    pts = np.stack([dl2, np.broadcast_to(e_tau[:, None, :], shape)], axis=-1)
    lower = pts if gamma > 0 or scatter else pts[..., :1]
    upper = pts if gamma > 0 else (pts[..., :0] if scatter else pts[..., 1:])
    base, off, wt, minus = _panels(np.broadcast_to(r_lo[:, :, None], shape), np.broadcast_to(r_hi[:, :, None], shape),
                                   cuts(pts), lower, upper)
    e_rel = (base - dl2[..., None]) + off
    rho, phi = _spectral(D4 + e_rel, e_rel, D4, gamma)
    R, F = _antiderivative((sg2[..., None] - sgn * base) - sgn * off, D4, gamma)
    for s, m in enumerate((minus, ~minus)):
        ws = wt * m * inv_h2
        I[s, ci[:, :, None], ra[:, :, None], nb[:, None, :]] = np.sum(ws * (rho * R + coh * phi * F), -1)
        K[s, ci[:, :, None], ra[:, :, None], nb[:, None, :]] = (np.sum(ws * rho, -1) * e_R0[:, None, :]
                                                               + np.sum(ws * phi, -1) * e_F0[:, None, :])
    return I[:, :, :J + 1, :J + 2], K[:, :, :J + 1, :J + 2]


def _window_weights(grid, delta, gamma, start, J, fold_empty, below_threshold, tiling):
    """Exact ``W`` on the window ``start + (0..J-1)`` (cells, J, J); see the module docstring."""
    I, K = _edge_integrals(grid, delta, gamma, start, J)
    P = np.diff(I[0], axis=-1) + np.diff(I[1], axis=-1)       # (C, J+1, J+1): column b + 1
    ins = start[:, None] + np.arange(J) < grid.size
    if tiling == "symmetric":
        Pw = P[:, :J, 1:]
        W = 0.5 * (Pw + np.swapaxes(Pw, 1, 2))
        orphan = np.where(fold_empty[:, None], P[:, :, 0], 0.0)   # partner band start - 1
        half = 0.5 * orphan[:, 1:]
        W[:, :, 0] += half
        W[:, 0, :] += half
        if below_threshold == "fold":
            W[:, 0, 0] += orphan[:, 0]
    else:
        # I - K against band edge n (the lower edge of window cell n - 1) are corner
        # triangles: lower[a, n] is the lower-left corner of square (a, n - 1) (E below x_a),
        # upper[a, n] the upper-right corner of square (a, n - 2) (E above x_a)
        lower = I[0] - K[0]
        upper = K[1] - I[1]
        a = np.arange(J)
        Pw = P[:, :J, 1:]
        W = np.where(a[None, :, None] + 2 <= a[None, None, :], Pw, 0.0)
        W = W + np.swapaxes(W, 1, 2)
        # (a, a+1) and (a+1, a) are one pair; of the triangles between them (corners of the
        # diagonal squares (a, a) and (a+1, a+1): a tie) each keeps half
        b = a[:-1]
        d1 = Pw[:, b, b + 1] - 0.5 * upper[:, b, b + 2] + 0.5 * lower[:, b + 1, b + 2]
        W[:, b, b + 1] = d1
        W[:, b + 1, b] = d1
        # (c, c) keeps the lower-left corners of (c, c+1) and (c+1, c), where its QP c is the
        # lower one, and cedes the upper-right corners of (c, c-1) and (c-1, c)
        W[:, a, a] = Pw[:, a, a] - upper[:, a, a + 1] + lower[:, a, a + 2]
        if below_threshold == "fold":
            W[:, 0, 0] += np.where(fold_empty, lower[:, 0, 1], 0.0)
        W = np.maximum(W, 0.0)     # round-off of the triangle differences only
    both = ins[:, :, None] & ins[:, None, :]
    return np.where(both, W, 0.0)


def _window_scatter(grid, delta, gamma, start, J):
    """Exact scattering weights on the window (cells, J, J); zero diagonal (no mode 0)."""
    I, _ = _edge_integrals(grid, delta, gamma, start, J, scatter=True)
    P = (np.diff(I[0], axis=-1) + np.diff(I[1], axis=-1))[:, :J, 1:]
    a = np.arange(J)
    W = np.where(a[None, :, None] < a[None, None, :], P, 0.0)
    W = W + np.swapaxes(W, 1, 2)
    ins = start[:, None] + a < grid.size
    return np.where(ins[:, :, None] & ins[:, None, :], W, 0.0)


def _check(below_threshold, tiling):
    if below_threshold not in ("drop", "fold"):
        raise ValueError(f"below_threshold = {below_threshold!r}: expected 'drop' or 'fold'")
    if tiling not in ("edge", "symmetric"):
        raise ValueError(f"tiling = {tiling!r}: expected 'edge' or 'symmetric'")


def _setup(grid, delta, gamma):
    delta = np.atleast_1d(np.asarray(delta, dtype=float))
    spectra = cell_spectra(grid, delta, gamma)
    first = _first_active(spectra, grid.size)
    live = (delta > 0) & (first < grid.size)
    return delta, spectra, first, live


def _start(grid, delta, gamma, first, live):
    k0 = first.copy()
    if gamma > 0:
        c = np.floor(delta / grid.step + 0.5).astype(int)
        k0 = np.maximum(first, c - DYNES_MARGIN)
    return np.where(live, np.minimum(k0, grid.size), np.where(delta > 0, grid.size, first))


def _exact(grid, delta, gamma, kmax, make):
    kmax = grid.size if kmax is None else int(min(kmax, grid.size))
    delta, _, first, live = _setup(grid, delta, gamma)
    W = np.zeros((delta.size, kmax, kmax))
    idx = np.flatnonzero(live & (first < kmax))
    if idx.size == 0:
        return W
    start = first[idx]
    Wl = make(delta[idx], start, int(kmax - start.min()), np.ones(idx.size, bool))
    for j, i in enumerate(idx):
        n = kmax - start[j]
        W[i, start[j]:, start[j]:] = Wl[j, :n, :n]
    return W


def _correction(grid, delta, gamma, window, make, sign):
    J = int(window)
    delta, spectra, first, live = _setup(grid, delta, gamma)
    k0 = _start(grid, delta, gamma, first, live)
    dW = np.zeros((delta.size, J, J))
    idx = np.flatnonzero(live & (k0 < grid.size))
    if idx.size == 0 or J == 0:
        return k0, dW
    start = k0[idx]
    W = make(delta[idx], start, J, start == first[idx])      # cell k0 - 1 empty: fold there
    cells = start[:, None] + np.arange(J)
    inside = cells < grid.size
    take = np.minimum(cells, grid.size - 1)
    rho = np.where(inside, np.take_along_axis(spectra.rho[idx], take, axis=1), 0.0)
    phi = np.where(inside, np.take_along_axis(spectra.phi[idx], take, axis=1), 0.0)
    prod = rho[:, :, None] * rho[:, None, :] + sign * (phi[:, :, None] * phi[:, None, :])
    keep = inside[:, :, None] & inside[:, None, :]
    if sign < 0:
        keep = keep & ~np.eye(J, dtype=bool)
    dW[idx] = np.where(keep, W - prod, 0.0)
    return k0, dW


def exact_pair_weights(grid, delta, gamma=0.0, kmax=None, below_threshold="drop", tiling="edge"):
    """The strip pair weights ``W_{k,k'}`` on all cells ``k, k' < kmax``.

    Parameters
    ----------
    grid : EnergyGrid
    delta : array_like (cells,)
        Gap per batch cell (k_B T_c).
    gamma : float
        Dynes broadening (k_B T_c); 0 is BCS.
    kmax : int, optional
        Number of cells (default and upper limit: ``grid.size``). Cost grows like ``kmax^2``.
    below_threshold : {"drop", "fold"}
        The strip content of mode ``2 k0 - 1``, which has no pair with states.
    tiling : {"edge", "symmetric"}
        How the strip of a mode is shared among its pairs (module docstring).

    Returns
    -------
    W : ndarray (cells, kmax, kmax)
        Symmetric, non-negative; ``h sum_{k+k'=m} W = (1/h) int_{cell m} Gamma`` for every
        mode ``m >= 2 k0`` (``k0``: first cell with states) whose pairs are all below kmax.
        Zero for ``delta <= 0`` or without states.
    """
    _check(below_threshold, tiling)
    return _exact(grid, delta, gamma, kmax, lambda d, s, J, fold: _window_weights(
        grid, d, gamma, s, J, fold, below_threshold, tiling))


def exact_scatter_weights(grid, delta, gamma=0.0, kmax=None):
    """The strip scattering weights on all cells ``k, k' < kmax``.

    Parameters
    ----------
    grid : EnergyGrid
    delta : array_like (cells,)
        Gap per batch cell (k_B T_c).
    gamma : float
        Dynes broadening (k_B T_c); 0 is BCS.
    kmax : int, optional
        Number of cells (default and upper limit: ``grid.size``).

    Returns
    -------
    W : ndarray (cells, kmax, kmax)
        Symmetric; ``W[k, k + j] = (1/h^2) int_{E in cell k} int_{E' - E in cell j}
        (rho rho' - phi phi')``, the weight of ``k <-> k + j`` with phonon mode ``j``; zero
        diagonal (no mode 0), zero for ``delta <= 0`` or without states.
    """
    return _exact(grid, delta, gamma, kmax, lambda d, s, J, fold: _window_scatter(grid, d, gamma, s, J))


def product_pair_weights(spectra, kmax=None, sign=1):
    """``rho_k rho_k' + sign phi_k phi_k'`` on cells ``< kmax``, (cells, kmax, kmax):
    ``sign = 1`` pair processes, ``-1`` scattering (diagonal included)."""
    rho, phi = spectra.rho[:, :kmax], spectra.phi[:, :kmax]
    return rho[:, :, None] * rho[:, None, :] + sign * (phi[:, :, None] * phi[:, None, :])


def window_start(grid, delta, gamma=0.0):
    """First cell ``k0`` of the correction window per batch cell: the first cell with
    states (BCS); with broadening (states everywhere) ``DYNES_MARGIN`` cells below the cell
    holding Delta. ``grid.size`` when there is nothing to correct (no states), the first
    cell with states (0) for ``delta <= 0``."""
    delta, _, first, live = _setup(grid, delta, gamma)
    return _start(grid, delta, gamma, first, live)


def pair_weight_correction(grid, delta, gamma=0.0, window=DEFAULT_WINDOW, below_threshold="drop", tiling="edge"):
    """Correction to the product pair weights on a window at the gap edge.

    Parameters
    ----------
    grid : EnergyGrid
    delta : array_like (cells,)
        Gap per batch cell (k_B T_c).
    gamma : float
        Dynes broadening (k_B T_c); 0 is BCS.
    window : int
        ``J``: cells per window side. ``DEFAULT_WINDOW`` keeps every per-mode rate within
        1e-3 of the continuum cell average for ``h >= Delta/128`` (edge tiling).
    below_threshold : {"drop", "fold"}
        Strip content of mode ``2 k0 - 1`` (no pair with states): dropped, or added to
        ``(k0, k0)``.
    tiling : {"edge", "symmetric"}
        How the strip of a mode is shared among its pairs (module docstring).

    Returns
    -------
    k0 : ndarray of int (cells,)
        First cell of the window (``window_start``).
    dW : ndarray (cells, J, J)
        ``W_exact[k0+a, k0+b] - (rho rho' + phi phi')[k0+a, k0+b]`` with the spectra of
        ``cell_spectra(grid, delta, gamma)``; bitwise symmetric in ``(a, b)``, zero where
        ``k0 + a >= N`` or ``k0 + b >= N`` and for batch cells with ``delta <= 0`` or no
        states. Pairs with one cell outside the window keep the product weight.
    """
    _check(below_threshold, tiling)
    return _correction(grid, delta, gamma, window, lambda d, s, J, fold: _window_weights(
        grid, d, gamma, s, J, fold, below_threshold, tiling), 1.0)


def scatter_weight_correction(grid, delta, gamma=0.0, window=DEFAULT_WINDOW):
    """Correction to the product scattering weights ``rho_k rho_k' - phi_k phi_k'`` on a
    window at the gap edge.

    Parameters
    ----------
    grid : EnergyGrid
    delta : array_like (cells,)
        Gap per batch cell (k_B T_c).
    gamma : float
        Dynes broadening (k_B T_c); 0 is BCS.
    window : int
        ``J``: cells per window side.

    Returns
    -------
    k0 : ndarray of int (cells,)
        First cell of the window (``window_start``).
    dW : ndarray (cells, J, J)
        ``W_exact[k0+a, k0+b] - (rho rho' - phi phi')[k0+a, k0+b]`` for ``a != b``
        (``exact_scatter_weights``), bitwise symmetric, zero on the diagonal (no phonon mode
        0), where a cell index is ``>= N``, and for batch cells with ``delta <= 0`` or no
        states. Pairs with one cell outside the window keep the product weight.
    """
    return _correction(grid, delta, gamma, window,
                       lambda d, s, J, fold: _window_scatter(grid, d, gamma, s, J), -1.0)


def apply_pair_correction(W, k0, dW):
    """``W`` (cells, K, K), weights indexed from cell 0, plus ``dW`` placed at ``k0`` (a
    copy); window entries at or beyond ``K`` are left out."""
    W = np.array(W, dtype=float, copy=True)
    K, J = W.shape[-1], dW.shape[-1]
    for i, s in enumerate(np.asarray(k0)):
        n = max(0, min(J, K - int(s)))
        if n:
            W[i, s:s + n, s:s + n] += dW[i, :n, :n]
    return W


def per_mode_pair_rates(W, h):
    """Per-mode pair rate ``h sum_{k+k'=m} W_{k,k'}``, (cells, 2K - 1) for ``W`` (cells, K, K)
    indexed from cell 0 (``m`` is the phonon grid index)."""
    W = np.asarray(W, dtype=float)
    if W.ndim == 2:
        W = W[None]
    C, K, _ = W.shape
    out = np.zeros((C, 2 * K - 1))
    for k in range(K):
        out[:, k:k + K] += W[:, k, :]
    return h * out
