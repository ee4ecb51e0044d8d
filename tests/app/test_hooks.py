"""The hook mechanism (docs/architecture.md, "Hooks"): registration, firing during a run,
loading from the environment."""
import pytest

from boltzphlow_mpi import hooks
from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.parallel.comm import Parallel


@pytest.fixture
def clean_hooks():
    hooks.clear()
    yield
    hooks.clear()


def test_before_step_sees_every_attempt_and_can_stop_the_run(clean_hooks, job):
    path = job("tiny", file="job.toml")
    seen = []
    hooks.register("before_step", lambda sim: seen.append(sim.steps))
    sim = Simulation(config.load(path)[0], Parallel())
    sim.run()
    assert len(seen) >= sim.steps > 10 and seen[0] == 0

    def stop(sim):
        if sim.steps >= 3:
            raise RuntimeError("stop")

    hooks.register("before_step", stop)
    with pytest.raises(RuntimeError, match="stop"):
        Simulation(config.load(path)[0], Parallel()).run()


def test_unknown_point_and_environment_loading(clean_hooks, monkeypatch):
    with pytest.raises(ValueError, match="before_step"):
        hooks.register("after_everything", print)
    monkeypatch.setenv("BOLTZPHLOW_HOOKS", "fault_hooks:fail_on_rank")
    monkeypatch.setenv("FAULT_RANK", "7")
    assert hooks.load_from_environment() == ["fault_hooks:fail_on_rank"]
    monkeypatch.setenv("BOLTZPHLOW_HOOKS", "fault_hooks:no_such_installer")
    with pytest.raises(AttributeError):
        hooks.load_from_environment()
