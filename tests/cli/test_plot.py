"""``boltzphlow plot``: PNGs of a tiny point and a tiny sphere output, axis labels with
units, and one-line input errors that leave no output directory behind."""
import argparse
import sys

import h5py
import pytest

pytest.importorskip("matplotlib")

from mpi4py import MPI

from boltzphlow_mpi.app import config
from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.extras import plot, plot_data
from boltzphlow_mpi.parallel.comm import Parallel

import jobs
from helpers import run_job, run_to_file, write_job

PNG = b"\x89PNG\r\n\x1a\n"
# The sphere of tests/jobs with 5 cells of 4 um, 17 energies, records every 0.05 ns to 0.2 ns:
# about a second.
SPHERE = jobs.table("sphere", grid__energy_step_over_delta0=0.5, geometry__cells=5, transport__angles=2,
                    gap__mode="self-consistent", time__t_end_ns=0.2, time__output_interval_ns=0.05)


class FakePar:
    """Rank 0 of one: ``bcast`` is the identity and ``print`` collects the lines."""

    rank, size = 0, 1

    def __init__(self):
        self.lines = []

    def bcast(self, obj, root=0):
        return obj

    def print(self, *args):
        self.lines.append(" ".join(str(a) for a in args))


def parse(argv):
    """``boltzphlow plot ARGV`` parsed by the subparser that ``plot.add_parser`` builds."""
    p = argparse.ArgumentParser(prog="boltzphlow")
    plot.add_parser(p.add_subparsers(dest="command", required=True))
    return p.parse_args(["plot"] + [str(a) for a in argv])


@pytest.fixture(scope="module")
def point_file(tmp_path_factory):
    """The tiny job (records at t = 0, 1, ..., 5 ns) run through the CLI."""
    d = tmp_path_factory.mktemp("plot_point")
    return run_job(write_job(d / "job.toml", "tiny"), d / "run.h5")


@pytest.fixture(scope="module")
def sphere_file(tmp_path_factory):
    """A sphere output written as ``boltzphlow run`` does (helpers.run_to_file)."""
    path = tmp_path_factory.mktemp("plot_sphere") / "sphere.h5"
    run_to_file(config.from_dict(SPHERE), Parallel(MPI.COMM_SELF), path)
    return path


@pytest.fixture(scope="module")
def point_plots(point_file):
    """Plots of the point file into the default directory (``run_plots`` next to it)."""
    par = FakePar()
    assert plot.command(parse([point_file]), par) == 0
    return point_file.parent / "run_plots", par.lines


@pytest.fixture(scope="module")
def sphere_plots(sphere_file):
    out = sphere_file.parent / "figs"
    par = FakePar()
    assert plot.command(parse([sphere_file, "-o", out, "--dpi", "60"]), par) == 0
    return out, par.lines


def assert_pngs(outdir, lines, names):
    assert sorted(p.name for p in outdir.iterdir()) == sorted(n + ".png" for n in names)
    for name in names:
        assert (outdir / f"{name}.png").read_bytes()[:8] == PNG, name
    assert lines == [f"wrote {outdir / name}.png" for name in names]


# -- the files written ------------------------------------------------------------------
def test_point_writes_five_pngs_in_default_dir(point_plots):
    outdir, lines = point_plots
    assert len(plot.FIGURES["point"]) == 5
    assert_pngs(outdir, lines, plot.FIGURES["point"])


def test_sphere_writes_six_pngs_including_map(sphere_plots):
    outdir, lines = sphere_plots
    assert len(plot.FIGURES["sphere"]) == 6 and "f_E_r" in plot.FIGURES["sphere"]
    assert_pngs(outdir, lines, plot.FIGURES["sphere"])


def test_real_parallel_broadcasts_the_error(sphere_file, tmp_path):
    """Through mpi4py's bcast, as the CLI calls it: the error reaches every rank."""
    args = parse([sphere_file, "-o", tmp_path / "p", "--times", "1"])
    with pytest.raises(InputError, match=r"^--times = 1\.0: expected times \(ns\) within the run, 0 \.\. 0\.2 ns$"):
        plot.command(args, Parallel(MPI.COMM_SELF))
    assert not (tmp_path / "p").exists()


def test_parser_defaults(point_file):
    args = parse([point_file])
    assert (args.outdir, args.times, args.radii, args.dpi) == (None, None, None, 120)
    args = parse([point_file, "-o", "d", "--times", "1", "2.5", "--radii", "0", "3"])
    assert (args.outdir, args.times, args.radii) == ("d", [1.0, 2.5], [0.0, 3.0])
    assert plot.default_outdir("/a/b/run.h5") == "/a/b/run_plots"


# -- choice of records and cells --------------------------------------------------------
def test_default_and_chosen_records_and_cells(sphere_file):
    d = plot_data.read_output(sphere_file)
    assert d.geometry == "sphere" and list(d.time) == pytest.approx([0, 0.05, 0.1, 0.15, 0.2])
    assert d.records == [0, 2, 4]  # first, middle, last
    assert d.cells == [0, 2, 4]  # centre, R/2 = 10 um (cell 8..12 um), outer cell
    d = plot_data.read_output(sphere_file, times=[0.11, 0.2, 0.2], radii=[20.0, 3.99, 4.0])
    assert d.records == [2, 4]  # nearest record, duplicates dropped
    assert d.cells == [4, 0, 1]  # r = R is in the outer cell; a cell is [r_i, r_i+1)
    assert sorted(d.f) == [2, 4]  # only the chosen records of /qp/f are read


def test_point_has_one_cell(point_file):
    d = plot_data.read_output(point_file)
    assert d.geometry == "point" and d.cells == [0] and d.records == [0, 3, 5]


# -- labels and units -------------------------------------------------------------------
def test_axis_labels_carry_units(sphere_file):
    figs = plot.build_figures(plot_data.read_output(sphere_file))
    assert sorted(figs) == sorted(plot.FIGURES["sphere"])
    for name, fig in figs.items():
        assert fig._suptitle is not None or fig.axes[0].get_title(), name
        for ax in fig.axes:
            if not ax.get_visible() or ax.get_label() == "<colorbar>":
                continue
            assert "(" in ax.get_xlabel() and "(" in ax.get_ylabel(), (name, ax.get_xlabel(), ax.get_ylabel())
    ax = figs["f_E"].axes[0]
    assert "meV" in ax.get_xlabel() and ax.get_yscale() == "log"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(texts) == 5  # three times, the thermal f at the bath and the gap edge
    assert any(t.startswith("thermal at the bath, T_B = ") and t.endswith(" mK") for t in texts)
    assert "r = 2 um" in ax.get_title()
    assert "meV" in figs["n_Omega"].axes[0].get_xlabel() and figs["n_Omega"].axes[0].get_yscale() == "log"
    m = figs["f_E_r"].axes
    assert "um" in m[0].get_xlabel() and "meV" in m[0].get_ylabel() and "t = 0.2 ns" in m[0].get_title()
    assert "log" in m[1].get_ylabel()  # the colourbar
    for name in ("qp_number", "energy_ledger"):
        assert all("ns" in ax.get_xlabel() for ax in figs[name].axes), name
    assert "(count)" in figs["qp_number"].axes[0].get_ylabel()  # sphere totals: units "1"
    assert "(eV)" in figs["energy_ledger"].axes[0].get_ylabel()
    gap = figs["gap"].axes
    assert "um" in gap[0].get_xlabel() and "ns" in gap[1].get_xlabel()
    assert all("meV" in ax.get_ylabel() for ax in gap)


def test_point_labels_use_density_units(point_file):
    figs = plot.build_figures(plot_data.read_output(point_file))
    assert sorted(figs) == sorted(plot.FIGURES["point"])
    assert "um^-3" in figs["qp_number"].axes[0].get_ylabel()
    assert "eV/um^3" in figs["energy_ledger"].axes[0].get_ylabel()
    ax = figs["gap"].axes[0]
    assert "ns" in ax.get_xlabel() and "meV" in ax.get_ylabel()
    legend = [t.get_text() for t in figs["energy_ledger"].axes[0].get_legend().get_texts()]
    assert not any("out through" in t for t in legend)  # always 0 in a point


# -- input errors -----------------------------------------------------------------------
@pytest.fixture
def not_ours_file(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["x"] = [1.0]
    return path


@pytest.mark.parametrize("which, extra, key", [
    ("point", ["--times", "6"], "--times"),
    ("point", ["--times", "-0.5"], "--times"),
    ("point", ["--times", "nan"], "--times"),
    ("point", ["--radii", "1"], "--radii"),
    ("sphere", ["--radii", "20.5"], "--radii"),
    ("sphere", ["--radii", "-1"], "--radii"),
    ("sphere", ["--times", "0", "0.3"], "--times"),
    ("sphere", ["--dpi", "0"], "--dpi"),
    ("missing", [], "FILE"),
    ("not_ours", [], "FILE"),
])
def test_bad_input_is_one_line_and_writes_nothing(which, extra, key, request, tmp_path):
    path = tmp_path / "nope.h5" if which == "missing" else request.getfixturevalue(which + "_file")
    outdir = tmp_path / "plots"
    with pytest.raises(InputError) as info:
        plot.command(parse([path, "-o", outdir] + extra), FakePar())
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{key} = "), msg
    assert not outdir.exists()


def test_error_names_the_run_span(point_file, tmp_path):
    with pytest.raises(InputError, match=r"0 \.\. 5 ns"):
        plot.command(parse([point_file, "-o", tmp_path / "p", "--times", "7"]), FakePar())
    with pytest.raises(InputError, match=r"R = 20\] um"):
        plot_data.choose_cells([0.0, 10.0, 20.0], [21.0])


def test_outdir_that_is_a_file(point_file, tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(InputError, match="^-o = "):
        plot.command(parse([point_file, "-o", target]), FakePar())


def test_without_matplotlib(point_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(InputError) as info:
        plot.command(parse([point_file, "-o", tmp_path / "p"]), FakePar())
    assert str(info.value).startswith("plot = 'matplotlib': expected matplotlib installed")
    assert not (tmp_path / "p").exists()
