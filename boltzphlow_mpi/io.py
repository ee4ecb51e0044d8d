"""HDF5 output through one parallel-capable writer (h5py ``mpio`` driver).

Layout (docs/output.md): ``/time`` (ns), ``/grid/energy`` (meV), ``/qp/f`` and
``/phonon/n`` (time, cell, energy), ``/gap/delta`` (time, cell) in meV,
``/diagnostics/*`` (time,), each dataset with a ``units`` attribute; root attributes hold
the package version, the config text, the resolved material and the number of ranks.

Every rank takes part in every collective call (file open, dataset creation, resize,
attributes), also a rank that owns no cell; data are written by each rank for its own
cell range, scalars by rank 0. The file is flushed after every record, so a killed run
leaves a readable file with all records completed before the kill.
"""
import json
import os

import numpy as np

from . import __version__
from .errors import InputError

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
    "energy_at_grid_top": ("eV/um^3", "eV"),
    "energy_ledger_error": ("1 (relative to the deposit, or to the initial energy without deposit)",) * 2,
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


def material_attrs(material):
    d = material.as_dict()
    return {"material": json.dumps(d), "material_name": material.name}


def output_exists(path):
    return os.path.exists(path)
