"""Building a run from its validated config: the material, the drives, the initial
state and the first step (the set-up ``Simulation`` runs once)."""
import numpy as np

from boltzphlow_mpi.app.config import material_overrides
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.numerics.steppers import relaxation_rate
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.drives import PLANCK_MEV_PER_GHZ, Drive, power_to_internal
from boltzphlow_mpi.physics.materials import get_material
from boltzphlow_mpi.physics.statistics import bose, fermi


def resolve_material(cfg, key="material.name"):
    name = cfg["material"]["name"]
    try:
        return get_material(name, material_overrides(cfg))
    except KeyError as exc:
        raise InputError(key, name, "a known material", str(exc).strip("'\"")) from None
    except ValueError as exc:
        raise InputError("material", name, "valid overrides", str(exc)) from None


def drives(sim):
    """``[[drive]]`` tables -> ``drives.Drive`` terms on the energy grid (docs/physics.md, "Drives (issue 6)")."""
    out = []
    g, d_bath, top = sim.grid, sim.delta_bath, (sim.grid.size - 1) * sim.grid.step
    for i, d in enumerate(sim.cfg["drive"]):
        key = f"drive.{i}." + ("energy_over_delta0" if d["energy_over_delta0"] is not None else "frequency_GHz")
        value = d["energy_over_delta0"] if d["energy_over_delta0"] is not None else d["frequency_GHz"]
        energy = (d["energy_over_delta0"] * sim.delta0 if d["energy_over_delta0"] is not None
                  else d["frequency_GHz"] * PLANCK_MEV_PER_GHZ / sim.units.kTc_meV)
        m = int(round(energy / g.step))
        e = m * g.step
        if d["kind"] == "photon" and not (e > 2 * d_bath and e - d_bath <= top):
            raise InputError(key, value, f"a photon energy above 2 Delta = {2 * d_bath / sim.delta0:.4g} Delta_0 "
                             f"with h nu - Delta below the grid top {top / sim.delta0:.4g} Delta_0")
        if d["kind"] == "microwave" and not (0 < m and e < 2 * d_bath):
            raise InputError(key, value, f"a photon energy of at least one energy step and below 2 Delta = "
                             f"{2 * d_bath / sim.delta0:.4g} Delta_0")
        if d["kind"] == "phonon" and not (0 < m < g.size and g.phonon_mask[m]):
            raise InputError(key, value, "a phonon energy on the grid's phonon band (0 < Omega <= Omega_D, "
                             "below the grid top)")
        shape = sim.geometry.drive_shape(d["radius_width_um"], f"drive.{i}.radius_width_um")
        out.append(Drive(d["kind"], m, power_to_internal(d["power_W_per_um3"], sim.units) * shape))
    return out


def initial_state(sim):
    """``(y, deposit)``: the thermal state plus a Gaussian packet scaled to the deposit of the
    local cells, and the deposit (internal units; docs/physics.md, "Initial condition")."""
    x, grid, m = sim.grid.x, sim.grid, sim.model
    f = np.tile(fermi(x, sim.temperature), (sim.local_cells, 1))
    n = np.tile(bose(x, sim.temperature) * grid.phonon_mask, (sim.local_cells, 1))
    ini = sim.cfg["initial"]
    key = f"initial.{sim.geometry.deposit_key}"
    given = ini[sim.geometry.deposit_key]
    deposit = given / sim.units.energy_density_eV_per_um3  # internal energy x um^3
    if deposit > 0:
        shape, integral = sim.geometry.profile(ini["radius_width_um"])
        centre = ini["energy_center_over_delta0"] * sim.delta0
        width = ini["energy_width_over_delta0"] * sim.delta0
        bump = np.exp(-0.5 * ((x - centre) / width) ** 2)
        if ini["species"] == "phonon":
            bump = bump * grid.phonon_mask
            unit = float(dg.phonon_energy(grid, sim.weight, bump))
            if unit <= 0:
                raise InputError("initial.energy_center_over_delta0", ini["energy_center_over_delta0"],
                                 "a packet on phonon modes (0 < Omega <= Omega_D)")
            n = n + (deposit / (unit * integral)) * shape[:, None] * bump
        else:
            spec = sim.bath_spectra
            bump = bump * spec.active[0]
            unit = float(dg.qp_energy(grid, spec, bump[None, :])[0])
            if unit <= 0:
                raise InputError("initial.energy_center_over_delta0", ini["energy_center_over_delta0"],
                                 "a packet above the gap")
            amp = deposit / (unit * integral)  # at the peak of the profile (shape = 1)
            room = np.min(np.where(bump > 1e-300, (1 - fermi(x, sim.temperature)) / np.maximum(bump, 1e-300), np.inf))
            if amp > room:
                most = room * unit * integral * sim.units.energy_density_eV_per_um3
                raise InputError(key, given, f"a deposit that keeps f <= 1 (at most {most:.4g} "
                                 f"{sim.geometry.energy_unit} for this packet)")
            f = f + amp * shape[:, None] * bump
    return m.pack(f, n, 0.0, 0.0), deposit


def initial_dt(sim):
    """First adaptive step: ``1e-3 / mu`` with ``mu`` the largest relaxation rate ``K`` of
    the initial state over all cells (1e-3 tau_0 without any), so that it depends on
    the state and not on ``t_end`` (docs/numerics.md, "Adaptive step control")."""
    mu = 0.0
    if sim.local_cells:
        mu = relaxation_rate(sim.model, sim.model.split(sim.y)[1])
    mu = sim.par.reduce_max(mu)
    return 1e-3 / mu if mu > 1.0 else 1e-3
