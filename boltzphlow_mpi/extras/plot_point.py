"""``boltzphlow plot`` of a point (0-D) run: one cell, totals as densities per um^3, and
the gap vs time."""
from boltzphlow_mpi.extras.plot_figures import LEDGER, figure_set
from boltzphlow_mpi.extras.plot_style import new_figure, title


def cell_label(data, c):
    """A point's one cell."""
    return "point"


def gap_figure(data):
    """Delta vs time."""
    t, gu, tu = data.time, data.units["gap/delta"], data.units["time"]
    fig, (ax,) = new_figure(1)
    ax.plot(t, data.gap[:, 0], marker=".", ms=3)
    ax.set_xlabel(f"time t ({tu})")
    ax.set_ylabel(f"gap Delta ({gu})")
    ax.set_title(title(data, "gap vs time"))
    ax.grid(True, alpha=0.3)
    ax.ticklabel_format(axis="y", useOffset=False)  # gap changes are tiny: show the values
    return fig


# Nothing leaves a point through r = R: its energy_out is always 0 and not drawn.
FIGURES = figure_set(cell_label, "density", tuple(p for p in LEDGER if p[0] != "energy_out"), gap_figure)
