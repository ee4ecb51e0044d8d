"""Continuous drives: pair-breaking photons, sub-gap microwave photons, monochromatic phonons.

Internal units (energies k_B T_c, time tau_0, energy densities N_0 (k_B T_c)^2 per um^3).
Each drive adds to the rates in the form ``(1 - f) A - f B`` of docs/physics.md, "Collision
integrals", per cell, with the cell-averaged spectral functions of ``energy_grid`` (the BCS
or Eliashberg ``rho``, ``phi``). Photons couple to the current (case II of the coherence
factors, as in Mattis-Bardeen's ``sigma_1``), so the two processes take opposite signs
(docs/physics.md, "Drives"):

* ``photon`` (``h nu > 2 Delta``, pair breaking; Goldie and Withington 2013, Guruswamy et
  al. 2014): ``rho df/dt(E) = B w_-(E, h nu - E) [1 - f(E) - f(h nu - E)]`` with the
  pair-creation weight ``w_-(E, E') = rho rho' - phi phi'``, i.e. ``(1 - Delta^2/(E E')) rho rho'``;
* ``microwave`` (``h nu < 2 Delta``, absorption and stimulated emission by QPs):
  ``rho df/dt(E) = B { w_+(E, E + h nu) [f(E + h nu) - f(E)] + w_+(E - h nu, E) [f(E - h nu) - f(E)] }``
  with the scattering weight ``w_+ = rho rho' + phi phi'`` (the Pauli factors cancel in the
  difference; written in the gain/loss form below);
* ``phonon``: ``dn/dt(Omega_inj) = s``.

Every transfer lands on the grid: a drive acts at a node ``m h``. An energy ``h nu`` between
two nodes, ``(m + t) h``, is shared between the drives at ``m`` and ``m + 1`` in the ratio
``1 - t : t`` of absorbed quanta, so the mean quantum is ``h nu`` (``split_energy``). The amplitude ``B`` (``s``) is set at each evaluation so that the cell
absorbs the given power density ``P`` exactly: ``P = 4 h sum_E E rho df/dt|drive`` for the
QP drives (each pair-breaking photon puts ``h nu`` into two QPs; each upward microwave
transition ``h nu`` into one QP), and ``P = 4 W h Omega^3 s`` for phonons. The absorbed
power is booked in the ledger (``energy_absorbed``). With the Eliashberg factor ``ell``
the rates are divided by ``ell`` like the collision rates, so the ledger stays exact.
Pure numpy: no PETSc, no MPI.
"""
from dataclasses import dataclass

import numpy as np

from boltzphlow_mpi.physics.analysis.diagnostics import phonon_energy_weights


@dataclass
class Drive:
    """One drive on the energy grid: ``kind``, grid index ``m`` of ``h nu`` (or ``Omega``),
    and the absorbed power density per cell ``power`` (cells,), internal units (a
    ``[[drive]]`` table between two nodes gives two of them, ``split_energy``)."""

    kind: str
    m: int
    power: np.ndarray

    def energy(self, grid):
        return self.m * grid.step

    def add(self, f, spectra, grid, gf, kf, gn, phonon_weight):
        """Add the drive's gain ``gf``/``gn`` and loss ``kf`` coefficients in place (cells, N),
        before any division by the Eliashberg ``ell``. Returns the power absorbed per cell."""
        if self.kind == "phonon":
            # the weight of E_ph itself, so the phonon energy gained is the power booked
            s = self.power / phonon_energy_weights(grid, phonon_weight)[self.m]
            gn[:, self.m] += s
            return self.power.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(spectra.active, 1.0 / np.where(spectra.active, spectra.rho, 1.0), 0.0)
        lo, hi, w, strength, B = self._transitions(f, spectra, grid)
        if self.kind == "photon":
            gf[:, lo] += B[:, None] * w * (1.0 - f[:, hi]) * inv[:, lo]
            kf[:, lo] += B[:, None] * w * inv[:, lo]
            return B * strength
        Bw = B[:, None] * w
        # the lower state gains from above, loses upwards; the upper state the reverse
        gf[:, lo] += Bw * f[:, hi] * inv[:, lo]
        kf[:, lo] += Bw * inv[:, lo]
        gf[:, hi] += Bw * f[:, lo] * inv[:, hi]
        kf[:, hi] += Bw * inv[:, hi]
        return B * strength

    def derivatives(self, f, spectra, grid):
        """The exact derivatives of the drive's ``gf``, ``kf`` and ``gn`` with respect to ``f``
        of one cell: arrays (N, N), ``[row, column]`` = ``d(row term)/d f[column]``, for ``f``
        (N,) and one-cell ``spectra``; the absorbed power is the constant ``power`` (its
        derivative is zero wherever the drive is on).

        Each QP drive is ``B(f) U(f)``: ``U`` the terms at unit amplitude, affine in ``f``, and
        ``B = P / S(f)`` with ``S`` the power absorbed at unit amplitude, linear in ``f``. So
        ``d(B U) = U (x) dB + B dU`` with ``dB = -(B / S) dS``: a rank-one part from the
        normalisation and the constant couplings of the transitions (docs/numerics.md, "The
        exact Jacobian of a cell"). A phonon drive does not depend on ``f``."""
        N = grid.size
        dgf, dkf, dgn = np.zeros((N, N)), np.zeros((N, N)), np.zeros((N, N))
        if self.kind == "phonon":
            return dgf, dkf, dgn
        f = np.asarray(f, float)[None, :]
        active, rho = spectra.active[0], spectra.rho[0]
        inv = np.zeros(N)
        inv[active] = 1.0 / rho[active]
        lo, hi, w, strength, B = self._transitions(f, spectra, grid)
        w, S, B, f = w[0], float(strength[0]), float(B[0]), f[0]
        if not S > 0:
            return dgf, dkf, dgn
        count = lambda idx, v: np.bincount(idx, weights=v, minlength=N)
        if self.kind == "photon":
            xw = grid.x[lo] * w
            dS = -4.0 * grid.step * (count(lo, xw) + count(hi, xw))
            gf_unit = count(lo, w * (1.0 - f[hi]) * inv[lo])
            kf_unit = count(lo, w * inv[lo])
            np.add.at(dgf, (lo, hi), -B * w * inv[lo])
        else:
            dS = 4.0 * grid.step * self.energy(grid) * (count(lo, w) - count(hi, w))
            gf_unit = count(lo, w * f[hi] * inv[lo]) + count(hi, w * f[lo] * inv[hi])
            kf_unit = count(lo, w * inv[lo]) + count(hi, w * inv[hi])
            np.add.at(dgf, (lo, hi), B * w * inv[lo])
            np.add.at(dgf, (hi, lo), B * w * inv[hi])
        # far from the solution (QPs ~1e-200 below the bath) B/S exceeds the float range; the
        # Jacobian there only has to point away from the iterate
        with np.errstate(over="ignore", invalid="ignore"):
            dB = -(B / S) * dS
            dgf += np.outer(gf_unit, dB)
            dkf += np.outer(kf_unit, dB)
        return dgf, dkf, dgn

    def net_fraction(self, f, spectra, grid):
        """Microwave drive, per cell: net upward transitions over all transitions,
        ``sum w (f - f') / sum w (f + f')`` (``f'`` a quantum above); 1 for the other kinds. A
        drive normalised to its power needs it well above 0: as it goes to 0 the amplitude ``B``
        grows without bound while ``B`` times it stays the power, a degenerate state in which the
        drive flattens ``f`` across its ladder (``numerics.steady_point``, the domain)."""
        if self.kind != "microwave":
            return np.ones(len(f))
        lo, hi, w, _, _ = self._transitions(f, spectra, grid)
        gross = np.sum(w * (f[:, lo] + f[:, hi]), axis=1)
        net = np.sum(w * (f[:, lo] - f[:, hi]), axis=1)
        return np.where(gross > 0, net / np.where(gross > 0, gross, 1.0), 0.0)

    def amplitude(self, f, spectra, grid):
        """``B`` per cell (``1/tau_0``), the rate constant that makes the drive absorb its
        power at occupations ``f``: the ``c_phot nbar`` of Fischer and Catelani (2023), Eq.
        (14), for a microwave drive (docs/physics.md, "Drives"). QP drives only."""
        return self._transitions(f, spectra, grid)[4]

    def _transitions(self, f, spectra, grid):
        """``(lo, hi, w, strength, B)``: the cell pairs of the transitions (photon: a QP in
        ``lo`` and its partner in ``hi``; microwave: ``lo -> hi = lo + m``), their weights
        (cells, pairs), the absorbed power per unit ``B`` and ``B``."""
        rho, phi = spectra.rho, spectra.phi
        N, m, h, x = grid.size, self.m, grid.step, grid.x
        if self.kind == "photon":
            lo, hi, w = photon_pair_weight(rho, phi, m)
            strength = 4.0 * h * np.sum(x[lo] * w * (1.0 - f[:, lo] - f[:, hi]), axis=1)  # power per unit B
        else:  # microwave: pairs (k, k + m)
            lo, hi = np.arange(N - m), np.arange(m, N)
            w = rho[:, lo] * rho[:, hi] + phi[:, lo] * phi[:, hi]
            strength = 4.0 * h * self.energy(grid) * np.sum(w * (f[:, lo] - f[:, hi]), axis=1)
        B = np.where(strength > 0, self.power / np.where(strength > 0, strength, 1.0), 0.0)
        return lo, hi, w, strength, B


def split_energy(energy, step):
    """The nodes and shares of absorbed power of a drive at ``energy`` on a grid of ``step``:
    ``[(m, share)]``, one node when ``energy`` is on one (to 1e-9 of a step), else the two
    nodes around it with the quanta shared ``1 - t : t`` (``energy = (m + t) step``), so that
    the mean quantum is ``energy``; the power shares are ``(1 - t) m / (m + t)`` and
    ``t (m + 1) / (m + t)``."""
    x = float(energy) / float(step)
    m = int(np.floor(x + 1e-9))
    t = x - m
    if t < 1e-9 or m == 0:
        return [(max(m, round(x)), 1.0)]
    return [(m, (1.0 - t) * m / x), (m + 1, t * (m + 1) / x)]


def photon_pair_weight(rho, phi, m):
    """The cells a photon of ``h nu = m h`` breaks a pair into, and the pair-creation weight.

    Parameters
    ----------
    rho, phi : ndarray (cells, N)
        Cell-averaged spectral functions (``energy_grid``).
    m : int
        Grid index of ``h nu``.

    Returns
    -------
    kk, pp : ndarray of int
        The QP cells ``k`` and their partners ``m - k`` (both on the grid).
    w : ndarray (cells, len(kk))
        ``w_-(E, h nu - E) = rho rho' - phi phi'`` (``(1 - Delta^2/(E E')) rho rho'`` in BCS),
        clipped at 0: a coupling to the current creates pairs with case-II coherence, so
        ``h sum_k w`` is ``h nu sigma_1/sigma_n`` of Mattis-Bardeen at ``T = 0``.
    """
    k = np.arange(rho.shape[-1])
    partner = m - k
    ok = (partner >= 0) & (partner < rho.shape[-1])
    kk, pp = k[ok], partner[ok]
    # BCS cell averages keep rho >= phi >= 0 cell by cell; the clip guards Eliashberg tails
    w = np.maximum(rho[:, kk] * rho[:, pp] - phi[:, kk] * phi[:, pp], 0.0)
    return kk, pp, w


def power_to_internal(power_W_per_um3, units):
    """W/um^3 -> internal energy density per tau_0."""
    return power_W_per_um3 / units.power_density_W_per_um3
