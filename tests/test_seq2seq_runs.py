"""run_seq2seq with a RunStore, and per-example exact match."""

import numpy as np
import pytest

from rnnlib.runs import RunStore
from rnnlib.translation import evaluate_seq2seq, exact_match_per_example, prepare_scan, run_seq2seq

PAIRS = [
    (["walk"], ["I_WALK"]),
    (["jump"], ["I_JUMP"]),
    (["walk", "twice"], ["I_WALK", "I_WALK"]),
    (["jump", "twice"], ["I_JUMP", "I_JUMP"]),
    (["walk", "thrice"], ["I_WALK"] * 3),
    (["jump", "thrice"], ["I_JUMP"] * 3),
]
FIT = dict(epochs=2, lr=1e-2, batch_size=4, teacher_forcing_ratio=1.0)


@pytest.fixture(scope="module")
def data():
    return prepare_scan({"train": PAIRS * 3, "test": PAIRS}, val_fraction=0.2, seed=0)


def test_a_saved_run_is_loaded_with_the_same_results(data, tmp_path):
    config = data.model_config(attention=True, embedding_dim=8, hidden_size=8)
    store, lines = RunStore(tmp_path), []
    first = run_seq2seq("tiny", config, data, **FIT, store=store, log=lines.append)
    assert not first.loaded and len(first.history.epochs) == 2
    second = run_seq2seq("tiny", config, data, **FIT, store=store, log=lines.append)
    assert second.loaded
    assert second.test == first.test
    assert evaluate_seq2seq(second.model, data.test) == first.test
    assert any("loaded from" in line for line in lines)
    result = second.result()
    assert result["attention"] is True and result["epochs"] == 2
    assert result["trainable_params"] == first.parameters
    changed = run_seq2seq("tiny", config, data, **{**FIT, "lr": 5e-3}, store=store, log=None)
    assert not changed.loaded


def test_per_example_exact_match_agrees_with_the_aggregate(data):
    config = data.model_config(attention=False, embedding_dim=8, hidden_size=8)
    run = run_seq2seq("tiny", config, data, **FIT, log=None)
    correct = exact_match_per_example(run.model, data.test)
    assert correct.shape == (len(data.test),) and correct.dtype == np.bool_
    assert correct.mean() == pytest.approx(run.test["exact_match"])
