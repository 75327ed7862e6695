"""Sentiment data preparation, training loop and evaluation on tiny synthetic data."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch

from rnnlib.baseline import bow_baseline, imdb_bow_baseline
from rnnlib.batching import SequenceDataset
from rnnlib.history import History
from rnnlib.models.classifier import SentimentRNN
from rnnlib.sentiment import (
    evaluate_classifier,
    fit_classifier,
    predict_proba,
    prepare_sentiment_data,
    run_experiment,
    split_indices,
    truncate,
    word2vec_corpus,
)
from rnnlib.text import UNK

POSITIVE = ["good", "great", "fun", "superb"]
NEGATIVE = ["bad", "awful", "dull", "boring"]
FILLER = ["the", "movie", "plot", "actor", "was", "and", "a", "scene"]


def _review(rng: np.random.Generator, label: int, length: int) -> list[str]:
    words = list(rng.choice(FILLER, size=length - 1))
    cue = rng.choice(POSITIVE if label else NEGATIVE)
    words.insert(int(rng.integers(0, length)), str(cue))
    return words


def _dataset_dict(n_train=60, n_test=30, seed=0, extra_test_word=None):
    rng = np.random.default_rng(seed)

    def split(n):
        labels = [int(i % 2) for i in range(n)]
        tokens = [_review(rng, y, int(rng.integers(3, 12))) for y in labels]
        return {"tokens": tokens, "label": labels}

    train, test = split(n_train), split(n_test)
    if extra_test_word is not None:
        test["tokens"][0] = test["tokens"][0] + [extra_test_word]
    unsup = {"tokens": [["the", "unlabelled", "text"]], "label": [-1]}
    return datasets.DatasetDict(
        {
            k: datasets.Dataset.from_dict(v)
            for k, v in (("train", train), ("test", test), ("unsup", unsup))
        }
    )


def test_truncate_sides():
    tokens = list("abcdefghij")
    assert truncate(tokens, 4, "head") == list("abcd")
    assert truncate(tokens, 4, "tail") == list("ghij")
    assert truncate(tokens, 4, "head+tail", head_fraction=0.25) == list("a") + list("hij")
    assert truncate(tokens, 4, "head+tail", head_fraction=0.5) == list("ab") + list("ij")
    assert truncate(tokens, 20, "tail") == tokens
    assert truncate(tokens, None, "head") == tokens
    with pytest.raises(ValueError, match="unknown truncation side 'middle'"):
        truncate(tokens, 4, "middle")


def test_split_indices_is_seeded_and_disjoint():
    a_train, a_val = split_indices(100, 10, seed=3)
    b_train, b_val = split_indices(100, 10, seed=3)
    c_train, c_val = split_indices(100, 0.1, seed=4)
    assert np.array_equal(a_val, b_val) and np.array_equal(a_train, b_train)
    assert not np.array_equal(a_val, c_val)
    assert len(a_val) == 10 and len(c_val) == 10
    assert sorted(np.concatenate([a_train, a_val]).tolist()) == list(range(100))
    with pytest.raises(ValueError, match="leaves no training"):
        split_indices(10, 10, seed=0)


def test_vocab_is_built_from_training_split_only():
    dd = _dataset_dict(extra_test_word="zyzzyva")
    data = prepare_sentiment_data(dd, max_len=None, min_freq=1, val_size=10, seed=0)
    assert "zyzzyva" not in data.vocab
    unk = data.vocab.unk_idx
    first_test = data.test.sequences[0].tolist()
    assert first_test[-1] == unk  # the test-only word was encoded as <unk>
    assert data.vocab.itos[:2] == ["<pad>", UNK]
    assert len(data.train) == 50 and len(data.val) == 10 and len(data.test) == 30

    # Words seen in the training rows (and only those) are in the vocabulary.
    train_words = {w for i in data.train_indices for w in dd["train"][int(i)]["tokens"]}
    assert set(data.vocab.itos[2:]) == train_words


def test_validation_words_do_not_leak_into_vocab():
    dd = _dataset_dict()
    train_idx, val_idx = split_indices(len(dd["train"]), 10, seed=0)
    tokens = list(dd["train"]["tokens"])
    tokens[int(val_idx[0])] = tokens[int(val_idx[0])] + ["valonlyword"]
    dd["train"] = datasets.Dataset.from_dict(
        {"tokens": tokens, "label": list(dd["train"]["label"])}
    )
    data = prepare_sentiment_data(dd, max_len=None, min_freq=1, val_size=10, seed=0)
    assert np.array_equal(data.val_indices, val_idx)
    assert "valonlyword" not in data.vocab
    assert data.val.sequences[0].tolist()[-1] == data.vocab.unk_idx


def test_prepare_truncates_min_freq_and_smoke_subset():
    dd = _dataset_dict(n_train=80, n_test=40)
    data = prepare_sentiment_data(
        dd, max_len=4, truncation="head", min_freq=1000, val_size=0.25, max_examples=7
    )
    assert len(data.vocab) == 2  # only <pad> and <unk> survive min_freq 1000
    assert max(data.train.lengths) <= 4
    assert (len(data.train), len(data.val), len(data.test)) == (7, 7, 7)
    assert set(data.summary().split()) >= {"vocab", "train", "test"}
    with pytest.raises(ValueError, match="unknown truncation side"):
        prepare_sentiment_data(dd, truncation="middle")
    with pytest.raises(ValueError, match="lacks column"):
        prepare_sentiment_data(
            datasets.DatasetDict(
                {"train": dd["train"].remove_columns("tokens"), "test": dd["test"]}
            )
        )


def test_word2vec_corpus_excludes_validation_and_test():
    dd = _dataset_dict()
    data = prepare_sentiment_data(dd, max_len=None, min_freq=1, val_size=10, seed=0)
    corpus = word2vec_corpus(dd, data)
    assert len(corpus) == len(data.train) + 1
    assert corpus[-1] == ["the", "unlabelled", "text"]
    assert len(word2vec_corpus(dd, data, include_unsup=False)) == len(data.train)


@pytest.fixture(scope="module")
def tiny_data():
    return prepare_sentiment_data(
        _dataset_dict(n_train=160, n_test=40), max_len=None, min_freq=1, val_size=40, seed=0
    )


def test_fit_learns_tiny_task_and_logs_one_line_per_epoch(tiny_data):
    torch.manual_seed(0)
    model = SentimentRNN(len(tiny_data.vocab), 16, 16, "gru", bidirectional=True)
    lines: list[str] = []
    history = fit_classifier(
        model,
        tiny_data.train,
        tiny_data.val,
        epochs=8,
        lr=0.02,
        batch_size=16,
        seed=0,
        name="tiny",
        log=lines.append,
    )
    assert isinstance(history, History)
    assert len(lines) == 8 and all(line.startswith("tiny | epoch") for line in lines)
    assert "\n" not in "".join(lines)
    assert set(history.metric_names()) >= {
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "seconds",
    }
    assert len(history.step_losses) == 8 * -(-len(tiny_data.train) // 16)  # ceil
    assert history.best("val_accuracy")["val_accuracy"] == 1.0
    assert evaluate_classifier(model, tiny_data.test)["accuracy"] >= 0.95
    assert history.column("train_loss")[-1] < history.column("train_loss")[0]


def test_fit_restores_best_validation_weights(tiny_data):
    torch.manual_seed(0)
    model = SentimentRNN(len(tiny_data.vocab), 8, 8, "gru")
    # Validation labels flipped: the better the model learns, the worse it does there, so the
    # best validation epoch is an early one and the last epoch's weights must be discarded.
    flipped = SequenceDataset(tiny_data.val.sequences, [1 - y for y in tiny_data.val.targets])
    history = fit_classifier(
        model, tiny_data.train, flipped, epochs=6, lr=0.02, batch_size=8, seed=1, log=None
    )
    best = history.best("val_accuracy")
    last = history.epochs[-1]
    assert best["epoch"] < last["epoch"] and best["val_accuracy"] > last["val_accuracy"]
    restored = evaluate_classifier(model, flipped)
    assert restored["accuracy"] == pytest.approx(best["val_accuracy"])
    assert restored["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_fit_is_reproducible_with_seed(tiny_data):
    def train():
        torch.manual_seed(5)
        model = SentimentRNN(len(tiny_data.vocab), 8, 8, "lstm", dropout=0.2)
        h = fit_classifier(
            model,
            tiny_data.train,
            tiny_data.val,
            epochs=2,
            lr=0.01,
            batch_size=16,
            seed=7,
            log=None,
        )
        return h.step_losses

    assert train() == train()


def test_evaluate_and_predict_proba_agree(tiny_data):
    torch.manual_seed(0)
    model = SentimentRNN(len(tiny_data.vocab), 8, 8, "rnn", dropout=0.5)
    model.train()
    metrics = evaluate_classifier(model, tiny_data.test, batch_size=7)
    assert model.training  # mode restored
    probs = predict_proba(model, tiny_data.test, batch_size=7)
    labels = torch.tensor([float(t) for t in tiny_data.test.targets])
    assert metrics["accuracy"] == pytest.approx(((probs > 0.5).float() == labels).float().mean())
    expected_loss = torch.nn.functional.binary_cross_entropy(probs, labels).item()
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-4)
    # predict_proba returns dataset order: compare with a single example alone.
    ids = tiny_data.test.sequences[3].unsqueeze(0)
    alone = model.predict_proba(ids, torch.tensor([ids.shape[1]]))
    torch.testing.assert_close(probs[3], alone[0])
    with pytest.raises(ValueError, match="empty"):
        evaluate_classifier(model, SequenceDataset([], []))


def test_run_experiment_reports_test_metrics(tiny_data):
    lines: list[str] = []
    run = run_experiment(
        "gru",
        {"embedding_dim": 8, "hidden_size": 8, "cell": "gru"},
        tiny_data,
        epochs=2,
        lr=0.02,
        batch_size=16,
        log=lines.append,
    )
    assert len(lines) == 3 and "test_accuracy" in lines[-1]
    row = run.row()
    assert row["run"] == "gru" and 0.0 <= row["test_accuracy"] <= 1.0
    assert row["parameters"] == sum(p.numel() for p in run.model.parameters())
    assert run.settings["model"]["vocab_size"] == len(tiny_data.vocab)


def test_step_loss_trains_and_changes_the_updates(tiny_data):
    def train(weight: float):
        torch.manual_seed(0)
        model = SentimentRNN(len(tiny_data.vocab), 8, 8, "rnn", orthogonal_init=True)
        history = fit_classifier(
            model,
            tiny_data.train,
            tiny_data.val,
            epochs=8,
            lr=0.02,
            batch_size=16,
            seed=0,
            step_loss_weight=weight,
            log=None,
        )
        return model, history

    model, history = train(0.5)
    plain_model, plain = train(0.0)
    # The first step's final-logit loss is the same (same weights, same batch) ...
    assert history.step_losses[0] == pytest.approx(plain.step_losses[0])
    # ... but the updates differ, so the runs do.
    assert history.step_losses[1] != pytest.approx(plain.step_losses[1])
    assert history.best("val_accuracy")["val_accuracy"] >= 0.95
    assert evaluate_classifier(model, tiny_data.test)["accuracy"] >= 0.9


def test_fit_rejects_bad_arguments(tiny_data):
    model = SentimentRNN(len(tiny_data.vocab), 4, 4)
    with pytest.raises(ValueError, match="epochs"):
        fit_classifier(model, tiny_data.train, None, epochs=0, lr=1e-3)
    with pytest.raises(ValueError, match="clip"):
        fit_classifier(model, tiny_data.train, None, epochs=1, lr=1e-3, clip=0)
    with pytest.raises(ValueError, match="step_loss_weight"):
        fit_classifier(model, tiny_data.train, None, epochs=1, step_loss_weight=1.0)
    with pytest.raises(ValueError, match="step_logits"):
        fit_classifier(torch.nn.Linear(2, 1), tiny_data.train, None, epochs=1, step_loss_weight=0.5)


def test_bow_baseline_on_tiny_data(tiny_data):
    dd = _dataset_dict(n_train=160, n_test=40)
    result = bow_baseline(
        dd["train"]["tokens"],
        dd["train"]["label"],
        dd["test"]["tokens"],
        dd["test"]["label"],
        min_df=1,
        C=10.0,
    )
    assert result["accuracy"] >= 0.9
    assert result["features"] > 0 and result["seconds"] >= 0
    with pytest.raises(ValueError, match="both classes"):
        bow_baseline([["a"], ["b"]], [1, 1], [["a"]], [1])
    with pytest.raises(ValueError, match="mismatched"):
        bow_baseline([["a"]], [1, 0], [["a"]], [1])


def test_imdb_bow_baseline_fits_only_the_given_training_rows():
    dd = _dataset_dict(n_train=160, n_test=40)
    rows = list(range(0, 160, 2)) + [1]  # almost all negative: the fit must see only these rows
    result = imdb_bow_baseline(dd, rows, min_df=1, C=10.0)
    direct = bow_baseline(
        [dd["train"][i]["tokens"] for i in rows],
        [dd["train"][i]["label"] for i in rows],
        dd["test"]["tokens"],
        dd["test"]["label"],
        min_df=1,
        C=10.0,
    )
    assert result["accuracy"] == direct["accuracy"] and result["features"] == direct["features"]
    assert not hasattr(result["model"][0], "stop_words_")  # dropped: large and not needed
    with pytest.raises(ValueError, match="tokenize_imdb"):
        imdb_bow_baseline({"train": dd["train"].remove_columns("tokens"), "test": dd["test"]}, rows)


def test_run_experiment_with_a_store_loads_the_saved_run(tiny_data, tmp_path):
    from rnnlib.runs import RunStore

    store, config = RunStore(tmp_path), dict(embedding_dim=8, hidden_size=6, cell="gru")
    kwargs = dict(epochs=2, lr=1e-2, batch_size=8, store=store, log=None)
    first = run_experiment("tiny", config, tiny_data, **kwargs)
    second = run_experiment("tiny", config, tiny_data, **kwargs)
    assert not first.loaded and second.loaded
    assert second.test == first.test
    assert evaluate_classifier(second.model, tiny_data.test) == pytest.approx(first.test)
    result = second.result()
    assert result["cell"] == "gru" and result["trainable_params"] == first.parameters
    assert result["test_accuracy"] == first.test["accuracy"]
    other = run_experiment("tiny", {**config, "hidden_size": 7}, tiny_data, **kwargs)
    assert not other.loaded


def test_cached_word2vec_is_trained_once(tmp_path):
    from rnnlib.runs import RunStore
    from rnnlib.sentiment import cached_word2vec

    dd = _dataset_dict()
    data = prepare_sentiment_data(dd, min_freq=1, val_size=10, seed=0)
    store, lines = RunStore(tmp_path), []
    kwargs = dict(dim=6, min_count=1, epochs=1, workers=1, store=store, log=lines.append)
    first = cached_word2vec(dd, data, **kwargs)
    second = cached_word2vec(dd, data, **kwargs)
    assert "loaded from" in lines[-1] and "loaded from" not in lines[0]
    np.testing.assert_array_equal(first["good"], second["good"])
    assert [p.name.startswith("word2vec-6d-") for p in tmp_path.iterdir()] == [True]
