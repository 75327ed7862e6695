"""Bag-of-words reference for IMDB: the "NBSVM" of Wang & Manning (2012, "Baselines and
Bigrams") with a logistic loss: binary word and bigram features scaled by their naive-Bayes
log-count ratio ``r = log((p / |p|_1) / (q / |q|_1))`` (``p``/``q``: smoothed counts in
positive/negative training reviews), and L2 logistic regression with ``C`` chosen on validation."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .data.imdb import check_tokenised, tokenised_rows


def nb_logistic_baseline(
    train: tuple[Sequence[Sequence[str]], Sequence[int]],
    val: tuple[Sequence[Sequence[str]], Sequence[int]],
    test: tuple[Sequence[Sequence[str]], Sequence[int]],
    *,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 2,
    alpha: float = 1.0,
    c_values: Sequence[float] = (0.1, 0.3, 1.0, 3.0),
    max_iter: int = 1000,
) -> dict[str, Any]:
    """Fit on ``train`` (token lists, 0/1 labels), choose ``C`` on ``val``, score ``test`` once:
    ``{"test_accuracy", "val_accuracy", "C", "val_by_C", "features", "seconds"}``. ``ValueError``
    on mismatched sizes or training labels of one class only."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    for name, (tokens, labels) in (("train", train), ("val", val), ("test", test)):
        if len(tokens) != len(labels):
            raise ValueError(
                f"mismatched sizes: {len(tokens)} {name} reviews but {len(labels)} labels"
            )
    y_train = np.asarray(train[1])
    if set(np.unique(y_train)) != {0, 1}:
        raise ValueError("the training labels must contain both classes, 0 and 1")
    start = time.perf_counter()
    vectorizer = CountVectorizer(
        tokenizer=list,  # the reviews are token lists already
        preprocessor=list,
        lowercase=False,
        token_pattern=None,
        ngram_range=ngram_range,
        min_df=min_df,
        binary=True,
        dtype=np.float32,
    )
    x_train = vectorizer.fit_transform(list(train[0]))
    p = alpha + np.asarray(x_train[y_train == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(x_train[y_train == 0].sum(axis=0)).ravel()
    ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)  # [features]
    x_val, x_test = (vectorizer.transform(list(tokens)) for tokens, _ in (val, test))
    x_train, x_val, x_test = (x.multiply(ratio).tocsr() for x in (x_train, x_val, x_test))
    models = {
        c: LogisticRegression(C=c, max_iter=max_iter, solver="liblinear").fit(x_train, y_train)
        for c in c_values
    }
    val_by_c = {c: float(model.score(x_val, np.asarray(val[1]))) for c, model in models.items()}
    best = max(c_values, key=lambda c: (val_by_c[c], -c))  # ties: the stronger regularisation
    return {
        "test_accuracy": float(models[best].score(x_test, np.asarray(test[1]))),
        "val_accuracy": val_by_c[best],
        "C": best,
        "val_by_C": val_by_c,
        "features": len(ratio),
        "seconds": time.perf_counter() - start,
    }


def imdb_bow_baseline(
    dataset_dict, train_indices: Sequence[int], val_indices: Sequence[int], **options: Any
) -> dict[str, Any]:
    """``nb_logistic_baseline`` on whole reviews of a tokenised IMDB ``dataset_dict``: fitted on
    ``train`` rows ``train_indices``, ``C`` chosen on rows ``val_indices``, scored on ``test``."""
    check_tokenised(dataset_dict)
    train, val = (tokenised_rows(dataset_dict["train"], i) for i in (train_indices, val_indices))
    return nb_logistic_baseline(train, val, tokenised_rows(dataset_dict["test"]), **options)
