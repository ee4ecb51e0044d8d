"""``boltzphlow plot`` of a sphere run: cells by radius, totals over the sphere, the map
``f(E, r)`` and the gap ``Delta(r, t)``."""
import numpy as np

from boltzphlow_mpi.extras.plot_figures import LEDGER, figure_set
from boltzphlow_mpi.extras.plot_style import axis_label, colours, new_figure, positive, subgap_masked, time_label, title

# The map's log colour scale shows this many decades below its peak.
MAP_DECADES = 20


def cell_label(data, c):
    """Cell ``c``'s centre and extent."""
    u = data.units.get("grid/r", "um")
    return f"r = {data.r[c]:.4g} {u} (cell {c}: {data.r_edges[c]:.4g}..{data.r_edges[c + 1]:.4g} {u})"


def qp_map_figure(data):
    """f(E, r) at the last chosen time, log colour scale, gap edge drawn over it."""
    from matplotlib.colors import LogNorm
    rec = data.records[-1]
    f = np.array([subgap_masked(data, data.f[rec][c], data.gap[rec, c]) for c in range(len(data.r))])
    f = positive(f)
    h = data.energy[1] - data.energy[0] if len(data.energy) > 1 else 1.0
    e_edges = np.clip(np.append(data.energy - h / 2, data.energy[-1] + h / 2), 0.0, None)
    fig, (ax,) = new_figure(1, height=4.5, width=6.5)
    finite = f[np.isfinite(f)]
    top = finite.max() if finite.size else 1.0
    low = max(finite.min(), top * 10.0 ** -MAP_DECADES) if finite.size else top * 1e-3
    mesh = ax.pcolormesh(data.r_edges, e_edges, np.ma.masked_invalid(f).T, norm=LogNorm(low, top),
                         cmap="viridis", shading="flat")
    ax.step(data.r_edges, np.append(data.gap[rec], data.gap[rec, -1]), where="post", color="w", lw=1,
            ls="--", label="gap Delta(r)")
    ru, eu = data.units.get("grid/r", "um"), data.units["grid/energy"]
    ax.set_xlabel(f"radius r ({ru})")
    ax.set_ylabel(f"QP energy E ({eu})")
    ax.set_title(title(data, f"QP occupation f(E, r) at {time_label(data, rec)}"))
    ax.legend(fontsize="small", loc="upper right")
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(axis_label("QP occupation f", data, "qp/f") + ", log scale")
    return fig


def gap_figure(data):
    """Delta(r) at the chosen times and Delta(t) at the chosen radii."""
    t, gu, tu = data.time, data.units["gap/delta"], data.units["time"]
    fig, (ax_r, ax_t) = new_figure(2)
    ru = data.units.get("grid/r", "um")
    for rec, col in zip(data.records, colours(len(data.records))):
        ax_r.plot(data.r, data.gap[rec], color=col, marker=".", ms=4, label=time_label(data, rec))
    ax_r.set_xlabel(f"radius r ({ru})")
    ax_r.set_ylabel(f"gap Delta ({gu})")
    ax_r.set_title("Delta(r) at the chosen times (cell centres)", fontsize="medium")
    for c, col in zip(data.cells, colours(len(data.cells))):
        ax_t.plot(t, data.gap[:, c], color=col, marker=".", ms=3, label=f"r = {data.r[c]:.4g} {ru}")
    ax_t.set_xlabel(f"time t ({tu})")
    ax_t.set_ylabel(f"gap Delta ({gu})")
    ax_t.set_title("Delta(t) at the chosen radii", fontsize="medium")
    for ax in (ax_r, ax_t):
        ax.grid(True, alpha=0.3)
        ax.ticklabel_format(axis="y", useOffset=False)  # gap changes are tiny: show the values
        if len(ax.get_lines()) > 1:
            ax.legend(fontsize="small")
    fig.suptitle(title(data, "gap Delta(r, t)"))
    return fig


FIGURES = figure_set(cell_label, "in the sphere", LEDGER, gap_figure, maps={"f_E_r": qp_map_figure})
