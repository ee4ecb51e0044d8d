"""What a run reports, as data and as the lines the command line prints.

``run_summary`` and ``steady_summary`` return plain dicts of numbers with units in their
keys (the Python API's ``Simulation.summary()``); ``*_lines`` turn them into the text of
``boltzphlow run``. All functions that gather are collective; the dicts are the same on
every rank.
"""
import numpy as np

from boltzphlow_mpi import __version__


def banner_lines(sim):
    """The run's identity: material, bath, grid, geometry, method, ranks (and the Eliashberg
    bath solve)."""
    mat, u, cfg = sim.material, sim.units, sim.cfg
    lines = [f"BoltzPhlow-MPI {__version__}: {mat.name}, T = {sim.temperature:.4g} T_c "
             f"({sim.temperature * mat.tc_K * 1e3:.4g} mK), Delta = {sim.delta_bath * u.kTc_meV:.5g} meV, "
             f"{sim.grid.size} energies (h = {sim.grid.step * u.kTc_meV * 1e3:.4g} ueV = Delta_0/"
             f"{sim.delta0 / sim.grid.step:.4g}{', aligned to the gap' if cfg.grid.align_gap and cfg.gap.model == 'bcs' else ''}), "
             + sim.geometry.describe()
             + f"method {cfg.time.method}, {sim.par.size} rank(s)"]
    gm = sim.gap_model
    if gm.name == "eliashberg":
        b = gm.bath_solution
        lines.append(f"gap: {gm.describe()}, {cfg.gap.mode}; bath solve {int(b.iterations[0])} iterations, "
                     f"residual {float(b.residual[0]):.2g} Delta_0, gap edge {float(b.edge[0]) * u.kTc_meV:.5g} meV, "
                     f"Re Z(0) = {float(b.Z[0, 0].real):.4g}")
    return lines


def units_of_totals(sim):
    """(number unit, energy unit) of the totals: densities for a point, totals for a sphere."""
    return sim.geometry.number_unit, sim.geometry.energy_unit


def run_summary(sim, wall_s):
    """Collective. The numbers of a finished transient run: time, steps, QPs, where the
    deposit went, eta, the grid-top energy, the ledger error (and Eliashberg statistics)."""
    r = sim.record()
    u, par = sim.units, sim.par
    nu, eu = units_of_totals(sim)
    ed = u.energy_density_eV_per_um3
    dep = sim.deposit * ed
    bath = sim.bath_totals
    out = {"t_ns": sim.t * u.tau0_ns, "steps": sim.steps, "rejected": sim.integrator.controller.rejected, "wall_s": wall_s,
           "number_unit": nu.strip(), "energy_unit": eu, "qp_number": r["qp_number"],
           "qp_number_excess": r["qp_number_excess"], "gap_mean_meV": r["gap_mean"],
           "energy_absorbed": r["energy_absorbed"], "drives": [d.kind for d in sim.cfg.drive],
           "deposit": dep, "energy_ledger_error": r["energy_ledger_error"]}
    if dep > 0:
        parts = {
            "QPs (excess)": r["qp_energy"] - bath["qp_energy"] * ed - r["energy_condensate"],
            "phonons (excess)": r["phonon_energy"] - bath["phonon_energy"] * ed,
            "escaped": r["energy_escaped"],
            "out through R": r["energy_out"],
            "condensate": r["energy_condensate"],
        }
        out["deposit_parts"] = {k: parts[k] for k in sim.geometry.summary_parts}
        out["eta"] = r["gap_mean"] * 1e-3 * r["qp_number_excess"] / dep
    out["energy_at_grid_top"] = sim.grid_top_max * ed
    out["grid_top_reference"] = dep if dep > 0 else (sim.initial["qp_energy"] + sim.initial["phonon_energy"]) * ed
    if sim.gap_model.name == "eliashberg":
        st = sim.gap_model.stats
        solves = par.comm.allreduce(st["cell_solves"])
        out["eliashberg"] = {
            "cell_solves": solves, "updates_per_cell": st["updates"], "update_every": sim.gap.every,
            "mean_iterations": par.comm.allreduce(st["iterations"]) / max(solves, 1),
            "max_iterations": par.comm.allreduce(st["max_iterations"], op=par.MPI.MAX),
            "max_residual_delta0": par.comm.allreduce(st["max_residual"], op=par.MPI.MAX)}
    return out


def run_summary_lines(s):
    nu = f" {s['number_unit']}" if s["number_unit"] else ""
    eu, dep = s["energy_unit"], s["deposit"]
    lines = [(f"done: t = {s['t_ns']:.6g} ns in {s['steps']} steps ({s['rejected']} rejected), "
             f"wall time {s['wall_s']:.2f} s"),
             (f"  QPs: N = {s['qp_number']:.6g}{nu} (excess {s['qp_number_excess']:.6g}{nu}), "
             f"mean gap {s['gap_mean_meV']:.6g} meV")]
    if s["energy_absorbed"] > 0:
        lines.append(f"  absorbed from the drives: {s['energy_absorbed']:.6g} {eu} ({', '.join(s['drives'])})")
    if dep > 0:
        lines.append(f"  deposited {dep:.6g} {eu}; where it went:")
        for k, v in s["deposit_parts"].items():
            lines.append(f"    {k:18s} {v:12.6g} {eu}  ({100 * v / dep:7.3f} %)")
        lines.append(f"  efficiency eta = Delta * excess N_qp / deposit = {s['eta']:.4f}")
    top, ref = s["energy_at_grid_top"], s["grid_top_reference"]
    lines.append(f"  excitation energy in the top 5 % of the energy grid: at most {top:.3g} {eu} "
                 f"({100 * top / ref:.2g} % of the {'deposit' if dep > 0 else 'initial energy'})"
                 + ("  WARNING: raise grid.energy_max_over_delta0" if top > 1e-4 * ref else ""))
    lines.append(f"  energy ledger error {s['energy_ledger_error']:.3e} (relative)")
    if "eliashberg" in s:
        e = s["eliashberg"]
        lines.append(f"  Eliashberg: {e['cell_solves']} cell solves ({e['updates_per_cell']} updates per cell, every "
                     f"{e['update_every']} step(s)), {e['mean_iterations']:.3g} iterations per solve on average, "
                     f"at most {e['max_iterations']}; largest final residual {e['max_residual_delta0']:.2g} Delta_0")
    return lines


def steady_summary(sim, result):
    """Collective. The solver statistics, the power balance (W/um^3 for a point, W for a
    sphere) and the observables of a steady state: n_qp, x_qp, T*_N and the gap (for a
    sphere at the centre and the outer cell), the Mattis-Bardeen readout, eta."""
    from boltzphlow_mpi.app import sweep
    from boltzphlow_mpi.physics.analysis import diagnostics as dg
    from boltzphlow_mpi.physics.analysis import observables
    u, par = sim.units, sim.par
    to_W = u.power_density_W_per_um3
    bal = result["balance"]
    out = {"iterations": result["iterations"], "max_relative_residual": result["max_relative_residual"],
           "residual_norms": list(result["residual_norms"]),
           "absorbed_W": bal["absorbed"] * to_W, "escaped_W": bal["escaped"] * to_W}
    for k in ("linear_iterations", "outer_iterations"):
        if k in result:
            out[k] = result[k]
    left = bal["escaped"]
    if "boundary" in bal:  # a sphere: out through R
        out["boundary_W"] = bal["boundary"] * to_W
        left = bal["escaped"] + bal["boundary"]
    out["balance"] = abs(left / bal["absorbed"] - 1) if bal["absorbed"] else 0.0
    f = sim.model.unpack(sim.y)[0]
    n_loc = dg.qp_number(sim.grid, sim.model.spectra, f)
    t_loc = [observables.effective_temperature(sim.grid, sim.model.spectra.row(i), float(n_loc[i]))
             for i in range(sim.local_cells)]
    n_all, d_all = par.gather_cells(n_loc), par.gather_cells(sim.model.delta)
    t_all = par.gather_cells(np.asarray(t_loc, float))
    t_fc, gap_ratio = (par.gather_cells(v) for v in sweep.heating(sim, f))
    ghz = sim.cfg.solve.readout_GHz
    readout = None
    if ghz:
        mb = [sweep.readout(sim, i, f[i], ghz) for i in range(sim.local_cells)]
        readout = par.gather_cells(np.asarray(mb, float).reshape(-1, 2))
    cells = []
    for label, i in sim.geometry.report_cells(len(n_all)):
        n, d, t_star = float(n_all[i]), float(d_all[i]), float(t_all[i])
        cell = {"where": label, "n_qp_per_um3": n * u.number_density_per_um3, "x_qp": observables.x_qp(n, d),
                "t_star_K": t_star * sim.material.tc_K, "t_star_over_tc": t_star, "gap_meV": d * u.kTc_meV}
        if np.isfinite(t_fc[i]):
            cell["t_star_fc_K"] = float(t_fc[i]) * sim.material.tc_K
        if np.isfinite(gap_ratio[i]):
            cell["gap_suppression_vs_thermal"] = float(gap_ratio[i])
        if readout is not None:
            cell["readout_GHz"] = ghz
            cell["sigma1_over_sigman"], cell["sigma2_over_sigman"] = (float(v) for v in readout[i])
        cells.append(cell)
    out["cells"] = cells
    out["eta"] = sim.geometry.efficiency(sim, bal["absorbed"])
    return out


#: residual norms printed in the steady summary (the last ones of a long solve)
SHOWN_NORMS = 16


def steady_summary_lines(s):
    krylov = f", {s['linear_iterations']} GMRES iterations" if "linear_iterations" in s else ""
    if "outer_iterations" in s:
        krylov += f", {s['outer_iterations']} gap updates"
    norms = s["residual_norms"]
    shown = norms if len(norms) <= SHOWN_NORMS else norms[-SHOWN_NORMS:]
    which = "residual norms" if len(norms) <= SHOWN_NORMS else f"the last {SHOWN_NORMS} residual norms"
    lines = [f"steady state: {s['iterations']} Newton iterations{krylov}, max |ln(gain/loss)| = "
             f"{s['max_relative_residual']:.2g}; {which} " + " ".join(f"{v:.2g}" for v in shown)]
    if "boundary_W" in s:
        lines.append(f"  absorbed {s['absorbed_W']:.6g} W = escaped {s['escaped_W']:.6g} W "
                     f"+ out through R {s['boundary_W']:.6g} W (balance {s['balance']:.2g} relative)")
    else:
        lines.append(f"  absorbed {s['absorbed_W']:.6g} W/um^3, escaped {s['escaped_W']:.6g} W/um^3 "
                     f"(balance {s['balance']:.2g} relative)")
    for c in s["cells"]:
        label = f"{c['where']}: " if c["where"] else ""
        lines.append(f"  {label}QPs: n_qp = {c['n_qp_per_um3']:.6g} um^-3, x_qp = {c['x_qp']:.4g}, T*_N = "
                     f"{c['t_star_K'] * 1e3:.5g} mK ({c['t_star_over_tc']:.4g} T_c), gap {c['gap_meV']:.6g} meV")
        if "t_star_fc_K" in c or "gap_suppression_vs_thermal" in c:
            parts = []
            if "t_star_fc_K" in c:
                parts.append(f"T* of the microwave drive (Fischer-Catelani Eq. 24) = {c['t_star_fc_K'] * 1e3:.5g} mK")
            if "gap_suppression_vs_thermal" in c:
                parts.append(f"(dDelta_T - dDelta)/dDelta_T = {c['gap_suppression_vs_thermal']:.4g}")
            lines.append(f"  {label}" + ", ".join(parts))
        if "readout_GHz" in c:
            lines.append(f"  {label}Mattis-Bardeen at {c['readout_GHz']:g} GHz: "
                         f"sigma_1/sigma_n = {c['sigma1_over_sigman']:.6g}, sigma_2/sigma_n = {c['sigma2_over_sigman']:.6g}")
    if np.isfinite(s["eta"]):
        lines.append(f"  generation efficiency eta = {s['eta']:.4f} (Delta x QPs generated per unit time / absorbed power)")
    return lines
