"""Continuous drives (issue 6, first part): photon pair breaking, sub-gap microwave
absorption, monochromatic phonons; their power in the energy ledger."""
import numpy as np
import pytest

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.parallel.comm import Parallel
from boltzphlow_mpi.physics.analysis import diagnostics as dg


def point(drives, **over):
    base = {"material": {"name": "Al"}, "bath": {"temperature_over_tc": 0.1},
            "grid": {"energy_step_over_delta0": 0.125, "energy_max_over_delta0": 12.0},
            "phonon_escape": {"tau_ns": 1.0, "only_subgap": True},
            "time": {"t_end_ns": 20.0, "method": "exp", "rtol": 1e-5},
            "drive": drives}
    for k, v in over.items():
        sec, key = k.split("__")
        base.setdefault(sec, {})[key] = v
    return Simulation(config.from_dict(base), Parallel())


def excess(sim):
    f, n, _ = sim.model.unpack(sim.y)
    spec = sim.model.spectra
    return (float(dg.qp_number(sim.grid, spec, f)[0] - dg.qp_number(sim.grid, spec, sim.model.f_bath[None])[0]),
            float(dg.qp_energy(sim.grid, spec, f)[0] - dg.qp_energy(sim.grid, spec, sim.model.f_bath[None])[0]),
            float(dg.phonon_energy(sim.grid, sim.weight, n)[0]
                  - dg.phonon_energy(sim.grid, sim.weight, sim.model.n_bath[None])[0]))


P = 1e-12  # W/um^3


def test_photon_drive_injects_two_qps_per_photon():
    """Collisions off: each absorbed photon of h nu makes two QPs with E + E' = h nu, so the
    QP number grows as 2 P t / h nu and the QP energy as P t (to round-off). On the grid
    aligned to the gap, 3 Delta_0 lies between two nodes: the drive is shared between them
    so that the mean photon is still h nu = 3 Delta_0 (``drives.split_energy``)."""
    sim = point([{"kind": "photon", "energy_over_delta0": 3.0, "power_W_per_um3": P}],
                collisions__enabled=False, time__t_end_ns=5.0)
    sim.advance_to(sim.t_end)
    assert len(sim.model.drives) == 2 and 3.0 * sim.delta0 / sim.grid.step % 1 > 0.01
    hnu = 3.0 * sim.delta0
    p_int = sum(d.power[0] for d in sim.model.drives)
    dn, de, dph = excess(sim)
    assert de == pytest.approx(p_int * sim.t, rel=1e-10)
    assert dn == pytest.approx(2 * p_int * sim.t / hnu, rel=1e-10)
    assert dph == pytest.approx(0.0, abs=1e-12 * de)
    rec = sim.record()
    assert rec["energy_absorbed"] == pytest.approx(P * 5e-9 / 1.602176634e-19, rel=1e-12)  # eV/um^3
    assert abs(rec["energy_ledger_error"]) < 1e-12


@pytest.mark.parametrize("h, tolerance", [(0.125, 1.5e-3), (0.03125, 2e-4)])
@pytest.mark.parametrize("hnu", [3.0, 5.0, 10.0])
def test_photon_pair_creation_weight_is_mattis_bardeen(hnu, h, tolerance):
    """A photon couples to the current, so it creates pairs with the case-II coherence factor
    ``1 - Delta^2/(E E')``: the grid's ``h sum_k w_-(E_k, h nu - E_k)`` equals
    ``h nu sigma_1/sigma_n`` of Mattis and Bardeen at ``T = 0``, ``(1 + 2 Delta/h nu) E(k) -
    (4 Delta/h nu) K(k)``, ``k = (h nu - 2 Delta)/(h nu + 2 Delta)`` (Mattis and Bardeen
    1958; Zmuidzinas, Annu. Rev. CMP 3, 169 (2012)). Measured 1e-3 (3 Delta_0) at h =
    Delta_0/8 and 1.2e-4 at Delta_0/32; the phonon's weight ``1 + Delta^2/(E E')`` would be
    1.13 to 2.8 times it."""
    from scipy.special import ellipe, ellipk

    from boltzphlow_mpi.physics.drives import photon_pair_weight
    sim = point([{"kind": "photon", "energy_over_delta0": hnu, "power_W_per_um3": P}],
                grid__energy_step_over_delta0=h)
    spec, m = sim.model.spectra, sim.model.drives[0].m
    _, _, w = photon_pair_weight(spec.rho, spec.phi, m)
    d, e = float(sim.model.delta[0]), m * sim.grid.step
    k2 = ((e - 2 * d) / (e + 2 * d)) ** 2  # scipy takes the parameter m = k^2
    sigma1 = (1 + 2 * d / e) * ellipe(k2) - 4 * d / e * ellipk(k2)
    assert sim.grid.step * np.sum(w[0]) / (e * sigma1) == pytest.approx(1.0, rel=tolerance)


def test_microwave_drive_moves_qps_without_making_any():
    """Sub-gap photons (h nu = 0.5 Delta_0) are absorbed by the QPs present: their number is
    unchanged (collisions off) and their energy grows by P t."""
    sim = point([{"kind": "microwave", "frequency_GHz": 21.9, "power_W_per_um3": 1e-16}],
                collisions__enabled=False, time__t_end_ns=2.0, bath__temperature_over_tc=0.2)
    n0 = excess(sim)[0]
    sim.advance_to(sim.t_end)
    dn, de, _ = excess(sim)
    p_int = sum(d.power[0] for d in sim.model.drives)
    assert dn == pytest.approx(n0, abs=1e-12 * abs(dg.qp_number(sim.grid, sim.model.spectra, sim.model.f_bath[None])[0]))
    assert de == pytest.approx(p_int * sim.t, rel=1e-9)
    # round-off of the thermal totals (1e4 times the absorbed energy) relative to the absorbed energy
    assert abs(sim.record()["energy_ledger_error"]) < 1e-9


def test_phonon_drive_and_ledger_with_collisions():
    """Monochromatic phonons at 5 Delta_0 with collisions and escape: the ledger (inside +
    escaped - absorbed = initial) stays exact; the phonons break pairs."""
    sim = point([{"kind": "phonon", "energy_over_delta0": 5.0, "power_W_per_um3": P}])
    sim.advance_to(sim.t_end)
    rec = sim.record()
    assert abs(rec["energy_ledger_error"]) < 1e-12
    assert rec["qp_number_excess"] > 0 and rec["energy_escaped"] > 0
    assert rec["energy_absorbed"] == pytest.approx(P * 20e-9 / 1.602176634e-19, rel=1e-12)


def test_zero_power_leaves_the_thermal_state():
    sim = point([{"kind": "photon", "energy_over_delta0": 5.0, "power_W_per_um3": 0.0}], time__t_end_ns=5.0)
    y0 = sim.y.copy()
    sim.advance_to(sim.t_end)
    n = sim.model.nf + sim.model.nn
    assert np.max(np.abs(sim.y[:, :n] - y0[:, :n])) < 1e-14


@pytest.mark.parametrize("drive, key, text", [
    ({"kind": "photon", "energy_over_delta0": 1.5, "power_W_per_um3": P}, "drive.0.energy_over_delta0", "above 2 Delta"),
    ({"kind": "microwave", "energy_over_delta0": 3.0, "power_W_per_um3": P}, "drive.0.energy_over_delta0", "below 2 Delta"),
    ({"kind": "phonon", "energy_over_delta0": 40.0, "power_W_per_um3": P}, "drive.0.energy_over_delta0", "phonon band"),
])
def test_drive_energy_checks(drive, key, text):
    with pytest.raises(InputError, match=text) as err:
        point([drive])
    assert err.value.key == key


@pytest.mark.parametrize("drive, key", [
    ({"kind": "photon", "energy_over_delta0": 3.0, "frequency_GHz": 100.0, "power_W_per_um3": P}, "drive.0.energy_over_delta0"),
    ({"kind": "photon", "power_W_per_um3": P}, "drive.0.energy_over_delta0"),
    ({"kind": "laser", "energy_over_delta0": 3.0, "power_W_per_um3": P}, "drive.0.kind"),
    ({"kind": "photon", "energy_over_delta0": 3.0}, "drive.0.power_W_per_um3"),
    ({"kind": "photon", "energy_over_delta0": 3.0, "power_W_per_um3": -1.0}, "drive.0.power_W_per_um3"),
    ({"kind": "photon", "energy_over_delta0": 3.0, "powr_W_per_um3": P}, "drive.0.powr_W_per_um3"),
])
def test_drive_config_errors(drive, key):
    raw = {"bath": {"temperature_over_tc": 0.1}, "time": {"t_end_ns": 1.0}, "drive": [drive]}
    with pytest.raises(InputError) as err:
        config.from_dict(raw)
    assert err.value.key == key
    if "powr" in key:
        assert "did you mean 'power_W_per_um3'" in str(err.value)


@pytest.mark.parametrize("kind, m, kT", [("photon", 51, 0.3), ("microwave", 3, 0.04)])
def test_drive_derivatives_are_exact(kind, m, kT):
    """``Drive.derivatives`` (B U with B = P / S(f), docs/numerics.md) against Richardson-
    extrapolated central differences of the drive's terms: to 1e-8 of each row's largest
    entry (with respect to ln f for the microwave, as Newton uses them), for a microwave drive in a state as cold as a 50 mK bath (f ~ 1e-19 at the gap)
    and a photon drive in a warm one (cold, its terms differ from those at f = 0 below
    round-off). The absorbed power does not move (it is the drive's power)."""
    from boltzphlow_mpi.physics.drives import Drive
    from boltzphlow_mpi.physics.energy_grid import cell_spectra
    sim = point([])
    grid, N = sim.grid, sim.grid.size
    spectra = cell_spectra(grid, np.array([1.764]))
    rng = np.random.default_rng(3)
    f = np.exp(-grid.x / kT) * np.exp(0.3 * rng.standard_normal(N))
    drive = Drive(kind, m, np.array([1e-6]))

    def terms(ff):
        gf, kf, gn = np.zeros((len(ff), N)), np.zeros((len(ff), N)), np.zeros((len(ff), N))
        absorbed = drive.add(ff, spectra.tile(len(ff)), grid, gf, kf, gn, sim.model.phonon_weight)
        return gf, kf, absorbed

    def central(step):
        # steps relative to f for the microwave (its amplitude goes as 1/f); the photon's
        # terms are nearly affine in f, and steps below f's round-off would be lost
        steps = step * (f if kind == "microwave" else np.ones(N))
        cols = np.arange(N)
        ff = np.repeat(f[None], 2 * N, axis=0)
        ff[cols, cols] += steps
        ff[N + cols, cols] -= steps
        return [(p[:N] - p[N:]).T / (2 * steps) for p in terms(ff)]

    coarse, fine = central(2e-4), central(1e-4)
    ref = [(4 * b - a) / 3 for a, b in zip(coarse, fine, strict=True)]
    dgf, dkf, _ = drive.derivatives(f, spectra, grid)
    # the Newton unknowns are ln f: the columns times f (entries below round-off of their row
    # otherwise escape the differences)
    scaled = f if kind == "microwave" else np.ones(N)
    for exact, approx in ((dgf * scaled, ref[0] * scaled), (dkf * scaled, ref[1] * scaled)):
        scale = np.max(np.abs(approx), axis=1, keepdims=True)
        rows = scale[:, 0] > 0
        assert np.max(np.abs(exact - approx)[rows] / scale[rows]) < 1e-8
    assert np.allclose(terms(f[None])[2], 1e-6, rtol=1e-12, atol=0)
