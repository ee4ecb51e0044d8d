"""Radial transport operators on a sphere (docs/physics.md, "Radial transport"); numpy only, no PETSc/MPI.

QP diffusion (diffusive closure). Per energy, with ``rho D = v_F l / 3`` independent of
``E``, the conservative finite-volume form of ``rho df/dt = r^-2 d/dr (r^2 D_n df/dr)`` is

    V_i rho_i df_i/dt = sum_faces g (f_nb - f_i),  g_{i+1/2} = D_n A_{i+1/2} / (c_{i+1} - c_i),

with the face closed (``g = 0``) when either side has no states at that energy (``E``
below the local gap: QP trapping). At ``r = R`` the Milne extrapolated endpoint
``f(R + z) = f_bath``, ``z = 0.7104 l``, gives ``g_R = D_n A_R / (R - c_{C-1} + z)``.
``r = 0`` has zero area: the symmetry condition needs no special case. Time: the
theta-method (``theta = 1/2``: Crank-Nicolson, second order) solved exactly per energy by
the Thomas algorithm over all cells of that energy (the caller provides the columns in
cell order: see ``parallel.Transposer``), which makes the result independent of how cells
are split over ranks. The number that leaves through ``R`` is returned, computed with the
same theta weighting, so the ledger closes to round-off.

Phonon streaming (kinetic closure), discrete ordinates ``mu_m`` (Gauss-Legendre, even M),
the conservative spherical form (Lewis & Miller)::

    V_i dn_{i,m}/dt = -v_s [ mu_m (A_{i+1/2} n_{i+1/2,m} - A_{i-1/2} n_{i-1/2,m})
                             + (A_{i+1/2} - A_{i-1/2}) / w_m (alpha_{m+1/2} n_{i,m} - alpha_{m-1/2} n_{i,m-1}) ],
    alpha_{m+1/2} = alpha_{m-1/2} - w_m mu_m,  alpha_{1/2} = 0,

with upwind face values in ``r`` and in ``mu`` (angular flow is towards ``mu = +1``). A
uniform isotropic field is an exact steady state (the two brackets cancel direction by
direction) and the angular terms telescope, so particles and energy are conserved. At
``r = R`` outgoing directions leave and incoming ones take the bath occupation (or, with a
reflecting boundary, the mirrored outgoing direction).
"""
import numpy as np

from boltzphlow_mpi.jit import njit

MILNE = 0.7104


def sphere_areas(r):
    """Areas ``4 pi r^2`` (um^2) of the spheres of radii ``r`` (um): the faces of radial cells."""
    return 4.0 * np.pi * r ** 2


def shell_volumes(edges):
    """Volumes ``4 pi/3 (r_{i+1}^3 - r_i^3)`` (um^3) of the shells between consecutive ``edges``."""
    return (4.0 * np.pi / 3.0) * (edges[1:] ** 3 - edges[:-1] ** 3)


def ordinates(m):
    """Gauss-Legendre directions ``mu`` (ascending), weights ``w`` (sum 2), ``alpha`` (M+1,)."""
    if m < 2 or m % 2:
        raise ValueError(f"angles = {m!r}: expected an even number >= 2")
    mu, w = np.polynomial.legendre.leggauss(m)
    alpha = np.concatenate([[0.0], -np.cumsum(w * mu)])
    alpha[-1] = 0.0  # exactly zero: sum w mu = 0
    alpha = np.maximum(alpha, 0.0)
    return mu, w, alpha


# -- QP diffusion ---------------------------------------------------------------------
def face_conductances(mesh, diffusivity, milne_distance):
    """Geometric conductances ``D_n A / distance`` of the interior faces (C-1,) and of the face
    at ``R`` to the Milne extrapolated endpoint (a number); a face is open for an energy
    only between cells that both have states there (``diffusion_conductances``)."""
    c, area = mesh.centres, mesh.areas
    return diffusivity * area[1:-1] / np.diff(c), diffusivity * area[-1] / (mesh.radius - c[-1] + milne_distance)


def diffusion_conductances(mesh, diffusivity, open_cells, milne_distance):
    """Face conductances per energy column: interior ``(C-1, K)`` and boundary ``(K,)``.

    ``open_cells`` (C, K): True where the cell has states at that energy.
    """
    g_face, g_r = face_conductances(mesh, diffusivity, milne_distance)
    return g_face[:, None] * (open_cells[1:] & open_cells[:-1]), g_r * open_cells[-1]


def ordinate_coefficients(area, mu, w, alpha, v):
    """The first-order upwind discrete-ordinates operator of cells between the faces of
    areas ``area`` (C+1,), directions ``mu`` (weights ``w``, angular coefficients ``alpha``),
    times the speed ``v``: ``(loss, inflow, angular)`` (C, M), the outflow through the
    downwind face plus the angular loss, the inflow through the upwind face (from cell
    ``i - 1`` for ``mu > 0``, ``i + 1`` for ``mu < 0``), and the angular inflow from
    direction ``m - 1`` (0 for ``m = 0``). Divided by the cell volumes they are rates."""
    darea = (area[1:] - area[:-1])[:, None]
    pos = mu[None, :] > 0
    loss = v * (np.where(pos, mu[None, :] * area[1:, None], -mu[None, :] * area[:-1, None])
                + darea * alpha[None, 1:] / w[None, :])
    inflow = v * np.abs(mu)[None, :] * np.where(pos, area[:-1, None], area[1:, None])
    angular = v * darea * alpha[None, :-1] / w[None, :]
    return loss, inflow, angular


def diffusion_step(f, states, mesh, g_int, g_out, f_bath, dt, theta=0.5):
    """One theta-step of QP diffusion for columns ``f`` (C, K) (all cells, some energies).

    ``states`` (C, K): ``rho`` of each cell and energy (the weight of ``df/dt``).
    Returns ``(f_new, out)`` with ``out`` (K,) the integral over the step of
    ``g_R (f_{C-1} - f_bath)``: the number per unit ``4 N_0 h`` leaving through ``R``.
    """
    C, K = f.shape
    M = mesh.volumes[:, None] * states / dt
    lower = np.zeros((C, K))   # coefficient of f_{i-1}
    upper = np.zeros((C, K))   # coefficient of f_{i+1}
    lower[1:] = g_int
    upper[:-1] = g_int
    diag = lower + upper
    diag[-1] += g_out
    # explicit part: (M/dt + (1 - theta) L_h) f + b
    lf = -diag * f
    lf[1:] += lower[1:] * f[:-1]
    lf[:-1] += upper[:-1] * f[1:]
    rhs = M * f + (1 - theta) * lf
    rhs[-1] += g_out * f_bath
    a = -theta * lower
    b = M + theta * diag
    cc = -theta * upper
    closed = b <= 0  # no states and no open face: the occupation stays as it is
    b = np.where(closed, 1.0, b)
    rhs = np.where(closed, f, rhs)
    f_new = thomas(a, b, cc, rhs)
    out = dt * g_out * (theta * f_new[-1] + (1 - theta) * f[-1] - f_bath)
    return f_new, out


def thomas(a, b, c, d):
    """Tridiagonal solve along axis 0 for every column: ``a_i x_{i-1} + b_i x_i + c_i x_{i+1} = d_i``."""
    b = np.asarray(b, float)
    shape = np.broadcast_shapes(np.shape(a), b.shape, np.shape(c), np.shape(d))
    flat = lambda v: np.ascontiguousarray(np.broadcast_to(v, shape), float).reshape(shape[0], -1)
    return _thomas(flat(a), flat(b), flat(c), flat(d)).reshape(shape)


@njit
def _thomas(a, b, c, d):
    """``thomas`` on (n, columns) arrays; the elimination runs down the rows, the columns inside."""
    n, m = b.shape
    cp = np.empty((n, m))
    dp = np.empty((n, m))
    x = np.empty((n, m))
    for j in range(m):
        cp[0, j] = c[0, j] / b[0, j]
        dp[0, j] = d[0, j] / b[0, j]
    for i in range(1, n):
        for j in range(m):
            den = b[i, j] - a[i, j] * cp[i - 1, j]
            cp[i, j] = c[i, j] / den
            dp[i, j] = (d[i, j] - a[i, j] * dp[i - 1, j]) / den
    for j in range(m):
        x[n - 1, j] = dp[n - 1, j]
    for i in range(n - 2, -1, -1):
        for j in range(m):
            x[i, j] = dp[i, j] - cp[i, j] * x[i + 1, j]
    return x


# -- phonon streaming (explicit upwind discrete ordinates) ------------------------------
GHOSTS = 2  # ghost cells on each side needed by the reconstruction


class Streaming:
    """Upwind streaming of occupations ``n`` (cells, M, K) at speed ``v`` (scalar or (K,)).

    ``edges`` are the faces of this rank's cells plus ``GHOSTS`` ghost cells on each side
    (``C_loc + 2 GHOSTS + 1`` radii; ghost radii outside ``[0, R]`` are mirrored); the
    caller passes ``n`` with the ghost cells filled by the DMDA exchange
    (``(C_loc + 2 GHOSTS, M, K)``) and says whether this rank owns ``r = 0`` and ``r = R``.

    Face values in ``r`` are upwind with a MUSCL (minmod) reconstruction, second order in
    space away from extrema; the cells at ``r = 0`` and ``r = R`` use first-order upwind
    values. Reconstructed face values lie between neighbouring cell values, so the forward
    Euler step (and SSP-RK2) keeps ``n >= 0`` for half the first-order CFL step.
    """

    def __init__(self, edges, m, speed, owns_centre, owns_outer, boundary="bath", order=2):
        if boundary not in ("bath", "reflecting"):
            raise ValueError(f"boundary = {boundary!r}: expected 'bath' or 'reflecting'")
        self.mu, self.w, self.alpha = ordinates(m)
        self.speed = speed
        self.owns_centre, self.owns_outer = owns_centre, owns_outer
        self.boundary, self.order = boundary, order
        e = np.asarray(edges, float)
        g = GHOSTS
        self.centres_all = 0.5 * (e[1:] + e[:-1])
        own = e[g:len(e) - g]
        self.area = sphere_areas(own)
        self.volume = shell_volumes(own)
        self.darea = self.area[1:] - self.area[:-1]
        self.half_width_all = 0.5 * np.diff(e)[g - 1:len(e) - g]  # cells own-1 .. own+1

    def rate(self, n_ghosted, n_bath):
        """``(dn/dt for the owned cells, outgoing flux through R per (M, K) or None)``."""
        K = n_ghosted.shape[-1]
        speed = np.broadcast_to(np.asarray(self.speed, float), (K,))
        bath = np.broadcast_to(np.asarray(n_bath, float), n_ghosted.shape[1:])
        dn, face_out = _streaming_rate(np.ascontiguousarray(n_ghosted, float), self.centres_all,
                                       self.half_width_all, self.area, self.darea, self.volume, self.mu, self.w,
                                       self.alpha, np.ascontiguousarray(speed), np.ascontiguousarray(bath),
                                       self.order == 2, self.owns_centre, self.owns_outer, self.boundary == "bath")
        v = np.asarray(self.speed)
        flux = v * self.mu[:, None] * self.area[-1] * face_out if self.owns_outer else None
        return dn, flux

    def stable_dt(self):
        """Largest forward-Euler (and SSP-RK2) step that keeps ``n >= 0`` on the owned cells."""
        loss = ordinate_coefficients(self.area, self.mu, self.w, self.alpha, 1.0)[0] / self.volume[:, None]
        vmax = float(np.max(self.speed))
        worst = float(np.max(loss)) * vmax if loss.size else 0.0
        factor = 0.5 if self.order == 2 else 1.0  # reconstruction: half the first-order step
        return factor / worst if worst > 0 else np.inf


@njit
def _streaming_rate(n, centres, half_width, area, darea, volume, mu, w, alpha, speed, n_bath, second_order,
                    owns_centre, owns_outer, bath):
    """The loop of ``Streaming.rate``: ``n`` (C + 2 GHOSTS, M, K) ghosted; returns ``dn/dt``
    of the owned cells and the face values at ``R`` of the last cell (M, K).

    Per owned cell ``i`` (ghosted ``i + 2``): minmod slopes of cells ``i - 1 .. i + 1``
    (zero at the ghost below ``r = 0`` and the centre cell, and at the last cell and the
    ghost beyond ``R``), upwind face values, ``-v (mu (A+ n+ - A- n-) + dA/w (alpha+ n_m -
    alpha- n_{m-1})) / V`` (docs/numerics.md, "Phonon streaming")."""
    cg, M, K = n.shape
    C = cg - 4
    hw = np.zeros((C + 2, M, K))  # half width times slope, cells own-1 .. own+1
    if second_order:
        for s in range(C + 2):
            j = s + 1
            if (owns_centre and s < 2) or (owns_outer and s >= C):
                continue  # first order at r = 0 and r = R (hw stays 0 x slope = 0)
            dl = centres[j] - centres[j - 1]
            dr = centres[j + 1] - centres[j]
            for m in range(M):
                for k in range(K):
                    a = (n[j, m, k] - n[j - 1, m, k]) / dl
                    b = (n[j + 1, m, k] - n[j, m, k]) / dr
                    slope = (a if abs(a) < abs(b) else b) if a * b > 0 else 0.0
                    hw[s, m, k] = half_width[s] * slope
    dn = np.empty((C, M, K))
    face_out = np.zeros((M, K))
    for i in range(C):
        j = i + 2
        a_hi, a_lo = area[i + 1], area[i]
        for m in range(M):
            ang = darea[i] / w[m]
            for k in range(K):
                own = n[j, m, k]
                if mu[m] > 0:
                    face_hi = own + hw[i + 1, m, k] if second_order else own
                    face_lo = n[j - 1, m, k] + hw[i, m, k] if second_order else n[j - 1, m, k]
                else:
                    if owns_outer and i == C - 1:
                        face_hi = n_bath[m, k] if bath else n[j, M - 1 - m, k]  # reflecting: mu -> -mu
                    else:
                        face_hi = n[j + 1, m, k] - hw[i + 2, m, k] if second_order else n[j + 1, m, k]
                    face_lo = own - hw[i + 1, m, k] if second_order else own
                if i == C - 1:
                    face_out[m, k] = face_hi
                spatial = mu[m] * (a_hi * face_hi - a_lo * face_lo)
                down = alpha[m] * n[j, m - 1, k] if m > 0 else 0.0
                angular = ang * (alpha[m + 1] * own - down)
                dn[i, m, k] = -speed[k] * (spatial + angular) / volume[i]
    return dn, face_out


def ghosted_edges(mesh, c0, c1, ghosts=GHOSTS):
    """Faces of cells ``c0 - ghosts .. c1 + ghosts``, mirrored at ``r = 0`` and ``r = R``."""
    e = mesh.edges
    lo = [e[c0 - k] if c0 - k >= 0 else -e[k - c0] for k in range(ghosts, 0, -1)]
    hi = [e[c1 + k] if c1 + k <= mesh.cells else 2 * e[-1] - e[2 * mesh.cells - c1 - k] for k in range(1, ghosts + 1)]
    return np.concatenate([lo, e[c0:c1 + 1], hi])


# -- QP streaming (kinetic closure), implicit ----------------------------------------------
def qp_kinetic_step(f, rho, mesh, mu, w, alpha, v, f_in, dt, boundary="bath", theta=0.5, mean_free_path=np.inf,
                    open_cells=None):
    """One theta-step of QP discrete-ordinates streaming for energy columns (docs/physics.md,
    "QP kinetic closure").

    ``f`` (C, M, K): all cells, all directions, ``K`` energies; ``rho`` (C, K) the cell
    averages (no states: the cell is closed at that energy; ``open_cells`` (C, K) may
    close more, e.g. energies below the cell's gap edge when broadening puts states there). Since ``rho v_g = v_F`` the
    conservative form is ``V rho df_m/dt = -v_F [mu_m (A F)_faces + dA/w_m (alpha f)_m]``
    with first-order upwind face values. A face next to a closed cell (``E`` below that
    cell's gap) reflects: the incoming direction takes the mirrored outgoing one, so no QP
    enters a cell where it has no state. ``r = R``: incoming directions from the bath
    (``f_in``, (K,)) or reflected. Elastic isotropic impurity scattering with mean free path
    ``l`` relaxes each direction to the angle average, ``-(v_F / l) V (f_m - fbar)`` (it
    conserves number and energy; for ``l << R`` the closure tends to diffusion with
    ``D_n = v_F l / 3``). Each energy's system (all cells and directions) is
    assembled as one sparse matrix and solved exactly (LU), so the step is unconditionally
    stable and does not depend on how cells are split over ranks. Returns
    ``(f_new, out)``: ``out`` (K,) the number (per ``4 N_0 h``) that left through ``R``.
    """
    C, M, K = f.shape
    system = _OrdinatesSystem(mesh, mu, w, alpha, v, (C, M), boundary, theta, mean_free_path)
    f_new = np.empty_like(f)
    out = np.zeros(K)
    for k in range(K):
        open_ = rho[:, k] > 0 if open_cells is None else open_cells[:, k]
        mass = system.vol * rho[:, k] / dt
        fk = f[:, :, k]
        new = system.solve(fk, mass, open_, f_in[k])
        f_new[:, :, k] = new
        if boundary == "bath" and open_[-1]:
            out[k] = system.outflow(new, fk, f_in[k], dt)
    return f_new, out


class _OrdinatesSystem:
    """The sparse theta-step system of one energy of ``qp_kinetic_step``, unknowns numbered
    ``cell * M + direction``. What does not depend on the energy (the numbering, the face and
    angular coefficients times ``v``) is computed once; ``solve`` assembles and solves one
    energy's system."""

    def __init__(self, mesh, mu, w, alpha, v, shape, boundary, theta, mean_free_path):
        C, M = shape
        self.C, self.M = C, M
        self.mu, self.w, self.v = mu, w, v
        self.boundary, self.theta, self.mean_free_path = boundary, theta, mean_free_path
        self.mirror = np.arange(M)[::-1]
        self.area = mesh.areas
        self.vol = mesh.volumes
        i_idx, m_idx = self.i_idx, self.m_idx = np.meshgrid(np.arange(C), np.arange(M), indexing="ij")
        pos = self.pos = mu[m_idx] > 0
        self.uid = i_idx * M + m_idx
        # loss, spatial inflow (mu > 0 from cell i-1, mu < 0 from cell i+1) and angular
        # inflow from direction m-1 of the same cell
        self.loss, self.coef_in, self.ang = ordinate_coefficients(self.area, mu, w, alpha, v)
        self.nb = np.where(pos, i_idx - 1, i_idx + 1)

    def solve(self, fk, mass, open_, f_in):
        """``f`` of one energy after the step: ``fk`` (C, M) before it, ``mass`` (C,) the
        cells' ``V rho / dt``, ``open_`` (C,) the cells with states, ``f_in`` the bath."""
        from scipy.sparse import csc_matrix
        from scipy.sparse.linalg import splu

        C, M, theta, uid = self.C, self.M, self.theta, self.uid
        rows, cols, vals = [], [], []
        lf = -self.loss * fk  # explicit part accumulates L f
        self._angular(fk, lf, rows, cols, vals)
        rhs = self._spatial(fk, open_, f_in, lf, rows, cols, vals)
        loss = self._scattering(fk, open_, lf, rows, cols, vals)
        # diagonal and the right-hand side
        diag = np.where(open_[:, None], mass[:, None] + theta * loss, 1.0)
        rows.append(uid.ravel()); cols.append(uid.ravel()); vals.append(diag.ravel())
        rhs = np.where(open_[:, None], mass[:, None] * fk + (1 - theta) * lf + rhs, fk)
        # closed cells: identity rows only (drop their couplings)
        r = np.concatenate(rows); c = np.concatenate(cols); d = np.concatenate(vals)
        keep = open_[r // M] | (r == c)
        A = csc_matrix((d[keep], (r[keep], c[keep])), shape=(C * M, C * M))
        return splu(A).solve(rhs.ravel()).reshape(C, M)

    def _angular(self, fk, lf, rows, cols, vals):
        """Inflow into direction ``m`` from ``m - 1`` of the same cell: added to ``lf`` and the
        lists of matrix entries."""
        src_ang = np.zeros((self.C, self.M))
        src_ang[:, 1:] = fk[:, :-1]
        lf += self.ang * src_ang
        rows.append(self.uid[:, 1:].ravel())
        cols.append(self.uid[:, :-1].ravel())
        vals.append(-self.theta * self.ang[:, 1:].ravel())

    def _spatial(self, fk, open_, f_in, lf, rows, cols, vals):
        """Inflow through the faces: from the upwind neighbour where the face is open, the
        mirrored direction at a wall, the bath at ``R``. Returns the bath's source term."""
        C, M, theta = self.C, self.M, self.theta
        i_idx, m_idx, pos, uid, nb, coef_in = self.i_idx, self.m_idx, self.pos, self.uid, self.nb, self.coef_in
        inner_open = np.concatenate([[False], open_[:-1] & open_[1:]])   # face i-1/2
        outer_open = np.concatenate([open_[:-1] & open_[1:], [False]])   # face i+1/2
        use_nb = np.where(pos, inner_open[:, None], outer_open[:, None])
        # walls: a closed neighbour, or R with a reflecting boundary; r = 0 has zero area
        at_r = ~pos & (i_idx == C - 1)
        wall = ~use_nb & ~(pos & (i_idx == 0)) & ~(at_r & (self.boundary == "bath"))
        bath = at_r & (self.boundary == "bath")
        sel = use_nb & open_[:, None]
        rows.append(uid[sel]); cols.append((nb * M + m_idx)[sel]); vals.append(-theta * coef_in[sel])
        lf[sel] += coef_in[sel] * fk[nb[sel], m_idx[sel]]
        selw = wall & open_[:, None]
        rows.append(uid[selw]); cols.append((i_idx * M + self.mirror[m_idx])[selw]); vals.append(-theta * coef_in[selw])
        lf[selw] += coef_in[selw] * fk[i_idx[selw], self.mirror[m_idx[selw]]]
        rhs = np.zeros((C, M))
        selb = bath & open_[:, None]
        rhs[selb] += coef_in[selb] * f_in
        return rhs

    def _scattering(self, fk, open_, lf, rows, cols, vals):
        """Elastic isotropic scattering, ``-(v/l) V (f_m - sum_m' (w_m'/2) f_m')``: added to
        ``lf`` and the matrix entries. Returns the loss coefficient with it."""
        if not np.isfinite(self.mean_free_path):
            return self.loss
        C, M, w, i_idx, m_idx = self.C, self.M, self.w, self.i_idx, self.m_idx
        nu = self.v / self.mean_free_path * self.vol  # (C,)
        fbar = fk @ (0.5 * w)
        lf += -nu[:, None] * (fk - fbar[:, None])
        loss_el = nu[:, None] * np.ones((1, M))
        ii = np.repeat(i_idx[:, :, None], M, axis=2)
        mm = np.repeat(m_idx[:, :, None], M, axis=2)
        mp = np.broadcast_to(np.arange(M)[None, None, :], (C, M, M))
        okc = np.broadcast_to(open_[:, None, None], (C, M, M))
        rows.append((ii * M + mm)[okc]); cols.append((ii * M + mp)[okc])
        vals.append((-self.theta * nu[:, None, None] * (0.5 * w)[None, None, :] * np.ones((C, M, M)))[okc])
        return self.loss + loss_el

    def outflow(self, new, fk, f_in, dt):
        """The number (per ``4 N_0 h``) of one energy that left through ``R`` in the step,
        with the theta weighting of the step (so the ledger closes to round-off)."""
        theta_f = self.theta * new[-1] + (1 - self.theta) * fk[-1]
        face = np.where(self.mu > 0, theta_f, f_in)
        return dt * self.v * self.area[-1] * np.sum(0.5 * self.w * self.mu * face)


# -- phonon streaming, implicit (column layout) ------------------------------------------
class ImplicitStreaming:
    """Backward-Euler upwind discrete ordinates of phonons for energy columns (docs/numerics.md,
    "Implicit phonon streaming"): no CFL bound, positive for any step.

    ``n`` (C, M, K): all cells and directions of ``K`` energies (after the transpose). The
    first-order upwind operator of ``Streaming`` (``order = 1``),

        dn_im/dt = -L_im n_im + S_im n_{up(i,m), m} + G_im n_{i, m-1},

    has inflows only from the spatial upwind cell (``i - 1`` for ``mu > 0``, ``i + 1`` for
    ``mu < 0``) and from the direction below (the angular redistribution runs towards
    ``mu = +1``). With the directions in ascending ``mu`` and the cells swept against the
    flow, ``(1 + c L) n - c (S n_up + G n_{m-1}) = b`` is triangular: one sweep solves it
    exactly, vectorised over the energies. A reflecting ``r = R`` makes the incoming
    directions there equal to the outgoing mirrored ones; the solution is affine in those
    ``M/2`` boundary values, so ``1 + M/2`` sweeps and an ``M/2 x M/2`` solve per energy give
    it exactly. Each column's arithmetic is the same on any rank.

    ``step`` returns the backward-Euler state, an error estimate (backward Euler against the
    Crank-Nicolson step from the same state, filtered by ``(1 + dt L)^-1`` so that fast
    modes that have relaxed do not count) and the number that left through ``R``.
    """

    def __init__(self, mesh, m, speed, boundary="bath"):
        if boundary not in ("bath", "reflecting"):
            raise ValueError(f"boundary = {boundary!r}: expected 'bath' or 'reflecting'")
        mu, w, alpha = ordinates(m)
        self.mu, self.w, self.boundary, self.M, self.C = mu, w, boundary, m, mesh.cells
        area, vol = mesh.areas, mesh.volumes
        v = float(speed)
        self.loss, self.inflow, self.angular = (c / vol[:, None] for c in ordinate_coefficients(area, mu, w, alpha, v))
        self.out_rate = v * mu * area[-1]   # flux through R per unit face value, by direction
        self.incoming = np.flatnonzero(mu < 0)

    def rate(self, n, n_in):
        """The explicit first-order rate of ``n`` (C, M, K) with inflow ``n_in`` (K,) at ``R``."""
        up = self._upwind(n, self._boundary_values(n, n_in))
        prev = np.zeros_like(n)
        prev[:, 1:] = n[:, :-1]
        return -self.loss[..., None] * n + self.inflow[..., None] * up + self.angular[..., None] * prev

    def _boundary_values(self, n, n_in):
        """Incoming values at ``R`` of the directions ``mu < 0`` (M/2, K)."""
        if self.boundary == "bath":
            return np.broadcast_to(n_in, (len(self.incoming), n.shape[2]))
        return n[-1, self.M - 1 - self.incoming]

    def _upwind(self, n, bnd):
        up = np.zeros_like(n)
        pos = self.mu > 0
        up[1:, pos] = n[:-1, pos]
        up[:-1, ~pos] = n[1:, ~pos]
        up[-1, ~pos] = bnd
        return up

    def sweep(self, b, c, bnd):
        """Solve ``(1 + c L) x - c (S x_up + G x_{m-1}) = b`` with the incoming values ``bnd``
        (M/2, K) at ``R`` given. The directions of one sign are solved together, cell after
        cell against their flow: in a cell they form a lower-bidiagonal system (the angular
        inflow from the next lower direction), whose inverse is formed once per call."""
        x = np.empty_like(b)
        C, h = self.C, self.M // 2
        for group, cells in ((slice(0, h), range(C - 1, -1, -1)), (slice(h, self.M), range(C))):
            T = np.zeros((C, h, h))
            idx = np.arange(h)
            T[:, idx, idx] = 1.0 + c * self.loss[:, group]
            T[:, idx[1:], idx[:-1]] = -c * self.angular[:, group][:, 1:]
            Tinv = np.linalg.inv(T)
            inflow = c * self.inflow[:, group, None]
            first_angular = c * self.angular[:, h]  # the first mu > 0 direction from the last mu < 0 one
            for i in cells:
                rhs = b[i, group].copy()
                if group.start == 0:
                    rhs += inflow[i] * (x[i + 1, group] if i < C - 1 else bnd)
                else:
                    if i:
                        rhs += inflow[i] * x[i - 1, group]
                    rhs[0] += first_angular[i] * x[i, h - 1]
                x[i, group] = np.einsum("mj,jk->mk", Tinv[i], rhs)
        return x

    def solve(self, b, c, n_in):
        """``x`` with ``(1 + c L) x - c (inflows) = b``; ``n_in`` (K,) the bath at ``R`` (bath
        boundary) or None for the homogeneous problem."""
        K = b.shape[2]
        h = len(self.incoming)
        if self.boundary == "bath":
            bnd = np.zeros((h, K)) if n_in is None else np.broadcast_to(n_in, (h, K))
            return self.sweep(b, c, bnd)
        # reflecting: x = x0 + sum_j S_j beta_j; beta = outgoing mirrored values of x at R
        stacked = np.zeros((self.C, self.M, K * (1 + h)))
        stacked[:, :, :K] = b
        bnd = np.zeros((h, K * (1 + h)))
        for j in range(h):
            bnd[j, K * (1 + j):K * (2 + j)] = 1.0
        xs = self.sweep(stacked, c, bnd).reshape(self.C, self.M, 1 + h, K)
        mirror = self.M - 1 - self.incoming
        g = xs[-1, mirror]                       # (h, 1 + h, K): outgoing values per column
        A = np.eye(h)[:, :, None] - g[:, 1:]     # (h, h, K)
        beta = np.linalg.solve(A.transpose(2, 0, 1), g[:, 0].T[:, :, None])[:, :, 0].T   # (h, K)
        return xs[:, :, 0] + np.einsum("cmjk,jk->cmk", xs[:, :, 1:], beta)

    def step(self, n, dt, n_in):
        """Backward Euler over ``dt``: ``(n_new, error, out)``, ``out`` (K,) the number (per
        ``4 W h`` and unit angle weight) that left through ``R``."""
        new = self.solve(n, dt, n_in)
        cn = self.solve(n + 0.5 * dt * self.rate(n, n_in), 0.5 * dt, n_in)
        err = self.solve(new - cn, dt, None)
        out = np.zeros(n.shape[2])
        if self.boundary == "bath":
            face = np.where(self.mu[:, None] > 0, new[-1], np.broadcast_to(n_in, new[-1].shape))
            out = dt * np.sum(0.5 * self.w[:, None] * self.out_rate[:, None] * face, axis=0)
        return new, err, out


# -- QP diffusion by partition (no transpose) ----------------------------------------------
def partition_local(a, b, c, d):
    """The local part of the partition method for tridiagonal systems split in contiguous
    blocks of rows (docs/numerics.md, "QP diffusion at scale: the partition solver").

    ``a, b, c, d`` (n, K): the block's rows ``a_i x_{i-1} + b_i x_i + c_i x_{i+1} = d_i``,
    ``a_0`` coupling to the unknown ``X_L`` left of the block and ``c_{n-1}`` to ``X_R``
    right of it. Returns ``(y, s, t)`` (n, K) with ``x = y + s X_L + t X_R``: the block's
    Thomas solve for three right-hand sides, ``d``, ``-a_0 e_0`` and ``-c_{n-1} e_{n-1}``."""
    n, K = d.shape
    rhs = np.zeros((n, 3 * K))
    rhs[:, :K] = d
    rhs[0, K:2 * K] = -a[0]
    rhs[-1, 2 * K:] -= c[-1]
    inner_a = a.copy()
    inner_a[0] = 0.0
    inner_c = c.copy()
    inner_c[-1] = 0.0
    three = lambda x: np.tile(x, (1, 3))
    x = thomas(three(inner_a), three(b), three(inner_c), rhs)
    return x[:, :K], x[:, K:2 * K], x[:, 2 * K:]


def partition_reduced(y0, s0, t0, yl, sl, tl):
    """The interface unknowns of the partition method: arrays (P, K) of each block's first
    and last rows' ``(y, s, t)``, blocks in order. Solves, per column, the banded system
    ``F_p = y0_p + s0_p L_{p-1} + t0_p F_{p+1}``, ``L_p = yl_p + sl_p L_{p-1} + tl_p F_{p+1}``
    (``F``, ``L``: a block's first and last unknowns; none beyond the ends). Returns
    ``(L_left, F_right)`` (P, K): each block's ``X_L = L_{p-1}`` and ``X_R = F_{p+1}``."""
    from scipy.linalg import solve_banded
    P, K = y0.shape
    left, right = np.zeros((P, K)), np.zeros((P, K))
    if P == 1:
        return left, right
    if K >= P:  # many columns: the elimination over the blocks, vectorised over the columns
        return _partition_sweep(y0, s0, t0, yl, sl, tl)
    for k in range(K):  # few columns of many blocks: one banded LAPACK solve per column
        ab = np.zeros((5, 2 * P))
        ab[2] = 1.0
        ab[3, 1:2 * P - 2:2] = -s0[1:, k]      # row 2p, column 2p - 1
        ab[0, 2:2 * P:2] = -t0[:-1, k]        # row 2p, column 2p + 2
        ab[4, 1:2 * P - 2:2] = -sl[1:, k]      # row 2p + 1, column 2p - 1
        ab[1, 2:2 * P:2] = -tl[:-1, k]        # row 2p + 1, column 2p + 2
        rhs = np.empty(2 * P)
        rhs[0::2], rhs[1::2] = y0[:, k], yl[:, k]
        u = solve_banded((2, 2), ab, rhs)
        left[1:, k] = u[1:2 * P - 2:2]     # L_{p-1}
        right[:-1, k] = u[2::2]            # F_{p+1}
    return left, right


def _partition_sweep(y0, s0, t0, yl, sl, tl):
    """``partition_reduced`` by elimination from the first block on: with
    ``L_(p-1) = alpha_(p-1) + beta_(p-1) F_p`` the equations of block ``p`` give
    ``F_p = gamma_p + delta_p F_(p+1)`` and ``L_p = alpha_p + beta_p F_(p+1)``; then back from
    the last block (``F_P = 0``). The influence coefficients of a diagonally dominant
    M-matrix lie in [0, 1), so the denominators ``1 - s0 beta`` stay near one."""
    P, K = y0.shape
    al, be = np.zeros(K), np.zeros(K)
    ga, de, alpha, beta = (np.empty((P, K)) for _ in range(4))
    for p in range(P):
        den = 1.0 - s0[p] * be
        ga[p] = (y0[p] + s0[p] * al) / den
        de[p] = t0[p] / den
        al = yl[p] + sl[p] * (al + be * ga[p])
        be = sl[p] * be * de[p] + tl[p]
        alpha[p], beta[p] = al, be
    F = np.zeros((P + 1, K))
    L = np.zeros((P, K))
    for p in range(P - 1, -1, -1):
        F[p] = ga[p] + de[p] * F[p + 1]
        L[p] = alpha[p] + beta[p] * F[p + 1]
    left, right = np.zeros((P, K)), F[1:].copy()
    left[1:] = L[:-1]
    return left, right
