"""Fixtures of every layer: job files (``job``), runs of the command line in this process
(``run``) and as a process (``launch``), ``mpirun`` of it, and a directory that the ranks of an
MPI test share (``shared_dir``). They bind tmp_path to the plain functions of helpers.py and
the job texts of tests/jobs, which validation/figures.py and scripts/ use too."""
import pathlib
import shutil
import tempfile

import pytest

import helpers


@pytest.fixture
def job(tmp_path):
    """``job(NAME, *CHANGES, file=None, **keys)``: job NAME of tests/jobs with the keys of the
    dicts CHANGES and ``keys`` changed (``section__key=value``, see tests/jobs/__init__.py),
    written to tmp_path / (file or NAME.toml); returns its path."""
    def write(name, *changes, file=None, **keys):
        return helpers.write_job(tmp_path / (file or f"{name}.toml"), name, *changes, **keys)
    return write


@pytest.fixture
def run(tmp_path):
    """``run(JOB, OUT="out.h5", *ARGS, code=0, quiet=True)``: ``boltzphlow run JOB -o OUT ARGS``
    in this process (OUT relative to tmp_path), the exit code asserted; returns the output path."""
    def run_job(job, out="out.h5", *args, code=0, quiet=True):
        return helpers.run_job(job, tmp_path / out, *args, code=code, quiet=quiet)
    return run_job


@pytest.fixture
def launch(tmp_path):
    """``launch(*ARGS, cwd=tmp_path, env=None, timeout=120)``: ``boltzphlow ARGS`` as a process;
    returns the CompletedProcess."""
    def launch_cli(*args, cwd=None, **kw):
        return helpers.launch(args, cwd or tmp_path, **kw)
    return launch_cli


@pytest.fixture
def mpirun(tmp_path):
    """``mpirun(N, *ARGS, cwd=tmp_path, env=None, timeout=120, program=None)``: ``mpirun -n N
    boltzphlow ARGS`` (or ``program ARGS``); returns the CompletedProcess. Skips without mpirun."""
    if helpers.MPIRUN is None:
        pytest.skip("no mpirun (run `make setup`)")

    def launch_ranks(ranks, *args, cwd=None, **kw):
        return helpers.launch(args, cwd or tmp_path, ranks=ranks, **kw)
    return launch_ranks


@pytest.fixture
def shared_dir():
    """MPI tests: a temporary directory made by rank 0, known to every rank, removed by rank 0
    once nobody uses it."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    path = tempfile.mkdtemp(prefix="boltzphlow_mpi_test_") if comm.rank == 0 else None
    path = comm.bcast(path, root=0)
    yield pathlib.Path(path)
    comm.barrier()
    if comm.rank == 0:
        shutil.rmtree(path, ignore_errors=True)
