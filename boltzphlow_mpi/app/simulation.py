"""``Simulation``: the state of one run, its step loop and its run loop (the object of the
Python API, docs/api.md).

The builder (``app.builder``) makes the physics (geometry, kinetics, transport, gap model)
and the integrator (``numerics.integrator.SplitIntegrator``) from a validated config; the
simulation owns the state (occupations, spectra, ledgers, time), takes the steps the
integrator plans, updates the gap when due (``app.gap_coupling``) and, at the output times
of its ``schedule``, calls the attached handlers (``app.handlers``: records, checkpoints).
Every method is collective; a rank that owns no cell (the point cell lives on one rank)
runs the same code on empty arrays. Totals are volume-weighted sums over cells in global
cell order (rank independent; ``app.ledger``).
"""
import time as _time

import numpy as np

from boltzphlow_mpi import hooks
from boltzphlow_mpi.app import builder, checkpointing, config, ledger
from boltzphlow_mpi.app.branches import Branches
from boltzphlow_mpi.app.gap_coupling import GapCoupling
from boltzphlow_mpi.app.handlers import Checkpoints, Records
from boltzphlow_mpi.app.overrides import with_overrides
from boltzphlow_mpi.app.schedule import Schedule
from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.parallel.comm import stage
from boltzphlow_mpi.physics.energy_grid import cell_spectra

OUT_KEYS = ("qp_number", "qp_energy", "phonon_energy")


class Simulation:
    """Model, state and time loop of one run: the object of the Python API.

    Build one from a job file or a dict, run it, read its summary::

        import boltzphlow_mpi as bp
        sim = bp.Simulation.from_toml("jobs/default.toml", overrides={"time.t_end_ns": 50})
        sim.run(output="out/default.h5", progress=lambda s, wall: print(s.t_ns))
        print(sim.summary()["eta"])

    Parameters
    ----------
    cfg : app.config.Config
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
        from boltzphlow_mpi.parallel.comm import Parallel
        return cls(config.from_dict(with_overrides(raw, overrides)), Parallel(comm))

    @classmethod
    def from_toml(cls, path, overrides=None, comm=None):
        """A simulation of the job file ``path``; ``overrides`` and ``comm`` as in
        ``from_dict``."""
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
        builder.physics(self)     # material, grid, geometry, gap model, kinetics, transport
        self.gap = GapCoupling(self.gap_model, self.model, self.set_spectra, par.reduce_max,
                               cfg.gap.update_every)
        self.steps = 0            # accepted steps (the gap is updated every gap.update_every of them)
        self._bath_totals = None
        self.set_spectra(self.bath_spectra.tile(self.local_cells))
        self.y, self.deposit = builder.initial_state(self)
        self.condensate = np.zeros(self.local_cells)  # energy gained by QPs from gap changes
        self.out = dict.fromkeys(OUT_KEYS, 0.0)       # left through r = R (replicated)
        self.initial = self.totals()  # reference of the ledger: the deposit on the bath gap
        if self.self_consistent:
            self.gap.update(self.y, self.condensate)  # the deposit moves the gap at t = 0 (condensate energy)
        self.integrator = builder.integrator(self)
        self.schedule = Schedule(cfg.time, cfg.output, self.units.tau0_ns)
        self.t = 0.0
        self.records = 0          # output records written (the next one has this index)
        self.grid_top_max = 0.0
        self.wall_s = 0.0         # wall time spent in run() (s)
        self.handlers = []        # called at every output time (app.handlers)
        self.writer = None        # the output file run(output=...) opened, until t_end
        self.output_path = None   # the output file the checkpoints belong to
        self.config_text = None   # the job file's text, when built from one (output attribute "config")
        self.steady_state = False  # set by solve_steady(): y is a steady state
        self.steady_result = None
        self.branches = Branches(self)  # the trajectory while the state is a branch landed on an output time

    # -- the step sequence's state, read through the simulation -------------------------
    @property
    def dt(self):
        """The next step (internal units)."""
        return self.integrator.dt

    @property
    def limit_reason(self):
        """What limits the step: accuracy, stiffness or CFL."""
        return self.integrator.limit_reason

    @property
    def t_end(self):
        return self.schedule.t_end

    @property
    def last_checkpoint(self):
        """The newest checkpoint written by an attached ``handlers.Checkpoints`` (or None)."""
        return next((h.last for h in reversed(self.handlers) if isinstance(h, Checkpoints)), None)

    def add_handler(self, handler):
        """Call ``handler(sim, tot, first)`` at every output time (``app.handlers``)."""
        self.handlers.append(handler)
        return handler

    def remove_handler(self, handler):
        self.handlers.remove(handler)

    @staticmethod
    def tau0_of(cfg):
        """tau_0 (ns) of a config's material: the time unit of a checkpoint."""
        return builder.resolve_material(cfg.material.name, config.material_overrides(cfg)).tau0_ns

    def set_spectra(self, spectra):
        """Spectral functions of the local cells, in the kinetics and the transport."""
        self.model.set_spectra(spectra)
        if self.transport is not None:
            self.transport.set_spectra(self.model.spectra.mass, self.par.gather_cells(self.model.delta))

    def set_gap(self, delta):
        """BCS spectra of the gaps ``delta`` of the local cells (tests, diagnostics)."""
        self.set_spectra(cell_spectra(self.grid, np.asarray(delta, float), self.gamma))

    def restore(self, meta, y, delta, condensate, gap_state=None, integrator_state=None):
        """Collective. Continue from a checkpoint (``checkpoint.read_meta`` / ``read_state``):
        the state, the step sequence and the cadence (``checkpointing.restore``)."""
        checkpointing.restore(self, meta, y, delta, condensate, gap_state, integrator_state)

    # -- bookkeeping (app/ledger.py) ----------------------------------------------------
    def totals(self):
        """Collective. Global totals (internal units x um^3), summed over cells in global
        cell order (``ledger.totals``)."""
        return ledger.totals(self)

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
        max_steps, it = self.cfg.time.max_steps, self.integrator
        while self.t < t_target * (1 - 1e-13):
            hooks.fire("before_step", sim=self)
            if self.steps >= max_steps:
                raise SolverError(f"time.max_steps = {max_steps} reached at t = {self.t * self.units.tau0_ns:.6g} ns")
            remaining = t_target - self.t if land else np.inf
            planned, reason = it.planned(self.y, self.t, remaining)
            if not land and self.t + planned >= t_target * (1 - 1e-13):
                return
            h = min(planned, remaining)
            accepted, self.y, outflows, h = it.step(self.y, self.t, h, remaining, reason)
            if accepted:
                self._book(outflows)
                self.t += h
                self.steps += 1
                if self.self_consistent and self.gap.due(self.steps):
                    with stage("gap"):
                        self.gap.update(self.y, self.condensate)

    def _book(self, outflows):
        for out in outflows:
            if out:
                for k in OUT_KEYS:
                    self.out[k] += out[k]

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
        if writer is None:
            return self.run_records(progress, until)
        records = Records(writer)
        self.handlers.insert(0, records)
        try:
            return self.run_records(progress, until)
        finally:
            self.remove_handler(records)

    def run_records(self, progress=None, until=None):
        """Integrate to ``t_end`` (or to ``until``, internal units, if earlier), calling the
        handlers (records, checkpoints) at t = 0 and at every output time. A later call goes
        on from there. Returns the wall time of this call (s)."""
        wall0 = _time.time()
        if self.records == 0:
            tot = self.totals()
            self.grid_top_max = tot["energy_at_grid_top"]
            self.records = 1
            for handler in self.handlers:
                handler(self, tot, True)
        end = self.t_end if until is None else min(until, self.t_end)
        while self.t < end * (1 - 1e-13):
            target = self.schedule.output_time(self.records)
            if target > end:  # stop between two records
                self.advance_to(end)
                break
            self.advance_to(target)
            self.t = target  # exact output times, no drift
            tot = self.totals()
            self.grid_top_max = max(self.grid_top_max, tot["energy_at_grid_top"])
            self.records += 1
            for handler in self.handlers:
                handler(self, tot, False)
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
        return checkpointing.state(self, t_record)

    def emergency_checkpoint(self):
        """Collective: the last good state to ``CHECKPOINT_DIR/emergency_<records>.h5``;
        returns the path (None if it fails)."""
        return checkpointing.emergency(self)

    def write_record(self, writer, tot=None):
        """Collective: append the current state (occupations, gaps, diagnostics) to ``writer``."""
        f, n, _ = self.model.unpack(self.y)
        writer.append(self.t * self.units.tau0_ns, f, n, self.model.delta * self.units.kTc_meV, self.record(tot))
