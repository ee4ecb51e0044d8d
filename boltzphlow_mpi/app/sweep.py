"""Parameter sweeps of 0-D steady states: ``boltzphlow sweep JOB.toml --param KEY --values ...``.

``KEY`` is a dotted config key, ``section.key`` or ``drive.I.key`` (e.g.
``drive.0.power_W_per_um3``, ``bath.temperature_over_tc``). The points are split into
contiguous blocks over the MPI ranks; each rank walks its block in order, starting each
point's Newton iteration from the previous point's steady state (continuation). Rank 0
gathers the results and writes one HDF5 file with the sweep axis, and optionally a plot.

Each point reports the steady state's ``n_qp`` (um^-3), ``x_qp``, ``T*_N`` (K), the gap (meV),
the absorbed and escaped power (W/um^3), the Newton iterations, and the Mattis-Bardeen
``sigma_1/sigma_n``, ``sigma_2/sigma_n`` at the readout frequency with the nonequilibrium ``f``.
"""
import json

import numpy as np

from boltzphlow_mpi.errors import InputError, SolverError


def point_configs(raw, key, values):
    """Validated configs of every point (all input errors before any work)."""
    from boltzphlow_mpi.app import config
    from boltzphlow_mpi.app.overrides import set_key
    cfgs = []
    for v in values:
        cfg = config.from_dict(set_key(raw, key, v, name="--param"))
        if cfg.geometry.kind != "point":
            raise InputError("geometry.kind", cfg.geometry.kind, "'point' for a sweep (0-D steady states; a "
                             "sphere's steady state: boltzphlow run with solve.mode = 'steady')")
        cfgs.append(cfg)
    return cfgs


def run_block(cfgs, readout_GHz):
    """Steady states of consecutive points on one rank (``COMM_SELF``), with continuation."""
    return list(iter_block(cfgs, readout_GHz))


def iter_block(cfgs, readout_GHz):
    """``run_block`` one point at a time: yields each point's row as it is solved (a caller
    may stop the walk early)."""
    import time

    from mpi4py import MPI

    from boltzphlow_mpi.app.simulation import Simulation
    from boltzphlow_mpi.numerics import steady_point as steady
    from boltzphlow_mpi.parallel.comm import Parallel
    from boltzphlow_mpi.physics.analysis import diagnostics as dg
    from boltzphlow_mpi.physics.analysis import observables
    guess = None
    for cfg in cfgs:
        t0 = time.perf_counter()
        sim = Simulation(cfg, Parallel(MPI.COMM_SELF))
        u = sim.units
        if guess is not None and guess.shape == sim.y.shape:
            start = guess
        else:
            start = None
        try:
            res = steady.solve(sim, tol=cfg.solve.tolerance, max_it=cfg.solve.max_iterations, guess=start)
        except SolverError as exc:
            yield {"error": str(exc), "wall_s": time.perf_counter() - t0}
            guess = None
            continue
        guess = res["y"]
        sim.y = res["y"]
        f, n, _ = sim.model.unpack(sim.y)
        nq = float(dg.qp_number(sim.grid, sim.model.spectra, f)[0])
        d = float(sim.model.delta[0])
        s1, s2 = readout(sim, 0, f[0], readout_GHz)
        t_fc, gap_ratio = heating(sim, f)
        to_W = u.power_density_W_per_um3
        yield {
            "eta": generation_efficiency_or_nan(sim, res["balance"]["absorbed"]),
            "qp_number_per_um3": nq * u.number_density_per_um3, "x_qp": observables.x_qp(nq, d),
            "t_star_K": observables.effective_temperature(sim.grid, sim.model.spectra, nq) * sim.material.tc_K,
            "gap_meV": d * u.kTc_meV, "absorbed_W_per_um3": res["balance"]["absorbed"] * to_W,
            "escaped_W_per_um3": res["balance"]["escaped"] * to_W, "iterations": res["iterations"],
            "sigma1_over_sigman": s1, "sigma2_over_sigman": s2, "f": f[0], "n": n[0],
            "t_star_fc_K": float(t_fc[0]) * sim.material.tc_K, "gap_suppression_vs_thermal": float(gap_ratio[0]),
            "energy_meV": sim.grid.x * u.kTc_meV, "wall_s": time.perf_counter() - t0}


def readout(sim, i, f_row, readout_GHz):
    """Mattis-Bardeen ``(sigma_1/sigma_n, sigma_2/sigma_n)`` of local cell ``i`` with its
    occupation ``f_row`` (grid) at the readout frequency (GHz)."""
    from boltzphlow_mpi.physics.analysis import observables
    from boltzphlow_mpi.physics.constants import PLANCK_MEV_PER_GHZ
    hw = readout_GHz * PLANCK_MEV_PER_GHZ / sim.units.kTc_meV
    states = sim.model.spectra.active[i]
    return observables.mattis_bardeen(float(sim.model.delta[i]), hw,
                                      observables.grid_occupation(sim.grid, f_row, states=states),
                                      e_max=(sim.grid.size - 1) * sim.grid.step)


def heating(sim, f):
    """Per local cell: ``T*`` of Fischer and Catelani's Eq. (24) from the amplitudes of the
    microwave drives at occupations ``f`` (``k_B T_c``; NaN without a microwave drive), and the
    gap suppression relative to the bath's, ``(delta Delta_T - delta Delta)/delta Delta_T``
    (NaN with a fixed gap); docs/physics.md, "Readout observables"."""
    from boltzphlow_mpi.physics.analysis import observables
    m = sim.model
    waves = [d for d in m.drives if d.kind == "microwave"]
    cells = len(m.delta)
    if waves:
        b = [d.amplitude(f, m.spectra, sim.grid) for d in waves]
        t_star = observables.photon_heating_temperature(b, [[d.energy(sim.grid)] for d in waves], m.delta)
    else:
        t_star = np.full(cells, np.nan)
    if sim.self_consistent:
        ratio = np.array([observables.gap_suppression_relative_to_thermal(d, sim.delta_bath, sim.delta0)
                          for d in m.delta])
    else:
        ratio = np.full(cells, np.nan)
    return np.asarray(t_star, float), ratio


def generation_efficiency_or_nan(sim, absorbed):
    """``eta`` of the steady state in ``sim.y`` (``efficiency``), NaN without a pair-breaking
    drive (photon or phonon), absorbed power or phonon escape."""
    from boltzphlow_mpi.physics.analysis.efficiency import generation_efficiency
    if not (any(d.kind in ("photon", "phonon") for d in sim.model.drives) and absorbed > 0
            and sim.model.escape_rate > 0):
        return float("nan")
    return float(generation_efficiency(sim.model, sim.y[:1], absorbed)["eta"][0])


UNITS = {"eta": "1", "qp_number_per_um3": "um^-3", "x_qp": "1", "t_star_K": "K", "gap_meV": "meV",
         "absorbed_W_per_um3": "W/um^3", "escaped_W_per_um3": "W/um^3", "iterations": "1",
         "sigma1_over_sigman": "1", "sigma2_over_sigman": "1", "t_star_fc_K": "K", "gap_suppression_vs_thermal": "1"}


def write(path, key, values, rows, raw, readout_GHz):
    """Rank 0: one HDF5 file with the sweep axis (serial h5py: the data are gathered)."""
    import h5py
    with h5py.File(path, "w", driver=None) as h5:
        v = h5.create_dataset("sweep/values", data=np.asarray(values, float))
        v.attrs["parameter"] = key
        for name, unit in UNITS.items():
            d = h5.create_dataset(f"sweep/{name}", data=np.array([r.get(name, np.nan) for r in rows], float))
            d.attrs["units"] = unit
        N = next((len(r["f"]) for r in rows if "f" in r), 0)
        nan = np.full(N, np.nan)
        h5.create_dataset("sweep/qp_f", data=np.array([r.get("f", nan) for r in rows]))
        h5.create_dataset("sweep/phonon_n", data=np.array([r.get("n", nan) for r in rows]))
        e = next((r["energy_meV"] for r in rows if "energy_meV" in r), nan)
        h5.create_dataset("grid/energy", data=e).attrs["units"] = "meV"
        h5.attrs["config"] = json.dumps(raw)
        h5.attrs["readout_GHz"] = readout_GHz
        h5.attrs["errors"] = json.dumps([r.get("error", "") for r in rows])
        h5.attrs["kind"] = "boltzphlow-sweep"


def plot(path, key, values, rows, observable="x_qp"):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    y = [r.get(observable, np.nan) for r in rows]
    ax.plot(values, y, "o-")
    if all(v > 0 for v in values) and max(values) / min(values) > 50:
        ax.set_xscale("log")
    if all(np.isfinite(y)) and min(y) > 0 and max(y) / min(y) > 50:
        ax.set_yscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel(f"{observable} ({UNITS[observable]})")
    ax.set_title(f"steady state: {observable} against {key}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
