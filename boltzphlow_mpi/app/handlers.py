"""What a run does at its output times, attached to a ``Simulation`` (``add_handler``):
records into an output file and checkpoints at a simulated-time interval.

A handler is called as ``handler(sim, tot, first)`` after the state has landed on an
output time: ``tot`` are the totals there (``Simulation.totals``), ``first`` is true for
the record at the start of a run (t = 0).
"""
from boltzphlow_mpi.fileio import checkpoint
from boltzphlow_mpi.parallel.comm import stage


class Records:
    """A record of every output time in ``writer`` (``fileio.output.OutputFile``)."""

    def __init__(self, writer):
        self.writer = writer

    def __call__(self, sim, tot, first):
        with stage("output"):
            sim.write_record(self.writer, tot)


class Checkpoints:
    """A checkpoint after the record at every multiple of ``output.checkpoint_interval_ns``
    and at ``t_end`` into ``directory``, keeping the newest ``keep`` files (docs/numerics.md,
    "Checkpoints and restart"). The cadence is the simulation's ``schedule``, so a restart
    goes on with it."""

    def __init__(self, directory, keep):
        self.directory, self.keep = directory, keep
        self.last = None  # the path of the newest checkpoint written

    def __call__(self, sim, tot, first):
        if first or not sim.schedule.checkpoint_due(sim.t):
            return
        with sim.branches.at_trajectory() as t_record:
            self.last = checkpoint.write(sim.checkpoint_state(t_record), sim.par, self.directory, self.keep)
