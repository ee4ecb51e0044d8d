"""Right-hand side of the kinetic equations for a batch of cells (docs/physics.md, "The equations
solved").

State layout, one row per cell::

    y = [ f (Mq directions x N energies) | n (Mp x N) | e_esc | e_qp->ph | e_abs ]

``Mq = Mp = 1`` for isotropic distributions (0-D, diffusive QPs); with a kinetic closure
the directions are the discrete ordinates ``mu_m`` with Gauss-Legendre weights ``w_m``
(sum 2), and the angle average is ``fbar = sum_m (w_m / 2) f_m``. Collisions use the angle
averages as partners (docs/physics.md, "Collisions with angles"): the coefficients are
computed once per cell from ``(fbar, nbar)`` and ``C_m = (1 - f_m) A - f_m B``, which
conserves energy exactly.

``e_esc`` is the cumulative energy lost by phonon escape, ``e_qp->ph`` the cumulative
energy handed from QPs to phonons by the collisions, the time integral of the power (6),
and ``e_abs`` the energy absorbed from the drives (``drives``; internal energy-density
units, see ``diagnostics``). Carrying both as unknowns makes
every stepper that preserves linear invariants (Euler, RK4, TR with a global mu) keep the
ledgers ``E_qp + E_ph + e_esc = const`` and ``E_ph + e_esc - e_qp->ph = const`` exactly.

Every equation is written ``dy/dt = G - K y`` with ``G >= 0`` for the occupations
(docs/physics.md, "Collision integrals"): for QPs ``G = A``, ``K = A + B``; for phonons
``G = A' + gamma n_T``, ``K = B' - A' + gamma`` (gamma: escape rate, on all phonons or
only on those below ``2 Delta``).
"""
from contextlib import contextmanager

import numpy as np

from boltzphlow_mpi.jit import njit
from boltzphlow_mpi.physics.analysis.diagnostics import phonon_energy, phonon_energy_weights, qp_energy
from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.energy_grid import cell_spectra
from boltzphlow_mpi.physics.statistics import bose, fermi


def angle_weights(m):
    """Half the Gauss-Legendre weights (sum 1); ``[1.0]`` for an isotropic block."""
    if m == 1:
        return np.ones(1)
    return 0.5 * np.polynomial.legendre.leggauss(m)[1]


class CellKinetics:
    """Collision (+ escape) dynamics of a batch of cells sharing one energy grid."""

    ACCUMULATORS = ("energy_escaped", "energy_qp_to_phonon", "energy_absorbed")

    def __init__(self, grid, kernel: CollisionKernel, delta, *, bath_temperature,
                 escape_rate=0.0, escape_subgap_only=False, dynes_gamma=0.0,
                 phonon_weight=1.0, qp_angles=1, phonon_angles=1, drives=()):
        """``kernel = None`` switches the collision integrals off (escape stays); ``drives``:
        ``drives.Drive`` terms (absorbed power per local cell)."""
        self.drives = list(drives)
        self.grid, self.kernel = grid, kernel
        self.N = grid.size
        self.Mq, self.Mp = int(qp_angles), int(phonon_angles)
        self.wq, self.wp = angle_weights(self.Mq), angle_weights(self.Mp)
        self.bath_temperature = bath_temperature
        self.escape_rate = float(escape_rate)
        self.escape_subgap_only = bool(escape_subgap_only)
        self.dynes_gamma = float(dynes_gamma)
        self.phonon_weight = phonon_weight  # energy weight W of E_ph = 4 W h sum x^3 n
        # w = 4 W h x^3 per energy, for the linear forms that need the weights themselves
        self.phonon_energy_weights = phonon_energy_weights(grid, phonon_weight)
        self.n_bath = bose(grid.x, bath_temperature) * grid.phonon_mask
        self.f_bath = fermi(grid.x, bath_temperature)
        self.set_gap(delta)

    # -- layout ----------------------------------------------------------------------
    @property
    def nf(self):
        return self.Mq * self.N

    @property
    def nn(self):
        return self.Mp * self.N

    @property
    def width(self):
        return self.nf + self.nn + len(self.ACCUMULATORS)

    def directional(self, y):
        """Views ``f`` (C, Mq, N) and ``n`` (C, Mp, N)."""
        c = len(y)
        return (y[:, : self.nf].reshape(c, self.Mq, self.N),
                y[:, self.nf : self.nf + self.nn].reshape(c, self.Mp, self.N))

    def unpack(self, y):
        """Angle averages ``(fbar, nbar)`` (C, N) and ``e_esc`` (C,)."""
        f, n = self.directional(y)
        fbar = f[:, 0] if self.Mq == 1 else np.einsum("m,cmk->ck", self.wq, f)
        nbar = n[:, 0] if self.Mp == 1 else np.einsum("m,cmk->ck", self.wp, n)
        return fbar, nbar, y[:, self.nf + self.nn]

    def accumulators(self, y):
        base = self.nf + self.nn
        return {k: y[:, base + i] for i, k in enumerate(self.ACCUMULATORS)}

    def pack(self, f, n, e_esc, e_transfer=0.0, e_absorbed=0.0):
        """Rows from isotropic ``f``, ``n`` (C, N) or directional (C, M, N) arrays."""
        f = np.asarray(f, float)
        n = np.asarray(n, float)
        c = len(f)
        if f.ndim == 2:
            f = np.repeat(f[:, None, :], self.Mq, axis=1)
        if n.ndim == 2:
            n = np.repeat(n[:, None, :], self.Mp, axis=1)
        cols = [np.broadcast_to(np.asarray(v, float), (c,)).reshape(-1, 1) for v in (e_esc, e_transfer, e_absorbed)]
        return np.concatenate([f.reshape(c, self.nf), n.reshape(c, self.nn)] + cols, axis=1)

    @property
    def reference_state(self):
        """The bath (thermal) state, a row broadcast over cells."""
        return self.pack(self.f_bath[None, :], self.n_bath[None, :], 0.0, 0.0, 0.0)

    @property
    def occupation_slices(self):
        """(name, slice) of the blocks whose error and positivity are controlled."""
        return (("f", slice(0, self.nf)), ("n", slice(self.nf, self.nf + self.nn)))

    @contextmanager
    def using_kernel(self, kernel):
        """Context in which the collision coefficients come from ``kernel`` (e.g. the direct
        sums in place of the FFT ones); the model's own kernel is back afterwards."""
        saved, self.kernel = self.kernel, kernel
        try:
            yield self
        finally:
            self.kernel = saved

    # -- gap-dependent coefficients ----------------------------------------------------
    def set_gap(self, delta):
        """BCS spectra of the gaps ``delta`` (cells,)."""
        delta = np.atleast_1d(np.asarray(delta, float)).copy()
        self.set_spectra(cell_spectra(self.grid, delta, self.dynes_gamma))

    def set_spectra(self, spectra):
        """Spectral functions of every cell (BCS or Eliashberg); ``spectra.delta`` is the gap
        (edge) of each cell."""
        self.spectra = spectra
        self.delta = np.asarray(spectra.delta, float).copy()
        evolving = self.spectra.active.copy()
        # With broadening (Dynes, Eliashberg) the grid starts at eps = 0 where f = 1/2 by
        # particle-hole symmetry (docs/physics.md, "Energy grid and cell-averaged spectral functions"):
        # that half cell is held fixed.
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
        self._escape_power_weight = self.phonon_energy_weights * self.escape

    # -- the ODE ----------------------------------------------------------------------
    def split(self, y, clip=True):
        """``(G, K)`` with ``dy/dt = G - K y`` (accumulator rows: ``K = 0``)."""
        c = len(y)
        fbar, nbar, _ = self.unpack(y)
        if self.kernel is None:
            zero = np.zeros_like(fbar)
            gf, kf, gn, kn = zero, zero, self.escape * self.n_bath, self.escape
        else:
            co = self.kernel.coefficients(fbar, nbar, self.spectra, clip=clip)
            gf = np.where(self.evolving, co.A, 0.0)
            kf = np.where(self.evolving, co.A + co.B, 0.0)
            if self.spectra.lhs is not None:  # eq. (178): ell df/dt = C_f
                gf = gf / self.spectra.lhs
                kf = kf / self.spectra.lhs
            gn = co.Ap + self.escape * self.n_bath
            kn = co.Bp - co.Ap + self.escape
        escape_power = np.sum(self._escape_power_weight * (nbar - self.n_bath), axis=1)
        # power from QPs to phonons, eq. (6): minus the collisional QP energy change
        transfer = -4.0 * self.grid.step * np.sum(self.grid.x * self.spectra.mass * (gf - kf * fbar), axis=1)
        absorbed = np.zeros(c)
        if self.drives:
            dg, dk, dn = np.zeros_like(fbar), np.zeros_like(fbar), np.zeros_like(fbar)
            for d in self.drives:
                absorbed = absorbed + d.add(fbar, self.spectra, self.grid, dg, dk, dn, self.phonon_weight)
            if self.spectra.lhs is not None:  # eq. (178), as for the collision rates
                dg, dk = dg / self.spectra.lhs, dk / self.spectra.lhs
            gf = gf + np.where(self.evolving, dg, 0.0)
            kf = kf + np.where(self.evolving, dk, 0.0)
            gn = gn + dn
        G = np.concatenate([np.tile(gf, (1, self.Mq)), np.tile(gn, (1, self.Mp)),
                            escape_power[:, None], transfer[:, None], absorbed[:, None]], axis=1)
        K = np.concatenate([np.tile(kf, (1, self.Mq)), np.tile(kn, (1, self.Mp)),
                            np.zeros((c, len(self.ACCUMULATORS)))], axis=1)
        return G, K

    def occupation_energy(self, y):
        """``E_qp + E_ph`` per cell (internal units; linear in ``y`` for fixed spectra)."""
        fbar, nbar, _ = self.unpack(y)
        return qp_energy(self.grid, self.spectra, fbar) + phonon_energy(self.grid, self.phonon_weight, nbar)

    def project_energy(self, y0, y1, max_passes=8):
        """Rescale each cell's excitation so that ``E_qp + E_ph + e_esc`` is that of ``y0``
        (collisions conserve it), and keep ``e_qp->ph`` consistent with the phonon energy.

        ``y <- y_bath + s (y - y_bath)`` with one ``s`` per cell (docs/numerics.md, "The exp
        stepper and its energy projection"). A cell whose energy defect is at the round-off of its energy sum is
        left as it is (``s = 1``). A factor ``s > 1`` would turn an occupation that sits far
        below the bath value in a tail (FFT noise lets cold tails relax towards 0) into a
        value off its bound: such entries are held at the bound and the cell's ``s`` is
        solved again on the free entries, so the projected state is admissible whenever
        ``y1`` is and the ledger stays exact to round-off.
        """
        if len(y0) == 0:
            return y1
        ref = np.broadcast_to(self.reference_state, y1.shape)
        e_ref = self.occupation_energy(ref)  # per cell: each cell's own spectra
        acc0, acc1 = self.accumulators(y0), self.accumulators(y1)
        d0 = self.occupation_energy(y0)
        d1 = self.occupation_energy(y1)
        target = (d0 + acc0["energy_escaped"] - acc1["energy_escaped"]
                  + acc1["energy_absorbed"] - acc0["energy_absorbed"])
        excess = d1 - e_ref
        # A defect at the round-off of the energy sum itself needs no projection; there
        # ``s`` would be a ratio of two round-off numbers (1.125 or 0.85 for a thermal state).
        # Nor does one at the round-off of the energy that moved through the ledger in the
        # step (escape and absorption, sums over the N energies): in a driven steady state a
        # long step moves thousands of times the excitation through it, and projecting that
        # round-off would shift the excitation by it (docs/numerics.md, "Precision").
        eps = np.finfo(float).eps
        flow = (np.abs(acc1["energy_escaped"] - acc0["energy_escaped"])
                + np.abs(acc1["energy_absorbed"] - acc0["energy_absorbed"]))
        noise = 8.0 * eps * self.occupation_energy(np.abs(y1)) + 8.0 * self.N * eps * flow
        ok = (np.abs(excess) > 1e-300) & (np.abs(target - d1) > noise)
        scale = np.where(ok, (target - e_ref) / np.where(ok, excess, 1.0), 1.0)
        out = y1.copy()
        occ = slice(0, self.nf + self.nn)
        out[:, occ] = ref[:, occ] + scale[:, None] * (y1[:, occ] - ref[:, occ])
        self._hold_bounds(out, y1, ref, target - e_ref, max_passes)
        _, n0 = self.directional(y0)
        _, n2 = self.directional(out)
        eph0 = phonon_energy(self.grid, self.phonon_weight, np.einsum("m,cmk->ck", self.wp, n0))
        eph2 = phonon_energy(self.grid, self.phonon_weight, np.einsum("m,cmk->ck", self.wp, n2))
        base = self.nf + self.nn
        injected = self._phonon_drive_energy(acc0, acc1)
        out[:, base + 1] = (acc0["energy_qp_to_phonon"] + (eph2 - eph0)
                            + (acc1["energy_escaped"] - acc0["energy_escaped"]) - injected)
        return out

    def energy_weights(self):
        """(cells, nf + nn) weights ``w`` with ``E_qp + E_ph = sum w y`` over the occupation
        columns (the angle weights folded in), the linear form of ``occupation_energy``."""
        h, x = self.grid.step, self.grid.x
        wf = 4.0 * h * x * self.spectra.mass                       # (cells, N)
        wn = np.broadcast_to(self.phonon_energy_weights, wf.shape)
        return np.concatenate([(self.wq[None, :, None] * wf[:, None, :]).reshape(len(wf), self.nf),
                               (self.wp[None, :, None] * wn[:, None, :]).reshape(len(wf), self.nn)], axis=1)

    def _hold_bounds(self, out, y1, ref, wanted, max_passes):
        """Entries of the projected ``out`` pushed past ``f >= 0, f <= 1, n >= 0`` (while
        ``y1`` was within them) are set to the bound; the cell's excitation factor is
        solved again on the free entries so that ``sum w (out - ref) = wanted``."""
        occ = slice(0, self.nf + self.nn)
        lo = np.zeros(self.nf + self.nn)
        hi = np.concatenate([np.ones(self.nf), np.full(self.nn, np.inf)])
        y1o, refo = y1[:, occ], ref[:, occ]
        held = np.zeros(y1o.shape, bool)
        pin = np.zeros(y1o.shape)
        for _ in range(max_passes):
            v = out[:, occ]
            below = (v < lo) & (y1o >= lo) & ~held
            above = (v > hi) & (y1o <= hi) & ~held
            if not (below.any() or above.any()):
                return
            pin = np.where(below, lo, np.where(above, hi, pin))
            held |= below | above
            rows = np.flatnonzero(held.any(axis=1))
            w, h = self.energy_weights()[rows], held[rows]
            dev = np.where(h, 0.0, y1o[rows] - refo[rows])
            rest = wanted[rows] - np.sum(w * np.where(h, pin[rows] - refo[rows], 0.0), axis=1)
            denom = np.sum(w * dev, axis=1)
            ok = np.abs(denom) > 1e-300
            s = np.where(ok, rest / np.where(ok, denom, 1.0), 1.0)
            out[rows, occ] = np.where(h, pin[rows], refo[rows] + s[:, None] * dev)

    def _phonon_drive_energy(self, acc0, acc1):
        """Energy put directly into phonons by phonon drives over the step (the fraction of
        the absorbed energy that phonon drives account for)."""
        if not any(d.kind == "phonon" for d in self.drives):
            return 0.0
        total = sum(d.power for d in self.drives)
        ph = sum(d.power for d in self.drives if d.kind == "phonon")
        frac = np.where(total > 0, ph / np.where(total > 0, total, 1.0), 0.0)
        return frac * (acc1["energy_absorbed"] - acc0["energy_absorbed"])

    def rhs(self, y, clip=True):
        G, K = self.split(y, clip)
        return G - K * y

    def check_state(self, y):
        """First violation ``(block, cell, energy index, value)`` or None: NaN, f<0, f>1, n<0."""
        f, n = self.directional(y)
        for name, arr, upper in (("f", f, 1.0), ("n", n, np.inf)):
            c, m, k = _first_off_bounds(arr, upper)
            if c >= 0:
                return name, int(c), int(k), float(arr[c, m, k])
        acc = y[:, self.nf + self.nn:]
        if not np.all(np.isfinite(acc)):
            return "accumulator", int(np.argwhere(~np.isfinite(acc))[0][0]), -1, float("nan")
        return None


@njit
def _first_off_bounds(x, upper):
    """Index ``(c, m, k)`` of the first entry of ``x`` (C, M, N), in C order, that is not
    finite or lies outside ``[0, upper]``; ``(-1, -1, -1)`` if there is none."""
    C, M, N = x.shape
    for c in range(C):
        for m in range(M):
            for k in range(N):
                v = x[c, m, k]
                if not np.isfinite(v) or v < 0 or v > upper:
                    return c, m, k
    return -1, -1, -1
