"""The readout observables of Fischer and Catelani (Phys. Rev. Applied 19, 054087 (2023)):
T* of their Eq. (24) from a microwave drive's amplitude, and the gap suppression relative to
the thermal one at the bath temperature (docs/physics.md, "Readout observables")."""
import numpy as np
import pytest

from boltzphlow_mpi.physics.analysis.observables import gap_suppression_relative_to_thermal, photon_heating_temperature


def test_t_star_of_their_table_one():
    """Their Table I: c_phot = 1 Hz, nbar = 1e7, tau_0 = 438 ns, omega_0 = Delta_0/9,
    Delta = Delta_0 = 1.764 k_B T_c give T* = Delta_0/2 (the table's value; Eq. (24) gives
    0.503 Delta_0)."""
    delta0 = 1.764
    b = 1.0 * 1e7 * 438e-9   # c_phot nbar tau_0
    t = photon_heating_temperature([b], [[delta0 / 9]], np.array([delta0]))[0]
    assert t / delta0 == pytest.approx(0.5, rel=0.01)


def test_t_star_scales_as_the_sixth_root_and_drives_add_their_diffusion():
    d = np.array([1.764])
    one = photon_heating_temperature([1.0], [[0.2]], d)[0]
    assert photon_heating_temperature([64.0], [[0.2]], d)[0] == pytest.approx(2 * one, rel=1e-14)
    # two drives: B omega^2 adds (0.4^2 = 4 x 0.2^2)
    assert photon_heating_temperature([1.0, 1.0], [[0.2], [0.4]], d)[0] == pytest.approx(
        photon_heating_temperature([5.0], [[0.2]], d)[0], rel=1e-14)


def test_gap_suppression_relative_to_thermal():
    """No suppression (Delta = Delta_0) is 1, the thermal one 0, twice the thermal -1; NaN
    where the bath suppresses nothing."""
    assert gap_suppression_relative_to_thermal(1.764, 1.7, 1.764) == pytest.approx(1.0)
    assert gap_suppression_relative_to_thermal(1.7, 1.7, 1.764) == pytest.approx(0.0)
    assert gap_suppression_relative_to_thermal(1.636, 1.7, 1.764) == pytest.approx(-1.0)
    assert np.isnan(gap_suppression_relative_to_thermal(1.7, 1.764, 1.764))
