"""A simulation's state into and out of a checkpoint (docs/numerics.md, "Checkpoints and
restart"): the ``CheckpointState`` the file layer writes, the restore on any number of
ranks, and the emergency checkpoint of a failed run. The file layer (``fileio.checkpoint``)
never reads a simulation; this module is the one that knows both."""

from boltzphlow_mpi.app import config
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.fileio import checkpoint


def scalars(sim):
    """The checkpoint's scalars (``checkpoint.SCALARS``)."""
    it = sim.integrator
    return {"t": sim.t, "steps": sim.steps, "dt": it.dt, "records": sim.records,
            "grid_top_max": sim.grid_top_max, "rejected": it.controller.rejected,
            "rejects_in_row": it.rejects_in_row, "deposit": sim.deposit,
            "next_checkpoint": sim.schedule.next_checkpoint}


def state(sim, t_record=None):
    """What a checkpoint of the current state holds; ``t_record``: the time of the last
    record (default ``sim.t``)."""
    return checkpoint.CheckpointState(
        n_cells=sim.n_cells, cell_range=sim.cell_range, y=sim.y, delta=sim.model.delta,
        condensate=sim.condensate, gap_state=sim.gap_model.state_arrays(),
        integrator_state=sim.integrator.checkpoint_arrays(), scalars=scalars(sim),
        t_record=sim.t if t_record is None else t_record, limit_reason=sim.limit_reason, out=sim.out,
        initial=sim.initial, config=sim.cfg.as_dict(), output_path=sim.output_path, gap_model=sim.gap_model.name)


def _set_scalars(sim, meta):
    it = sim.integrator
    sim.t, sim.steps, sim.records = float(meta["t"]), int(meta["steps"]), int(meta["records"])
    sim.grid_top_max, sim.deposit = float(meta["grid_top_max"]), float(meta["deposit"])
    sim.schedule.next_checkpoint = float(meta["next_checkpoint"])
    it.controller.rejected, it.rejects_in_row = int(meta["rejected"]), int(meta["rejects_in_row"])
    it.limit_reason = meta["limit_reason"]
    it.dt = float(meta["dt"])
    if it.fixed_dt is None:
        it.dt = min(it.dt, it.controller.dt_max)  # a restart may lower time.dt_max_ns
    it.last_accepted_dt = it.dt


def restore(sim, meta, y, delta, condensate, gap_state=None, integrator_state=None):
    """Collective. ``sim`` continues the checkpoint (``checkpoint.read_meta``/``read_state``):
    state, spectra, ledgers, step sequence and cadence; it lands on the checkpoint's last
    record again if the checkpoint holds the trajectory."""
    if y.shape != (sim.local_cells, sim.model.width):
        raise InputError("CHECKPOINT", meta.get("shape"), f"a state of {sim.n_cells} cells x "
                         f"{sim.model.width} unknowns (the config of this run)")
    sim.y = y.copy()
    if sim.gap_model.name == "eliashberg":
        if not gap_state:
            raise InputError("CHECKPOINT", meta.get("gap_model", "bcs"), "a checkpoint of an Eliashberg run")
        sim.set_spectra(sim.gap_model.set_state(gap_state))
    else:
        sim.set_gap(delta)
    sim.condensate = condensate.copy()
    _set_scalars(sim, meta)
    sim.integrator.restore_arrays(integrator_state or {}, sim.y, sim.t)
    # run-control keys a restart may change: the output and checkpoint cadence go on from now
    sim.schedule.continue_from(config.revalidate(meta["config"]), sim.records, sim.t, sim.units.tau0_ns)
    sim.out = {k: float(v) for k, v in meta["out"].items()}
    sim.initial = {k: float(v) for k, v in meta["initial"].items()}
    sim.branches.drop()
    t_record = float(meta.get("t_record", sim.t))
    if t_record > sim.t:  # the checkpoint holds the trajectory: land on the last record again
        sim.advance_to(t_record)


def emergency(sim):
    """Collective: the last good state (the state is only replaced by admissible ones) to
    ``CHECKPOINT_DIR/emergency_<records>.h5``, with the step sequence as it was after the
    last accepted step; returns the path (None if it fails)."""
    it = sim.integrator
    saved = it.dt, it.rejects_in_row
    it.dt, it.rejects_in_row = it.last_accepted_dt, 0
    try:
        return checkpoint.write(state(sim), sim.par, sim.cfg.output.checkpoint_dir, keep=None, prefix="emergency")
    except (OSError, ValueError) as exc:  # raised alike on every rank (collective HDF5)
        sim.par.print(f"boltzphlow: emergency checkpoint failed: {exc}")
        return None
    finally:
        it.dt, it.rejects_in_row = saved
