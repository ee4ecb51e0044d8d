"""The steady state of a run (``[solve] mode = "steady"``): an optional transient, then
Newton on the point cell (``numerics.steady_point``, on the rank that owns it) or on all
cells of a sphere on all ranks (``numerics.steady_radial``); docs/physics.md, "Steady states".
"""


def solve(sim):
    """Collective. Sets ``sim`` to its steady state and returns the solver's result (the
    same dict on every rank). A failure raises ``SolverError`` on every rank alike."""
    from petsc4py import PETSc  # noqa: F401  (PETSc initialization is collective on the world)

    u, s = sim.units, sim.cfg.solve
    if s.transient_ns:
        sim.advance_to(s.transient_ns / u.tau0_ns)
    result = sim.geometry.solve_steady(sim, s.tolerance, s.max_iterations)
    sim.steady_state = True
    sim.steady_result = result
    return result
