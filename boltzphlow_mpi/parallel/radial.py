"""Transport half-steps of the radial problem (docs/numerics.md, "Operator splitting (sphere)"), on
this rank's cells.

Strang splitting (second order): ``T(dt/2) C(dt) T(dt/2)``, with ``C`` the collision step
of ``kinetics``/``steppers`` and ``T`` this module's transport:

* QP diffusion: Crank-Nicolson (``transport.diffusion_step``), implicit, so the stiff QP
  diffusion (``D_n`` of a few 1e5 um^2/us) never limits ``dt``. The tridiagonal system of
  each energy is solved over all cells at once after an all-to-all transpose
  (``parallel.Transposer``): the same arithmetic on any number of ranks.
* QP streaming (kinetic closure): implicit (Crank-Nicolson) upwind discrete ordinates
  with ``v_F`` (``rho v_g = v_F``), each energy's sparse system solved exactly after the
  transpose (``transport.qp_kinetic_step``); faces into cells without states reflect.
* Phonon streaming: explicit upwind discrete ordinates (``transport.Streaming``) with
  SSP-RK2 (second order, positive under the CFL limit ``stable_dt``); the ghost cells come
  from the DMDA (``domain.Domain``).

Outflow through ``r = R`` is returned per half step (internal units times um^3, summed
over ranks in a fixed order), so the ledger "inside + out + escaped = initial" closes.
"""
import numpy as np

from boltzphlow_mpi.parallel.comm import Transposer, block_range
from boltzphlow_mpi.parallel.domain import Domain
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.transport import (
    MILNE,
    ImplicitStreaming,
    Streaming,
    diffusion_conductances,
    diffusion_step,
    face_conductances,
    ghosted_edges,
    ordinates,
    partition_local,
    partition_reduced,
    qp_kinetic_step,
)


def _owned_rows_csr(c0, c1, N, d, lo, up):
    """CSR ``(indptr, indices, data)`` of the rows of cells ``c0 .. c1`` of a system
    tridiagonal in the cells, global index ``cell * N + energy``: diagonal ``d``, couplings
    ``lo`` (to the inner cell) and ``up`` (to the outer cell), all (c1 - c0, N). Zero
    couplings are left out (the diagonal never is); columns ascend in every row."""
    from petsc4py import PETSc
    cells = np.arange(c0, c1)[:, None] * np.ones((1, N), int)
    k = np.arange(N)[None, :] * np.ones((c1 - c0, 1), int)
    entries = [(cells * N + k, d)]
    entries.append(((cells - 1) * N + k, lo))
    entries.append(((cells + 1) * N + k, up))
    cols = np.stack([e[0] for e in entries], axis=-1).reshape(-1, 3)
    vals = np.stack([e[1] for e in entries], axis=-1).reshape(-1, 3)
    keep = (vals != 0) | (np.arange(3)[None, :] == 0)
    counts = keep.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(PETSc.IntType)
    order = np.argsort(np.where(keep, cols, np.iinfo(np.int64).max), axis=1, kind="stable")
    cols_sorted = np.take_along_axis(cols, order, axis=1)
    vals_sorted = np.take_along_axis(vals, order, axis=1)
    keep_sorted = np.take_along_axis(keep, order, axis=1)
    indices = cols_sorted[keep_sorted].astype(PETSc.IntType)
    data = vals_sorted[keep_sorted]
    return indptr, indices, data


def _solve_cg(comm, csr, rhs, guess):
    """Solve the distributed system of the owned rows ``csr`` for ``rhs`` (rows like ``guess``,
    the start) with a PETSc KSP: CG, Jacobi, relative tolerance 1e-14, options prefix ``qp_``.
    Returns the solution shaped like ``guess``. Errors: SolverError if it did not converge."""
    from petsc4py import PETSc
    nloc = rhs.size
    A = PETSc.Mat().createAIJ(size=((nloc, None), (nloc, None)), csr=csr, comm=comm)
    b = A.createVecRight()
    x = A.createVecRight()
    b.array[:] = rhs.ravel()
    x.array[:] = guess.ravel()
    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix("qp_")
    ksp.setOperators(A)
    ksp.setType("cg")
    ksp.getPC().setType("jacobi")
    ksp.setInitialGuessNonzero(True)
    ksp.setTolerances(rtol=1e-14, atol=1e-300, max_it=10000)
    ksp.setFromOptions()
    ksp.solve(b, x)
    if ksp.getConvergedReason() < 0:
        from boltzphlow_mpi.errors import SolverError
        raise SolverError(f"QP diffusion KSP did not converge (reason {ksp.getConvergedReason()})")
    new = x.array.reshape(guess.shape).copy()
    for obj in (ksp, A, b, x):
        obj.destroy()
    return new


class RadialTransport:
    def __init__(self, par, mesh, model, domain: Domain, *, qp, phonon, mean_free_path_um, fermi_velocity,
                 sound_speed, boundary, qp_solver="exact", phonon_time="explicit"):
        """``fermi_velocity``, ``sound_speed`` in um per tau_0; ``domain`` decomposes the cells;
        ``phonon_time``: explicit SSP-RK2 streaming (CFL bound) or implicit backward Euler
        (``transport.ImplicitStreaming``, no bound, with an error estimate in ``error``)."""
        self.par, self.mesh, self.model = par, mesh, model
        self.qp, self.phonon, self.boundary, self.qp_solver = qp, phonon, boundary, qp_solver
        N = model.N
        self.domain = domain
        self.cell_range = self.domain.cell_range
        c0, c1 = self.cell_range
        self.volumes = mesh.volumes[c0:c1]
        if qp == "diffusive":
            self.diffusivity = fermi_velocity * mean_free_path_um / 3.0
            self.milne = MILNE * mean_free_path_um
            self.transposer = Transposer(par, self.domain.ranges, N)
        elif qp == "kinetic":
            self.fermi_velocity = fermi_velocity
            self.mean_free_path = mean_free_path_um
            self.qp_ordinates = ordinates(model.Mq)
            # columns: energy-major (k, m), the M directions of one energy stay together
            self.transposer = Transposer(par, self.domain.ranges, N * model.Mq, group=model.Mq)
        self.implicit = None
        self.error = None  # the implicit streaming's error estimate of the last half step (cells, nn)
        if phonon == "kinetic" and phonon_time == "implicit":
            self.implicit = ImplicitStreaming(mesh, model.Mp, sound_speed, boundary)
            self.phonon_transposer = Transposer(par, self.domain.ranges, N * model.Mp, group=model.Mp)
        elif phonon == "kinetic":
            self.streaming = Streaming(ghosted_edges(mesh, c0, c1), model.Mp, sound_speed,
                                       self.domain.owns_centre, self.domain.owns_outer, boundary)
        self._cfl = None
        self._mass = None

    # -- the cells' spectral functions ------------------------------------------------------
    def set_spectra(self, mass_local, delta_all):
        """QP mass ``rho ell`` of this rank's cells (cells_local, N) and every cell's gap
        (edge). Called whenever the spectra change; the columns the solvers need are
        transposed once here. A face is open for energy ``E`` only between cells that both
        have states at ``E`` above their gap edge: QPs below a neighbour's gap are trapped."""
        m = self.model
        lo, hi = m.grid.edges
        if self.qp == "diffusive" and self.qp_solver == "ksp":
            mass = self.par.gather_cells(mass_local)
            self._mass = (mass, (mass > 0) & (hi[None, :] > delta_all[:, None]))
        elif self.qp == "diffusive" and self.qp_solver == "partition":
            c0, c1 = self.cell_range
            self._mass = (mass_local, (mass_local > 0) & (hi[None, :] > delta_all[c0:c1, None]))
        elif self.qp == "diffusive":
            k0, k1 = self.transposer.my_columns
            mass = self.transposer.to_columns(mass_local)
            self._mass = (mass, (mass > 0) & (hi[None, k0:k1] > delta_all[:, None]))
        elif self.qp == "kinetic":
            M = m.Mq
            j0, j1 = self.transposer.my_columns
            k0, k1 = j0 // M, j1 // M
            mass = self.transposer.to_columns(np.repeat(mass_local, M, axis=1))
            mass = mass.reshape(self.mesh.cells, k1 - k0, M)[:, :, 0].copy()
            self._mass = (mass, (mass > 0) & (hi[None, k0:k1] > delta_all[:, None]))

    # -- limits ---------------------------------------------------------------------------
    def dt_limit(self):
        """Largest full step: two SSP-RK2 half steps each within the CFL limit (all ranks)."""
        if self.phonon != "kinetic" or self.implicit is not None:
            return np.inf
        if self._cfl is None:
            local = self.streaming.stable_dt()
            self._cfl = 1.0 / self.par.reduce_max(1.0 / local if np.isfinite(local) else 0.0)
        return 2.0 * self._cfl

    # -- the half step ------------------------------------------------------------------------
    def half_step(self, y, dt):
        """Transport over ``dt`` (a half step). Returns ``(y_new, out)``, ``out`` a dict of the
        QP number, QP energy and phonon energy that left through ``R`` (internal x um^3)."""
        y = y.copy()
        out = {"qp_number": 0.0, "qp_energy": 0.0, "phonon_energy": 0.0}
        if self.qp == "diffusive" and self.qp_solver == "ksp":
            self._qp_diffusion_ksp(y, dt, out)
        elif self.qp == "diffusive" and self.qp_solver == "partition":
            self._qp_diffusion_partition(y, dt, out)
        elif self.qp == "diffusive":
            self._qp_diffusion(y, dt, out)
        elif self.qp == "kinetic":
            self._qp_streaming(y, dt, out)
        if self.implicit is not None:
            self._phonon_streaming_implicit(y, dt, out)
        elif self.phonon == "kinetic":
            self._phonon_streaming(y, dt, out)
        return y, out

    def _phonon_streaming_implicit(self, y, dt, out):
        """Backward-Euler streaming of every energy column after the transpose; the error
        estimate goes to ``self.error`` (zero outside the phonon block)."""
        m = self.model
        c, N, M = len(y), m.N, m.Mp
        T = self.phonon_transposer
        sl = slice(m.nf, m.nf + m.nn)
        cells = y[:, sl].reshape(c, M, N).transpose(0, 2, 1).reshape(c, N * M)  # (cell, k*M + m)
        j0, j1 = T.my_columns
        k0, k1 = j0 // M, j1 // M
        cols = T.to_columns(cells).reshape(self.mesh.cells, k1 - k0, M).transpose(0, 2, 1)  # (C, M, K_loc)
        new, err, number = self.implicit.step(cols, dt, m.n_bath[k0:k1])

        def back(a):
            flat = T.to_cells(a.transpose(0, 2, 1).reshape(self.mesh.cells, (k1 - k0) * M))
            return flat.reshape(c, N, M).transpose(0, 2, 1).reshape(c, m.nn)

        y[:, sl] = back(new)
        self.error = np.zeros_like(y)
        self.error[:, sl] = back(err)
        full = np.zeros(N)
        full[k0:k1] = number  # each rank's columns, summed in column order: rank independent
        allc = np.sum(self.par.comm.allgather(full), axis=0)
        out["phonon_energy"] += float(dg.phonon_energy(m.grid, m.phonon_weight, allc))

    def _qp_diffusion(self, y, dt, out):
        m = self.model
        N = m.N
        T = self.transposer
        k0, k1 = T.my_columns
        cols = T.to_columns(y[:, :N])
        mass, open_cells = self._mass
        g_int, g_out = diffusion_conductances(self.mesh, self.diffusivity, open_cells, self.milne)
        if self.boundary != "bath":
            g_out = np.zeros_like(g_out)  # reflecting: no flux through R
        new, count = diffusion_step(cols, mass, self.mesh, g_int, g_out, m.f_bath[k0:k1], dt)
        y[:, :N] = T.to_cells(new)
        self._book_qp_outflow(count, m.grid.x[k0:k1], out)

    def _book_qp_outflow(self, count, x, out):
        """Add the QP number and energy that left through ``R``; ``count`` per energy
        column of this rank. Gathered in column order, summed once: rank independent."""
        h = self.model.grid.step
        allc = np.concatenate(self.par.comm.allgather(np.stack([count, x * count])), axis=1)
        out["qp_number"] += 4.0 * h * float(np.sum(allc[0]))
        out["qp_energy"] += 4.0 * h * float(np.sum(allc[1]))

    def _qp_diffusion_ksp(self, y, dt, out, theta=0.5):
        """The same Crank-Nicolson step as ``_qp_diffusion``, solved with a PETSc KSP on the
        cell decomposition (options prefix ``qp_``: ``-- -qp_ksp_type cg -qp_pc_type jacobi``).
        Symmetric positive definite (M/dt + theta L); results agree with the exact solver to
        the KSP tolerance, not bitwise across rank counts (the preconditioner depends on it)."""
        m = self.model
        N = m.N
        c0, c1 = self.cell_range
        C = self.mesh.cells
        lower, upper, diag, g_out = self._ksp_conductances()
        f = y[:, :N].copy()
        rhs, d, closed = self._ksp_right_side(f, dt, theta, lower, upper, diag, g_out)
        sl = slice(c0, c1)
        lo = np.where(closed, 0.0, -theta * lower[sl]); up = np.where(closed, 0.0, -theta * upper[sl])
        csr = _owned_rows_csr(c0, c1, N, d, lo, up)
        new = _solve_cg(self.par.comm, csr, rhs, f)
        y[:, :N] = new
        count, x = np.zeros(0), np.zeros(0)
        if c1 == C:  # the rank at r = R holds the outflow of every energy
            count = dt * g_out * (theta * new[-1] + (1 - theta) * f[-1] - m.f_bath)
            x = m.grid.x
        self._book_qp_outflow(count, x, out)

    def _neighbours(self):
        """The nearest ranks that own cells, inside and outside this rank's cells (None at
        the ends), and this rank's place among the ranks that own cells."""
        owners = [r for r, (a, b) in enumerate(self.domain.ranges) if b > a]
        me = self.par.rank
        if me not in owners:
            return None, None, None, owners
        i = owners.index(me)
        return (owners[i - 1] if i else None), (owners[i + 1] if i + 1 < len(owners) else None), i, owners

    def _exchange_rows(self, first, last, inner, outer):
        """This rank's ``first`` and ``last`` rows to its neighbours; returns the inner
        neighbour's last row and the outer neighbour's first row (None at the ends)."""
        comm = self.par.comm
        reqs = []
        if inner is not None:
            reqs.append(comm.isend(first, dest=inner, tag=71))
        if outer is not None:
            reqs.append(comm.isend(last, dest=outer, tag=72))
        from_inner = comm.recv(source=inner, tag=72) if inner is not None else None
        from_outer = comm.recv(source=outer, tag=71) if outer is not None else None
        for r in reqs:
            r.wait()
        return from_inner, from_outer

    def _qp_diffusion_partition(self, y, dt, out, theta=0.5):
        """The Crank-Nicolson step of ``_qp_diffusion`` without the transpose: each rank
        eliminates its own cells for all energies (``partition_local``), the interface
        unknowns of all ranks are solved per energy by the rank that owns the energy's
        block (``partition_reduced``, one all-to-all each way), and each rank completes its
        cells. The work per rank is its cells times N at any number of ranks; results agree
        with ``"exact"`` to round-off, not bitwise (docs/numerics.md, "QP diffusion at scale")."""
        m = self.model
        N, C = m.N, self.mesh.cells
        c1 = self.cell_range[1]
        inner, outer, place, owners = self._neighbours()
        mass, open_ = self._mass
        f = y[:, :N].copy()  # (the outflow needs the occupation before the step)
        comm = self.par.comm
        P = len(owners)
        packs = [None] * self.par.size
        if place is not None:
            ghost_in, ghost_out = self._exchange_rows(np.concatenate([f[0], open_[0]]), np.concatenate([f[-1], open_[-1]]),
                                                      inner, outer)
            a, b, cc, rhs, g_out = self._partition_rows(f, mass, open_, ghost_in, ghost_out, dt, theta)
            yv, sv, tv = partition_local(a, b, cc, rhs)
            stacked = np.stack([yv[0], sv[0], tv[0], yv[-1], sv[-1], tv[-1]])  # (6, N)
            packs = [stacked[:, slice(*block_range(N, self.par.size, q))] for q in range(self.par.size)]
        received = comm.alltoall(packs)
        k0, k1 = block_range(N, self.par.size, self.par.rank)
        parts = np.stack([received[r] for r in owners], axis=1) if k1 > k0 else np.zeros((6, P, 0))
        left, right = partition_reduced(*parts)
        back = comm.alltoall(self._by_owner(left, right, owners))
        count, x = np.zeros(0), np.zeros(0)
        if place is not None:
            lr = np.concatenate([back[q] for q in range(self.par.size)], axis=1)  # (2, N) in energy order
            new = yv + sv * lr[0][None, :] + tv * lr[1][None, :]
            y[:, :N] = new
            if c1 == C:
                count = dt * g_out * (theta * new[-1] + (1 - theta) * f[-1] - m.f_bath)
                x = m.grid.x
        self._book_qp_outflow(count, x, out)

    def _by_owner(self, left, right, owners):
        """To each rank: its ``(X_L, X_R)`` for this rank's energies ((2, K_loc); empty for
        ranks without cells)."""
        msgs = [np.zeros((2, left.shape[1])) for _ in range(self.par.size)]
        for i, r in enumerate(owners):
            msgs[r] = np.stack([left[i], right[i]])
        return msgs

    def _partition_rows(self, f, mass, open_, ghost_in, ghost_out, dt, theta):
        """This rank's rows ``(a, b, c, rhs)`` of the Crank-Nicolson system of
        ``diffusion_step`` and the conductance through ``R`` (zeros off the last rank)."""
        m, mesh = self.model, self.mesh
        N, C = m.N, mesh.cells
        c0, c1 = self.cell_range
        n = c1 - c0
        g_face, g_r = face_conductances(mesh, self.diffusivity, self.milne)
        closed = np.zeros(N, bool)
        # open flags of the cells c0 - 1 .. c1 (the neighbours' from their rows)
        both = np.concatenate([[ghost_in[N:] > 0 if ghost_in is not None else closed], open_,
                               [ghost_out[N:] > 0 if ghost_out is not None else closed]])
        # faces c0 - 1/2 .. c1 - 1/2 + 1; face j - 1/2 (between cells j - 1 and j) has g_face[j - 1]
        faces = np.zeros((n + 1, N))
        j0, j1 = max(c0, 1), min(c1 + 1, C)
        faces[j0 - c0:j1 - c0] = g_face[j0 - 1:j1 - 1, None] * (both[j0 - c0:j1 - c0] & both[j0 - c0 + 1:j1 - c0 + 1])
        g_out = np.zeros(N)
        if c1 == C and self.boundary == "bath":
            g_out = g_r * open_[-1]
        lower, upper = faces[:-1], faces[1:]
        diag = lower + upper
        diag[-1] += g_out
        f_in = ghost_in[:N] if ghost_in is not None else np.zeros(N)
        f_out = ghost_out[:N] if ghost_out is not None else np.zeros(N)
        lf = -diag * f
        lf += lower * np.concatenate([f_in[None], f[:-1]])
        lf += upper * np.concatenate([f[1:], f_out[None]])
        M = mesh.volumes[c0:c1, None] * mass / dt
        rhs = M * f + (1 - theta) * lf
        rhs[-1] += g_out * m.f_bath
        b = M + theta * diag
        closed = b <= 0
        return (-theta * lower, np.where(closed, 1.0, b), -theta * upper, np.where(closed, f, rhs), g_out)

    def _ksp_conductances(self):
        """``(lower, upper, diag, g_out)``: the couplings of every cell (C, N) to its inner and
        outer neighbour, their sum with the outflow through ``R``, and that outflow (N,)."""
        C, N = self.mesh.cells, self.model.N
        g_int, g_out = diffusion_conductances(self.mesh, self.diffusivity, self._mass[1], self.milne)
        if self.boundary != "bath":
            g_out = np.zeros_like(g_out)
        lower = np.zeros((C, N)); upper = np.zeros((C, N))
        lower[1:] = g_int; upper[:-1] = g_int
        diag = lower + upper
        diag[-1] += g_out
        return lower, upper, diag, g_out

    def _ksp_right_side(self, f, dt, theta, lower, upper, diag, g_out):
        """``(rhs, d, closed)`` of this rank's rows: the explicit part ``(M/dt + (1 - theta) L) f + b``,
        the diagonal ``M/dt + theta L_ii`` and the rows without states or open faces (identity
        rows: their occupation stays)."""
        c0, c1 = self.cell_range
        C = self.mesh.cells
        mass = self.mesh.volumes[:, None] * self._mass[0] / dt
        sl = slice(c0, c1)
        lf = -diag[sl] * f
        ghosts = self.par.gather_cells(f)  # neighbours' f (small: two rows are needed)
        if c0 > 0:
            lf[0] += lower[c0] * ghosts[c0 - 1]
        if c1 < C:
            lf[-1] += upper[c1 - 1] * ghosts[c1]
        lf[1:] += lower[c0 + 1:c1] * f[:-1]
        lf[:-1] += upper[c0:c1 - 1] * f[1:]
        rhs = mass[sl] * f + (1 - theta) * lf
        if c1 == C:
            rhs[-1] += g_out * self.model.f_bath
        d = mass[sl] + theta * diag[sl]
        closed = d <= 0
        d = np.where(closed, 1.0, d)
        rhs = np.where(closed, f, rhs)
        return rhs, d, closed

    def _qp_streaming(self, y, dt, out):
        m = self.model
        N, M = m.N, m.Mq
        c = len(y)
        T = self.transposer
        f_cells = y[:, :m.nf].reshape(c, M, N).transpose(0, 2, 1).reshape(c, N * M)  # (cell, k*M + m)
        cols = T.to_columns(f_cells)
        j0, j1 = T.my_columns
        k0, k1 = j0 // M, j1 // M
        fk = cols.reshape(self.mesh.cells, k1 - k0, M).transpose(0, 2, 1)  # (C, M, K_loc)
        mass, open_cells = self._mass
        mu, w, alpha = self.qp_ordinates
        new, count = qp_kinetic_step(fk, mass, self.mesh, mu, w, alpha, self.fermi_velocity,
                                     m.f_bath[k0:k1], dt, self.boundary, mean_free_path=self.mean_free_path,
                                     open_cells=open_cells)
        back = T.to_cells(new.transpose(0, 2, 1).reshape(self.mesh.cells, (k1 - k0) * M))
        y[:, :m.nf] = back.reshape(c, N, M).transpose(0, 2, 1).reshape(c, m.nf)
        self._book_qp_outflow(count, m.grid.x[k0:k1], out)

    def _phonon_streaming(self, y, dt, out):
        m = self.model
        c = len(y)
        sl = slice(m.nf, m.nf + m.nn)
        n0 = y[:, sl].reshape(c, m.Mp, m.N)

        def rate(n):
            ghosted = self.domain.exchange(n.reshape(c, m.nn)).reshape(-1, m.Mp, m.N)
            return self.streaming.rate(ghosted, m.n_bath)

        r0, flux0 = rate(n0)
        n1 = n0 + dt * r0
        r1, flux1 = rate(n1)
        n2 = 0.5 * (n0 + n1 + dt * r1)
        y[:, sl] = n2.reshape(c, m.nn)
        local = 0.0
        if flux0 is not None:
            wmu = m.wp[:, None]
            number = dt * 0.5 * np.sum(wmu * (flux0 + flux1), axis=0)  # (N,) per unit 4 W h
            local = float(dg.phonon_energy(m.grid, m.phonon_weight, number))
        out["phonon_energy"] += float(np.sum(self.par.comm.allgather(local)))
