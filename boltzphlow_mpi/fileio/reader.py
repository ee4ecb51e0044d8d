"""Reading output files back as numpy arrays with their units (the Python API's
``open_output``; the layout is in docs/output.md)."""
import json
from dataclasses import dataclass, field

import numpy as np

from boltzphlow_mpi.errors import InputError


@dataclass(frozen=True)
class Output:
    """The records of a ``boltzphlow run`` file, or the points of a ``boltzphlow sweep`` file.

    Attributes
    ----------
    path : str
    kind : str
        ``"run"`` or ``"sweep"``.
    time : ndarray
        Record times (T,), ns (a run); empty for a sweep.
    energy : ndarray
        Energy grid (N,), meV.
    f, n : ndarray
        QP and phonon occupations (T, C, N) of a run, (P, N) of a sweep.
    gap : ndarray
        Gap of every cell (T, C), meV (a run).
    r : ndarray or None
        Cell centres (C,), um, of a sphere.
    data : dict
        Every 1-D series: the run's diagnostics, or the sweep's observables and ``values``.
    units : dict
        The unit of every array above and in ``data``, by name.
    config : dict
        The resolved config (a sweep: the job's tables).
    attrs : dict
        The file's root attributes (version, ranks, material ...).
    """

    path: str
    kind: str
    time: np.ndarray
    energy: np.ndarray
    f: np.ndarray
    n: np.ndarray
    gap: np.ndarray
    r: np.ndarray = None
    data: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)


def _units(ds):
    u = ds.attrs.get("units", "1")
    return u.decode() if isinstance(u, bytes) else str(u)


def open_output(path):
    """The arrays of output file ``path`` (read whole, serially, on the calling rank).

    Raises
    ------
    InputError
        If ``path`` is not a readable BoltzPhlow run or sweep file.
    """
    import h5py
    try:
        h5 = h5py.File(path, "r", driver=None)
    except (OSError, ValueError) as exc:
        raise InputError("PATH", str(path), "a readable BoltzPhlow output file", str(exc)) from None
    with h5:
        attrs = {k: (v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v) for k, v in h5.attrs.items()}
        energy = h5["grid/energy"][()] if "grid/energy" in h5 else np.zeros(0)
        if "sweep" in h5:
            g = h5["sweep"]
            data = {k: g[k][()] for k in g if g[k].ndim == 1}
            units = {k: _units(g[k]) for k in g if g[k].ndim == 1}
            units.update(energy="meV", f="1", n="1")
            return Output(str(path), "sweep", np.zeros(0), energy, g["qp_f"][()], g["phonon_n"][()], np.zeros(0),
                          None, data, units, json.loads(attrs.get("config", "{}")), attrs)
        if "qp/f" not in h5:
            raise InputError("PATH", str(path), "a BoltzPhlow run or sweep output file (no /qp/f, no /sweep)")
        diag = h5["diagnostics"]
        data = {k: diag[k][()] for k in diag}
        units = {k: _units(diag[k]) for k in diag}
        units.update(time="ns", energy="meV", f="1", n="1", gap="meV")
        r = None
        if "grid/r" in h5:
            r, units["r"] = h5["grid/r"][()], "um"
        cfg = json.loads(attrs.get("config_resolved", "{}"))
        return Output(str(path), "run", h5["time"][()], energy, h5["qp/f"][()], h5["phonon/n"][()],
                      h5["gap/delta"][()], r, data, units, cfg, attrs)
