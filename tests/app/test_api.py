"""The Python API (docs/api.md): the same model from a script as from the command line."""
import numpy as np
import pytest

import boltzphlow_mpi as bp

import jobs
from helpers import REPO


@pytest.fixture
def tiny(job):
    """The tiny job (tests/jobs/tiny.toml) in tmp_path / job.toml."""
    return job("tiny", file="job.toml")


def test_api_run_writes_the_file_the_cli_writes(tiny, tmp_path, run):
    """``Simulation.from_toml(...).run(output=...)`` and ``boltzphlow run`` give bitwise the
    same datasets, and ``summary()`` holds the numbers the CLI prints."""
    run(tiny, "cli.h5")
    sim = bp.Simulation.from_toml(tiny)
    sim.run(output=tmp_path / "api.h5")
    a, b = bp.open_output(tmp_path / "cli.h5"), bp.open_output(tmp_path / "api.h5")
    for name in ("time", "energy", "f", "n", "gap"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.data.keys() == b.data.keys()
    for k in a.data:
        if k != "dt":
            assert np.array_equal(a.data[k], b.data[k], equal_nan=True), k
    s = sim.summary()
    assert s["t_ns"] == pytest.approx(5.0) and s["steps"] == int(b.data["steps"][-1])
    assert s["qp_number"] == b.data["qp_number"][-1] and s["energy_unit"] == "eV/um^3"
    assert abs(s["energy_ledger_error"]) < 1e-9
    assert sum(s["deposit_parts"].values()) == pytest.approx(s["deposit"], rel=1e-9)  # where it went: all of it
    assert b.units["time"] == "ns" and b.units["gap"] == "meV" and b.units["qp_number"] == "um^-3"
    assert b.config["time"]["t_end_ns"] == 5.0 and b.attrs["material_name"] == "Al"


def test_run_until_then_on_is_the_straight_run(tiny):
    """``run(until_ns=...)`` stops between records; a later ``run()`` goes on bitwise."""
    one = bp.Simulation.from_toml(tiny, overrides={"time.t_end_ns": 3.0})
    one.run()
    two = bp.Simulation.from_toml(tiny, overrides={"time.t_end_ns": 3.0})
    two.run(until_ns=1.5)
    assert two.t_ns == pytest.approx(1.5) and two.records == 2  # records at 0 and 1 ns
    two.run()
    assert np.array_equal(one.y, two.y) and one.steps == two.steps


def test_steady_state_from_a_dict():
    """``solve_steady`` on a dict job: the QP density grows as the square root of the
    absorbed power when recombination limits (Rothwarf-Taylor: exponent 0.5, within 0.02)."""
    raw = jobs.table("steady")
    n = []
    for p in (1e-12, 1e-11):
        s = bp.Simulation.from_dict(raw, overrides={"drive.0.power_W_per_um3": p}).solve_steady()
        assert s["balance"] < 1e-6 and s["absorbed_W"] == pytest.approx(p, rel=1e-9)
        n.append(s["cells"][0]["n_qp_per_um3"])
    assert np.log10(n[1] / n[0]) == pytest.approx(0.5, abs=0.02)


def test_bad_input_names_the_key(tiny):
    with pytest.raises(bp.InputError, match="time.t_end_ns"):
        bp.Simulation.from_toml(tiny, overrides={"time.t_end_ns": -1.0})
    with pytest.raises(bp.InputError, match="overrides"):
        bp.Simulation.from_toml(tiny, overrides={"t_end_ns": 1.0})
    with pytest.raises(bp.InputError, match="PATH"):
        bp.open_output(REPO / "README.md")


def test_from_checkpoint_continues(tmp_path, job):
    """A run with checkpoints, continued from its checkpoint to a later end through the API."""
    path = job("tiny", file="job.toml", output__checkpoint_interval_ns=5.0, output__checkpoint_dir=tmp_path / "ck")
    sim = bp.Simulation.from_toml(path)
    sim.run(output=tmp_path / "a.h5")
    longer = bp.Simulation.from_toml(path, overrides={"time.t_end_ns": 7.0})
    longer.run()
    more = bp.Simulation.from_checkpoint(sim.last_checkpoint, t_end_ns=7.0)
    assert more.t_ns == pytest.approx(5.0)
    more.run()
    assert np.array_equal(more.y, longer.y)
