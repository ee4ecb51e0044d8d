"""The reference N_qp of the stiff millisecond test (tests/numerics/test_stiff.py, E1 of
benchmarks/stiff_e1.py): jobs/default.toml with every phonon escaping in 1 ns, integrated
to 1e6 ns by scipy's BDF and Radau IIA at tight tolerances on the same right-hand side
(``CellKinetics.rhs``, exact Jacobian ``physics.jacobian``), independently of the project's
integrators. Prints N_qp (um^-3) at the reference times and the spread between the two
methods; rerun it whenever the discretization changes.

    python scripts/stiff_reference.py [--rtol 1e-10] [--atol 1e-20] [--set KEY=VALUE ...]
"""
import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

import boltzphlow_mpi as bp
from boltzphlow_mpi.physics import jacobian
from boltzphlow_mpi.physics.analysis import diagnostics as dg

TIMES_NS = (1e4, 1e5, 2e5, 5e5, 1e6)
E1 = {"phonon_escape.only_subgap": False, "phonon_escape.tau_ns": 1.0, "time.t_end_ns": 1e6,
      "time.output_interval_ns": 1e4, "time.method": "bdf", "time.rtol": 1e-5}


def integrate(method, rtol, atol, changes=(), repo="."):
    over = {**E1, **dict(changes)}
    sim = bp.Simulation.from_toml(f"{repo}/jobs/default.toml", overrides=over)
    model, tau0 = sim.model, sim.units.tau0_ns
    y0 = np.asarray(sim.y, float).ravel()

    def rhs(t, y):
        return model.rhs(y[None, :], clip=False)[0]

    def jac(t, y):
        return jacobian.jacobian(model, y[None, :])[0]

    t_eval = np.array(TIMES_NS) / tau0
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), y0, method=method, rtol=rtol, atol=atol, jac=jac, t_eval=t_eval)
    if not sol.success:
        raise RuntimeError(f"{method}: {sol.message}")
    out = []
    for y in sol.y.T:
        f = model.unpack(y[None, :])[0]
        out.append(float(dg.qp_number(sim.grid, model.spectra, f)[0]) * sim.units.number_density_per_um3)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtol", type=float, default=1e-10)
    ap.add_argument("--atol", type=float, default=1e-20)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="further overrides, e.g. grid.align_gap=false (TOML values)")
    a = ap.parse_args(argv)
    import tomllib
    changes = [(k, tomllib.loads(f"v = {v}")["v"]) for k, v in (kv.split("=", 1) for kv in a.set)]
    t0 = time.time()
    bdf = integrate("BDF", a.rtol, a.atol, changes)
    radau = integrate("Radau", a.rtol * 1e3, a.atol, changes)
    for t, n1, n2 in zip(TIMES_NS, bdf, radau, strict=True):
        print(f"t = {t:.0e} ns: N_qp = {n1:.6f} um^-3 (BDF rtol {a.rtol:g}); Radau at {a.rtol * 1e3:g}: "
              f"relative difference {abs(n2 / n1 - 1):.1e}")
    print("REFERENCE = {" + ", ".join(f"{t:g}: {n:.6f}" for t, n in zip(TIMES_NS, bdf, strict=True)) + "}")
    print(f"wall {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
