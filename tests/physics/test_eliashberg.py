"""Real-axis Eliashberg self-energies, the variable-gap kinetic equation and the QP remap
(docs/physics.md, "Eliashberg self-energies"; notes sections 2.3 and 3.1). Tolerances are stated
per check."""
import numpy as np
import pytest

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.errors import InputError, SolverError
from boltzphlow_mpi.parallel.comm import Parallel
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.gap.alpha2f import SHIPPED, Alpha2F, read_alpha2f_table
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO, equilibrium_gap
from boltzphlow_mpi.physics.gap.eliashberg import EliashbergSolver, minimum_cutoff
from boltzphlow_mpi.physics.gap.hilbert import Hilbert
from boltzphlow_mpi.physics.gap.critical_temperature import real_axis_tc
from boltzphlow_mpi.physics.gap.matsubara import matsubara_tc
from boltzphlow_mpi.physics.gap.models import EliashbergGap
from boltzphlow_mpi.physics.gap.remap import remap_occupation
from boltzphlow_mpi.physics.statistics import bose, fermi

from helpers import weak_coupling_al
from reference_data import BCS_GAP_TABLE

D0 = BCS_RATIO  # Delta_0 / k T_c


# -- Kramers-Kronig ------------------------------------------------------------------------
@pytest.mark.parametrize("parity", ["even", "odd"])
def test_fft_hilbert_transform_matches_lorentzian(parity):
    """H[u](x) = (1/pi) P int u(y)/(y-x) dy of a Lorentzian (gamma = 1) and of its odd
    partner, against the closed forms, within 1e-6 (h = gamma/50, away from the grid top)."""
    h, top = 0.02, 1000.0
    m = int(top / h)
    x = h * np.arange(-(m - 1), m)
    lor = 1.0 / (x ** 2 + 1.0)
    if parity == "even":
        u, exact, tail = lor, -x * lor, False
    else:
        u, exact, tail = x * lor, lor, True
    err = np.abs(Hilbert(m)(u, odd_tail=tail) - exact)[np.abs(x) <= top / 2]
    assert err.max() < 1e-6


# -- weak coupling: the BCS limit ------------------------------------------------------------
@pytest.fixture(scope="module")
def weak():
    """Al: Debye alpha^2F (Omega_D = 423 K = 355 k T_c, lambda = Z_1 - 1 = 0.43), mu* fitted to
    the T = 0 gap edge Delta_0; bath at 0.1 T_c."""
    return weak_coupling_al()


def test_weak_coupling_limit_is_bcs(weak):
    grid, a2f, s, mu, sol0, sol, _f, _n = weak
    assert abs(sol0.edge[0] - D0) < 1e-6 * D0  # the mu* fit
    assert 0.05 < mu < 0.2                     # Al's mu* is about 0.1
    # Re Z(0) = 1 + lambda within 1 % (measured 1.4297 vs 1.43)
    assert abs(sol.Z[0, 0].real - (1 + a2f.lam)) < 0.01 * (1 + a2f.lam)
    # Delta(E) flat near the gap edge: within 0.2 % up to 2 Delta_0 (measured 1.6e-3 at 1.9 Delta_0)
    edge = sol.edge[0]
    near = (s.eps >= edge) & (s.eps <= 2 * edge)
    assert np.max(np.abs(sol.delta[0, near].real - edge)) < 2e-3 * edge
    assert np.max(np.abs(sol.delta[0, near].imag)) < 1e-3 * edge
    # DOS and coherence factors (varphi/rho = Delta/E) equal to BCS of the same edge within
    # 1e-3 below 5 Delta_0 (above, Delta(E) grows as (E/Omega_D)^2: 2.4e-3 at 20 Delta_0)
    rho, varphi, ell = s.kinetic_factors(sol)
    bcs = cell_spectra(grid, [edge])
    assert np.max(np.abs(rho - bcs.rho)) < 1e-3
    act = bcs.active & (rho > 0) & (grid.x[None, :] < 5 * D0)
    assert np.max(np.abs((varphi / np.where(act, rho, 1) - bcs.ratio)[act])) < 1e-3
    # the left-hand-side factor ell = L / (1 + lambda) is 1 near the gap within 1e-3
    low = act & (grid.x[None, :] < 5 * D0)
    assert np.max(np.abs(ell[low] - 1)) < 1e-3


def test_thermal_state_is_a_fixed_point_and_warm_start_is_cheap(weak):
    _grid, _a2f, s, _mu, _sol0, sol, f, n = weak
    again = s.solve(f, n, guess=sol)
    assert again.iterations[0] == 1
    assert np.max(np.abs(again.delta - sol.delta)) < 1e-9 * D0


def test_non_convergence_is_an_error():
    grid = EnergyGrid.from_max(D0 / 8, 10 * D0, 100.0)
    s = EliashbergSolver(grid, Alpha2F.debye(grid.step, 100.0, 0.5), delta_ref=D0, max_iter=2, tol=1e-14)
    with pytest.raises(SolverError, match="did not converge in 2 iterations"):
        s.solve(fermi(grid.x, 0.1)[None], np.zeros((1, grid.size)))


# -- strong coupling ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def strong():
    """Einstein spectrum, lambda = 1.5, mu* = 0 (units of Omega_E), T = 0."""
    h = 0.0025
    grid = EnergyGrid.from_max(h, 3.0, 1e9)
    a2f = Alpha2F.einstein(h, 1.0, 0.02, 1.5)
    s = EliashbergSolver(grid, a2f, delta_ref=0.2, cutoff=10.0)
    sol = s.solve(fermi(grid.x, 0.0)[None], np.zeros((1, grid.size)))
    return grid, a2f, s, sol


def test_strong_coupling_gap_ratio_against_published_correlations(strong):
    """Real-axis gap edge at T = 0 and T_c from the linearised Matsubara equations (an
    independent solver) against two published fits to full Eliashberg solutions:

    * Allen & Dynes, PRB 12, 905 (1975), eq. (34) with f_2 = 1 for an Einstein spectrum:
      T_c = (omega_ln / 1.2) f_1 exp[-1.04 (1 + lambda) / (lambda - mu* (1 + 0.62 lambda))];
    * Carbotte, RMP 62, 1027 (1990): 2 Delta_0 / k T_c = 3.53 [1 + 12.5 (T_c/omega_ln)^2 ln(omega_ln / 2 T_c)].

    Measured (h = 0.0025 Omega_E, half width 0.02 Omega_E): T_c = 0.1686 Omega_E vs 0.1671 (0.9 %);
    2 Delta_0 / T_c = 4.78 vs 4.90 (2.4 %); on the coarser h = 0.005, width 0.03: 4.735 (3.4 %).
    Tolerances: 3 % and 4 % (the scatter of the fits)."""
    _grid, a2f, _s, sol = strong
    lam, mu = a2f.lam, 0.0
    tc = matsubara_tc(a2f, mu)
    f1 = (1 + (lam / (2.46 * (1 + 3.8 * mu))) ** 1.5) ** (1 / 3)
    allen_dynes = a2f.omega_log / 1.2 * f1 * np.exp(-1.04 * (1 + lam) / (lam - mu * (1 + 0.62 * lam)))
    assert abs(tc / allen_dynes - 1) < 0.03
    r = tc / a2f.omega_log
    carbotte = 3.53 * (1 + 12.5 * r ** 2 * np.log(1 / (2 * r)))
    ratio = 2 * sol.edge[0] / tc
    assert abs(ratio / carbotte - 1) < 0.04
    assert ratio > 4.0  # strong coupling: far above the BCS 3.53


def test_strong_coupling_dos_shape(strong):
    """At T = 0 the imaginary parts vanish below Delta_0 + (lowest phonon energy) and Re Delta
    peaks at the phonon structure Delta_0 + Omega_E (Scalapino, Schrieffer and Wilkins 1966);
    Re Z(0) is below 1 + lambda in the superconducting state."""
    _grid, a2f, s, sol = strong
    edge, w_min = sol.edge[0], a2f.omega[np.nonzero(a2f.values)[0][0]]
    below = s.eps < edge + w_min - 2 * s.h   # the iteration's hat averages reach one step below a node
    assert np.max(np.abs(sol.Z[0, below].imag)) < 1e-12
    assert np.max(np.abs(sol.phi[0, below].imag)) < 1e-12
    window = s.eps < 2.5
    peak = s.eps[np.argmax(sol.delta[0].real * window)]
    assert abs(peak - (edge + 1.0)) < 2 * 0.02  # within two Lorentzian widths
    assert sol.rho[0, s.eps < edge - s.h].max() < 1e-11   # a hard gap at T = 0 (round-off of Im Delta)
    # the sharp phonon structure makes L(eps) of eq. (178) negative above Delta_0 + Omega_E
    # (eps Z_1 falls with eps): the kinetic factor is floored there, and only there
    raw = s.lhs_factor(sol)[0]
    n_low, lo, hi = s.floored(sol)
    assert np.min(raw) < 0 and lo >= edge + w_min - 2 * s.h
    _rho, _varphi, ell = s.kinetic_factors(sol)
    assert np.all(ell[0] >= s.lhs_floor) and n_low == np.sum(raw < s.lhs_floor)
    assert np.array_equal(ell[0][raw >= s.lhs_floor], raw[raw >= s.lhs_floor])
    assert 1.0 < sol.Z[0, 0].real < 1 + a2f.lam


# -- alpha^2F input --------------------------------------------------------------------------
def test_alpha2f_models_and_table(tmp_path):
    h = 0.01
    assert Alpha2F.debye(h, 10.0, 0.7).lam == pytest.approx(0.7, rel=1e-12)
    ein = Alpha2F.einstein(h, 2.0, 0.1, 1.2)
    assert ein.lam == pytest.approx(1.2, rel=1e-12) and ein.omega_log == pytest.approx(2.0, rel=3e-2)
    e = np.linspace(0, 10, 101)
    path = tmp_path / "a2f.dat"
    np.savetxt(path, np.c_[e, 0.01 * e ** 2 * (e <= 8)], header="meV alpha2F")
    ee, vv = read_alpha2f_table(str(path))
    tab = Alpha2F.tabulated(h, ee, vv, "t")
    assert tab.lam == pytest.approx(0.01 * 8 ** 2, rel=2e-2)  # b Omega_D^2
    bad = tmp_path / "bad.dat"
    bad.write_text("1 2\n0.5 3\n")
    with pytest.raises(InputError, match="increasing energies"):
        read_alpha2f_table(str(bad))
    with pytest.raises(InputError, match="gap.alpha2f"):
        read_alpha2f_table(str(tmp_path / "missing.dat"))


# -- remapping ---------------------------------------------------------------------------------
def test_remap_conserves_qp_number_and_bounds():
    grid = EnergyGrid.from_max(D0 / 16, 20 * D0, 355.0)
    old = cell_spectra(grid, [D0, 0.9 * D0, D0])
    new = cell_spectra(grid, [0.93 * D0, D0, D0])
    rng = np.random.default_rng(1)
    f = rng.random((3, 2, grid.size)) * np.exp(-grid.x / (3 * D0))
    g = remap_occupation(f, old.rho, new.rho, grid.step)
    n_old = np.sum(old.rho[:, None] * f, axis=-1)
    n_new = np.sum(new.rho[:, None] * g, axis=-1)
    assert np.max(np.abs(n_new - n_old) / n_old) < 1e-13
    assert g.min() >= 0 and g.max() <= f.max()
    assert np.array_equal(g[2], f[2])  # unchanged gap: unchanged f


# -- the kinetic equation with the Eliashberg model ---------------------------------------------
def _point(**over):
    base = {"material": {"name": "Al"}, "bath": {"temperature_over_tc": 0.1},
            "grid": {"energy_step_over_delta0": 1 / 8, "energy_max_over_delta0": 12.0},
            "initial": {"species": "qp", "energy_center_over_delta0": 3.0, "energy_width_over_delta0": 0.3,
                        "deposit_eV_per_um3": 2e-4},
            "phonon_escape": {"tau_ns": 1.0, "only_subgap": True},
            "time": {"t_end_ns": 40.0, "method": "exp", "rtol": 1e-4, "output_interval_ns": 20.0},
            "gap": {"mode": "self-consistent"}}
    for k, v in over.items():
        sec, key = k.split("__")
        base.setdefault(sec, {})[key] = v
    return Simulation(config.from_dict(base), Parallel())


@pytest.fixture(scope="module")
def kinetic_pair():
    # the same discretization for both: the Eliashberg spectra keep the step as given and the
    # products of cell averages (the gap-edge measures of issue 16 are for closed-form BCS)
    bcs = _point(grid__align_gap=False, collisions__edge_pair_weights=False)
    eli = _point(gap__model="eliashberg", gap__cutoff_over_omega_max=1.5)
    out = {}
    for name, sim in (("bcs", bcs), ("eli", eli)):
        rec = [sim.record()]
        sim.advance_to(sim.t_end / 2); rec.append(sim.record())
        sim.advance_to(sim.t_end); rec.append(sim.record())
        out[name] = (sim, rec)
    return out


def test_eliashberg_kinetics_follow_bcs_in_weak_coupling(kinetic_pair):
    """0-D Al cascade with a self-consistent gap: the Eliashberg model follows BCS within 1e-3
    in the QP number, and both ledgers close (energy exchanged with the condensate booked)."""
    (_bcs, rb), (_eli, re) = kinetic_pair["bcs"], kinetic_pair["eli"]
    for a, b in zip(rb, re):
        assert abs(b["qp_number"] / a["qp_number"] - 1) < 1e-3
        assert abs(b["energy_ledger_error"]) < 1e-9
        assert abs(a["energy_ledger_error"]) < 1e-9
    assert re[-1]["qp_number_excess"] > 0


def test_thermal_state_stays_with_self_consistent_eliashberg_gap():
    sim = _point(gap__model="eliashberg", gap__cutoff_over_omega_max=1.5, initial__deposit_eV_per_um3=0.0,
                 time__t_end_ns=5.0, time__output_interval_ns=5.0, time__dt_initial_ns=5e-6)
    f0, n0, _ = sim.model.unpack(sim.y.copy())
    sim.advance_to(sim.t_end)
    f, n, _ = sim.model.unpack(sim.y)
    rho = sim.model.spectra.rho
    # occupied states (rho f), f above the gap edge and the phonons: unchanged to 1e-9.
    # (Sub-gap cells carry thermal Eliashberg states with rho ~ 1e-9 whose f moves within
    # them at the solver tolerance; their weight rho f stays below round-off of the total.)
    assert sim.steps > 10
    assert np.max(np.abs(rho * (f - f0))) < 1e-9 * np.max(rho * f0)
    above = sim.grid.x > sim.model.delta[0] + sim.grid.step
    assert np.max(np.abs(f - f0)[:, above]) < 1e-9
    assert np.max(np.abs(n - n0)) < 1e-9 * np.max(n0)


def test_config_rejects_eliashberg_keys_for_bcs():
    with pytest.raises(InputError, match="gap.lambda"):
        config.from_dict({"bath": {"temperature_over_tc": 0.1}, "time": {"t_end_ns": 1.0},
                          "gap": {"lambda": 0.5}})


# -- sphere: restart with the Eliashberg self-energies, and trapping by a self-consistent gap ----
def test_eliashberg_sphere_restart_is_bitwise(tmp_path, job, run):
    """The sphere with the Eliashberg gap (8 cells, QPs at 3 Delta_0, 0.3 ns, a checkpoint
    every 0.1 ns): the restart from a checkpoint continues bitwise."""
    import shutil

    import h5py

    from boltzphlow_mpi import cli
    out = run(job("sphere_eliashberg", file="job.toml", geometry__cells=8, initial__energy_width_over_delta0=0.5,
                  time__t_end_ns=0.3, output__checkpoint_interval_ns=0.1, output__checkpoint_keep=5,
                  output__checkpoint_dir=tmp_path / "ck"), "run.h5")

    def read(path):
        with h5py.File(path, "r") as h5:
            return {k: h5[k][()] for k in ("qp/f", "phonon/n", "gap/delta", "diagnostics/energy_ledger_error")}

    ref = read(out)
    assert np.max(np.abs(ref["diagnostics/energy_ledger_error"])) < 1e-9
    assert ref["gap/delta"].min() < ref["gap/delta"].max()  # the hot core's gap edge moved
    with h5py.File(tmp_path / "ck" / "ckpt_000002.h5", "r") as h5:
        assert h5["state/gap_model/Z"].shape[0] == 8 and h5.attrs["gap_model"] == "eliashberg"
    shutil.copy(out, tmp_path / "copy.h5")
    assert cli.main(["restart", str(tmp_path / "ck" / "ckpt_000002.h5"), "-q"]) == 0
    again = read(out)
    for k in ref:
        assert np.array_equal(ref[k], again[k]), k


# -- strong coupling: robustness of the solve and the model's T_c ------------------------------
def _allen_dynes(a2f, mu):
    """Allen & Dynes, PRB 12, 905 (1975), eq. (34) with f_2 = 1."""
    lam = a2f.lam
    f1 = (1 + (lam / (2.46 * (1 + 3.8 * mu))) ** 1.5) ** (1 / 3)
    return a2f.omega_log / 1.2 * f1 * np.exp(-1.04 * (1 + lam) / (lam - mu * (1 + 0.62 * lam)))


@pytest.mark.parametrize("lam", [0.5, 1.0, 1.5, 2.0])
def test_model_tc_against_allen_dynes_for_einstein_spectra(lam):
    """The model's own T_c (the linearised real-axis gap equation) and the Matsubara T_c against
    Allen-Dynes within 5 % (mu* = 0, where the cutoff conventions of mu* do not enter).
    Measured (h = 0.005 Omega_E, half width 0.03 Omega_E), Matsubara: +4.0, +2.0, +1.0, +0.9 %;
    real axis with L = 12 Omega_max: +4.1, +2.2, +0.9, +0.7 %. (With mu* = 0 nothing absorbs a
    low cutoff: at lambda = 0.5 and L = 3 Omega_max the real-axis T_c is 26 % low; docs/numerics.md,
    "Self-energy cutoff".)"""
    h = 0.005
    a2f = Alpha2F.einstein(h, 1.0, 0.03, lam)
    ad = _allen_dynes(a2f, 0.0)
    assert abs(matsubara_tc(a2f, 0.0, lo=0.02, hi=1.0) / ad - 1) < 0.05
    s = EliashbergSolver(EnergyGrid.from_max(h, 2.0, 1e9), a2f, cutoff=12 * a2f.omega_max, delta_ref=0.2)
    assert abs(real_axis_tc(s, guess=0.1) / ad - 1) < 0.05


@pytest.mark.parametrize("model,lam", [("debye", 1.0), ("debye", 2.5), ("einstein", 1.55), ("einstein", 2.0)])
def test_strong_coupling_bath_solve_converges_from_the_bcs_start(model, lam):
    """Pb-like spectra (k_B T_c units of Pb, Omega_D = 8.3 meV or Omega_E = 4.83 meV with half width
    0.45 meV), mu* = 0.1, h = Delta_0/32, the cutoff of ``minimum_cutoff``: the cold solve converges
    to a superconducting state at 0.05 and 0.9 of the model's own T_c (before: collapse to
    phi = 0 or no convergence in 400 iterations for lambda >= 0.75). Near T_c the edge follows
    the BCS-like 1.74 (1 - t)^(1/2) law within 15 % (measured 2-10 %)."""
    kTc = 7.19 * 0.0861733
    d0 = 1.38 / kTc
    grid = EnergyGrid.from_max(d0 / 32, 12 * d0, 8.8 / kTc)
    a2f = (Alpha2F.debye(grid.step, 8.3 / kTc, lam) if model == "debye"
           else Alpha2F.einstein(grid.step, 4.83 / kTc, 0.45 / kTc, lam))
    cutoff = max(3.0, minimum_cutoff(lam)) * a2f.omega_max
    tc = matsubara_tc(a2f, 0.1, lo=0.02, hi=a2f.omega_max, omega_c=cutoff)
    edges = []
    for t in (0.05, 0.9):
        s = EliashbergSolver(grid, a2f, mu_star=0.1, cutoff=cutoff, bath_temperature=t * tc, delta_ref=d0)
        sol = s.solve(fermi(grid.x, t * tc)[None], (bose(grid.x, t * tc) * grid.phonon_mask)[None])
        edges.append(sol.edge[0])
        assert sol.residual[0] < 10 * s.tol
    assert edges[0] > 0.5 * tc
    assert abs(edges[1] / (edges[0] * 1.74 * np.sqrt(0.1)) - 1) < 0.15


# -- the model's own T_c and the gap near it ----------------------------------------------------
def _pb_like(lam, n=32, mu=0.1, model="einstein", temperature=0.1):
    kTc = 7.19 * 0.0861733
    d0 = 1.38 / kTc
    grid = EnergyGrid.from_max(d0 / n, 12 * d0, 8.8 / kTc)
    a2f = (Alpha2F.debye(grid.step, 8.3 / kTc, lam) if model == "debye"
           else Alpha2F.einstein(grid.step, 4.83 / kTc, 0.45 / kTc, lam))
    cutoff = max(3.0, minimum_cutoff(lam)) * a2f.omega_max
    return grid, a2f, EliashbergSolver(grid, a2f, mu_star=mu, cutoff=cutoff, bath_temperature=temperature,
                                       delta_ref=d0)


@pytest.mark.parametrize("lam,mu", [(1.0, 0.0), (1.55, 0.1)])
def test_real_axis_tc_agrees_with_matsubara_when_the_cutoff_is_far_above_the_phonons(lam, mu):
    """The linearised real-axis gap equation and the Matsubara one (the same alpha^2F, mu* and
    cutoff omega_c = L = 11.5 Omega_max) are two discretisations of one T_c when L lies above
    the phonon structure. Measured: -0.35 % and +0.10 %."""
    _grid, a2f, s = _pb_like(lam, mu=mu)
    tr = real_axis_tc(s)
    tm = matsubara_tc(a2f, mu, lo=0.02, hi=a2f.omega_max, omega_c=s.eps[-1])
    assert abs(tr / tm - 1) < 0.01


def test_real_axis_tc_of_a_weak_coupler_gives_the_bcs_ratio(weak):
    """Al (lambda = 0.43, mu* fitted to Delta_0 = 1.764 k_B T_c): the model's own T_c gives
    2 Delta_0 / k_B T_c = 3.528 of weak-coupling BCS within 0.5 % (measured 3.517 at
    h = Delta_0/16; 3.526 at /32)."""
    _grid, _a2f, s, _mu, sol0, *_ = weak
    ratio = 2 * sol0.edge[0] / real_axis_tc(s)
    assert abs(ratio / 3.528 - 1) < 0.005


def test_bath_at_or_above_the_models_tc_is_a_clear_error():
    """A bath above the model's T_c is an error naming the model's T_c (Pb-like Debye,
    lambda = 1.55, 1.05 T_c: edge 0); a bath gap edge of fewer than 4 steps (a spurious O(h) gap of
    about one step survives above T_c) names the step needed (lambda = 0.5, 0.5 T_c at
    h = Delta_0/16 of Pb: the model's gap is below one step)."""
    for lam, t, match in [(1.55, 1.05, "normal or gapless .* its own T_c is"),
                          (0.5, 0.5, "grid.energy_step_over_delta0 = 0.0625 must be at most")]:
        grid, _a2f, s = _pb_like(lam, n=16, model="debye")
        T = t * EliashbergGap(s).critical_temperature
        with s.bath_at(T), pytest.raises(SolverError, match=match):
            EliashbergGap(s).bath(T, fermi(grid.x, T), bose(grid.x, T) * grid.phonon_mask, True)
    grid, _a2f, s = _pb_like(1.55, n=16, model="debye")
    T = 0.9 * EliashbergGap(s).critical_temperature
    with s.bath_at(T):
        spectra = EliashbergGap(s).bath(T, fermi(grid.x, T), bose(grid.x, T) * grid.phonon_mask, True)
    assert spectra.delta[0] > 4 * s.h


# -- validation of item 3: Z(0), the gap ratio, Delta(T) --------------------------------------
@pytest.mark.parametrize("model", ["einstein", "debye", "pb", "nb"])
def test_normal_state_renormalisation_at_zero_energy_is_one_plus_lambda(model):
    """Re Z(0) = 1 + lambda in the normal state at T = 0 (the mass enhancement; Grimvall, The
    Electron-Phonon Interaction in Metals, 1981): one evaluation of the map with phi = 0 on
    Pb-like Einstein and Debye spectra and on the shipped tables, to 0.5 %."""
    if model in ("einstein", "debye"):
        grid, a2f, s = _pb_like(1.55, model=model, mu=0.0, temperature=0.0)
    else:
        kTc = (7.19 if model == "pb" else 9.2) * 0.0861733
        e, v = read_alpha2f_table(SHIPPED[model].path)
        grid = EnergyGrid.from_max(0.07, 30.0, 50.0)
        a2f = Alpha2F.tabulated(grid.step, e / kTc, v, model)
        s = EliashbergSolver(grid, a2f, cutoff=12 * a2f.omega_max, delta_ref=2.0)
    f, n = fermi(grid.x, 0.0)[None], np.zeros((1, grid.size))
    with s.zero_temperature_bath():
        fe, ne = s.extend(f, n)
        Z, _phi = s.iterate(np.ones((1, s.M), complex), np.zeros((1, s.M), complex), fe, ne)
    assert abs(Z[0, 0].real / (1 + a2f.lam) - 1) < 5e-3


@pytest.mark.parametrize("lam", [0.8, 1.0, 1.25, 1.5])
def test_gap_ratio_of_einstein_spectra_against_the_strong_coupling_formula(lam):
    """2 Delta_0 / k_B T_c (the T = 0 edge over the model's own T_c) against Carbotte's fit,
    RMP 62, 1027 (1990), 3.53 [1 + 12.5 (T_c/omega_ln)^2 ln(omega_ln / 2 T_c)], within 3 % for
    T_c / omega_ln <= 0.15: Einstein spectra (half width 0.03 Omega_E, h = 0.005 Omega_E), mu* = 0.1.
    Measured: -2.55, -1.62, -1.53, -0.96 % (T_c/omega_ln = 0.049, 0.078, 0.108, 0.133). With mu* = 0
    the ratios fall 2-6 % below the fit (docs/validation.md)."""
    h = 0.005
    grid = EnergyGrid.from_max(h, 2.0, 1e9)
    a2f = Alpha2F.einstein(h, 1.0, 0.03, lam)
    s = EliashbergSolver(grid, a2f, mu_star=0.1, cutoff=max(3.0, minimum_cutoff(lam)) * a2f.omega_max,
                         delta_ref=0.2)
    with s.zero_temperature_bath():
        edge = s.solve(fermi(grid.x, 0.0)[None], np.zeros((1, grid.size))).edge[0]
    r = real_axis_tc(s, guess=0.1) / a2f.omega_log
    assert r <= 0.15
    carbotte = 3.53 * (1 + 12.5 * r ** 2 * np.log(1 / (2 * r)))
    assert abs(2 * edge / (r * a2f.omega_log) / carbotte - 1) < 0.03


def test_weak_coupling_gap_follows_the_bcs_curve_up_to_099_tc():
    """Delta(T)/Delta_0 of Al (Debye, lambda = 0.43, mu* fitted to Delta_0 = 1.764, h = Delta_0/32)
    against the BCS curve (Muhlschlegel's table to 0.98, bcs.equilibrium_gap at 0.99), T in
    units of the model's own T_c. Measured: 0.00, +0.01, +0.01, -0.07, -0.30, -0.69, -1.50 % at
    t = 0.3, 0.5, 0.7, 0.9, 0.96, 0.98, 0.99 (the edge at 0.99 is 5.5 steps; at h = Delta_0/16
    it would be 2.6 steps, which a run refuses: test_bath_at_or_above_the_models_tc_is_a_clear_error).
    Near T_c the comparison inherits the scatter of the model's T_c (about 5e-4 between nearby
    grids), amplified by 1 / (2 (1 - t)): at 0.9, 0.96, 0.98, 0.99 the grids Delta_0/32 (with
    Delta_0 = 1.764 and BCS_RATIO), /40 and /48 give -0.29..+0.02, -0.94..-0.06, -2.06..-0.20 and
    -4.32..-0.82 %. Tolerances: 0.1 % to t = 0.5, 0.2 % at 0.7, then 0.5, 1.5, 3 and 6 %."""
    d0 = BCS_RATIO
    grid = EnergyGrid.from_max(d0 / 32, 12 * d0, 355.0)
    s = EliashbergSolver(grid, Alpha2F.debye(grid.step, 355.0, 0.43), delta_ref=d0, bath_temperature=0.1,
                         cutoff=1.5 * 355.0)
    gap = EliashbergGap(s, fit_target=d0)
    tc = None
    table = dict(BCS_GAP_TABLE)
    for t, tol in [(0.3, 1e-3), (0.5, 1e-3), (0.7, 2e-3), (0.9, 5e-3), (0.96, 1.5e-2), (0.98, 3e-2), (0.99, 6e-2)]:
        if tc is None:
            gap.bath(0.1, fermi(grid.x, 0.1), bose(grid.x, 0.1) * grid.phonon_mask, True)  # the mu* fit
            tc = gap.critical_temperature
        T = t * tc
        with s.bath_at(T):
            spectra = EliashbergGap(s).bath(T, fermi(grid.x, T), bose(grid.x, T) * grid.phonon_mask, True)
        ref = table.get(t, float(equilibrium_gap(t, d0)) / d0)
        assert abs(spectra.delta[0] / gap.zero_temperature_edge / ref - 1) < tol, t


@pytest.mark.parametrize("material,lo,hi", [("Pb", 4.35, 4.55), ("Nb", 3.75, 3.95)])
def test_shipped_tables_give_the_measured_gap_ratio(material, lo, hi):
    """A 0-D Pb or Nb job with the defaults (the shipped alpha^2F; Pb: lambda 1.55, mu* fitted to
    the measured Delta_0 = 1.38 meV; Nb: mu* fitted to the measured T_c) against the measured
    2 Delta_0 / k_B T_c: Pb 4.49 (Carbotte, RMP 62, 1027 (1990), Table IV), Nb 3.8-3.9 (ibid.).
    Measured: Pb 4.393 (the first-principles shape has omega_ln = 5.39 meV against 4.8-4.9 meV
    of the tunnelling inversion, and Carbotte's fit gives 4.387 for it), Nb 3.845."""
    sim = _point(material__name=material, gap__model="eliashberg", initial__deposit_eV_per_um3=0.0,
                 grid__energy_step_over_delta0=1 / 16, grid__energy_max_over_delta0=8.0)
    gm = sim.gap_model
    ratio = 2 * gm.zero_temperature_edge / gm.critical_temperature
    assert lo < ratio < hi
    assert abs(gm.bath_solution.Z[0, 0].real - (1 + gm.solver.lam)) < 0.1 * gm.solver.lam  # superconducting: below 1 + lambda
