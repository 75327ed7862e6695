"""Pretrained word vectors for the embedding layer: in-domain Word2Vec (gensim) and GloVe files.

Both end in the same place: a ``[len(vocab), dim]`` float tensor whose row ``i`` is the vector
of ``vocab.itos[i]``. Words without a vector get small random rows (scaled like the known
vectors) and ``<pad>`` gets zeros; the returned ``info`` says how much of the vocabulary was
covered. Pass the tensor as ``SentimentRNN(..., pretrained=weights)``.

Trained vectors are stored with ``save_vectors`` and read back with ``load_vectors``: the words
as JSON and the matrix as a float32 ``.npy`` read with ``allow_pickle=False``, never with
gensim's pickle-based ``KeyedVectors.save``/``load`` (unpickling a planted file runs its code).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import zlib
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
    scheduling; with ``workers=1`` it is reproducible, in any process: the initial vectors are
    seeded with a fixed hash of each word (``stable_hash``), not Python's per-process ``hash``.
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
        hashfxn=stable_hash,
    )
    return model.wv


def stable_hash(text: str) -> int:
    """A hash of ``text`` that is the same in every process (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(text.encode("utf-8"))


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
    when given. A first line of two integers (word2vec text header) is skipped.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file and line
    for text that is not UTF-8 or not in GloVe format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"GloVe file {path} does not exist; download e.g. glove.6B.zip from "
            "https://nlp.stanford.edu/projects/glove/ and pass the path of one .txt file"
        )
    vectors: dict[str, np.ndarray] = {}
    dim = None
    with open(path, "rb") as f:  # decoded line by line, so an error names its exact line
        for line_no, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").replace("\r\n", "\n")
            except UnicodeDecodeError as err:
                raise ValueError(
                    f"{path}:{line_no}: not valid UTF-8 ({err.reason} at byte {err.start} of "
                    "the line); the file is damaged or not a GloVe text file"
                ) from err
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


VECTORS_FORMAT = "rnnlib-word-vectors"
VECTORS_VERSION = 1
WORDS_FILE = "words.json"
MATRIX_FILE = "vectors.npy"


def _is_vectors_file(name: str) -> bool:
    """Files a vectors folder may hold: ours, and gensim's pickles of older versions."""
    return name in (WORDS_FILE, MATRIX_FILE) or name.startswith("vectors.kv")


def save_vectors(vectors, folder: str | os.PathLike) -> Path:
    """Store word vectors in ``folder`` without pickle and return its path.

    ``vectors`` is a gensim ``KeyedVectors`` or a mapping word -> vector (all of one length).
    ``folder`` gets ``words.json`` (the words, in row order, with their count and dimension)
    and ``vectors.npy`` (a float32 ``[count, dim]`` matrix). Everything is written to a
    temporary folder beside it that replaces ``folder`` only when complete. ``ValueError`` for
    vectors of uneven length, non-string or duplicate words, or no words, and for an existing
    ``folder`` that holds other files (it is never deleted).
    """
    folder = Path(folder)
    if hasattr(vectors, "index_to_key") and hasattr(vectors, "vectors"):
        words = list(vectors.index_to_key)
        matrix = np.asarray(vectors.vectors, dtype=np.float32)
    else:
        words = list(vectors)
        lengths = {len(vectors[w]) for w in words}
        if len(lengths) > 1:
            raise ValueError(f"vectors have inconsistent dimensions {sorted(lengths)}")
        matrix = np.asarray([vectors[w] for w in words], dtype=np.float32)
    if not words:
        raise ValueError("no word vectors to save")
    bad = [w for w in words if not isinstance(w, str)]
    if bad:
        raise ValueError(f"words must be strings, got {bad[:3]}")
    if len(set(words)) != len(words):
        raise ValueError("the words to save contain duplicates")
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(
            f"expected a [{len(words)}, dim] matrix for {len(words)} words, got shape "
            f"{matrix.shape}"
        )
    if folder.exists():
        others = [p.name for p in folder.iterdir() if not _is_vectors_file(p.name)]
        if not folder.is_dir() or others:
            raise ValueError(
                f"refusing to replace {folder}: it is not a folder of saved vectors (it holds "
                f"{sorted(others)[:5] or 'a file'}); choose another folder"
            )
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.mkdir()
        np.save(tmp / MATRIX_FILE, matrix, allow_pickle=False)
        meta = {
            "format": VECTORS_FORMAT,
            "version": VECTORS_VERSION,
            "count": len(words),
            "dim": int(matrix.shape[1]),
            "dtype": "float32",
            "words": words,
        }
        (tmp / WORDS_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return folder


def load_vectors(folder: str | os.PathLike):
    """Word vectors stored by ``save_vectors``, as a gensim ``KeyedVectors`` (usable by
    ``embedding_matrix``).

    Nothing is unpickled: the matrix is read with ``allow_pickle=False`` and any other file in
    the folder (such as an old gensim ``vectors.kv`` pickle) is ignored. Raises
    ``FileNotFoundError`` naming ``folder`` if it or its files are missing, and ``ValueError``
    naming the file when anything is off (not UTF-8/JSON, truncated, an object array, counts or
    shapes that disagree, non-finite values).
    """
    from gensim.models import KeyedVectors

    folder = Path(folder)
    words_file, matrix_file = folder / WORDS_FILE, folder / MATRIX_FILE
    if not folder.is_dir():
        raise FileNotFoundError(f"no saved word vectors: {folder} is not a folder")
    missing = [p.name for p in (words_file, matrix_file) if not p.is_file()]
    if missing:
        legacy = sorted(p.name for p in folder.glob("vectors.kv*"))
        hint = (
            f"; it holds {legacy}, gensim pickles of an older version, which are never loaded "
            "(unpickling can run code): train the vectors again"
            if legacy
            else ""
        )
        raise FileNotFoundError(
            f"{folder} holds no saved word vectors (missing {missing}){hint}; store them with "
            "save_vectors"
        )
    try:
        meta = json.loads(words_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{words_file} is unreadable ({err}); save the vectors again") from err
    if not isinstance(meta, dict) or meta.get("format") != VECTORS_FORMAT:
        raise ValueError(f"{words_file} is not a {VECTORS_FORMAT} file; save with save_vectors")
    if meta.get("version") != VECTORS_VERSION:
        raise ValueError(
            f"{words_file} has format version {meta.get('version')!r}; this code reads "
            f"version {VECTORS_VERSION}"
        )
    words, count, dim = meta.get("words"), meta.get("count"), meta.get("dim")
    if (
        not isinstance(words, list)
        or not all(isinstance(w, str) for w in words)
        or not isinstance(count, int)
        or not isinstance(dim, int)
        or dim < 1
    ):
        raise ValueError(f"{words_file} lacks a list of words, a count or a dimension")
    if len(words) != count:
        raise ValueError(f"{words_file} lists {len(words)} words but says it holds {count}")
    if len(set(words)) != len(words):
        raise ValueError(f"{words_file} lists some words twice")
    try:
        matrix = np.load(matrix_file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(
            f"{matrix_file} is not a plain float32 matrix or is truncated ({err}); save the "
            "vectors again"
        ) from err
    if not isinstance(matrix, np.ndarray) or matrix.dtype != np.float32:
        raise ValueError(
            f"{matrix_file} holds {getattr(matrix, 'dtype', type(matrix))}, not float32"
        )
    if matrix.shape != (count, dim):
        raise ValueError(
            f"{matrix_file} has shape {matrix.shape}, but {words_file} lists {count} words of "
            f"dimension {dim}; the folder is damaged: save the vectors again"
        )
    if not np.isfinite(matrix).all():
        raise ValueError(f"{matrix_file} holds non-finite values (NaN or inf)")
    vectors = KeyedVectors(vector_size=dim, count=0, dtype=np.float32)
    vectors.add_vectors(words, matrix)
    return vectors


__all__ = [
    "embedding_matrix",
    "load_glove",
    "load_vectors",
    "read_glove",
    "reduce_dim",
    "save_vectors",
    "train_word2vec",
]
