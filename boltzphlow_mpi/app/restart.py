"""Restart policy: what a restart may change, and the simulation a checkpoint continues
(docs/numerics.md, "Checkpoints and restart")."""
import json

import numpy as np

from boltzphlow_mpi.errors import InputError

# Keys a restart may change: they steer the run, not the physics of the state it continues.
RUN_CONTROL = {("time", k) for k in ("t_end_ns", "output_interval_ns", "rtol", "dt_max_ns", "max_steps")} | {
    ("output", k) for k in ("path", "progress_interval_s", "checkpoint_interval_ns", "checkpoint_dir",
                            "checkpoint_keep")}


def changed_config(old, new, t_ckpt_ns):
    """The checkpoint's config with the run-control changes of ``new``; any other difference
    is an InputError naming the key, both values and what may change."""
    old = json.loads(json.dumps(old))
    for section, table in new.items():
        if isinstance(table, list):  # [[drive]]: physics, compared whole
            if json.dumps(table) != json.dumps(old.get(section, [])):
                raise InputError(f"[[{section}]]", table, f"the checkpoint's {old.get(section, [])!r}: a restart "
                                 "continues that physics; only run-control keys may change")
            continue
        for key, value in table.items():
            before = old.get(section, {}).get(key)
            if json.dumps(value) == json.dumps(before):
                continue
            if (section, key) not in RUN_CONTROL:
                allowed = ", ".join(f"{s}.{k}" for s, k in sorted(RUN_CONTROL))
                raise InputError(f"{section}.{key}", value, f"the checkpoint's value {before!r}: a restart continues "
                                 f"that physics; only run-control keys may change ({allowed})")
            old[section][key] = value
    if not old["time"]["t_end_ns"] >= t_ckpt_ns * (1 - 1e-12):
        raise InputError("time.t_end_ns", old["time"]["t_end_ns"], f"a time (ns) >= the checkpoint's t = {t_ckpt_ns:.6g} ns")
    return old


def from_checkpoint(path, par, t_end_ns=None, config_path=None):
    """Collective. ``(sim, meta)``: the simulation that continues checkpoint ``path``, with
    the run-control changes of the job file ``config_path`` and a later end time
    ``t_end_ns``; it stands at the checkpoint's last record."""
    from boltzphlow_mpi.app import config
    from boltzphlow_mpi.app.simulation import Simulation
    from boltzphlow_mpi.fileio import checkpoint
    meta = checkpoint.read_meta(path, par)
    cfg = meta["config"]
    t_ckpt_ns = meta["t_record"] * Simulation.tau0_of(config.revalidate(cfg))  # the last record, where the restart lands
    if config_path is not None:
        cfg = changed_config(cfg, config.load(config_path)[0].as_dict(), t_ckpt_ns)
    if t_end_ns is not None:
        if not (np.isfinite(t_end_ns) and t_end_ns >= t_ckpt_ns * (1 - 1e-12)):
            raise InputError("--t-end", t_end_ns, f"a time (ns) >= the checkpoint's t = {t_ckpt_ns:.6g} ns")
        cfg["time"]["t_end_ns"] = t_end_ns
    cfg = config.revalidate(cfg)
    sim = Simulation(cfg, par)
    sim.restore(meta, *checkpoint.read_state(path, par, sim.cell_range))
    return sim, meta
