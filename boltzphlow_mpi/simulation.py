"""The run driver: builds the model from a validated config and integrates it.

0-D runs (``[geometry] kind = "point"``) are one cell; the cell is owned by rank 0 of
the block partition and the other ranks own none, but every rank executes the same
steps and collective calls, so a point run under ``mpirun`` takes exactly the code path
of the radial solver with one cell.
"""
import time as _time

import numpy as np

from . import diagnostics as dg
from .collisions import CollisionKernel
from .config import material_overrides
from .energy_grid import EnergyGrid, cell_spectra
from .errors import InputError, SolverError
from .gap import equilibrium_gap, solve_gap
from .kinetics import CellKinetics
from .materials import get_material
from .parallel import block_range
from .steppers import StepController, make_stepper
from .thermal_functions import bose, fermi
from .units import Units


def resolve_material(cfg, key="material.name"):
    name = cfg["material"]["name"]
    try:
        return get_material(name, material_overrides(cfg))
    except KeyError as exc:
        raise InputError(key, name, "a known material", str(exc).strip("'\"")) from None
    except ValueError as exc:
        raise InputError("material", name, "valid overrides", str(exc)) from None


class Simulation:
    """Model, state and time loop of one run."""

    def __init__(self, cfg, par):
        self.cfg, self.par = cfg, par
        mat = self.material = resolve_material(cfg)
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
        self.delta_bath = float(equilibrium_gap(self.temperature, self.delta0, self.cutoff))
        self.n_cells = 1
        self.cell_range = block_range(self.n_cells, par.size, par.rank)
        self.local_cells = self.cell_range[1] - self.cell_range[0]
        self.weight = dg.phonon_energy_weight(self.delta0, self.tau_ratio)
        esc = cfg["phonon_escape"]
        escape_rate = mat.tau0_ns / esc["tau_ns"] if esc["tau_ns"] else 0.0
        self.kernel = CollisionKernel(self.grid, self.tau_ratio, self.delta0, method=g["kernel"])
        self.model = CellKinetics(
            self.grid, self.kernel, np.full(self.local_cells, self.delta_bath),
            bath_temperature=self.temperature, escape_rate=escape_rate,
            escape_subgap_only=esc["only_subgap"], dynes_gamma=self.gamma, phonon_weight=self.weight)
        self.self_consistent = cfg["gap"]["mode"] == "self-consistent"
        if self.self_consistent:
            # the bath gap of the discrete gap equation, so the bath state is self-consistent
            f_bath = fermi(self.grid.x, self.temperature)[None, :]
            self.delta_bath = float(self._solve_gap(f_bath, [self.delta_bath])[0])
            self.model.set_gap(np.full(self.local_cells, self.delta_bath))
        self.y = self._initial_state()
        self.condensate = np.zeros(self.local_cells)  # energy gained by QPs from gap changes
        self.initial = self.totals()  # reference of the ledger: the deposit on the bath gap
        if self.self_consistent:
            self._after_step()  # the deposit moves the gap at t = 0; booked as condensate energy
        tm = cfg["time"]
        self.stepper = make_stepper(tm["method"], par.reduce_max, mu_mode=tm["tr_mu"])
        to_int = 1.0 / mat.tau0_ns
        self.t_end = tm["t_end_ns"] * to_int
        self.fixed_dt = tm["dt_ns"] * to_int if tm["dt_ns"] else None
        self.dt = (tm["dt_initial_ns"] * to_int if tm["dt_initial_ns"] else 1e-6 * self.t_end)
        self.controller = StepController(self.stepper, rtol=tm["rtol"],
                                         dt_max=(tm["dt_max_ns"] * to_int if tm["dt_max_ns"] else np.inf))
        self.output_interval = (tm["output_interval_ns"] * to_int if tm["output_interval_ns"] else self.t_end / 100)
        if self.fixed_dt is not None:
            self.dt = self.fixed_dt
        self.dt = min(self.dt, self.controller.dt_max)
        self.limit_reason = "accuracy"
        self.t = 0.0
        self.steps = 0

    # -- set-up -----------------------------------------------------------------------
    def _initial_state(self):
        """Thermal state plus a Gaussian packet scaled to the deposit (SPEC section 8)."""
        x, grid, m = self.grid.x, self.grid, self.model
        f = np.tile(fermi(x, self.temperature), (self.local_cells, 1))
        n = np.tile(bose(x, self.temperature) * grid.phonon_mask, (self.local_cells, 1))
        ini = self.cfg["initial"]
        deposit = ini["deposit_eV_per_um3"] / self.units.energy_density_eV_per_um3
        self.deposit = deposit
        if deposit > 0:
            centre = ini["energy_center_over_delta0"] * self.delta0
            width = ini["energy_width_over_delta0"] * self.delta0
            bump = np.exp(-0.5 * ((x - centre) / width) ** 2)
            if ini["species"] == "phonon":
                bump = bump * grid.phonon_mask
                unit = float(dg.phonon_energy(grid, self.weight, bump))
                if unit <= 0:
                    raise InputError("initial.energy_center_over_delta0", ini["energy_center_over_delta0"],
                                     "a packet on phonon modes (0 < Omega <= Omega_D)")
                n = n + (deposit / unit) * bump
            else:
                spec = cell_spectra(grid, [self.delta_bath], self.gamma)
                bump = bump * spec.active[0]
                unit = float(dg.qp_energy(grid, spec, bump[None, :])[0])
                if unit <= 0:
                    raise InputError("initial.energy_center_over_delta0", ini["energy_center_over_delta0"],
                                     "a packet above the gap")
                amp = deposit / unit
                room = np.min(np.where(bump > 1e-300, (1 - fermi(x, self.temperature)) / np.maximum(bump, 1e-300), np.inf))
                if amp > room:
                    most = room * unit * self.units.energy_density_eV_per_um3
                    raise InputError("initial.deposit_eV_per_um3", ini["deposit_eV_per_um3"],
                                     f"a deposit that keeps f <= 1 (at most {most:.4g} eV/um^3 for this packet)")
                f = f + amp * bump
        return m.pack(f, n, 0.0, 0.0)

    def _solve_gap(self, f, guess):
        return solve_gap(self.grid, f, self.delta0, self.cutoff, self.gamma, guess=guess)

    # -- bookkeeping --------------------------------------------------------------------
    def totals(self):
        """Global totals (internal units), summed over cells in global cell order."""
        f, n, esc = self.model.unpack(self.y)
        acc = self.model.accumulators(self.y)
        spec, grid = self.model.spectra, self.grid
        top = max(1, grid.size // 20)
        per_cell = np.stack([
            dg.qp_number(grid, spec, f), dg.qp_energy(grid, spec, f),
            dg.phonon_energy(grid, self.weight, n), esc, acc["energy_qp_to_phonon"],
            self.condensate if hasattr(self, "condensate") else np.zeros(len(f)),
            self.model.delta,
            # excitation energy in the top 5 % of the grid (SPEC section 2: report what reaches E_max)
            4 * grid.step * np.sum((grid.x * spec.rho * np.abs(f - self.model.f_bath))[:, -top:], axis=1)
            + 4 * self.weight * grid.step * np.sum((grid.x ** 3 * np.abs(n - self.model.n_bath))[:, -top:], axis=1),
        ], axis=1) if len(f) else np.zeros((0, 8))
        allc = self.par.gather_cells(per_cell)
        nq, eq, ep, ee, et, ec, dl, eg = np.sum(allc, axis=0)
        return {"qp_number": nq, "qp_energy": eq, "phonon_energy": ep, "energy_escaped": ee,
                "energy_qp_to_phonon": et, "energy_condensate": ec, "gap_mean": dl / self.n_cells,
                "energy_at_grid_top": eg}

    def ledger_error(self, tot):
        inside = tot["qp_energy"] + tot["phonon_energy"] + tot["energy_escaped"] - tot["energy_condensate"]
        initial = self.initial["qp_energy"] + self.initial["phonon_energy"]
        ref = self.deposit * self.n_cells if self.deposit > 0 else initial
        return (inside - initial) / ref

    def record(self):
        """Diagnostics in physical units."""
        tot = self.totals()
        u = self.units
        nd, ed = u.number_density_per_um3, u.energy_density_eV_per_um3
        return {
            "qp_number": tot["qp_number"] * nd,
            "qp_number_excess": (tot["qp_number"] - self.initial_thermal_number) * nd,
            "qp_energy": tot["qp_energy"] * ed,
            "phonon_energy": tot["phonon_energy"] * ed,
            "energy_escaped": tot["energy_escaped"] * ed,
            "energy_qp_to_phonon": tot["energy_qp_to_phonon"] * ed,
            "energy_condensate": tot["energy_condensate"] * ed,
            "energy_at_grid_top": tot["energy_at_grid_top"] * ed,
            "energy_ledger_error": self.ledger_error(tot),
            "gap_mean": tot["gap_mean"] * u.kTc_meV,
            "dt": self.dt * u.tau0_ns,
            "steps": float(self.steps),
        }

    @property
    def bath_totals(self):
        """QP number and energies of the bath state (bath gap), summed over cells."""
        if not hasattr(self, "_bath_totals"):
            spec = cell_spectra(self.grid, [self.delta_bath], self.gamma)
            f = fermi(self.grid.x, self.temperature)[None]
            n = bose(self.grid.x, self.temperature)[None] * self.grid.phonon_mask
            self._bath_totals = {
                "qp_number": float(dg.qp_number(self.grid, spec, f)[0]) * self.n_cells,
                "qp_energy": float(dg.qp_energy(self.grid, spec, f)[0]) * self.n_cells,
                "phonon_energy": float(dg.phonon_energy(self.grid, self.weight, n)[0]) * self.n_cells,
            }
        return self._bath_totals

    @property
    def initial_thermal_number(self):
        return self.bath_totals["qp_number"]

    # -- time loop ----------------------------------------------------------------------
    def _after_step(self):
        if not self.self_consistent or self.local_cells == 0:
            return
        f, _, _ = self.model.unpack(self.y)
        before = dg.qp_energy(self.grid, self.model.spectra, f)
        self.model.set_gap(self._solve_gap(f, self.model.delta))
        self.condensate += dg.qp_energy(self.grid, self.model.spectra, f) - before

    def _check(self):
        bad = self.model.check_state(self.y) if self.local_cells else None
        flag = self.par.reduce_max(1.0 if bad else 0.0)
        if flag:
            if bad:
                name, c, k, v = bad
                where = f"{name}[cell {c + self.cell_range[0]}, E = {self.grid.x[k] * self.units.kTc_meV:.4g} meV]"
                raise SolverError(f"non-physical state {where} = {v!r} at t = {self.t * self.units.tau0_ns:.6g} ns")
            raise SolverError("non-physical state on another rank")

    def advance_to(self, t_target):
        """Integrate to ``t_target`` (internal units) with the fixed or adaptive step."""
        max_steps = self.cfg["time"]["max_steps"]
        while self.t < t_target * (1 - 1e-13):
            if self.steps >= max_steps:
                raise SolverError(f"time.max_steps = {max_steps} reached at t = {self.t * self.units.tau0_ns:.6g} ns")
            remaining = t_target - self.t
            if self.fixed_dt is not None:
                h = min(self.fixed_dt, remaining)
                self.y, _ = self.stepper.step(self.model, self.y, h)
                self._check()
                accepted = True
            else:
                limit = self.stepper.dt_limit(self.model, self.y)
                self.limit_reason = "stiffness" if limit < min(self.dt, remaining) else "accuracy"
                h = min(self.dt, remaining, limit)
                if h < self.controller.dt_min * self.t_end:
                    raise SolverError(f"step size underflow (dt = {h * self.units.tau0_ns:.3g} ns) at "
                                      f"t = {self.t * self.units.tau0_ns:.6g} ns")
                accepted, y_new, dt_next, _ = self.controller.attempt(self.model, self.y, h)
                if accepted:
                    self.y = y_new
                    self._rejects_in_row = 0
                else:
                    self._rejects_in_row = getattr(self, "_rejects_in_row", 0) + 1
                    if self._rejects_in_row > self.controller.max_rejects:
                        raise SolverError(f"{self._rejects_in_row} step rejections in a row at t = "
                                          f"{self.t * self.units.tau0_ns:.6g} ns (dt = {h * self.units.tau0_ns:.3g} ns)")
                if not (accepted and h == remaining and h < self.dt):
                    self.dt = dt_next  # (a step cut short by an output time keeps the old dt)
            if accepted:
                self.t += h
                self.steps += 1
                self._after_step()

    def run(self, writer=None, progress=None):
        """Integrate to ``t_end``, writing a record at t = 0 and every output interval."""
        wall0 = _time.time()
        self.grid_top_max = self.totals()["energy_at_grid_top"]
        if writer is not None:
            self._write(writer)
        k = 0
        while self.t < self.t_end * (1 - 1e-13):
            k += 1
            target = min(self.t_end, k * self.output_interval)
            if self.t_end - target < 1e-9 * self.output_interval:
                target = self.t_end  # the last record lands on t_end exactly
            self.advance_to(target)
            self.t = target  # exact output times, no drift
            self.grid_top_max = max(self.grid_top_max, self.totals()["energy_at_grid_top"])
            if writer is not None:
                self._write(writer)
            if progress is not None:
                progress(self, _time.time() - wall0)
        return _time.time() - wall0

    def _write(self, writer):
        f, n, _ = self.model.unpack(self.y)
        writer.append(self.t * self.units.tau0_ns, f, n, self.model.delta * self.units.kTc_meV, self.record())
