"""Steady states of the radial problem: all cells coupled, Newton-Krylov (issue 6)."""
import numpy as np
import pytest

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.numerics import steady_point as steady
from boltzphlow_mpi.numerics import steady_radial
from boltzphlow_mpi.parallel.comm import Parallel
from boltzphlow_mpi.physics.analysis import diagnostics as dg

import jobs


@pytest.fixture(autouse=True, scope="module")
def _petsc():
    import petsc4py
    petsc4py.init([])


def sphere_raw(power=1e-12, tau_ns=1.0, width=5.0, boundary="bath", cells=8):
    """The radial steady job of tests/jobs in time ("driven_sphere"): an Al sphere of 20 um, a
    photon drive at 5 Delta_0 (in a Gaussian of ``width`` um at the centre; None: uniform)."""
    return jobs.table("driven_sphere", time__rtol=1e-6, transport__outer_boundary=boundary, geometry__cells=cells,
                      phonon_escape__tau_ns=tau_ns, drive__0__power_W_per_um3=power,
                      drive__0__radius_width_um=width or None)


def qp_numbers(sim, y):
    return dg.qp_number(sim.grid, sim.model.spectra, sim.model.unpack(y)[0])


def test_radial_steady_state_balances_and_is_a_fixed_point_of_the_transient():
    """A photon drive in a 5 um Gaussian at the centre of a 20 um Al sphere, QP diffusion
    and ballistic phonons leaving through R, escape 1 ns: Newton-Krylov converges (measured
    10 Newton, ~490 GMRES iterations); absorbed = escaped + out through R to 1e-10 (measured
    2e-14); n_qp falls outwards; the (split, adaptive) transient started there stays within
    1e-6 over 0.5 ns (measured 3e-8: its own time discretisation)."""
    sim = Simulation(config.from_dict(sphere_raw()), Parallel())
    res = steady_radial.solve(sim)
    assert res["max_relative_residual"] < 1e-10
    b = res["balance"]
    assert b["boundary"] > 10 * b["escaped"] > 0
    assert b["escaped"] + b["boundary"] == pytest.approx(b["absorbed"], rel=1e-10)
    n0 = qp_numbers(sim, res["y"])
    assert np.all(np.diff(n0) < 0)
    sim.y = res["y"].copy()
    sim.advance_to(0.5 / sim.units.tau0_ns)
    assert np.max(np.abs(qp_numbers(sim, sim.y) / n0 - 1)) < 1e-6


def test_radial_steady_state_without_drive_is_the_bath():
    """Zero drive: every cell's steady state is the thermal state at the bath temperature
    (to 1e-10 relative on every occupied entry), and no power through R."""
    sim = Simulation(config.from_dict(sphere_raw(power=0.0)), Parallel())
    res = steady_radial.solve(sim)
    m = sim.model
    occ = slice(0, m.nf + m.nn)
    ref = np.broadcast_to(m.reference_state, res["y"].shape)[:, occ]
    big = ref > 1e-300
    assert np.max(np.abs(res["y"][:, occ][big] / ref[big] - 1)) < 1e-10
    # (round-off of f - f_bath over the outer area: 5e-14 here, against 30 with the drive of
    # the first test)
    assert abs(res["balance"]["boundary"]) < 1e-10 and res["balance"]["absorbed"] == 0.0


def test_reflecting_sphere_with_a_uniform_drive_is_the_point_steady_state():
    """Reflecting surface, drive uniform over the sphere: no transport in the steady state,
    every cell is the 0-D steady state (an independent solver: dense Newton on one cell)."""
    raw = sphere_raw(width=None, boundary="reflecting")
    sim = Simulation(config.from_dict(raw), Parallel())
    res = steady_radial.solve(sim)
    assert abs(res["balance"]["boundary"]) < 1e-12 * res["balance"]["absorbed"]
    point_raw = {k: v for k, v in raw.items() if k not in ("geometry", "transport", "initial")}
    point = Simulation(config.from_dict(point_raw), Parallel())
    ref = steady.solve(point)
    n_point = float(qp_numbers(point, ref["y"])[0])
    assert np.max(np.abs(qp_numbers(sim, res["y"]) / n_point - 1)) < 1e-9


def test_radial_steady_state_with_the_self_consistent_gap():
    """1e-7 W/um^3 at the peak of the central drive: the gap of every cell from its own f
    (outer iteration of gap updates around Newton-Krylov; measured 9 updates, 27 Newton
    iterations) is suppressed by 10 % at the centre and recovers outwards; the balance holds
    and the transient with the self-consistent gap started there stays (n_qp within 1e-6,
    gaps within 1e-7 over 0.5 ns; measured 1.4e-7 and 1e-8)."""
    raw = sphere_raw(power=1e-7)
    raw["gap"] = {"mode": "self-consistent"}
    # the grid as before issue 16 (the gap on a node). On the aligned grid (Delta_0/4.75) and at
    # Delta_0/8 on either grid the central cells' gaps cross a cell edge that their neighbours'
    # do not: the cell that gains states has its node up to h/2 below the gap, a QP trap of
    # depth h where the true one is ~0.06 h, and at this coarse h (> k_B T_B) its occupation
    # jumps (0.59 against 0.018 in the cell above, Delta_0/8.75, 3e-8 W/um^3) and the gap
    # iteration runs the gap to 0. A point cell crosses the same edge smoothly (no neighbours to
    # trap QPs from); docs/physics.md, "Sphere (radial)"
    raw["grid"]["align_gap"] = False
    sim = Simulation(config.from_dict(raw), Parallel())
    res = steady_radial.solve(sim)
    assert res["max_relative_residual"] < 1e-10 and res["outer_iterations"] >= 2
    gaps = sim.model.delta / sim.delta_bath
    assert gaps[0] < 0.92 and gaps[-1] > 0.99 and np.all(np.diff(gaps) > 0)
    b = res["balance"]
    assert b["escaped"] + b["boundary"] == pytest.approx(b["absorbed"], rel=1e-10)
    n0 = qp_numbers(sim, sim.y)
    d0 = sim.model.delta.copy()
    sim.advance_to(0.5 / sim.units.tau0_ns)
    assert np.max(np.abs(qp_numbers(sim, sim.y) / n0 - 1)) < 1e-6
    assert np.max(np.abs(sim.model.delta / d0 - 1)) < 1e-7


@pytest.mark.parametrize("over, expected", [
    ({"transport": {"qp": "kinetic"}}, "transport.qp = 'diffusive' or 'off'"),
])
def test_radial_steady_state_scope_is_checked(over, expected):
    raw = sphere_raw()
    raw["solve"] = {"mode": "steady"}
    for sec, table in over.items():
        raw.setdefault(sec, {}).update(table)
    with pytest.raises(InputError, match=expected):
        config.from_dict(raw)


def test_radial_steady_run_from_the_command_line(tmp_path, capsys, job, run):
    import h5py

    out = run(job("steady_sphere", file="radial.toml"), "radial.h5", quiet=False)
    text = capsys.readouterr().out
    assert "GMRES iterations" in text and "out through R" in text and "centre cell" in text
    with h5py.File(out, "r") as h5:
        assert h5["diagnostics/time"].shape == (1,)
        f = h5["state/qp_f"][0] if "state/qp_f" in h5 else None
    assert f is None or np.all(np.isfinite(f))


def test_a_failed_radial_steady_state_names_the_drives():
    """The sphere's Newton-Krylov failure (one iteration allowed, so the continuation in power
    stops too) names the drive and says its power is the peak of a radial profile."""
    from boltzphlow_mpi.errors import SolverError
    sim = Simulation(config.from_dict(sphere_raw(power=1e-9)), Parallel())
    with pytest.raises(SolverError, match=r"not reached .*reached 0 of the power .*\[\[drive\]\] 0: photon at 5 Delta_0, 1e-09 W/um\^3 \(peak\)"):
        steady_radial.solve(sim, max_it=1)


def readout_sphere(**changes):
    """A 20 um Al sphere of 3 cells at 100 mK read out by microwaves at Delta_0/9 in a 5 um
    Gaussian at the centre (issue 16: the radial steady state where a drive is set), the
    self-consistent gap, h = Delta_0/12, every phonon escaping in 0.242 ns."""
    return jobs.table("steady_sphere", {"bath__temperature_over_tc": None, "bath__temperature_K": 0.1,
                                        "grid__energy_step_over_delta0": 1 / 12, "grid__energy_max_over_delta0": 5.0,
                                        "geometry__cells": 3, "phonon_escape__tau_ns": 0.242,
                                        "gap__mode": "self-consistent", "drive__0__kind": "microwave",
                                        "drive__0__energy_over_delta0": 1 / 9,
                                        "drive__0__power_W_per_um3": 3e-17}, **changes)


@pytest.mark.slow
def test_a_microwave_driven_sphere_at_100_mK_converges():
    """Before issue 16 this case overflowed in the collision sums (no domain check, no
    continuation in the sphere's solver). Now: no floating-point warning, every unknown balanced
    to 1e-10, absorbed = escaped + out through R, the gap iteration converged, and the QPs
    the drive heats are hottest inside (measured: 2 gap updates, 68 Newton iterations by
    continuation in the power with full steps; 337 with the backtracking line search)."""
    import warnings
    sim = Simulation(config.from_dict(readout_sphere()), Parallel())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = steady_radial.solve(sim)
    assert res["max_relative_residual"] < 1e-10 and res["outer_iterations"] >= 1
    b = res["balance"]
    assert b["escaped"] + b["boundary"] == pytest.approx(b["absorbed"], rel=1e-9)
    f = sim.model.unpack(res["y"])[0]
    # the occupation well above the gap (1.5 Delta_0) is 5x higher inside than in the outer
    # cell, next to the bath at R (measured 3.1e-11, 3.2e-11, 6.0e-12)
    k = round(1.5 * sim.delta0 / sim.grid.step)
    assert f[0, k] > 3 * f[-1, k] and f[1, k] > 3 * f[-1, k]


def test_a_saturated_microwave_drive_is_named():
    """When a microwave drive's ladder, which ends at the top of the grid, cannot take the
    requested power, the continuation stops where the drive's net upward transitions vanish;
    the error says so and asks for a larger E_max (``steady_common.saturation``): here a state
    with ``f`` flat across the drive's ladder."""
    from boltzphlow_mpi.numerics.steady_common import saturation
    sim = Simulation(config.from_dict(jobs.table("readout", gap__mode="fixed")), Parallel())
    y = np.atleast_2d(sim.model.reference_state).copy()
    assert saturation(sim, y, 0.5) == ""
    N = sim.model.N
    y[0, :N] = np.where(sim.model.spectra.active[0], 1e-12, 0.5)  # flat: as many down as up
    text = saturation(sim, y, 0.5)
    assert "the microwave drive saturates: at 0.5 of the power" in text
    assert "raise grid.energy_max_over_delta0, now 5" in text


def closed_readout_sphere(temperature_K, power, step=12, **changes):
    """``readout_sphere`` with a reflecting surface (the QP number is the sphere's own) at
    ``temperature_K``, ``power`` W/um^3 at the peak, ``h = Delta_0/step``."""
    return readout_sphere(transport__outer_boundary="reflecting", bath__temperature_K=temperature_K,
                          drive__0__power_W_per_um3=power, grid__energy_step_over_delta0=1 / step, **changes)


def _driven_state(prob, sim, scale, spread, seed):
    """A state of ``prob`` away from the bath: the drives' power scaled by ``scale``, every log
    occupation moved by a normal deviate of width ``spread``."""
    for d in sim.model.drives:
        d.power = np.asarray(d.power, float) * scale
    rng = np.random.default_rng(seed)
    return prob.pack(np.broadcast_to(sim.model.reference_state, prob.y0.shape)) + spread * rng.standard_normal(prob.size)


def test_the_sphere_jacobian_product_is_exact():
    """The Jacobian product of the sphere's Newton-Krylov (``jacobian_product``: the cells'
    exact rate derivatives and a difference of the affine transport inflow) against central
    differences of the residual, every column, with and without the number row (measured
    agreement 1e-9 of the largest entry; the one-sided difference of the residual it replaced
    is off by ~1e-7 of the scattering rates); the number row of the preconditioner
    (``number_row_entries``) is the product's to round-off (measured 1e-12)."""
    from boltzphlow_mpi.numerics.steady_common import exact_sums
    from boltzphlow_mpi.numerics.steady_radial_problem import RadialSteadyProblem
    sim = Simulation(config.from_dict(closed_readout_sphere(0.1, 3e-17)), Parallel())
    with exact_sums(sim):
        prob = RadialSteadyProblem(sim)
        x = _driven_state(prob, sim, 1e-6, 0.3, 1)
        y = prob.unpack(x)
        gain, loss_rate = prob.rates(y)
        local = prob.local_derivatives(y)
        e = 1e-5
        for number_row in (False, True):
            prob.number_row = number_row
            base = prob.linearization(y, gain, loss_rate, local)
            J = np.array([prob.jacobian_product(base, w) for w in np.eye(prob.size)]).T
            fd = np.array([(prob.residual(x + e * w) - prob.residual(x - e * w)) / (2 * e) for w in np.eye(prob.size)]).T
            assert np.max(np.abs(J - fd)) < 1e-7 * np.max(np.abs(J))
        cols, vals = prob.number_row_entries(y)
        assert np.max(np.abs(vals - J[prob.number_local, cols])) < 1e-9 * np.max(np.abs(vals))


def test_the_number_rates_are_the_qp_number_balance():
    """``number_rates`` counts only pair breaking and recombination, from the phonon-mode
    rates of ``efficiency.pair_rates``; QP number conservation by scattering and by diffusion
    between cells makes their difference the sum of the net QP rates of every QP unknown,
    ``sum V rho h (gain - loss)``, at any state (here 300 mK, the gap edge's strip weights in
    play; measured agreement 1e-12 of the rates)."""
    from boltzphlow_mpi.numerics.steady_radial_problem import RadialSteadyProblem
    sim = Simulation(config.from_dict(closed_readout_sphere(0.3, 0.0)), Parallel())
    prob = RadialSteadyProblem(sim)
    y = prob.unpack(_driven_state(prob, sim, 1.0, 1.0, 2))
    gain, loss_rate = prob.rates(y)
    m = sim.model
    qp = prob.mask[:, :m.N]
    net = np.sum(np.where(qp, m.spectra.mass * (gain - loss_rate * y)[:, :m.N], 0.0), axis=1) * sim.transport.mesh.volumes
    gen, loss = prob.number_rates(y)
    assert gen - loss == pytest.approx(float(np.sum(net)), rel=1e-8)
    assert gen > 0 and loss > 0 and abs(gen - loss) > 1e-3 * loss  # far from balance: the test has something to check


@pytest.mark.slow
def test_a_closed_sphere_at_50_mK_under_a_uniform_drive_is_the_point_steady_state():
    """At 50 mK the QP number of a closed sphere is set by recombination, ~1e-18 of the
    scattering rates near the bath: before issue 16's number row and exact Jacobian product
    its continuation stopped at 1.8e-6 of the power. Driven uniformly, a sphere with a
    reflecting surface is a point cell in every cell: its steady state must be the point
    solver's (same grid, drive and escape) to the tolerance of both (measured 4e-9 in f with
    the self-consistent gap; sphere 145 Newton iterations, 16 s)."""
    import warnings
    sim = Simulation(config.from_dict(closed_readout_sphere(0.05, 3e-17, drive__0__radius_width_um=None,
                                                            gap__mode="fixed")), Parallel())
    point = Simulation(config.from_dict(jobs.table("readout", grid__energy_step_over_delta0=1 / 12,
                                                   bath__temperature_K=0.05, drive__0__power_W_per_um3=3e-17,
                                                   gap__mode="fixed")), Parallel())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = steady_radial.solve(sim)
        ref = steady.solve(point)
    f, f_point = sim.model.unpack(res["y"])[0], point.model.unpack(ref["y"])[0][0]
    active = point.model.spectra.active[0]
    assert res["max_relative_residual"] < 1e-10
    for c in range(3):
        assert np.max(np.abs(f[c, active] / f_point[active] - 1.0)) < 1e-7
    b = res["balance"]
    assert b["escaped"] == pytest.approx(b["absorbed"], rel=1e-9) and b["boundary"] == 0.0
