"""The one training loop: history, best weights, early stopping, seeds, denormals, memory."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
import torch

import rnnlib.train
from rnnlib.batching import SequenceDataset
from rnnlib.config import ClassifierConfig, TrainConfig
from rnnlib.history import History
from rnnlib.models.classifier import SentimentRNN
from rnnlib.sentiment import SentimentTask, prepare_sentiment_data
from rnnlib.train import fit, flush_denormals, flushes_in_all_threads, keep_freed_memory
from tests.test_sentiment import _dataset_dict


@pytest.fixture(scope="module")
def tiny_data():
    return prepare_sentiment_data(
        _dataset_dict(n_train=160, n_test=40), max_len=None, min_freq=1, val_size=40, seed=0
    )


def _model(data, cell="gru", seed=0, **config):
    torch.manual_seed(seed)
    return SentimentRNN(ClassifierConfig(len(data.vocab), 8, 8, cell, **config))


def _flipped(dataset: SequenceDataset) -> SequenceDataset:
    """Labels flipped: the better a model learns, the worse it does on these."""
    return SequenceDataset(dataset.sequences, [1 - y for y in dataset.targets])


def test_fit_learns_and_records_one_row_and_one_line_per_epoch(tiny_data):
    model = _model(tiny_data, bidirectional=True)
    lines: list[str] = []
    config = TrainConfig(max_epochs=8, lr=0.02, batch_size=16)
    history = fit(
        model,
        SentimentTask(),
        tiny_data.train,
        tiny_data.val,
        config,
        name="tiny",
        log=lines.append,
    )
    assert isinstance(history, History)
    assert len(lines) == 8 and all(line.startswith("tiny | epoch") for line in lines)
    batches = -(-len(tiny_data.train) // 16)  # ceil
    assert history.column("updates") == [batches * (e + 1) for e in range(8)]
    assert len(history.step_losses) == 8 * batches
    assert set(history.epochs[0]) >= {
        "epoch", "updates", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
        "seconds",
    }  # fmt: skip
    assert history.best["val_accuracy"] == 1.0
    assert SentimentTask().evaluate(model, tiny_data.test)["accuracy"] >= 0.95
    assert history.column("train_loss")[-1] < history.column("train_loss")[0]
    # cosine schedule (torch's CosineAnnealingLR): decays from lr to 0 over the whole budget
    lrs = history.column("lr")
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False)) and lrs[-1] == pytest.approx(0)


def test_constant_schedule_keeps_the_rate(tiny_data):
    config = TrainConfig(max_epochs=2, lr=0.01, batch_size=16, schedule="constant")
    history = fit(
        _model(tiny_data), SentimentTask(), tiny_data.train, tiny_data.val, config, log=None
    )
    assert history.column("lr") == [0.01, 0.01]


def test_fit_restores_the_best_validation_weights(tiny_data):
    model, flipped = _model(tiny_data), _flipped(tiny_data.val)
    config = TrainConfig(max_epochs=6, lr=0.02, batch_size=8)
    history = fit(model, SentimentTask(), tiny_data.train, flipped, config, seed=1, log=None)
    best, last = history.best, history.epochs[-1]
    assert best["epoch"] < last["epoch"] and best["val_accuracy"] > last["val_accuracy"]
    restored = SentimentTask().evaluate(model, flipped)
    assert restored["accuracy"] == pytest.approx(best["val_accuracy"])
    assert restored["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_early_stopping_waits_patience_epochs_after_the_best(tiny_data):
    flipped = _flipped(tiny_data.val)
    config = TrainConfig(max_epochs=12, lr=0.02, batch_size=8, patience=2)
    history = fit(
        _model(tiny_data), SentimentTask(), tiny_data.train, flipped, config, seed=1, log=None
    )
    assert len(history.epochs) == history.best_epoch + 2 < 12
    assert all(r["val_accuracy"] <= history.best["val_accuracy"] for r in history.epochs)


def test_fit_is_reproducible_with_seed(tiny_data):
    def train(seed):
        model = _model(tiny_data, cell="lstm", seed=5, dropout=0.2)
        config = TrainConfig(max_epochs=2, lr=0.01, batch_size=16)
        return fit(
            model, SentimentTask(), tiny_data.train, tiny_data.val, config, seed=seed, log=None
        )

    assert train(7).step_losses == train(7).step_losses
    assert train(7).step_losses != train(8).step_losses


def test_fit_needs_training_and_validation_examples(tiny_data):
    empty = SequenceDataset([], [])
    with pytest.raises(ValueError, match="0 validation examples"):
        fit(_model(tiny_data), SentimentTask(), tiny_data.train, empty, TrainConfig(), log=None)
    with pytest.raises(ValueError, match="0 training"):
        fit(_model(tiny_data), SentimentTask(), empty, tiny_data.val, TrainConfig(), log=None)


def _loss_grads_predictions(model, ids, lengths, labels):
    model.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ids, lengths), labels)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    with torch.no_grad():
        predictions = torch.sigmoid(model.eval()(ids, lengths))
    model.train()
    return loss.detach(), grads, predictions


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_flushing_denormals_changes_no_result(tiny_data, cell):
    model = _model(tiny_data, cell=cell, bidirectional=True)
    ids, lengths, labels = SentimentTask().collate([tiny_data.train[i] for i in range(16)])
    plain = _loss_grads_predictions(model, ids, lengths, labels)
    with flush_denormals():
        assert flushes_in_all_threads()
        flushed = _loss_grads_predictions(model, ids, lengths, labels)
    torch.testing.assert_close(flushed[0], plain[0])
    for a, b in zip(flushed[1], plain[1], strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(flushed[2], plain[2])


def test_flush_denormals_restores_the_previous_setting():
    threads = torch.get_num_threads()
    tiny = torch.tensor([1e-39])
    assert bool((tiny * 1.0 != 0).all())  # not flushing before
    with flush_denormals():
        assert bool((tiny * 1.0 == 0).all())
    assert bool((tiny * 1.0 != 0).all())
    assert torch.get_num_threads() == threads


def test_flushing_holds_in_every_intra_op_thread():
    torch.set_num_threads(2)  # the autouse fixture restores the count
    (torch.ones(1 << 20) * 2).sum()  # a parallel op: the thread pool exists, not flushing
    with flush_denormals():
        assert flushes_in_all_threads()
    assert torch.get_num_threads() == 2


# In a fresh process: how much of five 16 MiB tensors is mapped on its own (``mmap``) rather
# than taken from the heap, and how much the heap shrinks once they are freed (glibc's
# mallinfo2, 2.33+). Setting only the mmap threshold gives 0 and then 64 MiB.
_BLOCK_FATE = """
import ctypes, sys, torch
from rnnlib.train import keep_freed_memory
class MallInfo2(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print("no mallinfo2")
    sys.exit()
libc.mallinfo2.restype = MallInfo2
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
before = libc.mallinfo2()
blocks = [torch.ones(4 << 20) for _ in range(5)]  # 16 MiB each, written
during = libc.mallinfo2()
del blocks
after = libc.mallinfo2()
print(kept, during.hblkhd - before.hblkhd, during.arena - after.arena)
"""


def _block_fate(mode: str) -> list[str]:
    # glibc's own allocator with its defaults, whatever this environment sets: the control
    # (glibc maps 16 MiB blocks on their own) relies on them
    tuning = ("MALLOC_", "GLIBC_TUNABLES", "LD_PRELOAD")
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuning)}
    run = subprocess.run(
        [sys.executable, "-c", _BLOCK_FATE, mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    if run.stdout.strip() == "no mallinfo2":
        pytest.skip("glibc older than 2.33: no mallinfo2 to read the heap with")
    return run.stdout.split()


@pytest.mark.skipif(not rnnlib.train._on_glibc(), reason="glibc only")
def test_keep_freed_memory_serves_large_blocks_from_the_heap_and_keeps_them():
    kept, mapped, shrunk = _block_fate("keep")
    assert kept == "True"
    assert int(mapped) == 0  # taken from the heap, not mapped on their own
    assert int(shrunk) == 0  # and the heap keeps them once freed
    control, mapped, _ = _block_fate("default")  # glibc's own first choice: map them
    assert control == "None" and int(mapped) >= 16 << 20


def test_keep_freed_memory_changes_nothing_off_glibc(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert keep_freed_memory() is False


def test_fit_keeps_freed_memory_when_it_trains_on_cpu(tiny_data, monkeypatch):
    calls: list[bool] = []
    monkeypatch.setattr(rnnlib.train, "keep_freed_memory", lambda: calls.append(True) or True)
    fit(
        _model(tiny_data),
        SentimentTask(),
        tiny_data.train,
        tiny_data.val,
        TrainConfig(max_epochs=1),
        device="cpu",
        log=None,
    )
    assert calls == [True]
