"""Data you can trust: verified downloads, complete copies, caches keyed and checked, clear errors.

Everything runs on the tiny fixtures or on synthetic copies in tmp_path; downloads are simulated
by replacing ``urllib.request.urlopen`` (nothing reaches the network).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tarfile
import threading
import urllib.request
import warnings
from pathlib import Path

import pytest

from rnnlib.data import (
    CorruptDataError,
    DataNotFoundError,
    load_imdb,
    load_scan,
    locate_imdb,
    locate_scan,
    read_imdb,
    read_scan_file,
    tokenize_imdb,
)
from rnnlib.data.scan import SCAN_SPLITS
from rnnlib.text import Tokenizer

# --------------------------------------------------------------------------- simulated network


class FakeResponse(io.BytesIO):
    """What ``urlopen`` returns: a readable body with ``headers``; ``stall_after`` bytes in, a
    read raises ``TimeoutError`` as a socket timeout does."""

    def __init__(self, body: bytes, headers: dict | None = None, stall_after: int | None = None):
        super().__init__(body)
        self.headers = headers or {}
        self.stall_after = stall_after

    def read(self, size=-1):
        if self.stall_after is not None and self.tell() >= self.stall_after:
            raise TimeoutError("timed out")
        return super().read(size)


def serve(monkeypatch, respond) -> list[str]:
    """Replace ``urlopen`` by ``respond(url) -> FakeResponse``; returns the URLs requested."""
    requested: list[str] = []

    def urlopen(url, timeout=None):
        requested.append(url)
        return respond(url)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return requested


# ------------------------------------------------------------------ 1. SCAN downloads verified


def test_scan_pins_cover_every_file_of_every_split():
    from rnnlib.data.scan import SCAN_FILES

    needed = {f"{folder}/{name}" for folder, *names in SCAN_SPLITS.values() for name in names}
    assert needed == set(SCAN_FILES)
    for size, digest in SCAN_FILES.values():
        assert size > 100_000 and re.fullmatch(r"[0-9a-f]{64}", digest)


@pytest.mark.data
@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_a_damaged_local_scan_copy_is_not_read(tmp_path, real_data, damage):
    folder = tmp_path / "SCAN" / "simple_split"
    folder.mkdir(parents=True)
    for name in ("tasks_train_simple.txt", "tasks_test_simple.txt"):
        data = (real_data / "SCAN" / "simple_split" / name).read_bytes()
        if name.startswith("tasks_train") and damage == "truncated":
            data = data[:100_000]  # cut mid-line
        elif name.startswith("tasks_train"):
            data = data.replace(b"I_JUMP", b"I_WALK", 1)  # one action changed in place
        (folder / name).write_bytes(data)
    expected = "100,000 bytes" if damage == "truncated" else "the same size, other bytes"
    with pytest.raises(CorruptDataError, match=rf"tasks_train_simple\.txt .*{expected}"):
        load_scan("simple", tmp_path)
    assert len(load_scan("simple", tmp_path, official=False)["test"]) == 4182


@pytest.mark.data
def test_scan_pins_match_the_official_files(real_data):
    from rnnlib.data.scan import SCAN_FILES

    for name, (size, digest) in SCAN_FILES.items():
        data = (real_data / "SCAN" / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest), name


@pytest.mark.parametrize(
    "body, headers",
    [
        # the first 3,266 of 3,267,938 bytes, from a server that announced no length
        (b"IN: jump OUT: I_JUMP\n" * 200, {}),
        # an error page served with status 200 and its own (correct) length
        (b"<!DOCTYPE html><html><body>Rate limit exceeded</body></html>\n", {}),
    ],
    ids=["truncated", "html-page"],
)
def test_a_wrong_scan_download_is_rejected_and_not_kept(monkeypatch, tmp_path, body, headers):
    body = body[:3266]
    if body.startswith(b"<!DOCTYPE"):
        headers = {"Content-Length": str(len(body))}
    serve(monkeypatch, lambda url: FakeResponse(body, headers))
    monkeypatch.setenv("RNNLIB_OFFLINE", "0")
    with pytest.raises(CorruptDataError, match=r"tasks_train_simple\.txt"):
        locate_scan("simple", tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    monkeypatch.setenv("RNNLIB_OFFLINE", "1")
    with pytest.raises(DataNotFoundError):  # nothing was kept that a later run would trust
        locate_scan("simple", tmp_path)


@pytest.mark.data
def test_the_official_scan_files_download_and_are_kept(monkeypatch, tmp_path, real_data):
    from rnnlib.data.scan import SCAN_BASE_URL

    def respond(url):
        data = (real_data / "SCAN" / url.removeprefix(SCAN_BASE_URL + "/")).read_bytes()
        return FakeResponse(data, {"Content-Length": str(len(data))})

    requested = serve(monkeypatch, respond)
    monkeypatch.setenv("RNNLIB_OFFLINE", "0")
    train, test = locate_scan("length", tmp_path)
    assert requested == [
        f"{SCAN_BASE_URL}/length_split/tasks_train_length.txt",
        f"{SCAN_BASE_URL}/length_split/tasks_test_length.txt",
    ]
    assert train == tmp_path / "SCAN" / "length_split" / "tasks_train_length.txt"
    assert (
        train.read_bytes() == (real_data / "SCAN/length_split/tasks_train_length.txt").read_bytes()
    )
    assert sorted(p.name for p in train.parent.iterdir()) == [test.name, train.name]


def test_download_compares_the_received_length_with_the_announced_one(monkeypatch, tmp_path):
    from rnnlib.data import download

    serve(monkeypatch, lambda url: FakeResponse(b"x" * 3000, {"Content-Length": "5000"}))
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(CorruptDataError, match=r"incomplete.*3000.*5000"):
        download("https://example.org/file.bin", dest)
    assert list(dest.parent.iterdir()) == []


# --------------------------------------------------------------- 2. incomplete copies rejected


def test_a_copy_without_test_neg_is_rejected_and_not_cached(monkeypatch, tmp_path, imdb_copy):
    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    shutil.rmtree(imdb_copy / "test" / "neg")
    with pytest.raises(CorruptDataError, match=r"aclImdb/test/neg has no reviews"):
        load_imdb(imdb_copy)
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(imdb_copy, arcname="aclImdb")
    with pytest.raises(CorruptDataError, match=r"aclImdb/test/neg has no reviews"):
        load_imdb(archive)
    assert not any(p.is_dir() for p in (tmp_path / "cache").glob("imdb-*"))


def test_a_copy_without_unlabelled_reviews_is_rejected(imdb_copy):
    shutil.rmtree(imdb_copy / "train" / "unsup")
    with pytest.raises(CorruptDataError, match=r"aclImdb/train/unsup has no reviews"):
        read_imdb(imdb_copy)


def test_the_official_data_set_must_have_its_official_sizes(imdb_copy):
    (imdb_copy / "README").write_text("Large Movie Review Dataset v1.0\n\nOverview\n")
    with pytest.raises(CorruptDataError) as err:
        read_imdb(imdb_copy)
    message = str(err.value)
    assert "aclImdb/train/pos has 3 reviews, expected 12,500" in message
    assert "aclImdb/train/unsup has 2 reviews, expected 50,000" in message
    assert "official=False" in message
    assert len(read_imdb(imdb_copy, official=False)["train"]["id"]) == 5


# -------------------------------------------------------------------- 3. cache keyed by content


def test_cache_sees_a_folder_removed_inside_the_copy(monkeypatch, tmp_path, imdb_copy):
    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    assert load_imdb(imdb_copy)["test"].num_rows == 3
    shutil.rmtree(imdb_copy / "test" / "neg")
    with pytest.raises(CorruptDataError, match="test/neg"):
        load_imdb(imdb_copy)


def test_cache_sees_an_edited_review(monkeypatch, tmp_path, imdb_copy):
    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    review = imdb_copy / "train" / "pos" / "0_9.txt"
    assert load_imdb(imdb_copy)["train"]["text"][2].startswith("A wonderful film.")
    stat = review.stat()
    review.write_text("Edited: a wonderful film.")
    os.utime(review, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_imdb(imdb_copy)["train"]["text"][2] == "Edited: a wonderful film."


def test_source_fingerprint_covers_every_file(tmp_path, imdb_copy):
    from rnnlib.data import source_fingerprint

    before = source_fingerprint(imdb_copy)
    assert source_fingerprint(imdb_copy) == before
    (imdb_copy / "test" / "pos" / "5_9.txt").write_text("Another good one.")
    assert source_fingerprint(imdb_copy) != before


# ------------------------------------------------------------------------ 4. cache verified


def _big_copy(root: Path, per_label: int = 1500) -> Path:
    """An aclImdb copy whose train split (2 * per_label reviews) spans several record batches."""
    copy = root / "aclImdb"
    for folder, count, rating in [
        ("train/pos", per_label, 9),
        ("train/neg", per_label, 2),
        ("test/pos", 1, 8),
        ("test/neg", 1, 1),
        ("train/unsup", 1, 0),
    ]:
        (copy / folder).mkdir(parents=True)
        for i in range(count):
            (copy / folder / f"{i}_{rating}.txt").write_text(f"review {i} of {folder}")
    return copy


def _replace(path: Path, data: bytes) -> None:
    """Overwrite through a new file, so a memory map of the old one stays valid."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _keep_first_rows(arrow_file: Path, rows: int) -> None:
    """Rewrite an Arrow stream file with only its first ``rows`` rows: what a file cut at a
    record-batch boundary reads as."""
    import pyarrow as pa

    reader = pa.ipc.open_stream(pa.py_buffer(arrow_file.read_bytes()))
    table = reader.read_all().slice(0, rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    _replace(arrow_file, sink.getvalue().to_pybytes())


def _cache_folder(tmp_path: Path) -> Path:
    (folder,) = [p for p in (tmp_path / "cache").glob("imdb-*") if p.is_dir()]
    return folder


def test_cache_cut_at_a_record_batch_boundary_is_rebuilt(monkeypatch, tmp_path):
    import pyarrow as pa

    from rnnlib.data import CorruptCacheWarning

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    copy = _big_copy(tmp_path / "data")
    assert load_imdb(copy)["train"].num_rows == 3000
    arrow_file = _cache_folder(tmp_path) / "train" / "data-00000-of-00001.arrow"
    assert len(list(pa.ipc.open_stream(pa.py_buffer(arrow_file.read_bytes())))) >= 3
    _keep_first_rows(arrow_file, 2000)
    with pytest.warns(CorruptCacheWarning, match=re.escape(str(_cache_folder(tmp_path)))):
        reloaded = load_imdb(copy)
    assert reloaded["train"].num_rows == 3000


@pytest.mark.parametrize(
    "damage",
    ["arrow-cut-in-the-middle", "state-json-cut", "dataset-dict-json-cut", "manifest-missing"],
)
def test_a_damaged_cache_is_reported_and_rebuilt(monkeypatch, tmp_path, imdb_copy, damage):
    from rnnlib.data import CorruptCacheWarning

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    first = load_imdb(imdb_copy)
    folder = _cache_folder(tmp_path)
    target = {
        "arrow-cut-in-the-middle": folder / "train" / "data-00000-of-00001.arrow",
        "state-json-cut": folder / "train" / "state.json",
        "dataset-dict-json-cut": folder / "dataset_dict.json",
        "manifest-missing": folder / "rnnlib-manifest.json",
    }[damage]
    if damage == "manifest-missing":
        target.unlink(missing_ok=True)
    else:
        _replace(target, target.read_bytes()[: target.stat().st_size // 2])
    with pytest.warns(CorruptCacheWarning, match=re.escape(str(folder))):
        again = load_imdb(imdb_copy)
    assert {s: d.num_rows for s, d in again.items()} == {"train": 5, "test": 3, "unsup": 2}
    assert again["train"]["text"][:] == first["train"]["text"][:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt cache is trusted without a word
        assert load_imdb(imdb_copy)["test"].num_rows == 3


def _tokenised_cache_file(dataset_dict, split: str) -> Path:
    (entry,) = dataset_dict[split].cache_files
    return Path(entry["filename"])


@pytest.mark.parametrize("damage", ["cut-in-the-middle", "fewer-rows"])
def test_a_damaged_tokenisation_cache_is_reported_and_redone(
    monkeypatch, tmp_path, imdb_copy, damage
):
    from rnnlib.data import CorruptCacheWarning

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    first = tokenize_imdb(load_imdb(imdb_copy), Tokenizer())
    cache_file = _tokenised_cache_file(first, "train")
    assert cache_file.name.startswith("cache-")
    if damage == "fewer-rows":
        _keep_first_rows(cache_file, 3)
    else:
        _replace(cache_file, cache_file.read_bytes()[: cache_file.stat().st_size // 2])
    with pytest.warns(CorruptCacheWarning, match=re.escape(str(cache_file.parent))) as record:
        again = tokenize_imdb(load_imdb(imdb_copy), Tokenizer())
    expected = "holds 3 rows, the split has 5" if damage == "fewer-rows" else "cannot be read"
    assert expected in str(record[0].message)
    assert again["train"]["tokens"][:] == first["train"]["tokens"][:]
    assert again["train"].num_rows == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tokenize_imdb(load_imdb(imdb_copy), Tokenizer())["train"].num_rows == 5


# ------------------------------------------------------------ 5. an explicit path is respected


def test_an_explicit_path_that_does_not_exist_is_an_error(monkeypatch, tmp_path, fixture_scan_root):
    monkeypatch.setenv("RNNLIB_DATA", str(fixture_scan_root))  # holds a valid copy of both
    missing = tmp_path / "nonexistent"
    with pytest.raises(DataNotFoundError, match=re.escape(str(missing))):
        load_imdb(missing)
    with pytest.raises(DataNotFoundError, match=re.escape(str(missing))):
        load_scan("simple", missing)


def test_an_explicit_path_is_the_only_place_searched(monkeypatch, tmp_path, fixture_scan_root):
    monkeypatch.setenv("RNNLIB_DATA", str(fixture_scan_root))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataNotFoundError) as err:
        locate_imdb(empty)
    assert str(empty / "aclImdb_v1.tar.gz") in str(err.value)
    assert str(fixture_scan_root) not in str(err.value)
    with pytest.raises(DataNotFoundError, match=re.escape(str(empty))) as err:
        locate_scan("simple", empty)
    assert f"Put it in {empty}" in str(err.value) and "Set RNNLIB_DATA" not in str(err.value)


def test_rnnlib_data_that_does_not_exist_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLIB_DATA", str(tmp_path / "typo"))
    with pytest.raises(DataNotFoundError, match=r"RNNLIB_DATA=.*typo is not an existing folder"):
        locate_imdb()


def test_loaders_say_which_copy_they_read(
    monkeypatch, tmp_path, fixture_imdb_dir, fixture_imdb_archive, fixture_scan_root
):
    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    assert load_imdb(fixture_imdb_dir).source == fixture_imdb_dir.resolve()
    tokenised = tokenize_imdb(load_imdb(fixture_imdb_dir), Tokenizer())
    assert tokenised.source == fixture_imdb_dir.resolve()
    assert load_imdb(fixture_imdb_archive).source == fixture_imdb_archive.resolve()
    monkeypatch.setenv("RNNLIB_DATA", str(fixture_scan_root))
    pairs = load_scan("simple", official=False)
    folder = (fixture_scan_root / "SCAN" / "simple_split").resolve()
    assert pairs.files == {
        "train": folder / "tasks_train_simple.txt",
        "test": folder / "tasks_test_simple.txt",
    }
    assert pairs.source == folder
    assert dict(pairs) == {"train": pairs["train"], "test": pairs["test"]}


# --------------------------------------------------------------- 7. clear messages and faults


def test_a_review_that_is_not_utf8_is_named(imdb_copy, tmp_path):
    (imdb_copy / "train" / "pos" / "0_9.txt").write_bytes(b"Great film \xff\xfe indeed")
    with pytest.raises(CorruptDataError, match=r"aclImdb/train/pos/0_9\.txt: not valid UTF-8"):
        read_imdb(imdb_copy)
    archive = tmp_path / "copy.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(imdb_copy, arcname="aclImdb")
    with pytest.raises(CorruptDataError, match=r"aclImdb/train/pos/0_9\.txt in .*copy\.tar\.gz"):
        read_imdb(archive)


def test_a_scan_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "tasks.txt"
    path.write_bytes(b"IN: jump OUT: I_JUMP\nIN: w\xffalk OUT: I_WALK\n")
    with pytest.raises(CorruptDataError, match=r"tasks\.txt:2: not valid UTF-8"):
        read_scan_file(path)


def test_a_review_without_tokens_is_named(monkeypatch, tmp_path, imdb_copy):
    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    (imdb_copy / "train" / "pos" / "1_10.txt").write_text("... ,; --")
    dataset_dict = load_imdb(imdb_copy)
    with pytest.raises(ValueError, match=r"aclImdb/train/pos/1_10\.txt \(review id 1 .*no tokens"):
        tokenize_imdb(dataset_dict, Tokenizer())


def test_an_unreadable_archive_says_permission_denied(monkeypatch, fixture_imdb_archive):
    archive = fixture_imdb_archive
    archive.chmod(0)
    try:
        if os.access(archive, os.R_OK):  # running as root: chmod does not stop reading
            real_open = tarfile.open

            def denied(name=None, *args, **kwargs):
                if name is not None and Path(name) == archive:
                    raise PermissionError(13, "Permission denied", str(name))
                return real_open(name, *args, **kwargs)

            monkeypatch.setattr(tarfile, "open", denied)
        with pytest.raises(PermissionError, match="permission denied") as err:
            read_imdb(archive)
    finally:
        archive.chmod(0o644)
    assert str(archive) in str(err.value)
    assert "corrupt" not in str(err.value) and "Delete" not in str(err.value)


@pytest.mark.parametrize("where", ["connect", "read"])
def test_a_stalled_download_is_a_clear_error(monkeypatch, tmp_path, where):
    from rnnlib.data import download

    url = "https://example.org/data/file.bin"

    def respond(url):
        if where == "connect":
            raise TimeoutError("timed out")
        return FakeResponse(b"x" * 5000, {"Content-Length": "9000"}, stall_after=1000)

    serve(monkeypatch, respond)
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(
        DataNotFoundError, match=rf"could not download {re.escape(url)} .*timed out"
    ):
        download(url, dest, timeout=5)
    assert list(dest.parent.iterdir()) == []


def test_two_builders_of_one_cache_do_not_collide(monkeypatch, tmp_path, imdb_copy):
    """Two loaders (threads here; processes alike) build the same cache at once: the second
    starts while the first is writing. Neither may fail or see a half-written cache."""
    import datasets

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    original = datasets.DatasetDict.save_to_disk
    first_written, second_written = threading.Event(), threading.Event()
    saves: list[str] = []

    def save_to_disk(self, path, *args, **kwargs):
        saves.append(str(path))
        original(self, path, *args, **kwargs)
        if len(saves) == 1:
            first_written.set()
            second_written.wait(timeout=1.5)  # let the other loader run meanwhile
        else:
            second_written.set()

    monkeypatch.setattr(datasets.DatasetDict, "save_to_disk", save_to_disk)
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def load(name):
        try:
            results[name] = load_imdb(imdb_copy)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    first = threading.Thread(target=load, args=("first",))
    first.start()
    assert first_written.wait(timeout=30)
    second = threading.Thread(target=load, args=("second",))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert errors == []
    for name in ("first", "second"):
        assert {s: d.num_rows for s, d in results[name].items()} == {
            "train": 5,
            "test": 3,
            "unsup": 2,
        }
        assert results[name]["train"]["text"][2].startswith("A wonderful film.")
    (folder,) = [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [folder, f"{folder}.lock"]


def test_a_folder_left_by_a_killed_build_is_removed(monkeypatch, tmp_path, imdb_copy):
    from rnnlib.data import imdb_cache_folder

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    target = imdb_cache_folder(imdb_copy)
    stale = target.with_name(f"{target.name}.partial-99999")  # as atomic_directory names it
    (stale / "train").mkdir(parents=True)
    assert load_imdb(imdb_copy)["train"].num_rows == 5
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name, f"{target.name}.lock"]


@pytest.mark.parametrize(
    "name",
    [
        "evil/aclImdb/train/pos/99_9.txt",
        "../aclImdb/train/pos/99_9.txt",
        "/aclImdb/train/pos/99_9.txt",
        "notes.txt",
    ],
)
def test_archive_members_outside_aclimdb_are_rejected(tmp_path, fixture_imdb_dir, name):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    payload = b"A planted review."
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fixture_imdb_dir, arcname="aclImdb")
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(CorruptDataError, match=re.escape(repr(name)) + ".* outside aclImdb/"):
        read_imdb(archive)


def test_duplicate_review_ids_are_rejected(tmp_path, imdb_copy):
    (imdb_copy / "train" / "pos" / "1_9.txt").write_text("Same id as 1_10.txt.")
    with pytest.raises(CorruptDataError, match=r"duplicate review id 1 in train/pos: .*1_10\.txt"):
        read_imdb(imdb_copy)
    (imdb_copy / "train" / "pos" / "1_9.txt").unlink()
    archive = tmp_path / "twice.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(imdb_copy, arcname="aclImdb")
        tar.add(imdb_copy / "test" / "neg" / "0_2.txt", arcname="aclImdb/test/neg/0_2.txt")
    with pytest.raises(CorruptDataError, match=r"duplicate review id 0 in test/neg"):
        read_imdb(archive)


@pytest.mark.parametrize(
    "value, allowed",
    [
        ("0", True),
        ("false", True),
        ("no", True),
        ("False", True),
        ("1", False),
        ("true", False),
        ("yes", False),
        ("TRUE", False),
    ],
)
def test_rnnlib_offline_reads_yes_and_no(monkeypatch, value, allowed):
    from rnnlib.data.fetch import downloads_allowed

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("RNNLIB_OFFLINE", value)
    assert downloads_allowed() is allowed


def test_rnnlib_offline_rejects_other_values(monkeypatch):
    from rnnlib.data.fetch import downloads_allowed

    monkeypatch.setenv("RNNLIB_OFFLINE", "maybe")
    with pytest.raises(ValueError, match=r"RNNLIB_OFFLINE='maybe'.*true.*false"):
        downloads_allowed()
