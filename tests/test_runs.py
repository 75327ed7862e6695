import types

import pytest
import torch
from torch import nn

from rnnlib.history import History
from rnnlib.runs import RunStore, code_version, fingerprint


def _build():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def _trainer(calls):
    def train(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(0.5)
        history = History()
        history.add_epoch(train_loss=0.1, seconds=1.0)
        return history, {"test_accuracy": 0.9}

    return train


def test_train_then_load_gives_the_same_weights_and_results(tmp_path):
    store, calls = RunStore(tmp_path), []
    key = {"config": {"hidden": 3}, "seed": 0}
    first = store.train_or_load("lin", key, _build, _trainer(calls))
    assert not first.loaded and calls == [1]
    second = store.train_or_load("lin", key, _build, _trainer(calls))
    assert second.loaded and calls == [1]
    torch.testing.assert_close(second.model.weight, torch.full((2, 3), 0.5))
    assert second.extra == {"test_accuracy": 0.9}
    assert second.history.epochs == first.history.epochs


def test_a_different_key_or_retrain_trains_again(tmp_path):
    store, calls = RunStore(tmp_path), []
    store.train_or_load("lin", {"seed": 0}, _build, _trainer(calls))
    store.train_or_load("lin", {"seed": 1}, _build, _trainer(calls))
    store.train_or_load("lin", {"seed": 1}, _build, _trainer(calls), retrain=True)
    assert calls == [1, 1, 1]


def test_an_interrupted_run_is_not_mistaken_for_a_complete_one(tmp_path):
    store, calls = RunStore(tmp_path), []
    key = {"seed": 0}
    partial = store.path("lin", key).with_name(store.path("lin", key).name + ".partial")
    partial.mkdir(parents=True)
    (partial / "model.pt").write_bytes(b"half")
    run = store.train_or_load("lin", key, _build, _trainer(calls))
    assert not run.loaded and calls == [1]
    assert not partial.exists()


def test_a_corrupt_run_is_retrained_with_a_warning(tmp_path):
    store, calls = RunStore(tmp_path), []
    key = {"seed": 0}
    path = store.train_or_load("lin", key, _build, _trainer(calls)).path
    (path / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="unreadable"):
        run = store.train_or_load("lin", key, _build, _trainer(calls))
    assert not run.loaded and calls == [1, 1]
    (path / "run.json").write_text("{")
    with pytest.warns(UserWarning, match="unreadable"):
        store.train_or_load("lin", key, _build, _trainer(calls))
    assert calls == [1, 1, 1]


def test_fingerprint_and_code_version_are_stable_and_sensitive():
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    import rnnlib.history as module

    assert code_version([module]) == code_version([module])
    assert code_version([module]) != code_version([types])
