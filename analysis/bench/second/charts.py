"""Charts drawn by matplotlib, in house styles: every chart of one style shares its axes, labels, fonts,
colours and layout and differs only in its data, as the figures of one lab or one paper do."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

KINDS = (
    "bars",
    "grouped_bars",
    "lines",
    "scatter_fit",
    "box",
    "violin",
    "histogram",
    "heatmap",
    "survival",
    "dose_response",
    "density",  # a flow-cytometry-like scatter density with a gate
)

_PALETTES = ("tab10", "Set2", "Dark2", "viridis", "plasma", "cividis")
_LABELS = (
    ("Expression (a.u.)", "Condition"),
    ("Fold change", "Treatment"),
    ("Viability (%)", "Dose (uM)"),
    ("Intensity", "Time (h)"),
    ("Count", "Signal"),
)
_GROUPS = ("WT", "KO", "Het", "Veh", "Drug", "Rescue", "Ctrl", "siA", "siB")


@dataclass(frozen=True)
class Style:
    kind: str
    palette: str
    width: float  # inches
    height: float
    dpi: int
    font: float
    grid: bool
    boxed: bool  # all four spines, or only the left and bottom
    labels: tuple[str, str]
    groups: tuple[str, ...]


def style(rng: np.random.Generator, kind: str) -> Style:
    """A house style for one kind of chart."""
    groups = int(rng.integers(3, 7))
    return Style(
        kind=kind,
        palette=str(rng.choice(_PALETTES)),
        width=float(rng.uniform(5.0, 8.0)),
        height=float(rng.uniform(3.6, 5.6)),
        dpi=int(rng.choice([110, 130, 150])),
        font=float(rng.uniform(9, 14)),
        grid=bool(rng.random() < 0.4),
        boxed=bool(rng.random() < 0.5),
        labels=_LABELS[int(rng.integers(len(_LABELS)))],
        groups=tuple(rng.choice(_GROUPS, size=groups, replace=False)),
    )


def chart(rng: np.random.Generator, look: Style) -> np.ndarray:
    """One chart in the style, of fresh data from rng, as an RGB array."""
    with plt.rc_context({"font.size": look.font, "axes.grid": look.grid, "font.family": "DejaVu Sans"}):
        figure, axes = plt.subplots(figsize=(look.width, look.height), dpi=look.dpi)
        colours = plt.get_cmap(look.palette)(np.linspace(0.05, 0.85, max(len(look.groups), 3)))
        _DRAW[look.kind](axes, rng, look, colours)
        axes.set_ylabel(look.labels[0])
        if look.kind not in ("heatmap",):
            axes.set_xlabel(look.labels[1])
        if not look.boxed:
            axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        figure.canvas.draw()
        pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
        plt.close(figure)
    return pixels


def _bars(axes, rng, look, colours):
    n = len(look.groups)
    means = rng.uniform(0.2, 1.0, n)
    errors = means * rng.uniform(0.05, 0.3, n)
    axes.bar(range(n), means, yerr=errors, color=colours[:n], capsize=4, edgecolor="black", linewidth=0.8)
    for x, mean in enumerate(means):  # individual data points, as journals now ask
        axes.scatter(x + rng.normal(0, 0.08, 5), mean + rng.normal(0, 0.1, 5) * mean, s=9, color="black", zorder=3)
    axes.set_xticks(range(n), look.groups)
    axes.set_ylim(0, 1.5)


def _grouped_bars(axes, rng, look, colours):
    n = len(look.groups)
    series = 3
    width = 0.8 / series
    for s in range(series):
        values = rng.uniform(0.1, 1.0, n)
        axes.bar(
            np.arange(n) + s * width,
            values,
            width,
            yerr=values * rng.uniform(0.05, 0.25, n),
            color=colours[s],
            label=f"Series {s + 1}",
            capsize=2,
        )
    axes.set_xticks(np.arange(n) + width, look.groups)
    axes.set_ylim(0, 1.4)
    axes.legend(loc="upper right", frameon=False)


def _lines(axes, rng, look, colours):
    x = np.linspace(0, 48, 13)
    for s in range(3):
        y = np.cumsum(rng.normal(0.3, 1.0, len(x)))
        axes.errorbar(x, y, yerr=rng.uniform(0.2, 1.0, len(x)), color=colours[s], marker="os^"[s], capsize=2)
    axes.set_xlim(-2, 50)


def _scatter_fit(axes, rng, look, colours):
    x = rng.uniform(0, 10, 60)
    slope, intercept = rng.uniform(-1.5, 1.5), rng.uniform(-3, 3)
    y = slope * x + intercept + rng.normal(0, rng.uniform(0.5, 3), len(x))
    axes.scatter(x, y, s=14, color=colours[0])
    fit = np.polyfit(x, y, 1)
    grid = np.linspace(0, 10, 2)
    axes.plot(grid, np.polyval(fit, grid), color=colours[-1], linewidth=2)
    axes.text(0.05, 0.92, f"r = {np.corrcoef(x, y)[0, 1]:.2f}", transform=axes.transAxes)


def _box(axes, rng, look, colours):
    data = [rng.normal(rng.uniform(1, 5), rng.uniform(0.3, 1.5), 30) for _ in look.groups]
    parts = axes.boxplot(data, patch_artist=True)
    for patch, colour in zip(parts["boxes"], colours, strict=False):
        patch.set_facecolor(colour)
    axes.set_xticks(range(1, len(look.groups) + 1), look.groups)


def _violin(axes, rng, look, colours):
    data = [rng.normal(rng.uniform(1, 5), rng.uniform(0.3, 1.5), 60) for _ in look.groups]
    parts = axes.violinplot(data, showmedians=True)
    for body, colour in zip(parts["bodies"], colours, strict=False):
        body.set_facecolor(colour)
        body.set_alpha(0.8)
    axes.set_xticks(range(1, len(look.groups) + 1), look.groups)


def _histogram(axes, rng, look, colours):
    axes.hist(rng.normal(rng.uniform(-1, 1), 1, 400), bins=25, color=colours[0], alpha=0.8, edgecolor="white")
    axes.hist(rng.normal(rng.uniform(0, 2), 1.2, 400), bins=25, color=colours[2], alpha=0.6, edgecolor="white")
    axes.set_xlim(-5, 6)


def _heatmap(axes, rng, look, colours):
    values = rng.normal(0, 1, (12, len(look.groups)))
    axes.imshow(
        values, cmap=look.palette if look.palette not in ("tab10", "Set2", "Dark2") else "RdBu_r", aspect="auto"
    )
    axes.set_xticks(range(len(look.groups)), look.groups)
    axes.set_yticks(range(12), [f"gene{i + 1}" for i in range(12)])


def _survival(axes, rng, look, colours):
    for s in range(2):
        times = np.sort(rng.exponential(rng.uniform(10, 40), 40))
        alive = 1.0 - np.arange(1, len(times) + 1) / len(times)
        axes.step(np.concatenate([[0], times]), np.concatenate([[1], alive]), where="post", color=colours[s * 2])
        censored = rng.choice(len(times), 5, replace=False)
        axes.plot(times[censored], alive[censored], "|", color=colours[s * 2], markersize=10)
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 1.05)


def _dose_response(axes, rng, look, colours):
    dose = np.logspace(-3, 2, 9)
    for s in range(2):
        ec50, hill = 10 ** rng.uniform(-2, 1), rng.uniform(0.6, 2.0)
        response = 100 / (1 + (dose / ec50) ** hill)
        axes.errorbar(dose, response + rng.normal(0, 4, len(dose)), yerr=rng.uniform(2, 8, len(dose)), fmt="o")
        grid = np.logspace(-3, 2, 100)
        axes.plot(grid, 100 / (1 + (grid / ec50) ** hill), color=colours[s * 2])
    axes.set_xscale("log")
    axes.set_ylim(-10, 115)


def _density(axes, rng, look, colours):
    count = 4000
    centres = rng.uniform(1, 4, (3, 2))
    points = np.concatenate([rng.normal(c, rng.uniform(0.2, 0.5), (count // 3, 2)) for c in centres])
    axes.hist2d(points[:, 0], points[:, 1], bins=90, range=[[0, 5], [0, 5]], cmap="jet", cmin=1)
    x0, y0 = centres[0] - 0.6
    axes.add_patch(plt.Rectangle((x0, y0), 1.2, 1.2, fill=False, linewidth=1.5))
    share = np.mean(np.all((points > [x0, y0]) & (points < [x0 + 1.2, y0 + 1.2]), axis=1))
    axes.text(x0, y0 + 1.3, f"{100 * share:.1f}%")


_DRAW = {
    "bars": _bars,
    "grouped_bars": _grouped_bars,
    "lines": _lines,
    "scatter_fit": _scatter_fit,
    "box": _box,
    "violin": _violin,
    "histogram": _histogram,
    "heatmap": _heatmap,
    "survival": _survival,
    "dose_response": _dose_response,
    "density": _density,
}
