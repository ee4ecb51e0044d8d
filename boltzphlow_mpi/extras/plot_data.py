"""What ``boltzphlow plot`` reads from an output file (docs/output.md): the layout check,
the geometry, and the records and cells to show.

Rank 0 reads the file with serial h5py. Bad input is an ``InputError`` raised before
anything is written.
"""
import json
from dataclasses import dataclass, field

import numpy as np

from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.physics.constants import K_B_MEV_PER_K

# Datasets every output file has (docs/output.md); their absence means "not our file".
REQUIRED = ("time", "grid/energy", "qp/f", "phonon/n", "gap/delta",
            "diagnostics/qp_number", "diagnostics/qp_number_excess", "diagnostics/qp_energy",
            "diagnostics/phonon_energy", "diagnostics/energy_escaped", "diagnostics/energy_out",
            "diagnostics/energy_condensate", "diagnostics/energy_ledger_error")


@dataclass
class PlotData:
    """What the figures need, read from one output file (arrays in the file's units)."""

    path: str
    material: str
    geometry: str  # "point" or "sphere"
    time: np.ndarray  # (T,)
    energy: np.ndarray  # (N,)
    gap: np.ndarray  # (T, C)
    units: dict  # dataset name -> units attribute
    diagnostics: dict  # name -> (T,) array
    records: list  # chosen record indices, in the order asked
    cells: list  # chosen cell indices (a point: [0])
    f: dict = field(default_factory=dict)  # record -> (C, N)
    n: dict = field(default_factory=dict)  # record -> (C, N)
    r: np.ndarray = None  # (C,) cell centres, sphere only
    r_edges: np.ndarray = None  # (C + 1,)
    mask_subgap: bool = True  # BCS: no states in an energy cell entirely below the gap
    bath_kT: float = None  # k_B T of the bath in the units of /grid/energy (None: not in the file)


def read_output(path, times=None, radii=None):
    """Read and check an output file; choose the records and cells to show.

    Parameters
    ----------
    path : str or path-like
        An HDF5 output file of ``boltzphlow run``.
    times : list of float, optional
        Times (ns); each selects the nearest record (default: first, middle and last).
    radii : list of float, optional
        Sphere only: radii (um); each selects the cell containing it (default: centre,
        ``R/2`` and the outer cell).

    Returns
    -------
    PlotData
        The arrays the figures draw, with only the chosen records of the occupations.

    Raises
    ------
    InputError
        If the file is not a readable output file or a choice is outside the run.
    """
    import h5py
    path = str(path)
    try:
        h5 = h5py.File(path, "r", driver=None)
    except OSError as exc:
        raise InputError("FILE", path, "a readable HDF5 output file of boltzphlow run", _reason(exc)) from None
    with h5:
        _check_layout(h5, path)
        return _read(h5, path, times, radii)


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc)


def _check_layout(h5, path):
    if h5.attrs.get("kind") == "boltzphlow-checkpoint":
        raise InputError("FILE", path, "an output file of boltzphlow run, not a checkpoint")
    missing = [name for name in REQUIRED if name not in h5]
    if missing:
        raise InputError("FILE", path, "a BoltzPhlow-MPI output file", f"no /{missing[0]}")


def _read(h5, path, times, radii):
    t = h5["time"][()]
    if len(t) == 0:
        key, value = ("--times", times) if times is not None else ("FILE", path)
        raise InputError(key, value, "a file with at least one output record (it has none)")
    # The one place that tells the geometries apart: only a sphere's file has a radial mesh.
    geometry = "sphere" if "grid/r_edges" in h5 else "point"
    records = choose_records(t, times)
    cells, r, r_edges = CELLS[geometry](h5, radii)
    units = {}
    h5.visititems(lambda name, obj: units.__setitem__(name, str(obj.attrs.get("units", ""))))
    diag = {name: h5["diagnostics/" + name][()] for name in h5["diagnostics"]}
    # Only the chosen records of the occupations: a long run's full /qp/f may not fit in memory.
    wanted = sorted(set(records))
    f_sel, n_sel = h5["qp/f"][wanted], h5["phonon/n"][wanted]
    return PlotData(
        path=path, material=str(h5.attrs.get("material_name", "")), geometry=geometry, time=t,
        energy=h5["grid/energy"][()], gap=h5["gap/delta"][()], units=units, diagnostics=diag,
        records=records, cells=cells, f=dict(zip(wanted, f_sel)), n=dict(zip(wanted, n_sel)),
        r=r, r_edges=r_edges, mask_subgap=_is_bcs(h5), bath_kT=_bath_kT(h5))


def _bath_kT(h5):
    """``k_B T`` of the bath in meV (the unit of /grid/energy), from the resolved config and
    the material; None when the file does not say."""
    try:
        cfg = json.loads(h5.attrs["config_resolved"])
        tc = json.loads(h5.attrs["material"])["tc_K"]
        bath = cfg["bath"]
        t_K = bath["temperature_K"] if bath.get("temperature_K") is not None else bath["temperature_over_tc"] * tc
        return float(t_K) * K_B_MEV_PER_K
    except (KeyError, TypeError, ValueError):
        return None


def _is_bcs(h5):
    """True unless the run had Dynes broadening (which puts states below the gap)."""
    try:
        cfg = json.loads(h5.attrs["config_resolved"])
        return not cfg["grid"]["dynes_gamma_over_delta0"]
    except (KeyError, TypeError, ValueError):
        return True


def _unique(seq):
    return list(dict.fromkeys(seq))


def choose_records(t, times):
    """Record indices nearest to ``times`` (ns); default first, middle and last.

    Parameters
    ----------
    t : ndarray
        The record times (ns), increasing.
    times : list of float or None
        The times asked for.

    Returns
    -------
    list of int
        Record indices in the order asked, duplicates dropped.
    """
    if times is None:
        return _unique([0, len(t) // 2, len(t) - 1])
    lo, hi = float(t[0]), float(t[-1])
    tol = 1e-9 * max(1.0, abs(hi))  # a time typed from a printed value may round past t_end
    bad = [x for x in times if not (np.isfinite(x) and lo - tol <= x <= hi + tol)]
    if bad:
        raise InputError("--times", bad[0], f"times (ns) within the run, {lo:.6g} .. {hi:.6g} ns")
    return _unique([int(np.argmin(np.abs(t - x))) for x in times])


def choose_cells(edges, radii):
    """Cell indices containing ``radii`` (um); default centre, R/2 and the outer cell.

    Parameters
    ----------
    edges : ndarray, shape (C + 1,)
        The cell edges (um); cell ``i`` is ``[edges[i], edges[i+1])``, ``r = R`` belongs
        to the outer cell.
    radii : list of float or None
        The radii asked for.

    Returns
    -------
    list of int
        Cell indices in the order asked, duplicates dropped.
    """
    R = float(edges[-1])
    last = len(edges) - 2
    if radii is None:
        return _unique([0, _cell_of(edges, R / 2), last])
    bad = [x for x in radii if not (np.isfinite(x) and 0.0 <= x <= R)]
    if bad:
        raise InputError("--radii", bad[0], f"radii (um) in [0, R = {R:.6g}] um")
    return _unique([_cell_of(edges, x) for x in radii])


def _cell_of(edges, r):
    # Cell i is [edges[i], edges[i+1]); r = R belongs to the outer cell.
    return int(np.clip(np.searchsorted(edges, r, side="right") - 1, 0, len(edges) - 2))


def _point_cells(h5, radii):
    """A point's one cell: ``([0], r, r_edges)`` with no radial mesh."""
    if radii is not None:
        raise InputError("--radii", radii, "no --radii: this is a point (0-D) run")
    return [0], None, None


def _sphere_cells(h5, radii):
    """The chosen cells of a sphere, its cell centres and edges."""
    r_edges = h5["grid/r_edges"][()]
    return choose_cells(r_edges, radii), h5["grid/r"][()], r_edges


# The cells to show and the radial mesh, by geometry.
CELLS = {"point": _point_cells, "sphere": _sphere_cells}
