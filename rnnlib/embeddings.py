"""Pretrained word vectors for the embedding layer: in-domain Word2Vec (Mikolov et al. 2013,
gensim) and GloVe files (Pennington et al. 2014), stored without pickle."""

import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .data.fetch import StrPath, utf8_lines
from .text import Vocab
from .utils import atomic_file


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
    ``vectors`` (gensim ``KeyedVectors`` or a word -> vector mapping); words without one and
    specials get seeded normal rows with the known vectors' standard deviation, ``<pad>`` zeros.
    ``info``: ``found``, ``words``, ``coverage``, ``dim``, ``init_std``, ``missing_examples``."""
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
    """A ``[vocab, d]`` table on its top ``dim`` principal components (PCA), so one Word2Vec run
    serves every smaller size; row ``pad_idx`` stays 0. ``ValueError`` for bad shape or ``dim``."""
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


def _check_suffix(path: Path) -> None:
    """``ValueError`` unless ``path`` ends in ``.bin`` (gensim would read, say, ``.gz`` as gzip)."""
    if path.suffix != ".bin":
        raise ValueError(f"{path}: name the word vectors' file *.bin (word2vec binary format)")


def save_vectors(vectors, path: StrPath) -> Path:
    """Store ``KeyedVectors`` or a word -> vector mapping atomically in the ``.bin`` file ``path``,
    in the binary format of Mikolov et al.'s ``word2vec`` tool (no pickle). ``ValueError`` for
    another suffix, no words, uneven vectors, or a word not a string or holding white space."""
    from gensim.models import KeyedVectors

    path = Path(path)
    _check_suffix(path)
    words = list(vectors.index_to_key if hasattr(vectors, "index_to_key") else vectors)
    if not words:
        raise ValueError("there are no word vectors to save")
    if bad := [w for w in words if not isinstance(w, str) or not w or any(map(str.isspace, w))]:
        raise ValueError(
            f"words {bad[:5]!r} are not strings, are empty or hold white space; the format "
            "cannot hold them"
        )
    if not hasattr(vectors, "index_to_key"):  # a word -> vector mapping
        table = KeyedVectors(vector_size=_dim(vectors), count=0)
        table.add_vectors(words, np.asarray([vectors[w] for w in words], dtype=np.float32))
        vectors = table
    with atomic_file(path) as tmp:
        vectors.save_word2vec_format(str(tmp), binary=True)
    return path


def load_vectors(path: StrPath):
    """Float32 gensim ``KeyedVectors`` stored by ``save_vectors`` (nothing is unpickled).
    ``FileNotFoundError`` if ``path`` is not a file; ``ValueError`` naming it for another suffix,
    or if it is not a complete word2vec binary file: another format, truncated, or holding other
    than the vectors its header announces (more, fewer, repeated words), or NaN or inf."""
    from gensim.models import KeyedVectors

    path = Path(path)
    _check_suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved word vectors: {path} is not a file (see save_vectors)")
    size = path.stat().st_size
    try:
        with open(path, "rb") as file:
            header = file.readline()
        count, dim = map(int, header.split())  # "<count> <dim>\n"
        if count < 1 or dim < 1 or count * (4 * dim + 2) > size - len(header):
            raise ValueError(f"its header announces {count} vectors of {dim} values")
        vectors = KeyedVectors.load_word2vec_format(str(path), binary=True)
        words = [w for w in vectors.index_to_key if w is not None]  # None: a repeated word
        # each record is "<word> " and 4 * dim bytes (the word2vec tool also ends it with "\n")
        records = sum(len(w.encode("utf-8")) + 1 + 4 * dim for w in words)
        if len(words) != count or size - len(header) - records not in (0, count):
            raise ValueError(f"it holds other than the {count} distinct words its header announces")
    except (ValueError, EOFError) as err:  # UnicodeDecodeError is a ValueError
        raise ValueError(
            f"{path} is not a complete word2vec binary file ({type(err).__name__}: {err}); "
            "save the vectors again"
        ) from err
    if not np.isfinite(vectors.vectors).all():
        raise ValueError(f"{path} holds non-finite values (NaN or inf); save the vectors again")
    return vectors
