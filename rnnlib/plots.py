"""Figures for the notebook: learning curves over seeds, and attention heatmaps. Labels are
arguments (the notebook's are in Spanish); figures fit a notebook column (9 inches)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .history import History

COLUMN_WIDTH = 9.0  # inches


def mean_curve(histories: Sequence[History], metric: str, x: str = "updates"):
    """``(xs, mean, low, high)`` of ``metric`` over the runs, epoch by epoch: epoch ``k`` averages
    the runs that reached it (with early stopping, runs differ in length), ``low``/``high`` are
    their extremes and ``xs`` the mean of column ``x``. ``ValueError`` if no run has the metric."""
    points = []  # (x, mean, low, high) per epoch
    for k in range(max((len(h.epochs) for h in histories), default=0)):
        rows = [h.epochs[k] for h in histories if k < len(h.epochs) and metric in h.epochs[k]]
        if rows:
            values = np.array([r[metric] for r in rows], dtype=float)
            x_mean = float(np.mean([r[x] for r in rows]))
            points.append((x_mean, values.mean(), values.min(), values.max()))
    if not points:
        raise ValueError(f"no run has metric {metric!r}")
    return tuple(np.array(column) for column in zip(*points, strict=True))


def plot_learning_curves(
    groups: Mapping[str, Sequence[History]],
    panels: Sequence[tuple[str, str]],
    *,
    x: str = "updates",
    xlabel: str = "updates",
    title: str | None = None,
    ncols: int = 2,
    percent: Collection[str] = (),
    x_format: Callable[[float], str] | None = None,
):
    """One panel per ``(metric, y label)``; per group of runs (one per seed), the mean over the
    seeds as a line and their range as a band. Metrics in ``percent`` (fractions) get a y axis in
    percent; ``ValueError`` if one is not a panel. ``x_format`` writes the x tick labels."""
    if missing := set(percent) - {metric for metric, _ in panels}:
        raise ValueError(f"percent names {sorted(missing)}, which are not panels")
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH, 3.0 * nrows + 0.9), squeeze=False)
    for ax, (metric, ylabel) in zip(axes.flat, panels, strict=False):
        for name, histories in groups.items():
            xs, mean, low, high = mean_curve(histories, metric, x)
            (line,) = ax.plot(xs, mean, marker="o", markersize=3, label=name)
            if len(histories) > 1:
                ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if x_format is not None:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: x_format(value)))
        if metric in percent:
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    rows_of_legend = -(-len(labels) // 3)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False)
    if title:
        fig.suptitle(title, y=1.0)
    fig.tight_layout(rect=(0, 0.06 * rows_of_legend / nrows, 1, 0.97))
    return fig


def plot_attention(
    weights,
    source_tokens: Sequence[str],
    output_tokens: Sequence[str],
    *,
    ax=None,
    title: str | None = None,
    xlabel: str = "input token",
    ylabel: str = "output step",
    colorbar_label: str = "attention weight",
):
    """Heatmap of attention weights ``[output steps, source tokens]`` with token labels and a
    labelled colour bar; ``ValueError`` if the shape does not match the tokens."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(output_tokens), len(source_tokens)):
        raise ValueError(
            f"weights have shape {weights.shape} but there are {len(output_tokens)} output and "
            f"{len(source_tokens)} source tokens"
        )
    if ax is None:
        size = (1.6 + 0.55 * len(source_tokens), 1.2 + 0.22 * len(output_tokens))
        _, ax = plt.subplots(figsize=size)
    image = ax.imshow(weights, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=45, ha="right")
    steps = [f"{i + 1}: {t}" for i, t in enumerate(output_tokens)]
    ax.set_yticks(range(len(output_tokens)), steps, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label=colorbar_label)
    return ax
