"""Fault injection for the tests that run ``boltzphlow`` under mpirun, as hook installers
for ``BOLTZPHLOW_HOOKS`` (docs/architecture.md, "Hooks"); the tests put this folder on
``PYTHONPATH`` and pass the parameters in the environment."""
import os
import time


def fail_on_rank(register):
    """``FAULT_RANK=r``: rank ``r`` raises before its third step while the other ranks wait
    in a collective call; the job must end promptly with that rank's error."""
    rank = int(os.environ["FAULT_RANK"])

    def before_step(sim):
        if sim.par.rank == rank and sim.steps >= 2:
            raise RuntimeError(f"injected failure on rank {rank} (fault_hooks.fail_on_rank)")

    register("before_step", before_step)


def stall_checkpoint(register):
    """``FAULT_RECORDS=R``: at the checkpoint after record ``R`` every rank stops before the
    file is complete and rank 0 writes ``<tmp>.stall``; the test kills the job there."""
    target = int(os.environ["FAULT_RECORDS"])

    def checkpoint_written(par, path, records):
        if records != target:
            return
        if par.rank == 0:
            with open(path + ".stall", "w") as fh:
                fh.write("stalled\n")
        time.sleep(600)

    register("checkpoint_written", checkpoint_written)
