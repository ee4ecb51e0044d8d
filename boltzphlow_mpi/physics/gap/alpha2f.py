"""The Eliashberg function ``alpha^2F(Omega)`` on the energy grid: Debye and Einstein
models and tables (docs/physics.md, "Eliashberg self-energies").

``alpha^2F`` is sampled at ``Omega_j = j h``, ``j = 0 .. J``, with the step ``h`` of the
kinetic energy grid, in internal units (energies ``k_B T_c``), so the self-energy
convolutions of ``eliashberg`` are plain sums over grid points.
"""
from dataclasses import dataclass

import numpy as np

from boltzphlow_mpi.errors import InputError


@dataclass(frozen=True)
class Alpha2F:
    """``alpha^2F`` sampled at ``Omega_j = j h`` (j = 0 .. J), internal units."""

    step: float
    values: np.ndarray
    label: str

    @property
    def omega(self):
        return self.step * np.arange(len(self.values))

    @property
    def lam(self):
        """``lambda = 2 int alpha^2F / Omega`` (grid sum)."""
        w = self.omega[1:]
        return float(2.0 * self.step * np.sum(self.values[1:] / w))

    @property
    def omega_max(self):
        nz = np.nonzero(self.values > 0)[0]
        return float(self.omega[nz[-1]]) if len(nz) else 0.0

    @property
    def omega_log(self):
        """``omega_ln = exp[(2/lambda) int ln(Omega) alpha^2F / Omega]``."""
        w, v = self.omega[1:], self.values[1:]
        return float(np.exp(2.0 * self.step * np.sum(np.log(w) * v / w) / self.lam))

    def _scaled(self, lam):
        return Alpha2F(self.step, self.values * (lam / self.lam), self.label)

    @classmethod
    def debye(cls, step, omega_d, lam):
        """``b Omega^2`` up to ``Omega_D``, ``b`` such that the grid ``lambda`` is ``lam``."""
        j = np.arange(int(np.floor(omega_d / step + 1e-9)) + 1)
        return cls(step, (step * j) ** 2, f"Debye, Omega_D = {omega_d:g}")._scaled(lam)

    @classmethod
    def einstein(cls, step, omega_e, width, lam):
        """Narrow Lorentzian at ``Omega_E`` (half width ``width``), cut at ``+- 10 width``."""
        if width < 6 * step:
            raise InputError("gap.width_meV", width, "a width of at least 6 energy steps "
                             "(the grid must resolve the Lorentzian)")
        if omega_e - 10 * width <= 0:
            raise InputError("gap.width_meV", width, "a width below Omega_E / 10")
        j = np.arange(int(np.ceil((omega_e + 10 * width) / step)) + 1)
        w = step * j
        v = np.where(np.abs(w - omega_e) <= 10 * width, width / np.pi / ((w - omega_e) ** 2 + width ** 2), 0.0)
        return cls(step, v, f"Einstein, Omega_E = {omega_e:g}, width {width:g}")._scaled(lam)

    @classmethod
    def tabulated(cls, step, energy, values, label):
        """Linear interpolation of a table (energies and values in internal units); zero
        outside it. ``lambda`` is that of the table."""
        j = np.arange(int(np.ceil(energy[-1] / step)) + 1)
        v = np.interp(step * j, energy, values, left=0.0, right=0.0)
        v[0] = 0.0
        return cls(step, v, label)


def read_alpha2f_table(path, key="gap.alpha2f"):
    """Read a tabulated ``alpha^2F``: two columns, energy in meV and ``alpha^2F``; ``#`` comments.

    Parameters
    ----------
    path : str
        The file.
    key : str
        The config key named in an input error.

    Returns
    -------
    energy, values : ndarray
        Increasing energies (meV, >= 0) and ``alpha^2F`` (>= 0, some positive).

    Raises
    ------
    InputError
        If the file is unreadable or not such a table.
    """
    import warnings
    try:
        with warnings.catch_warnings():  # an empty file: the InputError below says it, not a warning
            warnings.simplefilter("ignore")
            data = np.loadtxt(path, comments="#", ndmin=2)
    except OSError as exc:
        raise InputError(key, path, "'debye', 'einstein' or a readable two-column file", str(exc)) from None
    except ValueError as exc:
        raise InputError(key, path, "a file of two numeric columns (meV, alpha^2F)", str(exc).splitlines()[0]) from None
    if data.shape[1] != 2 or len(data) < 2:
        raise InputError(key, path, "a file of two numeric columns (meV, alpha^2F) with at least 2 rows")
    e, v = data[:, 0], data[:, 1]
    if not (np.all(np.isfinite(data)) and np.all(np.diff(e) > 0) and e[0] >= 0 and np.all(v >= 0)):
        raise InputError(key, path, "increasing energies >= 0 and alpha^2F >= 0, all finite")
    if not np.any(v > 0):
        raise InputError(key, path, "an alpha^2F with some positive values")
    return e, v
