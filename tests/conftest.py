"""Shared fixtures. Tests never reach the network: downloads and the HF hub are switched off."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import pytest
import torch

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]

# Offline for everything the tests import (set before datasets is imported anywhere).
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["RNNLIB_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny test models gain nothing from threads, and spinning threads crawl on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _real_data_dir() -> Path | None:
    env = os.environ.get("RNNLIB_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for path in candidates:
        if (path / "aclImdb_v1.tar.gz").is_file() or (path / "aclImdb").is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Directory with the real IMDB archive and SCAN files; required under CI."""
    path = _real_data_dir()
    if path is None:
        message = (
            "real data not found: set RNNLIB_DATA to the folder holding aclImdb_v1.tar.gz and "
            "SCAN/ (for example ../shared/data)"
        )
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cache directory for the whole session, so the real IMDB is parsed only once."""
    path = Path(os.environ.get("RNNLIB_TEST_CACHE") or tmp_path_factory.mktemp("rnnlib-cache"))
    return path


@pytest.fixture
def fixture_imdb_dir() -> Path:
    return FIXTURES / "aclImdb"


@pytest.fixture
def imdb_copy(tmp_path) -> Path:
    """A private copy of the fixture's ``aclImdb/`` folder that a test may change."""
    copy = tmp_path / "copy" / "aclImdb"
    shutil.copytree(FIXTURES / "aclImdb", copy)
    return copy


@pytest.fixture
def fixture_imdb_archive(tmp_path) -> Path:
    """The tiny fixture tree packed as ``aclImdb_v1.tar.gz`` (same layout as the official one)."""
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURES / "aclImdb", arcname="aclImdb")
    return archive


@pytest.fixture
def fixture_scan_root() -> Path:
    return FIXTURES
