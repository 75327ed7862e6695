import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlib.history import History, format_epoch  # noqa: E402
from rnnlib.plots import plot_attention, plot_learning_curves, plot_step_losses  # noqa: E402


def _history(values):
    history = History()
    for v in values:
        history.add_epoch(train_loss=v, val_accuracy=1 - v, seconds=2.0)
        history.step_losses.extend([v] * 10)
    return history


def test_learning_curves_draw_one_line_per_run_and_panel():
    runs = {"a": _history([0.5, 0.3]), "b": _history([0.6, 0.2, 0.1])}
    fig = plot_learning_curves(runs, [("train_loss", "loss"), ("val_accuracy", "acc")])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    assert [len(line.get_xdata()) for line in axes[0].lines] == [2, 3]
    assert axes[1].get_ylabel() == "acc"


def test_step_losses_are_smoothed():
    fig = plot_step_losses({"a": _history([0.5, 0.3])}, smooth=5)
    (line,) = fig.axes[0].lines
    assert len(line.get_xdata()) == 20 - 5 + 1


def test_attention_heatmap_checks_shapes():
    ax = plot_attention(np.full((3, 2), 0.5), ["jump", "twice"], ["I_JUMP", "I_JUMP", "<eos>"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["jump", "twice"]
    with pytest.raises(ValueError, match="shape"):
        plot_attention(np.ones((2, 2)), ["jump"], ["I_JUMP", "<eos>"])


def test_history_best_and_format():
    history = _history([0.5, 0.2, 0.3])
    with pytest.raises(ValueError, match="no selected epoch"):
        history.best  # noqa: B018
    history.best_epoch = 2
    assert history.best == history.epochs[1]
    assert history.total_seconds == 6.0
    assert History.from_dict(history.to_dict()) == history
    line = format_epoch(history.epochs[0], "rnn")
    assert line == "rnn | epoch 1 | train_loss 0.5 | val_accuracy 0.5 | 2.0 s"
