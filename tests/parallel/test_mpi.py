"""In-process MPI tests (run under mpirun: ``make test-mpi``; skipped in the serial run).

Every test here is collective: all ranks run the same statements, outcomes that only
rank 0 can see are broadcast before anyone asserts, so a failing check fails on every
rank instead of leaving the others waiting in a collective call.
"""
import json
import shutil

import h5py
import numpy as np
import pytest
from mpi4py import MPI

from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation
from boltzphlow_mpi.errors import SolverError
from boltzphlow_mpi.fileio.output import DIAGNOSTICS_UNITS, OutputFile, material_attrs
from boltzphlow_mpi.parallel.comm import Parallel, block_range

import compare_outputs
import jobs
from helpers import run_to_file

COMM = MPI.COMM_WORLD

TINY = {"time__t_end_ns": 2.0, "time__rtol": 1e-3, "time__output_interval_ns": 0.5}  # the tiny job, to 2 ns


def all_agree(ok, detail=""):
    """Collective: True on every rank iff ``ok`` on every rank; details of the failures."""
    results = COMM.allgather((bool(ok), detail))
    return all(r[0] for r in results), [f"rank {i}: {r[1]}" for i, r in enumerate(results) if not r[0]]


def file_differences(path_a, path_b):
    """Every dataset and attribute that is not bitwise equal (compare_outputs.file_differences,
    NaN unequal to NaN; serial h5py), and the rank counts of the two files."""
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        ranks = (int(a.attrs["ranks"]), int(b.attrs["ranks"]))
    return compare_outputs.file_differences(path_a, path_b, equal_nan=False), ranks


# -- (a) results do not depend on the number of ranks ----------------------------------
@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("variant", [
    {"time__method": "exp"},
    {"time__method": "tr2"},   # TR: global relaxation rate mu through reduce_max
    {"time__method": "exp", "gap__mode": "self-consistent", "phonon_escape__tau_ns": 0.1,
     "phonon_escape__only_subgap": True},
    {"time__method": "bdf", "gap__mode": "self-consistent", "phonon_escape__tau_ns": 0.1},  # steps from rank 0
], ids=["exp", "tr2", "exp-selfconsistent-escape", "bdf-selfconsistent-escape"])
def test_results_independent_of_rank_count(shared_dir, variant):
    cfg = config.from_dict(jobs.table("tiny", TINY, variant))
    parallel_file = shared_dir / "world.h5"
    serial_file = shared_dir / "self.h5"

    sim = run_to_file(cfg, Parallel(COMM), parallel_file)
    # every rank took the same steps with the same dt
    states = COMM.allgather((sim.steps, sim.t, sim.dt, sim.integrator.controller.rejected))
    ok, bad = all_agree(len(set(states)) == 1, f"(steps, t, dt, rejected) per rank: {states}")
    assert ok, bad
    assert sim.local_cells == (1 if COMM.rank == 0 else 0)  # the point cell lives on rank 0

    COMM.barrier()  # world.h5 is closed on every rank
    if COMM.rank == 0:
        serial = run_to_file(cfg, Parallel(MPI.COMM_SELF), serial_file)
        diffs, ranks = file_differences(parallel_file, serial_file)
        summary = (diffs, ranks, (serial.steps, serial.t), (sim.steps, sim.t))
    else:
        summary = None
    diffs, ranks, serial_state, world_state = COMM.bcast(summary, root=0)
    assert ranks == (COMM.size, 1)
    assert serial_state == world_state
    assert diffs == [], diffs


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("name, variant", [
    ("sphere", {"gap__mode": "self-consistent", "phonon_escape__tau_ns": 0.5, "phonon_escape__only_subgap": True}),
    ("sphere", {"time__method": "tr2"}),
    ("sphere", {"time__dt_ns": 0.01, "time__method": "exp", "transport__outer_boundary": "reflecting"}),
    ("sphere", {"transport__qp": "kinetic", "time__t_end_ns": 0.02, "time__output_interval_ns": 0.01}),
    ("sphere_eliashberg", {"time__t_end_ns": 0.2, "time__output_interval_ns": 0.1}),
    ("sphere_eliashberg", {"material__name": "Pb", "gap__cutoff_over_omega_max": 11.5, "initial__deposit_eV": 20.0,
                           "time__t_end_ns": 0.05, "time__output_interval_ns": 0.025}),
    ("sphere", {"time__method": "rosw", "transport__phonon_time": "implicit", "gap__mode": "self-consistent",
                "time__jacobian_every": 3}),
    ("sphere", {"time__method": "rosw", "transport__phonon_time": "implicit", "transport__outer_boundary": "reflecting",
                "transport__qp": "kinetic", "time__t_end_ns": 0.02, "time__output_interval_ns": 0.01}),
    ("sphere", {"time__method": "ts", "transport__phonon_time": "implicit", "gap__mode": "self-consistent",
                "time__jacobian_every": 3}),
], ids=["exp-selfconsistent", "tr2", "exp-fixed-reflecting", "qp-kinetic", "eliashberg", "eliashberg-pb", "rosw-implicit",
        "rosw-implicit-reflecting-qp-kinetic", "petsc-ts-implicit"])
def test_sphere_results_independent_of_rank_count(shared_dir, name, variant):
    """The radial solver: cells split by the DMDA, QP diffusion through the all-to-all
    transpose, phonon ghosts through the DMDA; the output is bitwise the one of one rank."""
    cfg = config.from_dict(jobs.table(name, variant))
    sim = run_to_file(cfg, Parallel(COMM), shared_dir / "world.h5")
    cells = COMM.allgather(sim.local_cells)
    assert sum(cells) == 13 and min(cells) >= 2
    COMM.barrier()
    if COMM.rank == 0:
        run_to_file(cfg, Parallel(MPI.COMM_SELF), shared_dir / "self.h5")
        diffs, ranks = file_differences(shared_dir / "world.h5", shared_dir / "self.h5")
        summary = (diffs, ranks)
    else:
        summary = None
    diffs, ranks = COMM.bcast(summary, root=0)
    assert ranks == (COMM.size, 1)
    assert diffs == [], diffs


@pytest.mark.mpi(min_size=2)
def test_partition_qp_solver_agrees_with_the_exact_one():
    """``transport.qp_solver = "partition"`` (no transpose: blocks of cells eliminated per
    rank, interface unknowns solved per energy) against the exact transposed solver on the
    same ranks: states within 1e-13 of their largest value, energy out and ledger alike."""
    recs, ys = {}, {}
    for solver in ("exact", "partition"):
        cfg = config.from_dict(jobs.table("sphere", transport__qp_solver=solver, gap__mode="self-consistent"))
        sim = Simulation(cfg, Parallel(COMM))
        sim.run()
        recs[solver], ys[solver] = sim.record(), np.concatenate(COMM.allgather(sim.y))
    assert np.max(np.abs(ys["exact"] - ys["partition"])) <= 1e-13 * np.max(np.abs(ys["exact"]))
    assert recs["partition"]["energy_out"] == pytest.approx(recs["exact"]["energy_out"], rel=1e-11)
    assert abs(recs["partition"]["energy_ledger_error"]) < 1e-10


# -- (b) the collective writer with a rank that owns no cell ------------------------------
def _cell_values(record, cells, n_energies):
    """Deterministic test data for global ``cells`` at ``record``."""
    c = np.asarray(cells, float)[:, None]
    k = np.arange(n_energies, dtype=float)[None, :]
    return 1.0 / (2.0 + record + c + 0.01 * k)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("cells", ["one", "size-1"])
def test_writer_with_rank_owning_no_cells(shared_dir, cells):
    par = Parallel(COMM)
    n_cells = 1 if cells == "one" else COMM.size - 1
    ranges = [block_range(n_cells, COMM.size, r) for r in range(COMM.size)]
    assert ranges[-1][0] == ranges[-1][1]  # the last rank owns no cell
    c0, c1 = ranges[COMM.rank]
    n_energies = 7
    path = shared_dir / "zero_cells.h5"
    energy = np.linspace(0.0, 1.2, n_energies)
    writer = OutputFile(path, par, n_cells=n_cells, cell_range=(c0, c1), energy_meV=energy,
                        attrs={"config": "test", "material": "{}"})
    n_records = 3
    for i in range(n_records):
        f = _cell_values(i, range(c0, c1), n_energies)
        diagnostics = {k: float(10 * i + j) for j, k in enumerate(DIAGNOSTICS_UNITS)}
        writer.append(0.5 * i, f, 2.0 * f, np.full(c1 - c0, 0.1 + i), diagnostics)
    writer.close()
    COMM.barrier()

    problems = []
    if COMM.rank == 0:
        with h5py.File(path, "r") as h5:
            if h5.attrs["ranks"] != COMM.size:
                problems.append("ranks attribute")
            if not np.array_equal(h5["time"][()], 0.5 * np.arange(n_records)):
                problems.append("time")
            if not np.array_equal(h5["grid/energy"][()], energy):
                problems.append("grid/energy")
            f = h5["qp/f"][()]
            if f.shape != (n_records, n_cells, n_energies):
                problems.append(f"qp/f shape {f.shape}")
            else:
                for i in range(n_records):
                    want = _cell_values(i, range(n_cells), n_energies)
                    if not np.array_equal(f[i], want):
                        problems.append(f"qp/f record {i}")
                    if not np.array_equal(h5["phonon/n"][i], 2.0 * want):
                        problems.append(f"phonon/n record {i}")
                    if not np.array_equal(h5["gap/delta"][i], np.full(n_cells, 0.1 + i)):
                        problems.append(f"gap/delta record {i}")
            for j, k in enumerate(DIAGNOSTICS_UNITS):
                if not np.array_equal(h5["diagnostics/" + k][()], 10.0 * np.arange(n_records) + j):
                    problems.append("diagnostics/" + k)
    problems = COMM.bcast(problems, root=0)
    assert problems == []


# -- (c) a bad state on one rank stops every rank ------------------------------------------
@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("where, value, name", [
    ("f", np.nan, "f"),
    ("f", 1.5, "f"),
    ("n", -1e-3, "n"),
    ("n", np.inf, "n"),
])
def test_bad_state_on_one_rank_raises_on_all(where, value, name):
    cfg = config.from_dict(jobs.table("tiny", TINY))
    sim = Simulation(cfg, Parallel(COMM))
    sim.integrator.check(sim.y)  # a good state passes everywhere (and takes part in the reduction)

    if COMM.rank == 0:  # only rank 0 owns the point cell
        assert sim.local_cells == 1
        N = sim.grid.size
        k = N // 2
        sim.y[0, k if where == "f" else N + k] = value
    else:
        assert sim.local_cells == 0
    try:
        sim.integrator.check(sim.y)
        outcome = ("no error", "")
    except SolverError as exc:
        outcome = ("SolverError", str(exc))
    except Exception as exc:  # noqa: BLE001 - reported below
        outcome = (type(exc).__name__, str(exc))
    outcomes = COMM.allgather(outcome)
    assert all(o[0] == "SolverError" for o in outcomes), outcomes
    # every rank reports the same message, naming the owning rank's cell and energy
    assert outcomes[0][1].startswith(f"non-physical state {name}[cell 0, E = "), outcomes[0]
    for o in outcomes[1:]:
        assert o[1] == outcomes[0][1]


# -- the primitives the above rely on ---------------------------------------------------------
@pytest.mark.mpi(min_size=2)
def test_parallel_primitives():
    par = Parallel(COMM)
    assert (par.rank, par.size) == (COMM.rank, COMM.size)
    assert par.reduce_max(float(par.rank)) == par.size - 1
    assert par.reduce_max(-1.0 if par.rank else 3.5) == 3.5
    local = np.full((par.rank, 2), float(par.rank))  # rank r owns r rows
    rows = par.gather_cells(local)
    want = np.concatenate([np.full((r, 2), float(r)) for r in range(par.size)])
    assert np.array_equal(rows, want)
    assert par.bcast("x" if par.rank == 0 else None) == "x"
    for n in (0, 1, par.size - 1, par.size, 5 * par.size + 1):
        ranges = [block_range(n, par.size, r) for r in range(par.size)]
        assert ranges[0][0] == 0 and ranges[-1][1] == n
        assert all(ranges[r][1] == ranges[r + 1][0] for r in range(par.size - 1))


# -- restart on a different number of ranks ----------------------------------------------
def _sphere_with_checkpoints(directory):
    return config.from_dict(jobs.table("sphere", gap__mode="self-consistent", output__checkpoint_interval_ns=0.2,
                                       output__checkpoint_dir=str(directory / "ck"), output__checkpoint_keep=5))


def _rosw_sphere_with_checkpoints(directory):
    """The sphere with rosw (a Jacobian kept over 3 steps) and implicit phonon streaming."""
    return config.from_dict(jobs.table("sphere", gap__mode="self-consistent", time__method="rosw", time__jacobian_every=3,
                                       transport__phonon_time="implicit", output__checkpoint_interval_ns=0.2,
                                       output__checkpoint_dir=str(directory / "ck"), output__checkpoint_keep=5))


def _ts_sphere_with_checkpoints(directory):
    """The sphere with the PETSc TS (rosw ra34pw2; its Jacobian and its next step are dropped
    after a checkpoint, as a restart starts without them) and implicit phonon streaming."""
    return config.from_dict(jobs.table("sphere", gap__mode="self-consistent", time__method="ts", time__jacobian_every=3,
                                       transport__phonon_time="implicit", output__checkpoint_interval_ns=0.2,
                                       output__checkpoint_dir=str(directory / "ck"), output__checkpoint_keep=5))


def _restart(checkpoint_path, par, output):
    from boltzphlow_mpi.fileio import checkpoint
    meta = checkpoint.read_meta(checkpoint_path, par)
    cfg = config.revalidate(meta["config"])
    sim = Simulation(cfg, par)
    sim.restore(meta, *checkpoint.read_state(checkpoint_path, par, sim.cell_range))
    writer = OutputFile.reopen(output, par, cell_range=sim.cell_range, records=sim.records)
    try:
        sim.run(writer)
    finally:
        writer.close()


def _bdf_point_with_checkpoints(directory):
    """The tiny point job (to 5 ns, records every ns) with the BDF, whose history is in the
    checkpoint: ckpt_000003 at 2 ns."""
    return config.from_dict(jobs.table("tiny", time__rtol=1e-3, time__method="bdf", gap__mode="self-consistent",
                                       output__checkpoint_interval_ns=2.0, output__checkpoint_dir=str(directory / "ck"),
                                       output__checkpoint_keep=5))


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("with_checkpoints", [_sphere_with_checkpoints, _bdf_point_with_checkpoints,
                                              _rosw_sphere_with_checkpoints, _ts_sphere_with_checkpoints],
                         ids=["sphere-exp", "point-bdf", "sphere-rosw-implicit", "sphere-petsc-ts-implicit"])
def test_restart_on_another_rank_count_is_bitwise(shared_dir, with_checkpoints):
    """World run with checkpoints; restart its mid checkpoint on one rank, and restart a
    one-rank checkpoint on all ranks: both continue bitwise as the uninterrupted run."""
    cfg = with_checkpoints(shared_dir / "world")
    if COMM.rank == 0:
        (shared_dir / "world").mkdir()
        (shared_dir / "self").mkdir()
    COMM.barrier()
    run_to_file(cfg, Parallel(COMM), shared_dir / "world" / "run.h5", checkpoints=True)
    COMM.barrier()
    if COMM.rank == 0:
        shutil.copy(shared_dir / "world" / "run.h5", shared_dir / "world" / "restarted.h5")
        # N ranks -> 1 rank
        _restart(shared_dir / "world" / "ck" / "ckpt_000003.h5", Parallel(MPI.COMM_SELF),
                 shared_dir / "world" / "restarted.h5")
        diffs_down, _ = file_differences(shared_dir / "world" / "run.h5", shared_dir / "world" / "restarted.h5")
        # a one-rank run with checkpoints, to restart on N ranks below
        cfg_self = with_checkpoints(shared_dir / "self")
        run_to_file(cfg_self, Parallel(MPI.COMM_SELF), shared_dir / "self" / "run.h5", checkpoints=True)
        shutil.copy(shared_dir / "self" / "run.h5", shared_dir / "self" / "restarted.h5")
    else:
        diffs_down = None
    diffs_down = COMM.bcast(diffs_down, root=0)
    assert diffs_down == [], diffs_down
    COMM.barrier()
    # 1 rank -> N ranks
    _restart(shared_dir / "self" / "ck" / "ckpt_000003.h5", Parallel(COMM), shared_dir / "self" / "restarted.h5")
    COMM.barrier()
    if COMM.rank == 0:
        diffs_up, _ = file_differences(shared_dir / "self" / "run.h5", shared_dir / "self" / "restarted.h5")
    else:
        diffs_up = None
    diffs_up = COMM.bcast(diffs_up, root=0)
    assert diffs_up == [], diffs_up


def _records(path):
    """time -> (f, n, gap) of every record of an output file (serial h5py)."""
    with h5py.File(path, "r") as h5:
        t = h5["time"][()]
        return {float(x): (h5["qp/f"][i], h5["phonon/n"][i], h5["gap/delta"][i]) for i, x in enumerate(t)}


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("variant", [
    {},
    {"time__method": "tr2"},
    {"time__dt_ns": 0.004},
], ids=["exp-selfconsistent", "tr2", "fixed-dt"])
def test_extending_a_finished_run_on_another_rank_count_is_the_longer_run(shared_dir, variant):
    """A sphere run to T1 = 0.1 ns on one rank, extended to T2 = 0.2 ns on all ranks (as
    ``restart --t-end``), is bitwise the run straight to T2 on all ranks: at T2 and at every
    record time the two share bitwise. The default output interval (t_end / 100) gives the
    runs different output times: output times do not steer the steps."""
    sphere = dict(gap__mode="self-consistent", time__output_interval_ns=None, **variant)
    straight = config.from_dict(jobs.table("sphere", sphere, time__t_end_ns=0.2))
    short = config.from_dict(jobs.table("sphere", sphere, time__t_end_ns=0.1, output__checkpoint_interval_ns=0.1,
                                        output__checkpoint_dir=str(shared_dir / "ck"), output__checkpoint_keep=1))
    from petsc4py import PETSc  # noqa: F401  (PETSc initialization is collective on the world)
    if COMM.rank == 0:
        run_to_file(short, Parallel(MPI.COMM_SELF), shared_dir / "short.h5", checkpoints=True)
    COMM.barrier()
    from boltzphlow_mpi.fileio import checkpoint
    par = Parallel(COMM)
    path = checkpoint.latest(shared_dir / "ck", par)
    meta = checkpoint.read_meta(path, par)
    cfg = json.loads(json.dumps(meta["config"]))
    cfg["time"]["t_end_ns"] = 0.2
    sim = Simulation(config.revalidate(cfg), par)
    sim.restore(meta, *checkpoint.read_state(path, par, sim.cell_range))
    assert sim.t * sim.units.tau0_ns == pytest.approx(0.1, rel=1e-12)
    attrs = {"config": json.dumps(cfg), **material_attrs(sim.material)}
    writer = OutputFile(shared_dir / "extended.h5", par, n_cells=sim.n_cells, cell_range=sim.cell_range,
                        energy_meV=sim.grid.x * sim.units.kTc_meV, attrs=attrs, mesh=sim.mesh)
    try:
        sim.write_record(writer)
        sim.run(writer)
    finally:
        writer.close()
    run_to_file(straight, par, shared_dir / "straight.h5")
    COMM.barrier()
    if COMM.rank == 0:
        ext, ref = _records(shared_dir / "extended.h5"), _records(shared_dir / "straight.h5")
        common = sorted(set(ext) & set(ref))
        t2 = max(ref)
        final_equal = t2 in ext and all(np.array_equal(a, b) for a, b in zip(ext[t2], ref[t2]))
        # other shared record times: the two runs compute them as t0 + k dt and k dt, which
        # can differ by an ulp inside while printing the same in ns: equal to round-off
        off = max((float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for t in common for a, b in zip(ext[t], ref[t])),
                  default=0.0)
        summary = (final_equal, len(common), off, max(ext), t2)
    else:
        summary = None
    final_equal, n_common, off, t_ext, t_ref = COMM.bcast(summary, root=0)
    assert t_ext == t_ref == pytest.approx(0.2)
    assert final_equal
    assert n_common >= 2 and off < 1e-10, (n_common, off)


# -- (f) the radial steady state on several ranks -----------------------------------------
def _radial_steady_against_one_rank(raw, what):
    """The radial steady state of the job ``raw`` on all ranks and, on rank 0, on one:
    ``(result on all ranks, max relative difference of the occupations)`` (printed)."""
    import petsc4py  # noqa: F401
    from petsc4py import PETSc  # noqa: F401

    from boltzphlow_mpi.numerics import steady_radial
    sim = Simulation(config.from_dict(raw), Parallel(COMM))
    res = steady_radial.solve(sim)
    world = sim.par.gather_cells(res["y"])
    worst = None
    if COMM.rank == 0:
        one = Simulation(config.from_dict(raw), Parallel(MPI.COMM_SELF))
        ref = steady_radial.solve(one)["y"]
        occ = slice(0, one.model.nf + one.model.nn)
        big = ref[:, occ] > 1e-200
        worst = float(np.max(np.abs(world[:, occ][big] / ref[:, occ][big] - 1)))
        print(f"\n{what}, {COMM.size} ranks vs 1: max relative difference {worst:.2g}")
    return res, COMM.bcast(worst, root=0)


@pytest.mark.mpi(min_size=2)
def test_radial_steady_state_independent_of_rank_count():
    """Newton-Krylov over all cells: the same steady state on N ranks as on one, to the
    solver tolerance (GMRES sums inner products over ranks, so not bitwise; measured
    differences ~1e-13 relative in the occupations)."""
    res, worst = _radial_steady_against_one_rank(jobs.table("driven_sphere"), "radial steady state")
    assert worst < 1e-9, worst
    assert res["balance"]["escaped"] + res["balance"]["boundary"] == pytest.approx(res["balance"]["absorbed"], rel=1e-10)


@pytest.mark.mpi(min_size=2)
def test_a_closed_microwave_driven_sphere_independent_of_rank_count():
    """A sphere with a reflecting surface under microwaves at 100 mK: its continuation takes
    the number row, a dense row over the QP unknowns of all ranks, and the LU of the whole
    frozen Jacobian as preconditioner (``steady_radial_newton._krylov``; block Jacobi
    stagnated on 2 ranks). The same steady state on N ranks as on one to the solver tolerance
    (measured 1.2e-12 on 2 ranks)."""
    raw = jobs.table("steady_sphere", {"bath__temperature_over_tc": None, "bath__temperature_K": 0.1,
                                       "grid__energy_step_over_delta0": 1 / 12, "grid__energy_max_over_delta0": 5.0,
                                       "geometry__cells": 6, "phonon_escape__tau_ns": 0.242,
                                       "transport__outer_boundary": "reflecting", "drive__0__kind": "microwave",
                                       "drive__0__energy_over_delta0": 1 / 9, "drive__0__power_W_per_um3": 3e-17})
    res, worst = _radial_steady_against_one_rank(raw, "closed microwave-driven sphere")
    assert res["max_relative_residual"] < 1e-10
    assert worst < 1e-7, worst
    assert res["balance"]["escaped"] == pytest.approx(res["balance"]["absorbed"], rel=1e-9)
