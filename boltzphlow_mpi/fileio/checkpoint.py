"""Checkpoints: the full state of a run in one parallel HDF5 file, written atomically.

Layout: ``/state/y`` (cells, unknowns per cell: the state rows of ``kinetics``),
``/state/delta`` (cells; gap, internal units) and ``/state/condensate`` (cells); root
attributes hold the time, step count, current ``dt`` and step-controller state of the
trajectory, the time of the last record (``t_record``, where a restart lands again), the
number of output records written, the outflow and initial-energy ledgers, the resolved
config (JSON), the output path, the package version and the number of ranks.

Atomic: every rank writes its cell slice into ``NAME.tmp`` (collective ``mpio``), the file
is closed, then rank 0 renames it to ``NAME`` (``os.replace`` is atomic on POSIX), so a
kill during a write leaves the previous checkpoint valid. ``complete = 1`` is the last
attribute written. Reading: each rank reads its own slice of the global datasets, so a
restart may use any number of ranks. Rank 0 chooses every file name and broadcasts it.
"""
import glob
import json
import os
from dataclasses import dataclass

import numpy as np

from boltzphlow_mpi import __version__, hooks
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.fileio.output import h5py_mpi

PATTERN = "ckpt_{:06d}.h5"
SCALARS = ("t", "steps", "dt", "records", "grid_top_max", "rejected", "rejects_in_row", "deposit",
           "next_checkpoint")


@dataclass
class CheckpointState:
    """What a checkpoint holds (docs/output.md, "Checkpoints"): this rank's rows of the
    global cell arrays and the run's scalars. The run builds it (``Simulation.checkpoint_state``);
    this module never reads a simulation."""

    n_cells: int
    cell_range: tuple
    y: np.ndarray           # (local cells, unknowns per cell)
    delta: np.ndarray       # (local cells,)
    condensate: np.ndarray  # (local cells,)
    gap_state: dict         # the gap model's arrays (local cells, ...); the same keys on every rank
    integrator_state: dict  # the integrator's arrays (local cells, ...), e.g. the BDF history; may be empty
    scalars: dict           # SCALARS
    t_record: float
    limit_reason: str
    out: dict
    initial: dict
    config: dict
    output_path: str
    gap_model: str


def write(state, par, directory, keep, prefix="ckpt"):
    """Write a checkpoint (collective), atomically (see the module docstring).

    The state is that of the trajectory at ``t``; ``t_record`` is the time of the last
    record, which a restart lands on again from it (docs/numerics.md, "Checkpoints and
    restart").

    Parameters
    ----------
    state : CheckpointState
        This rank's rows and the run's scalars.
    par : Parallel
        The communicator of the run; every rank writes its cell slice.
    directory : str
        Where the file goes (created if needed): ``directory/<prefix>_<records>.h5``.
    keep : int or None
        Regular checkpoints: keep the newest ``keep`` of ``ckpt_*.h5``. ``None`` (emergency
        checkpoints, ``prefix = "emergency"``): prune nothing; ``--latest`` never picks them.
    prefix : str
        The file name's prefix.

    Returns
    -------
    str
        The path of the checkpoint (the same on every rank).
    """
    h5py = h5py_mpi()
    records = state.scalars["records"]
    name = None
    if par.rank == 0:
        os.makedirs(directory, exist_ok=True)
        name = os.path.join(directory, PATTERN.replace("ckpt", prefix).format(records))
    name = par.bcast(name)
    tmp = name + ".tmp"
    with h5py.File(tmp, "w", driver="mpio", comm=par.comm) as h5:
        _write_cells(h5, state)
        _write_attributes(h5, state, par)
        hooks.fire("checkpoint_written", par=par, path=tmp, records=records)  # (tests: a kill -9 here)
        h5.attrs["complete"] = 1
    par.comm.barrier()  # closed everywhere before the rename
    if par.rank == 0:
        os.replace(tmp, name)
    if par.rank == 0 and keep is not None:
        _prune(directory, name, keep)
    par.comm.barrier()
    return name


def _write_cells(h5, state):
    """The global cell datasets (``state/y``, ``delta``, ``condensate``, the gap model's
    arrays), each rank its own slice (collective)."""
    c0, c1 = state.cell_range
    y = h5.create_dataset("state/y", (state.n_cells, state.y.shape[1]), dtype="f8")
    d = h5.create_dataset("state/delta", (state.n_cells,), dtype="f8")
    c = h5.create_dataset("state/condensate", (state.n_cells,), dtype="f8")
    y.attrs["units"] = ("internal: occupations f, n (1), then the accumulators e_esc, e_qp->ph, e_abs "
                        "in N_0 (k_B T_c)^2 per um^3 (times um^3 for a sphere cell)")
    d.attrs["units"] = "k_B T_c"
    c.attrs["units"] = "N_0 (k_B T_c)^2 (internal energy density)"
    if c1 > c0:
        y[c0:c1] = state.y
        d[c0:c1] = state.delta
        c[c0:c1] = state.condensate
    # the gap model's own state (Eliashberg self-energies: the warm start of the next solve)
    _write_cell_arrays(h5, "state/gap_model", state.gap_state, state,
                       "k_B T_c (complex self-energy as (re, im) pairs on eps_k = k h)")
    # the integrator's history (BDF: differences, Jacobian, factorisation), for a bitwise restart
    _write_cell_arrays(h5, "state/integrator", state.integrator_state, state,
                       "internal (the integrator's history, docs/numerics.md)")


def _write_cell_arrays(h5, group, arrays, state, units):
    c0, c1 = state.cell_range
    for key, arr in sorted(arrays.items()):
        arr = np.asarray(arr, float)
        ds = h5.create_dataset(f"{group}/{key}", (state.n_cells,) + arr.shape[1:], dtype="f8")
        ds.attrs["units"] = units
        if c1 > c0:
            ds[c0:c1] = arr


def _write_attributes(h5, state, par):
    """The root attributes: the run's scalars, ledgers, config and provenance (all but
    ``complete``, which ``write`` sets last)."""
    for k in SCALARS:
        h5.attrs[k] = state.scalars[k]
    h5.attrs["t_record"] = state.t_record
    h5.attrs["limit_reason"] = state.limit_reason
    h5.attrs["out"] = json.dumps(state.out)
    h5.attrs["initial"] = json.dumps({k: v for k, v in state.initial.items() if k != "gap_all"})
    h5.attrs["config"] = json.dumps(state.config)
    h5.attrs["output_path"] = os.path.abspath(state.output_path) if state.output_path else ""
    h5.attrs["version"] = __version__
    h5.attrs["ranks"] = par.size
    h5.attrs["kind"] = "boltzphlow-checkpoint"
    h5.attrs["gap_model"] = state.gap_model


def _prune(directory, name, keep):
    """Remove all but the newest ``keep`` regular checkpoints up to ``name`` (rank 0)."""
    # older checkpoints only; a higher number in the directory is not this run's past
    older = sorted(p for p in glob.glob(os.path.join(directory, "ckpt_*.h5")) if p < name)
    for stale in older[:max(0, len(older) - (keep - 1))]:
        os.remove(stale)


def read_meta(path, par):
    """Attributes of a checkpoint (rank 0 reads, every rank gets them). Errors: InputError."""
    meta = None
    if par.rank == 0:
        meta = _read_meta_serial(path)
    meta = par.bcast(meta)
    if isinstance(meta, str):
        raise InputError("CHECKPOINT", path, "a complete BoltzPhlow checkpoint file", meta)
    return meta


def _read_meta_serial(path):
    import h5py
    try:
        with h5py.File(path, "r", driver=None) as h5:
            a = h5.attrs
            if a.get("kind") != "boltzphlow-checkpoint" or int(a.get("complete", 0)) != 1:
                return "not a complete checkpoint"
            meta = {k: (a[k].item() if hasattr(a[k], "item") else a[k]) for k in SCALARS}
            meta.update(t_record=float(a.get("t_record", meta["t"])), limit_reason=str(a["limit_reason"]), out=json.loads(a["out"]),
                        initial=json.loads(a["initial"]), config=json.loads(a["config"]),
                        output_path=str(a["output_path"]), version=str(a["version"]), ranks=int(a["ranks"]),
                        shape=tuple(h5["state/y"].shape))
            return meta
    except (OSError, KeyError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def latest(directory, par):
    """Newest complete checkpoint in ``directory`` (rank 0 decides, all ranks get the name).

    Truncated or corrupt files (a kill during a write leaves only a ``.tmp``, but a damaged
    disk or copy can leave a bad ``ckpt_*.h5``) are skipped with a warning on rank 0.
    """
    choice, skipped = None, []
    if par.rank == 0:
        for path in sorted(glob.glob(os.path.join(directory, "ckpt_*.h5")), reverse=True):
            meta = _read_meta_serial(path)
            if isinstance(meta, dict):
                choice = path
                break
            skipped.append((path, meta))
    choice, skipped = par.bcast((choice, skipped))
    for path, why in skipped:
        par.print(f"boltzphlow: warning: skipping checkpoint {path}: {why}")
    if choice is None:
        raise InputError("--latest", directory, "a directory with at least one complete checkpoint (ckpt_*.h5)")
    return choice


def read_state(path, par, cell_range):
    """Collective: this rank's slices of ``y``, ``delta``, ``condensate`` and the gap
    model's state (a dict, empty for BCS)."""
    h5py = h5py_mpi()
    c0, c1 = cell_range
    with h5py.File(path, "r", driver="mpio", comm=par.comm) as h5:
        y = h5["state/y"][c0:c1] if c1 > c0 else np.zeros((0, h5["state/y"].shape[1]))
        delta = h5["state/delta"][c0:c1] if c1 > c0 else np.zeros(0)
        cond = h5["state/condensate"][c0:c1] if c1 > c0 else np.zeros(0)
        gap_state, integrator_state = ({key: np.asarray(ds[c0:c1] if c1 > c0 else np.zeros((0,) + ds.shape[1:]), float)
                                        for key, ds in h5[group].items()} if group in h5 else {}
                                       for group in ("state/gap_model", "state/integrator"))
    return np.asarray(y, float), np.asarray(delta, float), np.asarray(cond, float), gap_state, integrator_state
