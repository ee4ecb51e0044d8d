"""Microwave-driven steady states over bath temperature, drive frequency and power (issue 16,
item 1; the table in docs/validation.md, "Readout steady states over temperature, frequency
and power").

The job is tests/jobs/readout.toml (Al, self-consistent gap, every phonon escaping in
0.242 ns) at ``h = Delta_0/n``. For each bath temperature and drive frequency ``h nu`` it
walks up the absorbed power in half decades from ``--p-min``, each point continued from the
last (as ``boltzphlow sweep`` does), until the gap is suppressed by ``--suppression`` (20 %)
and Fischer and Catelani's ``T*`` (their Eq. 24) has reached ``--t-star`` (0.5) of the gap,
or ``--p-max``. A point that fails is reported and the walk goes on from the bath state.

    python scripts/readout_matrix.py [--temperatures-mK 50 100 200 300]
        [--frequencies 20 9 3] [--step 36] [--p-min 1e-22] [--p-max 1e-7]

``--frequencies 20`` means ``h nu = Delta_0/20``. Prints one line per point (power W/um^3,
Newton iterations, wall s, gap suppression, T*/Delta) and a summary table in markdown.
"""
import argparse
import copy
import pathlib
import time
import tomllib
import warnings

import numpy as np
from mpi4py import MPI

from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.app.sweep import iter_block, point_configs
from boltzphlow_mpi.parallel.comm import Parallel

JOB = pathlib.Path(__file__).resolve().parents[1] / "tests" / "jobs" / "readout.toml"


def walk(raw, args):
    """The points of one (temperature, frequency): ``(powers, rows)``, rows of ``iter_block``
    with ``suppression`` (``1 - Delta/Delta_0``) and ``t_ratio`` (``T*/Delta``) added."""
    powers = 10.0 ** np.arange(np.log10(args.p_min), np.log10(args.p_max) + 1e-9, 0.5)
    cfgs = point_configs(raw, "drive.0.power_W_per_um3", powers)
    sim = Simulation(cfgs[0], Parallel(MPI.COMM_SELF))
    delta0_meV, tc_K = sim.delta0 * sim.units.kTc_meV, sim.material.tc_K
    rows = []
    for p, row in zip(powers, iter_block(cfgs, 5.0), strict=False):
        rows.append(row)
        if "error" in row:
            print(f"  P = {p:.2e} W/um^3: FAILED {row['error'][:160]}", flush=True)
            continue
        row["suppression"] = 1.0 - row["gap_meV"] / delta0_meV
        # T* (K) over Delta/k_B (K): Delta in k_B T_c is gap_meV/kTc_meV
        row["t_ratio"] = row["t_star_fc_K"] / tc_K / (row["gap_meV"] / sim.units.kTc_meV)
        print(f"  P = {p:.2e} W/um^3: {row['iterations']:4d} its, {row['wall_s']:6.1f} s, "
              f"gap {row['gap_meV'] * 1e3:7.2f} ueV ({100 * row['suppression']:5.2f} % below Delta_0), "
              f"T*/Delta {row['t_ratio']:.3f}, x_qp {row['x_qp']:.2e}", flush=True)
        if row["suppression"] >= args.suppression and row["t_ratio"] >= args.t_star:
            break
    return powers[:len(rows)], rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--temperatures-mK", type=float, nargs="+", default=[50, 100, 200, 300])
    ap.add_argument("--frequencies", type=float, nargs="+", default=[20, 9, 3],
                    help="n of h nu = Delta_0/n")
    ap.add_argument("--step", type=float, default=36.0, help="n of h = Delta_0/n")
    ap.add_argument("--p-min", type=float, default=1e-22, help="W/um^3")
    ap.add_argument("--p-max", type=float, default=1e-7, help="W/um^3")
    ap.add_argument("--suppression", type=float, default=0.2)
    ap.add_argument("--t-star", type=float, default=0.5)
    args = ap.parse_args()
    base = tomllib.loads(JOB.read_text())
    summary = []
    for t_mK in args.temperatures_mK:
        for n in args.frequencies:
            raw = copy.deepcopy(base)
            raw["bath"] = {"temperature_K": t_mK * 1e-3}
            raw["grid"]["energy_step_over_delta0"] = 1.0 / args.step
            raw["drive"][0]["energy_over_delta0"] = 1.0 / n
            print(f"T_B = {t_mK:g} mK, h nu = Delta_0/{n:g}, h = Delta_0/{args.step:g}", flush=True)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # an overflow is a failure
                powers, rows = walk(raw, args)
            ok = [r for r in rows if "error" not in r]
            summary.append((t_mK, n, powers[0], powers[-1], len(ok), len(rows),
                            max((r["iterations"] for r in ok), default=0),
                            max((r["suppression"] for r in ok), default=float("nan")),
                            max((r["t_ratio"] for r in ok), default=float("nan")),
                            time.perf_counter() - t0))
    print("\n| T_B (mK) | h nu | powers (W/um^3) | converged | most Newton its | largest gap suppression | largest T*/Delta | wall (s) |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for t_mK, n, p0, p1, ok, tot, its, sup, tr, wall in summary:
        print(f"| {t_mK:g} | Delta_0/{n:g} | {p0:.0e} .. {p1:.0e} | {ok}/{tot} | {its} | {100 * sup:.1f} % | {tr:.2f} | {wall:.0f} |")


if __name__ == "__main__":
    main()
