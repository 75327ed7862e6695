"""IMDB sentiment: data preparation, the classification task for ``rnnlib.train.fit``, and
prediction on new text from a saved run. The model's output is one logit per review."""

from __future__ import annotations

import functools
import hashlib
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .batching import BucketBatchSampler, SequenceDataset, collate_labelled, pad_batch
from .config import TrainConfig
from .data.imdb import check_tokenised, tokenised_rows
from .text import Tokenizer, Vocab
from .train import StepResult
from .utils import split_indices

TRUNCATION_SIDES = ("head", "tail", "head+tail")


def truncate(
    tokens: Sequence[str], max_len: int | None, side: str = "tail", *, head_fraction: float = 0.25
) -> list[str]:
    """At most ``max_len`` tokens (``None``: all): the first (``"head"``), the last (``"tail"``),
    or ``round(head_fraction * max_len)`` first and the rest last (``"head+tail"``)."""
    if side not in TRUNCATION_SIDES:
        raise ValueError(f"unknown truncation side {side!r}; allowed values are {TRUNCATION_SIDES}")
    if max_len is None or len(tokens) <= max_len:
        return list(tokens)
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1 or None, got {max_len}")
    if side == "head":
        return list(tokens[:max_len])
    if side == "tail":
        return list(tokens[-max_len:])
    if not 0.0 <= head_fraction <= 1.0:
        raise ValueError(f"head_fraction must be in [0, 1], got {head_fraction}")
    head = round(head_fraction * max_len)
    return list(tokens[:head]) + list(tokens[len(tokens) - (max_len - head) :])  # tail may be 0


def _tokenizer_args(tokenizer: Tokenizer) -> dict[str, Any]:
    return {"pattern": tokenizer.pattern, "normalization": tokenizer.normalization}


@dataclass
class SentimentData:
    """Encoded IMDB splits, their vocabulary, ``prepare_sentiment_data``'s arguments (``settings``)
    and those of the tokenizer that made the tokens (saved with a run for ``predict``)."""

    vocab: Vocab
    train: SequenceDataset
    val: SequenceDataset
    test: SequenceDataset
    settings: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)
    train_indices: np.ndarray | None = None  # rows of the official training split used
    val_indices: np.ndarray | None = None
    tokenizer: dict[str, Any] = field(default_factory=lambda: _tokenizer_args(Tokenizer()))

    @functools.cached_property
    def fingerprint(self) -> str:
        """Hash of the vocabulary and the encoded splits (what a trained model depends on)."""
        digest = hashlib.sha256("\n".join(self.vocab.itos).encode("utf-8"))
        for split in (self.train, self.val, self.test):
            for seq, label in zip(split.sequences, split.targets, strict=True):
                digest.update(seq.numpy().tobytes() + str(int(label)).encode())
        return digest.hexdigest()[:16]

    def inference_state(self) -> dict[str, Any]:
        """What ``predict`` needs to encode new text as the training text was encoded."""
        state = {"tokenizer": self.tokenizer, "vocab": self.vocab.state()}
        return state | {k: self.settings[k] for k in ("max_len", "truncation", "head_fraction")}


def _unk_rate(sequences, unk_idx: int) -> float:
    total = sum(map(len, sequences))
    return sum(s.count(unk_idx) for s in sequences) / total if total else 0.0


def prepare_sentiment_data(
    dataset_dict,
    *,
    max_len: int | None = 200,
    truncation: str = "tail",
    head_fraction: float = 0.25,
    min_freq: int = 5,
    max_size: int | None = None,
    val_size: int | float = 2500,
    seed: int = 0,
    max_examples: int | None = None,
    tokenizer: Tokenizer | None = None,
) -> SentimentData:
    """Encode a tokenised IMDB ``DatasetDict`` (columns ``tokens``, ``label``). Validation
    (``val_size`` reviews, seeded) comes out of the official training split, by whole movies
    when there is a ``movie`` column, as the official test split does (Maas et al. 2011), so
    that it does not reward memorising a movie's names and plot words. The vocabulary comes from
    the remaining training reviews, before truncation. ``max_examples`` keeps a seeded subset
    of each split (smoke runs); ``tokenizer`` (the one that made ``tokens``) goes to ``predict``."""
    if truncation not in TRUNCATION_SIDES:
        raise ValueError(f"unknown truncation side {truncation!r}; allowed are {TRUNCATION_SIDES}")
    if max_examples is not None and max_examples < 1:
        raise ValueError(f"max_examples must be >= 1 or None, got {max_examples}")
    check_tokenised(dataset_dict)
    train_split, test_split = dataset_dict["train"], dataset_dict["test"]
    movies = train_split["movie"][:] if "movie" in train_split.column_names else None
    groups = movies if movies is not None and all(movies) else None  # validation by movie
    train_idx, val_idx = split_indices(len(train_split), val_size, seed, groups=groups)
    indices = {"train": train_idx, "val": val_idx, "test": np.arange(len(test_split))}
    if max_examples is not None:
        rng = np.random.default_rng(seed + 1)
        indices = {k: np.sort(rng.permutation(idx)[:max_examples]) for k, idx in indices.items()}
    tokens, labels = {}, {}
    for name, idx in indices.items():
        split = test_split if name == "test" else train_split
        tokens[name], labels[name] = tokenised_rows(split, idx)
    for name in ("train", "test"):
        if bad := sorted(set(labels[name]) - {0, 1}):
            raise ValueError(f"split {name!r} has labels {bad}; expected 0 (neg) and 1 (pos)")

    vocab = Vocab.build(tokens["train"], min_freq=min_freq, max_size=max_size)

    def encode(review: list[str]) -> list[int]:
        return vocab.encode(truncate(review, max_len, truncation, head_fraction=head_fraction))

    encoded = {name: [encode(review) for review in reviews] for name, reviews in tokens.items()}
    lengths = np.array([len(t) for t in tokens["train"]])
    stats = {
        "vocab_size": len(vocab),
        "train_truncated": float(np.mean(lengths > max_len)) if max_len else 0.0,
        "train_mean_length": float(np.mean([len(s) for s in encoded["train"]])),
        "train_unk_rate": _unk_rate(encoded["train"], vocab.unk_idx),
        "test_unk_rate": _unk_rate(encoded["test"], vocab.unk_idx),
    }
    settings = {
        "max_len": max_len,
        "truncation": truncation,
        "head_fraction": head_fraction,
        "min_freq": min_freq,
        "max_size": max_size,
        "val_size": val_size,
        "val_by_movie": groups is not None,
        "seed": seed,
        "max_examples": max_examples,
    }
    return SentimentData(
        vocab=vocab,
        train=SequenceDataset(encoded["train"], labels["train"]),
        val=SequenceDataset(encoded["val"], labels["val"]),
        test=SequenceDataset(encoded["test"], labels["test"]),
        settings=settings,
        stats=stats,
        train_indices=indices["train"],
        val_indices=indices["val"],
        tokenizer=_tokenizer_args(tokenizer or Tokenizer()),
    )


def word2vec_corpus(dataset_dict, data: SentimentData, *, include_unsup: bool = True) -> list:
    """Token lists for in-domain Word2Vec: the training reviews of ``data`` plus, with
    ``include_unsup``, the unlabelled ones (never validation or test)."""
    corpus = list(dataset_dict["train"].select(data.train_indices)["tokens"])
    if include_unsup and "unsup" in dataset_dict:
        corpus.extend(dataset_dict["unsup"]["tokens"])
    return corpus


def cached_word2vec(
    dataset_dict,
    data: SentimentData,
    *,
    dim: int,
    window: int = 5,
    min_count: int = 5,
    epochs: int = 5,
    workers: int = 1,
    seed: int = 0,
    include_unsup: bool = True,
    folder: str | os.PathLike | None = None,
    retrain: bool = False,
    log: Callable[[str], Any] | None = print,
):
    """``train_word2vec`` on ``word2vec_corpus``, saved in ``<folder>/word2vec-<dim>d-<key>/``
    (the key covers the settings and training rows) and read back next time unless ``retrain``."""
    from .embeddings import load_vectors, save_vectors, train_word2vec
    from .runs import fingerprint

    log = log or (lambda message: None)
    options = dict(dim=dim, window=window, min_count=min_count, epochs=epochs, workers=workers)
    rows = fingerprint(np.asarray(data.train_indices).tolist())
    sizes = {s: len(dataset_dict[s]) for s in dataset_dict}
    settings = dict(options, seed=seed, include_unsup=include_unsup, train_rows=rows, sizes=sizes)
    target = None if folder is None else Path(folder) / f"word2vec-{dim}d-{fingerprint(settings)}"
    if target is not None and target.is_dir() and not retrain:
        try:
            vectors = load_vectors(target)
        except (FileNotFoundError, ValueError) as err:  # incomplete or foreign: train again
            warnings.warn(f"{err}; training Word2Vec again", stacklevel=2)
        else:
            log(f"word2vec {dim}d: loaded from {target}")
            return vectors
    start = time.perf_counter()
    corpus = word2vec_corpus(dataset_dict, data, include_unsup=include_unsup)
    vectors = train_word2vec(corpus, **options, seed=seed)
    seconds = time.perf_counter() - start
    log(f"word2vec {dim}d: {len(vectors):,} words from {len(corpus):,} reviews in {seconds:.0f} s")
    if target is not None:
        save_vectors(vectors, target)
    return vectors


@torch.no_grad()
def evaluate_sentiment(
    model: nn.Module,
    dataset: SequenceDataset,
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    per_example: bool = False,
) -> dict[str, Any]:
    """Mean binary cross-entropy and accuracy (threshold 0.5); ``ValueError`` if empty. With
    ``per_example``, also ``"correct"``: a ``[len(dataset)]`` boolean array, whether each review
    is classified right."""
    if len(dataset) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    logits = predict_logits(model, dataset.sequences, batch_size=batch_size, device=device)
    labels = torch.tensor([float(y) for y in dataset.targets])
    loss = nn.functional.binary_cross_entropy_with_logits(logits, labels)
    correct = (logits > 0).float() == labels  # [N]
    metrics: dict[str, Any] = {"loss": float(loss), "accuracy": float(correct.float().mean())}
    if per_example:
        metrics["correct"] = correct.numpy()
    return metrics


@dataclass(frozen=True)
class SentimentTask:
    """Binary sentiment classification for ``rnnlib.train.fit``, one logit per review. The loss
    is ``BCEWithLogitsLoss`` on the final state's logit or, with ``config.step_loss_weight = w``
    above 0, target replication (Lipton et al., 2016):
    ``(1 - w) * BCE(final logit) + w * mean over real positions of BCE(step logit)``
    (``SentimentRNN.step_logits``), so every position gets a gradient from a nearby loss. The
    history records the final-logit loss either way."""

    metric: str = "accuracy"

    def lengths(self, dataset: SequenceDataset) -> list[int]:
        return dataset.lengths

    collate = staticmethod(collate_labelled)  # ids [B, T], lengths [B], labels [B]

    def step(self, model: nn.Module, batch: tuple, config: TrainConfig) -> StepResult:
        ids, lengths, labels = batch
        w = config.step_loss_weight
        if w:
            step_logits = model.step_logits(ids, lengths)  # [batch, seq_len]
            last = (lengths - 1).unsqueeze(1)  # [batch, 1]
            logits = step_logits.gather(1, last).squeeze(1)  # [batch]
            real = torch.arange(ids.shape[1], device=ids.device) <= last  # [batch, seq_len]
            targets = labels.unsqueeze(1).expand_as(step_logits)  # [batch, seq_len]
            per_step = nn.functional.binary_cross_entropy_with_logits(
                step_logits, targets, reduction="none"
            ).masked_fill(~real, 0.0)  # [batch, seq_len]
            final = nn.functional.binary_cross_entropy_with_logits(logits, labels)
            loss = (1 - w) * final + w * per_step.sum() / real.sum()
        else:
            logits = model(ids, lengths)  # [batch]
            final = loss = nn.functional.binary_cross_entropy_with_logits(logits, labels)
        correct = int(((logits.detach() > 0).float() == labels).sum())
        return StepResult(loss, final.item(), int(labels.shape[0]), correct)

    evaluate = staticmethod(evaluate_sentiment)


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    sequences: Sequence[torch.Tensor],
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Logits ``[len(sequences)]`` of encoded, non-empty id sequences, in eval mode."""
    was_training = model.training
    model.eval()
    out = torch.empty(len(sequences))
    try:
        for indices in BucketBatchSampler([len(s) for s in sequences], batch_size, shuffle=False):
            ids, lengths = pad_batch([sequences[i] for i in indices])
            out[indices] = model(ids.to(device), lengths.to(device)).float().cpu()
    finally:
        model.train(was_training)
    return out


def predict(run_or_path: Any, texts: str | Sequence[str], *, batch_size: int = 256) -> list[float]:
    """``P(positive)`` for each review in ``texts``, from a ``rnnlib.experiments.Run`` or a
    saved run's folder: each text is tokenised, truncated and encoded as the training reviews
    were (unknown words become ``<unk>``); the data set is never read. ``ValueError`` for no
    texts, an empty text or one whose words are all unknown to the vocabulary (its position is
    named), or a run that is not a sentiment run; ``FileNotFoundError`` if ``run_or_path`` is not
    a saved run."""
    from .runs import model_and_inference

    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise ValueError("predict needs at least one text")
    model, state = model_and_inference(run_or_path)
    if not state or "tokenizer" not in state:
        raise ValueError(
            f"{run_or_path} is not a sentiment run (no vocabulary to encode text; for a seq2seq "
            "run, use translate)"
        )
    tokenizer = Tokenizer(**state["tokenizer"])
    vocab = Vocab.from_state(state["vocab"])
    max_len, side, head_fraction = state["max_len"], state["truncation"], state["head_fraction"]
    sequences = []
    for i, text in enumerate(texts):
        try:
            tokens = tokenizer(text)
        except ValueError as err:
            raise ValueError(f"text {i} cannot be classified: {err}") from err
        kept = truncate(tokens, max_len, side, head_fraction=head_fraction)
        ids = vocab.encode(kept)
        known = [token for token, j in zip(kept, ids, strict=True) if j != vocab.unk_idx]
        if not any(map(tokenizer.is_word, known)):  # nothing to read sentiment from
            raise ValueError(
                f"text {i} cannot be classified: it has no word of the model's vocabulary "
                f"({vocab.num_words} words of the English training reviews), only unknown words "
                "or punctuation"
            )
        sequences.append(torch.tensor(ids, dtype=torch.long))
    device = next(model.parameters()).device
    logits = predict_logits(model, sequences, batch_size=batch_size, device=device)
    return torch.sigmoid(logits).tolist()
