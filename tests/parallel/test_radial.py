"""Radial solver (docs/physics.md, "Radial transport"): transport validation in serial (a communicator
of size 1).

Rank invariance and restart identity are in test_mpi.py."""
import numpy as np
import pytest

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.fileio.mesh import RadialMesh
from boltzphlow_mpi.parallel.comm import Parallel
from boltzphlow_mpi.physics.energy_grid import cell_spectra
from boltzphlow_mpi.physics.transport import Streaming, ghosted_edges, ordinates

import jobs
from helpers import excess_qp_number_per_cell, mean_r2


def build(**over):
    """The sphere of the transport checks (tests/jobs: "sphere_transport": Sn, R = 50 um, 50
    cells, l = 0.01 um, 100 eV of phonons at 5 Delta_0) with keys changed (section__key=value)."""
    return Simulation(config.from_dict(jobs.table("sphere_transport", **over)), Parallel())


def test_pure_qp_diffusion_spreads_as_6Dt():
    """Collisions off: each energy diffuses with D_n / rho(E), so the excess QP number obeys
    <r^2> = r0^2 + 6 <D> t (<D> weighted by the number at each energy) before reaching R."""
    sim = build(collisions__enabled=False, transport__phonon="off", initial__species="qp",
                initial__energy_center_over_delta0=3.0, geometry__cells=200, geometry__radius_um=100.0,
                initial__radius_width_um=5.0, time__t_end_ns=20.0, time__dt_max_ns=0.05)
    n0 = excess_qp_number_per_cell(sim)
    r2_0 = mean_r2(sim, n0)
    f, _, _ = sim.model.unpack(sim.y)
    per_energy = np.sum((sim.model.spectra.rho * (f - sim.model.f_bath)) * sim.volumes[:, None], axis=0)
    dn = sim.transport.diffusivity
    rho = sim.model.spectra.rho[0]
    d_eff = np.sum(per_energy[rho > 0] * dn / rho[rho > 0]) / np.sum(per_energy[rho > 0])
    sim.run()
    r2 = mean_r2(sim, excess_qp_number_per_cell(sim))
    t = sim.t
    assert r2 - r2_0 == pytest.approx(6 * d_eff * t, rel=0.02)
    assert np.sqrt(r2) < 0.5 * sim.mesh.radius


def test_qp_number_conserved_by_diffusion_with_reflecting_boundary():
    sim = build(collisions__enabled=False, transport__phonon="off", transport__outer_boundary="reflecting",
                initial__species="qp", initial__energy_center_over_delta0=3.0, transport__qp_mean_free_path_um=1.0,
                time__t_end_ns=2.0, time__dt_max_ns=0.1)
    before = float(np.sum(excess_qp_number_per_cell(sim) * sim.volumes))
    sim.run()
    after = float(np.sum(excess_qp_number_per_cell(sim) * sim.volumes))
    assert after == pytest.approx(before, rel=1e-12)
    assert sim.out["qp_number"] == 0


@pytest.mark.parametrize("phonon_time, sample, within, rtol", [("explicit", 0.25, 1.0, 1e-4), ("implicit", 1.0, 2.0, 1e-2)])
def test_ballistic_subgap_phonon_pulse_arrives_at_R_over_vs(phonon_time, sample, within, rtol):
    """Collisions off: sub-gap phonons from r ~ 0 leave through R; half of the energy is out
    at t = R / v_s within one cell crossing time; in the end all of it (out + inside = in).
    (Discrete ordinates stream at v_s mu_max, mu_max = 0.989 for 16 angles.) The implicit
    streaming (first-order upwind, backward Euler: its front is smeared over a few cells and
    arrives early by 1.5 crossing times) takes the steps its error control allows; within two
    crossing times."""
    R, cells = 30.0, 60
    sim = build(collisions__enabled=False, transport__qp="off", transport__angles=16, transport__phonon_time=phonon_time,
                time__rtol=rtol,
                geometry__radius_um=R, geometry__cells=cells, initial__radius_width_um=0.5,
                grid__energy_max_over_delta0=2.5,
                initial__energy_center_over_delta0=1.5, initial__energy_width_over_delta0=0.1,
                time__t_end_ns=30.0, time__output_interval_ns=30.0)
    vs = sim.material.sound_speed_um_per_ns
    e_in = sim.deposit
    crossing = (R / cells) / vs
    times, outs = [], []
    t_ns = 0.0
    while t_ns < 2 * R / vs:
        t_ns += sample * crossing
        sim.advance_to(t_ns / sim.material.tau0_ns)
        times.append(t_ns)
        outs.append(sim.out["phonon_energy"] / e_in)
    outs = np.array(outs)
    t_half = np.interp(0.5, outs, times)
    assert abs(t_half - R / vs) < within * crossing
    assert outs[-1] > 0.99
    tot = sim.totals()
    inside = tot["phonon_energy"] - sim.bath_totals["phonon_energy"]
    assert (inside + sim.out["phonon_energy"]) == pytest.approx(e_in, rel=1e-10)


@pytest.mark.parametrize("phonon_time, min_steps", [("explicit", 50), ("implicit", 1)])
def test_uniform_isotropic_field_stays_uniform(phonon_time, min_steps):
    sim = build(collisions__enabled=False, transport__qp="off", transport__outer_boundary="reflecting",
                transport__angles=8, initial__radius_width_um=None, transport__phonon_time=phonon_time,
                time__t_end_ns=5.0)
    n0 = sim.y.copy()
    sim.run()
    assert sim.steps >= min_steps
    assert np.abs(sim.y[:, :-2] - n0[:, :-2]).max() <= 1e-12 * np.abs(n0[:, :-2]).max()


def test_streaming_operator_properties():
    _mu, w, alpha = ordinates(8)
    assert np.isclose(w.sum(), 2.0) and np.all(alpha >= 0) and alpha[0] == 0 == alpha[-1]
    mesh = RadialMesh.graded(20.0, 20, 1.05)
    st = Streaming(ghosted_edges(mesh, 0, 20), 8, 2.0, True, True, "bath")
    rng = np.random.default_rng(1)
    n = rng.random((24, 8, 3))
    dn, flux = st.rate(n, np.zeros(3))
    vol = st.volume
    change = np.einsum("cmk,m,c->k", dn, w / 2, vol)
    assert np.allclose(change, -np.einsum("mk,m->k", flux, w / 2), rtol=1e-12)


def _streaming_matrix(st, shape):
    """The implicit streaming's first-order operator as a matrix (homogeneous inflow), from
    its explicit rate applied to unit vectors."""
    size = int(np.prod(shape))
    cols = [st.rate(np.eye(size)[j].reshape(shape), np.zeros(shape[2])).ravel() for j in range(size)]
    return np.array(cols).T


@pytest.mark.parametrize("boundary", ["bath", "reflecting"])
def test_implicit_streaming_sweep_solves_backward_euler_exactly(boundary):
    """The sweeps (and the boundary solve of a reflecting R) against a dense solve of
    (I - dt L) x = b on a graded mesh, with a CFL number of about 100."""
    from boltzphlow_mpi.physics.transport import ImplicitStreaming
    mesh = RadialMesh.graded(20.0, 12, 1.1)
    st = ImplicitStreaming(mesh, 4, 2.0, boundary)
    shape = (12, 4, 3)
    L = _streaming_matrix(st, shape)
    rng = np.random.default_rng(4)
    b = rng.random(shape)
    dt = 100.0 * np.min(mesh.edges[1:] - mesh.edges[:-1]) / 2.0
    x = st.solve(b, dt, None)
    ref = np.linalg.solve(np.eye(L.shape[0]) - dt * L, b.ravel())
    assert np.max(np.abs(x.ravel() - ref)) <= 1e-12 * np.max(np.abs(ref))
    assert np.all(x >= 0)  # an M-matrix: positive for any step


def test_implicit_streaming_is_first_order_in_time_and_conserves():
    """Backward Euler against the exact exponential of the operator: halving the step halves
    the error (ratio 2 within 1.8 .. 2.2); with a bath at R the number inside plus the
    number out through R is the number before, to round-off."""
    from scipy.linalg import expm

    from boltzphlow_mpi.physics.transport import ImplicitStreaming
    mesh = RadialMesh.graded(10.0, 10, 1.05)
    st = ImplicitStreaming(mesh, 4, 1.0, "bath")
    shape = (10, 4, 1)
    L = _streaming_matrix(st, shape)
    n0 = np.exp(-0.5 * (mesh.centres / 3.0) ** 2)[:, None, None] * np.ones(shape)
    T = 4.0
    exact = (expm(T * L) @ n0.ravel()).reshape(shape)
    errs = []
    for steps in (64, 128):
        n, out = n0.copy(), 0.0
        for _ in range(steps):
            n, _, o = st.step(n, T / steps, np.zeros(1))
            out += o[0]
        errs.append(np.max(np.abs(n - exact)))
        w = 0.5 * st.w[None, :, None] * mesh.volumes[:, None, None]
        assert np.sum(w * n) + out == pytest.approx(np.sum(w * n0), rel=1e-13)
    assert 1.8 < errs[0] / errs[1] < 2.2, errs


def test_uniform_state_with_collisions_follows_point_solution():
    """Reflecting R, uniform deposit: every cell follows the 0-D solution (fixed dt)."""
    density = 100.0 / (4 / 3 * np.pi * 20.0 ** 3)
    common = {"time__dt_ns": 0.01, "time__t_end_ns": 0.5, "time__output_interval_ns": 0.5}
    sim = build(transport__outer_boundary="reflecting", geometry__radius_um=20.0, geometry__cells=8,
                initial__radius_width_um=None, **common)
    sim.run()
    point = config.from_dict({
        "material": {"name": "Sn"}, "bath": {"temperature_over_tc": 0.1},
        "grid": {"energy_step_over_delta0": 0.25, "energy_max_over_delta0": 8.0},
        "initial": {"species": "phonon", "energy_center_over_delta0": 5.0, "energy_width_over_delta0": 0.3,
                    "deposit_eV_per_um3": density},
        "time": {"t_end_ns": 0.5, "method": "exp", "dt_ns": 0.01, "output_interval_ns": 0.5}})
    p = Simulation(point, Parallel())
    p.run()
    f_s, n_s, _ = sim.model.unpack(sim.y)
    f_p, n_p, _ = p.model.unpack(p.y)
    assert np.abs(f_s - f_p).max() <= 1e-12 * np.abs(f_p).max()
    assert np.abs(n_s - n_p).max() <= 1e-12 * np.abs(n_p).max()


def test_ledger_exact_with_conserving_stepper_and_transport():
    sim = build(time__method="tr2", time__t_end_ns=0.3, time__output_interval_ns=0.1, transport__qp_mean_free_path_um=0.5,
                gap__mode="self-consistent", geometry__cells=20, geometry__radius_um=15.0)
    sim.run()
    r = sim.record()
    assert r["energy_out"] > 0
    assert abs(r["energy_ledger_error"]) < 1e-8


def test_strang_splitting_is_second_order():
    """Fixed steps dt, dt/2 against a dt/16 reference (diffusion, streaming and collisions)."""
    over = {"transport__qp_mean_free_path_um": 0.2, "geometry__cells": 20, "geometry__radius_um": 20.0,
            "time__t_end_ns": 0.4, "time__output_interval_ns": 0.4, "time__method": "exp"}
    def final(dt):
        s = build(time__dt_ns=dt, **over)
        s.run()
        return s.y[:, :-2]
    ref = final(0.4 / 128)
    e1 = np.abs(final(0.4 / 8) - ref).max()
    e2 = np.abs(final(0.4 / 16) - ref).max()
    order = np.log2(e1 / e2)
    assert order > 1.7, (e1, e2, order)


def test_trapped_qps_do_not_enter_cells_below_their_energy():
    """No flux into a cell where E is below the local gap (docs/physics.md, "QP diffusion", trapping)."""
    sim = build(collisions__enabled=False, transport__phonon="off", initial__species="qp",
                initial__energy_center_over_delta0=1.2, initial__energy_width_over_delta0=0.05,
                transport__qp_mean_free_path_um=1.0, time__t_end_ns=1.0, time__dt_max_ns=0.05)
    gaps = np.full(sim.local_cells, sim.delta_bath)
    gaps[:10] *= 0.8  # a depressed gap in the core: QPs near 1.1 Delta_0 are trapped there
    sim.set_gap(gaps)
    f0, _, _ = sim.model.unpack(sim.y)
    sim.run()
    f, _, _ = sim.model.unpack(sim.y)
    spec = cell_spectra(sim.grid, gaps)
    trapped = (spec.rho[:10] > 0) & (spec.rho[10:11] == 0)  # energies open in the core only
    k = np.where(trapped.any(axis=0))[0]
    assert len(k) > 0
    assert np.array_equal(f[10:, k], f0[10:, k])  # nothing arrived outside


def test_kinetic_qp_closure_conserves_and_keeps_uniform_state():
    """QP discrete ordinates (implicit): reflecting R conserves the QP number exactly and a
    uniform isotropic QP excess stays uniform (collisions off)."""
    sim = build(collisions__enabled=False, transport__phonon="off", transport__qp="kinetic",
                transport__outer_boundary="reflecting", initial__species="qp", initial__radius_width_um=None,
                initial__energy_center_over_delta0=3.0, geometry__cells=10, geometry__radius_um=10.0,
                time__t_end_ns=0.2, time__dt_max_ns=0.02, time__output_interval_ns=0.1)
    y0 = sim.y.copy()
    sim.run()
    assert np.abs(sim.y[:, :-2] - y0[:, :-2]).max() <= 1e-12 * np.abs(y0[:, :-2]).max()


def test_kinetic_qps_spread_leave_and_stay_out_of_closed_cells():
    sim = build(collisions__enabled=False, transport__phonon="off", transport__qp="kinetic",
                initial__species="qp", initial__energy_center_over_delta0=1.2, initial__energy_width_over_delta0=0.05,
                geometry__cells=20, geometry__radius_um=10.0, initial__radius_width_um=1.0,
                transport__qp_mean_free_path_um=0.5, time__t_end_ns=0.05, time__dt_max_ns=0.002,
                time__output_interval_ns=0.05)
    gaps = np.full(sim.local_cells, sim.delta_bath)
    gaps[:4] *= 0.8
    sim.set_gap(gaps)
    number0 = float(np.sum(excess_qp_number_per_cell(sim) * sim.volumes))
    f0 = sim.model.directional(sim.y)[0].copy()
    sim.run()
    f = sim.model.directional(sim.y)[0]
    spec = cell_spectra(sim.grid, gaps)
    trapped = (spec.rho[:4] > 0).any(axis=0) & (spec.rho[4] == 0)
    assert trapped.any()
    assert np.array_equal(f[4:, :, trapped], f0[4:, :, trapped])
    number = float(np.sum(excess_qp_number_per_cell(sim) * sim.volumes))
    left = sim.out["qp_number"] * 1.0
    assert number + left == pytest.approx(number0, rel=1e-10)


def test_sn_bubble_job_ledger():
    """jobs/sn_bubble.toml, shortened and coarsened: inside + out through R + escaped =
    deposited within 1e-8 (exp with its energy projection, CN diffusion, SSP-RK2 streaming)."""
    cfg, _ = config.load("jobs/sn_bubble.toml", ["time.t_end_ns=0.25", "time.output_interval_ns=0.25",
                                                 "grid.energy_step_over_delta0=0.5", "transport.angles=4"])
    sim = Simulation(cfg, Parallel())
    sim.run()
    r = sim.record()
    # at 0.25 ns the phonons from the centre have not reached R: what left is round-off of
    # the QP energy (1.7e-11 eV; its sign differs with numpy's SIMD on and off)
    assert abs(r["energy_out"]) < 1e-12 * r["qp_energy"] and r["qp_number_excess"] > 0
    assert abs(r["energy_ledger_error"]) < 1e-8


def test_ksp_diffusion_solver_matches_exact_solver():
    """transport.qp_solver = "ksp" (PETSc CG on the decomposition) reproduces the exact
    transposed tridiagonal solves to the KSP tolerance."""
    common = {"geometry__cells": 12, "geometry__radius_um": 12.0, "transport__qp_mean_free_path_um": 0.3,
              "time__t_end_ns": 0.1, "time__output_interval_ns": 0.1, "time__dt_ns": 0.005}
    exact = build(**common)
    exact.run()
    ksp = build(transport__qp_solver="ksp", **common)
    ksp.run()
    assert np.abs(ksp.y[:, :-2] - exact.y[:, :-2]).max() < 1e-12 * np.abs(exact.y[:, :-2]).max()
    assert ksp.out["qp_energy"] == pytest.approx(exact.out["qp_energy"], rel=1e-6)  # KSP tolerance


def test_self_consistent_gap_gradient_traps_qps():
    """A hot core (QPs just above the gap, self-consistent gap suppressed there by 1.1 %)
    inside a cold shell: QPs remapped below the shell's gap edge cannot leave, so after 3 ns
    several times more QPs remain than with the same deposit and a fixed (uniform) gap."""
    from boltzphlow_mpi.physics.analysis import diagnostics as dg

    def remaining(mode):
        sim = build(material__name="Al", bath__temperature_over_tc=0.1, collisions__enabled=False,
                    transport__phonon="off", gap__mode=mode, grid__energy_step_over_delta0=1 / 200,
                    grid__energy_max_over_delta0=2.5, geometry__cells=10, geometry__radius_um=20.0,
                    transport__qp_mean_free_path_um=1.0, initial__species="qp",
                    initial__energy_center_over_delta0=1.01, initial__energy_width_over_delta0=0.002,
                    initial__deposit_eV=3000.0, initial__radius_width_um=2.0, time__t_end_ns=3.0,
                    time__dt_max_ns=0.05, time__output_interval_ns=1.0)
        core_gap = sim.model.delta[0] / sim.delta0
        sim.run()
        f, _, _ = sim.model.unpack(sim.y)
        excess = dg.qp_number(sim.grid, sim.model.spectra, f - sim.model.f_bath) * sim.volumes
        return core_gap, float(sim.par.comm.allreduce(np.sum(excess)))

    gap_sc, kept_sc = remaining("self-consistent")
    gap_fixed, kept_fixed = remaining("fixed")
    assert gap_sc < 0.99 < gap_fixed
    assert kept_sc > 3 * kept_fixed


@pytest.mark.parametrize("blocks, K", [([7], 5), ([3, 4], 5), ([1, 2, 1, 3], 5), ([2, 2, 2, 1], 5),
                                       ([1, 2, 1, 3], 2), ([2] * 9, 3)])
def test_partition_solver_matches_thomas(blocks, K):
    """The partition method (physics/transport.py: each block of rows eliminated alone, the
    interface unknowns solved per column, by the elimination over the blocks for at least as
    many columns as blocks, else by a banded LAPACK solve) against the Thomas solve of the
    whole tridiagonal system, for blocks of one row and more."""
    from boltzphlow_mpi.physics.transport import partition_local, partition_reduced, thomas
    rng = np.random.default_rng(7)
    n = sum(blocks)
    a, c = -rng.random((n, K)), -rng.random((n, K))
    a[0], c[-1] = 0.0, 0.0
    b = 2.5 + rng.random((n, K))
    d = rng.standard_normal((n, K))
    ref = thomas(a, b, c, d)
    edges = np.cumsum([0] + blocks)
    parts = [partition_local(a[i:j], b[i:j], c[i:j], d[i:j]) for i, j in zip(edges[:-1], edges[1:])]
    ends = [np.stack([p[q][r] for p in parts]) for r in (0, -1) for q in range(3)]
    left, right = partition_reduced(*ends)
    x = np.concatenate([y + s * left[i] + t * right[i] for i, (y, s, t) in enumerate(parts)])
    assert np.max(np.abs(x - ref)) <= 1e-13 * np.max(np.abs(ref))
