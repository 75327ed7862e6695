"""The Large Movie Review Dataset (aclImdb, Maas et al. 2011).

Reads the official layout ``aclImdb/{train,test}/{pos,neg}`` and ``aclImdb/train/unsup``, with
file names ``<id>_<rating>.txt``, either from an extracted directory or straight from the
``.tar.gz``. Parsed splits are kept as a Hugging Face ``DatasetDict`` saved on disk, so that a
later run (and tokenisation with ``Dataset.map``) reuses them instead of reading 100,000 files.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from .fetch import (
    CorruptDataError,
    DataNotFoundError,
    cache_dir,
    candidate_roots,
    download,
    download_root,
    downloads_allowed,
    not_found_message,
)

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_SIZE = 84_125_825
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
SPLITS = ("train", "test", "unsup")
LABELS = {"neg": 0, "pos": 1, "unsup": -1}
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
COLUMNS = ("id", "rating", "label", "text")


def locate_imdb(
    path: str | os.PathLike | None = None, *, allow_download: bool | None = None
) -> Path:
    """Path of an extracted ``aclImdb/`` directory or of ``aclImdb_v1.tar.gz``.

    ``path`` may be the archive itself, the ``aclImdb`` directory, or a directory holding
    either. When none is found, the official archive is downloaded (SHA-256 verified) into
    ``path`` or ``<project>/data`` unless downloads are disabled (``RNNLIB_OFFLINE=1`` or CI).
    """
    looked_at: list[Path] = []
    for root in candidate_roots(path):
        if root.is_file() and root.name.endswith((".tar.gz", ".tgz")):
            return root
        if root.is_dir() and root.name == "aclImdb":
            return root
        for candidate in (root / "aclImdb", root / ARCHIVE_NAME):
            looked_at.append(candidate)
            if candidate.exists():
                return candidate
    if allow_download is None:
        allow_download = downloads_allowed()
    if not allow_download:
        raise DataNotFoundError(
            not_found_message("The IMDB data set (aclImdb/ or aclImdb_v1.tar.gz)", looked_at)
        )
    return download(
        IMDB_URL, download_root(path) / ARCHIVE_NAME, sha256=IMDB_SHA256, size=IMDB_SIZE
    )


def _record(name: str, text: bytes) -> tuple[str, dict] | None:
    match = _MEMBER.search(name)
    if match is None:
        return None
    split, folder, review_id, rating = match.groups()
    if folder == "unsup":
        split = "unsup"
    return split, {
        "id": int(review_id),
        "rating": int(rating),
        "label": LABELS[folder],
        "text": text.decode("utf-8"),
    }


def iter_imdb(source: str | os.PathLike) -> Iterator[tuple[str, dict]]:
    """Yield ``(split, record)`` for every review file in a directory or a ``.tar.gz``."""
    source = Path(source)
    if source.is_dir():
        for file in sorted(source.glob("*/*/*.txt")):
            rec = _record(file.as_posix(), file.read_bytes())
            if rec is not None:
                yield rec
        return
    try:
        with tarfile.open(source, "r:gz") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                if _MEMBER.search(member.name) is None:
                    continue
                handle = archive.extractfile(member)
                rec = _record(member.name, handle.read()) if handle else None
                if rec is not None:
                    yield rec
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise CorruptDataError(
            f"{source} is truncated or corrupt ({type(err).__name__}: {err}). Delete it and "
            "run again to download a fresh copy, or point RNNLIB_DATA at a good one."
        ) from err


def read_imdb(source: str | os.PathLike) -> dict[str, dict[str, list]]:
    """All reviews as columns per split: ``{split: {"id", "rating", "label", "text"}}``.

    Rows are ordered by (label, id) within each split so the result does not depend on the
    order of files in the archive.
    """
    rows: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for split, rec in iter_imdb(source):
        rows[split].append(rec)
    if not rows["train"] or not rows["test"]:
        raise CorruptDataError(
            f"{source} holds no aclImdb/train or aclImdb/test reviews "
            f"(found {', '.join(f'{s}: {len(r)}' for s, r in rows.items())}); "
            "it is not the IMDB archive or it is incomplete"
        )
    columns: dict[str, dict[str, list]] = {}
    for split, recs in rows.items():
        recs.sort(key=lambda r: (r["label"], r["id"]))
        columns[split] = {c: [r[c] for r in recs] for c in COLUMNS}
    return columns


def _source_key(source: Path) -> str:
    """Cache key of a data source: its resolved path, size and modification time."""
    stat = source.stat()
    ident = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def load_imdb(path: str | os.PathLike | None = None, *, cache: bool = True):
    """The IMDB splits (train, test, unsup) as a ``datasets.DatasetDict``.

    With ``cache`` the parsed splits are saved under the cache directory (``RNNLIB_CACHE`` or
    ``<project>/data/cache``) and loaded from there next time; the cache is keyed by the source
    file, so a different archive is read afresh.
    """
    import datasets

    datasets.disable_progress_bars()
    source = locate_imdb(path)
    columns = None
    if cache:
        target = cache_dir() / f"imdb-{_source_key(source)}"
        if (target / "dataset_dict.json").is_file():
            return datasets.load_from_disk(str(target))
        columns = read_imdb(source)
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        _to_dataset_dict(columns).save_to_disk(str(tmp))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        return datasets.load_from_disk(str(target))
    return _to_dataset_dict(read_imdb(source))


def _to_dataset_dict(columns: dict[str, dict[str, list]]):
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("int32"),
            "rating": datasets.Value("int8"),
            "label": datasets.Value("int8"),
            "text": datasets.Value("string"),
        }
    )
    return datasets.DatasetDict(
        {s: datasets.Dataset.from_dict(c, features=features) for s, c in columns.items()}
    )


def tokenize_imdb(dataset_dict, tokenizer, *, num_proc: int | None = None):
    """Add ``tokens`` and ``num_tokens`` columns to every split with ``Dataset.map``.

    A dataset loaded from the cache keeps the tokenised column in its cache directory,
    fingerprinted by the tokenizer, so a re-run with the same tokenizer reads it back.
    """
    return dataset_dict.map(
        _tokenize_batch,
        batched=True,
        batch_size=1000,
        fn_kwargs={"tokenizer": tokenizer},
        num_proc=num_proc,
        desc="tokenise",
    )


def _tokenize_batch(batch: dict[str, list], tokenizer) -> dict[str, list]:
    tokens = [tokenizer(text) for text in batch["text"]]
    return {"tokens": tokens, "num_tokens": [len(t) for t in tokens]}
