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
phonon inflow (``couplings``; the MUSCL correction is left to the Jacobian product).

The Jacobian itself is applied without forming it, exact to round-off
(``jacobian_product``: the cells' exact derivatives and a difference of the affine transport
inflow). In a sphere with a reflecting surface the continuation replaces the first QP row by
the QP number balance of the whole sphere (``number_row``, ``number_rates``).
"""
import numpy as np

from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics.steady_common import (
    clamped_inverse,
    log_balance_jacobian,
    net_fractions,
    true_residual,
)
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.analysis.efficiency import pair_rates
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
        self.start = int(np.sum(counts_all[:c0]))  # the global index of this rank's first unknown
        self._setup_diffusion()
        self._setup_streaming()
        self._setup_number_row()

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

    def _setup_number_row(self):
        """Where the QP number balance of the sphere goes (``number_row``): the first QP
        unknown of the sphere (global index; local index on the rank that owns it, else None)."""
        m = self.model
        #: the first QP row replaced by the QP number balance of the sphere (the continuation)
        self.number_row = False
        #: whether transport conserves the QP number (diffusion with a reflecting surface): then
        #: only pair breaking against recombination sets it, a mode whose rates are below the
        #: round-off of the scattering rates in a cold sphere, and the continuation takes the
        #: number row; with the bath at ``R`` the exchange through it sets the number
        self.closed = self.g is not None and self.tr.boundary != "bath"
        qp_all = self.mask_all[:, :m.N]
        c = int(np.argmax(qp_all.any(axis=1)))
        self.number_index = int(self.index_all[c, int(np.argmax(qp_all[c]))]) if qp_all.any() else None
        local = None if self.number_index is None else self.number_index - self.start
        self.number_local = local if local is not None and 0 <= local < self.size else None

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
        r = self.log_balance(gain, loss_rate * y)
        if self.number_row and self.number_index is not None:
            gen, loss = self.number_rates(y)
            if self.number_local is not None:
                r[self.number_local] = np.log(max(gen, 1e-300)) - np.log(max(loss, 1e-300))
        return r

    def true_residual(self, x):
        """``residual`` with every row the log balance of its own unknown (no number row)."""
        return true_residual(self, x)

    def number_rates(self, y):
        """QPs made and lost in the whole sphere per unit time, ``(gen, loss)`` (collective;
        QP numbers ``sum V rho h f``, summed in global cell order, so the same on any number
        of ranks): pair breaking by phonons and photons and diffusion in from the bath against
        recombination and diffusion out to it. Scattering, sub-gap drives and diffusion between
        cells conserve the number, so they are left out rather than cancelled: at 50 mK
        recombination is ~1e-18 of scattering, below the round-off of a sum over all rates
        (docs/numerics.md, "Steady-state solvers", closed spheres)."""
        gen, lost = np.sum(self.par.gather_cells(self._cell_number_rates(y)), axis=0)
        return float(gen), float(lost)

    def _cell_number_rates(self, y):
        """``number_rates`` of each local cell, (cells, 2)."""
        m = self.model
        fbar, nbar, _ = m.unpack(y)
        pairs = pair_rates(m, y)
        per_qp = 1.0 / (4.0 * m.grid.step)  # a phonon number (4 W h Omega^2 n) per QP number (rho h f)
        gen = 2.0 * per_qp * np.sum(pairs["weight"] * nbar * pairs["breaking"], axis=1)
        loss = 2.0 * per_qp * np.sum(pairs["made"], axis=1)
        for d in m.drives:
            if d.kind == "photon":  # pair breaking by the photons themselves
                dg, dk, dn = np.zeros_like(fbar), np.zeros_like(fbar), np.zeros_like(fbar)
                d.add(fbar, m.spectra, m.grid, dg, dk, dn, m.phonon_weight)
                gen = gen + np.sum(m.spectra.mass * (dg - dk * fbar), axis=1)
        vol = np.asarray(self.tr.mesh.volumes, float)[self.cells]
        cells = np.stack([gen * vol, loss * vol], axis=1)
        if self.g is not None and self.cells.stop == self.n_cells and len(y):
            g_out = self.g[2]
            cells[-1, 0] += float(np.sum(g_out * np.broadcast_to(m.f_bath, g_out.shape)))
            cells[-1, 1] += float(np.sum(g_out * fbar[-1]))
        return cells

    def _drives_not_degenerate(self, y):
        """This rank's cells: no microwave drive with power has net upward transitions below
        ``steady_point.MIN_NET_FRACTION`` of all its transitions (``steady_common.net_fractions``):
        the degenerate states in which the drive's amplitude has grown without bound and
        flattened ``f`` across its ladder are outside the domain, as for a point."""
        from boltzphlow_mpi.numerics.steady_point import MIN_NET_FRACTION
        return bool(np.all(net_fractions(self.model, self.model.unpack(y)[0]) >= MIN_NET_FRACTION))

    def local_derivatives(self, y):
        """Per local cell: ``(occ, DG, DK)``, the unknowns of the cell (its masked columns)
        and the exact derivatives of its collision, escape and drive gains ``G`` and loss
        rates ``K`` with respect to its own occupations on them (``physics.jacobian``: the
        rates depend on a cell's directions through their angle averages), or ``None`` for
        a cell without unknowns. Transport is not in them (``inflow``)."""
        m = self.model
        N = m.N
        # index in u = (fbar, nbar) of each occupation entry (its rate row and its column) and
        # its angle weight (u is the weighted sum over directions)
        u_index = np.concatenate([np.tile(np.arange(N), m.Mq), N + np.tile(np.arange(N), m.Mp)])
        weight = np.concatenate([np.repeat(m.wq, N), np.repeat(m.wp, N)])
        out = []
        for c0 in range(0, len(y), CHUNK):
            s = slice(c0, min(len(y), c0 + CHUNK))
            dgf, dkf, dgn, dkn = rate_derivatives(m, y, s)
            DG_all = np.concatenate([dgf, dgn], axis=1)  # (cells, 2N rows of u, 2N columns of u)
            DK_all = np.concatenate([dkf, dkn], axis=1)
            for j, i in enumerate(range(s.start, s.stop)):
                occ = np.nonzero(self.mask[i])[0]
                if len(occ) == 0:
                    out.append(None)
                    continue
                sub = np.ix_(u_index[occ], u_index[occ])
                out.append((occ, DG_all[j][sub] * weight[occ][None, :], DK_all[j][sub] * weight[occ][None, :]))
        return out

    def block_jacobians(self, y, gain, loss_rate, local=None):
        """Per local cell: the dense frozen-coefficient Jacobian of the cell with its
        neighbours held (see the module docstring); ``gain``, ``loss_rate`` of ``rates(y)``,
        ``local`` of ``local_derivatives(y)`` (computed if not given).

        Structured, as for a point (docs/numerics.md, "Steady states: the structured
        Jacobian"): with ``gain = G + T + T_out y`` and the loss rate ``K + T_out``, only
        ``G``, ``K`` (through the angle averages, ``physics.jacobian``) and the angular
        inflow from the neighbouring direction of the same cell depend on the cell's own
        unknowns."""
        blocks = []
        for i, entry in enumerate(self.local_derivatives(y) if local is None else local):
            if entry is None:
                blocks.append(None)
                continue
            occ, DG, DK = entry
            blocks.append(log_balance_jacobian(DG + self._angular_matrix(i, occ), DK, gain[i, occ],
                                               loss_rate[i, occ], y[i, occ]))
        return blocks

    def inflow(self, y):
        """The transport gain ``T + T_out y`` of the local rows ``y`` (collective): what
        diffuses and streams into each unknown, affine in the occupations of all cells (up to
        the switches of the MUSCL limiter)."""
        T, T_out, _ = self.transport(y)
        return T + T_out * y

    def linearization(self, y, gain, loss_rate, local):
        """What ``jacobian_product`` needs at the base state, the local rows ``y`` (collective;
        ``gain``, ``loss_rate`` of ``rates(y)``, ``local`` of ``local_derivatives(y)``), computed
        once per Jacobian rather than in every product: the inverse rates, the transport inflow
        and, with the number row, the sphere's QP generation and loss."""
        base = {"y": y, "local": local, "inv_gain": clamped_inverse(gain[self.mask]),
                "inv_loss_rate": clamped_inverse(loss_rate[self.mask]), "inflow": self.inflow(y)}
        if self.number_row and self.number_index is not None:
            base["number"] = self.number_rates(y)
        return base

    def jacobian_product(self, base, w):
        """``J w`` of the residual at the base state of ``linearization``, exact to round-off
        relative to each rate (collective): the collision, escape and drive part from the
        exact derivatives, the transport part a difference of ``inflow`` in the direction
        ``y w``, whose affine form makes it exact (docs/numerics.md, "Steady-state solvers",
        the sphere). A one-sided difference of the residual instead carries an error of 1e-7
        of the scattering rates, which swamps the QP number mode of a cold closed sphere
        (recombination below 1e-7 of scattering)."""
        y = base["y"]
        dy = np.zeros_like(y)
        dy[self.mask] = y[self.mask] * w
        dG, dK = np.zeros_like(y), np.zeros_like(y)
        for i, entry in enumerate(base["local"]):
            if entry is not None:
                occ, DG, DK = entry
                dG[i, occ], dK[i, occ] = DG @ dy[i, occ], DK @ dy[i, occ]
        # affine, so the step only has to stay on one branch of the limiter (a step of 1e-3
        # crossed one, measured) and above the round-off of the inflow (1e-16 / t of it)
        size = self.par.reduce_max(float(np.max(np.abs(w), initial=0.0)))
        t = 1e-6 / size if size > 0 else 1.0
        dI = (self.inflow(y + t * dy) - base["inflow"]) / t
        with np.errstate(over="ignore", invalid="ignore"):
            out = (dG + dI)[self.mask] * base["inv_gain"] - dK[self.mask] * base["inv_loss_rate"]
        out = np.nan_to_num(out, nan=0.0, posinf=1e300, neginf=-1e300) - w
        if "number" in base:
            # the pair rates are quadratic in the occupations (the photons' normalisation
            # aside), so a central difference is exact to round-off
            t = 1e-4 / size if size > 0 else 1.0
            gen, loss = base["number"]
            up, down = self.number_rates(y + t * dy), self.number_rates(y - t * dy)
            if self.number_local is not None:
                out[self.number_local] = ((up[0] - down[0]) / gen - (up[1] - down[1]) / loss) / (2.0 * t)
        return out

    def number_row_entries(self, y):
        """The number row of the Jacobian (``number_row``): ``(columns, values)`` of
        ``d ln(gen / loss) / dv`` (``number_rates``) over this rank's unknowns, global columns
        (collective). Exact for the phonon columns (the rates are linear in the phonon
        numbers) and for the QP columns of the pair sums; the QP columns in the window of the
        gap-edge strip weights (``physics.pair_correction``) by central differences, one
        window cell in every local cell at a time (a cell's rates depend on its own
        occupations only and are quadratic in them: exact to round-off). A photon drive's pair
        breaking depends on ``f`` only through its normalisation and is held here (the
        Jacobian product has it)."""
        m = self.model
        N, h = m.N, m.grid.step
        gen, loss = self.number_rates(y)
        pairs = pair_rates(m, y)
        fbar, nbar, _ = m.unpack(y)
        sp, c_pair = m.spectra, m.kernel.c_pair
        vol = np.asarray(self.tr.mesh.volumes, float)[self.cells]
        per = 2.0 * vol[:, None] / (4.0 * h)
        made_per_phonon = np.where(pairs["pair"], pairs["made"] / (1.0 + nbar), 0.0)
        d_n = np.stack([per * pairs["weight"] * pairs["breaking"], per * made_per_phonon])  # (2, cells, N)
        # d/dv = f d/df of the pair sums: sum_j u_(j+k) v_j are the lagged products
        lagged = lambda u, v: np.stack([np.sum(u[:, k:] * v[:, :N - k], axis=1) for k in range(N)], axis=1)
        u = pairs["weight"] * nbar * pairs["pair"]
        v = pairs["weight"] * (1.0 + nbar) * pairs["pair"]
        rho, phi = np.broadcast_to(sp.rho, fbar.shape), np.broadcast_to(sp.phi, fbar.shape)
        d_f = c_pair * h * per * fbar * np.stack([
            -2.0 * (rho * lagged(u, rho * (1.0 - fbar)) + phi * lagged(u, phi * (1.0 - fbar))),
            2.0 * (rho * lagged(v, rho * fbar) + phi * lagged(v, phi * fbar))])
        if self.g is not None and self.cells.stop == self.n_cells and len(y):
            d_f[1, -1] += self.g[2] * fbar[-1]
        window = m.kernel.edge.weights(sp, len(y)) if m.kernel.edge is not None else None
        if window is not None:
            rows, t = np.arange(len(y)), 1e-4
            for j in range(window[1].shape[-1]):
                k = window[0] + j
                ok = k < N
                k = np.minimum(k, N - 1)
                up, down = y.copy(), y.copy()
                up[rows, k] *= np.where(ok, 1.0 + t, 1.0)
                down[rows, k] *= np.where(ok, 1.0 - t, 1.0)
                diff = ((self._cell_number_rates(up) - self._cell_number_rates(down)) / (2.0 * t)).T
                d_f[:, rows[ok], k[ok]] = diff[:, ok]
        cols, vals = [], []
        for i in range(len(y)):
            occ = np.nonzero(self.mask[i])[0]
            if len(occ) == 0:
                continue
            qp = occ < N
            d, k = np.divmod(np.where(qp, m.nf, occ) - m.nf, N)
            k = np.where(qp, occ, k)
            phonon = m.wp[d] * y[i, occ]  # d/dv of a direction: its weight in nbar times y
            dgen = np.where(qp, d_f[0, i, k], d_n[0, i, k] * phonon)
            dloss = np.where(qp, d_f[1, i, k], d_n[1, i, k] * phonon)
            cols.append(self.index_all[self.cells.start + i, occ])
            vals.append(dgen / gen - dloss / loss)
        if not cols:
            return np.zeros(0, int), np.zeros(0)
        return np.concatenate(cols), np.concatenate(vals)

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
                        vals.append(_ratio(g[i, k] * inv[i, k] * f[jj, k], gain[a, k]))
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
                        vals.append(_ratio(v[k] * abs(mu) * area * n_all[j, d, k] / st.volume[a], gain[a, col0 + k]))
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


def _ratio(rate, gain):
    """``d ln(gain) / d v`` of an inflow ``rate`` (= its derivative times ``y``): ``rate / gain``,
    capped at 1e300 where a far iterate's gain is below the float range (the clamp of the
    residual at 1e-300, as ``steady_common.log_balance_jacobian`` caps)."""
    with np.errstate(over="ignore"):
        return np.minimum(rate / np.maximum(gain, 1e-300), 1e300)
