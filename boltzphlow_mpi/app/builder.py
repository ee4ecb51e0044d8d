"""Building a run from its validated config (the set-up ``Simulation`` runs once): the
material, grid, geometry, gap model and kinetics (``physics``), the drives, the initial
state, the first step and the integrator."""
import numpy as np

from boltzphlow_mpi.app import geometry
from boltzphlow_mpi.app.config import material_overrides
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.numerics.integrator import SplitIntegrator
from boltzphlow_mpi.numerics.steppers import StepController, make_stepper, relaxation_rate
from boltzphlow_mpi.numerics.stiff import BDFIntegrator
from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.collisions import CollisionKernel
from boltzphlow_mpi.physics.constants import PLANCK_MEV_PER_GHZ
from boltzphlow_mpi.physics.drives import Drive, power_to_internal, split_energy
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, gap_aligned_step
from boltzphlow_mpi.physics.gap.alpha2f import SHIPPED, Alpha2F, read_alpha2f_table
from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap
from boltzphlow_mpi.physics.gap.eliashberg import EliashbergSolver, minimum_cutoff
from boltzphlow_mpi.physics.gap.models import BCSGap, EliashbergGap
from boltzphlow_mpi.physics.kinetics import CellKinetics
from boltzphlow_mpi.physics.material_table import get_material
from boltzphlow_mpi.physics.statistics import bose, fermi
from boltzphlow_mpi.physics.units import Units


def physics(sim):
    """The physical model of ``sim.cfg`` on ``sim``: material, units, bath temperature,
    energy grid, geometry (cells of this rank), collision kernel, gap model and bath
    spectra, the kinetics of the local cells and the transport (None for a point)."""
    cfg = sim.cfg
    mat = sim.material = resolve_material(cfg.material.name, material_overrides(cfg))
    sim.units = Units.of(mat)
    sim.delta0 = mat.delta0_over_kTc
    sim.tau_ratio = mat.tau0_ratio
    bath = cfg.bath
    sim.temperature = (bath.temperature_over_tc if bath.temperature_over_tc is not None
                       else bath.temperature_K / mat.tc_K)
    if sim.temperature >= 1.0:
        raise InputError("bath.temperature_K", bath.temperature_K, f"a temperature below T_c = {mat.tc_K:g} K")
    g = cfg.grid
    debye = mat.debye_meV / sim.units.kTc_meV
    step = g.energy_step_over_delta0 * sim.delta0
    # BCS only: the Eliashberg self-energies are computed on the kinetic grid, and their
    # iteration (issue 17) is not yet robust to an arbitrary step (a hot sphere cell at
    # Delta_0/8.75 did not converge where Delta_0/8 does)
    if g.align_gap and cfg.gap.model == "bcs":
        step = gap_aligned_step(step, float(equilibrium_gap(sim.temperature, sim.delta0, debye)))
    sim.grid = EnergyGrid.from_max(step, g.energy_max_over_delta0 * sim.delta0, debye)
    sim.gamma = g.dynes_gamma_over_delta0 * sim.delta0
    sim.cutoff = sim.grid.debye
    sim.weight = dg.phonon_energy_weight(sim.delta0, sim.tau_ratio)
    geo = sim.geometry = geometry.make(cfg, sim.par, sim.grid)
    sim.mesh, sim.n_cells, sim.cell_range = geo.mesh, geo.n_cells, geo.cell_range
    sim.local_cells, sim.volumes_all, sim.volumes = geo.local_cells, geo.volumes_all, geo.volumes
    esc = cfg.phonon_escape
    escape_rate = mat.tau0_ns / esc.tau_ns if esc.tau_ns else 0.0
    sim.kernel = CollisionKernel(sim.grid, sim.tau_ratio, sim.delta0, method=g.kernel, tail_temperature=sim.temperature,
                                 edge_pairs=cfg.collisions.edge_pair_weights)
    # the gap model and the bath state's spectra (docs/physics.md, "BCS gap", "Eliashberg self-energies")
    sim.self_consistent = cfg.gap.mode == "self-consistent"
    sim.gap_model = (eliashberg_gap(cfg.gap, sim.grid, mat, sim.units, sim.temperature, sim.gamma)
                     if cfg.gap.model == "eliashberg" else BCSGap(sim.grid, sim.delta0, sim.cutoff, sim.gamma))
    sim.bath_spectra = sim.gap_model.bath(
        sim.temperature, fermi(sim.grid.x, sim.temperature),
        bose(sim.grid.x, sim.temperature) * sim.grid.phonon_mask, sim.self_consistent)
    sim.delta_bath = float(sim.bath_spectra.delta[0])
    sim.gap_model.start(sim.local_cells)
    sim.model = CellKinetics(
        sim.grid, sim.kernel if cfg.collisions.enabled else None, np.full(sim.local_cells, sim.delta_bath),
        bath_temperature=sim.temperature, escape_rate=escape_rate,
        escape_subgap_only=esc.only_subgap, dynes_gamma=sim.gamma, phonon_weight=sim.weight,
        qp_angles=geo.qp_angles, phonon_angles=geo.phonon_angles, drives=drives(sim))
    sim.transport = geo.transport(sim.par, sim.model, mat, cfg)


def eliashberg_gap(gap, grid, material, units, temperature, gamma, key="gap"):
    """The Eliashberg gap model of the ``[gap]`` section ``gap``: alpha^2F (Debye, Einstein
    or a table, docs/physics.md, "Eliashberg self-energies"), the self-energy solver, and
    mu* given or fitted to the material's Delta_0."""
    kTc = units.kTc_meV
    which, lam = gap.alpha2f, gap.lambda_
    shipped = SHIPPED.get(material.name.lower())
    if which == "auto":
        which = "table" if shipped is not None else "debye"
    fit_to = gap.mu_star_fit
    if which == "table":
        if shipped is None:
            raise InputError(f"{key}.alpha2f", "table", f"a material with a shipped alpha^2F table "
                             f"({', '.join(sorted(m.capitalize() for m in SHIPPED))}), not {material.name}")
        lam = shipped.lam if lam is None else lam
        fit_to = shipped.mu_star_fit if fit_to == "auto" else fit_to
    fit_to = "delta0" if fit_to == "auto" else fit_to
    if which in ("debye", "einstein") and lam is None:
        if which == "debye" and material.z1 is not None:
            lam = material.z1 - 1.0
        else:
            raise InputError(f"{key}.lambda", None, f"a coupling constant lambda > 0 for alpha2f = '{which}'"
                             + (" (this material has no tabulated Z_1)" if which == "debye" else ""))
    if which == "debye":
        omega = (gap.omega_meV or material.debye_meV) / kTc
        a2f = Alpha2F.debye(grid.step, omega, lam)
    elif which == "einstein":
        if gap.omega_meV is None:
            raise InputError(f"{key}.omega_meV", None, "the Einstein energy Omega_E in meV for alpha2f = 'einstein'")
        omega = gap.omega_meV / kTc
        width = (gap.width_meV if gap.width_meV is not None else 0.05 * gap.omega_meV) / kTc
        a2f = Alpha2F.einstein(grid.step, omega, width, lam)
    else:
        path = shipped.path if which == "table" else which
        e, v = read_alpha2f_table(path, f"{key}.alpha2f")
        a2f = Alpha2F.tabulated(grid.step, e / kTc, v, (f"{material.name} table" if which == "table" else f"table {which}")
                                + f", Omega up to {e[-1] / kTc:.4g}")
        if lam is not None:
            a2f = a2f._scaled(lam)
    if a2f.omega_max <= 0:
        raise InputError(f"{key}.alpha2f", which, "an alpha^2F with weight on the energy grid")
    delta0 = material.delta0_over_kTc
    least = minimum_cutoff(a2f.lam)
    ratio = gap.cutoff_over_omega_max
    if ratio is None:
        ratio = max(3.0, least)
    elif ratio < least:
        raise InputError(f"{key}.cutoff_over_omega_max", ratio,
                         f"at least {least:.3g} for lambda = {a2f.lam:.3g} (the gap function of a strong coupler "
                         "has structure up to several Omega_max; docs/numerics.md, 'Self-energy cutoff')")
    solver = EliashbergSolver(grid, a2f, mu_star=gap.mu_star or 0.0,
                              cutoff=max(ratio * a2f.omega_max, (grid.size - 1) * grid.step), gamma=gamma,
                              bath_temperature=temperature, delta_ref=delta0, tol=gap.tolerance,
                              max_iter=gap.max_iterations, lhs_floor=gap.lhs_floor)
    target = (1.0 if fit_to == "tc" else delta0) if gap.mu_star is None else None
    return EliashbergGap(solver, fit_target=target, fit_to=fit_to)


def integrator(sim):
    """The split integrator of ``[time]`` for the state ``sim.y`` (its first step depends
    on that state)."""
    tm, par, to_int = sim.cfg.time, sim.par, 1.0 / sim.units.tau0_ns
    if tm.method == "bdf":
        return _bdf(sim, tm, to_int)
    fixed_dt = tm.dt_ns * to_int if tm.dt_ns else None
    stepper = make_stepper(tm.method, par.reduce_max, mu_mode=tm.tr_mu, project=tm.exp_energy_projection,
                           jacobian_every=tm.jacobian_every, comm=par.comm, rtol=tm.rtol, adaptive=fixed_dt is None)
    dt = tm.dt_initial_ns * to_int if tm.dt_initial_ns else initial_dt(sim)
    controller = StepController(stepper, rtol=tm.rtol,
                                dt_max=(tm.dt_max_ns * to_int if tm.dt_max_ns else np.inf))
    return SplitIntegrator(sim.model, controller, sim.transport, par, fixed_dt, dt, sim.cell_range[0],
                           sim.grid.x * sim.units.kTc_meV, sim.units.tau0_ns)


def _bdf(sim, tm, to_int):
    """``time.method = "bdf"``: the stiff integrator of a point cell (docs/numerics.md,
    "Stiff integration: BDF")."""
    if sim.transport is not None:
        raise InputError("time.method", "bdf", "a point geometry (the sphere's stiff integration with "
                         "implicit transport is not implemented yet; use 'exp')")
    if tm.dt_ns:
        raise InputError("time.dt_ns", tm.dt_ns, "no fixed step with time.method = 'bdf' (it controls its steps)")
    dt = tm.dt_initial_ns * to_int if tm.dt_initial_ns else initial_dt(sim)
    return BDFIntegrator(sim.model, sim.par, tm.rtol, dt, tm.dt_max_ns * to_int if tm.dt_max_ns else np.inf,
                         tm.exp_energy_projection, sim.grid.x * sim.units.kTc_meV, sim.units.tau0_ns)


def resolve_material(name, overrides=None, key="material.name"):
    """The material ``name`` with ``overrides`` of its table (``config.material_overrides``);
    an unknown name is an ``InputError`` naming ``key``."""
    try:
        return get_material(name, overrides or {})
    except KeyError as exc:
        raise InputError(key, name, "a known material", str(exc).strip("'\"")) from None
    except ValueError as exc:
        raise InputError("material", name, "valid overrides", str(exc)) from None


def drives(sim):
    """``[[drive]]`` tables -> ``drives.Drive`` terms on the energy grid (docs/physics.md, "Drives (issue 6)")."""
    out = []
    g, d_bath, top = sim.grid, sim.delta_bath, (sim.grid.size - 1) * sim.grid.step
    for i, d in enumerate(sim.cfg.drive):
        key = f"drive.{i}." + ("energy_over_delta0" if d.energy_over_delta0 is not None else "frequency_GHz")
        value = d.energy_over_delta0 if d.energy_over_delta0 is not None else d.frequency_GHz
        energy = (d.energy_over_delta0 * sim.delta0 if d.energy_over_delta0 is not None
                  else d.frequency_GHz * PLANCK_MEV_PER_GHZ / sim.units.kTc_meV)
        ok = {"photon": lambda m: m * g.step > 2 * d_bath and m * g.step - d_bath <= top,
              "microwave": lambda m: 0 < m and m * g.step < 2 * d_bath,
              "phonon": lambda m: 0 < m < g.size and g.phonon_mask[m]}[d.kind]
        parts = split_energy(energy, g.step)
        if not all(ok(m) for m, _ in parts):
            # at an end of the allowed range: the nearest allowed node alone
            parts = [(m, 1.0) for m in sorted({m for m, _ in parts}, key=lambda m: abs(m * g.step - energy)) if ok(m)][:1]
        if not parts or (d.kind == "microwave" and energy < g.step * (1 - 1e-9)):
            raise InputError(key, value, {
                "photon": f"a photon energy above 2 Delta = {2 * d_bath / sim.delta0:.4g} Delta_0 "
                          f"with h nu - Delta below the grid top {top / sim.delta0:.4g} Delta_0",
                "microwave": f"a photon energy of at least one energy step and below 2 Delta = "
                             f"{2 * d_bath / sim.delta0:.4g} Delta_0",
                "phonon": "a phonon energy on the grid's phonon band (0 < Omega <= Omega_D, below the grid top)"}[d.kind])
        shape = sim.geometry.drive_shape(d.radius_width_um, f"drive.{i}.radius_width_um")
        power = power_to_internal(d.power_W_per_um3, sim.units) * shape
        out += [Drive(d.kind, m, power * share) for m, share in parts]
    return out


def initial_state(sim):
    """``(y, deposit)``: the thermal state plus a Gaussian packet scaled to the deposit of the
    local cells, and the deposit (internal units; docs/physics.md, "Initial condition")."""
    x, grid, m = sim.grid.x, sim.grid, sim.model
    f = np.tile(fermi(x, sim.temperature), (sim.local_cells, 1))
    n = np.tile(bose(x, sim.temperature) * grid.phonon_mask, (sim.local_cells, 1))
    ini = sim.cfg.initial
    key = f"initial.{sim.geometry.deposit_key}"
    given = getattr(ini, sim.geometry.deposit_key)
    deposit = given / sim.units.energy_density_eV_per_um3  # internal energy x um^3
    if deposit > 0:
        shape, integral = sim.geometry.profile(ini.radius_width_um)
        centre = ini.energy_center_over_delta0 * sim.delta0
        width = ini.energy_width_over_delta0 * sim.delta0
        bump = np.exp(-0.5 * ((x - centre) / width) ** 2)
        if ini.species == "phonon":
            bump = bump * grid.phonon_mask
            unit = float(dg.phonon_energy(grid, sim.weight, bump))
            if unit <= 0:
                raise InputError("initial.energy_center_over_delta0", ini.energy_center_over_delta0,
                                 "a packet on phonon modes (0 < Omega <= Omega_D)")
            n = n + (deposit / (unit * integral)) * shape[:, None] * bump
        else:
            spec = sim.bath_spectra
            bump = bump * spec.active[0]
            unit = float(dg.qp_energy(grid, spec, bump[None, :])[0])
            if unit <= 0:
                raise InputError("initial.energy_center_over_delta0", ini.energy_center_over_delta0,
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
    mu = sim.par.reduce_max(relaxation_rate(sim.model, sim.model.split(sim.y)[1]))
    return 1e-3 / mu if mu > 1.0 else 1e-3
