"""Readers, locating rules, downloads and bad input, on the tiny fixtures in tests/fixtures."""

import hashlib

import pytest

from rnnlib.data import (
    CorruptDataError,
    DataNotFoundError,
    download,
    load_imdb,
    load_scan,
    locate_imdb,
    locate_scan,
    parse_scan_line,
    read_imdb,
    read_scan_file,
)


def _check_fixture_columns(columns):
    assert {s: len(c["text"]) for s, c in columns.items()} == {"train": 5, "test": 3, "unsup": 2}
    train = columns["train"]
    assert train["label"] == [0, 0, 1, 1, 1]
    assert train["rating"] == [1, 3, 9, 10, 7]
    assert train["id"] == [0, 1, 0, 1, 2]
    assert train["text"][2].startswith("A wonderful film.<br />")
    assert columns["unsup"]["label"] == [-1, -1] and columns["unsup"]["rating"] == [0, 0]


def test_read_imdb_from_directory(fixture_imdb_dir):
    _check_fixture_columns(read_imdb(fixture_imdb_dir))


def test_read_imdb_from_archive_matches_directory(fixture_imdb_archive, fixture_imdb_dir):
    assert read_imdb(fixture_imdb_archive) == read_imdb(fixture_imdb_dir)


def test_truncated_archive_is_reported_as_corrupt(fixture_imdb_archive, tmp_path):
    data = fixture_imdb_archive.read_bytes()
    broken = tmp_path / "broken" / "aclImdb_v1.tar.gz"
    broken.parent.mkdir()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match="truncated or corrupt"):
        read_imdb(broken)


def test_archive_without_reviews_is_rejected(tmp_path):
    import tarfile

    other = tmp_path / "other.tar.gz"
    (tmp_path / "x.txt").write_text("hello")
    with tarfile.open(other, "w:gz") as tar:
        tar.add(tmp_path / "x.txt", arcname="x.txt")
    with pytest.raises(CorruptDataError, match="not the IMDB archive"):
        read_imdb(other)


def test_locate_prefers_explicit_path_then_environment(monkeypatch, tmp_path, fixture_imdb_dir):
    monkeypatch.setenv("RNNLIB_DATA", str(fixture_imdb_dir.parent))
    assert locate_imdb() == fixture_imdb_dir
    explicit = tmp_path / "aclImdb_v1.tar.gz"
    explicit.write_bytes(b"")
    assert locate_imdb(tmp_path) == explicit


def test_missing_data_lists_the_places_and_the_variable(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("RNNLIB_DATA", str(empty))
    with pytest.raises(DataNotFoundError) as err:
        locate_imdb()
    message = str(err.value)
    assert str(empty / "aclImdb") in message and str(empty / "aclImdb_v1.tar.gz") in message
    assert "RNNLIB_DATA" in message
    with pytest.raises(DataNotFoundError, match="RNNLIB_DATA"):
        locate_scan("simple")
    # An explicit path is searched alone, and the message lists what was looked at there.
    given = tmp_path / "given"
    given.mkdir()
    with pytest.raises(DataNotFoundError) as err:
        locate_imdb(given)
    assert str(given / "aclImdb_v1.tar.gz") in str(err.value)
    assert str(empty) not in str(err.value)


def test_downloads_are_off_under_ci(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNLIB_OFFLINE", raising=False)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("RNNLIB_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError):
        locate_imdb(tmp_path)


def test_load_imdb_caches_the_parsed_splits(monkeypatch, tmp_path, fixture_imdb_archive):
    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    first = load_imdb(fixture_imdb_archive)
    assert first["train"].num_rows == 5 and first["unsup"].num_rows == 2
    cached = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert len(cached) == 1 and (cached[0] / "dataset_dict.json").is_file()
    assert (cached[0] / "rnnlib-manifest.json").is_file()
    second = load_imdb(fixture_imdb_archive)
    assert second["test"]["text"][:] == first["test"]["text"][:]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        cached[0].name,
        cached[0].name + ".lock",
    ]


def test_download_verifies_and_renames_only_when_complete(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 5000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    dest = tmp_path / "out" / "file.bin"
    download(source.as_uri(), dest, sha256=digest, size=5000)
    assert dest.read_bytes() == source.read_bytes()
    assert not (tmp_path / "out" / "file.bin.part").exists()


@pytest.mark.parametrize("kwargs", [{"sha256": "0" * 64}, {"size": 4999}])
def test_failed_verification_leaves_nothing_behind(tmp_path, kwargs):
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 5000)
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(CorruptDataError):
        download(source.as_uri(), dest, **kwargs)
    assert list((tmp_path / "out").iterdir()) == []


def test_parse_scan_line():
    assert parse_scan_line("IN: jump left OUT: I_TURN_LEFT I_JUMP\n") == (
        ["jump", "left"],
        ["I_TURN_LEFT", "I_JUMP"],
    )


@pytest.mark.parametrize(
    "line",
    ["IN: jump left I_TURN_LEFT I_JUMP", "jump OUT: I_JUMP", "IN: OUT: I_JUMP", "IN: jump OUT:"],
)
def test_bad_scan_lines_are_clear_errors(line):
    with pytest.raises(CorruptDataError):
        parse_scan_line(line)


def test_scan_file_error_names_file_and_line(tmp_path):
    path = tmp_path / "tasks.txt"
    path.write_text("IN: jump OUT: I_JUMP\nIN: walk I_WALK\n")
    with pytest.raises(CorruptDataError, match=r"tasks.txt:2"):
        read_scan_file(path)


def test_load_scan_from_fixture(fixture_scan_root):
    pairs = load_scan("simple", fixture_scan_root, official=False)
    assert len(pairs["train"]) == 5 and len(pairs["test"]) == 2
    assert pairs["train"][1] == (["jump", "left"], ["I_TURN_LEFT", "I_JUMP"])


def test_load_scan_reads_only_the_published_files_unless_told_otherwise(fixture_scan_root):
    train = fixture_scan_root / "SCAN" / "simple_split" / "tasks_train_simple.txt"
    size = train.stat().st_size
    with pytest.raises(CorruptDataError) as err:
        load_scan("simple", fixture_scan_root)
    message = str(err.value)
    assert str(train) in message and f"{size:,} bytes" in message and "3,267,938" in message
    assert "official=False" in message


def test_unknown_scan_split_lists_the_known_ones():
    with pytest.raises(ValueError, match="simple"):
        locate_scan("jump-split")


def test_tokenize_imdb_adds_tokens_and_reuses_its_cache(monkeypatch, tmp_path, fixture_imdb_dir):
    from rnnlib.data import tokenize_imdb
    from rnnlib.text import Tokenizer

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    dd = load_imdb(fixture_imdb_dir)
    first = tokenize_imdb(dd, Tokenizer())
    row = first["train"][2]
    assert row["tokens"] == ["a", "wonderful", "film", "i", "loved", "it", "!"]
    assert row["num_tokens"] == 7
    files = sorted(p.name for p in (tmp_path / "cache").rglob("cache-*.arrow"))
    assert len(files) == 3  # one tokenised file per split
    again = tokenize_imdb(load_imdb(fixture_imdb_dir), Tokenizer())
    assert sorted(p.name for p in (tmp_path / "cache").rglob("cache-*.arrow")) == files
    assert again["test"]["tokens"][:] == first["test"]["tokens"][:]


def test_scan_interpreter_and_clause_spans():
    from rnnlib.data.scan import clause_spans, interpret

    assert interpret("jump around left twice") == ["I_TURN_LEFT", "I_JUMP"] * 8
    assert interpret("turn opposite right") == ["I_TURN_RIGHT"] * 2
    assert interpret("walk after run left") == ["I_TURN_LEFT", "I_RUN", "I_WALK"]
    spans = clause_spans("walk twice after run left")
    assert spans == [([3, 4], range(0, 2)), ([0, 1], range(2, 4))]
    for bad in ["", "turn", "jump up", "walk around", "fly left", "walk twice twice"]:
        with pytest.raises(ValueError, match=f"^'{bad}' is not a SCAN command$"):
            interpret(bad)
    # at most one conjunction: the grammar has no command of three phrases
    for bad in ["jump and walk and run", "jump twice after walk thrice after run"]:
        with pytest.raises(ValueError, match="it has 2 conjunctions"):
            interpret(bad)
    with pytest.raises(ValueError, match="'jump up', on one side of 'after', is not a phrase"):
        interpret("walk after jump up")
    for bad, conjunction in [("jump and", "and"), ("and jump", "and"), ("after", "after")]:
        with pytest.raises(ValueError, match=f"one side of '{conjunction}' is empty"):
            interpret(bad)


def test_an_unreachable_source_is_a_clear_error(tmp_path):
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(DataNotFoundError, match="could not download .*RNNLIB_DATA"):
        download((tmp_path / "missing.bin").as_uri(), dest)
    assert list((tmp_path / "out").iterdir()) == []


def test_each_review_knows_its_movie_from_the_urls_files(fixture_imdb_dir, fixture_imdb_archive):
    for source in (fixture_imdb_dir, fixture_imdb_archive):
        columns = read_imdb(source)
        by_review = dict(
            zip(
                zip(columns["train"]["label"], columns["train"]["id"], strict=True),
                columns["train"]["movie"],
                strict=True,
            )
        )
        assert by_review[(1, 0)] == "tt0000001" and by_review[(1, 1)] == "tt0000002"
        assert by_review[(0, 1)] == "tt0000002"  # line 1 of urls_neg.txt
        assert columns["test"]["movie"] == ["tt0000008", "tt0000009", "tt0000009"]
