"""The Jacobian of the kinetic equations ``dy/dt = G(u) - K(u) y`` of each cell, dense and
exact (docs/numerics.md, "The exact Jacobian of a cell").

``G`` and ``K`` depend on ``y`` through the angle averages ``u = (fbar, nbar)`` only. The
collision coefficients of the QPs (``A``, ``B``) are bilinear, one QP factor times one
phonon factor; those of the phonons (``A'``, ``B'``) are quadratic in the QP occupations
and do not depend on ``nbar``; the energy transfer to the phonons is ``sum x (A - (A + B)
fbar)``. Their derivatives are formed analytically (``collision_derivatives``: Toeplitz and
Hankel matrices of the other factor, no differences of sums), so each entry is exact to
about ``eps`` times the scale of its block, cold tails included (the tests check them
against central differences with steps of order one, exact for these polynomials). The
drives are rational in ``f`` (their strength is normalised to the absorbed power); their
derivatives are exact too (``Drive.derivatives``).

The coefficients are evaluated without clipping (``clip=False``): the clip of FFT
round-off below zero is not a polynomial.
"""
from dataclasses import replace

import numpy as np

from boltzphlow_mpi.physics.collision_derivatives import coefficient_derivatives

CHUNK = 16           # cells whose analytic derivatives are formed together (memory ~ 30 CHUNK N^2)
DERIVATIVE_CAP = 1e300  # the largest drive derivative kept (``_drive_derivative``)


def _cell_drives(model, c):
    """The drives of cell ``c`` alone (their powers are per cell)."""
    return [replace(d, power=np.asarray(d.power)[c:c + 1]) for d in model.drives]


def derivatives(model, y):
    """The derivatives of the rates of every cell with respect to its angle averages
    ``u = (fbar, nbar)`` at the rows ``y``: a dict of arrays ``dgf, dkf, dgn, dkn`` (cells, N,
    2N) and ``dacc`` (cells, 3, 2N) (the accumulator gains), drives included. The Jacobian
    of the directional unknowns follows from them and ``K`` (``jacobian``, and the structured
    solves of ``numerics.rosenbrock``). The collision part is analytic
    (``collision_derivatives``), the drives' part exact (``Drive.derivatives``)."""
    cells, N = len(y), model.N
    fbar, nbar, _ = model.unpack(y)
    saved, model.drives = model.drives, []
    try:
        _, K = model.split(y, clip=False)  # the collision K alone (the ledger's transfer row)
    finally:
        model.drives = saved
    out = {k: np.zeros((cells, N, 2 * N)) for k in ("dgf", "dkf", "dgn", "dkn")}
    out["dacc"] = np.zeros((cells, len(model.ACCUMULATORS), 2 * N))
    for c0 in range(0, cells, CHUNK):
        s = slice(c0, min(cells, c0 + CHUNK))
        parts = _with_drives(model, fbar[s], nbar[s], K[s, :N], s)
        for k, p in zip(("dgf", "dkf", "dgn", "dkn", "dacc"), parts, strict=True):
            out[k][s] = p
    return out


def rate_derivatives(model, y, cells):
    """``d(gf, kf, gn, kn)/du`` (each (cells, N, 2N)) of the cells ``cells`` (a slice of the
    rows ``y``, which are all of the model's cells): the rows of ``derivatives`` without the
    accumulators (so without a collision evaluation), drives included."""
    fbar, nbar, _ = model.unpack(y[cells])
    return _with_drives(model, fbar, nbar, np.zeros_like(fbar), cells)[:4]


def _with_drives(model, fbar, nbar, kf, s):
    """``_analytic`` of the cells ``s`` plus the drives' part (``_drive_derivative``)."""
    N = model.N
    dgf, dkf, dgn, dkn, dacc = _analytic(model, fbar, nbar, kf, s)
    for j, c in enumerate(range(*s.indices(len(model.delta))) if model.drives else ()):
        gf, kf_d, gn, absorbed = _drive_derivative(model, fbar[j], c)
        dgf[j, :, :N] += gf
        dkf[j, :, :N] += kf_d
        dgn[j, :, :N] += gn
        dacc[j, 2, :N] += absorbed
    return dgf, dkf, dgn, dkn, dacc


def _drive_derivative(model, f0, c):
    """``d(gf, kf, gn)/dfbar`` (N, N) and ``d(absorbed)/dfbar`` (N,) of the drives of cell
    ``c`` at ``f0``, exact (``Drive.derivatives``; the absorbed power is fixed)."""
    N = len(f0)
    spectra = model.spectra.row(c)
    dg, dk, dn = np.zeros((N, N)), np.zeros((N, N)), np.zeros((N, N))
    # far from the solution an amplitude's derivative may overflow (``Drive.derivatives``);
    # such entries are capped below, where an inf - inf of two drives counts as 0
    with np.errstate(over="ignore", invalid="ignore"):
        for d in _cell_drives(model, c):
            g, k, n = d.derivatives(f0, spectra, model.grid)
            dg, dk, dn = dg + g, dk + k, dn + n
    if spectra.lhs is not None:
        dg, dk = dg / spectra.lhs[0][:, None], dk / spectra.lhs[0][:, None]
    ev = model.evolving[c][:, None]
    cap = lambda d: np.nan_to_num(np.where(ev, d, 0.0), nan=0.0, posinf=DERIVATIVE_CAP, neginf=-DERIVATIVE_CAP)
    return cap(dg), cap(dk), dn, np.zeros(N)


def _analytic(model, fbar, nbar, kf, s):
    """``d(gf, kf, gn, kn, acc)/du`` of the cells ``s`` without drives, from the analytic
    derivatives of the collision coefficients, the escape and the ledger rows of
    ``CellKinetics.split``; arrays (cells, rows, 2N)."""
    cells, N = fbar.shape
    spectra = model.spectra.rows(s)
    dgf, dkf, dgn, dkn = (np.zeros((cells, N, 2 * N)) for _ in range(4))
    dacc = np.zeros((cells, len(model.ACCUMULATORS), 2 * N))
    if model.kernel is not None:
        d = coefficient_derivatives(model.kernel, fbar, nbar, spectra)
        ev = model.evolving[s][:, :, None]
        lhs = 1.0 if spectra.lhs is None else spectra.lhs[:, :, None]
        dgf[:, :, :N] = np.where(ev, d["A_f"], 0.0) / lhs
        dgf[:, :, N:] = np.where(ev, d["A_n"], 0.0) / lhs
        dkf[:, :, :N] = np.where(ev, d["A_f"] + d["B_f"], 0.0) / lhs
        dkf[:, :, N:] = np.where(ev, d["A_n"] + d["B_n"], 0.0) / lhs
        dgn[:, :, :N] = d["Ap_f"]
        dkn[:, :, :N] = d["Bp_f"] - d["Ap_f"]
    dacc[:, 0, N:] = model._escape_power_weight[s]
    # transfer = -4 h sum_k x_k m_k (gf_k - kf_k fbar_k), one cell at a time
    w = 4.0 * model.grid.step * model.grid.x * spectra.mass
    for c in range(cells):
        dacc[c, 1] = -(w[c] @ (dgf[c] - fbar[c][:, None] * dkf[c]))
    dacc[:, 1, :N] += w * kf
    return dgf, dkf, dgn, dkn, dacc


def jacobian(model, y):
    """``d rhs / d y`` of every cell of ``model`` (``physics.kinetics.CellKinetics``) at the
    rows ``y``: an array (cells, W, W) with ``W = model.width``; the accumulator columns are
    zero (nothing depends on them)."""
    cells, W, N = len(y), model.width, model.N
    f, n = model.directional(y)
    _, K = model.split(y, clip=False)  # the diagonal -K at the state itself
    nf = model.nf
    d = derivatives(model, y)
    out = np.zeros((cells, W, W))
    for c in range(cells):
        parts = [d[k][c] for k in ("dgf", "dkf", "dgn", "dkn", "dacc")]
        out[c] = _assemble(model, parts, K[c, :N], K[c, nf:nf + N], f[c], n[c])
    return out


def _assemble(model, parts, kf, kn, f, n):
    """The rows of the directional unknowns from the averaged derivatives: ``f_m`` rows are
    ``dG/du - f_m dK/du`` times the angle weight of the column, minus ``K`` on the diagonal."""
    N, Mq, Mp, nf, nn = model.N, model.Mq, model.Mp, model.nf, model.nn
    dgf, dkf, dgn, dkn, dacc = parts
    W = model.width
    J = np.zeros((W, W))
    col_w = np.concatenate([np.repeat(model.wq, N), np.repeat(model.wp, N)])

    def expand(d):  # (rows, 2N) in u -> (rows, nf + nn) in the directional unknowns
        fcols = np.tile(d[:, :N], (1, Mq))
        ncols = np.tile(d[:, N:], (1, Mp))
        return np.concatenate([fcols, ncols], axis=1) * col_w[None, :]

    for m in range(Mq):
        rows = slice(m * N, (m + 1) * N)
        J[rows, :nf + nn] = expand(dgf - f[m][:, None] * dkf)
        J[rows, rows] -= np.diag(kf)
    for m in range(Mp):
        rows = slice(nf + m * N, nf + (m + 1) * N)
        J[rows, :nf + nn] = expand(dgn - n[m][:, None] * dkn)
        J[rows, rows] -= np.diag(kn)
    J[nf + nn:, :nf + nn] = expand(dacc)
    return J
