"""Bag-of-words reference for IMDB: tf-idf of words and word bigrams + logistic regression.

It ignores word order beyond bigrams, trains in seconds, and is the bar a recurrent model has
to clear to justify its cost. Fitted on training reviews only; the test split is only scored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


def _identity(tokens):
    return tokens


def bow_baseline(
    train_tokens: Sequence[Sequence[str]],
    train_labels: Sequence[int],
    test_tokens: Sequence[Sequence[str]],
    test_labels: Sequence[int],
    *,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 2,
    max_features: int | None = None,
    C: float = 4.0,
    max_iter: int = 1000,
) -> dict[str, Any]:
    """Fit tf-idf (sublinear tf) + ``LogisticRegression`` on already tokenised training
    reviews; return ``{"accuracy", "seconds", "fit_seconds", "features", "model"}``.

    ``accuracy`` is on the test reviews; ``seconds`` covers vectorising, fitting and scoring.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if len(train_tokens) != len(train_labels) or len(test_tokens) != len(test_labels):
        raise ValueError(
            f"mismatched sizes: {len(train_tokens)} train reviews / {len(train_labels)} labels, "
            f"{len(test_tokens)} test reviews / {len(test_labels)} labels"
        )
    if len(set(train_labels)) < 2:
        raise ValueError("the training labels must contain both classes")
    start = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(
            tokenizer=_identity,
            preprocessor=_identity,
            lowercase=False,
            token_pattern=None,
            ngram_range=ngram_range,
            min_df=min_df,
            max_features=max_features,
            sublinear_tf=True,
        ),
        LogisticRegression(C=C, max_iter=max_iter, solver="liblinear"),
    )
    model.fit(list(train_tokens), list(train_labels))
    if hasattr(model[0], "stop_words_"):  # the terms cut by min_df: not needed, and large
        del model[0].stop_words_
    fit_seconds = time.perf_counter() - start
    accuracy = float(model.score(list(test_tokens), list(test_labels)))
    return {
        "accuracy": accuracy,
        "seconds": time.perf_counter() - start,
        "fit_seconds": fit_seconds,
        "features": len(model[0].vocabulary_),
        "model": model,
    }


def imdb_bow_baseline(dataset_dict, train_indices: Sequence[int], **options: Any) -> dict[str, Any]:
    """``bow_baseline`` fitted on the rows ``train_indices`` of a tokenised IMDB
    ``dataset_dict["train"]`` (e.g. ``SentimentData.train_indices``, which leaves the validation
    reviews out) and scored on all of ``dataset_dict["test"]``. ``options`` go to
    ``bow_baseline``. A module-level function, so a worker process can run it
    (``rnnlib.parallel.Call``)."""
    for split in ("train", "test"):
        if split not in dataset_dict or "tokens" not in dataset_dict[split].column_names:
            raise ValueError(
                f"dataset_dict needs a tokenised {split!r} split (a 'tokens' column); "
                "run rnnlib.data.tokenize_imdb first"
            )
    train_rows = dataset_dict["train"].select(train_indices)
    test = dataset_dict["test"]
    return bow_baseline(
        list(train_rows["tokens"]),
        list(train_rows["label"]),
        list(test["tokens"]),
        list(test["label"]),
        **options,
    )


__all__ = ["bow_baseline", "imdb_bow_baseline"]
