"""The gap of a cell: the BCS gap equation (``bcs``), real-axis Eliashberg self-energies
(``eliashberg``), the gap models a run uses (``models``) and the QP remap when the
spectra change (``remap``).
"""
