"""``boltzphlow lifetimes`` and ``thermal``: tables of thermal lifetimes and thermal functions against published formulas."""
import numpy as np

from boltzphlow_mpi.cli.printing import print_result
from boltzphlow_mpi.errors import InputError


# -- lifetimes ---------------------------------------------------------------------
def cmd_lifetimes(args, par):
    from boltzphlow_mpi.app.builder import resolve_material
    from boltzphlow_mpi.physics.analysis import lifetimes as lt
    from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap

    mat = resolve_material(args.material, key="--material")
    T = args.temperature_over_tc
    if not (0 < T < 1):
        raise InputError("--temperature-over-tc", T, "a number in (0, 1)")
    if not (0 < args.step_over_delta0 <= 0.25):
        raise InputError("--step-over-delta0", args.step_over_delta0, "a number in (0, 0.25]")
    d0 = mat.delta0_over_kTc
    debye = mat.debye_meV / mat.kTc_meV
    delta = float(equilibrium_gap(T, d0, debye))
    if args.energies:
        try:
            e_over = [float(v) for v in args.energies.split(",")]
        except ValueError:
            raise InputError("--energies", args.energies, "comma-separated numbers (units of Delta)") from None
        if not all(np.isfinite(e) and e >= 1 for e in e_over):
            raise InputError("--energies", args.energies, "finite energies >= 1 (units of Delta)")
    else:
        e_over = [1.0]
    h = args.step_over_delta0 * d0
    emax = max(e_over) * delta + 60 * T + 4 * delta
    rr, rs = lt.rates(np.array(e_over) * delta, delta, T, h, emax, debye)
    t0 = mat.tau0_ns
    kr = lt.kaplan_recombination_time(delta, T) * t0
    ks = lt.kaplan_scattering_time(delta, T) * t0
    avg_r = lt.thermal_average(h, emax, delta, T, lambda e: lt.rates(e, delta, T, h, emax + e.max(), debye)[0])
    rows = [{"energy_over_delta": e, "energy_meV": e * delta * mat.kTc_meV,
             "tau_r_ns": t0 / a, "tau_s_ns": t0 / b} for e, a, b in zip(e_over, rr, rs)]
    result = {"material": mat.name, "temperature_over_tc": T, "gap_meV": delta * mat.kTc_meV,
              "kaplan_tau_r_ns": kr, "kaplan_tau_s_ns": ks,
              "tau_r_thermal_average_ns": t0 / avg_r, "rows": rows}
    lines = [(f"{mat.name} at T = {T:g} T_c ({T * mat.tc_K * 1e3:.4g} mK), Delta = {delta * mat.kTc_meV:.5g} meV, "
              f"tau_0 = {t0:g} ns"),
             f"{'E/Delta':>8} {'E (meV)':>10} {'tau_r (ns)':>12} {'tau_s (ns)':>12}"]
    lines += [f"{r['energy_over_delta']:8.4g} {r['energy_meV']:10.5g} {r['tau_r_ns']:12.5g} {r['tau_s_ns']:12.5g}"
              for r in rows]
    lines.append(f"Kaplan low-T formulas at E = Delta: tau_r = {kr:.5g} ns, tau_s = {ks:.5g} ns")
    if e_over[0] == 1.0:
        lines.append(f"  ratio collision integral / Kaplan at the gap edge: tau_r {rows[0]['tau_r_ns'] / kr:.4f}, "
                     f"tau_s {rows[0]['tau_s_ns'] / ks:.4f}")
    lines.append(f"tau_r averaged over the thermal QP population: {t0 / avg_r:.5g} ns")
    return print_result(par, args.json, result, lines)


# -- thermal -----------------------------------------------------------------------
def cmd_thermal(args, par):
    from boltzphlow_mpi.app.builder import resolve_material
    from boltzphlow_mpi.physics.analysis import thermal_properties as thermal
    from boltzphlow_mpi.physics.gap.bcs import equilibrium_gap

    mat = resolve_material(args.material, key="--material")
    if args.points < 1 or args.points > 10000:
        raise InputError("--points", args.points, "an integer in 1..10000")
    if not (args.mean_free_path_um > 0 and np.isfinite(args.mean_free_path_um)):
        raise InputError("--mean-free-path-um", args.mean_free_path_um, "a positive number (um)")
    d0 = mat.delta0_over_kTc
    # weak-coupling BCS functions of t = T / T_c, with T_c the material's
    from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO
    dn = mat.fermi_velocity_um_per_ns * args.mean_free_path_um / 3
    rows = []
    for t in np.linspace(0, 1, args.points + 2)[1:-1]:
        T = t * d0 / BCS_RATIO  # the model's T_c* scaled to the material's T_c
        rows.append({"t": t, "gap_meV": float(equilibrium_gap(T, d0)) * mat.kTc_meV,
                     "kappa_es_over_kappa_en": thermal.kappa_ratio(T, d0),
                     "C_s_over_C_n": thermal.specific_heat_ratio(T, d0),
                     "D_mean_um2_per_ns": dn * thermal.mean_diffusivity_factor(T, d0)})
    jump = thermal.specific_heat_ratio((1 - 1e-5) * d0 / BCS_RATIO, d0) - 1
    tcs = mat.tc_K * d0 / BCS_RATIO
    result = {"material": mat.name, "tc_star_K": tcs,
              "D_n_um2_per_ns": dn, "mean_free_path_um": args.mean_free_path_um,
              "specific_heat_jump": jump, "rows": rows}
    lines = [(f"{mat.name}: weak-coupling BCS with Delta_0 = {mat.delta0_meV:g} meV, so the gap closes at "
              f"T_c* = Delta_0 e^gamma / (pi k_B) = {tcs:.4g} K (material T_c = {mat.tc_K:g} K); t = T / T_c*"),
             (f"D_n = v_F l / 3 = {dn:.5g} um^2/ns (l = {args.mean_free_path_um:g} um); "
              f"specific-heat jump at T_c*: Delta C / C_n = {jump:.4f}"),
             f"{'t':>6} {'T (K)':>7} {'Delta (meV)':>12} {'k_es/k_en':>10} {'C_s/C_n':>9} {'<D> (um^2/ns)':>14}"]
    lines += [f"{r['t']:6.3f} {r['t'] * tcs:7.4g} {r['gap_meV']:12.5g} {r['kappa_es_over_kappa_en']:10.4g} "
              f"{r['C_s_over_C_n']:9.4g} {r['D_mean_um2_per_ns']:14.5g}" for r in rows]
    return print_result(par, args.json, result, lines)


def add_parsers(sub):
    """``lifetimes`` and ``thermal`` (docs/cli.md)."""
    lt = sub.add_parser("lifetimes", help="thermal recombination and scattering times vs Kaplan's formulas")
    lt.add_argument("--material", default="Al")
    lt.add_argument("--temperature-over-tc", type=float, default=0.1)
    lt.add_argument("--energies", type=str, default=None,
                    help="comma-separated QP energies in units of Delta (default: the gap edge, 1)")
    lt.add_argument("--step-over-delta0", type=float, default=1 / 256, help="quadrature step h / Delta_0")
    lt.add_argument("--json", action="store_true")
    lt.set_defaults(func=cmd_lifetimes)

    th = sub.add_parser("thermal", help="kappa_es/kappa_en, C_s/C_n and QP diffusivity vs T/T_c")
    th.add_argument("--material", default="Sn")
    th.add_argument("--mean-free-path-um", type=float, default=1.0, help="QP mean free path l (um)")
    th.add_argument("--points", type=int, default=19, help="number of temperatures in (0, T_c)")
    th.add_argument("--json", action="store_true")
    th.set_defaults(func=cmd_thermal)
