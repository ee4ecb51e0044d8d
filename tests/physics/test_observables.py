"""Observables (issue 6, first part): Mattis-Bardeen conductivity with any occupation,
x_qp and the effective temperature T*_N."""
import numpy as np
import pytest
from scipy.special import ellipe, ellipk

from boltzphlow_mpi.physics.analysis import diagnostics as dg
from boltzphlow_mpi.physics.analysis.observables import (
    effective_temperature,
    grid_occupation,
    mattis_bardeen,
    mattis_bardeen_low_temperature,
    x_qp,
)
from boltzphlow_mpi.physics.energy_grid import EnergyGrid, cell_spectra
from boltzphlow_mpi.physics.gap.bcs import BCS_RATIO, equilibrium_gap
from boltzphlow_mpi.physics.statistics import fermi


def zero(E):
    return np.zeros_like(np.asarray(E, float))


@pytest.mark.parametrize("hw", [0.5, 1.0, 1.9, 2.5, 3.0, 5.0])
def test_mattis_bardeen_zero_temperature_closed_forms(hw):
    """T = 0 (Mattis and Bardeen 1958): with x = 2 Delta/hw, k = |2 Delta - hw|/(2 Delta + hw),
    sigma_2/sigma_n = [(1 + x) E(k') - (1 - x) K(k')]/2 and, above 2 Delta,
    sigma_1/sigma_n = (1 + x) E(k) - 2 x K(k); within 1e-10 (measured 1e-15)."""
    d = 1.0
    x, k = 2 * d / hw, abs(2 * d - hw) / (2 * d + hw)
    s1, s2 = mattis_bardeen(d, hw, zero)
    assert s2 == pytest.approx(0.5 * ((1 + x) * ellipe(1 - k * k) - (1 - x) * ellipk(1 - k * k)), rel=1e-10)
    expected_s1 = (1 + x) * ellipe(k * k) - 2 * x * ellipk(k * k) if hw > 2 * d else 0.0
    assert s1 == pytest.approx(expected_s1, rel=1e-10, abs=1e-300)


def test_mattis_bardeen_thermal_low_temperature():
    """Thermal f at T = 0.05 T_c, hw = 0.01 Delta: the closed forms
    sigma_1 = (4 Delta/hw) e^(-Delta/kT) sinh(xi) K0(xi), sigma_2 = (pi Delta/hw)[1 - 2 e^(-Delta/kT) e^(-xi) I0(xi)]
    within 1 % (measured 0.74 % and 6e-6; the closed forms drop terms of order kT/Delta, hw/Delta)."""
    T = 0.05
    d = float(equilibrium_gap(T, BCS_RATIO))
    hw = 0.01 * d
    s1, s2 = mattis_bardeen(d, hw, lambda E: fermi(E, T), e_max=d + 60 * T)
    c1, c2 = mattis_bardeen_low_temperature(d, hw, T)
    assert s1 == pytest.approx(c1, rel=0.01)
    assert s2 == pytest.approx(c2, rel=0.01)
    assert abs(s1 / c1 - 1) > 1e-4  # the quadrature is not the closed form itself


def test_grid_occupation_reproduces_thermal_values():
    """The grid f of a thermal state (h = Delta_0/16) gives the same conductivity as the
    Fermi function within 1e-6."""
    T, d = 0.15, BCS_RATIO
    g = EnergyGrid.from_max(d / 16, 20 * d, 355.0)
    fg = grid_occupation(g, fermi(g.x, T))
    a = mattis_bardeen(d, 0.05 * d, fg, e_max=19 * d)
    b = mattis_bardeen(d, 0.05 * d, lambda E: fermi(E, T), e_max=19 * d)
    assert a[0] == pytest.approx(b[0], rel=1e-6) and a[1] == pytest.approx(b[1], rel=1e-6)


def test_effective_temperature_and_x_qp():
    d = BCS_RATIO
    g = EnergyGrid.from_max(d / 32, 20 * d, 355.0)
    sp = cell_spectra(g, [d])
    for T in (0.08, 0.123, 0.3):
        n = float(dg.qp_number(g, sp, fermi(g.x, T)[None])[0])
        assert effective_temperature(g, sp, n) == pytest.approx(T, rel=1e-10)
    # x_qp = n_qp / (2 N_0 Delta) against 2 K_1(Delta/kT), the Boltzmann limit of
    # 4 N_0 int rho f dE / (2 N_0 Delta), within 1 % on a fine grid (h = Delta_0/256; f varies
    # by e^(-h/kT) across a cell, so the grid sum converges as h^2)
    from scipy.special import k1
    fine = EnergyGrid.from_max(d / 256, 6 * d, 355.0)
    T = 0.1
    n = float(dg.qp_number(fine, cell_spectra(fine, [d]), fermi(fine.x, T)[None])[0])
    assert x_qp(n, d) == pytest.approx(2 * k1(d / T), rel=0.01)
