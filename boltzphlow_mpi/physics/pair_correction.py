"""The strip pair weights at the gap edge applied to the collision coefficients, their
derivatives and the per-mode pair rates (docs/numerics.md, "Pair processes at the gap edge").

The collision sums weight a QP pair ``(k, k')`` and its phonon mode ``m = k + k'`` with the
product of cell averages ``W = rho_k rho_k' + phi_k phi_k'``. Near the gap the strip weights of
``pair_weights`` replace them on a ``J x J`` window of cells starting at the first cell with
states: ``W -> W + dW``. The same ``dW`` enters the QP coefficients (pair breaking in ``A``,
recombination in ``B``) and the phonon coefficients (recombination in ``A'``, pair breaking in
``B'``), so detailed balance and energy conservation stay exact on the grid:

    dA_i  = (h / rho_i) sum_k g_m n_m       dW_ik (1 - f_k)
    dB_i  = (h / rho_i) sum_k g_m (1 + n_m) dW_ik f_k
    dA'_m = c_r h sum_(i+k=m) dW_ik f_i f_k
    dB'_m = c_r h sum_(i+k=m) dW_ik (1 - f_i)(1 - f_k)

(``g_m = Omega_m^2`` on the phonon band, zero off it). Only spectra built from the closed-form
BCS or Dynes densities (``cell_spectra``, ``Spectra.dynes`` set) are corrected: the strip
weights are integrals of those densities. Pure numpy: no PETSc, no MPI.
"""
import numpy as np

from boltzphlow_mpi.physics.pair_weights import DEFAULT_WINDOW, pair_weight_correction


class EdgePairCorrection:
    """``dW`` per batch cell for a kernel's grid, cached on the gaps it was made for.

    Parameters
    ----------
    grid : EnergyGrid
    coupling : ndarray (N,)
        ``g = Omega^2`` on the phonon band, zero off it (``EnergyGrid.coupling``).
    c_pair : float
        The pair prefactor ``c_r`` of the phonon equation.
    window : int
        ``J``, cells per window side.
    """

    def __init__(self, grid, coupling, c_pair, window=DEFAULT_WINDOW):
        self.grid, self.coupling, self.c_pair, self.window = grid, coupling, c_pair, window
        self._key, self._value = None, None

    def weights(self, spectra, cells):
        """``(k0, dW)`` for the ``cells`` batch cells of ``spectra`` (None when nothing is
        corrected): ``k0`` (cells,) first window cell, ``dW`` (cells, J, J)."""
        if spectra.dynes is None:
            return None
        delta = np.broadcast_to(np.asarray(spectra.delta, float).ravel(), (cells,))
        key = (float(spectra.dynes), delta.tobytes())
        if key != self._key:
            # a batch repeats few gaps (the bath's, or one per cell of a sphere): compute each once
            uniq, inverse = np.unique(delta, return_inverse=True)
            k0, dW = pair_weight_correction(self.grid, uniq, spectra.dynes, self.window)
            self._key, self._value = key, (k0[inverse], dW[inverse])
        return self._value

    def _window(self, f, spectra):
        """The window of every batch cell, or None: ``(idx, ok, m, D, fw, inv)`` with the QP
        cells ``idx`` (cells, J) and their validity ``ok``, the mode of each pair ``m`` (cells,
        J, J), ``D = dW`` where the pair and its mode are on the grid (0 elsewhere), the
        occupations ``fw`` and ``1/rho`` (0 without states) of the window cells."""
        cells, N = f.shape
        got = self.weights(spectra, cells)
        if got is None:
            return None
        k0, dW = got
        idx = k0[:, None] + np.arange(dW.shape[-1])[None, :]
        ok = idx < N
        idx = np.minimum(idx, N - 1)
        m = idx[:, :, None] + idx[:, None, :]
        D = np.where(ok[:, :, None] & ok[:, None, :] & (m < N), dW, 0.0)
        m = np.minimum(m, N - 1)
        rows = np.arange(cells)[:, None]
        fw = np.where(ok, f[rows, idx], 0.0)
        rw = np.broadcast_to(spectra.rho, f.shape)[rows, idx]
        inv = np.where(ok & (rw > 0), 1.0 / np.where(rw > 0, rw, 1.0), 0.0)
        return idx, ok, m, D, fw, inv

    def add_to(self, A, B, Ap, Bp, f, n, spectra):
        """Add the corrections to the coefficients (cells, N) in place; False when these
        spectra get none (nothing added)."""
        win = self._window(f, spectra)
        if win is None:
            return False
        idx, ok, m, D, fw, inv = win
        h, cr = self.grid.step, self.c_pair * self.grid.step
        rows = np.arange(len(f))[:, None]
        g = self.coupling[m]
        nm = n[rows[:, :, None], m]
        dA = h * inv * np.einsum("cab,cb->ca", D * g * nm, 1.0 - fw)
        dB = h * inv * np.einsum("cab,cb->ca", D * g * (1.0 + nm), fw)
        qrows = np.broadcast_to(rows, idx.shape)
        np.add.at(A, (qrows, idx), np.where(ok, dA, 0.0))
        np.add.at(B, (qrows, idx), np.where(ok, dB, 0.0))
        band = g > 0
        mrows = np.broadcast_to(rows[:, :, None], m.shape)
        np.add.at(Ap, (mrows, m), np.where(band, cr * D * fw[:, :, None] * fw[:, None, :], 0.0))
        np.add.at(Bp, (mrows, m), np.where(band, cr * D * (1.0 - fw[:, :, None]) * (1.0 - fw[:, None, :]), 0.0))
        return True

    def add_derivatives(self, out, f, n, spectra):
        """Add the corrections' derivatives to those of ``coefficient_derivatives`` (a dict
        of (cells, N, N): ``A_f, A_n, B_f, B_n, Ap_f, Bp_f``, before the division by ``ell``)."""
        win = self._window(f, spectra)
        if win is None:
            return
        idx, _, m, D, fw, inv = win
        h, cr = self.grid.step, self.c_pair * self.grid.step
        for c in range(len(f)):
            i, mm, Dc, fc = idx[c], m[c], D[c], fw[c]
            g = self.coupling[mm]
            nm = n[c, mm]
            # rows i (window a), columns: f of the partner (window b), n of the mode m_ab
            ra = np.broadcast_to(i[:, None], Dc.shape)
            cb = np.broadcast_to(i[None, :], Dc.shape)
            pre = h * inv[c][:, None] * Dc * g
            np.add.at(out["A_f"][c], (ra, cb), -pre * nm)
            np.add.at(out["B_f"][c], (ra, cb), pre * (1.0 + nm))
            np.add.at(out["A_n"][c], (ra, mm), pre * (1.0 - fc[None, :]))
            np.add.at(out["B_n"][c], (ra, mm), pre * fc[None, :])
            band = g > 0
            # d/df_i of sum_ab D_ab f_a f_b over a + b = m: 2 D_ab f_b in column a (D symmetric)
            np.add.at(out["Ap_f"][c], (mm, ra), np.where(band, 2.0 * cr * Dc * fc[None, :], 0.0))
            np.add.at(out["Bp_f"][c], (mm, ra), np.where(band, -2.0 * cr * Dc * (1.0 - fc[None, :]), 0.0))

    def mode_sums(self, f, spectra):
        """Per phonon mode, ``h sum_(i+k=m) dW_ik f_i f_k`` and ``h sum dW_ik (1 - f_i)(1 - f_k)``
        (cells, N): the corrections to ``h [conv(a, a) + conv(b, b)]`` and
        ``h [conv(c, c) + conv(d, d)]`` (zeros when nothing is corrected)."""
        made, breaking = np.zeros(f.shape), np.zeros(f.shape)
        win = self._window(f, spectra)
        if win is None:
            return made, breaking
        _, _, m, D, fw, _ = win
        D = D * self.grid.step
        mrows = np.broadcast_to(np.arange(len(f))[:, None, None], m.shape)
        np.add.at(made, (mrows, m), D * fw[:, :, None] * fw[:, None, :])
        np.add.at(breaking, (mrows, m), D * (1.0 - fw[:, :, None]) * (1.0 - fw[:, None, :]))
        return made, breaking
