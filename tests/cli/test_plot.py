"""``boltzphlow plot``: PNGs of a tiny point and a tiny sphere output, axis labels with
units, and one-line input errors that leave no output directory behind."""
import argparse
import json
import sys

import h5py
import pytest

pytest.importorskip("matplotlib")

from mpi4py import MPI  # noqa: E402

from boltzphlow_mpi import cli  # noqa: E402
from boltzphlow_mpi.app import config
from boltzphlow_mpi.app.simulation import Simulation  # noqa: E402
from boltzphlow_mpi.errors import InputError  # noqa: E402
from boltzphlow_mpi.extras import plot, plot_data
from boltzphlow_mpi.fileio.output import OutputFile, material_attrs  # noqa: E402
from boltzphlow_mpi.parallel.comm import Parallel  # noqa: E402

from helpers import TINY_TOML  # noqa: E402  (the small 0-D job: records at t = 0, 1, ..., 5 ns)

PNG = b"\x89PNG\r\n\x1a\n"
# 5 cells of 4 um, 17 energies, records every 0.05 ns to 0.2 ns: about a second.
SPHERE = {
    "material": {"name": "Sn"},
    "bath": {"temperature_over_tc": 0.15},
    "grid": {"energy_step_over_delta0": 0.5, "energy_max_over_delta0": 8.0},
    "geometry": {"kind": "sphere", "radius_um": 20.0, "cells": 5},
    "transport": {"qp": "diffusive", "qp_mean_free_path_um": 0.3, "phonon": "kinetic", "angles": 2},
    "initial": {"species": "phonon", "energy_center_over_delta0": 5.0, "energy_width_over_delta0": 0.3,
                "deposit_eV": 50.0, "radius_width_um": 3.0},
    "time": {"t_end_ns": 0.2, "method": "exp", "rtol": 1e-3, "output_interval_ns": 0.05},
    "gap": {"mode": "self-consistent"},
}


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
    d = tmp_path_factory.mktemp("plot_point")
    (d / "job.toml").write_text(TINY_TOML)
    out = d / "run.h5"
    assert cli.main(["run", str(d / "job.toml"), "-o", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def sphere_file(tmp_path_factory):
    """A sphere output written as ``boltzphlow run`` does (tests/parallel/test_mpi.py::run_to_file)."""
    path = tmp_path_factory.mktemp("plot_sphere") / "sphere.h5"
    cfg = config.from_dict(SPHERE)
    par = Parallel(MPI.COMM_SELF)
    sim = Simulation(cfg, par)
    attrs = {"config": json.dumps(cfg), "config_resolved": json.dumps(cfg), **material_attrs(sim.material)}
    writer = OutputFile(path, par, n_cells=sim.n_cells, cell_range=sim.cell_range,
                        energy_meV=sim.grid.x * sim.units.kTc_meV, attrs=attrs, mesh=sim.mesh)
    try:
        sim.run(writer)
    finally:
        writer.close()
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
    assert len(ax.get_legend().get_texts()) == 4  # three times and the gap edge
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
