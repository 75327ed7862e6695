"""The Large Movie Review Dataset (aclImdb, Maas et al. 2011).

Reads the official layout ``aclImdb/{train,test}/{pos,neg}`` and ``aclImdb/train/unsup``, with
file names ``<id>_<rating>.txt``, either from an extracted directory or straight from the
``.tar.gz``. A copy is checked before it is used: the official one (its README says "Large
Movie Review Dataset v1.0") must hold 12,500 reviews in each labelled folder and 50,000
unlabelled ones; any other copy (a test fixture, a sample) at least every split, with both
labels. Duplicate review ids and archive members outside ``aclImdb/`` are rejected.

Parsed splits are kept as a Hugging Face ``DatasetDict`` saved on disk, so that a later run (and
tokenisation with ``Dataset.map``) reuses them instead of reading 100,000 files. The cache is
keyed by every source file's path, size and modification time (for an archive, the archive's),
is built under a file lock by one process at a time, and is verified against a manifest (file
sizes, row counts) each time it is loaded; a damaged cache is reported and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tarfile
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .fetch import (
    CorruptCacheWarning,
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
FOLDER_OF_LABEL = {label: folder for folder, label in LABELS.items()}
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
COLUMNS = ("id", "rating", "label", "text")

# Review folders of the official data set and how many reviews each holds.
OFFICIAL_README = "Large Movie Review Dataset v1.0"
OFFICIAL_COUNTS = {
    "train/neg": 12_500,
    "train/pos": 12_500,
    "test/neg": 12_500,
    "test/pos": 12_500,
    "train/unsup": 50_000,
}
# Bumped whenever what the cache holds, or how it is checked, changes.
CACHE_VERSION = 2
MANIFEST_NAME = "rnnlib-manifest.json"
LOCK_TIMEOUT_S = 30 * 60


def locate_imdb(
    path: str | os.PathLike | None = None, *, allow_download: bool | None = None
) -> Path:
    """Path of an extracted ``aclImdb/`` directory or of ``aclImdb_v1.tar.gz``.

    ``path`` may be the archive itself, the ``aclImdb`` directory, or a directory holding
    either. A ``path`` that is given must exist and is the only place searched
    (``DataNotFoundError`` naming it otherwise); without one, ``$RNNLIB_DATA`` and then
    ``<project>/data`` are searched. When nothing is found, the official archive is downloaded
    (size and SHA-256 verified) into ``path`` or ``<project>/data`` unless downloads are
    disabled (``RNNLIB_OFFLINE=1`` or CI).
    """
    looked_at: list[Path] = []
    for root in candidate_roots(path):
        if root.is_file():
            if root.name.endswith((".tar.gz", ".tgz")):
                return root
            raise DataNotFoundError(
                f"{root} is a file but not a .tar.gz archive; pass aclImdb_v1.tar.gz, the "
                "aclImdb folder, or the folder that holds either"
            )
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


def _record(name: str, text: bytes, where: str) -> tuple[str, dict] | None:
    """``(split, record)`` for a review file called ``name``; ``where`` names it in errors."""
    match = _MEMBER.search(name)
    if match is None:
        return None
    split, folder, review_id, rating = match.groups()
    if folder == "unsup":
        split = "unsup"
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorruptDataError(
            f"{where}: not valid UTF-8 ({err.reason} at byte {err.start}); the review file is "
            "damaged. Replace it with the official one (or re-extract the archive)."
        ) from err
    return split, {
        "id": int(review_id),
        "rating": int(rating),
        "label": LABELS[folder],
        "text": decoded,
    }


def _permission_error(path: Path, err: OSError) -> PermissionError:
    return PermissionError(
        f"permission denied reading {path} ({err.strerror or err}). Make it readable "
        f"(e.g. `chmod a+r {path}`) or point RNNLIB_DATA at a copy you can read."
    )


def _member_name(source: Path, member: tarfile.TarInfo) -> str:
    """The member's name relative to the archive root; ``CorruptDataError`` if it lies outside
    ``aclImdb/`` (absolute, ``..``, another top folder) or is a link posing as a review."""
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or not parts or parts[0] != "aclImdb":
        raise CorruptDataError(
            f"{source}: archive member {member.name!r} lies outside aclImdb/; this is not the "
            "IMDB archive (or it was tampered with). Use the official aclImdb_v1.tar.gz."
        )
    if (member.issym() or member.islnk()) and _MEMBER.search(name):
        raise CorruptDataError(
            f"{source}: archive member {member.name!r} is a link, not a review file; this is "
            "not the official IMDB archive"
        )
    return name


def _iter_files(source: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(name, where, bytes)`` for every review file and the README of a copy: ``name`` is
    relative to the folder holding ``aclImdb/`` (``aclImdb/train/pos/0_9.txt``) and ``where``
    names the file for a person (its path, or the member and the archive)."""
    if source.is_dir():
        root = source.resolve()
        files = [source / "README"] if (source / "README").is_file() else []
        files += sorted(source.glob("*/*/*.txt"))
        inside: dict[Path, bool] = {}  # folder -> whether it really lies inside the copy
        for file in files:
            if file.parent not in inside:
                inside[file.parent] = file.parent.resolve().is_relative_to(root)
            if not inside[file.parent] or (
                file.is_symlink() and not file.resolve().is_relative_to(root)
            ):
                raise CorruptDataError(
                    f"{file} is a link to {file.resolve()}, outside {source}; copy the file "
                    "itself into the folder"
                )
            try:
                data = file.read_bytes()
            except PermissionError as err:
                raise _permission_error(file, err) from err
            yield f"aclImdb/{file.relative_to(source).as_posix()}", str(file), data
        return
    try:
        with tarfile.open(source, "r:gz") as archive:
            for member in archive:
                name = _member_name(source, member)
                if not member.isfile() or (
                    name != "aclImdb/README" and _MEMBER.search(name) is None
                ):
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    yield name, f"{name} in {source}", handle.read()
    except PermissionError as err:
        raise _permission_error(source, err) from err
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise _corrupt_archive(source, err) from err


def _corrupt_archive(source: Path, err: BaseException) -> CorruptDataError:
    return CorruptDataError(
        f"{source} is truncated or corrupt ({type(err).__name__}: {err}). Delete it and "
        "run again to download a fresh copy, or point RNNLIB_DATA at a good one."
    )


def iter_imdb(source: str | os.PathLike) -> Iterator[tuple[str, dict]]:
    """Yield ``(split, record)`` for every review file in a directory or a ``.tar.gz``.

    Raises ``CorruptDataError`` naming the file for a review that is not UTF-8, an archive
    member outside ``aclImdb/``, or a truncated archive; ``PermissionError`` ("permission
    denied") when the data cannot be read.
    """
    for name, where, data in _iter_files(Path(source)):
        rec = _record(name, data, where)
        if rec is not None:
            yield rec


def read_imdb(
    source: str | os.PathLike, *, official: bool | None = None
) -> dict[str, dict[str, list]]:
    """All reviews as columns per split: ``{split: {"id", "rating", "label", "text"}}``.

    Rows are ordered by (label, id) within each split so the result does not depend on the
    order of files in the archive. The copy must be complete: with ``official`` (by default,
    when its README says it is v1.0) every review folder must hold the official number of
    reviews (12,500 per label and split, 50,000 unlabelled); otherwise every split must be
    present, train and test with both labels. ``CorruptDataError`` names what is missing, and
    any duplicate review id (two files of one folder with the same id).
    """
    source = Path(source)
    rows: dict[str, list[dict]] = {s: [] for s in SPLITS}
    counts = dict.fromkeys(OFFICIAL_COUNTS, 0)
    seen: dict[tuple[str, int, int], str] = {}
    readme = ""
    for name, where, data in _iter_files(source):
        if name == "aclImdb/README":
            readme = data[:200].decode("utf-8", errors="replace")
            continue
        rec = _record(name, data, where)
        if rec is None:
            continue
        split, row = rec
        key = (split, row["label"], row["id"])
        if key in seen:
            raise CorruptDataError(
                f"{source}: duplicate review id {row['id']} in {_folder(split, row['label'])}: "
                f"{seen[key]} and {name}. A copy of the data set has one file per id; remove "
                "the extra file or use the official data."
            )
        seen[key] = name
        rows[split].append(row)
        counts[_folder(split, row["label"])] += 1
    if not rows["train"] and not rows["test"]:
        raise CorruptDataError(
            f"{source} holds no aclImdb/train or aclImdb/test reviews "
            f"(found {', '.join(f'{s}: {len(r)}' for s, r in rows.items())}); "
            "it is not the IMDB archive or it is incomplete"
        )
    if official is None:
        official = readme.startswith(OFFICIAL_README)
    if official:
        problems = [
            f"aclImdb/{folder} has {counts[folder]:,} reviews, expected {expected:,}"
            for folder, expected in OFFICIAL_COUNTS.items()
            if counts[folder] != expected
        ]
    else:
        problems = [f"aclImdb/{folder} has no reviews" for folder, n in counts.items() if n == 0]
    if problems:
        kind = "the official IMDB data set" if official else "an IMDB copy"
        raise CorruptDataError(
            f"{source} is incomplete for {kind}: {'; '.join(problems)}. Extract the archive "
            "again (or delete it and run again to download it)"
            + (", or pass official=False to accept a partial copy." if official else ".")
        )
    columns: dict[str, dict[str, list]] = {}
    for split, recs in rows.items():
        recs.sort(key=lambda r: (r["label"], r["id"]))
        columns[split] = {c: [r[c] for r in recs] for c in COLUMNS}
    return columns


def _folder(split: str, label: int) -> str:
    """``"train/pos"``, ``"test/neg"``, ``"train/unsup"``: the folder of a review."""
    return "train/unsup" if split == "unsup" else f"{split}/{FOLDER_OF_LABEL[label]}"


def review_path(split: str, label: int, review_id: int, rating: int) -> str:
    """Where a review comes from, e.g. ``aclImdb/train/pos/123_9.txt``."""
    return f"aclImdb/{_folder(split, label)}/{review_id}_{rating}.txt"


def source_fingerprint(source: str | os.PathLike) -> str:
    """Cache key of a data source (16 hex digits).

    For an archive: its resolved path, size and modification time. For a folder: the same of
    every file and folder inside it, so removing, adding or editing any file changes the key.
    """
    source = Path(source)
    digest = hashlib.sha256(f"{source.resolve()}".encode())
    if source.is_dir():
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            for name in [*dirnames, *sorted(filenames)]:
                path = Path(dirpath, name)
                stat = path.lstat()
                rel = path.relative_to(source).as_posix()
                digest.update(f"\0{rel}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    else:
        stat = source.stat()
        digest.update(f"|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def load_imdb(
    path: str | os.PathLike | None = None,
    *,
    cache: bool = True,
    official: bool | None = None,
):
    """The IMDB splits (train, test, unsup) as a ``datasets.DatasetDict``.

    The result's ``source`` attribute is the resolved path of the copy that was read (the
    ``aclImdb`` folder or the archive); see ``locate_imdb`` for where it is looked for and
    ``read_imdb`` for the checks (and ``official``). With ``cache`` the parsed splits are saved
    under the cache directory (``RNNLIB_CACHE`` or ``<project>/data/cache``) and loaded from
    there next time; the cache is keyed by ``source_fingerprint``, so a changed source is read
    afresh, and one that fails its check (``CorruptCacheWarning``) is rebuilt.
    """
    import datasets

    datasets.disable_progress_bars()
    source = locate_imdb(path)
    if cache:
        dataset_dict = _cached_imdb(source, official)
    else:
        dataset_dict = _to_dataset_dict(read_imdb(source, official=official))
    dataset_dict.source = source.resolve()
    return dataset_dict


def imdb_cache_folder(source: str | os.PathLike, *, official: bool | None = None) -> Path:
    """The cache folder that ``load_imdb`` uses for ``source`` (its current contents)."""
    key = f"{source_fingerprint(source)}|{official}|{CACHE_VERSION}"
    return cache_dir() / f"imdb-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _cached_imdb(source: Path, official: bool | None):
    from filelock import FileLock, Timeout

    target = imdb_cache_folder(source, official=official)
    target.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time per cache folder; the others wait, then read what it built.
    lock = target.with_name(target.name + ".lock")
    try:
        with FileLock(str(lock), timeout=LOCK_TIMEOUT_S):
            return _build_or_load(target, source, official)
    except Timeout as err:
        raise TimeoutError(
            f"waited {LOCK_TIMEOUT_S} s for another process to finish building the IMDB cache "
            f"{target} (it holds {lock}); if no such process is running, delete {lock}"
        ) from err


def _build_or_load(target: Path, source: Path, official: bool | None):
    """Under the cache lock: the verified cache in ``target``, built first if need be."""
    dataset_dict = _load_verified(target, source)
    if dataset_dict is not None:
        return dataset_dict
    for stale in target.parent.glob(f"{target.name}.tmp-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        built = _to_dataset_dict(read_imdb(source, official=official))
        built.save_to_disk(str(tmp))
        _write_manifest(tmp, source, built)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dataset_dict = _load_verified(target, source)
    if dataset_dict is None:
        raise CorruptDataError(
            f"the IMDB cache {target} failed its check right after it was written; the "
            "disk may be full or failing"
        )
    return dataset_dict


def _data_files(folder: Path) -> dict[str, int]:
    """``{relative path: size}`` of the files that ``save_to_disk`` wrote (not map caches)."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("cache-") and p.name != MANIFEST_NAME
    }


def _write_manifest(folder: Path, source: Path, dataset_dict) -> None:
    """Written last: what the folder must hold for the cache to be trusted."""
    manifest = {
        "format": "rnnlib-imdb-cache",
        "version": CACHE_VERSION,
        "source": str(source.resolve()),
        "rows": {split: ds.num_rows for split, ds in dataset_dict.items()},
        "files": _data_files(folder),
    }
    tmp = folder / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_NAME)


def _load_verified(target: Path, source: Path):
    """The cached ``DatasetDict`` in ``target`` if it passes its manifest's checks; ``None``
    (after a ``CorruptCacheWarning`` naming the folder, and removing it) if it does not."""
    import datasets

    if not target.exists():
        return None
    problem = None
    try:
        manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
        if manifest.get("version") != CACHE_VERSION:
            problem = f"it was written by cache version {manifest.get('version')}"
        else:
            wrong = []
            for name, size in manifest["files"].items():
                file = target / name
                actual = file.stat().st_size if file.is_file() else None
                if actual != size:
                    wrong.append(
                        f"{name} ({actual if actual is not None else 'missing'} "
                        f"bytes, expected {size})"
                    )
            if wrong:
                problem = f"files differ from what was written: {', '.join(wrong[:3])}"
    except FileNotFoundError:
        problem = f"it has no {MANIFEST_NAME} (an interrupted or older build)"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        problem = f"its {MANIFEST_NAME} is unreadable ({type(err).__name__}: {err})"
    if problem is None:
        try:
            dataset_dict = datasets.load_from_disk(str(target))
            rows = {split: ds.num_rows for split, ds in dataset_dict.items()}
            if rows != manifest["rows"]:
                problem = f"it holds {rows} rows, but {manifest['rows']} were written"
        except Exception as err:  # any read error of a damaged cache: rebuild it
            problem = f"it cannot be read ({type(err).__name__}: {err})"
    if problem is None:
        return dataset_dict
    warnings.warn(
        f"the IMDB cache {target} is unusable: {problem}. Rebuilding it from {source.resolve()}.",
        CorruptCacheWarning,
        stacklevel=5,
    )
    shutil.rmtree(target, ignore_errors=True)
    return None


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
    fingerprinted by the tokenizer, so a re-run with the same tokenizer reads it back. That
    cached result is checked (its row count, and that it can be read at all); a damaged one is
    reported (``CorruptCacheWarning`` naming the folder) and tokenised again. A review without
    tokens is a ``CorruptDataError`` naming it (``aclImdb/train/pos/123_9.txt``). The result
    keeps the ``source`` attribute that ``load_imdb`` set.
    """
    import datasets

    result = {}
    for split, dataset in dataset_dict.items():
        result[split] = _tokenize_split(dataset, split, tokenizer, num_proc)
    tokenised = datasets.DatasetDict(result)
    if getattr(dataset_dict, "source", None) is not None:
        tokenised.source = dataset_dict.source
    return tokenised


def _tokenize_split(dataset, split: str, tokenizer, num_proc: int | None):
    import pyarrow

    options = dict(
        batched=True,
        batch_size=1000,
        fn_kwargs={"tokenizer": tokenizer, "split": split},
        num_proc=num_proc,
        desc=f"tokenise {split}",
    )
    folders = sorted({str(Path(f["filename"]).parent) for f in dataset.cache_files})
    where = " and ".join(folders) or "memory"
    try:
        result = dataset.map(_tokenize_batch, **options)
        problem = _check_tokenized(dataset, result)
    except (OSError, pyarrow.ArrowException) as err:  # a damaged cache file (not the tokenizer)
        problem = f"it cannot be read ({type(err).__name__}: {err})"
    if problem is None:
        return result
    warnings.warn(
        f"the tokenised {split!r} split cached in {where} is unusable: {problem}. "
        "Tokenising it again.",
        CorruptCacheWarning,
        stacklevel=3,
    )
    result = dataset.map(_tokenize_batch, load_from_cache_file=False, **options)
    problem = _check_tokenized(dataset, result)
    if problem is not None:
        raise CorruptDataError(
            f"tokenising the {split!r} split again (in {where}) still gives a bad result: "
            f"{problem}; the disk may be full or failing"
        )
    return result


def _check_tokenized(dataset, result) -> str | None:
    if result.num_rows != dataset.num_rows:
        return f"it holds {result.num_rows} rows, the split has {dataset.num_rows}"
    missing = {"tokens", "num_tokens"} - set(result.column_names)
    if missing:
        return f"it lacks the column(s) {sorted(missing)}"
    return None


def _tokenize_batch(batch: dict[str, list], tokenizer, split: str = "?") -> dict[str, list]:
    tokens = []
    for i, text in enumerate(batch["text"]):
        try:
            toks = tokenizer(text)
            if not toks:
                raise ValueError(f"text {text[:60]!r} has no tokens")
        except ValueError as err:
            raise CorruptDataError(f"{_describe_review(batch, i, split)}: {err}") from err
        tokens.append(toks)
    return {"tokens": tokens, "num_tokens": [len(t) for t in tokens]}


def _describe_review(batch: dict[str, list], i: int, split: str) -> str:
    """``aclImdb/train/pos/123_9.txt (review id 123 of the train split)``, from the row."""
    if all(c in batch for c in ("id", "label", "rating")):
        review_id, label, rating = batch["id"][i], batch["label"][i], batch["rating"][i]
        if label in FOLDER_OF_LABEL:
            path = review_path(split, label, review_id, rating)
            return f"{path} (review id {review_id} of the {split} split)"
        return f"review id {review_id} of the {split} split"
    return f"a review of the {split} split"
