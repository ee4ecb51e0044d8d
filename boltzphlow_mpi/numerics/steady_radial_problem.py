"""The residual of the radial steady state and the matrix of its preconditioner
(docs/numerics.md, "Steady-state solvers"); ``numerics.steady_radial`` solves it.

The semi-discrete equations of the sphere (collisions, escape and drives of ``kinetics``,
QP diffusion and phonon streaming of ``transport``, docs/physics.md, "Radial transport") in steady
state::

    0 = G(y) - K(y) y + T(y)

with ``T`` the transport rate: QP diffusion ``V rho df/dt = sum_faces g (f_nb - f)`` (the
conductances of ``transport.diffusion_conductances``, Milne extrapolation at ``R``) and the
phonon streaming rate of ``transport.Streaming.rate`` (the same upwind MUSCL discrete
ordinates the transient uses). Transport is split into its outflow coefficient ``T_out``
(the first-order upwind/diffusion loss of the cell: faces and angular redistribution out
of a direction) and the rest, the inflow; the residual is, as in ``steady``, the log of gain
over loss on the logarithms ``v = ln y`` of the unknowns::

    r = ln(G + T + T_out y) - ln((K + T_out) y).

The preconditioner's matrix is the frozen-coefficient Jacobian: per cell the dense
Jacobian of its collisions, drives and escape (batched central differences, as in
``steady``) with its own transport loss and angular redistribution (``block_jacobians``),
plus the coupling to the neighbour cells through the QP diffusion and first-order upwind
phonon inflow (``couplings``; the MUSCL correction is left to the matrix-free product of
``steady_radial_newton``).
"""
import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.steady_common import log_balance_jacobian
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.jacobian import CHUNK, rate_derivatives
from boltzphlow_mpi.physics.transport import diffusion_conductances


class RadialSteadyProblem:
    def __init__(self, sim):
        tr = sim.transport
        if tr is None:
            raise SolverError("radial steady state: needs geometry.kind = 'sphere'")
        if tr.qp == "kinetic":
            raise SolverError("radial steady state: transport.qp = 'kinetic' is not supported (use 'diffusive')")
        self.sim, self.tr, self.par = sim, tr, sim.par
        m = self.model = sim.model
        self.y0 = sim.y.copy()
        C_loc, N = len(self.y0), m.N
        mask = np.zeros((C_loc, m.width), bool)
        q = m.spectra.active.copy()
        q[:, 0] = False
        mask[:, :N] = q  # Mq = 1 (diffusive or no QP transport)
        mask[:, m.nf:m.nf + m.nn] = np.tile(m.grid.phonon_mask, m.Mp)[None, :]
        self.mask = mask
        #: which unknowns (in packed order) are QP occupations
        self.qp_unknowns = (np.arange(m.width) < N)[None, :].repeat(C_loc, axis=0)[mask]
        self.counts = mask.sum(axis=1)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        self.size = int(self.offsets[-1])
        c0, c1 = sim.cell_range
        self.cells = slice(c0, c1)
        # global numbering of the unknowns: cells in order, each cell's masked columns in order
        self.mask_all = self.par.gather_cells(mask).astype(bool)
        self.n_cells = len(self.mask_all)
        counts_all = self.mask_all.sum(axis=1)
        first = np.concatenate([[0], np.cumsum(counts_all)])[:-1]
        self.index_all = np.where(self.mask_all, first[:, None] + np.cumsum(self.mask_all, axis=1) - 1, -1)
        self._setup_diffusion()
        self._setup_streaming()

    # -- transport coefficients (fixed: the gap does not change) ---------------------------
    def _setup_diffusion(self):
        tr, m = self.tr, self.model
        self.g = None
        if tr.qp != "diffusive":
            return
        mass = self.par.gather_cells(m.spectra.mass)
        delta = self.par.gather_cells(m.delta)
        open_cells = (mass > 0) & (m.grid.edges[1][None, :] > delta[:, None])
        g_int, g_out = diffusion_conductances(tr.mesh, tr.diffusivity, open_cells, tr.milne)
        if tr.boundary != "bath":
            g_out = np.zeros_like(g_out)
        C = tr.mesh.cells
        lower, upper = np.zeros((C, m.N)), np.zeros((C, m.N))
        lower[1:], upper[:-1] = g_int, g_int
        vm = tr.mesh.volumes[:, None] * mass
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(vm > 0, 1.0 / np.where(vm > 0, vm, 1.0), 0.0)
        diag = lower + upper
        diag[-1] += g_out
        self.g = (lower, upper, g_out, inv)
        self.qp_out = (diag * inv)[self.cells]

    def _setup_streaming(self):
        tr, m = self.tr, self.model
        self.st = None
        if tr.phonon != "kinetic":
            return
        st = self.st = tr.streaming
        mu, w, alpha = st.mu, st.w, st.alpha
        v = np.broadcast_to(np.asarray(st.speed, float), (m.N,))
        geom = np.where(mu[None, :] > 0, mu[None, :] * st.area[1:, None], -mu[None, :] * st.area[:-1, None])
        ang_out = st.darea[:, None] * alpha[None, 1:] / w[None, :]
        self.ph_out = ((geom + ang_out) / st.volume[:, None])[:, :, None] * v[None, None, :] * m.grid.phonon_mask
        ang_in = np.zeros_like(ang_out)
        ang_in[:, 1:] = st.darea[:, None] * alpha[None, 1:-1] / w[None, 1:]
        self.ph_ang_in = (ang_in / st.volume[:, None])[:, :, None] * v[None, None, :] * m.grid.phonon_mask

    # -- rates --------------------------------------------------------------------------------
    def transport(self, y):
        """``(T, T_out, power out through R)`` for the local rows ``y`` (collective)."""
        m = self.model
        N, C_loc = m.N, len(y)
        T, T_out = np.zeros_like(y), np.zeros_like(y)
        power = 0.0
        if self.g is not None:
            lower, upper, g_out, inv = self.g
            f = self.par.gather_cells(y[:, :N])
            flux = np.zeros_like(f)
            flux[1:] += lower[1:] * (f[:-1] - f[1:])
            flux[:-1] += upper[:-1] * (f[1:] - f[:-1])
            flux[-1] += g_out * (m.f_bath - f[-1])
            T[:, :N] = (flux * inv)[self.cells]
            T_out[:, :N] = self.qp_out
            power += 4.0 * m.grid.step * float(np.sum(m.grid.x * g_out * (f[-1] - m.f_bath)))
        if self.st is not None:
            sl = slice(m.nf, m.nf + m.nn)
            n = y[:, sl]
            ghosted = self.tr.domain.exchange(n).reshape(-1, m.Mp, N)
            dn, flux = self.st.rate(ghosted, m.n_bath)
            T[:, sl] = dn.reshape(C_loc, m.nn)
            T_out[:, sl] = self.ph_out.reshape(C_loc, m.nn)
            local = 0.0
            if flux is not None:
                number = np.sum(m.wp[:, None] * flux, axis=0)
                local = float(dg.phonon_energy(m.grid, m.phonon_weight, number))
            power += float(np.sum(self.par.comm.allgather(local)))
        return T, T_out, power

    def angular_inflow(self, y, i):
        """Phonons streaming into direction ``m`` from ``m - 1`` of the same cell ``i`` (rows ``y``)."""
        m = self.model
        out = np.zeros_like(y)
        if self.st is not None:
            n = y[:, m.nf:m.nf + m.nn].reshape(len(y), m.Mp, m.N)
            inflow = np.zeros_like(n)
            inflow[:, 1:] = self.ph_ang_in[i][None, 1:] * n[:, :-1]
            out[:, m.nf:m.nf + m.nn] = inflow.reshape(len(y), m.nn)
        return out

    # -- unknowns -----------------------------------------------------------------------------
    def unpack(self, x):
        y = self.y0.copy()
        y[self.mask] = np.exp(x)
        return y

    def pack(self, y):
        return np.log(np.maximum(y[self.mask], 1e-300))

    def rates(self, y):
        """``(gain, loss_rate)`` of the local rows ``y`` (collective), rows like ``y``:
        ``gain = G + T + T_out y``, ``loss_rate = K + T_out`` (``dy/dt = gain - loss_rate y``)."""
        G, K = self.model.split(y)
        T, T_out, _ = self.transport(y)
        return G + T + T_out * y, K + T_out

    def log_balance(self, gain, loss):
        """``ln(gain) - ln(loss)`` on the unknowns (the residual, see the module docstring)."""
        return np.log(np.maximum(gain[self.mask], 1e-300)) - np.log(np.maximum(loss[self.mask], 1e-300))

    def in_domain(self, x):
        """Collective: on every rank, QP occupations below 1 and every log occupation below
        ``steady_point.LOG_OCCUPATION_MAX`` (beyond it the rates overflow)."""
        from boltzphlow_mpi.numerics.steady_point import LOG_OCCUPATION_MAX
        ok = bool(np.all(x[self.qp_unknowns] < 0.0) and np.all(x < LOG_OCCUPATION_MAX))
        return not self.par.reduce_max(0.0 if ok else 1.0)

    def residual(self, x):
        # outside the domain NaN on every rank without evaluating the rates (collective), so
        # a step there is halved (``steady_radial_newton``)
        if not self.in_domain(x):
            return np.full(len(x), np.nan)
        y = self.unpack(x)
        gain, loss_rate = self.rates(y)
        if self.par.reduce_max(0.0 if self._drives_not_degenerate(y) else 1.0):
            return np.full(len(x), np.nan)
        return self.log_balance(gain, loss_rate * y)

    def _drives_not_degenerate(self, y):
        """This rank's cells: no microwave drive with power has net upward transitions below
        ``steady_point.MIN_NET_FRACTION`` of all its transitions (``Drive.net_fraction``): the
        degenerate states in which the drive's amplitude has grown without bound and flattened
        ``f`` across its ladder are outside the domain, as for a point."""
        from boltzphlow_mpi.numerics.steady_point import MIN_NET_FRACTION
        m = self.model
        f = m.unpack(y)[0]
        for d in m.drives:
            on = np.asarray(d.power) > 0
            if d.kind == "microwave" and on.any() and np.any(d.net_fraction(f, m.spectra, m.grid)[on] < MIN_NET_FRACTION):
                return False
        return True

    def block_jacobians(self, y, gain, loss_rate):
        """Per local cell: the dense frozen-coefficient Jacobian of the cell with its
        neighbours held (see the module docstring); ``gain``, ``loss_rate`` of ``rates(y)``.

        Structured, as for a point (docs/numerics.md, "Steady states: the structured
        Jacobian"): with ``gain = G + T + T_out y`` and the loss rate ``K + T_out``, only
        ``G``, ``K`` (through the angle averages, ``physics.jacobian``) and the angular
        inflow from the neighbouring direction of the same cell depend on the cell's own
        unknowns."""
        m = self.model
        N = m.N
        # index in u = (fbar, nbar) of each occupation entry (its rate row and its column) and
        # its angle weight (u is the weighted sum over directions)
        u_index = np.concatenate([np.tile(np.arange(N), m.Mq), N + np.tile(np.arange(N), m.Mp)])
        weight = np.concatenate([np.repeat(m.wq, N), np.repeat(m.wp, N)])
        blocks = []
        for c0 in range(0, len(y), CHUNK):
            s = slice(c0, min(len(y), c0 + CHUNK))
            dgf, dkf, dgn, dkn = rate_derivatives(m, y, s)
            DG_all = np.concatenate([dgf, dgn], axis=1)  # (cells, 2N rows of u, 2N columns of u)
            DK_all = np.concatenate([dkf, dkn], axis=1)
            for j, i in enumerate(range(s.start, s.stop)):
                occ = np.nonzero(self.mask[i])[0]  # the unknowns: occupation entries of the row
                if len(occ) == 0:
                    blocks.append(None)
                    continue
                sub = np.ix_(u_index[occ], u_index[occ])
                DG = DG_all[j][sub] * weight[occ][None, :] + self._angular_matrix(i, occ)
                DK = DK_all[j][sub] * weight[occ][None, :]
                blocks.append(log_balance_jacobian(DG, DK, gain[i, occ], loss_rate[i, occ], y[i, occ]))
        return blocks

    def _angular_matrix(self, i, occ):
        """``d(angular inflow)/dy`` of cell ``i`` on the unknowns ``occ``: direction ``m`` of
        energy ``k`` gains ``ph_ang_in[i][m, k] n_{m-1, k}``."""
        m = self.model
        out = np.zeros((len(occ), len(occ)))
        if self.st is None:
            return out
        pos = {c: a for a, c in enumerate(occ)}
        for a, c in enumerate(occ):
            if c < m.nf:
                continue
            d, k = divmod(c - m.nf, m.N)
            if d == 0:
                continue
            src = m.nf + (d - 1) * m.N + k
            if src in pos:
                out[a, pos[src]] = self.ph_ang_in[i][d, k]
        return out

    def couplings(self, y, gain):
        """Frozen-coefficient coupling to the neighbour cells: ``(row, column, value)`` of
        ``dr/dv`` in global unknown numbering, ``d ln(gain_i) / d v_j`` for the QP diffusion
        inflow ``g f_j / (V rho)`` and the first-order upwind phonon inflow
        ``v |mu| A n_j / V`` (the MUSCL correction left out); ``gain`` of ``rates(y)``."""
        m = self.model
        c0 = self.cells.start
        rows, cols, vals = [], [], []
        cell_of = np.arange(len(y)) + c0
        if self.g is not None:
            lower, upper, _, inv = self.g
            f = self.par.gather_cells(y[:, :m.N])
            for nb, g in ((-1, lower), (+1, upper)):
                j = cell_of + nb
                ok = (j >= 0) & (j < self.n_cells)
                for a in np.nonzero(ok)[0]:
                    i, jj = cell_of[a], j[a]
                    k = np.nonzero(self.mask[a, :m.N] & self.mask_all[jj, :m.N] & (g[i] > 0))[0]
                    if len(k):
                        rows.append(self.index_all[i, k])
                        cols.append(self.index_all[jj, k])
                        vals.append(g[i, k] * inv[i, k] * f[jj, k] / np.maximum(gain[a, k], 1e-300))
        if self.st is not None:
            st, sl = self.st, slice(m.nf, m.nf + m.nn)
            n_all = self.par.gather_cells(y[:, sl]).reshape(self.n_cells, m.Mp, m.N)
            v = np.broadcast_to(np.asarray(st.speed, float), (m.N,))
            for a, i in enumerate(cell_of):
                for d, mu in enumerate(st.mu):
                    j, area = (i - 1, st.area[a]) if mu > 0 else (i + 1, st.area[a + 1])
                    if not 0 <= j < self.n_cells:
                        continue
                    col0 = m.nf + d * m.N
                    k = np.nonzero(self.mask[a, col0:col0 + m.N] & self.mask_all[j, col0:col0 + m.N])[0]
                    if len(k):
                        rows.append(self.index_all[i, col0 + k])
                        cols.append(self.index_all[j, col0 + k])
                        vals.append(v[k] * abs(mu) * area * n_all[j, d, k]
                                    / (st.volume[a] * np.maximum(gain[a, col0 + k], 1e-300)))
        if not rows:
            return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def balance(self, y):
        """Absorbed power, escaped power and power out through ``R`` (internal energy per
        tau_0 times um^3, summed over all cells in global order)."""
        m = self.model
        G, _ = m.split(y)
        base = m.nf + m.nn
        vol = self.sim.volumes
        absorbed = self.par.gather_cells(G[:, base + 2] * vol)
        escaped = self.par.gather_cells(G[:, base] * vol)
        _, _, out = self.transport(y)
        return {"absorbed": float(np.sum(absorbed)), "escaped": float(np.sum(escaped)), "boundary": out}
