"""HDF5 output through one parallel-capable writer (h5py ``mpio`` driver).

Layout (docs/output.md): ``/time`` (ns), ``/grid/energy`` (meV), ``/qp/f`` and
``/phonon/n`` (time, cell, energy), ``/gap/delta`` (time, cell) in meV,
``/diagnostics/*`` (time,), each dataset with a ``units`` attribute; root attributes hold
the package version, the config text, the resolved material and the number of ranks.
The datasets of the axes are HDF5 dimension scales attached to the data, so netCDF readers
(xarray with ``engine="h5netcdf"``) see named dimensions and coordinates
(``add_dimension_scales``).

Every rank takes part in every collective call (file open, dataset creation, resize,
attributes), also a rank that owns no cell; data are written by each rank for its own
cell range, scalars by rank 0. The file is flushed after every record, so a killed run
leaves a readable file with all records completed before the kill.
"""
import json
import os

import numpy as np

from boltzphlow_mpi import __version__
from boltzphlow_mpi.errors import InputError

# name -> (unit for a point: densities per um^3, unit for a sphere: totals)
DIAGNOSTICS = {
    "qp_number": ("um^-3", "1"),
    "qp_number_excess": ("um^-3", "1"),
    "qp_energy": ("eV/um^3", "eV"),
    "phonon_energy": ("eV/um^3", "eV"),
    "energy_escaped": ("eV/um^3", "eV"),
    "energy_out": ("eV/um^3", "eV"),
    "qp_number_out": ("um^-3", "1"),
    "energy_qp_to_phonon": ("eV/um^3", "eV"),
    "energy_condensate": ("eV/um^3", "eV"),
    "energy_absorbed": ("eV/um^3", "eV"),
    "energy_at_grid_top": ("eV/um^3", "eV"),
    "energy_ledger_error": ("1 (relative to the larger of the deposit and the absorbed energy, or to the initial "
                            "energy without either; NaN for a steady state)",) * 2,
    "gap_mean": ("meV", "meV"),
    "dt": ("ns", "ns"),
    "steps": ("1", "1"),
}
DIAGNOSTICS_UNITS = {k: v[0] for k, v in DIAGNOSTICS.items()}  # point geometry


def h5py_mpi():
    import h5py
    if not h5py.get_config().mpi:
        raise RuntimeError("h5py is not built with MPI: run `make setup` (see docs/install.md)")
    return h5py


class OutputFile:
    """Time-extendable output file; ``append`` adds one record."""

    def __init__(self, path, par, *, n_cells, cell_range, energy_meV, attrs, force=False, mesh=None):
        h5py = h5py_mpi()
        self.par, self.cell_range = par, cell_range
        self.path = str(path)
        mode = "w" if force else "w-"
        self.h5 = h5py.File(self.path, mode, driver="mpio", comm=par.comm)
        N = len(energy_meV)
        h5 = self.h5
        for k, v in attrs.items():
            h5.attrs[k] = v
        h5.attrs["version"] = __version__
        h5.attrs["ranks"] = par.size
        self._new("time", (0,), (None,), "ns")
        g = h5.create_dataset("grid/energy", data=np.asarray(energy_meV, float))
        g.attrs["units"] = "meV"
        self._new("qp/f", (0, n_cells, N), (None, n_cells, N), "1", chunks=(1, max(1, n_cells), N))
        self._new("phonon/n", (0, n_cells, N), (None, n_cells, N), "1", chunks=(1, max(1, n_cells), N))
        self._new("gap/delta", (0, n_cells), (None, n_cells), "meV", chunks=(1, max(1, n_cells)))
        if mesh is not None:
            for name, data in (("grid/r", mesh.centres), ("grid/r_edges", mesh.edges)):
                d = h5.create_dataset(name, data=np.asarray(data, float))
                d.attrs["units"] = "um"
        for name, units in DIAGNOSTICS.items():
            self._new("diagnostics/" + name, (0,), (None,), units[1 if mesh is not None else 0])
        add_dimension_scales(h5)
        self.records = 0
        h5.flush()

    def _new(self, name, shape, maxshape, units, chunks=None):
        d = self.h5.create_dataset(name, shape, maxshape=maxshape, dtype="f8",
                                   chunks=chunks or (256,) * len(shape))
        d.attrs["units"] = units
        return d

    @classmethod
    def reopen(cls, path, par, *, cell_range, records):
        """Open an existing output file to continue it after record ``records - 1``
        (records written after that, by a run that went on past its checkpoint, are dropped)."""
        h5py = h5py_mpi()
        self = cls.__new__(cls)
        self.par, self.cell_range, self.path = par, cell_range, str(path)
        try:
            self.h5 = h5py.File(self.path, "r+", driver="mpio", comm=par.comm)
        except OSError as exc:
            raise InputError("-o", self.path, "the run's readable HDF5 output file to continue", str(exc)) from None
        have = self.h5["time"].shape[0]
        if have < records:
            self.h5.close()
            raise InputError("-o", self.path, f"an output file with at least {records} records (it has {have})")
        for name in self._series():
            self.h5[name].resize(records, axis=0)
        add_dimension_scales(self.h5)  # a no-op for a file written by this version
        self.h5.attrs["ranks"] = par.size
        self.records = records
        self.h5.flush()
        return self

    @staticmethod
    def _series():
        return ["time", "qp/f", "phonon/n", "gap/delta"] + ["diagnostics/" + k for k in DIAGNOSTICS]

    def append(self, t_ns, f, n, delta_meV, diagnostics):
        """Collective: every rank calls with its own cells (possibly zero of them)."""
        h5, i = self.h5, self.records
        c0, c1 = self.cell_range
        for name in self._series():
            d = h5[name]
            d.resize(i + 1, axis=0)
        if c1 > c0:
            h5["qp/f"][i, c0:c1, :] = f
            h5["phonon/n"][i, c0:c1, :] = n
            h5["gap/delta"][i, c0:c1] = delta_meV
        if self.par.rank == 0:
            h5["time"][i] = t_ns
            for k in DIAGNOSTICS:
                h5["diagnostics/" + k][i] = diagnostics[k]
        self.records += 1
        h5.flush()

    def close(self):
        self.h5.close()


def add_dimension_scales(h5):
    """Make the file self-describing for netCDF readers (h5netcdf, xarray); idempotent.

    Dimensions: ``time`` (``/time``, unlimited), ``energy`` (``/grid/energy``) and the cell
    dimension, ``r`` (``/grid/r``, cell centres in um) in a sphere or ``cell``
    (``/grid/cell``, the cell index, created here) otherwise; in a sphere also ``r_edges``
    (``/grid/r_edges``). These datasets become HDF5 dimension scales and are attached to
    the axes of ``/qp/f``, ``/phonon/n``, ``/gap/delta``, ``/diagnostics/*`` and
    ``/grid/*``. Soft links to the scales (``/energy``, ``/r`` or ``/cell`` at the root,
    ``time``, ``energy`` and the cell dimension in ``/qp``, ``/phonon``, ``/gap`` and
    ``/diagnostics``) let netCDF readers find the dimensions and their coordinate values
    from every group. ``h5py``'s ``visit`` does not follow soft links, so the list of
    datasets only grows by ``/grid/cell`` (point files).

    Collective: every rank makes the same calls in the same order (decisions depend on the
    file only, which every rank sees the same).
    """
    h5py = h5py_mpi()
    sphere = "grid/r" in h5
    cell = "r" if sphere else "cell"
    if not sphere and "grid/cell" not in h5:
        d = h5.create_dataset("grid/cell", data=np.arange(h5["qp/f"].shape[1], dtype=float))
        d.attrs["units"] = "1"
    scales = {"time": "/time", "energy": "/grid/energy", cell: "/grid/" + cell}
    if sphere:
        scales["r_edges"] = "/grid/r_edges"
    for name, path in scales.items():
        if not h5py.h5ds.is_scale(h5[path].id):
            h5[path].make_scale(name)
    axes = {"qp/f": ("time", cell, "energy"), "phonon/n": ("time", cell, "energy"),
            "gap/delta": ("time", cell)}
    axes.update({"diagnostics/" + k: ("time",) for k in DIAGNOSTICS})
    for name, dims in axes.items():
        d = h5[name]
        for axis, dim in enumerate(dims):
            if len(d.dims[axis]) == 0:
                d.dims[axis].attach_scale(h5[scales[dim]])
    links = {"energy": "/grid/energy", cell: scales[cell]}
    for group, dims in (("qp", ("time", cell, "energy")), ("phonon", ("time", cell, "energy")),
                        ("gap", ("time", cell)), ("diagnostics", ("time",))):
        links.update({f"{group}/{dim}": scales[dim] for dim in dims})
    for name, target in links.items():
        if h5.get(name, getlink=True) is None:
            h5[name] = h5py.SoftLink(target)


def material_attrs(material):
    d = material.as_dict()
    return {"material": json.dumps(d), "material_name": material.name}


def output_exists(path):
    return os.path.exists(path)
