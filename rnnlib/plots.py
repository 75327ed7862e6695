"""Figures for the notebook: learning curves and attention heatmaps.

Labels are arguments (the notebook passes them in Spanish); nothing here reads global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .history import History


def plot_learning_curves(
    histories: Mapping[str, History],
    panels: Sequence[tuple[str, str]],
    *,
    xlabel: str = "epoch",
    title: str | None = None,
    ncols: int | None = None,
):
    """One panel per ``(metric, y label)``, one line per run, epochs on the x axis."""
    ncols = ncols or len(panels)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.4 * nrows), squeeze=False)
    for ax, (metric, ylabel) in zip(axes.flat, panels, strict=False):
        for name, history in histories.items():
            values = history.column(metric)
            points = [
                (e, v)
                for e, v in zip(history.column("epoch"), values, strict=True)
                if v is not None
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", markersize=3, label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="lower center",
            ncol=min(len(labels), 4),
            bbox_to_anchor=(0.5, -0.02 - 0.04 * ((len(labels) - 1) // 4)),
            frameon=False,
        )
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08 + 0.04 * ((len(labels) - 1) // 4) if handles else 0, 1, 1))
    return fig


def plot_step_losses(
    histories: Mapping[str, History],
    *,
    smooth: int = 25,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
):
    """Training loss per optimisation step (moving average over ``smooth`` steps)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, history in histories.items():
        losses = np.asarray(history.step_losses, dtype=float)
        if len(losses) == 0:
            continue
        window = max(1, min(smooth, len(losses)))
        averaged = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, len(losses) + 1), averaged, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
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
):
    """Heatmap of attention weights ``[output steps, source tokens]`` with token labels."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(output_tokens), len(source_tokens)):
        raise ValueError(
            f"weights have shape {weights.shape} but there are {len(output_tokens)} output and "
            f"{len(source_tokens)} source tokens"
        )
    if ax is None:
        height = 1.2 + 0.22 * len(output_tokens)
        _, ax = plt.subplots(figsize=(1.6 + 0.55 * len(source_tokens), height))
    image = ax.imshow(weights, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=45, ha="right")
    ax.set_yticks(
        range(len(output_tokens)),
        [f"{i + 1}: {t}" for i, t in enumerate(output_tokens)],
        fontsize=7,
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    return ax
