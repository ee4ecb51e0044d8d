"""The energy ledger and the diagnostics of a record (docs/physics.md, "Energy ledger";
docs/output.md): totals gathered in global cell order, so they are bitwise the same on
any number of ranks (docs/numerics.md, "Rank independence")."""
import numpy as np

from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.statistics import bose, fermi


def totals(sim):
    """Global totals (internal units x um^3), summed over cells in global cell order."""
    f, n, esc = sim.model.unpack(sim.y)
    acc = sim.model.accumulators(sim.y)
    spec, grid = sim.model.spectra, sim.grid
    top = max(1, grid.size // 20)
    per_cell = np.stack([
        dg.qp_number(grid, spec, f), dg.qp_energy(grid, spec, f),
        dg.phonon_energy(grid, sim.weight, n), esc, acc["energy_qp_to_phonon"], acc["energy_absorbed"],
        sim.condensate,
        # excitation energy in the top 5 % of the grid: report what reaches E_max
        # (docs/physics.md, "Energy grid and cell-averaged spectral functions")
        4 * grid.step * np.sum((grid.x * spec.mass * np.abs(f - sim.model.f_bath))[:, -top:], axis=1)
        + np.sum((dg.phonon_energy_weights(grid, sim.weight) * np.abs(n - sim.model.n_bath))[:, -top:], axis=1),
    ], axis=1) * sim.volumes[:, None] if len(f) else np.zeros((0, 8))
    per_cell = np.concatenate([per_cell, sim.model.delta[:, None]], axis=1)
    allc = sim.par.gather_cells(per_cell)
    nq, eq, ep, ee, et, ea, ec, eg, dl = np.sum(allc, axis=0)
    return {"qp_number": nq, "qp_energy": eq, "phonon_energy": ep, "energy_escaped": ee,
            "energy_qp_to_phonon": et, "energy_absorbed": ea, "energy_condensate": ec, "gap_mean": dl / sim.n_cells,
            "energy_at_grid_top": eg, "energy_out": sim.out["qp_energy"] + sim.out["phonon_energy"],
            "qp_number_out": sim.out["qp_number"], "gap_all": allc[:, -1]}


def ledger_error(sim, tot):
    inside = (tot["qp_energy"] + tot["phonon_energy"] + tot["energy_escaped"] + tot["energy_out"]
              - tot["energy_condensate"] - tot["energy_absorbed"])
    initial = sim.initial["qp_energy"] + sim.initial["phonon_energy"]
    ref = max(sim.deposit, tot["energy_absorbed"]) if (sim.deposit > 0 or tot["energy_absorbed"] > 0) else initial
    return (inside - initial) / ref


def record(sim, tot=None):
    """Diagnostics in physical units (point: per um^3; sphere: counts and eV)."""
    tot = totals(sim) if tot is None else tot
    u = sim.units
    nd, ed = u.number_density_per_um3, u.energy_density_eV_per_um3
    return {
        "qp_number": tot["qp_number"] * nd,
        "qp_number_excess": (tot["qp_number"] - sim.initial_thermal_number) * nd,
        "qp_energy": tot["qp_energy"] * ed,
        "phonon_energy": tot["phonon_energy"] * ed,
        "energy_escaped": tot["energy_escaped"] * ed,
        "energy_out": tot["energy_out"] * ed,
        "qp_number_out": tot["qp_number_out"] * nd,
        "energy_qp_to_phonon": tot["energy_qp_to_phonon"] * ed,
        "energy_absorbed": tot["energy_absorbed"] * ed,
        "energy_condensate": tot["energy_condensate"] * ed,
        "energy_at_grid_top": tot["energy_at_grid_top"] * ed,
        # a steady state is not reached through time: it has no energy ledger
        "energy_ledger_error": np.nan if sim.steady_state else ledger_error(sim, tot),
        "gap_mean": tot["gap_mean"] * u.kTc_meV,
        "dt": sim.dt * u.tau0_ns,
        "steps": float(sim.steps),
    }


def bath_totals(sim):
    """QP number and energies of the bath state (bath gap), summed over the volume."""
    spec = sim.bath_spectra
    f = fermi(sim.grid.x, sim.temperature)[None]
    n = bose(sim.grid.x, sim.temperature)[None] * sim.grid.phonon_mask
    vol = float(np.sum(sim.volumes_all))
    return {
        "qp_number": float(dg.qp_number(sim.grid, spec, f)[0]) * vol,
        "qp_energy": float(dg.qp_energy(sim.grid, spec, f)[0]) * vol,
        "phonon_energy": float(dg.phonon_energy(sim.grid, sim.weight, n)[0]) * vol,
    }
