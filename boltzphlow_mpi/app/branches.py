"""Branches to output times (docs/numerics.md, "Output times do not steer the steps").

The trajectory of a run takes the steps its controller chooses; the state at an output
time is integrated on a branch from a copy of the trajectory state. ``Branches`` keeps
that copy while the simulation stands on the landed branch, and puts it back before the
next step, for a checkpoint (which holds the trajectory), or not at all if the caller
changed the state in between.
"""
from contextlib import contextmanager

import numpy as np


class Branches:
    def __init__(self, sim):
        self.sim = sim
        self.trajectory = None  # the trajectory state while the simulation is on a branch
        self._landed = None     # (y, spectra, copy of y, t) right after the landing

    def snapshot(self):
        """Everything the steps after this point depend on (what a checkpoint holds)."""
        sim = self.sim
        return {"t": sim.t, "steps": sim.steps, "step_sequence": sim.integrator.state(), "y": sim.y.copy(),
                "condensate": sim.condensate.copy(), "out": dict(sim.out), "spectra": sim.model.spectra,
                "gap": sim.gap_model.snapshot()}

    def restore(self, snap):
        """Collective (the transport gathers every cell's gap)."""
        sim = self.sim
        sim.t, sim.steps = snap["t"], snap["steps"]
        sim.integrator.set_state(snap["step_sequence"])
        sim.y, sim.condensate, sim.out = snap["y"].copy(), snap["condensate"].copy(), dict(snap["out"])
        sim.gap_model.resume(snap["gap"])
        sim.set_spectra(snap["spectra"])

    def fork(self):
        """Keep the trajectory state: the steps that follow land on a branch."""
        self.trajectory = self.snapshot()

    def landed(self):
        sim = self.sim
        self._landed = (sim.y, sim.model.spectra, sim.y.copy(), sim.t)

    def drop(self):
        self.trajectory = None

    def on_branch(self):
        """Collective: is the state the unchanged result of the last landing on a branch?"""
        if self.trajectory is None:
            return False
        sim = self.sim
        y, spectra, copy, t = self._landed
        same = sim.y is y and sim.model.spectra is spectra and sim.t == t and np.array_equal(sim.y, copy)
        return not sim.par.reduce_max(0.0 if same else 1.0)

    def resume(self):
        """Collective: back to the trajectory if the simulation stands on an unchanged branch."""
        if self.on_branch():
            self.restore(self.trajectory)
        self.trajectory = None

    @contextmanager
    def at_trajectory(self):
        """Collective: the trajectory state in place of a landed branch (for a checkpoint),
        yielding the time of the landed state (the last record)."""
        if not self.on_branch():
            yield self.sim.t
            return
        t_record, landed = self.sim.t, self.snapshot()
        self.restore(self.trajectory)
        try:
            yield t_record
        finally:
            self.restore(landed)
            self.landed()
