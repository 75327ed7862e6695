"""Locating data on disk and downloading it safely when it is absent.

Data is looked for, in order, at an explicit path, under the directory named by the
environment variable ``RNNLIB_DATA``, and under ``data/`` in the project. Downloads go to a
temporary file beside the target and are renamed only once complete (and checksum-verified
when a checksum is known), so an interrupted download never leaves a file that looks valid.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

DATA_ENV = "RNNLIB_DATA"
CACHE_ENV = "RNNLIB_CACHE"
OFFLINE_ENV = "RNNLIB_OFFLINE"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DATA = PROJECT_ROOT / "data"


class DataNotFoundError(FileNotFoundError):
    """The data set is in none of the places looked at and cannot be downloaded."""


class CorruptDataError(ValueError):
    """A data file exists but is truncated, corrupt or not in the expected format."""


def candidate_roots(path: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for data, in order: ``path``, ``$RNNLIB_DATA``, ``<project>/data``."""
    roots: list[Path] = []
    if path is not None:
        roots.append(Path(path).expanduser())
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append(Path(env).expanduser())
    roots.append(PROJECT_DATA)
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def download_root(path: str | os.PathLike | None = None) -> Path:
    """Where a download is written: the explicit path if given, else ``<project>/data``."""
    return Path(path).expanduser() if path is not None else PROJECT_DATA


def cache_dir() -> Path:
    """Writable directory for derived files (parsed splits, tokenised text)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else PROJECT_DATA / "cache"


def downloads_allowed() -> bool:
    """False when the user (or CI) asked for offline operation."""
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return False
    return os.environ.get("CI", "").strip().lower() not in ("true", "1")


def not_found_message(what: str, looked_at: Sequence[Path], reason: str = "") -> str:
    places = "\n".join(f"  - {p}" for p in looked_at)
    why = f" {reason}" if reason else ""
    return (
        f"{what} was not found. Looked at:\n{places}\n"
        f"Set {DATA_ENV} to the directory that holds it (for example "
        f"`export {DATA_ENV}=../shared/data`), pass its path explicitly, or allow a download "
        f"(unset {OFFLINE_ENV} and CI).{why}"
    )


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` through a temporary ``dest.part`` file.

    The temporary file is renamed to ``dest`` only when the transfer is complete and, if
    given, its size and SHA-256 match; otherwise it is removed and an error is raised.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            total = size or int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        got = part.stat().st_size
        if size is not None and got != size:
            raise CorruptDataError(
                f"download of {url} is incomplete: {got} bytes, expected {size}. Run again."
            )
        if sha256 is not None:
            digest = sha256_of(part)
            if digest != sha256:
                raise CorruptDataError(
                    f"download of {url} has sha256 {digest}, expected {sha256}. "
                    "The file is corrupt or not the official one; run again."
                )
        os.replace(part, dest)
    except urllib.error.URLError as err:
        part.unlink(missing_ok=True)
        raise DataNotFoundError(
            f"could not download {url} ({err.reason}). Without network access, put a copy in "
            f"{dest.parent} or point {DATA_ENV} at a folder that holds one."
        ) from err
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest
