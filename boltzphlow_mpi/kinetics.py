"""Right-hand side of the 0-D kinetic equations for a batch of cells (SPEC sections 3-4).

State layout, one row per cell: ``y = [f_0 .. f_{N-1} | n_0 .. n_{N-1} | e_esc | e_qp->ph]``
where ``e_esc`` is the cumulative energy lost by phonon escape and ``e_qp->ph`` the
cumulative energy handed from QPs to phonons by the collisions, the time integral of the
power (6) (internal energy-density units, see ``diagnostics``). Carrying both as unknowns
makes every stepper that preserves linear invariants (Euler, RK4, TR with a global mu)
keep the ledgers ``E_qp + E_ph + e_esc = const`` and ``E_ph + e_esc - e_qp->ph = const``
exactly, instead of booking them with a separate quadrature.

Every equation is written ``dy/dt = G - K y`` with ``G >= 0`` for the occupations
(SPEC section 3): for QPs ``G = A``, ``K = A + B``; for phonons
``G = A' + gamma n_T``, ``K = B' - A' + gamma`` (gamma: escape rate, on all phonons or
only on those below ``2 Delta``, SPEC section 3 "Optional phonon escape").
"""
import numpy as np

from .collisions import CollisionKernel
from .energy_grid import cell_spectra
from .thermal_functions import bose, fermi


class CellKinetics:
    """Collision (+ escape) dynamics of a batch of cells sharing one energy grid."""

    def __init__(self, grid, kernel: CollisionKernel, delta, *, bath_temperature,
                 escape_rate=0.0, escape_subgap_only=False, dynes_gamma=0.0,
                 phonon_weight=1.0):
        self.grid, self.kernel = grid, kernel
        self.N = grid.size
        self.bath_temperature = bath_temperature
        self.escape_rate = float(escape_rate)
        self.escape_subgap_only = bool(escape_subgap_only)
        self.dynes_gamma = float(dynes_gamma)
        self.phonon_weight = phonon_weight  # energy weight W of E_ph = 4 W h sum x^3 n
        self.n_bath = bose(grid.x, bath_temperature) * grid.phonon_mask
        self.f_bath = fermi(grid.x, bath_temperature)
        self.set_gap(delta)

    # -- layout ----------------------------------------------------------------------
    ACCUMULATORS = ("energy_escaped", "energy_qp_to_phonon")

    @property
    def width(self):
        return 2 * self.N + len(self.ACCUMULATORS)

    def unpack(self, y):
        """``(f, n, e_esc)``; ``accumulators(y)`` gives all accumulator columns."""
        return y[:, : self.N], y[:, self.N : 2 * self.N], y[:, 2 * self.N]

    def accumulators(self, y):
        return {k: y[:, 2 * self.N + i] for i, k in enumerate(self.ACCUMULATORS)}

    def pack(self, f, n, e_esc, e_transfer=0.0):
        f = np.asarray(f, float)
        cols = [np.broadcast_to(np.asarray(v, float), (len(f),)).reshape(-1, 1) for v in (e_esc, e_transfer)]
        return np.concatenate([f, n] + cols, axis=1)

    @property
    def reference_state(self):
        """The bath (thermal) state, a row broadcast over cells."""
        return self.pack(self.f_bath[None, :], self.n_bath[None, :], 0.0, 0.0)

    @property
    def occupation_slices(self):
        """(name, slice) of the blocks whose error and positivity are controlled."""
        return (("f", slice(0, self.N)), ("n", slice(self.N, 2 * self.N)))

    # -- gap-dependent coefficients ----------------------------------------------------
    def set_gap(self, delta):
        self.delta = np.atleast_1d(np.asarray(delta, float)).copy()
        self.spectra = cell_spectra(self.grid, self.delta, self.dynes_gamma)
        evolving = self.spectra.active.copy()
        if self.dynes_gamma > 0:
            # With broadening the grid starts at eps = 0 where f = 1/2 by particle-hole
            # symmetry (SPEC section 2): that half cell is held fixed.
            evolving[:, 0] = False
        self.evolving = evolving
        x = self.grid.x
        if self.escape_rate > 0:
            mask = np.broadcast_to(self.grid.phonon_mask, (len(self.delta), self.N))
            if self.escape_subgap_only:
                mask = mask & (x[None, :] < 2.0 * self.delta[:, None])
            self.escape = self.escape_rate * mask
        else:
            self.escape = np.zeros((len(self.delta), self.N))
        self._escape_power_weight = 4.0 * self.phonon_weight * self.grid.step * x ** 3 * self.escape

    # -- the ODE ----------------------------------------------------------------------
    def split(self, y, clip=True):
        """``(G, K)`` with ``dy/dt = G - K y`` (accumulator rows: ``K = 0``)."""
        f, n, _ = self.unpack(y)
        c = self.kernel.coefficients(f, n, self.spectra, clip=clip)
        gf = np.where(self.evolving, c.A, 0.0)
        kf = np.where(self.evolving, c.A + c.B, 0.0)
        gn = c.Ap + self.escape * self.n_bath
        kn = c.Bp - c.Ap + self.escape
        escape_power = np.sum(self._escape_power_weight * (n - self.n_bath), axis=1)
        # power from QPs to phonons, eq. (6): minus the collisional QP energy change
        transfer = -4.0 * self.grid.step * np.sum(self.grid.x * self.spectra.rho * (gf - kf * f), axis=1)
        G = np.concatenate([gf, gn, escape_power[:, None], transfer[:, None]], axis=1)
        K = np.concatenate([kf, kn, np.zeros((len(y), 2))], axis=1)
        return G, K

    def rhs(self, y, clip=True):
        G, K = self.split(y, clip)
        return G - K * y

    def check_state(self, y):
        """Indices of a violation (cell, block, energy) or None: NaN, f<0, f>1, n<0."""
        f, n, e = self.unpack(y)
        for name, arr, bad in (("f", f, ~np.isfinite(f) | (f < 0) | (f > 1)),
                               ("n", n, ~np.isfinite(n) | (n < 0))):
            if bad.any():
                c, k = np.argwhere(bad)[0]
                return name, int(c), int(k), float(arr[c, k])
        acc = y[:, 2 * self.N:]
        if not np.all(np.isfinite(acc)):
            return "accumulator", int(np.argwhere(~np.isfinite(acc))[0][0]), -1, float("nan")
        return None
