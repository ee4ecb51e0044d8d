"""0-D steady states under continuous drive with PETSc SNES (issue 6, first part)."""
import contextlib
import itertools

import numpy as np
import pytest

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.numerics import steady_point as steady
from boltzphlow_mpi.numerics.steady_common import exact_sums
from boltzphlow_mpi.parallel.comm import Parallel
from boltzphlow_mpi.physics.analysis import diagnostics as dg

import jobs


@pytest.fixture(autouse=True, scope="module")
def _petsc():
    import petsc4py
    petsc4py.init([])


@contextlib.contextmanager
def broyden():
    """PETSc's quasi-Newton (Broyden) in place of Newton for the steady solver."""
    from petsc4py import PETSc
    opts = PETSc.Options()
    opts.setValue("-steady_snes_type", "qn")
    opts.setValue("-steady_snes_qn_type", "broyden")
    try:
        yield
    finally:
        opts.delValue("-steady_snes_type")
        opts.delValue("-steady_snes_qn_type")


def point(power, tau_ns=1.0, **over):
    """The steady job of tests/jobs in time ("driven"): Al at 0.15 T_c, photons at 5 Delta_0."""
    raw = jobs.table("driven", drive__0__power_W_per_um3=power, phonon_escape__tau_ns=tau_ns, **over)
    return Simulation(config.from_dict(raw), Parallel())


def test_zero_drive_gives_the_thermal_state():
    sim = point(0.0)
    res = steady.solve(sim)
    n = sim.model.nf + sim.model.nn
    ref = sim.model.reference_state[0, :n]
    active = ref > 0
    assert np.max(np.abs(res["y"][0, :n] - ref)[active] / ref[active]) < 1e-10


def test_photon_drive_steady_state_balances_energy_and_is_a_fixed_point_of_the_transient():
    """Newton converges quadratically; the absorbed power leaves by escape (to 1e-10); the
    transient started from the steady state stays there (N_qp within 1e-7 after 2 ns)."""
    sim = point(1e-12)
    res = steady.solve(sim)
    norms = res["residual_norms"]
    assert res["iterations"] <= 12 and norms[-1] < 1e-10 * norms[0]
    # near the solution each step is (super)quadratic, unless it lands on the norm's round-off
    # floor (3e-14 here, 4e-16 of the first norm)
    near = [(a, b) for a, b in itertools.pairwise(norms) if a < 1e-2 * norms[0]]
    assert near and all(b <= a ** 1.5 or b < 1e-12 * norms[0] for a, b in near)
    bal = res["balance"]
    assert bal["escaped"] == pytest.approx(bal["absorbed"], rel=1e-10)
    y = res["y"]
    f = sim.model.unpack(y)[0]
    n_ss = float(dg.qp_number(sim.grid, sim.model.spectra, f)[0])
    n_bath = float(dg.qp_number(sim.grid, sim.model.spectra, sim.model.f_bath[None])[0])
    assert n_ss > 10 * n_bath
    sim.y = y.copy()
    sim.advance_to(2.0 / sim.units.tau0_ns)
    f2 = sim.model.unpack(sim.y)[0]
    assert float(dg.qp_number(sim.grid, sim.model.spectra, f2)[0]) == pytest.approx(n_ss, rel=1e-7)


def test_newton_converges_where_the_plain_fixed_point_iteration_crawls():
    """Stronger phonon trapping (escape time 1000 tau_0^phi): Newton from the thermal state
    converges, while the fixed-point iteration y <- G/K is still far off after 200 sweeps."""
    sim = point(1e-12, tau_ns=242.0)
    res = steady.solve(sim)
    assert res["max_relative_residual"] < 1e-10
    _, its, worst = steady.fixed_point(point(1e-12, tau_ns=242.0), max_it=200)
    assert its == 200 and worst > 1e-4


@pytest.mark.parametrize("trapping, power", [(1e5, 1e-13), (1e6, 1e-15)])
def test_newton_at_extreme_phonon_trapping(trapping, power):
    """tau_esc / tau_pb up to 1e6 (tau_pb(2 Delta) = tau_0^phi Delta_0/Delta, Al: 0.242 ns):
    Newton starts from the quasi-thermal state whose escape power matches the absorbed
    power and converges in a few iterations (measured 2-3) with absorbed = escaped power;
    the plain fixed-point iteration from the same start has not converged after 300 sweeps,
    and PETSc's quasi-Newton (Broyden, ``-steady_snes_type qn``) from the same start
    stalls or diverges within 300 iterations."""
    tau_ns = trapping * 0.242  # tau_0^phi of Al: 0.242 ns (materials.py, Kaplan et al. 1976)
    sim = point(power, tau_ns=tau_ns)
    res = steady.solve(sim)
    assert res["iterations"] <= 8 and res["max_relative_residual"] < 1e-10
    assert res["balance"]["escaped"] == pytest.approx(res["balance"]["absorbed"], rel=1e-8)
    sim2 = point(power, tau_ns=tau_ns)
    with exact_sums(sim2):
        start = steady.quasi_thermal_guess(sim2, steady.SteadyProblem(sim2))
    _, its, worst = steady.fixed_point(sim2, max_it=300, guess=start)
    assert its == 300 and worst > 1e-8
    with broyden(), pytest.raises(SolverError):
        steady.solve(point(power, tau_ns=tau_ns), max_it=300)


def test_self_consistent_gap_in_the_steady_state():
    """With gap.mode = "self-consistent" the gap is an unknown of the Newton system (the
    nonequilibrium gap equation): 1e-10 W/um^3 at 5 Delta_0 suppresses it by 15 % (measured
    0.8481 of the bath gap, 13 Newton iterations from the thermal state, the QP cells below
    the bath gap joining in a second round). It is a steady state of the transient with the
    self-consistent gap too: gap and n_qp stay to 1e-9 over 3 ns."""
    sim = point(1e-10, gap__mode="self-consistent")
    res = steady.solve(sim)
    assert res["max_relative_residual"] < 1e-10
    assert res["delta"] < 0.9 * sim.delta_bath
    f = sim.model.unpack(res["y"])[0]
    n_ss = float(dg.qp_number(sim.grid, sim.model.spectra, f)[0])
    sim.y = res["y"].copy()
    sim.advance_to(3.0 / sim.units.tau0_ns)
    assert sim.model.delta[0] == pytest.approx(res["delta"], rel=1e-9)
    f2 = sim.model.unpack(sim.y)[0]
    assert float(dg.qp_number(sim.grid, sim.model.spectra, f2)[0]) == pytest.approx(n_ss, rel=1e-9)


def test_self_consistent_eliashberg_steady_state_matches_bcs():
    """Eliashberg (Al, Debye alpha^2F, mu* fitted) with the self-consistent gap: outer
    iteration of Eliashberg updates around Newton on the occupations (measured 7 updates).
    At weak suppression its gap edge agrees with the BCS one (Al is weak coupling: measured
    0.8474 vs 0.8481 of the bath gap at 1e-10 W/um^3), and the transient stays there."""
    sim = point(1e-10, gap__mode="self-consistent", gap__model="eliashberg")
    res = steady.solve(sim)
    assert res["max_relative_residual"] < 1e-10 and res["outer_iterations"] >= 2
    bcs = steady.solve(point(1e-10, gap__mode="self-consistent"))
    ratio_e, ratio_b = res["delta"] / sim.delta_bath, bcs["delta"] / sim.delta_bath
    assert ratio_e < 0.9 and ratio_e == pytest.approx(ratio_b, abs=0.005)
    sim.y = res["y"].copy()
    sim.advance_to(1.0 / sim.units.tau0_ns)
    assert sim.model.delta[0] == pytest.approx(res["delta"], rel=1e-9)


def test_steady_run_from_the_command_line(tmp_path, capsys, job, run):
    import h5py

    path = job("steady", file="job.toml")
    out = run(path, "ss.h5", quiet=False)
    text = capsys.readouterr().out
    assert "steady state: " in text and "Newton iterations" in text and "W/um^3" in text and "T*_N" in text
    with h5py.File(out, "r") as h5:
        assert h5["time"].shape == (1,) and np.isnan(h5["diagnostics/energy_ledger_error"][0])
        assert h5["diagnostics/qp_number_excess"][0] > 0
    # the Mattis-Bardeen readout at 5 GHz: the driven QPs raise sigma_1 above, and lower
    # sigma_2 below, the values of the bath state (observables.mattis_bardeen with thermal f)
    from boltzphlow_mpi.physics.analysis import observables as ob
    run(path, "mb.h5", "--set", "solve.readout_GHz=5", quiet=False)
    line = next(x for x in capsys.readouterr().out.splitlines() if "Mattis-Bardeen at 5 GHz" in x)
    s1, s2 = (float(v.split("=")[1]) for v in line.split(":")[1].split(","))
    sim = point(0.0)
    hw = 5 * 4.135667696e-3 / sim.units.kTc_meV
    t1, t2 = ob.mattis_bardeen(float(sim.model.delta[0]), hw, lambda e: ob.fermi(e, sim.temperature))
    assert s1 > 10 * t1 and s2 < t2
    bad = job("steady", file="bad.toml", geometry__kind="sphere", geometry__radius_um=5.0, geometry__cells=4,
              transport__qp="kinetic")
    run(bad, "x.h5", code=2, quiet=False)
    assert "solve.mode" in capsys.readouterr().out and not (tmp_path / "x.h5").exists()


def test_sweep_of_the_photon_power(tmp_path, capsys, job):
    """`boltzphlow sweep` over the absorbed power: one file with the sweep axis; in this
    recombination-limited regime n_qp grows as the square root of the power (Rothwarf-Taylor
    scaling: measured ratio 3.18 per decade against sqrt(10) = 3.16, within 5 %); sigma_1 rises
    and sigma_2 falls with the QP density."""
    import h5py

    from boltzphlow_mpi import cli
    path = job("steady", file="job.toml")
    out = tmp_path / "sweep.h5"
    assert cli.main(["sweep", str(path), "--param", "drive.0.power_W_per_um3", "--values", "1e-13", "1e-12", "1e-11",
                     "-o", str(out)]) == 0
    with h5py.File(out, "r") as h5:
        assert h5["sweep/values"].attrs["parameter"] == "drive.0.power_W_per_um3"
        n = h5["sweep/qp_number_per_um3"][()]
        s1, s2 = h5["sweep/sigma1_over_sigman"][()], h5["sweep/sigma2_over_sigman"][()]
        assert h5["sweep/qp_f"].shape[0] == 3 and h5["sweep/x_qp"].attrs["units"] == "1"
    ratios = n[1:] / n[:-1]
    assert np.all(np.abs(ratios / np.sqrt(10) - 1) < 0.05)
    assert np.all(np.diff(s1) > 0) and np.all(np.diff(s2) < 0)
    capsys.readouterr()
    assert cli.main(["sweep", str(path), "--param", "drive.3.power_W_per_um3", "--values", "1e-12",
                     "-o", str(tmp_path / "x.h5")]) == 2
    assert "--param" in capsys.readouterr().out and not (tmp_path / "x.h5").exists()


def test_temperature_sweep_with_eta_and_plot_choice(tmp_path, capsys, job):
    """A bath-temperature sweep: with zero drive every point is the thermal state, so x_qp
    follows the thermal 2 K_1(Delta/kT)-type law (checked against observables.x_qp of the
    thermal n_qp within 1e-8); with a drive eta is stored per point; --observable picks the
    plotted quantity; a sphere job is refused before any work."""
    import h5py

    from boltzphlow_mpi import cli
    from boltzphlow_mpi.physics.analysis import observables as ob
    path = job("steady", file="job.toml", drive__0__power_W_per_um3=0.0)
    out = tmp_path / "t.h5"
    temps = [0.15, 0.2, 0.25]
    assert cli.main(["sweep", str(path), "--param", "bath.temperature_over_tc", "--values", *map(str, temps),
                     "-o", str(out)]) == 0
    with h5py.File(out, "r") as h5:
        x = h5["sweep/x_qp"][()]
        assert np.all(np.isnan(h5["sweep/eta"][()]))  # no absorbed power: no efficiency
    for t, xq in zip(temps, x):
        sim = point(0.0, bath__temperature_over_tc=t)
        n = float(dg.qp_number(sim.grid, sim.model.spectra, sim.model.f_bath[None])[0])
        assert xq == pytest.approx(ob.x_qp(n, float(sim.model.delta[0])), rel=1e-8)
    assert np.all(np.diff(x) > 0)
    path = job("steady", file="job.toml")
    pytest.importorskip("matplotlib")
    assert cli.main(["sweep", str(path), "--param", "drive.0.energy_over_delta0", "--values", "3", "5",
                     "-o", str(tmp_path / "e.h5"), "--plot", str(tmp_path / "eta.png"), "--observable", "eta"]) == 0
    with h5py.File(tmp_path / "e.h5", "r") as h5:
        eta = h5["sweep/eta"][()]
    assert eta[0] == pytest.approx(2 / 3, rel=0.02) and 0.3 < eta[1] < 0.6
    assert (tmp_path / "eta.png").stat().st_size > 1000
    capsys.readouterr()
    sphere = job("steady", file="sphere.toml", geometry__kind="sphere", geometry__radius_um=5.0, geometry__cells=4)
    assert cli.main(["sweep", str(sphere), "--param", "drive.0.power_W_per_um3", "--values", "1e-12",
                     "-o", str(tmp_path / "s.h5")]) == 2
    assert "geometry.kind" in capsys.readouterr().out and not (tmp_path / "s.h5").exists()
