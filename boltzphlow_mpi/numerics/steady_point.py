"""Steady states of the 0-D kinetic equations under continuous drive, with PETSc SNES.

Unknowns: the logarithms ``v = ln y`` of the evolving occupations (QP cells with states
and phonon modes; positivity is then automatic and the scale of every unknown is its
relative change) and, with ``gap.mode = "self-consistent"``, the gap ``Delta``. Residuals:

* occupations: ``r = ln(G / (K y))``, the log of gain over loss (``kinetics``:
  ``dy/dt = G - K y``, collisions, escape and drives): zero at balance, and with
  ``dr/dv = -1 + ...`` it never saturates however far an unknown is from its balance
  (a relative residual ``(G - K y)/(G + K y)`` does, and its Jacobian becomes singular);
* gap: the nonequilibrium gap equation of ``gap.solve_gap`` (BCS), relative.

Newton's method (``SNES newtonls``: full steps first, then clipped steps with the QP number
balance in place of the first QP row, then continuation in the drives' power from the bath
state; docs/numerics.md, "Steady states: globalization"), the dense Jacobian formed from the
structure of the rates (docs/numerics.md, "Steady states: the structured Jacobian"; a 0-D
problem has a few hundred unknowns) and solved by LU (``lu_factor``: a compiled loop, so the
result does not depend on BLAS threads).
The collision sums are the direct ones here (exact relative to every entry, also in the
cold tail where the FFT sums are noise; docs/numerics.md, "Precision").
PETSc options with the prefix ``steady_`` override it (``-steady_snes_type``,
``-steady_snes_rtol``, ``-steady_snes_monitor``, ``-steady_ksp_type gmres -steady_pc_type jacobi``,
``-steady_snes_mf_operator``...). The converged state is checked again in the original
variables: ``max |ln(G / K y)| < tol`` (the relative rate imbalance; docs/numerics.md, "Steady
states: the tolerance"). A plain fixed-point iteration
``y <- G(y) / K(y)`` (``fixed_point``) is kept as the comparison the issue asks for.
"""
import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.jit import njit
from boltzphlow_mpi.numerics.petsc_options import set_from_options
from boltzphlow_mpi.numerics.steady_common import (
    describe_drives,
    effective_tolerance,
    exact_sums,
    log_balance_jacobian,
    net_fractions,
    newton_snes,
    saturation,
    true_residual,
)
from boltzphlow_mpi.physics.energy_grid import cell_spectra
from boltzphlow_mpi.physics.gap.bcs import _log_ratio, gap_residual
from boltzphlow_mpi.physics.jacobian import derivatives

#: the largest log occupation (a phonon mode; QPs stay below 0) a residual is evaluated at
LOG_OCCUPATION_MAX = 500.0
#: the smallest net fraction of a microwave drive's transitions in the domain (``_drives_not_degenerate``)
MIN_NET_FRACTION = 1e-6


#: with the self-consistent BCS gap, QP cells down to this fraction below the gap edge are
#: unknowns even without states (``qp_unknowns``), so the gap can move into them in one solve
GAP_MARGIN = 0.3


def qp_unknowns(grid, spectra, self_consistent):
    """The QP cells that are unknowns of the point steady problem: every cell with states
    and, with the self-consistent gap, also the cells whose upper edge lies above
    ``(1 - GAP_MARGIN) Delta``: while they have no states their row ties them to the cell above
    (``SteadyProblem._dead_rows``), and when the gap falls into them during the solve their own
    balance takes over, so a gap that moves across cell edges needs no new round of
    ``_bcs_active_set`` (docs/physics.md, "Point (0-D)"). The cell at
    ``E = 0`` is held (``f = 1/2``) and never an unknown."""
    q = spectra.active[0].copy()
    if self_consistent and q.any():
        delta = float(np.asarray(spectra.delta).ravel()[0])
        first = int(np.argmax(q))
        upper = grid.x + 0.5 * grid.step
        q[:first] |= upper[:first] > (1.0 - GAP_MARGIN) * delta
    q[0] = False                       # f(0) = 1/2 is held (and BCS has no states there)
    return q


class SteadyProblem:
    """The residual of one 0-D cell (``sim``: a point ``Simulation``) in log variables."""

    def __init__(self, sim):
        if sim.transport is not None:
            raise SolverError("steady state: this solver is for a point cell (no transport)")
        self.sim, self.model = sim, sim.model
        m = self.model
        # BCS: the gap is an unknown of the Newton system; Eliashberg: the spectra are held
        # here and updated by the outer iteration of ``solve``
        self.self_consistent = sim.self_consistent and sim.gap_model.name == "bcs"
        self.y0 = sim.y[:1].copy() if len(sim.y) else m.reference_state.copy()
        self._mask_for(m.spectra)
        #: the first QP row replaced by the QP number balance (``_clipped_newton``)
        self.number_row = False
        #: the gap before any solve (the bath's, or the current one): where continuation starts
        self.delta_start = float(m.delta[0])

    def _mask_for(self, spectra):
        m = self.model
        q = qp_unknowns(m.grid, spectra, self.self_consistent)
        p = m.grid.phonon_mask.copy()
        self.q_idx = np.nonzero(q)[0]
        self.p_idx = m.nf + np.nonzero(p)[0]
        self.idx = np.concatenate([self.q_idx, self.p_idx])

    def _live(self):
        """Which QP unknowns have states at the current gap."""
        return self.model.spectra.active[0, self.q_idx]

    def _dead_rows(self):
        """Positions (in the unknowns) of QP cells without states at the current gap: the
        margin below the gap edge (``qp_unknowns``). Their row ties each to the cell above,
        ``v_i - v_(i+1)`` (a cell at the top has no such row: it always has states)."""
        return np.flatnonzero(~self._live())

    def _first_live(self):
        """The row of the QP number balance (``number_row``): the first QP cell with states."""
        live = self._live()
        return int(np.argmax(live)) if live.any() else 0

    @property
    def size(self):
        return len(self.idx) + (1 if self.self_consistent else 0)

    def unpack(self, x):
        y = self.y0.copy()
        y[0, self.idx] = np.exp(x[: len(self.idx)])
        delta = float(x[-1]) if self.self_consistent else float(self.model.delta[0])
        return y, delta

    def pack(self, y, delta):
        v = np.log(np.maximum(y[0, self.idx], 1e-300))
        return np.concatenate([v, [delta]]) if self.self_consistent else v

    def set_gap(self, delta):
        m = self.model
        if self.self_consistent and delta != m.delta[0]:
            m.set_gap(np.array([delta]))

    def residual(self, x):
        # outside the domain (a QP occupation above 1, or one that would overflow): NaN
        # without evaluating the rates, so a step there is halved (``_ClippedStep``)
        if not self.in_domain(x):
            return np.full(self.size, np.nan)
        y, delta = self.unpack(x)
        self.set_gap(delta)
        G, K = self.model.split(y)
        r = self._log_balance(G, K, y)[0]
        dead = self._dead_rows()
        r[dead] = x[dead] - x[dead + 1]
        if not (self._absorbs_requested_power(G) and self._drives_not_degenerate(y)):
            r = np.full(len(r), np.nan)
        elif self.number_row and len(self.q_idx):
            r[self._first_live()] = self._number_balance(G, K, y)
        if self.self_consistent:
            r = np.concatenate([r, [self._gap_residual(y, delta)]])
        return r

    def in_domain(self, x):
        """QP occupations below 1, every log occupation below ``LOG_OCCUPATION_MAX`` and, with
        the self-consistent gap, ``0 < Delta <= 2 Delta_0`` (a full step once took the gap below
        0, where the spectra are undefined: 300 mK, ``h nu = Delta_0/9``, 3e-10 W/um^3)."""
        nq = len(self.q_idx)
        if self.self_consistent and not (0 < x[-1] <= 2 * self.sim.delta0):
            return False
        return bool(np.all(x[:nq] < 0.0) and np.all(x[:len(self.idx)] < LOG_OCCUPATION_MAX))

    def true_residual(self, x):
        """``residual`` with every row the log balance of its own unknown (no number row)."""
        return true_residual(self, x)

    def _absorbs_requested_power(self, G):
        """False where a drive normalised to its absorbed power cannot absorb it (no net
        upward transitions left: ``B = 0`` in ``drives``): the state is outside the domain
        of the steady problem, not a solution with less power."""
        m = self.model
        want = sum(float(np.asarray(d.power)[0]) for d in m.drives)
        got = float(G[0, m.nf + m.nn + 2])
        return not (want > 0 and got < want * (1 - 1e-8))

    def _drives_not_degenerate(self, y):
        """False where a microwave drive's net upward transitions are below
        ``MIN_NET_FRACTION`` of all its transitions: there ``B`` has grown without bound and the
        drive has flattened ``f`` across its ladder, a state that absorbs any power (measured: at
        100 mK, continuation landed on ``f = 1.1e-17`` flat near the gap with ``B = 4e18`` and a
        residual of 1e-7). Physical readout states have a fraction of order ``omega_0 / T*``."""
        return bool(net_fractions(self.model, self.model.unpack(y)[0])[0] >= MIN_NET_FRACTION)

    def _number_weights(self):
        return self.model.spectra.mass[0, self.q_idx]

    def _number_sums(self, gain, loss_rate, y):
        """QP generation and loss, ``sum_k w_k G_k`` and ``sum_k w_k K_k y_k`` over the QP
        unknowns (arguments: their gains, loss rates and occupations)."""
        w = self._number_weights()
        return np.sum(w * gain), np.sum(w * loss_rate * y)

    def _number_balance(self, G, K, y):
        """``ln`` of QP generation over QP loss (``_number_sums``): scattering and sub-gap
        drives cancel in both sums, so this is pair breaking against recombination and sets
        the QP number (docs/numerics.md, "Steady states: the number row")."""
        q = self.q_idx
        gen, loss = self._number_sums(G[0, q], K[0, q], y[0, q])
        return float(np.log(gen) - np.log(loss))

    def _gap_residual(self, y, delta):
        s = self.sim
        f = self.model.unpack(y)[0]
        r = float(gap_residual(s.grid, f, np.array([delta]), s.delta0, s.cutoff, s.gamma)[0])
        return r / max(abs(_log_ratio(delta, s.delta0, s.cutoff)), 1.0)

    def _log_balance(self, G, K, ys, with_y=True):
        """``ln G - ln(K y)`` (``with_y``) or ``ln G - ln K`` on the unknowns, rows of ``ys``:
        zero at balance, and it never saturates however far an unknown is from it."""
        loss = K[:, self.idx] * ys[:, self.idx] if with_y else K[:, self.idx]
        return np.log(np.maximum(G[:, self.idx], 1e-300)) - np.log(np.maximum(loss, 1e-300))

    def _log_gain_over_rate(self, ys):
        """``ln G - ln K`` of many states ``ys`` (rows) at the current gap, in one batched
        evaluation of the collision sums (the model's spectra tiled over the rows)."""
        m = self.model
        spectra = m.spectra
        m.set_spectra(spectra.tile(len(ys)))
        try:
            G, K = m.split(ys)
        finally:
            m.set_spectra(spectra)
        return self._log_balance(G, K, ys, with_y=False)

    def jacobian(self, x, r0=None):
        """``dr/dv`` from the structure of the rates (docs/numerics.md, "Steady states: the
        structured Jacobian"): with ``r = ln G - ln K - v`` and ``y = e^v``,
        ``dr_i/dv_j = y_j (dG_i/dy_j / G_i - dK_i/dy_j / K_i) - delta_ij``, where ``dG/dy``
        and ``dK/dy`` are the exact derivatives of the collision sums (Toeplitz and Hankel
        matrices of the other factor, ``physics.jacobian.derivatives``; ``O(N^2)``, no
        collision evaluation), the escape and the drives. The gap row is analytic in the
        occupations (``d/df_k`` of the gap equation is ``-2 h phi_k / Delta``); the gap
        column is a central difference of the residual (the spectra depend on ``Delta``)."""
        n, nv = self.size, len(self.idx)
        y, delta = self.unpack(x)
        self.set_gap(delta)
        m = self.model
        G, K = m.split(y)
        d = derivatives(m, y)
        N, nf = m.N, m.nf
        # rows and columns of the averaged variables u = (f, n) (a point cell: Mq = Mp = 1)
        pos = np.where(self.idx < nf, self.idx, self.idx - nf + N)
        DG = np.concatenate([d["dgf"][0], d["dgn"][0]])[np.ix_(pos, pos)]
        DK = np.concatenate([d["dkf"][0], d["dkn"][0]])[np.ix_(pos, pos)]
        yv = y[0, self.idx]
        J = np.zeros((n, n))
        J[:nv, :nv] = log_balance_jacobian(DG, DK, G[0, self.idx], K[0, self.idx], yv)
        self._tie_dead_rows(J)
        if self.number_row and len(self.q_idx):
            J[self._first_live(), :nv] = self._number_row(DG, DK, G[0, self.idx], K[0, self.idx], yv)
        if self.self_consistent:
            s = self.sim
            phi = cell_spectra(s.grid, np.array([delta]), s.gamma).phi[0]
            scale = max(abs(_log_ratio(delta, s.delta0, s.cutoff)), 1.0)
            qp = self.idx < nf
            J[nv, :nv] = np.where(qp, -2.0 * s.grid.step * phi[np.minimum(pos, N - 1)] / delta / scale, 0.0) * yv
            J[:, -1] = self._gap_column(x)
        return J

    def _tie_dead_rows(self, J):
        dead = self._dead_rows()
        J[dead, :] = 0.0
        J[dead, dead] = 1.0
        J[dead, dead + 1] = -1.0

    def _number_row(self, DG, DK, gain, loss_rate, yv):
        """``d/dv`` of ``_number_balance`` from the derivatives of the gains and loss rates
        (rows and columns: the unknowns; QP rows first)."""
        nq = len(self.q_idx)
        w = self._number_weights()
        gen, loss = self._number_sums(gain[:nq], loss_rate[:nq], yv[:nq])
        dgen = (w @ DG[:nq]) * yv
        dloss = (w @ (DK[:nq] * yv[:nq, None])) * yv
        dloss[:nq] += w * loss_rate[:nq] * yv[:nq]
        return dgen / gen - dloss / loss

    def _gap_column(self, x):
        """``dr/dDelta``: central differences of the residual (``1e-6 Delta``; the spectra
        depend on the gap); the model is left at ``x``."""
        xp, xm = x.copy(), x.copy()
        hd = 1e-6 * x[-1]
        xp[-1] += hd
        xm[-1] -= hd
        column = (self.residual(xp) - self.residual(xm)) / (2 * hd)
        self.residual(x)
        return column

    def jacobian_fd(self, x, r0=None, rel_step=1e-3):
        """``dr/dv`` by differences (the check of ``jacobian``, and the Jacobian the solver used before it):
        ``r = (ln G - ln K) - v``, the ``-v`` part is the identity, the rest by central
        differences in ``y`` with ``h_j = rel_step y_j`` (``G`` and ``K`` are quadratic in
        the occupations apart from the drives' normalisation, so the differences are exact up
        to round-off there), all columns in one batch; the gap column by differences too."""
        r0 = self.residual(x) if r0 is None else r0
        n, nv = self.size, len(self.idx)
        y, delta = self.unpack(x)
        self.set_gap(delta)
        yv = y[0, self.idx]
        h = rel_step * yv
        ys = np.repeat(y, 2 * nv, axis=0)
        cols = np.arange(nv)
        ys[cols, self.idx] = yv + h
        ys[nv + cols, self.idx] = yv - h
        L = self._log_gain_over_rate(ys)
        J = np.zeros((n, n))
        J[:nv, :nv] = ((L[:nv] - L[nv:]) * (yv / (2 * h))[:, None]).T - np.eye(nv)
        self._tie_dead_rows(J)
        if self.self_consistent:
            for j in range(nv):  # the gap residual of each occupation column
                J[nv, j] = yv[j] * (self._gap_residual(ys[j][None], delta)
                                    - self._gap_residual(ys[nv + j][None], delta)) / (2 * h[j])
            J[:, -1] = self._gap_column(x)
        return J


def lu_factor(A):
    """LU with partial pivoting in a compiled loop (``_lu_inplace``): unlike a threaded LAPACK
    ``getrf`` its rounding does not depend on the number of threads, so a steady state is
    bitwise the same on any number of ranks."""
    A = np.array(A, float, order="C")  # (PETSc's dense matrices are column-major)
    piv = np.arange(len(A))
    if _lu_inplace(A, piv) < 0:
        raise SolverError("steady state: singular Jacobian")
    return A, piv


@njit
def _lu_inplace(A, piv):
    """Right-looking LU of ``A`` in place, the pivot the first largest ``|A[i, k]|``,
    ``i >= k``; each update ``A[i, j] -= l_i u_j`` once per step. Returns -1 at a zero pivot."""
    n = A.shape[0]
    for k in range(n - 1):
        p = k
        best = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > best:
                best = abs(A[i, k])
                p = i
        if p != k:
            for j in range(n):
                A[k, j], A[p, j] = A[p, j], A[k, j]
            piv[k], piv[p] = piv[p], piv[k]
        if A[k, k] == 0.0:
            return -1
        for i in range(k + 1, n):
            A[i, k] /= A[k, k]
        u = A[k, k + 1:].copy()  # (a separate row: the update loop vectorizes)
        for i in range(k + 1, n):
            l = A[i, k]
            for j in range(n - k - 1):
                A[i, k + 1 + j] -= l * u[j]
    return 0


def lu_solve(lu, piv, b):
    """``A^-1 b`` from ``lu_factor``. A solution beyond the float range (a Jacobian whose
    entries were capped far from the solution, 300 mK at 3e-9 W/um^3) raises SolverError,
    which ends that Newton attempt as a singular Jacobian does."""
    n = len(b)
    y = np.asarray(b, float)[piv].copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, n):
            y[i] -= np.sum(lu[i, :i] * y[:i])
        for i in range(n - 1, -1, -1):
            y[i] = (y[i] - np.sum(lu[i, i + 1:] * y[i + 1:])) / lu[i, i]
    if not np.all(np.isfinite(y)):
        raise SolverError("steady state: the Newton step overflows (an ill-conditioned Jacobian)")
    return y


class _LUPreconditioner:
    """PETSc ``PCPYTHON`` context: the exact inverse of the assembled Jacobian (``lu_factor``)."""

    def setUp(self, pc):
        # PETSc sets the PC up again for the same matrix within a Newton iteration: the
        # factors of an unchanged matrix are kept (a comparison is O(n^2), the LU O(n^3))
        A = pc.getOperators()[1].getDenseArray()
        if getattr(self, "matrix", None) is None or not np.array_equal(A, self.matrix):
            self.matrix = A.copy()
            self.lu, self.piv = lu_factor(A)

    def apply(self, pc, x, y):
        y.setArray(lu_solve(self.lu, self.piv, x.getArray(readonly=True)))


def quasi_thermal_guess(sim, prob):
    """The thermal state (QPs and phonons) at the temperature ``T*`` whose phonon escape power
    equals the absorbed power, or None (no escape, no drive, or no such ``T*``).

    With strong phonon trapping the collisions equilibrate QPs and phonons with each other
    much faster than energy leaves, so the steady state is close to such a state, while the
    bath state is far from it along the slowly relaxing mode (total excitation energy) where
    Newton's line search has to crawl (issue 6: ``tau_esc / tau_pb`` up to 1e6). With
    ``gap.mode = "self-consistent"`` the gap unknown starts at the current gap (the Newton
    system moves it)."""
    rows, found = quasi_thermal_rows(sim.model, 0.999 if prob.self_consistent else 50.0)
    return rows[:1] if found[0] else None


def quasi_thermal_rows(m, t_top):
    """Per cell of the model ``m``: the thermal state at the ``T*`` whose escape power is the
    cell's absorbed power (``quasi_thermal_guess``), else the bath state; and whether found.
    ``t_top``: the highest ``T*`` allowed (k_B T_c units; a fixed gap allows ``T* > T_c``)."""
    from scipy.optimize import brentq

    from boltzphlow_mpi.physics.statistics import bose, fermi
    cells = len(m.delta)
    rows = np.repeat(m.reference_state, cells, axis=0)
    power = m.split(rows)[0][:, m.nf + m.nn + 2]
    found = np.zeros(cells, bool)
    if m.escape_rate <= 0:
        return rows, found
    x = m.grid.x
    for i in range(cells):
        def excess(t):
            return float(np.sum(m._escape_power_weight[i] * (bose(x, t) * m.grid.phonon_mask - m.n_bath))) - power[i]
        if not (power[i] > 0 and excess(t_top) > 0 and excess(m.bath_temperature) < 0):
            continue
        t_star = brentq(excess, m.bath_temperature, t_top, xtol=1e-12, rtol=1e-12)
        rows[i:i + 1] = m.pack(fermi(x, t_star)[None], (bose(x, t_star) * m.grid.phonon_mask)[None], 0.0, 0.0, 0.0)
        found[i] = True
    return rows, found


def _starting_point(sim, prob, guess):
    """``guess`` if given; else the better (smaller residual) of the current state and the
    quasi-thermal state (``quasi_thermal_guess``)."""
    delta = float(sim.model.delta[0])
    if guess is not None:
        return prob.pack(guess, delta)
    best = prob.pack(sim.y[:1].copy(), delta)
    hot = quasi_thermal_guess(sim, prob)
    if hot is not None:
        x_hot = prob.pack(hot, delta)
        r_now, r_hot = prob.residual(best), prob.residual(x_hot)
        if np.all(np.isfinite(r_hot)) and not np.linalg.norm(r_hot) >= np.linalg.norm(r_now):
            best = x_hot
    return best


def solve(sim, tol=1e-10, max_it=100, guess=None, max_outer=60):
    """Steady state of a point ``sim`` (its drives, escape, gap mode). Returns a dict with
    the state ``y``, the gap, the SNES iterations, the residual norms and the energy balance.
    Start: ``guess`` (rows like ``sim.y``), else ``_starting_point``. The model is left with
    the spectra of the steady state (its gap, with the self-consistent gap).

    Self-consistent Eliashberg gap: an outer iteration (``max_outer``) alternates Newton on
    the occupations with the spectra held and the Eliashberg update of the self-energies from
    the new ``f``, ``n`` (``gap_model.update``), until the gap edge moves by less than the
    Eliashberg tolerance; the occupations then balance at the final spectra to ``tol``."""
    if not sim.self_consistent:
        return _newton(sim, tol, max_it, guess)
    if sim.gap_model.name == "bcs":
        return _bcs_active_set(sim, tol, max_it, guess)
    m, y = sim.model, guess
    its, outer, history = 0, 0, []
    gap_tol = getattr(sim.gap_model.solver, "tol", 1e-10) * sim.delta0
    for outer in range(1, max_outer + 1):
        res = _newton(sim, tol, max_it, y)
        its += res["iterations"]
        history += res["residual_norms"]
        y = res["y"]
        fbar, nbar, _ = m.unpack(y)
        old = m.spectra
        new = sim.gap_model.update(fbar, nbar, old)
        sim.set_spectra(new)
        moved = float(np.max(np.abs(np.asarray(new.delta) - np.asarray(old.delta))))
        if moved < gap_tol:
            break
    else:
        raise SolverError(f"steady state: the Eliashberg outer iteration did not converge in {max_outer} "
                          f"updates (gap edge still moving by {moved:.3g} k_B T_c)")
    res = _newton(sim, tol, max_it, y)  # balance at the final spectra
    res.update(iterations=its + res["iterations"], residual_norms=history + res["residual_norms"],
               delta=float(m.delta[0]), outer_iterations=outer)
    return res


def _bcs_active_set(sim, tol, max_it, guess, max_rounds=20):
    """Self-consistent BCS gap: Newton with the gap an unknown; the QP unknowns are the
    cells with states at the starting gap. Where the converged gap has moved a cell edge
    (cells gained or lost states), solve again from there with the new set (the cells that
    gained states start at the occupation of the first cell above them) until the set holds."""
    m = sim.model
    y = guess
    its, history = 0, []
    for _ in range(max_rounds):
        used = qp_unknowns(sim.grid, m.spectra, True)
        res = _newton(sim, tol, max_it, y)
        its += res["iterations"]
        history += res["residual_norms"]
        m.set_gap(np.array([res["delta"]]))
        now = qp_unknowns(sim.grid, m.spectra, False)  # the cells with states
        if not (now & ~used).any():
            res.update(iterations=its, residual_norms=history)
            return res
        y = res["y"].copy()
        first = int(np.argmax(now & used)) if (now & used).any() else int(np.argmax(now))
        gained = now & ~used
        for q in range(m.Mq):
            y[0, q * m.N:(q + 1) * m.N][gained] = y[0, q * m.N + first]
    raise SolverError(f"steady state: the set of QP cells with states did not settle in {max_rounds} rounds")


def _newton(sim, tol=1e-10, max_it=100, guess=None):
    """Newton (PETSc SNES) on the unknowns of ``SteadyProblem`` (see ``solve``), with the
    exact (direct) collision sums."""
    with exact_sums(sim):
        return _newton_exact(sim, tol, max_it, guess)


#: Globalization (docs/numerics.md, "Steady states: globalization"): the first attempt takes
#: full Newton steps (SNES line search ``basic``) for at most this many iterations; if it
#: does not converge, ``_clipped_newton`` starts again from the same point, then
#: ``_power_continuation`` from the bath state, unless ``-steady_snes_linesearch_type`` or
#: ``-steady_snes_type`` chooses one SNES solver for a single attempt.
FULL_STEP_ITERATIONS = 30
#: largest change of a log unknown in one step of ``_clipped_newton`` (a factor e^10), and
#: in a full Newton step (only against overflow: the steps of issue 14's cases stay below)
STEP_CLIP = 10.0
FULL_STEP_CLIP = 100.0
#: ``_power_continuation``: the first fraction of the drives' power, its first step in
#: ``ln`` (a factor 10), the tolerance of the intermediate states and the smallest step
CONTINUATION_START = 1e-6
#: ... or smaller, until the bath state is this close to balance (``_continuation_start``)
CONTINUATION_START_RESIDUAL = 0.1
CONTINUATION_START_TRIES = 12
CONTINUATION_STEP = float(np.log(10.0))
CONTINUATION_TOL = 1e-6
CONTINUATION_MIN_STEP = 1e-3
#: Newton iterations of one continuation step (more: the step is too long, take a shorter one)
CONTINUATION_STEP_ITERATIONS = 20


def _newton_exact(sim, tol, max_it, guess):
    from petsc4py import PETSc
    tol = effective_tolerance(tol)
    prob = SteadyProblem(sim)
    x0 = _starting_point(sim, prob, guess)
    # a SNES type or line search chosen in the options database: that solver alone
    chosen = any(PETSc.Options().hasName(f"steady_snes_{k}") for k in ("linesearch_type", "type"))
    limit = max_it if chosen else min(max_it, FULL_STEP_ITERATIONS)
    x, reason, its, history = _snes_solve(prob, x0, tol, limit, None if chosen else "basic")
    worst = _worst(prob.true_residual(x))
    how = "options" if chosen else "basic"
    if not (reason > 0 and worst < tol) and not chosen:
        x, n, hist, ok = _clipped_newton(prob, x0, tol, max_it)
        its, history, how = its + n, history + hist, "clipped"
        if not ok:
            x, n, hist, reached = _power_continuation(sim, prob, tol, max_it)
            its, history, how = its + n, history + hist, "continuation"
            if reached < 1.0:
                raise SolverError(_unreachable(sim, reached, its, prob.unpack(x)[0]))
        worst = _worst(prob.true_residual(x))
    elif not (reason > 0 and worst < tol):
        raise SolverError(f"steady state: SNES did not converge (reason {reason}, {its} Newton iterations, "
                          f"max |ln(G/Ky)| = {worst:.3g})")
    y, delta = prob.unpack(x)
    return {"y": y, "delta": delta, "iterations": its, "residual_norms": history, "max_relative_residual": worst,
            "balance": energy_balance(sim, y), "line_search": how}


def _worst(r):
    return float(np.max(np.abs(r))) if len(r) and np.all(np.isfinite(r)) else float("inf")


def _clipped_newton(prob, x0, tol, max_it):
    """Newton (SNES, full steps) from ``x0`` on the residual with the number row
    (``SteadyProblem.number_row``), each log unknown moving by at most ``STEP_CLIP`` per
    step and the step halved while the residual is not finite (``_ClippedStep``):
    ``(x, iterations, residual norms, converged)``; converged when the residual with the
    number row and the log balance of every unknown are both below ``tol``.

    Why not a line search on the residual norm: with a cold bath the QP number is set by
    recombination, a rate ~1e-7 of the scattering that sets the shape, so the Jacobian has a
    singular value below 1e-6 (7e-7) and the norm rises for several steps on the way to the solution
    (measured: 100 mK, a microwave drive; docs/numerics.md, "Steady states: globalization").
    The number row makes that mode O(1); the clip bounds the steps of cold-tail unknowns."""
    x, reason, its, history = _snes_solve(prob, x0, tol, max_it, "basic", clipped=True)
    return x, its, history, reason > 0 and _worst(prob.true_residual(x)) < tol


class _ClippedStep:
    """SNES line-search pre-check: clips the Newton step ``Y`` (the new iterate is
    ``X - Y``) to ``clip`` in every log unknown and halves it while ``X - Y`` is outside the
    domain or, for a step longer than 1, the residual there is not finite (at most 40 times)."""

    def __init__(self, prob, clip):
        self.prob, self.nv, self.clip = prob, len(prob.idx), clip

    def __call__(self, X, Y):
        x, y = X.getArray(readonly=True), Y.getArray()
        y[:self.nv] = np.clip(y[:self.nv], -self.clip, self.clip)
        for _ in range(40):
            # a short step inside the domain needs no trial evaluation (it costs one collision sum)
            if self.prob.in_domain(x - y) and (np.max(np.abs(y[:self.nv]), initial=0.0) <= 1.0
                                                or np.all(np.isfinite(self.prob.residual(x - y)))):
                break
            y *= 0.5


def _power_continuation(sim, prob, tol, max_it):
    """Steady states along the drives' power scaled by ``s`` from ``CONTINUATION_START`` to
    1, each from the last (``_clipped_newton``; the step in ``ln s`` doubled after an easy
    state, divided by 4 after a failure): ``(x, iterations, residual norms, s reached)``.
    At ``s << 1`` the bath state is close to the steady state; intermediate states are
    solved to ``CONTINUATION_TOL``, the last one to ``tol``."""
    m = sim.model
    full = [np.array(d.power, float) for d in m.drives]

    def scale(s):
        for d, p in zip(m.drives, full, strict=True):
            d.power = p * s

    its, history = 0, []
    try:
        bath = prob.pack(m.reference_state, prob.delta_start)
        s = _continuation_start(prob, bath, scale)
        x, n, hist, ok = _clipped_newton(prob, bath, max(tol, CONTINUATION_TOL), max_it)
        its, history = its + n, history + hist
        if not ok:
            return x, its, history, 0.0
        step = CONTINUATION_STEP
        while s < 1.0:
            s_new = min(1.0, s * np.exp(step))
            scale(s_new)
            x_new, n, hist, ok = _clipped_newton(prob, x, tol if s_new == 1.0 else max(tol, CONTINUATION_TOL),
                                                 min(max_it, CONTINUATION_STEP_ITERATIONS))
            its, history = its + n, history + hist
            if ok:
                x, s = x_new, s_new
                if n <= 8:
                    step *= 2.0
            else:
                step /= 4.0
                if step < CONTINUATION_MIN_STEP:
                    return x, its, history, s
        return x, its, history, 1.0
    finally:
        scale(1.0)


def _continuation_start(prob, bath, scale):
    """The first fraction ``s`` of the drives' power: ``CONTINUATION_START``, or less until the
    bath state is within ``CONTINUATION_START_RESIDUAL`` of balance (the residual grows like
    ``s`` there). In a cold bath a drive is strong however weak its power: at 50 mK the QPs
    that absorb it are ~1e-18 per state, and 1e-40 W/um^3 already unbalances the bath state
    by 1e-6 (measured, ``omega_0 = Delta_0/9``). The scale is left set to the returned ``s``."""
    s = CONTINUATION_START
    for _ in range(CONTINUATION_START_TRIES):
        scale(s)
        worst = _worst(prob.true_residual(bath))
        if worst <= CONTINUATION_START_RESIDUAL:
            break
        s *= max(min(0.5 * CONTINUATION_START_RESIDUAL / worst, 0.5), 1e-6) if np.isfinite(worst) else 1e-6
    return s


def _unreachable(sim, reached, its, y=None):
    """The error of a steady state that continuation could not reach, naming the drives (and
    a drive that saturates at the last state reached ``y``, ``steady_common.saturation``)."""
    note = saturation(sim, y, reached) if y is not None else ""
    return (f"steady state: not reached ({its} Newton iterations): full Newton, clipped Newton and continuation "
            f"in the drives' power from the bath state failed; the continuation reached {reached:.3g} of the "
            f"power ({describe_drives(sim)}){note}")


def _snes_solve(prob, x0, tol, max_it, line_search, clipped=False):
    """One Newton solve from ``x0``: ``(x, reason, iterations, residual norms)``. The SNES,
    its dense Jacobian and the LU preconditioner are built for the solve and destroyed.
    ``clipped``: the residual with the number row and the clipped steps of ``_clipped_newton``."""
    import petsc4py  # noqa: F401
    from petsc4py import PETSc
    n = prob.size
    comm = PETSc.COMM_SELF
    X = PETSc.Vec().createSeq(n, comm=comm)
    F = PETSc.Vec().createSeq(n, comm=comm)
    J = PETSc.Mat().createDense((n, n), comm=comm)
    J.setUp()

    def form_jacobian(snes, xv, Jm, Pm):
        x = xv.getArray(readonly=True).copy()
        Pm.setValues(range(n), range(n), prob.jacobian(x).ravel())
        Pm.assemble()
        if Jm != Pm:
            Jm.assemble()

    prob.number_row = clipped
    accept = (lambda x: _worst(prob.true_residual(x)) < tol) if clipped else None
    snes, history = newton_snes(comm, prob.residual, F, J, None, form_jacobian, tol, max_it, accept)
    snes.setLineSearchPreCheck(_ClippedStep(prob, STEP_CLIP if clipped else FULL_STEP_CLIP))
    snes.getKSP().setType("preonly")
    pc = snes.getKSP().getPC()
    pc.setType("python")
    pc.setPythonContext(_LUPreconditioner())
    set_from_options(snes, "steady_", {} if line_search is None else {"snes_linesearch_type": line_search})
    X.setArray(x0)
    try:
        try:
            snes.solve(None, X)
        except SolverError:  # a singular Jacobian (lu_factor) or an overflowing step (lu_solve): a failed attempt
            return X.getArray().copy(), -3, snes.getIterationNumber(), history
        return X.getArray().copy(), snes.getConvergedReason(), snes.getIterationNumber(), history
    finally:
        prob.number_row = False
        for obj in (pc, snes, X, F, J):  # (pc: a Python reference must not outlive PETSc)
            obj.destroy()


def energy_balance(sim, y):
    """Absorbed power against the power leaving (escape), internal units per cell."""
    m = sim.model
    G, K = m.split(y)
    base = m.nf + m.nn
    return {"absorbed": float(G[0, base + 2]), "escaped": float(G[0, base])}


def fixed_point(sim, max_it=10000, tol=1e-10, guess=None):
    """The plain iteration ``y <- G(y)/K(y)`` on the same unknowns (the kind of solver the
    existing steady-state codes use). Returns ``(y, iterations, max relative residual)``."""
    with exact_sums(sim):
        return _fixed_point(sim, SteadyProblem(sim), max_it, tol, guess)


def _fixed_point(sim, prob, max_it, tol, guess):
    y = (guess if guess is not None else sim.y[:1]).copy()
    idx = prob.idx
    for it in range(1, max_it + 1):
        G, K = sim.model.split(y)
        new = np.where(K[0, idx] > 0, G[0, idx] / np.where(K[0, idx] > 0, K[0, idx], 1.0), y[0, idx])
        y[0, idx] = new
        r = prob.residual(prob.pack(y, float(sim.model.delta[0])))
        worst = float(np.max(np.abs(r)))
        if worst < tol:
            return y, it, worst
    return y, max_it, worst
