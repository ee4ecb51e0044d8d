"""The run driver: builds the model from a validated config and integrates it.

Geometry ``point``: one uniform cell of unit volume (densities per um^3), owned by rank 0
of the block partition while the other ranks own none; every rank executes the same
steps and collective calls. Geometry ``sphere``: cells on a PETSc DMDA (``domain``),
collisions per cell, transport by ``radial`` with Strang splitting
``T(dt/2) C(dt) T(dt/2)``. Totals are volume-weighted sums over cells taken in global
cell order (rank independent); for a point they are per um^3, for a sphere counts and eV.
"""
import time as _time

import numpy as np

from boltzphlow_mpi import hooks
from boltzphlow_mpi.app import builder, geometry, ledger
from boltzphlow_mpi.app.branches import Branches
from boltzphlow_mpi.errors import InputError, SolverError
from boltzphlow_mpi.fileio import checkpoint
from boltzphlow_mpi.numerics.steppers import StepController, clean_roundoff, make_stepper
from boltzphlow_mpi.parallel.comm import stage
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.gap.models import make_gap_model
from boltzphlow_mpi.physics.gap.remap import remap_occupation
from boltzphlow_mpi.physics.kinetics import CellKinetics
from boltzphlow_mpi.physics.statistics import bose, fermi
from boltzphlow_mpi.physics.units import Units

OUT_KEYS = ("qp_number", "qp_energy", "phonon_energy")
_ATTR = {"rejected": "controller_rejected"}  # checkpoint scalar -> Simulation attribute


class Simulation:
    """Model, state and time loop of one run: the object of the Python API.

    Build one from a job file or a dict, run it, read its summary::

        import boltzphlow_mpi as bp
        sim = bp.Simulation.from_toml("jobs/default.toml", overrides={"time.t_end_ns": 50})
        sim.run(output="out/default.h5", progress=lambda s, wall: print(s.t_ns))
        print(sim.summary()["eta"])

    Parameters
    ----------
    cfg : dict
        A validated config (``app.config.load`` / ``from_dict``).
    par : parallel.comm.Parallel
        The communicator the run is spread over (every method is collective on it).
    """

    # -- construction (the Python API) --------------------------------------------------
    @classmethod
    def from_dict(cls, raw, overrides=None, comm=None):
        """A simulation of the job ``raw`` (the TOML tables as a dict).

        Parameters
        ----------
        raw : dict
            Sections and keys as in a job file (docs/config.md).
        overrides : dict, optional
            ``{"section.key": value}`` applied before validation (as ``--set``).
        comm : mpi4py.MPI.Comm, optional
            Default ``COMM_WORLD`` (one rank in a notebook or a plain ``python`` run).
        """
        from boltzphlow_mpi.app import config
        from boltzphlow_mpi.parallel.comm import Parallel
        return cls(config.from_dict(config.with_overrides(raw, overrides)), Parallel(comm))

    @classmethod
    def from_toml(cls, path, overrides=None, comm=None):
        """A simulation of the job file ``path``; ``overrides`` and ``comm`` as in
        ``from_dict``."""
        from boltzphlow_mpi.app import config
        raw, text = config.read_toml(path)
        sim = cls.from_dict(raw, overrides, comm)
        sim.config_text = text if not overrides else None
        return sim

    @classmethod
    def from_checkpoint(cls, path, t_end_ns=None, config_path=None, comm=None):
        """The simulation that continues checkpoint ``path`` (any number of ranks), standing
        at its last record; ``t_end_ns`` and the job file ``config_path`` may change the
        run-control keys (``app.restart``)."""
        from boltzphlow_mpi.app import restart
        from boltzphlow_mpi.parallel.comm import Parallel
        return restart.from_checkpoint(path, Parallel(comm), t_end_ns, config_path)[0]

    def __init__(self, cfg, par):
        self.cfg, self.par = cfg, par
        mat = self.material = builder.resolve_material(cfg)
        self.units = Units.of(mat)
        self.delta0 = mat.delta0_over_kTc
        self.tau_ratio = mat.tau0_ratio
        bath = cfg["bath"]
        self.temperature = (bath["temperature_over_tc"] if bath["temperature_over_tc"] is not None
                            else bath["temperature_K"] / mat.tc_K)
        if self.temperature >= 1.0:
            raise InputError("bath.temperature_K", bath["temperature_K"], f"a temperature below T_c = {mat.tc_K:g} K")
        g = cfg["grid"]
        self.grid = EnergyGrid.from_max(g["energy_step_over_delta0"] * self.delta0,
                                        g["energy_max_over_delta0"] * self.delta0,
                                        mat.debye_meV / self.units.kTc_meV)
        self.gamma = g["dynes_gamma_over_delta0"] * self.delta0
        self.cutoff = self.grid.debye
        self.weight = dg.phonon_energy_weight(self.delta0, self.tau_ratio)
        geo = self.geometry = geometry.make(cfg, par, self.grid)
        self.mesh, self.n_cells, self.cell_range = geo.mesh, geo.n_cells, geo.cell_range
        self.local_cells, self.volumes_all, self.volumes = geo.local_cells, geo.volumes_all, geo.volumes
        esc = cfg["phonon_escape"]
        escape_rate = mat.tau0_ns / esc["tau_ns"] if esc["tau_ns"] else 0.0
        self.kernel = CollisionKernel(self.grid, self.tau_ratio, self.delta0, method=g["kernel"])
        # the gap model and the bath state's spectra (docs/physics.md, "BCS gap", "Eliashberg self-energies")
        self.self_consistent = cfg["gap"]["mode"] == "self-consistent"
        self.gap_every = cfg["gap"]["update_every"]
        self.gap_model = make_gap_model(cfg, self.grid, mat, self.units, self.temperature, self.gamma,
                                        self.delta0, self.cutoff)
        self.bath_spectra = self.gap_model.bath(
            self.temperature, fermi(self.grid.x, self.temperature),
            bose(self.grid.x, self.temperature) * self.grid.phonon_mask, self.self_consistent)
        self.delta_bath = float(self.bath_spectra.delta[0])
        self.gap_model.start(self.local_cells)
        self.model = CellKinetics(
            self.grid, self.kernel if cfg["collisions"]["enabled"] else None, np.full(self.local_cells, self.delta_bath),
            bath_temperature=self.temperature, escape_rate=escape_rate,
            escape_subgap_only=esc["only_subgap"], dynes_gamma=self.gamma, phonon_weight=self.weight,
            qp_angles=geo.qp_angles, phonon_angles=geo.phonon_angles, drives=builder.drives(self))
        self.transport = geo.transport(par, self.model, mat, cfg)
        self.steps = 0            # accepted steps (the gap is updated every gap.update_every of them)
        self._bath_totals = None
        self.set_spectra(self.bath_spectra.tile(self.local_cells))
        self.y, self.deposit = builder.initial_state(self)
        self.condensate = np.zeros(self.local_cells)  # energy gained by QPs from gap changes
        self.out = dict.fromkeys(OUT_KEYS, 0.0)       # left through r = R (replicated)
        self.initial = self.totals()  # reference of the ledger: the deposit on the bath gap
        if self.self_consistent:
            self._after_step()  # the deposit moves the gap at t = 0; booked as condensate energy
        tm = cfg["time"]
        self.stepper = make_stepper(tm["method"], par.reduce_max, mu_mode=tm["tr_mu"],
                                    project=tm["exp_energy_projection"])
        to_int = 1.0 / mat.tau0_ns
        self.t_end = tm["t_end_ns"] * to_int
        self.fixed_dt = tm["dt_ns"] * to_int if tm["dt_ns"] else None
        self.dt = tm["dt_initial_ns"] * to_int if tm["dt_initial_ns"] else builder.initial_dt(self)
        self.controller = StepController(self.stepper, rtol=tm["rtol"],
                                         dt_max=(tm["dt_max_ns"] * to_int if tm["dt_max_ns"] else np.inf))
        self.output_interval = (tm["output_interval_ns"] * to_int if tm["output_interval_ns"] else self.t_end / 100)
        self.dt = self.fixed_dt if self.fixed_dt is not None else min(self.dt, self.controller.dt_max)
        self.limit_reason = "accuracy"
        self.last_accepted_dt = self.dt
        self.t = 0.0
        self.wall_s = 0.0         # wall time spent in run() (s)
        self.writer = None        # the output file run(output=...) opened, until t_end
        self.config_text = None   # the job file's text, when built from one (output attribute "config")
        self.steady_state = False  # set by solve_steady(): y is a steady state
        self.steady_result = None
        self.branches = Branches(self)  # the trajectory while the state is a branch landed on an output time
        self.records = 0          # output records written (the next one has this index)
        self.output_origin = (0, 0.0)  # record k is at t0 + (k - k0) * interval; (k0, t0) moves
                                       # when a restart changes the output interval
        self.grid_top_max = 0.0
        self.rejects_in_row = 0
        out_cfg = cfg["output"]
        self.checkpoint_interval = (out_cfg["checkpoint_interval_ns"] * to_int
                                    if out_cfg["checkpoint_interval_ns"] else None)
        self.next_checkpoint = self.checkpoint_interval if self.checkpoint_interval else np.inf
        self.checkpoint_dir = None  # set by the caller to enable checkpoints (e.g. the CLI)
        self.output_path = None
        self.last_checkpoint = None

    @property
    def sphere(self):
        return self.geometry.kind == "sphere"

    @staticmethod
    def tau0_of(cfg):
        """tau_0 (ns) of a config's material: the time unit of a checkpoint."""
        return builder.resolve_material(cfg).tau0_ns

    @property
    def controller_rejected(self):
        return self.controller.rejected

    @controller_rejected.setter
    def controller_rejected(self, value):
        self.controller.rejected = int(value)

    def set_spectra(self, spectra):
        """Spectral functions of the local cells, in the kinetics and the transport."""
        self.model.set_spectra(spectra)
        if self.transport is not None:
            self.transport.set_spectra(self.model.spectra.mass, self.par.gather_cells(self.model.delta))

    def set_gap(self, delta):
        """BCS spectra of the gaps ``delta`` of the local cells (tests, diagnostics)."""
        self.set_spectra(cell_spectra(self.grid, np.asarray(delta, float), self.gamma))

    def restore(self, meta, y, delta, condensate, gap_state=None):
        """Continue from a checkpoint (``checkpoint.read_meta`` / ``read_state``)."""
        if y.shape != (self.local_cells, self.model.width):
            raise InputError("CHECKPOINT", meta.get("shape"), f"a state of {self.n_cells} cells x "
                             f"{self.model.width} unknowns (the config of this run)")
        self.y = y.copy()
        if self.gap_model.name == "eliashberg":
            if not gap_state:
                raise InputError("CHECKPOINT", meta.get("gap_model", "bcs"), "a checkpoint of an Eliashberg run")
            self.set_spectra(self.gap_model.set_state(gap_state))
        else:
            self.set_gap(delta)
        self.condensate = condensate.copy()
        for k in checkpoint.SCALARS:
            v = meta[k]
            setattr(self, _ATTR.get(k, k), int(v) if k in ("steps", "records", "rejects_in_row") else float(v))
        self.limit_reason = meta["limit_reason"]
        if self.fixed_dt is None:
            self.dt = min(self.dt, self.controller.dt_max)  # a restart may lower time.dt_max_ns
        self.last_accepted_dt = self.dt
        # run-control keys a restart may change: the output and checkpoint cadence go on from now
        old = meta["config"]
        to_int = 1.0 / self.material.tau0_ns
        old_out = (old["time"]["output_interval_ns"] * to_int if old["time"]["output_interval_ns"]
                   else old["time"]["t_end_ns"] * to_int / 100)
        if old_out != self.output_interval and self.records > 0:
            # the next record comes one new interval after the last one written
            k0 = self.records - 1
            self.output_origin = (k0, min(old["time"]["t_end_ns"] * to_int, k0 * old_out))
        if old["output"]["checkpoint_interval_ns"] != self.cfg["output"]["checkpoint_interval_ns"]:
            self.next_checkpoint = self.t + self.checkpoint_interval if self.checkpoint_interval else np.inf
        self.out = {k: float(v) for k, v in meta["out"].items()}
        self.initial = {k: float(v) for k, v in meta["initial"].items()}
        self.branches.drop()
        t_record = float(meta.get("t_record", self.t))
        if t_record > self.t:  # the checkpoint holds the trajectory: land on the last record again
            self.advance_to(t_record)

    # -- set-up -----------------------------------------------------------------------
    # -- bookkeeping (app/ledger.py) ----------------------------------------------------
    def totals(self):
        """Collective. Global totals (internal units x um^3), summed over cells in global
        cell order (``ledger.totals``)."""
        return ledger.totals(self)

    def ledger_error(self, tot):
        return ledger.ledger_error(self, tot)

    def record(self, tot=None):
        """Collective. Diagnostics in physical units (point: per um^3; sphere: counts and eV)."""
        return ledger.record(self, tot)

    @property
    def bath_totals(self):
        """QP number and energies of the bath state (bath gap), summed over the volume."""
        if self._bath_totals is None:
            self._bath_totals = ledger.bath_totals(self)
        return self._bath_totals

    @property
    def initial_thermal_number(self):
        return self.bath_totals["qp_number"]

    # -- time loop ----------------------------------------------------------------------
    def _after_step(self):
        """Self-consistent gap (every ``gap.update_every`` steps): new spectra from the
        cells' occupations, the QPs remapped at fixed ``xi`` (``remap``: QP number
        conserved exactly), the energy change booked as exchanged with the condensate."""
        if not self.self_consistent or self.steps % self.gap_every:
            return
        m = self.model
        if self.local_cells:
            old = m.spectra
            fbar, nbar, _ = m.unpack(self.y)
            try:
                new, error = self.gap_model.update(fbar, nbar, old), None
            except SolverError as exc:  # a cell's solve failed: every rank must stop, not hang
                new, error = old, str(exc)
        else:
            new, error = m.spectra, None
        if self.par.reduce_max(1.0 if error else 0.0):
            raise SolverError(error or "gap update failed on another rank")
        if self.local_cells:
            fbar, _, _ = m.unpack(self.y)
            before = dg.qp_energy(self.grid, old, fbar)
            f_dir, _ = m.directional(self.y)
            self.y[:, : m.nf] = remap_occupation(f_dir, old.rho, new.rho, self.grid.step).reshape(len(self.y), m.nf)
            fbar, _, _ = m.unpack(self.y)
            self.condensate += dg.qp_energy(self.grid, new, fbar) - before
        else:
            new = m.spectra
        self.set_spectra(new)  # collective (the transport gathers every cell's gap)

    def _describe(self, bad):
        """``f[cell 3, E = 0.25 meV] = -1e-3`` for a local violation ``(block, cell, k, value)``."""
        name, c, k, v = bad
        energy = f", E = {self.grid.x[k] * self.units.kTc_meV:.4g} meV" if k >= 0 else ""
        return f"{name}[cell {c + self.cell_range[0]}{energy}] = {v!r}"

    def _first_violation(self, bad):
        """Collective: the description of the first rank's violation (every rank gets it)."""
        texts = self.par.comm.allgather(self._describe(bad) if bad else None)
        return next((t for t in texts if t), None)

    def _check(self, y=None, raise_error=True):
        y = self.y if y is None else y
        bad = self.model.check_state(y) if self.local_cells else None
        flag = self.par.reduce_max(1.0 if bad else 0.0)
        if flag and raise_error:
            where = self._first_violation(bad)
            raise SolverError(f"non-physical state {where} after a step from t = {self.t * self.units.tau0_ns:.6g} ns "
                              f"(dt = {self.dt * self.units.tau0_ns:.3g} ns)")
        return not flag

    def _transport(self, y, h):
        """Half step of transport (sphere) or nothing (point). Returns (y, outflow, ok)."""
        if self.transport is None:
            return y, None, True
        with stage("transport"):
            y2, out = self.transport.half_step(y, h)
            y2 = clean_roundoff(self.model, y2)
        return y2, out, self._check(y2, raise_error=False)

    def _book(self, *outs):
        for out in outs:
            if out:
                for k in OUT_KEYS:
                    self.out[k] += out[k]

    def step_limit(self, remaining):
        """Largest step now and which bound sets it: accuracy, stiffness or CFL."""
        limits = {"stiffness": self.stepper.dt_limit(self.model, self.y)}
        if self.transport is not None:
            limits["CFL"] = self.transport.dt_limit()
        reason, limit = min(limits.items(), key=lambda kv: kv[1])
        return (limit, reason) if limit < min(self.dt, remaining) else (np.inf, "accuracy")

    def advance_to(self, t_target):
        """Integrate to ``t_target`` (internal units): on return ``t == t_target`` and ``y``,
        the spectra and the ledgers are the state there.

        The steps do not depend on ``t_target`` (docs/numerics.md, "Output times do not steer
        the steps"): the trajectory takes the steps its controller (or ``time.dt_ns``) chooses
        and stops before one that would reach ``t_target``; the state at ``t_target`` is then
        integrated on a branch from a copy of the trajectory state, and the next call goes
        on from that copy. A caller that changes ``y`` or the spectra in between continues
        from its own state instead.
        """
        self.branches.resume()
        if not self.t < t_target:
            return
        self._steps_to(t_target, land=False)
        if self.t != t_target:
            self.branches.fork()
            self._steps_to(t_target, land=True)
            self.t = t_target
            self.branches.landed()

    def _steps_to(self, t_target, land):
        """Accepted steps towards ``t_target``. ``land``: cut the last step to end on it;
        otherwise stop before a step that would reach it (within 1e-13)."""
        max_steps = self.cfg["time"]["max_steps"]
        while self.t < t_target * (1 - 1e-13):
            hooks.fire("before_step", sim=self)
            if self.steps >= max_steps:
                raise SolverError(f"time.max_steps = {max_steps} reached at t = {self.t * self.units.tau0_ns:.6g} ns")
            remaining = t_target - self.t if land else np.inf
            if self.fixed_dt is not None:
                h = min(self.fixed_dt, remaining)
                if not land and self.t + h >= t_target * (1 - 1e-13):
                    return
                accepted = self._fixed_step(h)
            else:
                limit, reason = self.step_limit(remaining)
                planned = min(self.dt, limit)
                self._check_underflow(planned)
                if not land and self.t + planned >= t_target * (1 - 1e-13):
                    return
                h = min(planned, remaining)
                if h < remaining:  # a step cut short by an output time says nothing about the bound
                    self.limit_reason = reason
                accepted = self._adaptive_step(h, remaining)
            if accepted:
                self.t += h
                self.steps += 1
                with stage("gap"):
                    self._after_step()

    def _fixed_step(self, h):
        """One Strang step ``T(h/2) C(h) T(h/2)`` of ``time.dt_ns``: no error control, and an
        inadmissible state ends the run."""
        y1, out1, _ = self._transport(self.y, 0.5 * h)
        with stage("collisions"):
            y2, _ = self.stepper.step(self.model, y1, h)
        y3, out3, _ = self._transport(clean_roundoff(self.model, y2), 0.5 * h)
        self.dt = h
        self._check(y3)  # before the state is replaced: self.y stays the last good state
        self.y = y3
        self._book(out1, out3)
        return True

    def _adaptive_step(self, h, remaining):
        """One attempted Strang step with error control; returns whether it was accepted and
        sets the next ``dt`` (docs/numerics.md, "Adaptive step control")."""
        y1, out1, ok = self._transport(self.y, 0.5 * h)
        accepted, dt_next = False, 0.5 * h
        if ok:
            with stage("collisions"):
                accepted, y2, dt_next, _ = self.controller.attempt(self.model, y1, h)
            if accepted:
                y3, out3, ok = self._transport(y2, 0.5 * h)
                if ok:
                    self.y = y3
                    self._book(out1, out3)
                else:
                    accepted, dt_next = False, 0.5 * h
        if accepted:
            self.rejects_in_row = 0
            self.controller.last_violation = None
            self.last_accepted_dt = h
        else:
            self.rejects_in_row += 1
            if self.rejects_in_row > self.controller.max_rejects:
                why = self._first_violation(self.controller.last_violation if self.local_cells else None)
                raise SolverError(f"{self.rejects_in_row} step rejections in a row at t = "
                                  f"{self.t * self.units.tau0_ns:.6g} ns (dt = {h * self.units.tau0_ns:.3g} ns)"
                                  + (f"; last inadmissible try: {why}" if why else ""))
        if not (accepted and h == remaining and h < self.dt):
            self.dt = dt_next  # (a step cut short by an output time keeps the old dt)
        return accepted

    def _check_underflow(self, planned):
        if planned < self.controller.dt_min * max(self.t, 1e-3):
            why = (self._first_violation(self.controller.last_violation if self.local_cells else None)
                   if self.rejects_in_row else None)
            raise SolverError(f"step size underflow (dt = {planned * self.units.tau0_ns:.3g} ns) at "
                              f"t = {self.t * self.units.tau0_ns:.6g} ns after {self.rejects_in_row} rejections"
                              + (f"; last inadmissible try: {why}" if why else ""))

    def output_time(self, k):
        k0, t0 = self.output_origin
        target = min(self.t_end, t0 + (k - k0) * self.output_interval if (k0, t0) != (0, 0.0)
                     else k * self.output_interval)
        return self.t_end if self.t_end - target < 1e-9 * self.output_interval else target

    def run(self, writer=None, progress=None, until_ns=None, output=None, force=False):
        """Integrate to ``time.t_end_ns``, or to ``until_ns`` if that is earlier (a later
        call goes on from there), writing a record at t = 0 and at every output time.

        Parameters
        ----------
        writer : fileio.output.OutputFile, optional
            Where the records go (nowhere by default).
        progress : callable, optional
            ``progress(sim, wall_s)`` after every record.
        until_ns : float, optional
            Stop at this time (ns) instead of ``t_end``.
        output : str or path, optional
            Create this HDF5 file (``--force``: ``force=True``) as ``boltzphlow run -o`` does:
            records (opened mid-run: the current state first), checkpoints as configured, an
            emergency checkpoint if the integration fails (``SolverError.emergency_checkpoint``);
            it is closed at ``t_end``.

        Returns
        -------
        float
            The wall time of this call (s).
        """
        from boltzphlow_mpi.app import runner
        until = None if until_ns is None else until_ns / self.units.tau0_ns
        if output is not None:
            self.writer = runner.open_output(self, output, force)
            if self.records:  # a file opened mid-run starts with the current state, as a restart's
                self.write_record(self.writer)
        if writer is None and self.writer is not None:
            return runner.run_into(self, self.writer, progress, until)
        return self.run_records(writer, progress, until)

    def run_records(self, writer=None, progress=None, until=None):
        """Integrate to ``t_end`` (or to ``until``, internal units, if earlier), writing a
        record at t = 0 and every output interval, and a checkpoint after the records at
        multiples of the checkpoint interval and at ``t_end`` (when ``checkpoint_dir`` is
        set). A later call goes on from there. Returns the wall time of this call (s)."""
        wall0 = _time.time()
        if self.records == 0:
            self.grid_top_max = self.totals()["energy_at_grid_top"]
            if writer is not None:
                self.write_record(writer)
            self.records = 1
        end = self.t_end if until is None else min(until, self.t_end)
        while self.t < end * (1 - 1e-13):
            target = self.output_time(self.records)
            if target > end:  # stop between two records
                self.advance_to(end)
                break
            self.advance_to(target)
            self.t = target  # exact output times, no drift
            tot = self.totals()
            self.grid_top_max = max(self.grid_top_max, tot["energy_at_grid_top"])
            if writer is not None:
                with stage("output"):
                    self.write_record(writer, tot)
            self.records += 1
            self._maybe_checkpoint()
            if progress is not None:
                progress(self, _time.time() - wall0)
        wall = _time.time() - wall0
        self.wall_s += wall
        return wall

    @property
    def t_ns(self):
        """The current time (ns)."""
        return self.t * self.units.tau0_ns

    def solve_steady(self):
        """Collective. The steady state under the drives (``[solve]``: optional transient, then
        Newton; docs/physics.md, "Steady states"); the state becomes it. Returns
        ``summary()``. Raises ``SolverError`` (on every rank) if Newton fails."""
        from boltzphlow_mpi.app import steady
        steady.solve(self)
        return self.summary()

    def summary(self):
        """Collective. The numbers ``boltzphlow run`` prints, as a dict whose keys carry their
        units: of the steady state after ``solve_steady``, else of the run so far (time,
        steps, QPs, where the deposit went, eta, the ledger error)."""
        from boltzphlow_mpi.app import reports
        if self.steady_state:
            return reports.steady_summary(self, self.steady_result)
        return reports.run_summary(self, self.wall_s)

    def checkpoint_state(self, t_record=None):
        """What a checkpoint of the current state holds (``fileio.checkpoint.CheckpointState``);
        ``t_record``: the time of the last record (default ``t``)."""
        scalars = {k: getattr(self, _ATTR.get(k, k)) for k in checkpoint.SCALARS}
        return checkpoint.CheckpointState(
            n_cells=self.n_cells, cell_range=self.cell_range, y=self.y, delta=self.model.delta,
            condensate=self.condensate, gap_state=self.gap_model.state_arrays(), scalars=scalars,
            t_record=self.t if t_record is None else t_record, limit_reason=self.limit_reason, out=self.out,
            initial=self.initial, config=self.cfg, output_path=self.output_path, gap_model=self.gap_model.name)

    def emergency_checkpoint(self):
        """Collective: the last good state (the state is only replaced by admissible ones) to
        ``CHECKPOINT_DIR/emergency_<records>.h5``; returns the path (None if it fails)."""
        directory = self.checkpoint_dir or self.cfg["output"]["checkpoint_dir"]
        # the step controller as it was after the last accepted step, not after the failed tries
        saved = self.dt, self.rejects_in_row
        self.dt, self.rejects_in_row = self.last_accepted_dt, 0
        try:
            return checkpoint.write(self.checkpoint_state(), self.par, directory, keep=None, prefix="emergency")
        except (OSError, ValueError) as exc:  # raised alike on every rank (collective HDF5)
            self.par.print(f"boltzphlow: emergency checkpoint failed: {exc}")
            return None
        finally:
            self.dt, self.rejects_in_row = saved

    def _maybe_checkpoint(self):
        if self.checkpoint_dir is None or self.checkpoint_interval is None:
            return
        at_end = self.t >= self.t_end * (1 - 1e-13)
        if self.t >= self.next_checkpoint * (1 - 1e-12) or at_end:
            while self.next_checkpoint <= self.t * (1 + 1e-12):
                self.next_checkpoint += self.checkpoint_interval
            with self.branches.at_trajectory() as t_record:
                self.last_checkpoint = checkpoint.write(self.checkpoint_state(t_record), self.par, self.checkpoint_dir,
                                                        self.cfg["output"]["checkpoint_keep"])

    def write_record(self, writer, tot=None):
        """Collective: append the current state (occupations, gaps, diagnostics) to ``writer``."""
        f, n, _ = self.model.unpack(self.y)
        writer.append(self.t * self.units.tau0_ns, f, n, self.model.delta * self.units.kTc_meV, self.record(tot))
