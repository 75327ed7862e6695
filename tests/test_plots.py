import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from rnnlib.history import History, format_epoch  # noqa: E402
from rnnlib.plots import mean_curve, plot_attention, plot_learning_curves  # noqa: E402


def _history(values):
    history = History()
    for k, v in enumerate(values):
        history.add_epoch(updates=10 * (k + 1), train_loss=v, val_accuracy=1 - v, seconds=2.0)
        history.step_losses.extend([v] * 10)
    return history


def test_mean_curve_averages_the_seeds_that_reached_each_epoch():
    xs, mean, low, high = mean_curve(
        [_history([0.5, 0.3]), _history([0.7, 0.1, 0.2])], "train_loss"
    )
    np.testing.assert_allclose(xs, [10, 20, 30])
    np.testing.assert_allclose(mean, [0.6, 0.2, 0.2])
    np.testing.assert_allclose(low, [0.5, 0.1, 0.2])
    np.testing.assert_allclose(high, [0.7, 0.3, 0.2])
    np.testing.assert_allclose(mean_curve([_history([0.5])], "train_loss", x="epoch")[0], [1])
    with pytest.raises(ValueError, match="no run has metric 'val_loss'"):
        mean_curve([_history([0.5])], "val_loss")


def test_learning_curves_draw_one_mean_and_band_per_group_and_panel():
    groups = {"a": [_history([0.5, 0.3]), _history([0.6, 0.2])], "b": [_history([0.6, 0.2, 0.1])]}
    fig = plot_learning_curves(groups, [("train_loss", "loss"), ("val_accuracy", "acc")])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    assert [len(line.get_xdata()) for line in axes[0].lines] == [2, 3]
    assert len(axes[0].collections) == 1  # a band for the group with several seeds only
    assert axes[1].get_ylabel() == "acc"
    assert not isinstance(axes[0].yaxis.get_major_formatter(), PercentFormatter)
    assert not isinstance(axes[1].yaxis.get_major_formatter(), PercentFormatter)
    fig = plot_learning_curves(
        groups, [("train_loss", "l"), ("val_accuracy", "a")], percent=["val_accuracy"]
    )
    formatters = [ax.yaxis.get_major_formatter() for ax in fig.axes]
    assert [isinstance(f, PercentFormatter) for f in formatters] == [False, True]
    assert formatters[1].xmax == 1  # fractions: 0.725 is 72.5 %
    with pytest.raises(ValueError, match="val_loss"):
        plot_learning_curves(groups, [("train_loss", "loss")], percent=["val_loss"])
    assert fig.get_size_inches()[0] <= 9.0
    fig = plot_learning_curves(groups, [("train_loss", "l")], x_format=lambda v: f"<{v:.0f}>")
    assert fig.axes[0].xaxis.get_major_formatter()(1500.0, 0) == "<1500>"


def test_attention_heatmap_checks_shapes():
    ax = plot_attention(np.full((3, 2), 0.5), ["jump", "twice"], ["I_JUMP", "I_JUMP", "<eos>"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["jump", "twice"]
    ax = plot_attention(np.eye(2), ["a", "b"], ["x", "y"], colorbar_label="peso")
    assert ax.figure.axes[-1].get_ylabel() == "peso"  # the colour bar's own axes
    with pytest.raises(ValueError, match="shape"):
        plot_attention(np.ones((2, 2)), ["jump"], ["I_JUMP", "<eos>"])


def test_history_best_and_format():
    history = _history([0.5, 0.2, 0.3])
    with pytest.raises(ValueError, match="no selected epoch"):
        history.best  # noqa: B018
    history.best_epoch = 2
    assert history.best == history.epochs[1]
    assert history.seconds_per_epoch == 2.0
    with pytest.raises(ValueError, match="no epoch"):
        History().seconds_per_epoch  # noqa: B018
    assert History.from_dict(history.to_dict()) == history
    line = format_epoch(history.epochs[0], "rnn")
    assert line == "rnn | epoch 1 | updates 10 | train_loss 0.5 | val_accuracy 0.5 | 2.0 s"
