"""The shared energy grid and cell-averaged spectral functions (docs/physics.md, "Energy grid and
cell-averaged spectral functions").

One uniform grid ``x_k = k h`` (k = 0 .. N-1, internal units k_B T_c) carries both the
QP energies ``E`` and the phonon energies ``Omega``, so every transfer ``E +- Omega`` and
``Omega = E + E'`` lands on the grid. Cell ``k`` is ``[x_k - h/2, x_k + h/2]``
intersected with ``E >= 0`` (cell 0 is the half cell ``[0, h/2]``).

Spectral functions per cell are exact cell averages:

* ``rho_k = (1/h) int Re[z / sqrt(z^2 - Delta^2)] dE``  (BCS DOS, eq. (5)),
* ``phi_k = (1/h) int Re[Delta / sqrt(z^2 - Delta^2)] dE`` (the pair DOS),

with ``z = E + i Gamma`` (Dynes broadening; ``Gamma = 0`` is BCS). The coherence
factors ``(1 -+ Delta^2/(E E')) rho(E) rho(E')`` of eq. (33) are ``rho rho' -+ phi phi'``
(for BCS ``phi = Delta rho / E``); using the two cell averages keeps the pair kernel
symmetric, which is what makes detailed balance and energy conservation exact on the
grid. Both averages come from closed-form antiderivatives,
``int z/sqrt(z^2-Delta^2) = sqrt(z-Delta) sqrt(z+Delta)`` and
``int Delta/sqrt(z^2-Delta^2) = Delta log(z + sqrt(z-Delta) sqrt(z+Delta))``, so they are
exact for any gap position relative to the grid.
"""
from dataclasses import dataclass

import numpy as np

#: where the gap sits in its cell on a gap-aligned grid: ``Delta = x_k - h/4``
GAP_OFFSET = 0.25


def gap_aligned_step(step, delta):
    """The largest step ``h' <= step`` with ``Delta = x_k - h'/4`` for a grid index ``k``
    (docs/numerics.md, "The gap-aligned grid"), in any units.

    On such a grid the node of the first cell with states is the mean energy of the states
    in it (the BCS density ``1/sqrt(E - Delta)`` over ``[Delta, Delta + 3h/4]``), and
    ``2 Delta = x_2k - h/2`` is a boundary between two phonon cells, so no phonon mode
    straddles the pair-breaking threshold.
    """
    k = np.ceil(delta / step + GAP_OFFSET - 1e-9)
    return float(delta / (k - GAP_OFFSET))


def grid_size(step, energy_max):
    """N of the grid ``0, h, .., E_max`` (``E_max`` included to round-off), in any units."""
    return int(np.floor(energy_max / step + 1e-9)) + 1


@dataclass(frozen=True)
class EnergyGrid:
    """Uniform energy grid in units of k_B T_c.

    ``step``: h; ``size``: N; ``debye``: Omega_D (phonons exist only for
    ``0 < Omega <= Omega_D``, docs/physics.md, "Energy grid and cell-averaged spectral functions").
    """

    step: float
    size: int
    debye: float

    @classmethod
    def from_max(cls, step, energy_max, debye):
        return cls(float(step), grid_size(step, energy_max), float(debye))

    @property
    def x(self):
        return self.step * np.arange(self.size)

    @property
    def edges(self):
        """Cell boundaries, shape (N, 2): lower (clipped at 0) and upper."""
        x = self.x
        lo = np.maximum(x - 0.5 * self.step, 0.0)
        return lo, x + 0.5 * self.step

    @property
    def phonon_mask(self):
        """True where a phonon mode exists: ``0 < Omega <= Omega_D``."""
        x = self.x
        return (x > 0) & (x <= self.debye * (1 + 1e-12))

    @property
    def coupling(self):
        """Debye-model alpha^2F weight ``Omega^2``, zero off the phonon band (docs/physics.md, "Energy grid
        and cell-averaged spectral functions")."""
        return np.where(self.phonon_mask, self.x ** 2, 0.0)


def _antiderivatives(e, delta, gamma):
    """Antiderivatives of the DOS and pair DOS at energies ``e`` (broadcast with delta)."""
    if gamma == 0:  # BCS: the real branch, sqrt(E^2 - D^2) and D acosh(E/D) above the gap
        e, d = np.broadcast_arrays(np.asarray(e, float), np.asarray(delta, float))
        above = e > d
        dos = np.sqrt(np.where(above, e * e - d * d, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            pair = np.where(above & (d > 0), d * np.arccosh(np.where(above & (d > 0), e / np.where(d > 0, d, 1.0), 1.0)), 0.0)
        return dos, pair
    z = e + 1j * gamma
    d = delta + 0j
    root = np.sqrt(z - d) * np.sqrt(z + d)
    dos = root.real
    with np.errstate(divide="ignore", invalid="ignore"):
        pair = np.where(np.abs(d) > 0, (d * np.log(z + root)).real, 0.0)
    return dos, pair


@dataclass(frozen=True)
class Spectra:
    """Cell-averaged spectral functions of a batch of cells, arrays shaped (cells, N).

    ``ratio = phi / rho`` (zero where ``rho == 0``) is the factor ``Delta^2 / E`` of the
    separable coherence factors, seen from the cell's own energy. ``lhs`` is the
    Eliashberg left-hand-side factor ``ell`` of eq. (178) that multiplies ``df/dt``
    (``None``: BCS, ``ell = 1``); the QP energy and the transport mass are weighted by
    ``rho ell`` (``mass``), the quantity the kinetic equation conserves with the phonons.
    """

    delta: np.ndarray
    rho: np.ndarray
    phi: np.ndarray
    ratio: np.ndarray
    active: np.ndarray  # rho > 0: cells with states (QP unknowns that evolve)
    lhs: np.ndarray | None = None
    #: the Dynes broadening of closed-form BCS/Dynes spectra (``cell_spectra``; 0 for BCS),
    #: None for spectra given as arrays (Eliashberg): the strip pair weights at the gap edge
    #: are integrals of the closed-form densities, so only the former get them
    dynes: float | None = None

    @property
    def mass(self):
        return self.rho if self.lhs is None else self.rho * self.lhs

    def row(self, i):
        """The spectra of cell ``i`` as a one-cell batch."""
        return self.rows(slice(i, i + 1))

    def rows(self, s):
        """The spectra of the cells of the slice ``s`` as a batch."""
        return Spectra(self.delta[s], self.rho[s], self.phi[s], self.ratio[s], self.active[s],
                       None if self.lhs is None else self.lhs[s], self.dynes)

    def tile(self, cells):
        """A one-cell batch repeated over ``cells`` cells."""
        rep = lambda a: np.repeat(a, cells, axis=0)
        return Spectra(rep(self.delta), rep(self.rho), rep(self.phi), rep(self.ratio), rep(self.active),
                       None if self.lhs is None else rep(self.lhs), self.dynes)

    @classmethod
    def from_arrays(cls, delta, rho, phi, lhs=None):
        """Spectra from cell averages ``rho``, ``phi`` (cells, N) (e.g. Eliashberg)."""
        active = rho > 1e-14
        rho = np.where(active, rho, 0.0)
        phi = np.where(active, phi, 0.0)
        ratio = np.where(active, phi / np.where(active, rho, 1.0), 0.0)
        return cls(np.asarray(delta, float), rho, phi, ratio, active, lhs)


def cell_spectra(grid, delta, gamma=0.0, index=slice(None)):
    """Cell averages for gaps ``delta`` (shape (cells,)), Dynes ``gamma`` (k_B T_c).

    ``index`` selects energy cells (all by default); the ratio and mask follow it."""
    delta = np.atleast_1d(np.asarray(delta, dtype=float))[:, None]
    lo, hi = grid.edges
    lo, hi = lo[index], hi[index]
    dos_hi, pair_hi = _antiderivatives(hi[None, :], delta, gamma)
    dos_lo, pair_lo = _antiderivatives(lo[None, :], delta, gamma)
    rho = np.maximum((dos_hi - dos_lo) / grid.step, 0.0)
    phi = (pair_hi - pair_lo) / grid.step
    # Below the gap (BCS) both averages vanish identically; remove log-branch round-off.
    tiny = 1e-300
    active = rho > 1e-14
    rho = np.where(active, rho, 0.0)
    phi = np.where(active, phi, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(active, phi / np.maximum(rho, tiny), 0.0)
    return Spectra(delta[:, 0], rho, phi, ratio, active, dynes=float(gamma) if index == slice(None) else None)
