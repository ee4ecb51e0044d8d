"""The ``boltzphlow`` command line: subprocess runs (serial, and under mpirun -n 2), and the
input checks in-process through ``cli.main`` (same code, no interpreter start-up)."""
import json
import subprocess

import h5py
import numpy as np
import pytest

import helpers
from helpers import fault_env, write_job


def output_lines(res):
    return [line for line in (res.stdout + res.stderr).splitlines() if line.strip()]


def run_in_process(args, capsys):
    """``boltzphlow ARGS`` in this process (fast, for the input checks); a CompletedProcess."""
    from boltzphlow_mpi import cli
    capsys.readouterr()
    rc = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, rc, out, err)


def assert_one_error_line(res, *fragments):
    lines = output_lines(res)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("boltzphlow: error: "), lines[0]
    assert "Traceback" not in res.stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One serial tiny run shared by the tests that only look at it."""
    d = tmp_path_factory.mktemp("cli")
    cfg = write_job(d / "tiny.toml", "tiny")
    out = d / "tiny.h5"
    res = helpers.launch(["run", cfg, "-o", out], d)
    return d, cfg, out, res


# -- run -------------------------------------------------------------------------------
def test_run_succeeds_with_summary(tiny):
    _d, _cfg, out, res = tiny
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    text = res.stdout
    assert "BoltzPhlow-MPI" in text and "Al" in text and "1 rank(s)" in text
    assert "done: t = 5 ns" in text                     # time in ns
    assert "deposited 0.001 eV/um^3" in text            # energy density in eV/um^3
    assert "QPs (excess)" in text and "phonons (excess)" in text
    assert "energy ledger error" in text and "efficiency eta" in text
    assert str(out) in text
    assert out.is_file()
    with h5py.File(out, "r") as f:
        assert f["time"].shape == (6,)
        assert f["time"][-1] == pytest.approx(5.0)


def test_rerun_without_force_refuses_and_keeps_file(tiny):
    d, cfg, out, res0 = tiny
    assert res0.returncode == 0
    before_stat = out.stat()
    before_bytes = out.read_bytes()
    res = helpers.launch(["run", cfg, "-o", out], d)
    assert_one_error_line(res, str(out), "--force")
    after_stat = out.stat()
    assert after_stat.st_mtime_ns == before_stat.st_mtime_ns
    assert out.read_bytes() == before_bytes


def test_force_overwrites(tiny, tmp_path, launch):
    _d, cfg, out, res0 = tiny
    assert res0.returncode == 0
    target = tmp_path / "again.h5"
    target.write_bytes(b"not an HDF5 file")
    res = launch("run", cfg, "-o", target, "--force", "-q")
    assert res.returncode == 0, res.stderr
    assert " step " not in res.stdout  # -q: no progress lines
    assert "done:" in res.stdout
    with h5py.File(target, "r") as f, h5py.File(out, "r") as g:
        assert f["time"].shape == (6,)
        # same config, same code path: the same numbers
        assert np.array_equal(f["qp/f"][()], g["qp/f"][()])


def test_output_path_from_config_and_verbose(tmp_path, job, launch):
    cfg = job("tiny", file="job.toml", output__path="from_config.h5")
    res = launch("run", cfg, "-v", "--set", "time.t_end_ns=2")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "from_config.h5").is_file()
    assert sum(1 for line in res.stdout.splitlines() if line.lstrip().startswith("step")) == 2  # -v: every record


BAD_RUNS = {  # id: (extra arguments, fragments of the error line)
    "bad-method": (["--set", "time.method=rk5"], ["time.method", "'rk5'", "did you mean 'rk4'?"]),
    "unknown-material": (["--set", "material.name=Unobtainium"], ["material.name", "'Unobtainium'", "known material"]),
    "qp-deposit-too-large": (["--set", "initial.species=qp", "--set", "initial.deposit_eV_per_um3=1e6"],
                             ["initial.deposit_eV_per_um3", "f <= 1"]),
    "typo": (["--set", "time.t_end_n=3"], ["time.t_end_n", "did you mean 't_end_ns'?"]),
    "malformed-set": (["--set", "time.rtol"], ["--set", "section.key=value"]),
    "interval": (["--set", "time.output_interval_ns=6"], ["time.output_interval_ns", "time.t_end_ns = 5"]),
}
SUBPROCESS_BAD_RUNS = ["bad-method", "unknown-material", "qp-deposit-too-large"]


@pytest.mark.parametrize("case", SUBPROCESS_BAD_RUNS)
def test_bad_config_exits_2_with_one_line_and_no_file(tmp_path, case, job, launch):
    extra, fragments = BAD_RUNS[case]
    cfg = job("tiny")
    out = tmp_path / "bad.h5"
    res = launch("run", cfg, "-o", out, *extra)
    assert_one_error_line(res, *fragments)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_bad_config_in_process(tmp_path, capsys, case, job):
    extra, fragments = BAD_RUNS[case]
    cfg = job("tiny")
    res = run_in_process(["run", cfg, "-o", tmp_path / "bad.h5"] + extra, capsys)
    assert_one_error_line(res, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_missing_config_file(tmp_path, capsys):
    res = run_in_process(["run", tmp_path / "nope.toml", "-o", tmp_path / "x.h5"], capsys)
    assert_one_error_line(res, "CONFIG", "nope.toml")
    assert not (tmp_path / "x.h5").exists()


def test_invalid_toml(tmp_path, capsys):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[time\nt_end_ns = 5\n")
    res = run_in_process(["run", cfg, "-o", tmp_path / "x.h5"], capsys)
    assert_one_error_line(res, "CONFIG", "valid TOML")
    assert not (tmp_path / "x.h5").exists()


def test_output_in_missing_directory(tmp_path, capsys, job):
    cfg = job("tiny")
    out = tmp_path / "no" / "such" / "dir" / "x.h5"
    res = run_in_process(["run", cfg, "-o", out], capsys)
    assert_one_error_line(res, "-o", "existing directory")
    assert not (tmp_path / "no").exists()


def test_output_is_a_directory_even_with_force(tmp_path, capsys, job):
    cfg = job("tiny")
    out = tmp_path / "a_dir"
    out.mkdir()
    res = run_in_process(["run", cfg, "-o", out, "--force"], capsys)
    assert_one_error_line(res, "-o", "a_dir", "not a directory")
    assert out.is_dir() and not any(out.iterdir())


def test_integration_failure_exits_3(tmp_path, job, launch):
    cfg = job("tiny")
    res = launch("run", cfg, "-o", tmp_path / "x.h5", "--set", "time.max_steps=3", "-q")
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    errors = [line for line in output_lines(res) if line.startswith("boltzphlow:")]
    assert len(errors) == 1 and errors[0].startswith("boltzphlow: integration failed: time.max_steps = 3"), errors


# -- other commands -------------------------------------------------------------------------
def test_version(launch):
    from boltzphlow_mpi import __version__
    res = launch("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"boltzphlow {__version__}"


def test_info_lists_versions_and_materials(launch):
    from boltzphlow_mpi import __version__
    res = launch("info")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"boltzphlow {__version__}"
    for prefix in ("python ", "numpy ", "mpi4py ", "MPI library: ", "PETSc ", "h5py "):
        assert any(line.startswith(prefix) for line in lines), prefix
    assert "not importable" not in res.stdout
    assert any(line.startswith("h5py ") and line.endswith("MPI: True") for line in lines)
    assert "ranks: 1" in lines
    names = [line.split()[0] for line in lines if line.split() and line.split()[0] in
             ("Al", "Ta", "Nb", "Sn", "Pb", "In")]
    assert sorted(names) == sorted(["Al", "Ta", "Nb", "Sn", "Pb", "In"])


def test_lifetimes_json(launch):
    res = launch("lifetimes", "--material", "Al", "--temperature-over-tc", "0.1", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["material"] == "Al" and data["temperature_over_tc"] == 0.1
    assert data["rows"] and data["rows"][0]["energy_over_delta"] == 1.0
    for row in data["rows"]:
        assert row["tau_r_ns"] > 0 and row["tau_s_ns"] > 0
        assert np.isfinite(row["tau_r_ns"]) and np.isfinite(row["tau_s_ns"])
        # at 0.1 T_c recombination (few thermal partners) is far slower than scattering
        assert row["tau_r_ns"] > row["tau_s_ns"]
    assert data["kaplan_tau_r_ns"] > 0 and data["kaplan_tau_s_ns"] > 0
    # the collision integrals agree with Kaplan's low-T formulas to well within a factor 2
    assert 0.5 < data["rows"][0]["tau_r_ns"] / data["kaplan_tau_r_ns"] < 2
    assert 0.5 < data["rows"][0]["tau_s_ns"] / data["kaplan_tau_s_ns"] < 2
    assert data["gap_meV"] == pytest.approx(0.1809, rel=1e-3)


@pytest.mark.parametrize("args, fragments", [
    (["--temperature-over-tc", "1.5"], ["--temperature-over-tc", "1.5"]),
    (["--material", "Kryptonite"], ["--material", "'Kryptonite'"]),
    (["--energies", "0.5"], ["--energies", ">= 1"]),
    (["--energies", "1,nan"], ["--energies", "'1,nan'", ">= 1"]),
    (["--energies", "1,inf"], ["--energies", "'1,inf'", ">= 1"]),
    (["--energies", "1,x"], ["--energies", "comma-separated numbers"]),
])
def test_lifetimes_bad_input(capsys, args, fragments):
    res = run_in_process(["lifetimes"] + args, capsys)
    assert_one_error_line(res, *fragments)


def test_thermal_json(launch):
    res = launch("thermal", "--material", "Sn", "--json", "--points", "5")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["material"] == "Sn"
    rows = data["rows"]
    assert len(rows) == 5
    t = np.array([r["t"] for r in rows])
    assert np.all(np.diff(t) > 0) and t[0] > 0 and t[-1] < 1
    gap = np.array([r["gap_meV"] for r in rows])
    assert np.all(gap > 0) and np.all(np.diff(gap) < 0)
    for r in rows:
        assert 0 < r["kappa_es_over_kappa_en"] < 1
        assert r["C_s_over_C_n"] > 0 and r["D_mean_um2_per_ns"] > 0
    assert data["D_n_um2_per_ns"] > 0
    assert 1.0 < data["specific_heat_jump"] < 2.0


def test_thermal_bad_points(capsys):
    res = run_in_process(["thermal", "--points", "0"], capsys)
    assert_one_error_line(res, "--points", "0")


def test_bench_kernels_json(launch):
    res = launch("bench", "kernels", "--n", "256", "--repeat", "1", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    rows, els = data["kernels"], data["eliashberg"]
    assert [el["material"] for el in els] == ["Al", "Pb"]
    for el in els:
        assert el["eliashberg_warm_s_per_cell"] > 0 and el["collision_s_per_cell"] > 0
        assert el["warm_over_collision"] == pytest.approx(
            el["eliashberg_warm_s_per_cell"] / el["collision_s_per_cell"], rel=1e-9)
        assert el["warm_iterations"] < el["cold_iterations"]
    assert len(rows) == 1
    row = rows[0]
    assert row["n"] == 256 and row["cells"] == 1
    assert row["speedup"] > 0 and row["direct_s"] > 0 and row["fft_s"] > 0
    assert row["speedup"] == pytest.approx(row["direct_s"] / row["fft_s"], rel=1e-9)
    assert row["max_rel_diff"] < 1e-12


@pytest.mark.parametrize("args, fragments", [
    (["--n", "8", "--repeat", "1"], ["--n", "16..65536"]),
    (["--n", "64", "--repeat", "0"], ["--repeat = 0", "an integer >= 1"]),
    (["--n", "64", "--repeat", "1", "--cells", "0"], ["--cells = 0", "an integer >= 1"]),
])
def test_bench_bad_input(capsys, args, fragments):
    res = run_in_process(["bench", "kernels"] + args, capsys)
    assert_one_error_line(res, *fragments)


# -- under mpirun (launched from this serial test) -------------------------------------
def test_mpirun_bad_config_prints_error_once(tmp_path, job, mpirun):
    cfg = job("tiny")
    out = tmp_path / "bad.h5"
    res = mpirun(2, "run", cfg, "-o", out, "--set", "time.method=rk5")
    assert res.returncode == 2, (res.stdout, res.stderr)
    errors = [line for line in output_lines(res) if "boltzphlow: error" in line]
    assert errors == [("boltzphlow: error: time.method = 'rk5': expected one of 'auto', 'euler', 'rk4', 'tr1', 'tr2', "
                       "'exp', 'rosw', 'bdf', 'ts', 'arkimex' (did you mean 'rk4'?)")], output_lines(res)
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_mpirun_tiny_run(tmp_path, job, mpirun):
    cfg = job("tiny")
    out = tmp_path / "mpi.h5"
    res = mpirun(2, "run", cfg, "-o", out, "-q")
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert res.stdout.count("done: t = 5 ns") == 1  # rank 0 prints, once
    assert res.stdout.count("2 rank(s)") == 1
    with h5py.File(out, "r") as f:
        assert f.attrs["ranks"] == 2
        assert f["time"].shape == (6,)
        assert f["qp/f"].shape[:2] == (6, 1)
        assert np.all(np.isfinite(f["qp/f"][()]))


def test_point_bdf_is_bitwise_on_any_rank_count_and_binding(tmp_path, mpirun):
    """jobs/eta_al.toml (N = 289: the BDF's LU is large enough for a threaded LAPACK) to 20 ns
    under mpirun -n 1 (the rank bound to a core) and -n 3 (oversubscribed, unbound: a BLAS
    would see both cores), the BLAS thread variables removed from the environment: the
    package's one thread per rank makes the files bitwise the same."""
    from helpers import REPO, launch_env
    env = {k: v for k, v in launch_env().items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")}
    outs = []
    for n in (1, 3):
        out = tmp_path / f"eta{n}.h5"
        res = mpirun(n, "run", REPO / "jobs/eta_al.toml", "-o", out, "-q", "--set", "time.t_end_ns=20.0",
                     "--set", "time.output_interval_ns=4.0", env=env, cwd=REPO)
        assert res.returncode == 0, (res.stdout, res.stderr)
        outs.append(out)
    with h5py.File(outs[0], "r") as a, h5py.File(outs[1], "r") as b:
        for name in ("qp/f", "phonon/n", "diagnostics/qp_number", "diagnostics/dt"):
            assert np.array_equal(a[name][()], b[name][()]), name


# the sphere of tests/jobs, smaller and coarser: 6 cells (R = 10 um), h = Delta_0/2, 10 eV at
# 5 Delta_0 in 2 um; 0.5 ns
SPHERE = {"grid__energy_step_over_delta0": 0.5, "geometry__radius_um": 10.0, "geometry__cells": 6,
          "transport__qp_mean_free_path_um": None, "transport__angles": 2, "initial__energy_width_over_delta0": None,
          "initial__deposit_eV": 10.0, "initial__radius_width_um": 2.0, "time__t_end_ns": 0.5, "time__rtol": None,
          "time__output_interval_ns": 0.25}


def test_exception_on_one_rank_ends_the_job_promptly(tmp_path, job, mpirun):
    """A rank that raises (the test hook ``fault_hooks:fail_on_rank``) while the other waits
    in a collective: the job ends within 10 s, the error printed once, non-zero exit."""
    import time
    cfg = job("sphere", SPHERE)
    env = fault_env("fail_on_rank", FAULT_RANK="1")
    t0 = time.monotonic()
    res = mpirun(2, "run", cfg, "-o", tmp_path / "x.h5", "-q", timeout=60, env=env)
    elapsed = time.monotonic() - t0
    assert res.returncode != 0
    assert elapsed < 10, elapsed
    lines = [ln for ln in output_lines(res) if "injected failure" in ln]
    assert len(lines) == 1 and lines[0].startswith("boltzphlow: error on rank 1: RuntimeError"), output_lines(res)


def test_sphere_run_under_mpirun(tmp_path, job, mpirun):
    cfg = job("sphere", SPHERE)
    out = tmp_path / "s.h5"
    res = mpirun(3, "run", cfg, "-o", out, "-q")
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert "out through R" in res.stdout and " eV " in res.stdout
    with h5py.File(out, "r") as f:
        assert f["qp/f"].shape[1] == 6 and f["grid/r"].attrs["units"] == "um"
        assert f["grid/r_edges"].shape == (7,)
        assert f["diagnostics/energy_out"].attrs["units"] == "eV"
        assert f["diagnostics/energy_out"][-1] > 0
