"""Training several sentiment runs in worker processes gives what sequential training gives."""

from __future__ import annotations

import pickle

import pytest
import torch

from rnnlib.batching import SequenceDataset
from rnnlib.parallel import run_experiments
from rnnlib.runs import RunStore
from rnnlib.sentiment import prepare_sentiment_data, run_experiment
from tests.test_sentiment import _dataset_dict


@pytest.fixture(scope="module")
def tiny_data():
    return prepare_sentiment_data(
        _dataset_dict(n_train=80, n_test=20), max_len=None, min_freq=1, val_size=20, seed=0
    )


def _jobs(data, store):
    common = dict(data=data, epochs=2, lr=0.02, batch_size=16, store=store, seed=3)
    return [
        dict(
            name="rnn", model_config={"embedding_dim": 8, "hidden_size": 8, "cell": "rnn"}, **common
        ),
        dict(
            name="gru", model_config={"embedding_dim": 8, "hidden_size": 8, "cell": "gru"}, **common
        ),
    ]


def test_sequence_dataset_pickles_as_flat_arrays():
    data = SequenceDataset([[1, 2, 3], [4], [5, 6]], [1, [7, 8], 0])
    state = data.__getstate__()
    assert state["flat"].tolist() == [1, 2, 3, 4, 5, 6] and state["lengths"].tolist() == [3, 1, 2]
    back = pickle.loads(pickle.dumps(data))
    assert [s.tolist() for s in back.sequences] == [[1, 2, 3], [4], [5, 6]]
    assert back.targets[0] == 1 and back.targets[1].tolist() == [7, 8]
    assert back.sequences[0].dtype == torch.long and back.lengths == [3, 1, 2]


def test_workers_give_the_sequential_results(tiny_data, tmp_path):
    lines: list[str] = []
    parallel = run_experiments(
        _jobs(tiny_data, RunStore(tmp_path / "parallel")), workers=2, log=lines.append
    )
    sequential = [run_experiment(**job, log=None) for job in _jobs(tiny_data, None)]
    assert [run.name for run in parallel] == ["rnn", "gru"]
    for p, s in zip(parallel, sequential, strict=True):
        assert not p.loaded  # trained now (by a worker), not found on disk
        assert p.history.column("train_loss") == pytest.approx(s.history.column("train_loss"))
        assert p.test["accuracy"] == pytest.approx(s.test["accuracy"])
        for a, b in zip(p.model.state_dict().values(), s.model.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b)
    # The workers' per-epoch lines are passed on: 2 epochs + 1 test line per run.
    assert sum(line.startswith(("rnn |", "gru |")) for line in lines) == 6

    again = run_experiments(_jobs(tiny_data, RunStore(tmp_path / "parallel")), workers=2, log=None)
    assert all(run.loaded for run in again)


def test_one_worker_runs_here(tiny_data, tmp_path):
    runs = run_experiments(_jobs(tiny_data, RunStore(tmp_path)), workers=1, log=None)
    assert [run.name for run in runs] == ["rnn", "gru"] and not any(run.loaded for run in runs)


def test_bad_jobs_are_rejected(tiny_data, tmp_path):
    jobs = _jobs(tiny_data, RunStore(tmp_path))
    with pytest.raises(ValueError, match="workers"):
        run_experiments(jobs, workers=0)
    with pytest.raises(ValueError, match="distinct"):
        run_experiments([jobs[0], jobs[0]])
    with pytest.raises(ValueError, match="RunStore"):
        run_experiments(_jobs(tiny_data, None))
