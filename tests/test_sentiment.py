"""Sentiment data preparation, training loop and evaluation on tiny synthetic data."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch

from rnnlib.baseline import imdb_bow_baseline, nb_logistic_baseline
from rnnlib.batching import SequenceDataset
from rnnlib.config import ClassifierConfig, TrainConfig
from rnnlib.models.classifier import SentimentRNN
from rnnlib.sentiment import (
    SentimentTask,
    predict,
    predict_logits,
    prepare_sentiment_data,
    truncate,
    word2vec_corpus,
)
from rnnlib.text import UNK
from rnnlib.train import fit
from rnnlib.utils import split_indices

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
        dd, max_len=4, truncation="head", min_freq=3, val_size=0.25, max_examples=7
    )
    # min_freq counts the 7 training reviews kept: rarer words are left out
    kept = [dd["train"][int(i)]["tokens"] for i in data.train_indices]
    counts = {w: sum(t.count(w) for t in kept) for w in data.vocab.itos[2:]}
    assert counts and min(counts.values()) >= 3
    assert max(data.train.lengths) <= 4
    with pytest.raises(ValueError, match="min_freq=1000"):
        prepare_sentiment_data(dd, min_freq=1000, val_size=10)
    assert (len(data.train), len(data.val), len(data.test)) == (7, 7, 7)
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


def _trained(tiny_data, *, cell="gru", step_loss_weight=0.0, epochs=6, seed=0):
    torch.manual_seed(seed)
    model = SentimentRNN(ClassifierConfig(len(tiny_data.vocab), 8, 8, cell, orthogonal_init=True))
    config = TrainConfig(
        max_epochs=epochs, lr=0.02, batch_size=16, step_loss_weight=step_loss_weight
    )
    history = fit(model, SentimentTask(), tiny_data.train, tiny_data.val, config, log=None)
    return model, history


def test_evaluate_and_predict_logits_agree(tiny_data):
    torch.manual_seed(0)
    model = SentimentRNN(ClassifierConfig(len(tiny_data.vocab), 8, 8, "rnn", dropout=0.5))
    model.train()
    metrics = SentimentTask().evaluate(model, tiny_data.test, batch_size=7)
    assert model.training  # mode restored
    probs = torch.sigmoid(predict_logits(model, tiny_data.test.sequences, batch_size=7))
    labels = torch.tensor([float(t) for t in tiny_data.test.targets])
    assert metrics["accuracy"] == pytest.approx(((probs > 0.5).float() == labels).float().mean())
    expected_loss = torch.nn.functional.binary_cross_entropy(probs, labels).item()
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-4)
    # predict_logits returns the sequences' order: compare with a single example alone.
    ids = tiny_data.test.sequences[3].unsqueeze(0)
    alone = torch.sigmoid(model.eval()(ids, torch.tensor([ids.shape[1]])))
    torch.testing.assert_close(probs[3], alone[0])
    with pytest.raises(ValueError, match="empty"):
        SentimentTask().evaluate(model, SequenceDataset([], []))


def test_step_loss_trains_and_changes_the_updates(tiny_data):
    model, history = _trained(tiny_data, cell="rnn", step_loss_weight=0.5, epochs=8)
    _, plain = _trained(tiny_data, cell="rnn", step_loss_weight=0.0, epochs=8)
    # The first step's final-logit loss is the same (same weights, same batch) ...
    assert history.step_losses[0] == pytest.approx(plain.step_losses[0])
    # ... but the updates differ, so the runs do.
    assert history.step_losses[1] != pytest.approx(plain.step_losses[1])
    assert history.best["val_accuracy"] >= 0.95
    assert SentimentTask().evaluate(model, tiny_data.test)["accuracy"] >= 0.9


def test_step_loss_needs_a_model_with_step_logits(tiny_data):
    batch = SentimentTask().collate([tiny_data.train[0], tiny_data.train[1]])
    with pytest.raises(AttributeError, match="step_logits"):
        SentimentTask().step(torch.nn.Linear(2, 1), batch, TrainConfig(step_loss_weight=0.5))


def test_nb_logistic_baseline_chooses_c_on_validation_only():
    dd = _dataset_dict(n_train=160, n_test=40)
    train = (dd["train"]["tokens"][:120], dd["train"]["label"][:120])
    val = (dd["train"]["tokens"][120:], dd["train"]["label"][120:])
    test = (dd["test"]["tokens"], dd["test"]["label"])
    result = nb_logistic_baseline(train, val, test, min_df=1, c_values=(0.01, 1.0))
    assert result["test_accuracy"] >= 0.9 and result["features"] > 0
    assert set(result["val_by_C"]) == {0.01, 1.0}
    assert result["val_accuracy"] == max(result["val_by_C"].values())
    # the test reviews never choose C: garbled test labels give the same choice
    garbled = (test[0], [1 - y for y in test[1]])
    other = nb_logistic_baseline(train, val, garbled, min_df=1, c_values=(0.01, 1.0))
    assert other["C"] == result["C"]
    assert other["test_accuracy"] == pytest.approx(1 - result["test_accuracy"])
    with pytest.raises(ValueError, match="both classes"):
        nb_logistic_baseline(([["a"], ["b"]], [1, 1]), val, test)
    with pytest.raises(ValueError, match="mismatched sizes: 1 train reviews but 2 labels"):
        nb_logistic_baseline(([["a"]], [1, 0]), val, test)


def test_imdb_bow_baseline_fits_only_the_given_training_rows():
    dd = _dataset_dict(n_train=160, n_test=40)
    rows = list(range(0, 120, 2)) + [1]  # almost all negative: the fit must see only these rows
    val_rows = list(range(120, 160))
    result = imdb_bow_baseline(dd, rows, val_rows, min_df=1)
    direct = nb_logistic_baseline(
        ([dd["train"][i]["tokens"] for i in rows], [dd["train"][i]["label"] for i in rows]),
        ([dd["train"][i]["tokens"] for i in val_rows], [dd["train"][i]["label"] for i in val_rows]),
        (dd["test"]["tokens"], dd["test"]["label"]),
        min_df=1,
    )
    assert result["test_accuracy"] == direct["test_accuracy"]
    assert result["features"] == direct["features"]
    with pytest.raises(ValueError, match="tokenize_imdb"):
        imdb_bow_baseline(
            {"train": dd["train"].remove_columns("tokens"), "test": dd["test"]}, rows, val_rows
        )


def test_predict_new_text_from_a_saved_run(tmp_path):
    from rnnlib.experiments import train_or_load

    data = prepare_sentiment_data(
        _dataset_dict(n_train=160, n_test=40), max_len=6, min_freq=1, val_size=40, seed=0
    )
    config = ClassifierConfig(len(data.vocab), 8, 8, "gru")
    train = TrainConfig(max_epochs=6, lr=0.02, batch_size=16)
    run = train_or_load("tiny", config, train, data, store=tmp_path, log=None)
    texts = ["The movie was GREAT, great fun", "an awful, boring plot"]
    from_run = predict(run, texts)
    from_disk = predict(run.path, texts)  # only the saved run is read
    assert from_run == pytest.approx(from_disk)
    assert from_run[0] > 0.5 > from_run[1]
    # New text is truncated as the training reviews were: the last 6 tokens.
    long_review = "great " + "the movie " * 10 + "awful"
    assert predict(run, long_review) == predict(run, "movie the movie the movie awful")
    assert predict(run, long_review) != predict(run, "great the movie awful")
    with pytest.raises(ValueError, match="text 1 cannot be classified"):
        predict(run, ["good", ".,;"])
    with pytest.raises(
        ValueError, match="text 1 cannot be classified: it has no word of the model's"
    ):
        predict(run, ["good", "zzyzx qwertyuiop"])
    with pytest.raises(
        ValueError, match="text 0 cannot be classified: it has no word of the model's"
    ):
        predict(run, ["!!! ?", "good"])  # the tokenizer keeps ! and ?, but they are not words
    with pytest.raises(ValueError, match="at least one text"):
        predict(run, [])
    with pytest.raises(FileNotFoundError, match="not a saved run"):
        predict(tmp_path / "nothing-here", ["good"])


def test_cached_word2vec_is_trained_once(tmp_path):
    from rnnlib.sentiment import cached_word2vec

    dd = _dataset_dict()
    data = prepare_sentiment_data(dd, min_freq=1, val_size=10, seed=0)
    lines = []
    kwargs = dict(dim=6, min_count=1, epochs=1, workers=1, folder=tmp_path, log=lines.append)
    first = cached_word2vec(dd, data, **kwargs)
    second = cached_word2vec(dd, data, **kwargs)
    assert "loaded from" in lines[-1] and "loaded from" not in lines[0]
    np.testing.assert_array_equal(first["good"], second["good"])
    (saved,) = tmp_path.iterdir()
    assert saved.name.startswith("word2vec-6d-") and saved.suffix == ".bin"
    saved.write_bytes(saved.read_bytes()[:-9])  # cut short: reported, then trained again
    with pytest.warns(UserWarning, match=r"not a complete word2vec binary file.*training Word2Vec"):
        third = cached_word2vec(dd, data, **kwargs)
    np.testing.assert_array_equal(first["good"], third["good"])
    assert "loaded from" not in lines[-1]


def test_validation_holds_whole_groups_only():
    groups = [f"m{i // 3}" for i in range(30)]  # ten movies of three reviews
    train, val = split_indices(30, 7, seed=1, groups=groups)
    assert {groups[i] for i in train}.isdisjoint(groups[i] for i in val)
    assert len(val) == 9 and sorted([*train, *val]) == list(range(30))  # 3 movies reach 7
    again = split_indices(30, 7, seed=1, groups=groups)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(split_indices(30, 7, seed=2, groups=groups)[1], val)
    with pytest.raises(ValueError, match="takes every group"):
        split_indices(30, 29, seed=0, groups=groups)
    with pytest.raises(ValueError, match="2 labels for 30 items"):
        split_indices(30, 7, seed=0, groups=["a", "b"])


def test_reviews_of_one_movie_stay_on_one_side():
    dd = _dataset_dict(n_train=60)
    movies = [f"tt{i % 12}" for i in range(60)]
    dd["train"] = dd["train"].add_column("movie", movies)
    data = prepare_sentiment_data(dd, max_len=None, min_freq=1, val_size=10, seed=0)
    assert data.settings["val_by_movie"]
    val_movies = {movies[i] for i in data.val_indices}
    assert val_movies.isdisjoint(movies[i] for i in data.train_indices)
    plain = prepare_sentiment_data(_dataset_dict(n_train=60), max_len=None, min_freq=1, val_size=10)
    assert not plain.settings["val_by_movie"] and len(plain.val) == 10
