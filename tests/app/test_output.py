"""The HDF5 output of a tiny run: layout, units, attributes, bounds and the energy books."""
import json
import tomllib

import h5py
import numpy as np
import pytest

from boltzphlow_mpi import __version__
from boltzphlow_mpi.app import config
from boltzphlow_mpi.fileio.output import DIAGNOSTICS_UNITS
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.material_table import get_material
from boltzphlow_mpi.physics.materials import Material
from boltzphlow_mpi.physics.statistics import bose, fermi
from boltzphlow_mpi.physics.units import Units

import jobs
from helpers import run_job

# The tiny job, and the same with QPs deposited at 4 Delta_0 and sub-gap phonons escaping (so
# /diagnostics/energy_escaped moves).
RUNS = {"phonon": jobs.text("tiny"),
        "qp": jobs.text("tiny", initial__species="qp", initial__energy_center_over_delta0=4.0,
                        phonon_escape__tau_ns=0.1, phonon_escape__only_subgap=True)}
N_RECORDS = 6  # t = 0, 1, ..., 5 ns


@pytest.fixture(scope="module", params=sorted(RUNS))
def run_file(request, tmp_path_factory):
    """Run the tiny job in-process through the CLI; return (path, TOML text)."""
    d = tmp_path_factory.mktemp(f"out_{request.param}")
    cfg = d / "job.toml"
    cfg.write_text(RUNS[request.param])
    return run_job(cfg, d / "run.h5"), RUNS[request.param]


@pytest.fixture
def h5(run_file):
    with h5py.File(run_file[0], "r") as f:  # plain serial h5py: no mpio driver
        yield f


# -- layout and units ---------------------------------------------------------------------
def test_opens_with_plain_serial_h5py(run_file):
    with h5py.File(run_file[0], "r") as f:
        assert f.driver != "mpio"
        assert f["time"].shape == (N_RECORDS,)


def test_datasets_shapes_and_units(h5):
    n = h5["grid/energy"].shape[0]
    assert n == 58  # 12 Delta_0 / (Delta_0 / 4.75) + 1 (the step aligned to the gap, Delta_0/4.75)
    expected = {
        "time": ((N_RECORDS,), "ns"),
        "grid/energy": ((n,), "meV"),
        "qp/f": ((N_RECORDS, 1, n), "1"),
        "phonon/n": ((N_RECORDS, 1, n), "1"),
        "gap/delta": ((N_RECORDS, 1), "meV"),
        "diagnostics/qp_number": ((N_RECORDS,), "um^-3"),
        "diagnostics/qp_energy": ((N_RECORDS,), "eV/um^3"),
        "diagnostics/phonon_energy": ((N_RECORDS,), "eV/um^3"),
        "diagnostics/energy_escaped": ((N_RECORDS,), "eV/um^3"),
        "diagnostics/energy_ledger_error": ((N_RECORDS,), None),
        "diagnostics/gap_mean": ((N_RECORDS,), "meV"),
        "diagnostics/dt": ((N_RECORDS,), "ns"),
    }
    for name, (shape, units) in expected.items():
        assert name in h5, name
        d = h5[name]
        assert d.shape == shape, name
        assert d.dtype == np.float64, name
        assert "units" in d.attrs, name
        if units is not None:
            assert d.attrs["units"] == units, (name, d.attrs["units"])
    assert h5["diagnostics/energy_ledger_error"].attrs["units"].startswith("1")


def test_every_dataset_has_units(h5):
    names = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            names.append(name)
            assert isinstance(obj.attrs.get("units"), str) and obj.attrs["units"], name
    h5.visititems(visit)
    assert sorted(n for n in names if n.startswith("diagnostics/")) == \
        sorted("diagnostics/" + k for k in DIAGNOSTICS_UNITS)
    for name in names:
        if name.startswith("diagnostics/"):
            assert h5[name].attrs["units"] == DIAGNOSTICS_UNITS[name.split("/", 1)[1]]


def test_root_attributes(h5, run_file):
    _, toml_text = run_file
    attrs = h5.attrs
    assert attrs["version"] == __version__
    assert attrs["config"] == toml_text
    assert attrs["ranks"] == 1
    mat = json.loads(attrs["material"])
    assert mat["name"] == "Al" and attrs["material_name"] == "Al"
    assert Material.from_dict(mat) == get_material("Al")
    resolved = config.from_dict(tomllib.loads(toml_text)).as_dict()
    resolved["output"]["path"] = h5.filename  # the resolved config records where the output went
    assert json.loads(attrs["config_resolved"]) == resolved


# -- values ----------------------------------------------------------------------------------
def test_time_increases_to_t_end(h5):
    t = h5["time"][()]
    assert t[0] == 0.0
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(t, np.arange(N_RECORDS, dtype=float), rtol=1e-12, atol=0)
    assert t[-1] == pytest.approx(5.0, rel=1e-12)


def test_occupations_in_bounds(h5):
    f, n = h5["qp/f"][()], h5["phonon/n"][()]
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(n))
    assert f.min() >= 0.0 and f.max() <= 1.0
    assert n.min() >= 0.0
    assert np.all(n[:, :, 0] == 0.0)  # no Omega = 0 phonon mode
    assert np.any(f[-1] != f[0]) and np.any(n[-1] != n[0])  # something happened


def test_gap_is_fixed_bath_gap(h5):
    delta = h5["gap/delta"][()]
    assert np.all(delta == delta[0, 0])
    assert delta[0, 0] == pytest.approx(0.1809, rel=1e-3)  # Delta(0.1 T_c) = Delta_0 of Al
    np.testing.assert_array_equal(h5["diagnostics/gap_mean"][()], delta[:, 0])


def test_energy_ledger_is_small(h5):
    err = h5["diagnostics/energy_ledger_error"][()]
    assert abs(err[0]) < 1e-14
    assert np.all(np.isfinite(err))
    assert np.max(np.abs(err)) < 1e-2


def test_steps_and_dt(h5):
    steps = h5["diagnostics/steps"][()]
    assert steps[0] == 0 and np.all(np.diff(steps) > 0)
    assert np.all(steps == np.round(steps))
    assert np.all(h5["diagnostics/dt"][()] > 0)


def test_escape_ledger(h5, run_file):
    esc = h5["diagnostics/energy_escaped"][()]
    if "[phonon_escape]" in run_file[1]:
        assert esc[0] == 0 and esc[-1] > 0 and np.all(np.diff(esc) >= 0)
    else:
        assert np.all(esc == 0)


# -- against an independent evaluation of the moments --------------------------------------
class Model:
    """Grid, units and bath state rebuilt from the file's own attributes."""

    def __init__(self, h5):
        self.cfg = config.from_dict(tomllib.loads(h5.attrs["config"]))
        self.material = Material.from_dict(json.loads(h5.attrs["material"]))
        self.units = u = Units.of(self.material)
        g, d0 = self.cfg.grid, self.material.delta0_over_kTc
        # the step of the file's grid: the requested one shrunk to align the gap (builder)
        step = float(np.diff(h5["grid/energy"][:2])[0]) / u.kTc_meV
        self.grid = EnergyGrid.from_max(step, g.energy_max_over_delta0 * d0, self.material.debye_meV / u.kTc_meV)
        self.temperature = self.cfg.bath.temperature_over_tc
        self.weight = dg.phonon_energy_weight(d0, self.material.tau0_ratio)
        self.delta = h5["gap/delta"][0, 0] / u.kTc_meV
        self.spectra = cell_spectra(self.grid, [self.delta], 0.0)
        self.f_bath = fermi(self.grid.x, self.temperature)[None, :]
        self.n_bath = (bose(self.grid.x, self.temperature) * self.grid.phonon_mask)[None, :]


def test_energy_grid_matches(h5):
    m = Model(h5)
    np.testing.assert_allclose(h5["grid/energy"][()], m.grid.x * m.units.kTc_meV, rtol=1e-14, atol=0)
    step = np.diff(h5["grid/energy"][()])
    np.testing.assert_allclose(step, step[0], rtol=1e-12)
    # the gap-aligned grid (docs/numerics.md): the bath gap a quarter step below a node, with the
    # largest such step that is at most the requested Delta_0/4
    h, delta, asked = step[0], h5["gap/delta"][0, 0], 0.25 * m.material.delta0_meV
    k = delta / h + 0.25
    assert k == pytest.approx(round(k), abs=1e-9)
    assert h <= asked * (1 + 1e-12) and delta / (round(k) - 1.25) > asked


def test_initial_excess_energy_equals_deposit(h5):
    m = Model(h5)
    f0, n0 = h5["qp/f"][0], h5["phonon/n"][0]
    excess_qp = dg.qp_energy(m.grid, m.spectra, f0)[0] - dg.qp_energy(m.grid, m.spectra, m.f_bath)[0]
    excess_ph = dg.phonon_energy(m.grid, m.weight, n0)[0] - dg.phonon_energy(m.grid, m.weight, m.n_bath)[0]
    deposit = m.cfg.initial.deposit_eV_per_um3
    total = (excess_qp + excess_ph) * m.units.energy_density_eV_per_um3
    assert total == pytest.approx(deposit, rel=1e-12)
    # and it went where it was asked to go
    if m.cfg.initial.species == "qp":
        assert excess_ph == 0.0
        np.testing.assert_array_equal(n0, m.n_bath)
    else:
        assert excess_qp == 0.0
        np.testing.assert_array_equal(f0, m.f_bath)


def test_diagnostics_match_stored_distributions(h5):
    m = Model(h5)
    u = m.units
    f, n = h5["qp/f"][:, 0, :], h5["phonon/n"][:, 0, :]
    np.testing.assert_allclose(h5["diagnostics/qp_number"][()],
                               dg.qp_number(m.grid, m.spectra, f) * u.number_density_per_um3, rtol=1e-12)
    np.testing.assert_allclose(h5["diagnostics/qp_energy"][()],
                               dg.qp_energy(m.grid, m.spectra, f) * u.energy_density_eV_per_um3, rtol=1e-12)
    np.testing.assert_allclose(h5["diagnostics/phonon_energy"][()],
                               dg.phonon_energy(m.grid, m.weight, n) * u.energy_density_eV_per_um3, rtol=1e-12)
    bath_number = dg.qp_number(m.grid, m.spectra, m.f_bath)[0] * u.number_density_per_um3
    np.testing.assert_allclose(h5["diagnostics/qp_number_excess"][()],
                               h5["diagnostics/qp_number"][()] - bath_number, rtol=1e-9, atol=1e-12 * bath_number)


def test_ledger_recomputed_from_file(h5):
    """inside + escaped - initial, over the deposit, from the stored diagnostics."""
    m = Model(h5)
    d = {k: h5["diagnostics/" + k][()] for k in ("qp_energy", "phonon_energy", "energy_escaped",
                                                 "energy_condensate", "energy_ledger_error")}
    inside = d["qp_energy"] + d["phonon_energy"] + d["energy_escaped"] - d["energy_condensate"]
    ledger = (inside - inside[0]) / m.cfg.initial.deposit_eV_per_um3
    np.testing.assert_allclose(ledger, d["energy_ledger_error"], rtol=1e-6, atol=1e-12)
