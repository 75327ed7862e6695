"""Integration tests on the real data copies (RNNLIB_DATA, e.g. ../shared/data)."""

from collections import Counter

import pytest

from rnnlib.data import load_imdb, load_scan
from rnnlib.data.scan import SCAN_SPLITS

pytestmark = pytest.mark.data


@pytest.fixture(scope="session")
def imdb(real_data, shared_cache):
    mp = pytest.MonkeyPatch()
    mp.setenv("RNNLIB_CACHE", str(shared_cache))
    yield load_imdb(real_data)
    mp.undo()


def test_imdb_split_sizes(imdb):
    assert {s: imdb[s].num_rows for s in imdb} == {"train": 25000, "test": 25000, "unsup": 50000}


@pytest.mark.parametrize("split", ["train", "test"])
def test_imdb_labels_are_balanced_and_agree_with_ratings(imdb, split):
    labels = imdb[split]["label"][:]
    ratings = imdb[split]["rating"][:]
    assert Counter(labels) == {0: 12500, 1: 12500}
    assert all(
        (1 <= r <= 4) if y == 0 else (7 <= r <= 10) for y, r in zip(labels, ratings, strict=True)
    )


def test_imdb_unsup_is_unlabelled(imdb):
    assert set(imdb["unsup"]["label"][:]) == {-1}
    assert set(imdb["unsup"]["rating"][:]) == {0}


def test_imdb_texts_are_real_reviews(imdb):
    texts = imdb["train"]["text"][:]
    assert all(t.strip() for t in texts)
    assert sum(len(t) for t in texts) / len(texts) > 1000  # reviews average over a thousand chars


def test_scan_simple_split(real_data):
    pairs = load_scan("simple", real_data)
    assert len(pairs["train"]) == 16728 and len(pairs["test"]) == 4182
    commands = {w for src, _ in pairs["train"] for w in src}
    actions = {a for _, tgt in pairs["train"] for a in tgt}
    assert len(commands) == 13
    assert actions == {"I_WALK", "I_RUN", "I_JUMP", "I_LOOK", "I_TURN_LEFT", "I_TURN_RIGHT"}
    assert max(len(tgt) for _, tgt in pairs["train"] + pairs["test"]) == 48


@pytest.mark.parametrize("split", sorted(SCAN_SPLITS))
def test_every_scan_split_reads(real_data, split):
    pairs = load_scan(split, real_data)
    assert len(pairs["train"]) > 10000 and len(pairs["test"]) > 1000


@pytest.mark.parametrize("split", ["simple", "length"])
def test_scan_grammar_reproduces_every_pair(real_data, split):
    from rnnlib.data.scan import interpret

    pairs = load_scan(split, real_data)
    for src, tgt in pairs["train"] + pairs["test"]:
        assert interpret(src) == tgt, " ".join(src)


def test_imdb_says_which_copy_it_read(imdb, real_data):
    from rnnlib.data import locate_imdb

    assert imdb.source == locate_imdb(real_data).resolve()


def test_accented_words_of_real_reviews_are_kept_whole(imdb):
    from rnnlib.text import Tokenizer

    texts = [t for t in imdb["train"]["text"][:] if "cliché" in t.lower()]
    assert len(texts) > 20
    tokenizer = Tokenizer()
    tokens = [tokenizer(t) for t in texts]
    assert all(any("cliché" in w for w in words) for words in tokens)  # "o'clichés" counts
    assert not any("clich" in words for words in tokens)  # as the old ASCII-only pattern cut it
