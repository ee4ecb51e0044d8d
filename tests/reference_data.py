"""Reference tables for the tests, each with its source.

READ FIRST: WHAT IS MISSING
===========================
* The published Bardeen-Rickayzen-Tewordt table (J. Bardeen, G. Rickayzen, L. Tewordt,
  Phys. Rev. 113, 982 (1959)) could NOT be found in any source available while this file
  was written. ``BRT_KAPPA_TABLE`` below is therefore NOT the published table. It is
  computed here from BRT's closed-form result for impurity scattering, evaluated with the
  weak-coupling BCS gap (details at the table). A test that compares the solver with it
  checks the solver against the BRT *formula*, not against independent published
  numbers. ``BRT_KAPPA_TABLE_IS_PUBLISHED`` is False so that tests can say so. Replace the
  table with the paper's numbers when someone can read the paper.
* Muhlschlegel's paper (B. Muhlschlegel, Z. Phys. 155, 313 (1959)) was not read directly.
  ``BCS_GAP_TABLE`` is his table as reproduced to 4 decimals in public code (cited at the
  table). A numerical solution of the weak-coupling gap equation, done while writing this
  file, agrees with every entry to 4.7e-5 or better, i.e. to the rounding.
  The reproduction starts at t = 0.18, so there is no point at t = 0.1; below
  t = 0.18, Delta/Delta(0) = 1.0000 to 4 decimals (the BCS low-temperature form
  1 - sqrt(2 pi t / 1.764) exp(-1.764 / t) gives 0.99996 at t = 0.18 and 1 - 1.3e-8 at
  t = 0.1).

The other constants below are exact BCS results.
"""

import math

# ---------------------------------------------------------------------------------------
# BCS weak-coupling constants
# ---------------------------------------------------------------------------------------

ZETA3 = 1.2020569031595942  # Apery's constant zeta(3)
EULER_GAMMA = 0.5772156649015329

# Delta(0) / (k_B T_c) = pi exp(-gamma_E) = 1.76388 (weak-coupling BCS).
# J. Bardeen, L. N. Cooper, J. R. Schrieffer, Phys. Rev. 108, 1175 (1957), whose numerical
# value is 1.76 (2 Delta(0) = 3.52 k_B T_c); Tinkham, Introduction to Superconductivity,
# 2nd ed. (1996), ch. 3, quotes 1.764.
BCS_DELTA0_OVER_KTC = math.pi * math.exp(-EULER_GAMMA)

# Specific-heat jump at T_c: Delta C / C_n = 12 / (7 zeta(3)) = 1.4261 (weak-coupling BCS).
# BCS (Phys. Rev. 108, 1175 (1957)) give 1.43, and Tinkham (2nd ed., ch. 3) quotes 1.43.
# The closed form 12/(7 zeta(3)) is the standard weak-coupling result from expanding the
# BCS free energy near T_c (e.g. Fetter & Walecka, Quantum Theory of Many-Particle
# Systems, Sec. 51; not checked against the book here). Evaluated: 1.426127.
BCS_SPECIFIC_HEAT_JUMP = 12.0 / (7.0 * ZETA3)  # 1.426126924...
BCS_SPECIFIC_HEAT_JUMP_QUOTED = 1.43  # as printed by BCS (1957) and Tinkham

# ---------------------------------------------------------------------------------------
# BCS gap Delta(T)/Delta(0) versus t = T/T_c (weak coupling)
# ---------------------------------------------------------------------------------------
# Source: B. Muhlschlegel, "Die thermodynamischen Funktionen des Supraleiters",
# Z. Phys. 155, 313 (1959), table of Delta(T)/Delta(0), as reproduced (t = 0.18 ... 1.00 in
# steps of 0.02, 4 decimals, "from Muhlschlegel (1959)") in public code: repository
# zobristnicholas/superconductivity, file superconductivity/gap_functions.py (list `_dr`).
# An independent copy of the same 42 numbers is in the `deltaBCS` function of a public
# resonator-fitting module ("These data points run from t=0.18 to t=1 in steps of 0.02
# from Muhlschlegel (1959)"). Check made while writing this file: a numerical solution of
# ln(Delta_BCS(0)/Delta) = 2 int_0^inf f(E)/E dxi agrees with every entry to <= 4.7e-5.
BCS_GAP_TABLE = [
    (0.18, 1.0000),
    (0.20, 0.9999),
    (0.22, 0.9997),
    (0.24, 0.9994),
    (0.26, 0.9989),
    (0.28, 0.9982),
    (0.30, 0.9971),
    (0.32, 0.9957),
    (0.34, 0.9938),
    (0.36, 0.9915),
    (0.38, 0.9885),
    (0.40, 0.9850),
    (0.42, 0.9809),
    (0.44, 0.9760),
    (0.46, 0.9704),
    (0.48, 0.9641),
    (0.50, 0.9569),
    (0.52, 0.9488),
    (0.54, 0.9399),
    (0.56, 0.9299),
    (0.58, 0.9190),
    (0.60, 0.9070),
    (0.62, 0.8939),
    (0.64, 0.8796),
    (0.66, 0.8640),
    (0.68, 0.8471),
    (0.70, 0.8288),
    (0.72, 0.8089),
    (0.74, 0.7874),
    (0.76, 0.7640),
    (0.78, 0.7386),
    (0.80, 0.7110),
    (0.82, 0.6810),
    (0.84, 0.6480),
    (0.86, 0.6117),
    (0.88, 0.5715),
    (0.90, 0.5263),
    (0.92, 0.4749),
    (0.94, 0.4148),
    (0.96, 0.3416),
    (0.98, 0.2436),
    (1.00, 0.0000),
]
BCS_GAP_TABLE_DECIMALS = 4  # entries are rounded to 1e-4: compare with atol ~ 6e-5

# ---------------------------------------------------------------------------------------
# Electronic thermal conductivity kappa_es / kappa_en (impurity scattering), BRT
# ---------------------------------------------------------------------------------------
# NOT THE PUBLISHED TABLE (see the top of this file). Computed from BRT's closed form for
# elastic impurity scattering (Bardeen, Rickayzen, Tewordt, Phys. Rev. 113, 982 (1959)):
#
#   kappa_es / kappa_en = [2 F1(-y) + 2 y ln(1 + e^-y) + y^2 / (1 + e^y)] / [2 F1(0)],
#   F1(-y) = int_0^inf z / (1 + e^(z + y)) dz,  F1(0) = pi^2 / 12,  y = Delta(T) / (k_B T),
#
# with Delta(T) the weak-coupling BCS gap (solved numerically; it matches BCS_GAP_TABLE).
# Quadrature was done with scipy.integrate.quad at relative tolerance 1e-13, so the
# rounding to 5 decimals is the only error. The expansion for small y is
# 1 - y^3 / (2 pi^2) + ..., so the ratio leaves 1 with zero slope at T_c.
BRT_KAPPA_TABLE_IS_PUBLISHED = False
BRT_KAPPA_TABLE_SOURCE = (
    "computed from the BRT closed form (Phys. Rev. 113, 982 (1959)) with the "
    "weak-coupling BCS gap; the published BRT table was not available"
)

# (t, y = Delta/kT, kappa_es/kappa_en)
BRT_KAPPA_TABLE_WITH_Y = [
    (0.20, 8.8183, 0.00876),
    (0.25, 7.0498, 0.03468),
    (0.30, 5.8627, 0.08295),
    (0.35, 5.0029, 0.15043),
    (0.40, 4.3437, 0.23096),
    (0.45, 3.8152, 0.31851),
    (0.50, 3.3757, 0.40828),
    (0.55, 2.9986, 0.49684),
    (0.60, 2.6664, 0.58180),
    (0.65, 2.3662, 0.66156),
    (0.70, 2.0884, 0.73503),
    (0.75, 1.8248, 0.80145),
    (0.80, 1.5677, 0.86022),
    (0.85, 1.3080, 0.91074),
    (0.90, 1.0316, 0.95226),
    (0.95, 0.7061, 0.98342),
    (0.98, 0.4384, 0.99585),
    (1.00, 0.0000, 1.00000),
]

# (t, kappa_es/kappa_en)
BRT_KAPPA_TABLE = [(t, ratio) for t, _y, ratio in BRT_KAPPA_TABLE_WITH_Y]

# The same formula as a function of y alone (no gap equation involved): (y, ratio).
BRT_KAPPA_VS_Y = [
    (0.0, 1.00000),
    (0.5, 0.99390),
    (1.0, 0.95612),
    (1.5, 0.87436),
    (2.0, 0.75781),
    (2.5, 0.62585),
    (3.0, 0.49651),
    (4.0, 0.28539),
    (5.0, 0.15072),
    (6.0, 0.07519),
    (8.0, 0.01672),
    (10.0, 0.00337),
]
