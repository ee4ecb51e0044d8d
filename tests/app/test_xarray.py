"""The output opens in xarray (engine="h5netcdf") with named dimensions, coordinates and units.

The writer marks ``/time``, ``/grid/energy`` and ``/grid/r`` (sphere) or ``/grid/cell``
(point) as HDF5 dimension scales, attaches them to the data and links them into every group
(docs/output.md, "Opening with xarray"). Serial tests here; the MPI test runs under mpirun.
"""
import h5py
import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

from mpi4py import MPI

from boltzphlow_mpi.app import config
from boltzphlow_mpi.fileio.output import DIAGNOSTICS, OutputFile
from boltzphlow_mpi.parallel.comm import Parallel

import jobs
from helpers import run_to_file

POINT = jobs.table("tiny", time__t_end_ns=1.0, time__rtol=1e-3, time__output_interval_ns=0.5)
SPHERE = jobs.table("sphere", time__t_end_ns=0.2)
GEOMETRIES = {"point": POINT, "sphere": SPHERE}


def run_file(raw, comm, path):
    """``boltzphlow run`` of the job ``raw`` on ``comm`` into ``path`` (helpers.run_to_file)."""
    return run_to_file(config.from_dict(raw), Parallel(comm), path)


def open_group(path, group=None):
    # no phony_dims: every axis of every dataset has a named dimension
    return xr.open_dataset(path, engine="h5netcdf", group=group)


def check_file(path, sphere):
    """Every group of ``path`` seen through xarray; returns a list of problems."""
    problems = []

    def expect(ok, what):
        if not ok:
            problems.append(what)

    cell = "r" if sphere else "cell"
    with h5py.File(path, "r") as h5:
        t, energy = h5["time"][()], h5["grid/energy"][()]
        cells = h5["grid/r"][()] if sphere else np.arange(h5["qp/f"].shape[1], dtype=float)
        raw = {name: h5[name][()] for name in ("qp/f", "phonon/n", "gap/delta")}
        raw.update({"diagnostics/" + k: h5["diagnostics/" + k][()] for k in DIAGNOSTICS})
        units = {name: h5[name].attrs["units"] for name in raw}
        edges = h5["grid/r_edges"][()] if sphere else None
    coord_units = {"time": "ns", "energy": "meV", cell: "um" if sphere else "1"}
    coord_values = {"time": t, "energy": energy, cell: cells}

    def check_coords(ds, dims, group):
        for dim in dims:
            expect(dim in ds.coords, f"{group}: no coordinate {dim}")
            if dim in ds.coords:
                c = ds[dim]
                expect(c.dims == (dim,), f"{group}: {dim} dims {c.dims}")
                expect(c.dtype == np.float64, f"{group}: {dim} dtype {c.dtype}")
                expect(np.array_equal(c.values, coord_values[dim]), f"{group}: {dim} values")
                expect(c.attrs.get("units") == coord_units[dim], f"{group}: {dim} units {c.attrs.get('units')}")

    with open_group(path) as ds:
        expect(dict(ds.sizes) == {"time": len(t), "energy": len(energy), cell: len(cells)}, f"root sizes {ds.sizes}")
        check_coords(ds, ("time", "energy", cell), "/")
    for group, name, dims in (("qp", "f", ("time", cell, "energy")), ("phonon", "n", ("time", cell, "energy")),
                              ("gap", "delta", ("time", cell))):
        with open_group(path, group) as ds:
            v = ds[name]
            expect(v.dims == dims, f"{group}/{name} dims {v.dims}")
            expect(v.attrs.get("units") == units[f"{group}/{name}"], f"{group}/{name} units")
            expect(np.array_equal(v.values, raw[f"{group}/{name}"]), f"{group}/{name} values")
            check_coords(ds, dims, group)
            expect(set(ds.data_vars) == {name}, f"{group} data variables {list(ds.data_vars)}")
    with open_group(path, "diagnostics") as ds:
        expect(set(ds.data_vars) == set(DIAGNOSTICS), f"diagnostics {sorted(ds.data_vars)}")
        check_coords(ds, ("time",), "diagnostics")
        for k in DIAGNOSTICS:
            v = ds[k]
            expect(v.dims == ("time",), f"diagnostics/{k} dims {v.dims}")
            expect(v.attrs.get("units") == units["diagnostics/" + k], f"diagnostics/{k} units")
            expect(np.array_equal(v.values, raw["diagnostics/" + k]), f"diagnostics/{k} values")
    with open_group(path, "grid") as ds:
        check_coords(ds, ("energy", cell), "grid")
        if sphere:
            expect(ds["r_edges"].dims == ("r_edges",), "grid/r_edges dims")
            expect(np.array_equal(ds["r_edges"].values, edges), "grid/r_edges values")
            expect(ds["r_edges"].attrs.get("units") == "um", "grid/r_edges units")
    # the time dimension stays unlimited (netCDF view) and extendible (HDF5 view)
    import h5netcdf
    with h5netcdf.File(path, "r") as nc:
        expect(nc.dimensions["time"].isunlimited(), "time is not unlimited")
        expect(not nc.dimensions["energy"].isunlimited(), "energy is unlimited")
    with h5py.File(path, "r") as h5:
        expect(h5["time"].maxshape == (None,) and h5["qp/f"].maxshape[0] is None, "time axis not extendible")
    return problems


@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
def test_opens_in_xarray(tmp_path, geometry):
    path = tmp_path / f"{geometry}.h5"
    sim = run_file(GEOMETRIES[geometry], MPI.COMM_SELF, path)
    assert check_file(path, sphere=geometry == "sphere") == []
    with open_group(path, "qp") as ds:
        assert ds.sizes["time"] == 3 and ds.sizes["energy"] == sim.grid.size
        assert ds.sizes["r" if geometry == "sphere" else "cell"] == (13 if geometry == "sphere" else 1)
        # labelled selection works
        assert ds["f"].sel(time=ds["time"][-1]).shape[-1] == sim.grid.size


def test_opens_in_xarray_after_restart(tmp_path):
    """OutputFile.reopen (restart) cuts the file back and appends; the scales stay valid."""
    path = tmp_path / "sphere.h5"
    sim = run_file(SPHERE, MPI.COMM_SELF, path)
    par = Parallel(MPI.COMM_SELF)
    writer = OutputFile.reopen(path, par, cell_range=sim.cell_range, records=2)
    h5 = writer.h5
    f, n, delta = h5["qp/f"][1], h5["phonon/n"][1], h5["gap/delta"][1]
    diag = {k: h5["diagnostics/" + k][1] for k in DIAGNOSTICS}
    writer.append(0.25, f, n, delta, diag)
    writer.append(0.3, f, n, delta, diag)
    writer.close()
    assert check_file(path, sphere=True) == []
    with open_group(path, "gap") as ds:
        assert np.allclose(ds["time"].values, [0.0, 0.1, 0.25, 0.3])
        assert ds["delta"].sizes == {"time": 4, "r": 13}


def test_reopen_adds_scales_to_an_old_file(tmp_path):
    """A file written before the dimension scales gets them when a restart reopens it."""
    path = tmp_path / "old.h5"
    sim = run_file(POINT, MPI.COMM_SELF, path)
    with h5py.File(path, "r+") as h5:  # strip the netCDF metadata: the layout of older versions
        for name in ("energy", "cell", "qp/time", "qp/energy", "qp/cell", "phonon/time", "phonon/energy",
                     "phonon/cell", "gap/time", "gap/cell", "diagnostics/time"):
            del h5[name]
        for name in ["qp/f", "phonon/n", "gap/delta"] + ["diagnostics/" + k for k in DIAGNOSTICS]:
            d = h5[name]
            for axis in range(d.ndim):
                for scale in list(d.dims[axis].values()):
                    d.dims[axis].detach_scale(scale)
        for name in ("time", "grid/energy"):
            for a in ("CLASS", "NAME", "REFERENCE_LIST"):
                if a in h5[name].attrs:
                    del h5[name].attrs[a]
        del h5["grid/cell"]
    with pytest.raises(ValueError):
        xr.open_dataset(path, engine="h5netcdf", group="qp").load()
    writer = OutputFile.reopen(path, Parallel(MPI.COMM_SELF), cell_range=sim.cell_range, records=3)
    writer.close()
    assert check_file(path, sphere=False) == []


# -- MPI --------------------------------------------------------------------------------
@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
def test_parallel_file_opens_in_xarray(geometry, shared_dir):
    comm = MPI.COMM_WORLD
    path = shared_dir / f"{geometry}.h5"
    run_file(GEOMETRIES[geometry], comm, path)
    comm.barrier()
    if comm.rank == 0:
        problems = check_file(path, sphere=geometry == "sphere")
        with h5py.File(path, "r") as h5:
            if h5.attrs["ranks"] != comm.size:
                problems.append("ranks attribute")
    else:
        problems = None
    problems = comm.bcast(problems, root=0)
    assert problems == []
