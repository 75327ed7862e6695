"""Pretrained word vectors for the embedding layer: in-domain Word2Vec (gensim) and GloVe files.

Both end in the same place: a ``[len(vocab), dim]`` float tensor whose row ``i`` is the vector
of ``vocab.itos[i]``. Words without a vector get small random rows (scaled like the known
vectors) and ``<pad>`` gets zeros; the returned ``info`` says how much of the vocabulary was
covered. Pass the tensor as ``SentimentRNN(..., pretrained=weights)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .text import PAD, Vocab


def train_word2vec(
    token_lists: Sequence[Sequence[str]],
    *,
    dim: int = 100,
    window: int = 5,
    min_count: int = 5,
    epochs: int = 5,
    workers: int = 2,
    seed: int = 0,
    sg: bool = False,
    negative: int = 5,
    sample: float = 1e-3,
):
    """Train Word2Vec (CBOW by default, ``sg=True`` for skip-gram) and return its
    ``gensim.models.KeyedVectors``.

    Use training text only (training reviews and the unlabelled ones), never test reviews.
    ``token_lists`` must be re-iterable (a list), since gensim reads it once per epoch plus
    once to build its vocabulary. With ``workers > 1`` the result depends slightly on thread
    scheduling; ``workers=1`` (and a fixed ``PYTHONHASHSEED``) makes it reproducible.
    """
    from gensim.models import Word2Vec

    if dim < 1 or window < 1 or min_count < 1 or epochs < 1 or workers < 1:
        raise ValueError(
            "dim, window, min_count, epochs and workers must all be >= 1, got "
            f"dim={dim}, window={window}, min_count={min_count}, epochs={epochs}, "
            f"workers={workers}"
        )
    if not isinstance(token_lists, Sequence) or isinstance(token_lists, str):
        raise TypeError(
            "token_lists must be a re-iterable sequence of token lists (e.g. a list), got "
            f"{type(token_lists).__name__}"
        )
    if not token_lists:
        raise ValueError("token_lists is empty: Word2Vec needs some text")
    model = Word2Vec(
        sentences=token_lists,
        vector_size=dim,
        window=window,
        min_count=min_count,
        epochs=epochs,
        workers=workers,
        seed=seed,
        sg=int(bool(sg)),
        negative=negative,
        sample=sample,
    )
    return model.wv


def _lookup_matrix(
    vocab: Vocab, lookup: Mapping[str, np.ndarray] | object, dim: int, seed: int
) -> tuple[torch.Tensor, dict]:
    """Shared by Word2Vec and GloVe: rows from ``lookup`` (anything with ``in`` and ``[]``)."""
    weights = np.zeros((len(vocab), dim), dtype=np.float32)
    found = np.zeros(len(vocab), dtype=bool)
    for i, word in enumerate(vocab.itos):
        if word in vocab.specials:
            continue
        if word in lookup:
            weights[i] = lookup[word]
            found[i] = True
    std = float(weights[found].std()) if found.any() else 0.1
    rng = np.random.default_rng(seed)
    missing = ~found
    weights[missing] = rng.normal(0.0, std, size=(int(missing.sum()), dim))
    if PAD in vocab.stoi:
        weights[vocab.stoi[PAD]] = 0.0
    words = len(vocab) - len(vocab.specials)
    n_found = int(found.sum())
    missing_words = [w for w, f in zip(vocab.itos, found, strict=True) if not f]
    info = {
        "found": n_found,
        "words": words,
        "coverage": n_found / words if words else 0.0,
        "dim": dim,
        "init_std": std,
        "missing_examples": [w for w in missing_words if w not in vocab.specials][:10],
    }
    return torch.from_numpy(weights), info


def embedding_matrix(vocab: Vocab, vectors, *, seed: int = 0) -> tuple[torch.Tensor, dict]:
    """``(weights [len(vocab), dim], info)`` from gensim ``KeyedVectors`` (or a word->vector
    mapping with a ``vector_size`` attribute or equal-length vectors).

    Unknown words and special tokens other than ``<pad>`` get random normal rows with the
    standard deviation of the known vectors; ``<pad>`` gets zeros. ``info`` holds ``found``,
    ``words`` (non-special vocabulary entries) and ``coverage = found / words``.
    """
    dim = getattr(vectors, "vector_size", None)
    if dim is None:
        dims = {len(v) for v in vectors.values()}
        if len(dims) != 1:
            raise ValueError(f"vectors have inconsistent dimensions {sorted(dims)}")
        dim = dims.pop()
    return _lookup_matrix(vocab, vectors, int(dim), seed)


def reduce_dim(weights: torch.Tensor, dim: int, *, pad_idx: int | None = 0) -> torch.Tensor:
    """Project a ``[vocab, d]`` embedding table onto its top ``dim`` principal components.

    One Word2Vec run at the largest dimension then serves every smaller dimension of an
    embedding-size comparison (PCA keeps the directions of largest variance), instead of one
    Word2Vec run per size. The ``pad_idx`` row stays zero.
    """
    if weights.dim() != 2:
        raise ValueError(f"weights must be [vocab, dim], got shape {tuple(weights.shape)}")
    if not 1 <= dim <= weights.shape[1]:
        raise ValueError(f"dim must be in [1, {weights.shape[1]}], got {dim}")
    w = weights.detach().to(torch.float64)
    rows = torch.ones(w.shape[0], dtype=torch.bool)
    if pad_idx is not None:
        rows[pad_idx] = False
    mean = w[rows].mean(dim=0, keepdim=True)  # [1, d]
    _, _, v_t = torch.linalg.svd(w[rows] - mean, full_matrices=False)  # v_t: [d, d]
    reduced = (w - mean) @ v_t[:dim].T  # [vocab, dim]
    if pad_idx is not None:
        reduced[pad_idx] = 0.0
    return reduced.to(weights.dtype)


def read_glove(path: str | os.PathLike, words: set[str] | None = None) -> dict[str, np.ndarray]:
    """Vectors from a GloVe text file (``word v1 v2 ... vd`` per line), keeping only ``words``
    when given. A first line of two integers (word2vec text header) is skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"GloVe file {path} does not exist; download e.g. glove.6B.zip from "
            "https://nlp.stanford.edu/projects/glove/ and pass the path of one .txt file"
        )
    vectors: dict[str, np.ndarray] = {}
    dim = None
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if line_no == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # "count dim" header of the word2vec text format
            if len(parts) < 2 or parts == [""]:
                if not line.strip():
                    continue
                raise ValueError(f"{path}:{line_no}: expected 'word v1 v2 ...', got {line!r:.60}")
            if dim is None:
                dim = len(parts) - 1
            elif len(parts) - 1 != dim:
                raise ValueError(
                    f"{path}:{line_no}: vector for {parts[0]!r} has {len(parts) - 1} values, "
                    f"but earlier lines have {dim}; the file is corrupt or not GloVe format"
                )
            word = parts[0]
            if words is not None and word not in words:
                continue
            try:
                vectors[word] = np.asarray(parts[1:], dtype=np.float32)
            except ValueError as err:
                raise ValueError(f"{path}:{line_no}: non-numeric value ({err})") from err
    if dim is None:
        raise ValueError(f"{path} holds no vectors")
    return vectors


def load_glove(
    path: str | os.PathLike, vocab: Vocab, *, seed: int = 0
) -> tuple[torch.Tensor, dict]:
    """``(weights [len(vocab), dim], info)`` from a GloVe text file, like ``embedding_matrix``."""
    vectors = read_glove(path, set(vocab.itos))
    if not vectors:
        raise ValueError(f"{path} has no vector for any of the {len(vocab)} vocabulary words")
    dim = len(next(iter(vectors.values())))
    return _lookup_matrix(vocab, vectors, dim, seed)


__all__ = ["embedding_matrix", "load_glove", "read_glove", "reduce_dim", "train_word2vec"]
