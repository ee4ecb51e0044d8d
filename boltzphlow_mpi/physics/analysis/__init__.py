"""Numbers derived from states: moments and ledgers (``diagnostics``), observables
(Mattis-Bardeen, x_qp, T*), the generation efficiency, thermal lifetimes and
thermal properties.
"""
