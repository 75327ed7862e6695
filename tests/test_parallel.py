"""Training several sentiment runs in worker processes gives what sequential training gives."""

from __future__ import annotations

import pickle
import textwrap

import pytest
import torch

from rnnlib.batching import SequenceDataset
from rnnlib.parallel import Call, Deferred, run_experiments
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
    assert list(parallel) == ["rnn", "gru"]
    for p, s in zip(parallel.values(), sequential, strict=True):
        assert not p.loaded  # trained now (by a worker), not found on disk
        assert p.history.column("train_loss") == pytest.approx(s.history.column("train_loss"))
        assert p.test["accuracy"] == pytest.approx(s.test["accuracy"])
        for a, b in zip(p.model.state_dict().values(), s.model.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b)
    # The workers' per-epoch lines are passed on: 2 epochs + 1 test line per run.
    assert sum(line.startswith(("rnn |", "gru |")) for line in lines) == 6

    again = run_experiments(_jobs(tiny_data, RunStore(tmp_path / "parallel")), workers=2, log=None)
    assert all(run.loaded for run in again.values())


def test_one_worker_runs_here(tiny_data, tmp_path):
    runs = run_experiments(_jobs(tiny_data, RunStore(tmp_path)), workers=1, log=None)
    assert list(runs) == ["rnn", "gru"] and not any(run.loaded for run in runs.values())


def test_bad_jobs_are_rejected(tiny_data, tmp_path):
    jobs = _jobs(tiny_data, RunStore(tmp_path))
    with pytest.raises(ValueError, match="workers"):
        run_experiments(jobs, workers=0)
    with pytest.raises(ValueError, match="distinct"):
        run_experiments([jobs[0], jobs[0]])
    with pytest.raises(ValueError, match="RunStore"):
        run_experiments(_jobs(tiny_data, None))


def _dependent_jobs(data, store, seen):
    rnn, gru = _jobs(data, store)

    def wider_of_the_best(runs):
        seen.append(sorted(runs))  # what had finished when the job was built
        best = max(("rnn", "gru"), key=lambda k: runs[k].row()["val_accuracy"])
        config = {**runs[best].settings["model"], "hidden_size": 12}
        config = {k: config[k] for k in ("embedding_dim", "hidden_size", "cell")}
        return {**rnn, "name": f"{best} wide", "model_config": config}

    return [
        Deferred(after=("rnn", "gru"), build=wider_of_the_best),
        Call("shortened", textwrap.shorten, {"text": "one two three four", "width": 12}),
        rnn,
        gru,
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_deferred_jobs_wait_for_their_runs_and_calls_return_values(tiny_data, tmp_path, workers):
    seen: list[list[str]] = []
    results = run_experiments(
        _dependent_jobs(tiny_data, RunStore(tmp_path), seen), workers=workers, log=None
    )
    # The Deferred job is listed first but is built only once both runs it waits for are done;
    # results come back in the order of the jobs.
    assert len(seen) == 1 and {"rnn", "gru"} <= set(seen[0])
    names = list(results)
    assert names[0].endswith(" wide") and names[1:] == ["shortened", "rnn", "gru"]
    assert results["shortened"] == "one [...]"
    wide = results[names[0]]
    assert wide.settings["model"]["hidden_size"] == 12 and not wide.loaded


def test_bad_dependencies_are_rejected(tiny_data, tmp_path):
    rnn, gru = _jobs(tiny_data, RunStore(tmp_path))
    with pytest.raises(ValueError, match="waits for"):
        run_experiments([rnn, Deferred(after=("lstm",), build=lambda runs: gru)], workers=1)
    with pytest.raises(ValueError, match="already in use"):
        run_experiments(
            [rnn, Deferred(after=("rnn",), build=lambda runs: rnn)], workers=1, log=None
        )
    with pytest.raises(ValueError, match="a Deferred or a Call"):
        run_experiments([rnn, ("gru", gru)], workers=1)
