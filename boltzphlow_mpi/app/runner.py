"""Running a simulation into a file: the output set-up and the failure policy, shared by
the Python API (``Simulation.run(output=...)``) and ``boltzphlow run``/``restart``."""
import json
import os

from boltzphlow_mpi.app.handlers import Checkpoints, Records
from boltzphlow_mpi.errors import InputError, SolverError


def check_new_output(path, force, par):
    """Collective. An output path we may create: not existing (unless ``force``), not a
    directory, in an existing directory. Rank 0 looks, every rank gets the answer."""
    exists, is_dir, parent_ok = par.bcast((os.path.exists(path), os.path.isdir(path),
                                           os.path.isdir(os.path.dirname(os.path.abspath(path))))
                                          if par.rank == 0 else None)
    if exists and not force:
        raise InputError("-o", path, "a path that does not exist yet (use --force to overwrite)")
    if is_dir:
        raise InputError("-o", path, "a file path, not a directory")
    if not parent_ok:
        raise InputError("-o", path, "a path in an existing directory")


def open_output(sim, path, force=False, config_text=None, restarted_from=None):
    """Collective. A new output file for ``sim`` (``fileio.output.OutputFile``) carrying
    the config (the job file's text when ``sim`` was built from one, else the resolved
    config), the resolved config and the material."""
    from boltzphlow_mpi.fileio.output import OutputFile, material_attrs
    check_new_output(path, force, sim.par)
    sim.cfg = sim.cfg.with_value("output", "path", str(path))
    resolved = json.dumps(sim.cfg.as_dict())
    text = config_text if config_text is not None else sim.config_text
    attrs = {"config": resolved if text is None else text, "config_resolved": resolved}
    if restarted_from is not None:
        attrs["restarted_from"] = os.path.abspath(restarted_from)
    attrs.update(material_attrs(sim.material))
    return OutputFile(path, sim.par, n_cells=sim.n_cells, cell_range=sim.cell_range,
                      energy_meV=sim.grid.x * sim.units.kTc_meV, attrs=attrs, force=force, mesh=sim.mesh)


def reopen_output(sim, path):
    """Collective. The run's own file, records after ``sim.records`` to be replaced."""
    from boltzphlow_mpi.fileio.output import OutputFile
    return OutputFile.reopen(path, sim.par, cell_range=sim.cell_range, records=sim.records)


def run_into(sim, writer, progress=None, until=None):
    """Collective. ``sim.run_records`` with the handlers of ``writer`` (``attach``) with checkpoints as configured; closes the file at the end. On a solver
    failure (every rank alike) the file is closed, the last good state is saved as an
    emergency checkpoint (its path in the exception's ``emergency_checkpoint``), and the
    ``SolverError`` goes on. Other exceptions may be on one rank only: no collective close.
    Returns the wall time (s)."""
    attach(sim, writer)
    try:
        wall = sim.run_records(progress, until=until)
    except InputError:
        _close(sim, writer)  # raised on every rank alike: the collective close is safe
        raise
    except SolverError as exc:
        _close(sim, writer)
        exc.emergency_checkpoint = sim.emergency_checkpoint()
        raise
    if until is None or sim.t >= sim.t_end * (1 - 1e-13):
        _close(sim, writer)
    return wall


def attach(sim, writer):
    """The handlers of a run into ``writer`` (once per writer): its records, and checkpoints
    as ``[output]`` configures them, which name ``writer`` as their output file."""
    if any(isinstance(h, Records) and h.writer is writer for h in sim.handlers):
        return
    sim.output_path = writer.path
    sim.add_handler(Records(writer))
    out = sim.cfg.output
    if out.checkpoint_interval_ns:
        sim.add_handler(Checkpoints(out.checkpoint_dir, out.checkpoint_keep))


def _close(sim, writer):
    writer.close()
    for h in [h for h in sim.handlers if isinstance(h, Records) and h.writer is writer]:
        sim.remove_handler(h)
    if sim.writer is writer:
        sim.writer = None
