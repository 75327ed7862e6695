"""Locating data on disk, downloading it safely when it is absent, reading UTF-8 text."""

import hashlib
import http.client
import io
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from tqdm.auto import tqdm

DATA_ENV = "RNNLIB_DATA"
CACHE_ENV = "RNNLIB_CACHE"
OFFLINE_ENV = "RNNLIB_OFFLINE"

PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"

TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("0", "false", "no", "off")
# How to make data available, said by every "not found" error.
HOW_TO_PROVIDE = f"(for example `export {DATA_ENV}=../shared/data`)"

T = TypeVar("T")
StrPath = str | os.PathLike


class DataNotFoundError(FileNotFoundError):
    """The data set is in none of the places looked at and cannot be downloaded."""


class CorruptDataError(ValueError):
    """A data file exists but is truncated, corrupt or not in the expected format."""


class CorruptCacheWarning(UserWarning):
    """A derived file in the cache was unusable and is being rebuilt from the source data."""


def candidate_roots(path: StrPath | None = None) -> list[Path]:
    """Folders searched for data: ``[path]`` when given, else ``$RNNLIB_DATA`` and
    ``<project>/data``; ``DataNotFoundError`` if ``path`` or ``$RNNLIB_DATA`` does not exist."""
    if path is not None:
        given = Path(path).expanduser()
        if not given.exists():
            raise DataNotFoundError(
                f"the data path {given} does not exist. Pass an existing file or folder, or "
                f"pass no path to use {DATA_ENV} and then {PROJECT_DATA}."
            )
        return [given]
    env = os.environ.get(DATA_ENV)
    if not env:
        return [PROJECT_DATA]
    from_env = Path(env).expanduser()
    if not from_env.is_dir():
        raise DataNotFoundError(
            f"{DATA_ENV}={env} is not an existing folder. Point it at the folder that holds "
            f"the data {HOW_TO_PROVIDE} or unset it."
        )
    return list(dict.fromkeys([from_env, PROJECT_DATA]))


def cache_dir() -> Path:
    """Writable directory for derived files: ``$RNNLIB_CACHE`` or ``<project>/data/cache``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else PROJECT_DATA / "cache"


def downloads_allowed() -> bool:
    """``not RNNLIB_OFFLINE`` when that is set, else off under CI (``CI=true`` or ``1``);
    ``ValueError`` for an ``RNNLIB_OFFLINE`` not in ``TRUE_VALUES`` or ``FALSE_VALUES``."""
    offline = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if not offline:
        return os.environ.get("CI", "").strip().lower() not in ("true", "1")
    if offline not in TRUE_VALUES + FALSE_VALUES:
        raise ValueError(
            f"{OFFLINE_ENV}={os.environ[OFFLINE_ENV]!r} is not a yes/no value; use one of "
            f"{', '.join(TRUE_VALUES)} (true) or {', '.join(FALSE_VALUES)} (false)"
        )
    return offline in FALSE_VALUES


def locate(
    path: StrPath | None,
    places: Callable[[Path], Iterable[tuple[Path, T | None]]],
    what: str,
    fetch: Callable[[Path], T],
) -> T:
    """The first result of ``places(root)`` (``(place, result or None)`` pairs) over
    ``candidate_roots(path)``; else ``fetch(path or <project>/data)`` if ``downloads_allowed()``;
    else ``DataNotFoundError`` listing the places looked at."""
    looked_at: list[Path] = []
    for root in candidate_roots(path):
        for place, result in places(root):
            looked_at.append(place)
            if result is not None:
                return result
    if not downloads_allowed():
        listed = "\n".join(f"  - {p}" for p in looked_at)
        if path is None:
            fix = f"Set {DATA_ENV} to the directory that holds it {HOW_TO_PROVIDE}, pass its path"
        else:  # the given path replaces RNNLIB_DATA
            fix = f"Put it in {Path(path).expanduser()}, pass the path that holds it instead"
        raise DataNotFoundError(
            f"{what} was not found. Looked at:\n{listed}\n{fix}, or allow a download "
            f"({OFFLINE_ENV}=0, or unset it outside CI)."
        )
    return fetch(Path(path).expanduser() if path is not None else PROJECT_DATA)


def decode_utf8(data: bytes, where: str, hint: str) -> str:
    """``data`` as UTF-8 text, else ``CorruptDataError`` naming ``where``, byte offset, ``hint``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorruptDataError(
            f"{where}: not valid UTF-8 ({err.reason} at byte {err.start}); {hint}"
        ) from err


def utf8_lines(path: StrPath, hint: str, data: bytes | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a UTF-8 file or its bytes ``data``; errors name ``path:line``."""
    with open(path, "rb") if data is None else io.BytesIO(data) as f:
        for number, raw in enumerate(f, start=1):
            yield number, decode_utf8(raw, f"{path}:{number}", hint)


# Failures of the transfer, not of our disk: no host, HTTP error, reset, stall, response cut short.
_TRANSFER_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` via a temporary file, renamed once it has the announced length
    and, if given, ``size`` bytes and hex ``sha256``; else ``CorruptDataError`` (wrong length or
    checksum) or ``DataNotFoundError`` (transfer failed or stalled ``timeout`` s) naming the URL."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: two processes downloading at once never share a file.
    part = dest.with_name(f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    digest = hashlib.sha256()
    try:
        with open(part, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            announced = int(announced) if announced and announced.isdigit() else None
            with tqdm(
                total=size or announced, unit="B", unit_scale=True, desc=f"download {dest.name}"
            ) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        got, hexdigest = part.stat().st_size, digest.hexdigest()
        checks = [
            (announced, got, f"received {got} bytes, the server announced {announced}"),
            (size, got, f"received {got} bytes, the official file has {size}"),
            (sha256, hexdigest, f"sha256 {hexdigest}, the official file's is {sha256}"),
        ]
        wrong = [message for expected, actual, message in checks if expected not in (None, actual)]
        if wrong:
            raise CorruptDataError(
                f"download of {url} is incomplete or not the official file: {'; '.join(wrong)}."
                " Run again."
            )
        os.replace(part, dest)
    except _TRANSFER_ERRORS as err:
        http_error = isinstance(err, urllib.error.HTTPError)
        reason = err if http_error else getattr(err, "reason", None) or err
        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError):
            reason = f"no data for {timeout:g} s: {reason}"
        raise DataNotFoundError(
            f"could not download {url} ({reason}). Without network access, put a copy "
            f"in {dest.parent} or point {DATA_ENV} at a folder that holds one."
        ) from err
    finally:
        part.unlink(missing_ok=True)  # nothing left once renamed
    return dest
