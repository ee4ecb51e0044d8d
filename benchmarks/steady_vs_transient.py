"""Time to a steady state: Newton (``steady.solve``) against the transient reaching the same
residual, both from the thermal bath state, in one process (serial).

Problem (``bench.steady_point_config``): 0-D Al, bath 0.15 T_c, fixed BCS gap,
h = Delta_0/20 (``--h`` 0.05), E_max = 8 Delta_0 (``--emax``), photon drive at 5 Delta_0 of
``--power`` W/um^3 (1e-10), phonon escape tau_esc = 5 tau_pb = 1.21 ns (``--tau-esc``;
tau_pb = tau_0^phi = 0.242 ns for Al).

* Newton: ``steady.solve`` (tol 1e-10); its final ``max |ln(G/(K y))|`` is ``r*``.
* Transients, ``exp`` stepper, rtol 1e-4 (the default): with the default FFT collision sums;
  the same with free steps (see below); the stiff ``bdf`` and ``rosw`` with free steps; with
  the direct sums that Newton and its residual use (``--no-direct`` skips it: it costs
  minutes). The imbalance (the same
  ``max |ln(G/(K y))|``, direct sums) is checked every ``--check`` ns (100) of simulated time,
  as at the output times of a run, whose step cuts keep every step below 100 ns ("free
  steps": the checks cut no step), until it is <= r* or ``--cap`` ns (2e4) are simulated.
  Reported per target (r*, 1e-10, 1e-6): simulated time, wall time (stepping only), steps,
  and the ratio to Newton's wall time; also when N_qp is within 1e-6 of Newton's.

    python benchmarks/steady_vs_transient.py [--power 1e-10] [--h 0.05] [--emax 8] [--tau-esc 1.21]
        [--cap 2e4] [--check 100] [--no-direct] [--json out.json]
"""
import sys

from boltzphlow_mpi.extras import bench  # noqa: E402

import _common  # noqa: F401
from _common import arg, dump

TARGET_LABELS = (("r_star", "r* (Newton's)"), ("tol", "1e-10 (solver tol)"), ("loose", "1e-6"))


def summary(r):
    nw = r["newton"]
    L = [f"Al point, h = Delta_0/{1 / r['step_over_delta0']:.3g}, E_max = {r['emax_over_delta0']:g} Delta_0 "
         f"(N = {r['N']}, {nw['unknowns']} unknowns), photons at 5 Delta_0, {r['power_W_per_um3']:g} W/um^3, "
         f"tau_esc = {r['tau_esc_ns']:.3g} ns = {r['tau_esc_ns'] / r['tau0_phonon_ns']:.3g} tau_pb",
         f"steady N_qp = {nw['qp_number']:.4g} um^-3 (bath {nw['bath_qp_number']:.3g}); slowest relaxation time "
         f"at the steady state {r['slowest_relaxation_ns']:.4g} ns",
         f"Newton: {nw['wall_s']:.3g} s wall, {nw['iterations']} iterations, r* = {nw['r_star']:.2e}"]
    for t in r["transients"]:
        L.append(f"transient {bench.transient_label(t)}: stopped ({t['stop']}) at "
                 f"{t['t_ns']:.4g} ns after {t['wall_s']:.3g} s wall, {t['steps']} steps ({t['rejected']} rejected); "
                 f"min imbalance {t['min_imbalance']:.2e} at {t['min_imbalance_t_ns']:.4g} ns, final "
                 f"{t['final_imbalance']:.2e}; largest dt {t['max_dt_ns']:.3g} ns; checks {t['check_wall_s']:.3g} s (not counted)")
        for key, label in TARGET_LABELS:
            hit = t["reached"].get(key)
            if hit:
                L.append(f"  imbalance <= {label}: {hit['t_ns']:.4g} ns simulated, {hit['wall_s']:.3g} s wall, "
                         f"{hit['steps']} steps: {hit['wall_s'] / nw['wall_s']:.3g}x Newton's wall time")
            else:
                L.append(f"  imbalance <= {label}: not reached")
        q = t["qp_reached"]
        L.append(f"  N_qp within {r['loose']:g} of Newton's: " + (
            f"{q['t_ns']:.4g} ns simulated, {q['wall_s']:.3g} s wall, {q['steps']} steps" if q else "not reached"))
    return "\n".join(L)


def main():
    argv = sys.argv[1:]
    variants = ({"kernel": "fft", "rtol": 1e-4}, {"kernel": "fft", "rtol": 1e-4, "free": True},
                {"method": "bdf", "kernel": "fft", "rtol": 1e-4, "free": True},
                {"method": "rosw", "kernel": "fft", "rtol": 1e-4, "free": True})
    if "--no-direct" not in argv:
        variants += ({"kernel": "direct", "rtol": 1e-4},)
    r = bench.steady_vs_transient(power=arg("--power", 1e-10), step_over_delta0=arg("--h", 0.05),
                                  emax_over_delta0=arg("--emax", 8.0), tau_esc_ns=arg("--tau-esc", 1.21),
                                  cap_ns=arg("--cap", 2e4), check_ns=arg("--check", 100.0), variants=variants)
    print(summary(r), flush=True)
    if "--json" in argv:
        dump(r, argv)


if __name__ == "__main__":
    import petsc4py
    petsc4py.init([])
    main()
