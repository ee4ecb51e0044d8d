"""The look shared by the ``boltzphlow plot`` figures: panels, axis labels with units,
titles, colours, and what a log axis can show."""
import numpy as np

# Occupations span hundreds of decades (thermal tails); log axes show this many below the peak.
LOG_DECADES = 30


def new_figure(panels, height=4.0, width=5.5):
    """A Figure with ``panels`` axes, at most three per row; returns (fig, axes list).

    Built without pyplot, so nothing is registered globally or shown."""
    from matplotlib.figure import Figure
    ncols = min(3, panels)
    nrows = -(-panels // ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, list(axes[:panels])


def unit_text(units, count=False):
    """The units of a dataset as shown in an axis label: '1' means dimensionless (or a
    count), and an explanation after the unit ('1 (relative to ...)') is dropped."""
    u = units.split(" (")[0].strip()
    if u == "1":
        return "count" if count else "dimensionless"
    return u or "no units given"


def axis_label(quantity, data, dataset, count=False):
    """``quantity (units of dataset)``."""
    return f"{quantity} ({unit_text(data.units.get(dataset, ''), count)})"


def title(data, text):
    """A figure title, led by the material's name when the file has one."""
    return f"{data.material}: {text}" if data.material else text


def time_label(data, rec):
    """The time of record ``rec`` with its units."""
    return f"t = {data.time[rec]:.4g} {data.units['time']}"


def colours(count):
    """``count`` colours along viridis (the yellow end left out)."""
    from matplotlib import colormaps
    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / max(1, count - 1)) for i in range(count)]


def positive(values):
    """Non-positive values as NaN: they cannot be drawn on a log axis."""
    v = np.asarray(values, float).copy()
    v[~(v > 0)] = np.nan
    return v


def subgap_masked(data, f, delta):
    """f where the energy cell [E - h/2, E + h/2] has states; NaN where it lies below the
    gap (BCS: no states there, the stored value is a frozen bath value)."""
    f = np.asarray(f, float).copy()
    if data.mask_subgap and len(data.energy) > 1:
        h = data.energy[1] - data.energy[0]
        f[data.energy + h / 2 <= delta] = np.nan
    return f


def log_floor(ax, arrays, decades=LOG_DECADES):
    """Cut a log axis ``decades`` below the largest finite value of ``arrays``."""
    # Thermal tails reach 1e-100 and below; cut the axis so the excitations stay readable.
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays] + [np.zeros(0)])
    if finite.size:
        top = finite.max()
        ax.set_ylim(max(finite.min(), top * 10.0 ** -decades) / 2, top * 2)
