"""The Python API: what ``import boltzphlow_mpi as bp`` offers (docs/api.md).

* ``bp.Simulation``: ``from_toml``, ``from_dict``, ``from_checkpoint``; ``run`` (to ``t_end``
  or ``until_ns``, into a file with ``output=``, with a ``progress`` callback),
  ``solve_steady``, ``summary``, ``totals``, ``record``;
* ``bp.Records``, ``bp.Checkpoints``: handlers to attach with ``sim.add_handler`` (records into
  an ``OutputFile``, checkpoints at the configured interval);
* ``bp.open_output``: the arrays of an output file, with units;
* ``bp.InputError``, ``bp.SolverError``: what bad input and failed solves raise.

Importing this module imports mpi4py (through ``Simulation``); ``boltzphlow_mpi.physics``
alone does not.
"""
from boltzphlow_mpi.app.handlers import Checkpoints, Records
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.errors import InputError, SolverError
from boltzphlow_mpi.fileio.reader import Output, open_output

__all__ = ["Checkpoints", "InputError", "Output", "Records", "Simulation", "SolverError", "open_output"]
