"""The ``boltzphlow plot`` figures every geometry draws: occupations, QP number, energy
ledger; and ``figure_set``, which puts a geometry's figures in the order they are written.

What differs by geometry (the cell labels, the units of totals, the parts of the ledger,
the gap figure, the maps) comes in as arguments from ``plot_point`` and ``plot_sphere``.
"""
from functools import partial

import numpy as np

from boltzphlow_mpi.extras.plot_style import (
    axis_label,
    colours,
    log_floor,
    new_figure,
    positive,
    subgap_masked,
    time_label,
    title,
)
from boltzphlow_mpi.physics.constants import K_B_MEV_PER_K
from boltzphlow_mpi.physics.statistics import bose, fermi

# (diagnostic, legend, sign): the parts of the ledger, which sum to zero change since t = 0.
LEDGER = (
    ("qp_energy", "QPs (change of E_qp)", 1.0),
    ("phonon_energy", "phonons (change of E_ph)", 1.0),
    ("energy_escaped", "escaped (phonon escape)", 1.0),
    ("energy_out", "out through r = R", 1.0),
    ("energy_condensate", "condensate (minus energy_condensate)", -1.0),
)


def figure_set(cell_label, number_per, ledger, gap, maps=None):
    """A geometry's figures by file name (without .png), in the order they are written.

    Parameters
    ----------
    cell_label : callable
        ``cell_label(data, c)``: the title of cell ``c``'s occupation panel.
    number_per : str
        What the QP number counts ("density", "in the sphere").
    ledger : tuple
        The ``LEDGER`` parts the geometry has.
    gap : callable
        ``gap(data)``: the gap figure.
    maps : dict, optional
        Further figures by name, written after the occupations.

    Returns
    -------
    dict
        Name -> callable ``draw(data)`` returning a ``matplotlib.figure.Figure``.
    """
    return {
        "f_E": partial(occupation_figure, species="qp", cell_label=cell_label),
        "n_Omega": partial(occupation_figure, species="phonon", cell_label=cell_label),
        **(maps or {}),
        "qp_number": partial(qp_number_figure, number_per=number_per),
        "energy_ledger": partial(energy_ledger_figure, ledger=ledger),
        "gap": gap,
    }


def occupation_figure(data, species, cell_label):
    """f(E) ("qp") or n(Omega) ("phonon"): one panel per chosen cell, a curve per chosen time."""
    qp = species == "qp"
    dataset = "qp/f" if qp else "phonon/n"
    occ = data.f if qp else data.n
    fig, axes = new_figure(len(data.cells))
    cols = colours(len(data.records))
    for ax, c in zip(axes, data.cells):
        curves = []
        for rec, col in zip(data.records, cols):
            y = occ[rec][c]
            y = subgap_masked(data, y, data.gap[rec, c]) if qp else y
            y = positive(y)
            curves.append(y)
            ax.plot(data.energy, y, color=col, marker=".", ms=3, lw=1.2, label=time_label(data, rec))
        if data.bath_kT:  # the thermal occupation at the bath temperature, for comparison
            thermal = (fermi if qp else bose)(data.energy, data.bath_kT)
            thermal = positive(subgap_masked(data, thermal, data.gap[data.records[-1], c]) if qp else thermal)
            ax.plot(data.energy, thermal, color="0.3", ls="--", lw=1.0,
                    label=f"thermal at the bath, T_B = {data.bath_kT / K_B_MEV_PER_K * 1e3:.4g} mK")
        ax.set_yscale("log")
        log_floor(ax, curves)
        if qp:  # the gap edge, where the QP states start (last chosen time)
            d = data.gap[data.records[-1], c]
            ax.axvline(d, color="0.5", ls=":", lw=1, label=f"Delta = {d:.4g} {data.units['gap/delta']}")
        eu = data.units["grid/energy"]
        ax.set_xlabel(f"QP energy E ({eu})" if qp else f"phonon energy Omega ({eu})")
        ax.set_ylabel(axis_label("QP occupation f" if qp else "phonon occupation n (angle average)", data, dataset))
        ax.set_title(cell_label(data, c), fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        if len(ax.get_lines()) > 1:
            ax.legend(fontsize="small")
    fig.suptitle(title(data, "QP occupation f(E)" if qp else "phonon occupation n(Omega)"))
    return fig


def qp_number_figure(data, number_per):
    """QP number and excess QP number vs time (two panels: the thermal number dwarfs the excess)."""
    t = data.time
    fig, axes = new_figure(2, height=3.6)
    for ax, name, what in zip(axes, ("qp_number", "qp_number_excess"),
                              (f"QP number N_qp ({number_per})", "excess QP number (over the bath)")):
        ax.plot(t, data.diagnostics[name], marker=".", ms=3)
        ax.set_xlabel(f"time t ({data.units['time']})")
        ax.set_ylabel(axis_label(what, data, "diagnostics/" + name, count=True))
        ax.set_title(what, fontsize="medium")
        ax.grid(True, alpha=0.3)
    fig.suptitle(title(data, "quasiparticle number vs time"))
    return fig


def energy_ledger_figure(data, ledger):
    """Where the energy went: each part's change since t = 0 and their sum; the ledger error.

    The file holds totals with the thermal background (much larger than a deposit), so the
    changes since the first record are shown; their sum is the ledger error times its
    reference, i.e. zero to round-off for the conserving steppers."""
    t = data.time
    fig, (ax, ax_err) = new_figure(2, height=3.8)
    total = np.zeros_like(t)
    for name, legend, sign in ledger:
        y = sign * (data.diagnostics[name] - data.diagnostics[name][0])
        total += y
        ax.plot(t, y, marker=".", ms=3, label=legend)
    ax.plot(t, total, color="k", ls="--", lw=1, label="sum (closes the ledger)")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(f"time t ({data.units['time']})")
    ax.set_ylabel(axis_label("energy change since t = 0", data, "diagnostics/qp_energy"))
    ax.set_title("where the energy went", fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    ax_err.plot(t, data.diagnostics["energy_ledger_error"], color="C3", marker=".", ms=3)
    ax_err.set_xlabel(f"time t ({data.units['time']})")
    ax_err.set_ylabel(axis_label("relative ledger error", data, "diagnostics/energy_ledger_error"))
    ax_err.set_title("energy ledger error (relative to the deposit)", fontsize="medium")
    ax_err.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax_err.grid(True, alpha=0.3)
    fig.suptitle(title(data, "energy ledger vs time"))
    return fig
