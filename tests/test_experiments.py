"""train_or_load for both tasks, saved runs read back, the test set only when asked, and
runs in worker processes giving what runs here give."""

from __future__ import annotations

import pytest
import torch

from rnnlib.config import ClassifierConfig, TrainConfig
from rnnlib.experiments import (
    Experiments,
    InlineExecutor,
    pool_workers,
    process_pool,
    train_or_load,
)
from rnnlib.sentiment import SentimentTask, prepare_sentiment_data
from rnnlib.translation import evaluate_translation, prepare_scan
from tests.test_sentiment import _dataset_dict

PAIRS = [
    (["walk"], ["I_WALK"]),
    (["jump"], ["I_JUMP"]),
    (["walk", "twice"], ["I_WALK", "I_WALK"]),
    (["jump", "twice"], ["I_JUMP", "I_JUMP"]),
    (["walk", "thrice"], ["I_WALK"] * 3),
    (["jump", "thrice"], ["I_JUMP"] * 3),
]
TRAIN = TrainConfig(max_epochs=2, lr=0.02, batch_size=16)


@pytest.fixture(scope="module")
def imdb():
    return prepare_sentiment_data(
        _dataset_dict(n_train=80, n_test=20), max_len=None, min_freq=1, val_size=20, seed=0
    )


@pytest.fixture(scope="module")
def scan():
    return prepare_scan({"train": PAIRS * 3, "test": PAIRS}, val_size=0.2, seed=0)


def _config(data, **changes):
    fields = {"embedding_dim": 8, "hidden_size": 8, "cell": "gru", **changes}
    return ClassifierConfig(len(data.vocab), pad_idx=data.vocab.pad_idx, **fields)


def test_a_sentiment_run_reports_validation_and_test(imdb, tmp_path):
    lines: list[str] = []
    run = train_or_load("gru", _config(imdb), TRAIN, imdb, seed=3, log=lines.append)
    assert len(lines) == 2 and lines[0].startswith("gru | epoch 1")
    assert not run.loaded and run.path is None and run.seed == 3
    assert run.parameters == sum(p.numel() for p in run.model.parameters())
    assert run.best == run.history.epochs[run.history.best_epoch - 1]
    expected = SentimentTask().evaluate(run.model, imdb.test, per_example=True)
    assert run.test == {**expected, "correct": expected["correct"].tolist()}
    assert run.inference["vocab"]["tokens"] == imdb.vocab.itos


def test_a_saved_run_is_read_back_with_the_same_results(imdb, scan, tmp_path):
    for data, config in (
        (imdb, _config(imdb)),
        (scan, scan.model_config(attention=True, embedding_dim=8, hidden_size=8)),
    ):
        train = TRAIN.replace(teacher_forcing_ratio=0.5)
        lines: list[str] = []
        first = train_or_load("tiny", config, train, data, store=tmp_path, log=None)
        second = train_or_load("tiny", config, train, data, store=tmp_path, log=lines.append)
        assert not first.loaded and second.loaded and second.path == first.path
        assert lines == [f"tiny (seed 0): loaded from {first.path}"]
        assert second.test == first.test and second.history == first.history
        for a, b in zip(
            second.model.state_dict().values(), first.model.state_dict().values(), strict=True
        ):
            torch.testing.assert_close(a, b)
        other = train_or_load(
            "tiny", config, train.replace(lr=0.01), data, store=tmp_path, log=None
        )
        assert not other.loaded
        again = train_or_load("tiny", config, train, data, store=tmp_path, retrain=True, log=None)
        assert not again.loaded


def test_the_test_set_is_touched_only_when_asked(imdb, tmp_path, monkeypatch):
    seen = []
    evaluate = SentimentTask.evaluate

    def spy(model, dataset, **kwargs):
        seen.append(dataset is imdb.test)
        return evaluate(model, dataset, **kwargs)

    monkeypatch.setattr(SentimentTask, "evaluate", staticmethod(spy))
    run = train_or_load("gru", _config(imdb), TRAIN, imdb, test=False, store=tmp_path, log=None)
    assert run.test is None and seen == [False, False]  # two epochs of validation
    again = train_or_load("gru", _config(imdb), TRAIN, imdb, store=tmp_path, log=None)
    assert again.loaded and seen[-1] is True and again.test is not None
    assert train_or_load("gru", _config(imdb), TRAIN, imdb, store=tmp_path).test == again.test


def test_a_configuration_of_no_model_is_refused(imdb):
    with pytest.raises(ValueError, match="no task for a TrainConfig"):
        train_or_load("x", TRAIN, TRAIN, imdb, log=None)


def test_per_example_exact_match_agrees_with_the_aggregate(scan, tmp_path):
    config = scan.model_config(embedding_dim=8, hidden_size=8)
    train = TRAIN.replace(teacher_forcing_ratio=1.0)
    run = train_or_load("tiny", config, train, scan, store=tmp_path, log=None)
    result = evaluate_translation(run.model, scan.test, per_example=True)
    assert result["correct"].shape == (len(scan.test),)
    assert result["correct"].mean() == pytest.approx(run.test["exact_match"])
    # the run keeps the test set's per-pair results, in order, and reads them back
    assert run.test["correct"] == result["correct"].tolist()
    again = train_or_load("tiny", config, train, scan, store=tmp_path, log=None)
    assert again.loaded and again.test["correct"] == run.test["correct"]


def test_per_example_accuracy_agrees_with_the_aggregate(imdb):
    run = train_or_load("gru", _config(imdb), TRAIN, imdb, log=None)
    correct = run.test["correct"]
    assert len(correct) == len(imdb.test) and all(isinstance(c, bool) for c in correct)
    assert sum(correct) / len(correct) == pytest.approx(run.test["accuracy"])


def test_worker_processes_give_the_runs_made_here(imdb, tmp_path):
    jobs = [(_config(imdb, cell=cell), seed) for cell in ("rnn", "lstm") for seed in (0, 1)]
    with process_pool(2) as pool:
        futures = [
            pool.submit(
                train_or_load, f"{c.cell}", c, TRAIN, imdb, seed=s, store=tmp_path, log=None
            )
            for c, s in jobs
        ]
        parallel = [f.result() for f in futures]
    for (config, seed), p in zip(jobs, parallel, strict=True):
        here = train_or_load(config.cell, config, TRAIN, imdb, seed=seed, log=None)
        assert not p.loaded and p.path is not None and p.path.parent == tmp_path
        assert p.history.column("train_loss") == pytest.approx(here.history.column("train_loss"))
        assert p.test["accuracy"] == pytest.approx(here.test["accuracy"])
        for a, b in zip(
            p.model.state_dict().values(), here.model.state_dict().values(), strict=True
        ):
            torch.testing.assert_close(a, b)


def test_one_worker_or_cuda_runs_here():
    assert isinstance(process_pool(1), InlineExecutor)
    assert isinstance(process_pool(4, device="cuda"), InlineExecutor)
    future = InlineExecutor().submit(divmod, 7, 2)
    assert future.done() and future.result() == (3, 1)
    assert isinstance(InlineExecutor().submit(divmod, 1, 0).exception(), ZeroDivisionError)
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        process_pool(0)


def test_pool_workers_counts_the_runs_the_pool_trains_at_once(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert pool_workers() == 6 and pool_workers(3) == 3
    assert pool_workers(4, device="cuda") == 1
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match=f"got {bad!r}"):
            pool_workers(bad)


def test_experiments_train_every_seed_and_wait_by_name(imdb, tmp_path):
    experiments = Experiments(InlineExecutor(), seeds=(0, 1), store=tmp_path)
    experiments.submit("gru", _config(imdb), TRAIN, imdb)
    experiments.submit("rnn", _config(imdb, cell="rnn"), TRAIN, imdb, test=False, seeds=(1,))
    gru, rnn = experiments.runs("gru"), experiments.runs("rnn")
    assert [r.seed for r in gru] == [0, 1] and [r.seed for r in rnn] == [1]
    assert experiments.names == ["gru", "rnn"] and experiments.num_runs == 3
    assert gru[0].history != gru[1].history and all(r.test is not None for r in gru)
    assert all(r.test is None for r in rnn) and rnn[0].config.cell == "rnn"
    with pytest.raises(ValueError, match="already submitted"):
        experiments.submit("gru", _config(imdb), TRAIN, imdb)
    with pytest.raises(KeyError, match="no experiment named 'lstm'"):
        experiments.runs("lstm")
    with pytest.raises(ValueError, match="at least one seed"):
        Experiments(InlineExecutor(), seeds=(), store=None)
