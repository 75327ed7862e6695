"""The Large Movie Review Dataset (aclImdb, Maas et al. 2011).

Reads ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` and ``aclImdb/train/unsup`` from an
extracted folder or straight from the ``.tar.gz``. Parsed splits are cached as a Hugging Face
``DatasetDict`` keyed by every source file, built under a file lock and verified on each load."""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
import re
import shutil
import tarfile
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from ..utils import atomic_directory
from .fetch import (
    CorruptCacheWarning,
    CorruptDataError,
    DataNotFoundError,
    StrPath,
    cache_dir,
    decode_utf8,
    download,
    locate,
)

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_SIZE = 84_125_825
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
LABELS = {"neg": 0, "pos": 1, "unsup": -1}
FOLDER_OF_LABEL = {label: folder for folder, label in LABELS.items()}
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
README = "aclImdb/README"
# aclImdb/<split>/urls_<label>.txt: line i is the IMDb page of the movie of review i.
_URLS = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg|unsup)\.txt$")
_MOVIE = re.compile(r"/title/(tt\d+)/")
# The columns of every split and their Arrow types ("movie": the IMDb id, "" when unknown).
COLUMN_TYPES = {
    "id": "int32", "rating": "int8", "label": "int8", "movie": "string", "text": "string"
}  # fmt: skip

# Review folders of the official data set and how many reviews each holds.
OFFICIAL_README = "Large Movie Review Dataset v1.0"
OFFICIAL_COUNTS = {f"{s}/{label}": 12_500 for s in ("train", "test") for label in ("neg", "pos")}
OFFICIAL_COUNTS["train/unsup"] = 50_000
# Bumped whenever what the cache holds, or how it is checked, changes.
CACHE_VERSION = 3
MANIFEST_NAME = "rnnlib-manifest.json"
LOCK_TIMEOUT_S = 30 * 60


def locate_imdb(path: StrPath | None = None) -> Path:
    """Path of an extracted ``aclImdb/`` folder or of ``aclImdb_v1.tar.gz``, given either or a
    folder holding either (see ``fetch.locate``); absent, the official archive is downloaded."""

    def places(root: Path) -> list[tuple[Path, Path | None]]:
        if root.is_file() and not root.name.endswith((".tar.gz", ".tgz")):
            raise DataNotFoundError(
                f"{root} is a file but not a .tar.gz archive; pass aclImdb_v1.tar.gz, the "
                "aclImdb folder, or the folder that holds either"
            )
        if root.is_file() or (root.is_dir() and root.name == "aclImdb"):
            return [(root, root)]
        return [(p, p if p.exists() else None) for p in (root / "aclImdb", root / ARCHIVE_NAME)]

    def fetch(root: Path) -> Path:
        return download(IMDB_URL, root / ARCHIVE_NAME, sha256=IMDB_SHA256, size=IMDB_SIZE)

    return locate(path, places, "The IMDB data set (aclImdb/ or aclImdb_v1.tar.gz)", fetch)


def _member_name(source: Path, member: tarfile.TarInfo) -> str:
    """The member's name relative to the archive root; ``CorruptDataError`` if it lies outside
    ``aclImdb/`` (absolute, ``..``, another top folder) or is a link posing as a review."""
    name = re.sub(r"^(?:\./)+", "", member.name)
    parts = PurePosixPath(name).parts
    if ".." in parts or parts[:1] != ("aclImdb",):
        problem = "lies outside aclImdb/; this is not the IMDB archive (or it was tampered with)"
    elif (member.issym() or member.islnk()) and _MEMBER.search(name):
        problem = "is a link, not a review file; this is not the official IMDB archive"
    else:
        return name
    raise CorruptDataError(
        f"{source}: archive member {member.name!r} {problem}. Use the official {ARCHIVE_NAME}."
    )


def _folder_files(source: Path) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    root = source.resolve()
    inside = functools.cache(lambda path: path.resolve().is_relative_to(root))
    readme = [source / "README"] if (source / "README").is_file() else []
    for file in readme + sorted(source.glob("*/urls_*.txt")) + sorted(source.glob("*/*/*.txt")):
        if not inside(file.parent) or (file.is_symlink() and not inside(file)):
            raise CorruptDataError(
                f"{file} is a link to {file.resolve()}, outside {source}; copy the file "
                "itself into the folder"
            )
        yield f"aclImdb/{file.relative_to(source).as_posix()}", str(file), file.read_bytes


def _archive_files(source: Path) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    with tarfile.open(source, "r:gz") as archive:
        for member in archive:
            name = _member_name(source, member)
            if member.isfile():
                yield name, f"{name} in {source}", archive.extractfile(member).read


def _iter_files(source: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(name, where, bytes)`` of every review, urls file and the README of a folder or
    archive: ``name`` like ``aclImdb/train/pos/0_9.txt``, ``where`` the file for a person."""
    files = _folder_files if source.is_dir() else _archive_files
    try:
        for name, where, read in files(source):
            if name == README or _MEMBER.search(name) or _URLS.search(name):
                yield name, where, read()
    except PermissionError as err:
        path = err.filename or source
        raise PermissionError(
            f"permission denied reading {path} ({err.strerror or err}). Make it readable "
            f"(e.g. `chmod a+r {path}`) or point RNNLIB_DATA at a copy you can read."
        ) from err
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        if source.is_dir():
            raise
        raise CorruptDataError(
            f"{source} is truncated or corrupt ({type(err).__name__}: {err}). Delete it and "
            "run again to download a fresh copy, or point RNNLIB_DATA at a good one."
        ) from err


def read_imdb(source: StrPath, *, official: bool | None = None) -> dict[str, dict[str, list]]:
    """All reviews as columns per split, ``{split: {"id", "rating", "label", "movie", "text"}}``,
    rows by (label, id). Each review folder must hold a review or, with ``official`` (default:
    the README says v1.0), its official count (12,500 per label and split, 50,000 unlabelled).
    ``CorruptDataError`` names what is missing, a duplicate id, a non-UTF-8 review, a member
    outside ``aclImdb/`` or a truncated archive; ``PermissionError`` an unreadable file."""
    source = Path(source)
    rows: dict[str, list[dict]] = {s: [] for s in ("train", "test", "unsup")}
    counts = dict.fromkeys(OFFICIAL_COUNTS, 0)
    seen: dict[tuple[str, int], str] = {}
    readme = ""
    movies: dict[str, list[str]] = {}  # "train/pos" -> movie id of each review id
    for name, where, data in _iter_files(source):
        if name == README:
            readme = data[:200].decode("utf-8", errors="replace")
            continue
        if urls := _URLS.search(name):
            lines = decode_utf8(data, where, "the file is damaged").splitlines()
            movies["/".join(urls.groups())] = [
                m.group(1) if (m := _MOVIE.search(line)) else "" for line in lines
            ]
            continue
        split, label, review_id, rating = _MEMBER.search(name).groups()
        folder, split = f"{split}/{label}", "unsup" if label == "unsup" else split
        text = decode_utf8(data, where, "the review file is damaged; use the official one.")
        row = {"id": int(review_id), "rating": int(rating), "label": LABELS[label], "text": text}
        if (key := (folder, row["id"])) in seen:
            raise CorruptDataError(
                f"{source}: duplicate review id {row['id']} in {folder}: {seen[key]} and "
                f"{name}; remove the extra file (one file per id) or use the official data."
            )
        seen[key] = name
        rows[split].append(row)
        counts[folder] += 1
    if official is None:
        official = readme.startswith(OFFICIAL_README)
    if official:
        problems = [
            f"aclImdb/{folder} has {counts[folder]:,} reviews, expected {n:,}"
            for folder, n in OFFICIAL_COUNTS.items()
            if counts[folder] != n
        ]
    else:
        problems = [f"aclImdb/{folder} has no reviews" for folder, n in counts.items() if n == 0]
    if problems:
        kind = "the official IMDB data set" if official else "an IMDB copy"
        fix = ", or pass official=False to accept a partial copy." if official else "."
        raise CorruptDataError(
            f"{source} is not the IMDB archive or is incomplete for {kind}: {'; '.join(problems)}. "
            f"Extract the archive again (or delete it and run again to download it){fix}"
        )
    for split, rs in rows.items():  # by (label, id); the movie of each where the urls file says it
        rs.sort(key=operator.itemgetter("label", "id"))
        for row in rs:
            known = movies.get(_folder(split, row["label"]), [])
            row["movie"] = known[row["id"]] if row["id"] < len(known) else ""
    return {s: {c: [r[c] for r in rs] for c in COLUMN_TYPES} for s, rs in rows.items()}


def _folder(split: str, label: int) -> str:
    return "train/unsup" if split == "unsup" else f"{split}/{FOLDER_OF_LABEL[label]}"


def source_fingerprint(source: StrPath) -> str:
    """Cache key of a data source (16 hex digits): the resolved path, and the size and
    modification time of an archive or of every file and folder inside a folder."""
    source = Path(source)
    digest = hashlib.sha256(f"{source.resolve()}".encode())
    if not source.is_dir():
        stat = source.stat()
        digest.update(f"|{stat.st_size}|{stat.st_mtime_ns}".encode())
    for dirpath, dirnames, filenames in os.walk(source):  # nothing for an archive
        dirnames.sort()
        for name in [*dirnames, *sorted(filenames)]:
            path = Path(dirpath, name)
            stat = path.lstat()
            rel = path.relative_to(source).as_posix()
            digest.update(f"\0{rel}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def load_imdb(path: StrPath | None = None, *, official: bool | None = None):
    """The IMDB splits (train, test, unsup) as a ``datasets.DatasetDict`` whose ``source`` is
    the copy read (``locate_imdb``; checks of ``read_imdb``), cached in ``imdb_cache_folder``;
    a cache that fails its check is reported (``CorruptCacheWarning``) and rebuilt."""
    import datasets
    from filelock import FileLock, Timeout

    datasets.disable_progress_bars()
    source = locate_imdb(path)
    target = imdb_cache_folder(source, official=official)
    target.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time per cache folder; the others wait, then read what it built.
    lock = target.with_name(target.name + ".lock")
    try:
        with FileLock(str(lock), timeout=LOCK_TIMEOUT_S):
            dataset_dict = _trusted(
                f"the IMDB cache {target}",
                lambda: _load_verified(target),
                lambda: _build(target, source, official),
                f"Rebuilding it from {source.resolve()}.",
            )
    except Timeout as err:
        raise TimeoutError(
            f"waited {LOCK_TIMEOUT_S} s for another process to finish building the IMDB cache "
            f"{target} (it holds {lock}); if no such process is running, delete {lock}"
        ) from err
    dataset_dict.source = source.resolve()
    return dataset_dict


def imdb_cache_folder(source: StrPath, *, official: bool | None = None) -> Path:
    """The cache folder of ``load_imdb`` for ``source``'s current contents (in ``cache_dir()``)."""
    key = f"{source_fingerprint(source)}|{official}|{CACHE_VERSION}"
    return cache_dir() / f"imdb-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _trusted(what: str, cached: Callable, rebuild: Callable, redo: str):
    """``cached()``, else ``rebuild()``, each ``(result, problem or None)``; a cached problem is
    a ``CorruptCacheWarning`` (``what``, ``redo``), a rebuilt one a ``CorruptDataError``."""
    result, problem = cached()
    if problem is not None:  # stacklevel 3: the caller of load_imdb or tokenize_imdb
        warnings.warn(f"{what} is unusable: {problem}. {redo}", CorruptCacheWarning, stacklevel=3)
    elif result is not None:
        return result
    result, problem = rebuild()
    if problem is not None:
        raise CorruptDataError(
            f"{what} failed its check right after it was written ({problem}); the disk may be "
            "full or failing"
        )
    return result


def _data_files(folder: Path) -> dict[str, int]:
    """``{relative path: size}`` of the files that ``save_to_disk`` wrote (not map caches)."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("cache-") and p.name != MANIFEST_NAME
    }


def _build(target: Path, source: Path, official: bool | None):
    """Parse ``source`` into ``target`` with a manifest of what it holds; read it back."""
    import datasets

    for stale in target.parent.glob(f"{target.name}.partial-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    with atomic_directory(target) as tmp:
        columns = read_imdb(source, official=official)
        types = datasets.Features({c: datasets.Value(t) for c, t in COLUMN_TYPES.items()})
        built = datasets.DatasetDict(
            {s: datasets.Dataset.from_dict(c, features=types) for s, c in columns.items()}
        )
        built.save_to_disk(str(tmp))
        manifest = {
            "format": "rnnlib-imdb-cache",  # its version is in the folder's name
            "source": str(source.resolve()),
            "rows": {split: ds.num_rows for split, ds in built.items()},
            "files": _data_files(tmp),
        }
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return _load_verified(target)


def _load_verified(target: Path):
    """``(DatasetDict, None)`` if the cache in ``target`` passes its manifest's checks,
    ``(None, None)`` if there is none, else ``(None, problem)``."""
    import datasets

    if not target.exists():
        return None, None
    if not (target / MANIFEST_NAME).is_file():
        return None, f"it has no {MANIFEST_NAME} (an interrupted or older build)"
    try:
        manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
        sizes = _data_files(target)
        wrong = [
            f"{name} ({sizes.get(name, 'missing')} bytes, expected {size})"
            for name, size in manifest["files"].items()
            if sizes.get(name) != size
        ]
        if wrong:
            return None, f"files differ from what was written: {', '.join(wrong[:3])}"
        dataset_dict = datasets.load_from_disk(str(target))
        rows = {split: ds.num_rows for split, ds in dataset_dict.items()}
    except Exception as err:  # any read error of a damaged cache: rebuild it
        return None, f"it cannot be read ({type(err).__name__}: {err})"
    if rows != manifest["rows"]:
        return None, f"it holds {rows} rows, but {manifest['rows']} were written"
    return dataset_dict, None


def _tokenize_split(split: str, dataset, tokenizer, num_proc: int | None, **options):
    """``(tokenised split, problem or None)``: ``Dataset.map`` adds ``tokens`` and
    ``num_tokens``; a result of the wrong size or without them is a problem."""
    result = dataset.map(
        _tokenize_batch,
        batched=True,
        batch_size=1000,
        fn_kwargs={"tokenizer": tokenizer, "split": split},
        num_proc=num_proc,
        desc=f"tokenise {split}",
        **options,
    )
    if result.num_rows != dataset.num_rows:
        return result, f"it holds {result.num_rows} rows, the split has {dataset.num_rows}"
    missing = {"tokens", "num_tokens"} - set(result.column_names)
    return result, f"it lacks the column(s) {sorted(missing)}" if missing else None


def _cached_tokenization(split: str, dataset, tokenizer, num_proc: int | None):
    """``_tokenize_split`` from ``map``'s cache where it has one; a cache that cannot be read is
    a problem (the tokenizer's own errors are raised)."""
    import pyarrow

    try:
        return _tokenize_split(split, dataset, tokenizer, num_proc)
    except (OSError, pyarrow.ArrowException) as err:
        return None, f"it cannot be read ({type(err).__name__}: {err})"


def tokenize_imdb(dataset_dict, tokenizer, *, num_proc: int | None = None):
    """Add ``tokens`` and ``num_tokens`` to every split with ``Dataset.map``, cached in the split's
    folder (keyed by the tokenizer) and checked when read back; a damaged cache is redone with a
    ``CorruptCacheWarning`` naming it. ``CorruptDataError`` names a review without tokens."""
    import datasets

    tokenised = datasets.DatasetDict()
    for split, dataset in dataset_dict.items():
        folders = sorted({str(Path(f["filename"]).parent) for f in dataset.cache_files})
        args = (split, dataset, tokenizer, num_proc)
        tokenised[split] = _trusted(
            f"the tokenised {split!r} split cached in {' and '.join(folders) or 'memory'}",
            functools.partial(_cached_tokenization, *args),
            functools.partial(_tokenize_split, *args, load_from_cache_file=False),
            "Tokenising it again.",
        )
    if hasattr(dataset_dict, "source"):
        tokenised.source = dataset_dict.source
    return tokenised


def check_tokenised(dataset_dict, splits: tuple[str, ...] = ("train", "test")) -> None:
    """``ValueError`` unless every split of ``splits`` is there with ``tokens`` and ``label``."""
    for split in splits:
        if split not in dataset_dict:
            raise ValueError(f"dataset_dict has no {split!r} split; it has {list(dataset_dict)}")
        if missing := {"tokens", "label"} - set(dataset_dict[split].column_names):
            raise ValueError(
                f"split {split!r} lacks column(s) {sorted(missing)}; tokenise it first with "
                "rnnlib.data.tokenize_imdb"
            )


def tokenised_rows(dataset, indices=None) -> tuple[list[list[str]], list[int]]:
    """``(tokens, labels)`` of the rows ``indices`` (sorted; default all) of a tokenised split,
    each column read once (iterating an Arrow column again re-reads it)."""
    part = dataset if indices is None or len(indices) == len(dataset) else dataset.select(indices)
    return list(part["tokens"]), [int(y) for y in part["label"]]


def _tokenize_batch(batch: dict[str, list], tokenizer, split: str = "?") -> dict[str, list]:
    tokens = []
    for i, text in enumerate(batch["text"]):
        try:
            toks = tokenizer(text)
            if not toks:
                raise ValueError(f"text {text[:60]!r} has no tokens")
        except ValueError as err:
            raise CorruptDataError(
                f"{_describe_review(batch, i, split)}: {err}; remove it from the data or check "
                "how it was read"
            ) from err
        tokens.append(toks)
    return {"tokens": tokens, "num_tokens": [len(t) for t in tokens]}


def _describe_review(batch: dict[str, list], i: int, split: str) -> str:
    """``aclImdb/train/pos/123_9.txt (review id 123 of the train split)``, from the row."""
    if not all(c in batch for c in ("id", "label", "rating")):
        return f"a review of the {split} split"
    review_id, label, rating = (batch[c][i] for c in ("id", "label", "rating"))
    where = f"review id {review_id} of the {split} split"
    if label not in FOLDER_OF_LABEL:
        return where
    return f"aclImdb/{_folder(split, label)}/{review_id}_{rating}.txt ({where})"
