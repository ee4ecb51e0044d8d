"""What the Eliashberg self-energies give a cell: cell-averaged spectral functions, the
gap edge, and the ``Solution`` of a batch of cells (docs/physics.md, "Eliashberg
self-energies"; docs/numerics.md, "Eliashberg self-energies: FFT sums, Hilbert transform,
Anderson iteration").

Complex expressions run one cell at a time (``by_row``), so that a cell's spectra do not
depend on which cells share its rank (docs/numerics.md, "Rank independence").
"""
from dataclasses import dataclass, fields
from functools import partial

import numpy as np


def spectral_cell_averages(lo, hi, delta, gamma=0.0):
    """Cell integrals of the spectral functions of a complex gap.

    The antiderivatives of ``Re[z / sqrt(z^2 - D^2)]`` and ``Re[D / sqrt(z^2 - D^2)]``
    (``z = eps + i Gamma``, principal root) taken between the cell edges; divided by the
    step ``h`` of a full cell they are the cell averages (the half cell at 0 keeps ``h``,
    as in ``energy_grid``).

    Parameters
    ----------
    lo, hi : ndarray, shape (K,)
        Lower and upper edges of the energy cells.
    delta : array_like, shape (..., K)
        Complex gap ``Delta = phi / Z`` at the cell nodes.
    gamma : float
        Dynes broadening ``Gamma``.

    Returns
    -------
    s, p : ndarray, complex, shape (..., K)
        The integrals of the density of states and of the pair function over each cell
        (their real parts are used).
    """
    d = np.asarray(delta, complex)

    def anti(e):
        z = e + 1j * gamma
        s = np.sqrt(z * z - d * d)  # principal branch: Re s >= 0, continuous along the cell
        return s, d * np.log(z + s)

    s_hi, p_hi = anti(hi)
    s_lo, p_lo = anti(lo)
    return s_hi - s_lo, p_hi - p_lo


def hat_averages(eps, step, delta, gamma=0.0):
    """Hat-function averages of the spectral functions of a complex gap, the smooth
    spectra of the self-energy iteration (docs/numerics.md, "Eliashberg self-energies: FFT
    sums, Hilbert transform, Anderson iteration").

    ``(1/h) int w_k(e) g(e) de`` with the hat ``w_k`` of node ``k`` (1 at ``eps_k``, 0 at
    ``eps_k +- h``) and ``g = Re[z / sqrt(z^2 - D^2)]`` or ``Re[D / sqrt(z^2 - D^2)]``,
    ``z = e + i Gamma``, node ``k``'s complex gap ``D`` on the whole support. Node 0 takes
    twice the half hat on ``[0, h]`` (the functions are even). A cell average changes like
    a square root of the distance of the gap edge from a cell boundary, so the map of the
    iteration is not Lipschitz where the edge crosses one; a hat average changes like a
    power 3/2. Differences of the antiderivatives are formed as log ratios and with
    ``S - z = -D^2 / (z + S)``, without cancellation between large terms.

    Parameters
    ----------
    eps : ndarray, shape (K,)
        The nodes ``eps_k = k h``.
    step : float
        ``h``.
    delta : ndarray, complex, shape (..., K)
        The gap at the nodes.
    gamma : float
        Dynes broadening ``Gamma``.

    Returns
    -------
    rho, varphi : ndarray, complex, shape (..., K)
        The averages (their real parts are used).
    """
    d = np.asarray(delta, complex)
    zero = d == 0
    d = np.where(zero, 1.0, d)   # Delta = 0 exactly (the normal state): rho = 1, varphi = 0 below
    d2 = d * d
    h = step
    z = eps + 1j * gamma
    za, zc = z - h, z + h
    sa, sb, sc = (np.sqrt(x * x - d2) for x in (za, z, zc))
    wa, wb, wc = za + sa, z + sb, zc + sc
    # w(z + h) - w(z) = h [1 + (2 z + h) / (S(z) + S(z + h))], without cancellation
    dab = h * (1.0 + (za + z) / (sa + sb))
    dbc = h * (1.0 + (z + zc) / (sb + sc))
    ga, gb, gc = -d2 / wa, -d2 / wb, -d2 / wc     # S - z, the antiderivative of z/S - 1
    gab, gbc = d2 * dab / (wa * wb), d2 * dbc / (wb * wc)
    lab, lbc = np.log1p(dab / wa), np.log1p(dbc / wb)   # differences of ln(z + S)
    # antiderivative of z (z/S - 1): z (S - z)/2 + D^2 ln(z + S)/2
    eab = 0.5 * (z * gab + h * ga) + 0.5 * d2 * lab
    ebc = 0.5 * (zc * gbc + h * gb) + 0.5 * d2 * lbc
    # (1/h^2)[int_a^b (z - z_a) g + int_b^c (z_c - z) g] with g = 1 + (z/S - 1); the hat of 1 is 1
    rho = 1.0 + (eab - ebc + z * (gbc - gab) + h * (gab + gbc)) / h ** 2
    # D/S: antiderivative D ln(z + S); z D/S: D S = D (S - z) + D z (the D z parts cancel)
    varphi = d * (gab - gbc + z * (lbc - lab) + h * (lab + lbc)) / h ** 2
    rho[..., 0] = 1.0 + 2.0 * (zc[0] * gbc[..., 0] - ebc[..., 0]) / h ** 2
    varphi[..., 0] = 2.0 * d[..., 0] * (zc[0] * lbc[..., 0] - gbc[..., 0] - h) / h ** 2
    return np.where(zero, 1.0, rho), np.where(zero, 0.0, varphi)


@dataclass
class Solution:
    """Self-energies of a batch of cells on the self-energy grid ``eps_k = k h``, k < M,
    and what the kinetic equation needs on the kinetic grid (first N points)."""

    Z: np.ndarray          # (C, M) complex
    phi: np.ndarray        # (C, M) complex
    rho: np.ndarray        # (C, M) cell averages
    varphi: np.ndarray     # (C, M)
    edge: np.ndarray       # (C,) gap edge Delta_0
    iterations: np.ndarray  # (C,)
    residual: np.ndarray   # (C,) final max |Delta change| / Delta_ref

    @property
    def delta(self):
        return self.phi / self.Z

    def row(self, c):
        """The one-cell solution of cell ``c``."""
        return Solution(*(getattr(self, k.name)[c:c + 1] for k in fields(Solution)))

    @classmethod
    def stack(cls, rows):
        """One solution of the cells of several (one-cell) solutions."""
        return cls(*(np.concatenate([getattr(r, f.name) for r in rows]) for f in fields(cls)))


def by_row(func, *arrays):
    """``func`` applied to each row (1, ...) of the arrays alone, the outputs stacked.

    numpy's SIMD kernels may treat an element differently by its position in the array
    (on an AVX-512 CPU the complex product ``d * log(z + s)`` of ``spectral_cell_averages``
    gives a row of a batch other bits than the same row alone), so a batched complex
    expression can give a cell other bits than the same cell alone.
    Row by row, a cell's spectra do not depend on which cells share its rank (results are
    bitwise rank independent, docs/numerics.md, "Rank independence").

    Parameters
    ----------
    func : callable
        Takes the arrays (each with a leading cell axis) and returns an array or a tuple
        of arrays with the same leading axis.
    *arrays : ndarray
        Arrays of the same length ``C`` along the first axis.

    Returns
    -------
    ndarray or tuple of ndarray
        ``func``'s outputs of the single rows, concatenated along the first axis (with
        ``C = 0``, ``func`` of the empty arrays).
    """
    outs = [func(*(a[c:c + 1] for a in arrays)) for c in range(len(arrays[0]))]
    if not outs:
        return func(*arrays)
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outs))
    return np.concatenate(outs)


def gap_edge(Z, phi, eps, step):
    """The gap edge ``Delta_0`` of each cell: the root of ``Re Delta(eps) = eps`` above the
    maximum of ``Re Delta(eps) - eps`` (the first root at ``T = 0``).

    Linear interpolation between the grid points around the first sign change of
    ``Re Delta(eps_k) - eps_k`` after its maximum, cell by cell (``by_row``).

    Parameters
    ----------
    Z, phi : ndarray, complex, shape (C, M)
        Renormalisation and pairing self-energy on the self-energy grid.
    eps : ndarray, shape (M,)
        The self-energy grid ``eps_k = k h``.
    step : float
        Its step ``h``.

    Returns
    -------
    ndarray, shape (C,)
        The gap edge of each cell (internal units); 0 where ``Re Delta(eps) <= eps`` for
        all ``eps > 0`` (a gapless or normal cell).
    """
    if len(Z) > 1:
        return by_row(partial(gap_edge, eps=eps, step=step), Z, phi)
    d = (phi / Z).real
    s = d - eps
    # at T > 0 the thermal part c/eps of Im Z makes Delta(eps) -> 0 as eps -> 0 (eps = 0
    # itself keeps Im Z = 0), so Re Delta - eps starts near 0 and may dip below it: the
    # root is sought after the maximum of Re Delta - eps over eps > 0 (the first root at T = 0)
    top = 1 + np.argmax(s[:, 1:], axis=1)
    below = (s <= 0) & (np.arange(len(eps))[None, :] >= top[:, None])
    k = np.where(below.any(axis=1), np.argmax(below, axis=1), len(eps) - 1)
    k = np.maximum(k, 1)
    rows = np.arange(len(Z))
    s0, s1 = s[rows, k - 1], s[rows, k]
    t = np.where(s0 != s1, s0 / np.where(s0 != s1, s0 - s1, 1.0), 0.0)
    # no eps > 0 with Re Delta > eps: gapless (or normal), edge 0
    return np.where(s[rows, top] > 0, eps[k - 1] + t * step, 0.0)
