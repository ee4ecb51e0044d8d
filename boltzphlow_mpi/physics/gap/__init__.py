"""The gap of a cell: the BCS gap equation (``bcs``), real-axis Eliashberg self-energies
(``eliashberg``, the solve; its parts ``alpha2f``, ``hilbert``, ``eliashberg_spectra``,
``mu_star``; ``matsubara``, T_c from the imaginary axis as a check), the gap models a run
uses (``models``) and the QP remap when the spectra change (``remap``).
"""
