"""Locating data on disk and downloading it safely when it is absent.

Data is looked for at an explicit path when one is given (and only there: a path that does
not exist is an error, never silently replaced), otherwise under the directory named by the
environment variable ``RNNLIB_DATA`` and then under ``data/`` in the project. Downloads go to a
temporary file beside the target and are renamed only once complete, their length equal to
what the server announced and, when known, to the pinned size and SHA-256, so an interrupted
or wrong download never leaves a file that looks valid.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
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

TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("0", "false", "no", "off")


class DataNotFoundError(FileNotFoundError):
    """The data set is in none of the places looked at and cannot be downloaded."""


class CorruptDataError(ValueError):
    """A data file exists but is truncated, corrupt or not in the expected format."""


class CorruptCacheWarning(UserWarning):
    """A derived file in the cache was unusable and is being rebuilt from the source data."""


def candidate_roots(path: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for data, in order.

    With an explicit ``path``, only ``[path]``: it must exist (``DataNotFoundError`` naming it
    otherwise), and ``RNNLIB_DATA`` is not consulted. Without one: ``$RNNLIB_DATA`` (which must
    exist when set) and then ``<project>/data``.
    """
    if path is not None:
        given = Path(path).expanduser()
        if not given.exists():
            raise DataNotFoundError(
                f"the data path {given} does not exist. Pass an existing file or folder, or "
                f"pass no path to use {DATA_ENV} and then {PROJECT_DATA}."
            )
        return [given]
    roots: list[Path] = []
    env = os.environ.get(DATA_ENV)
    if env:
        from_env = Path(env).expanduser()
        if not from_env.is_dir():
            raise DataNotFoundError(
                f"{DATA_ENV}={env} is not an existing folder. Point it at the folder that holds "
                f"the data (for example `export {DATA_ENV}=../shared/data`) or unset it."
            )
        roots.append(from_env)
    if PROJECT_DATA not in roots:
        roots.append(PROJECT_DATA)
    return roots


def download_root(path: str | os.PathLike | None = None) -> Path:
    """Where a download is written: the explicit path if given, else ``<project>/data``."""
    return Path(path).expanduser() if path is not None else PROJECT_DATA


def cache_dir() -> Path:
    """Writable directory for derived files (parsed splits, tokenised text)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else PROJECT_DATA / "cache"


def env_flag(name: str) -> bool | None:
    """The boolean value of environment variable ``name``: ``None`` when unset or empty.

    ``1/true/yes/on`` are true and ``0/false/no/off`` false (any case); anything else raises
    ``ValueError`` naming the variable and the allowed values.
    """
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ValueError(
        f"{name}={os.environ[name]!r} is not a yes/no value; use one of "
        f"{', '.join(TRUE_VALUES)} (true) or {', '.join(FALSE_VALUES)} (false)"
    )


def downloads_allowed() -> bool:
    """Whether data may be downloaded.

    ``RNNLIB_OFFLINE`` decides when set: ``1/true/yes`` means offline, ``0/false/no`` means
    downloads are allowed. When it is unset, downloads are off under CI (``CI=true`` or ``1``).
    """
    offline = env_flag(OFFLINE_ENV)
    if offline is not None:
        return not offline
    return os.environ.get("CI", "").strip().lower() not in ("true", "1")


def not_found_message(what: str, looked_at: Sequence[Path], reason: str = "") -> str:
    places = "\n".join(f"  - {p}" for p in looked_at)
    why = f" {reason}" if reason else ""
    return (
        f"{what} was not found. Looked at:\n{places}\n"
        f"Set {DATA_ENV} to the directory that holds it (for example "
        f"`export {DATA_ENV}=../shared/data`), pass its path explicitly, or allow a download "
        f"(RNNLIB_OFFLINE=0, or unset it outside CI).{why}"
    )


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


# Failures of the transfer itself (not of the disk we write to): unreachable host, HTTP error,
# a connection reset, a stalled server (socket timeout), a response cut short.
_TRANSFER_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` through a temporary file in the same folder.

    The temporary file is renamed to ``dest`` only when the transfer is complete: as long as
    the ``Content-Length`` the server announced and, if given, ``size`` (bytes) and ``sha256``
    (hex digest). Otherwise it is removed and ``CorruptDataError`` is raised (wrong length or
    checksum) or ``DataNotFoundError`` (the transfer failed or stalled for ``timeout`` seconds),
    both naming the URL.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: two processes downloading at once never share a file.
    part = dest.with_name(f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        with open(part, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            announced = int(announced) if announced and announced.isdigit() else None
            total = size or announced
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        got = part.stat().st_size
        if announced is not None and got != announced:
            raise CorruptDataError(
                f"download of {url} is incomplete: received {got} bytes, the server announced "
                f"{announced}. Run again."
            )
        if size is not None and got != size:
            raise CorruptDataError(
                f"download of {url} is incomplete or not the expected file: {got} bytes, "
                f"expected {size}. Run again."
            )
        if sha256 is not None:
            digest = sha256_of(part)
            if digest != sha256:
                raise CorruptDataError(
                    f"download of {url} has sha256 {digest}, expected {sha256}. "
                    "The file is corrupt or not the official one; run again."
                )
        os.replace(part, dest)
    except _TRANSFER_ERRORS as err:
        part.unlink(missing_ok=True)
        http_error = isinstance(err, urllib.error.HTTPError)
        reason = err if http_error else getattr(err, "reason", None) or err
        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError):
            reason = f"no data for {timeout:g} s: {reason}"
        raise DataNotFoundError(
            f"could not download {url} ({reason}). Without network access, put a copy in "
            f"{dest.parent} or point {DATA_ENV} at a folder that holds one."
        ) from err
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest
