"""Rosenbrock-W steps of the collision (drive, escape) part, one implicit solve per cell
(docs/numerics.md, "Stiff one-step integration: Rosenbrock-W").

``ROS34PW2`` (Rang and Angermann, BIT 45, 2005): four stages, order 3 with an embedded
order-2 solution for the error estimate, L-stable, and a W-method: its order holds with any
approximation of the Jacobian, so one Jacobian serves several steps. A stage solves

    (I / (h gamma) - J) u_i = F(y + sum_j a_ij u_j) + sum_j (c_ij / h) u_j

cell by cell (the transformed form of Hairer and Wanner, IV.7), and the step is
``y + sum_i m_i u_i``. It is a one-step method, so it composes with the transport half steps
of the Strang splitting of a sphere, unlike a multistep BDF whose history the transport would
break.

The solve uses the structure of the exact Jacobian of a cell (``physics.jacobian``): every
rate depends on the state through the angle averages ``u = (fbar, nbar)`` only, so

    J v = [dG/du - y (.) dK/du] ubar(v) - K (.) v

and ``(s I - J) x = r`` reduces to one dense ``2N x 2N`` system for ``ubar(x)`` per cell,
whatever the number of directions; the directional ``x`` follow from it. Memory per cell:
about ``11 N^2`` numbers (the derivatives, the inverse and the coupling blocks).
"""
import numpy as np

from boltzphlow_mpi.numerics.steppers import Stepper
from boltzphlow_mpi.physics.jacobian import derivatives

_GAMMA = 0.43586652150845900
#: ROS34PW2 in the form of Hairer and Wanner: alpha (strictly lower), gamma (lower, diagonal
#: _GAMMA), the weights b of the order-3 solution and bh of the embedded order-2 one
_ALPHA = np.array([[0.0, 0.0, 0.0, 0.0],
                   [8.7173304301691801e-01, 0.0, 0.0, 0.0],
                   [8.4457060015369423e-01, -1.1299064236484185e-01, 0.0, 0.0],
                   [0.0, 0.0, 1.0, 0.0]])
_GAMMA_M = np.array([[_GAMMA, 0.0, 0.0, 0.0],
                     [-8.7173304301691801e-01, _GAMMA, 0.0, 0.0],
                     [-9.0338057013044082e-01, 5.4180672388095326e-02, _GAMMA, 0.0],
                     [2.4212380706095346e-01, -1.2232505839045147e+00, 5.4526025533510214e-01, _GAMMA]])
_B = np.array([2.4212380706095346e-01, -1.2232505839045147e+00, 1.5452602553351020e+00, 4.3586652150845900e-01])
_BH = np.array([3.7810903145819369e-01, -9.6042292212423178e-02, 0.5, 2.1793326075422950e-01])


def _transformed():
    """``(a, c, m, e)`` of the transformed stages: ``a = alpha Gamma^-1``,
    ``c = diag(1/gamma) - Gamma^-1``, ``m = b Gamma^-1`` and ``e = (b - bh) Gamma^-1``."""
    inv = np.linalg.inv(_GAMMA_M)
    a = _ALPHA @ inv
    c = np.diag(1.0 / np.diag(_GAMMA_M)) - inv
    return a, c, _B @ inv, (_B - _BH) @ inv


class CellLinearization:
    """The Jacobian of every cell at one state, kept in the structured form, and its
    factorisations ``s I - J`` for the step sizes in use.

    Parameters
    ----------
    model : physics.kinetics.CellKinetics
        The cells' kinetics.
    y : numpy.ndarray
        The state (cells, W) the Jacobian is taken at.
    """

    def __init__(self, model, y):
        self.model = model
        self.y = y.copy()
        d = derivatives(model, y)
        _, K = model.split(y, clip=False)
        fbar, nbar, _ = model.unpack(y)
        N, nf = model.N, model.nf
        self.kf, self.kn = K[:, :N], K[:, nf:nf + N]
        # the rows' derivatives stacked (gf, kf, gn, kn, accumulators): one product per solve
        self.d = np.concatenate([d["dgf"], d["dkf"], d["dgn"], d["dkn"], d["dacc"]], axis=1)
        self.fbar, self.nbar = fbar.copy(), nbar.copy()
        self.f, self.n = (a.copy() for a in model.directional(y))
        self._inv, self._s = None, None

    def factor(self, s):
        """Invert the reduced systems of ``s I - J`` (kept until another ``s``): the stages
        then cost products only. The phonon rates do not depend on ``nbar``, so ``nbar(x)``
        follows from ``fbar(x)`` and only an ``N x N`` system remains per cell (the full
        ``2N`` one when a drive breaks that structure). Inverses and products are taken
        matrix by matrix: a cell's arithmetic does not depend on the other cells."""
        if self._s == s:
            return
        cells, N = self.kf.shape
        d = self.d
        # the angle averages of the rows: sum_m w_m (dG - y_m dK) = dG - ybar dK
        pf = d[:, :N] - self.fbar[:, :, None] * d[:, N:2 * N]
        pn = d[:, 2 * N:3 * N] - self.nbar[:, :, None] * d[:, 3 * N:4 * N]
        ff = pf[:, :, :N] / (s + self.kf)[:, :, None]
        fn = pf[:, :, N:] / (s + self.kf)[:, :, None]
        nf_ = pn[:, :, :N] / (s + self.kn)[:, :, None]
        self._reduced = not np.any(pn[:, :, N:])
        if self._reduced:
            A = -ff - np.matmul(fn, nf_)
            self._fn, self._nf = fn, nf_
        else:
            A = np.zeros((cells, 2 * N, 2 * N))
            A[:, :N, :N], A[:, :N, N:] = -ff, -fn
            A[:, N:] = -pn / (s + self.kn)[:, :, None]
        diag = np.arange(A.shape[1])
        A[:, diag, diag] += 1.0
        self._inv, self._s = np.linalg.inv(A) if cells else A, s

    def solve(self, r):
        """``x`` with ``(s I - J) x = r`` for every cell (``factor(s)`` first)."""
        m, s = self.model, self._s
        N, nf, nn = m.N, m.nf, m.nn
        cells = len(r)
        rf = r[:, :nf].reshape(cells, m.Mq, N)
        rn = r[:, nf:nf + nn].reshape(cells, m.Mp, N)
        df, dn = s + self.kf, s + self.kn
        bf = np.einsum("m,cmk->ck", m.wq, rf) / df
        bn = np.einsum("m,cmk->ck", m.wp, rn) / dn
        if self._reduced:
            uf = _mv(self._inv, bf + _mv(self._fn, bn))
            ubar = np.concatenate([uf, bn + _mv(self._nf, uf)], axis=1)
        else:
            ubar = _mv(self._inv, np.concatenate([bf, bn], axis=1))
        x = np.empty_like(r)
        gf, kf, gn, kn, acc = self._rows(ubar)
        x[:, :nf] = ((rf + gf[:, None] - self.f * kf[:, None]) / df[:, None]).reshape(cells, nf)
        x[:, nf:nf + nn] = ((rn + gn[:, None] - self.n * kn[:, None]) / dn[:, None]).reshape(cells, nn)
        x[:, nf + nn:] = (r[:, nf + nn:] + acc) / s
        return x

    def _rows(self, ubar):
        """The derivative rows applied to the angle averages ``ubar`` of a vector: the changes
        of ``(gf, kf, gn, kn, accumulators)``, each (cells, N) (the last (cells, A))."""
        N = self.model.N
        prod = _mv(self.d, ubar)
        return prod[:, :N], prod[:, N:2 * N], prod[:, 2 * N:3 * N], prod[:, 3 * N:4 * N], prod[:, 4 * N:]

    def apply(self, v):
        """``J v`` for every cell (the exact Jacobian at ``y``; a Krylov solver's product)."""
        m = self.model
        N, nf, nn = m.N, m.nf, m.nn
        cells = len(v)
        vf = v[:, :nf].reshape(cells, m.Mq, N)
        vn = v[:, nf:nf + nn].reshape(cells, m.Mp, N)
        ubar = np.concatenate([np.einsum("m,cmk->ck", m.wq, vf), np.einsum("m,cmk->ck", m.wp, vn)], axis=1)
        gf, kf, gn, kn, acc = self._rows(ubar)
        out = np.empty_like(v)
        out[:, :nf] = (gf[:, None] - self.f * kf[:, None] - self.kf[:, None] * vf).reshape(cells, nf)
        out[:, nf:nf + nn] = (gn[:, None] - self.n * kn[:, None] - self.kn[:, None] * vn).reshape(cells, nn)
        out[:, nf + nn:] = acc
        return out


def _mv(M, v):
    """``M[c] @ v[c]`` for every cell."""
    return np.matmul(M, v[:, :, None])[:, :, 0]


class RosenbrockW(Stepper):
    """``time.method = "rosw"``: ROS34PW2 with the exact Jacobian of each cell, refreshed
    every ``jacobian_every`` accepted steps and after a rejection (a W-method keeps its order
    with an older one).

    Parameters
    ----------
    reduce_max : callable
        Global maximum (the Jacobian refresh is decided on every rank alike).
    project : bool
        Project each cell's excitation onto its exact energy ledger after the step (as the
        ``exp`` stepper; the Jacobian is exact, but the gap remap and round-off are not).
    jacobian_every : int
        Steps one Jacobian serves.
    """

    name, order, embedded = "rosw", 3, True

    def __init__(self, reduce_max=lambda v: v, project=True, jacobian_every=1):
        super().__init__(reduce_max)
        self.project, self.conserving = project, True
        self.jacobian_every = int(jacobian_every)
        self.coefficients = _transformed()
        self.linearization, self._uses = None, 0
        self._last = None

    #: proposed steps are rounded down to powers of this ratio, so that the factorisation of
    #: ``I / (h gamma) - J`` serves several steps instead of one (a step at most 16 % short)
    STEP_RATIO = 2.0 ** 0.25

    def round_step(self, dt):
        if not (np.isfinite(dt) and dt > 0):
            return dt
        return float(self.STEP_RATIO ** np.floor(np.log(dt) / np.log(self.STEP_RATIO)))

    def state(self):
        """The Jacobian in use and how long it has served (its factorisation cache does not
        change results)."""
        return {"linearization": self.linearization, "uses": self._uses, "last": self._last}

    def set_state(self, snap):
        if snap is not None:
            self.linearization, self._uses, self._last = snap["linearization"], snap["uses"], snap["last"]

    def forget(self):
        self.linearization, self._uses, self._last = None, 0, None

    def _linearize(self, problem, y):
        """The linearization for a step from ``y``: a new one when the kept one is from
        another state and has served ``jacobian_every`` steps, or a step from the same ``y``
        is retried (the last try was rejected with an older Jacobian)."""
        lin = self.linearization
        usable = lin is not None and lin.model is problem and lin.y.shape == y.shape
        if usable and not np.array_equal(lin.y, y):
            retry = self._last is not None and self._last.shape == y.shape and np.array_equal(self._last, y)
            usable = self._uses < self.jacobian_every and not retry
        if not usable:
            self.linearization, self._uses = CellLinearization(problem, y), 0
        if self._last is None or self._last.shape != y.shape or not np.array_equal(self._last, y):
            self._uses += 1
        self._last = y.copy()
        return self.linearization

    def step(self, problem, y, dt):
        a, c, m, e = self.coefficients
        lin = self._linearize(problem, y)
        lin.factor(1.0 / (dt * _GAMMA))
        u = []
        for i in range(4):
            Y = y + sum(a[i, j] * u[j] for j in range(i)) if i else y
            r = problem.rhs(Y) + sum((c[i, j] / dt) * u[j] for j in range(i)) if i else problem.rhs(Y)
            u.append(lin.solve(r))
        y_new = y + sum(m[i] * u[i] for i in range(4))
        # the raw estimate of a stiff component is its lag behind its quasi-static value,
        # not a truncation error (the embedded solution is not L-stable); filtered by
        # (I - h gamma J)^-1 as Hairer and Wanner do for Radau5 (IV.8): I + O(h) on the rest
        err = lin.solve(sum(e[i] * u[i] for i in range(4)) / (dt * _GAMMA))
        if self.project:
            y_new = problem.project_energy(y, y_new)
        return y_new, err
