"""The Eliashberg function ``alpha^2F(Omega)`` on the energy grid: Debye and Einstein
models and tables (docs/physics.md, "Eliashberg self-energies").

``alpha^2F`` is sampled at ``Omega_j = j h``, ``j = 0 .. J``, with the step ``h`` of the
kinetic energy grid, in internal units (energies ``k_B T_c``), so the self-energy
convolutions of ``eliashberg`` are plain sums over grid points.
"""
from dataclasses import dataclass

import numpy as np

from boltzphlow_mpi.errors import InputError


#: the fraction of Omega_D over which the Debye model falls to zero (``Alpha2F.debye``)
DEBYE_TAPER = 0.02


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
        """The largest ``Omega`` with ``alpha^2F`` above ``1e-8`` of its maximum (a computed
        table's Gaussian tails of 1e-16 do not count)."""
        v = self.values
        nz = np.nonzero(v > 1e-8 * np.max(v))[0] if np.any(v > 0) else []
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
        """``b Omega^2`` up to ``Omega_D``, ``b`` such that the grid ``lambda`` is ``lam``; the
        top ``DEBYE_TAPER`` of ``Omega_D`` (at least 8 steps) falls to 0 as a half cosine.
        A step at ``Omega_D`` convolved with the gap edge makes the self-energies at
        ``Omega_D + Delta_0`` jump as the edge moves, and the iteration stalled there near
        ``T_c`` (docs/numerics.md, "Iteration")."""
        j = np.arange(int(np.floor(omega_d / step + 1e-9)) + 1)
        w = step * j
        ramp = np.clip((omega_d - w) / max(DEBYE_TAPER * omega_d, 8 * step), 0.0, 1.0)
        return cls(step, w ** 2 * (0.5 - 0.5 * np.cos(np.pi * ramp)), f"Debye, Omega_D = {omega_d:g}")._scaled(lam)

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


@dataclass(frozen=True)
class ShippedTable:
    """An ``alpha^2F`` table shipped with the package (``physics/gap/tables``; each file's
    header holds its source, method, units and moments)."""

    file: str
    lam: float | None      # lambda the table is scaled to by default (None: its own)
    mu_star_fit: str       # what mu* is fitted to by default: "delta0" or "tc"
    note: str

    @property
    def path(self):
        from importlib.resources import files
        return str(files("boltzphlow_mpi.physics.gap") / "tables" / self.file)


#: the shipped tables by material (docs/physics.md, "Eliashberg self-energies", "Parameters")
SHIPPED = {
    "pb": ShippedTable(
        "pb_alpha2f.dat", 1.55, "delta0",
        "first-principles (Elk 3.1.12 DFPT, LDA, no spin-orbit; lambda 1.20, omega_ln 5.39 meV), scaled to "
        "the tunnelling lambda = 1.55 (McMillan & Rowell 1965); mu* fitted to the measured Delta_0 = 1.38 meV"),
    "nb": ShippedTable(
        "nb_alpha2f.dat", None, "tc",
        "first-principles (IsoME test data, Kogler et al., CPC 315, 109720 (2025); lambda 0.94, omega_ln "
        "13.5 meV); mu* fitted to the measured T_c (the table's Delta_0 of Nb is the BCS value)"),
}


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
