"""SCAN preparation, training loop, free-running evaluation and translation."""

from __future__ import annotations

import os

import pytest
import torch

from rnnlib.batching import pad_batch
from rnnlib.config import TrainConfig
from rnnlib.models.seq2seq import Seq2Seq
from rnnlib.text import EOS, PAD, SOS, UNK
from rnnlib.train import fit
from rnnlib.translation import (
    TranslationTask,
    encode_pairs,
    evaluate_translation,
    greedy_decode,
    prepare_scan,
    translate,
)
from rnnlib.utils import set_seed

ACTION = {"walk": "I_WALK", "jump": "I_JUMP", "run": "I_RUN", "look": "I_LOOK"}
TIMES = {"": 1, "twice": 2, "thrice": 3}


def mini_scan_pairs():
    """A tiny SCAN-like language: 12 commands, outputs of 1 to 3 actions."""
    pairs = []
    for verb, action in ACTION.items():
        for word, n in TIMES.items():
            src = [verb] + ([word] if word else [])
            pairs.append((src, [action] * n))
    return pairs


@pytest.fixture(scope="module")
def mini():
    pairs = mini_scan_pairs()
    return {"train": pairs, "test": pairs[:5]}


def test_prepare_scan_vocabularies_and_splits(mini):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    assert data.src_vocab.specials == [PAD, UNK]
    assert data.tgt_vocab.specials == [PAD, SOS, EOS]
    assert data.src_vocab.num_words == 6 and len(data.src_vocab) == 8
    assert data.tgt_vocab.num_words == 4 and len(data.tgt_vocab) == 7
    assert len(data.val) == 3 and len(data.train) == 9 and len(data.test) == 5
    train_src = {tuple(s) for s, _ in data.train_pairs}
    assert train_src.isdisjoint(tuple(s) for s, _ in data.val_pairs)
    assert sorted(data.train_pairs + data.val_pairs) == sorted(mini["train"])
    eos = data.tgt_vocab.eos_idx
    for (_, tgt_tokens), (_, tgt_ids) in zip(data.train_pairs, data.train, strict=True):
        assert tgt_ids.tolist() == data.tgt_vocab.encode(tgt_tokens) + [eos]
    # the split is fixed by the seed
    again = prepare_scan(mini, val_size=0.25, seed=0)
    assert again.val_pairs == data.val_pairs
    assert prepare_scan(mini, val_size=0.25, seed=1).val_pairs != data.val_pairs


def test_vocabularies_come_from_training_pairs_only(mini):
    test = [(["walk", "sideways"], ["I_WALK"])]
    data = prepare_scan({"train": mini["train"], "test": test}, val_size=0.25, seed=0)
    assert "sideways" not in data.src_vocab
    assert data.test[0][0].tolist()[1] == data.src_vocab.unk_idx
    with pytest.raises(KeyError, match="not in the vocabulary"):
        prepare_scan({"train": mini["train"], "test": [(["fly"], ["I_FLY"])]}, seed=0)


def test_prepare_scan_arguments(mini):
    assert len(prepare_scan(mini, max_examples=4, val_size=0.25).train) == 3
    with pytest.raises(ValueError, match=r"val_size must be in \(0, 1\), got 1.0"):
        prepare_scan(mini, val_size=1.0)
    with pytest.raises(ValueError, match="'train' and 'test'"):
        prepare_scan({"train": mini["train"]})


def tiny_model(data, attention, seed=0):
    set_seed(seed)
    return Seq2Seq(data.model_config(attention=attention, embedding_dim=8, hidden_size=16))


def train(model, data, train_set, val_set, *, epochs, lr, ratio, batch_size=4, seed=0, **kw):
    config = TrainConfig(
        max_epochs=epochs, lr=lr, batch_size=batch_size, teacher_forcing_ratio=ratio
    )
    task = TranslationTask(pad_idx=data.tgt_vocab.pad_idx, eos_idx=data.tgt_vocab.eos_idx)
    return fit(model, task, train_set, val_set, config, seed=seed, **{"log": None, **kw})


def reference_metrics(predictions, dataset, pad_idx):
    """Exact match / token accuracy of free-running predictions, computed by hand."""
    exact = tokens = hits = 0
    for pred, (_, tgt) in zip(predictions, dataset, strict=True):
        tgt = [t for t in tgt.tolist() if t != pad_idx]
        exact += pred == tgt
        tokens += len(tgt)
        hits += sum(p == t for p, t in zip(pred, tgt, strict=False))
    return exact / len(dataset), hits / tokens


@pytest.mark.parametrize("attention", [False, True])
def test_evaluation_is_free_running_and_matches_greedy_decoding(mini, attention):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, attention)
    # train a little so that predictions are a mix of right and wrong
    train(model, data, data.train, data.val, epochs=15, lr=0.02, ratio=1.0)
    dataset = encode_pairs(mini["train"], data.src_vocab, data.tgt_vocab)
    src, lengths = pad_batch([s for s, _ in dataset])
    predictions, _ = greedy_decode(model, src, lengths)  # no targets anywhere
    result = evaluate_translation(model, dataset, batch_size=5)
    em, acc = reference_metrics(predictions, dataset, data.tgt_vocab.pad_idx)
    assert result["exact_match"] == pytest.approx(em)
    assert result["token_accuracy"] == pytest.approx(acc)
    # some right and some wrong outputs (different lengths too), else the check says little
    assert 0 < result["exact_match"] < 1
    # corrupt the targets (same lengths): only the scores change, as the hand computation says
    eos = data.tgt_vocab.eos_idx
    corrupted = encode_pairs(mini["train"], data.src_vocab, data.tgt_vocab)
    corrupted.targets = [
        torch.where(t == eos, t, torch.full_like(t, data.tgt_vocab.stoi["I_LOOK"]))
        for t in corrupted.targets
    ]
    result2 = evaluate_translation(model, corrupted, batch_size=5)
    em2, acc2 = reference_metrics(predictions, corrupted, data.tgt_vocab.pad_idx)
    assert result2["exact_match"] == pytest.approx(em2)
    assert result2["token_accuracy"] == pytest.approx(acc2)
    assert result2["token_accuracy"] < result["token_accuracy"]


def test_evaluation_never_passes_targets_to_the_model(mini, monkeypatch):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, True)
    calls = []
    original = model.forward

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    evaluate_translation(model, data.test, batch_size=2)
    assert calls and all(
        kw.get("targets") is None and kw.get("teacher_forcing_ratio", 0.0) == 0.0 for kw in calls
    )


@pytest.mark.parametrize("attention", [False, True])
def test_overfits_a_handful_of_pairs(mini, attention):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, attention, seed=1)
    train_all = encode_pairs(mini["train"], data.src_vocab, data.tgt_vocab)
    lines = []
    history = train(
        model, data, train_all, train_all, epochs=40, lr=0.02, ratio=1.0, log=lines.append,
        name="tiny",
    )  # fmt: skip
    assert evaluate_translation(model, train_all)["exact_match"] == 1.0
    assert len(lines) == len(history.epochs) and lines[0].startswith("tiny | epoch 1")
    commands = [" ".join(src) for src, _ in mini["train"]]
    outputs = translate(model, data.src_vocab, data.tgt_vocab, commands)
    for (src, tgt), out in zip(mini["train"], outputs, strict=True):
        assert out.actions == tgt and out.tokens == tgt + [EOS] and not out.truncated
        if attention:
            assert out.attention.shape == (len(tgt) + 1, len(src))  # + the step that emits <eos>
            torch.testing.assert_close(out.attention.sum(dim=1), torch.ones(len(tgt) + 1))
        else:
            assert out.attention is None


def test_history_records_free_running_validation_and_restores_the_best(mini):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, False)
    history = train(model, data, data.train, data.val, epochs=4, lr=0.01, ratio=0.5)
    assert [r["epoch"] for r in history.epochs] == [1, 2, 3, 4]
    for key in ("train_loss", "train_accuracy", "val_exact_match", "val_loss",
                "val_token_accuracy", "updates", "seconds"):  # fmt: skip
        assert key in history.epochs[0], key
    assert not any(key.startswith("test") for key in history.epochs[0])
    assert len(history.step_losses) == 4 * 3  # 9 training pairs in batches of 4
    best = max(history.epochs, key=lambda r: (r["val_exact_match"], -r["val_loss"]))
    assert history.best == best
    restored = evaluate_translation(model, data.val)
    assert restored["exact_match"] == pytest.approx(best["val_exact_match"])
    assert restored["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_translate_normalises_and_rejects_words_outside_the_language(mini):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, False)
    a, b, c = translate(
        model, data.src_vocab, data.tgt_vocab, [["walk", "twice"], "walk twice", " WALK  Twice "]
    )
    assert a.actions == b.actions == c.actions and all(t in data.tgt_vocab for t in a.tokens)
    assert c.command == ["walk", "twice"]
    with pytest.raises(ValueError, match="empty"):
        translate(model, data.src_vocab, data.tgt_vocab, "  ")
    with pytest.raises(ValueError, match=r"'dax' is not a SCAN word.*jump, look, run"):
        translate(model, data.src_vocab, data.tgt_vocab, "dax twice")
    with pytest.raises(ValueError, match="'please' is not a SCAN word"):
        translate(model, data.src_vocab, data.tgt_vocab, ["walk twice", "jump twice please"])
    with pytest.raises(ValueError, match="'dax', 'fly' are not SCAN words"):
        translate(model, data.src_vocab, data.tgt_vocab, "dax fly")
    with pytest.raises(ValueError, match="'<unk>' is not a SCAN word"):
        translate(model, data.src_vocab, data.tgt_vocab, "walk <unk>")


def test_translate_returns_exactly_what_the_decoder_emitted(mini, monkeypatch):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, True)
    v = data.tgt_vocab
    walk = v.stoi["I_WALK"]
    emitted = {"ids": [walk, v.pad_idx, v.sos_idx, walk, v.eos_idx]}

    def fake_forward(src, src_lengths, max_len, **kwargs):
        ids = (emitted["ids"] + [walk] * max_len)[:max_len]
        logits = torch.full((src.shape[0], max_len, len(v)), -5.0)
        logits[0, torch.arange(max_len), torch.tensor(ids)] = 5.0
        return logits, torch.full((src.shape[0], max_len, src.shape[1]), 1.0 / src.shape[1])

    monkeypatch.setattr(model, "forward", fake_forward)
    (out,) = translate(model, data.src_vocab, v, "walk twice")
    assert out.tokens == ["I_WALK", PAD, SOS, "I_WALK", EOS]
    assert out.actions == ["I_WALK", PAD, SOS, "I_WALK"] and not out.truncated
    assert out.attention.shape == (5, 2)  # one row per emitted token, <eos> included
    emitted["ids"] = []  # never <eos>: cut at max_len, and said so
    (out,) = translate(model, data.src_vocab, v, "walk", max_len=6)
    assert out.truncated and out.actions == ["I_WALK"] * 6 == out.tokens


@pytest.mark.data
@pytest.mark.skipif(not os.environ.get("RNNLIB_DATA"), reason="needs RNNLIB_DATA")
def test_real_scan_simple_split_sizes():
    from rnnlib.data.scan import load_scan

    data = prepare_scan(load_scan("simple"), val_size=0.1, seed=0)
    assert len(data.train) + len(data.val) == 16728 and len(data.test) == 4182
    assert len(data.val) == 1673
    assert data.src_vocab.num_words == 13 and len(data.src_vocab) == 15
    assert data.tgt_vocab.num_words == 6 and len(data.tgt_vocab) == 9
    assert max(len(t) for _, t in data.test) == 49  # 48 actions + <eos>


def test_evaluation_rejects_targets_without_eos(mini):
    data = prepare_scan(mini, val_size=0.25, seed=0)
    model = tiny_model(data, False)
    bad = encode_pairs(mini["test"], data.src_vocab, data.tgt_vocab)
    bad.targets = [t[:-1] for t in bad.targets]
    with pytest.raises(ValueError, match="<eos>"):
        evaluate_translation(model, bad)
