"""Pretrained word vectors for the embedding layer: in-domain Word2Vec (Mikolov et al. 2013,
gensim) and GloVe files (Pennington et al. 2014), stored without pickle."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .data.fetch import StrPath, utf8_lines
from .text import Vocab
from .utils import atomic_directory


def train_word2vec(
    token_lists: Sequence[Sequence[str]],
    *,
    dim: int = 100,
    window: int = 5,
    min_count: int = 5,
    epochs: int = 5,
    workers: int = 2,
    seed: int = 0,
):
    """``KeyedVectors`` of CBOW Word2Vec trained on ``token_lists``, a re-iterable sequence (a
    list) of training text only (never test reviews). With ``workers=1`` the result is the same
    in any process (initial vectors are seeded by ``stable_hash``, not Python's ``hash``)."""
    from gensim.models import Word2Vec

    options = dict(window=window, min_count=min_count, epochs=epochs, workers=workers)
    if min(dim, *options.values()) < 1:
        sizes = dict(dim=dim, **options)
        raise ValueError(f"dim, window, min_count, epochs and workers must be >= 1, got {sizes}")
    if not isinstance(token_lists, Sequence) or isinstance(token_lists, str):
        raise TypeError(
            "token_lists must be a re-iterable sequence of token lists (e.g. a list), got "
            f"{type(token_lists).__name__}"
        )
    if not token_lists:
        raise ValueError("token_lists is empty: Word2Vec needs some text")
    return Word2Vec(token_lists, vector_size=dim, seed=seed, hashfxn=stable_hash, **options).wv


def stable_hash(text: str) -> int:
    """A hash of ``text`` that is the same in every process (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(text.encode("utf-8"))


def _dim(vectors: Mapping[str, np.ndarray]) -> int:
    """The length shared by all vectors of a mapping; ``ValueError`` if they differ."""
    dims = {len(v) for v in vectors.values()}
    if len(dims) != 1:
        raise ValueError(f"vectors have inconsistent dimensions {sorted(dims)}")
    return dims.pop()


def embedding_matrix(vocab: Vocab, vectors, *, seed: int = 0) -> tuple[torch.Tensor, dict]:
    """``(weights [len(vocab), dim], info)``: row ``i`` is the vector of ``vocab.itos[i]`` in
    ``vectors`` (gensim ``KeyedVectors`` or a word -> vector mapping). Words without one and
    specials other than ``<pad>`` get seeded normal rows with the known vectors' standard
    deviation, ``<pad>`` gets zeros. ``info``: ``found``, ``words``, ``coverage``, ``dim``,
    ``init_std`` and ``missing_examples`` (up to 10)."""
    dim = int(getattr(vectors, "vector_size", None) or _dim(vectors))
    weights = np.zeros((len(vocab), dim), dtype=np.float32)
    found = np.zeros(len(vocab), dtype=bool)
    for i, word in enumerate(vocab.itos):
        if word not in vocab.specials and word in vectors:
            weights[i], found[i] = vectors[word], True
    n_found, std = int(found.sum()), float(weights[found].std()) if found.any() else 0.1
    weights[~found] = np.random.default_rng(seed).normal(0.0, std, size=(int((~found).sum()), dim))
    weights[vocab.pad_idx] = 0.0  # a Vocab always has <pad>, at id 0
    missing = [w for w, f in zip(vocab.itos, found, strict=True) if not (f or w in vocab.specials)]
    info = {
        "found": n_found,
        "words": vocab.num_words,
        "coverage": n_found / vocab.num_words if vocab.num_words else 0.0,
        "dim": dim,
        "init_std": std,
        "missing_examples": missing[:10],
    }
    return torch.from_numpy(weights), info


def reduce_dim(weights: torch.Tensor, dim: int, *, pad_idx: int = 0) -> torch.Tensor:
    """A ``[vocab, d]`` table projected on its top ``dim`` principal components (PCA), so one
    Word2Vec run serves every smaller size; the ``pad_idx`` row stays zero. ``ValueError`` for
    another shape or ``dim``."""
    if weights.dim() != 2:
        raise ValueError(f"weights must be [vocab, dim], got shape {tuple(weights.shape)}")
    if not 1 <= dim <= weights.shape[1]:
        raise ValueError(f"dim must be in [1, {weights.shape[1]}], got {dim}")
    w = weights.detach().to(torch.float64)
    rows = torch.ones(w.shape[0], dtype=torch.bool)
    rows[pad_idx] = False
    mean = w[rows].mean(dim=0, keepdim=True)  # [1, d]
    _, _, v_t = torch.linalg.svd(w[rows] - mean, full_matrices=False)  # v_t: [d, d]
    reduced = (w - mean) @ v_t[:dim].T  # [vocab, dim]
    reduced[pad_idx] = 0.0
    return reduced.to(weights.dtype)


def read_glove(path: StrPath, words: set[str] | None = None) -> dict[str, np.ndarray]:
    """Vectors (of ``words`` only, when given) from a GloVe text file, ``word v1 ... vd`` per
    line (a word2vec ``count dim`` header is skipped). ``FileNotFoundError`` for a missing
    file, ``ValueError`` naming the file and line for text that is not UTF-8 or not GloVe."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"GloVe file {path} does not exist; download e.g. glove.6B.zip from "
            "https://nlp.stanford.edu/projects/glove/ and pass the path of one .txt file"
        )
    vectors: dict[str, np.ndarray] = {}
    dim = None
    for number, line in utf8_lines(path, "the file is damaged or not a GloVe text file"):
        parts = line.rstrip("\r\n").rstrip(" ").split(" ")
        if not line.strip() or (number == 1 and len(parts) == 2 and all(map(str.isdigit, parts))):
            continue  # a blank line, or the "count dim" header of the word2vec text format
        if len(parts) < 2:
            raise ValueError(f"{path}:{number}: expected 'word v1 v2 ...', got {line!r:.60}")
        dim = dim or len(parts) - 1
        if len(parts) - 1 != dim:
            raise ValueError(
                f"{path}:{number}: vector for {parts[0]!r} has {len(parts) - 1} values, "
                f"but earlier lines have {dim}; the file is corrupt or not GloVe format"
            )
        if words is None or parts[0] in words:
            try:
                vectors[parts[0]] = np.asarray(parts[1:], dtype=np.float32)
            except ValueError as err:
                raise ValueError(f"{path}:{number}: non-numeric value ({err})") from err
    if dim is None:
        raise ValueError(f"{path} holds no vectors")
    return vectors


def load_glove(path: StrPath, vocab: Vocab, *, seed: int = 0) -> tuple[torch.Tensor, dict]:
    """``embedding_matrix`` from a GloVe text file; ``ValueError`` if no word has a vector."""
    vectors = read_glove(path, set(vocab.itos))
    if not vectors:
        raise ValueError(f"{path} has no vector for any of the {len(vocab)} vocabulary words")
    return embedding_matrix(vocab, vectors, seed=seed)


VECTORS_FORMAT = "rnnlib-word-vectors"
VECTORS_VERSION = 1
WORDS_FILE = "words.json"
MATRIX_FILE = "vectors.npy"


def _check_words(words, where: str) -> None:
    """``ValueError`` naming ``where`` unless ``words`` is a non-empty list of distinct strings."""
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        raise ValueError(
            f"{where}: expected a non-empty list of words (strings), got {words!r:.80}"
        )
    if len(set(words)) != len(words):
        raise ValueError(f"{where}: some words are listed twice")


def save_vectors(vectors, folder: StrPath) -> Path:
    """Store ``KeyedVectors`` or a word -> vector mapping in ``folder`` without pickle: the
    words in ``words.json`` and a float32 ``[count, dim]`` ``vectors.npy``, replacing ``folder``
    only when complete. ``ValueError`` for uneven vectors, non-string, duplicate or no words,
    and for an existing ``folder`` holding other files (it is never deleted)."""
    folder = Path(folder)
    is_gensim = hasattr(vectors, "index_to_key")
    words = list(vectors.index_to_key if is_gensim else vectors)
    _check_words(words, "the vectors to save")
    if not is_gensim:
        _dim(vectors)  # all of one length
    rows = vectors.vectors if is_gensim else [vectors[w] for w in words]
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2 or len(matrix) != len(words):
        raise ValueError(f"expected a [{len(words)}, dim] matrix, got shape {matrix.shape}")
    if folder.exists():  # replaced only if it holds our files or gensim pickles (vectors.kv*)
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else ["(it is a file)"]
        ours = (WORDS_FILE, MATRIX_FILE)
        if others := sorted(n for n in names if n not in ours and not n.startswith("vectors.kv")):
            raise ValueError(
                f"refusing to replace {folder}: it is not a folder of saved vectors (it holds "
                f"{others[:5]}); choose another folder"
            )
    with atomic_directory(folder) as tmp:
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
    return folder


def load_vectors(folder: StrPath):
    """Word vectors stored by ``save_vectors``, as gensim ``KeyedVectors``; nothing is
    unpickled (other files, e.g. old ``vectors.kv`` pickles, are ignored). ``FileNotFoundError``
    naming ``folder`` if it or its files are missing, ``ValueError`` naming the file when anything
    is off (not UTF-8/JSON, truncated, an object array, counts or shapes that disagree, non-finite
    values)."""
    from gensim.models import KeyedVectors

    folder = Path(folder)
    words_file, matrix_file = folder / WORDS_FILE, folder / MATRIX_FILE
    if not folder.is_dir():
        raise FileNotFoundError(f"no saved word vectors: {folder} is not a folder")
    if missing := [p.name for p in (words_file, matrix_file) if not p.is_file()]:
        legacy = sorted(p.name for p in folder.glob("vectors.kv*"))
        hint = (
            f"; it holds {legacy}, gensim pickles of an older version, which are never loaded "
            "(unpickling can run code): train the vectors again"
        )
        raise FileNotFoundError(
            f"{folder} holds no saved word vectors (missing {missing}){hint if legacy else ''}; "
            "store them with save_vectors"
        )
    try:
        meta = json.loads(words_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _damaged(words_file, f"is unreadable ({err})") from err
    kind = (meta.get("format"), meta.get("version")) if isinstance(meta, dict) else None
    if kind != (VECTORS_FORMAT, VECTORS_VERSION):
        raise _damaged(words_file, f"is not a {VECTORS_FORMAT} file of version {VECTORS_VERSION}")
    words, count, dim = meta.get("words"), meta.get("count"), meta.get("dim")
    _check_words(words, str(words_file))
    if not isinstance(dim, int) or dim < 1 or count != len(words):
        raise _damaged(words_file, f"lists {len(words)} words, but says {count!r} of dim {dim!r}")
    try:
        matrix = np.load(matrix_file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        problem = f"is not a plain float32 matrix or is truncated ({err})"
        raise _damaged(matrix_file, problem) from err
    if getattr(matrix, "dtype", None) != np.float32:
        raise _damaged(matrix_file, f"holds {getattr(matrix, 'dtype', type(matrix))}, not float32")
    if matrix.shape != (count, dim):
        problem = f"has shape {matrix.shape}, but {words_file} lists {count} words of dim {dim}"
        raise _damaged(matrix_file, problem)
    if not np.isfinite(matrix).all():
        raise _damaged(matrix_file, "holds non-finite values (NaN or inf)")
    vectors = KeyedVectors(vector_size=dim, count=0, dtype=np.float32)
    vectors.add_vectors(words, matrix)
    return vectors


def _damaged(file: Path, problem: str) -> ValueError:
    return ValueError(f"{file} {problem}; the store is damaged: save the vectors again")
