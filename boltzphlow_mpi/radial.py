"""Transport half-steps of the radial problem (SPEC section 5), on this rank's cells.

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

from .domain import Domain
from .energy_grid import cell_spectra
from .parallel import Transposer
from .transport import (MILNE, Streaming, diffusion_conductances, diffusion_step, ghosted_edges, ordinates,
                        qp_kinetic_step)


class RadialTransport:
    def __init__(self, par, mesh, model, domain: Domain, *, qp, phonon, mean_free_path_um, fermi_velocity,
                 sound_speed, boundary):
        """``fermi_velocity``, ``sound_speed`` in um per tau_0; ``domain`` decomposes the cells."""
        self.par, self.mesh, self.model = par, mesh, model
        self.qp, self.phonon, self.boundary = qp, phonon, boundary
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
        if phonon == "kinetic":
            self.streaming = Streaming(ghosted_edges(mesh, c0, c1), model.Mp, sound_speed,
                                       self.domain.owns_centre, self.domain.owns_outer, boundary)
        self._cfl = None

    # -- limits ---------------------------------------------------------------------------
    def dt_limit(self):
        """Largest full step: two SSP-RK2 half steps each within the CFL limit (all ranks)."""
        if self.phonon != "kinetic":
            return np.inf
        if self._cfl is None:
            local = self.streaming.stable_dt()
            self._cfl = 1.0 / self.par.reduce_max(1.0 / local if np.isfinite(local) else 0.0)
        return 2.0 * self._cfl

    # -- the half step ------------------------------------------------------------------------
    def half_step(self, y, dt, delta_all):
        """Transport over ``dt`` (a half step). Returns ``(y_new, out)``, ``out`` a dict of the
        QP number, QP energy and phonon energy that left through ``R`` (internal x um^3)."""
        y = y.copy()
        out = {"qp_number": 0.0, "qp_energy": 0.0, "phonon_energy": 0.0}
        if self.qp == "diffusive":
            self._qp_diffusion(y, dt, delta_all, out)
        elif self.qp == "kinetic":
            self._qp_streaming(y, dt, delta_all, out)
        if self.phonon == "kinetic":
            self._phonon_streaming(y, dt, out)
        return y, out

    def _qp_diffusion(self, y, dt, delta_all, out):
        m = self.model
        N, h = m.N, m.grid.step
        T = self.transposer
        k0, k1 = T.my_columns
        cols = T.to_columns(y[:, :N])
        spec = cell_spectra(m.grid, delta_all, m.dynes_gamma, index=slice(k0, k1))
        open_cells = spec.rho > 0
        g_int, g_out = diffusion_conductances(self.mesh, self.diffusivity, open_cells, self.milne)
        if self.boundary != "bath":
            g_out = np.zeros_like(g_out)  # reflecting: no flux through R
        new, count = diffusion_step(cols, spec.rho, self.mesh, g_int, g_out, m.f_bath[k0:k1], dt)
        y[:, :N] = T.to_cells(new)
        x = m.grid.x[k0:k1]
        per_rank = self.par.comm.allgather(np.stack([count, x * count]))
        allc = np.concatenate(per_rank, axis=1)  # column order: fixed, rank independent
        out["qp_number"] += 4.0 * h * float(np.sum(allc[0]))
        out["qp_energy"] += 4.0 * h * float(np.sum(allc[1]))

    def _qp_streaming(self, y, dt, delta_all, out):
        m = self.model
        N, M, h = m.N, m.Mq, m.grid.step
        c = len(y)
        T = self.transposer
        f_cells = y[:, :m.nf].reshape(c, M, N).transpose(0, 2, 1).reshape(c, N * M)  # (cell, k*M + m)
        cols = T.to_columns(f_cells)
        j0, j1 = T.my_columns
        k0, k1 = j0 // M, j1 // M
        fk = cols.reshape(self.mesh.cells, k1 - k0, M).transpose(0, 2, 1)  # (C, M, K_loc)
        spec = cell_spectra(m.grid, delta_all, m.dynes_gamma, index=slice(k0, k1))
        mu, w, alpha = self.qp_ordinates
        new, count = qp_kinetic_step(fk, spec.rho, self.mesh, mu, w, alpha, self.fermi_velocity,
                                     m.f_bath[k0:k1], dt, self.boundary, mean_free_path=self.mean_free_path)
        back = T.to_cells(new.transpose(0, 2, 1).reshape(self.mesh.cells, (k1 - k0) * M))
        y[:, :m.nf] = back.reshape(c, N, M).transpose(0, 2, 1).reshape(c, m.nf)
        x = m.grid.x[k0:k1]
        allc = np.concatenate(self.par.comm.allgather(np.stack([count, x * count])), axis=1)
        out["qp_number"] += 4.0 * h * float(np.sum(allc[0]))
        out["qp_energy"] += 4.0 * h * float(np.sum(allc[1]))

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
            local = 4.0 * m.phonon_weight * m.grid.step * float(np.sum(m.grid.x ** 3 * number))
        out["phonon_energy"] += float(np.sum(self.par.comm.allgather(local)))
