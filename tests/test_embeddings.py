"""Word2Vec training, embedding matrices and GloVe files, on tiny corpora."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from rnnlib.config import ClassifierConfig
from rnnlib.embeddings import (
    embedding_matrix,
    load_glove,
    read_glove,
    reduce_dim,
    train_word2vec,
)
from rnnlib.models.classifier import SentimentRNN
from rnnlib.text import Vocab

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def _corpus(n: int = 300, seed: int = 0) -> list[list[str]]:
    """Two topics whose words co-occur only with each other."""
    rng = np.random.default_rng(seed)
    animals = ["cat", "dog", "mouse", "horse"]
    fruits = ["apple", "pear", "plum", "grape"]
    return [list(rng.choice(animals if i % 2 else fruits, size=8)) for i in range(n)]


def test_word2vec_learns_cooccurrence():
    kv = train_word2vec(_corpus(), dim=16, window=3, min_count=1, epochs=20, workers=1, seed=0)
    assert kv.vector_size == 16
    assert set(kv.index_to_key) == {
        "cat",
        "dog",
        "mouse",
        "horse",
        "apple",
        "pear",
        "plum",
        "grape",
    }
    assert kv.similarity("cat", "dog") > kv.similarity("cat", "apple")
    assert kv.similarity("pear", "plum") > kv.similarity("pear", "horse")


def test_word2vec_is_reproducible_with_one_worker():
    args = dict(dim=8, window=2, min_count=1, epochs=3, workers=1, seed=7)
    a = train_word2vec(_corpus(50), **args)
    b = train_word2vec(_corpus(50), **args)
    np.testing.assert_array_equal(a["cat"], b["cat"])


def test_word2vec_is_the_same_in_processes_with_different_string_hashes(tmp_path):
    import subprocess
    import sys

    script = (
        "import numpy as np, sys; from rnnlib.embeddings import train_word2vec; "
        "from tests.test_embeddings import _corpus; "
        "kv = train_word2vec(_corpus(50), dim=8, window=2, min_count=1, epochs=2, workers=1); "
        "np.save(sys.argv[1], kv['cat'])"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = tmp_path / f"cat{seed}.npy"
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, cwd=REPO)
    np.testing.assert_array_equal(np.load(tmp_path / "cat1.npy"), np.load(tmp_path / "cat2.npy"))


def test_word2vec_rejects_bad_input():
    with pytest.raises(ValueError, match="dim, window"):
        train_word2vec(_corpus(5), dim=0, window=2, min_count=1, epochs=1, workers=1, seed=0)
    with pytest.raises(TypeError, match="re-iterable"):
        train_word2vec(iter(_corpus(5)), dim=4, window=2, min_count=1, epochs=1, workers=1, seed=0)
    with pytest.raises(ValueError, match="empty"):
        train_word2vec([], dim=4, window=2, min_count=1, epochs=1, workers=1, seed=0)


def test_embedding_matrix_rows_and_coverage():
    kv = train_word2vec(_corpus(), dim=6, window=3, min_count=1, epochs=2, workers=1, seed=0)
    vocab = Vocab(["cat", "apple", "unseenword"])
    weights, info = embedding_matrix(vocab, kv, seed=0)
    assert weights.shape == (5, 6) and weights.dtype == torch.float32
    assert torch.equal(weights[vocab.pad_idx], torch.zeros(6))
    torch.testing.assert_close(weights[vocab.stoi["cat"]], torch.tensor(kv["cat"]))
    torch.testing.assert_close(weights[vocab.stoi["apple"]], torch.tensor(kv["apple"]))
    unknown = weights[vocab.stoi["unseenword"]]
    assert unknown.abs().sum() > 0  # random, not zero
    assert unknown.std() < 5 * float(np.std(kv.vectors))  # small: scaled like known vectors
    assert weights[vocab.unk_idx].abs().sum() > 0
    assert info["found"] == 2 and info["words"] == 3
    assert info["coverage"] == pytest.approx(2 / 3)
    assert info["missing_examples"] == ["unseenword"]
    again, _ = embedding_matrix(vocab, kv, seed=0)
    assert torch.equal(weights, again)
    # It plugs straight into the model.
    model = SentimentRNN(ClassifierConfig(len(vocab), 6, 4), pretrained=weights)
    torch.testing.assert_close(model.embedding.weight.detach(), weights)


def test_embedding_matrix_from_plain_dict():
    vocab = Vocab(["a", "b"])
    weights, info = embedding_matrix(vocab, {"a": np.ones(3), "zz": np.zeros(3)})
    assert weights.shape == (4, 3)
    torch.testing.assert_close(weights[vocab.stoi["a"]], torch.ones(3))
    assert info["found"] == 1
    with pytest.raises(ValueError, match="inconsistent dimensions"):
        embedding_matrix(vocab, {"a": np.ones(3), "b": np.ones(4)})


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_load_glove(tmp_path):
    path = _write(
        tmp_path / "glove.txt",
        "the 0.1 0.2 0.3\ngood 1.0 -1.0 0.5\nbad -1 1 -0.5\nunused 9 9 9\n",
    )
    vocab = Vocab(["good", "bad", "missing"])
    weights, info = load_glove(path, vocab, seed=0)
    assert weights.shape == (len(vocab), 3)
    torch.testing.assert_close(weights[vocab.stoi["good"]], torch.tensor([1.0, -1.0, 0.5]))
    torch.testing.assert_close(weights[vocab.stoi["bad"]], torch.tensor([-1.0, 1.0, -0.5]))
    assert torch.equal(weights[0], torch.zeros(3))
    assert info["found"] == 2 and info["dim"] == 3
    assert set(read_glove(path)) == {"the", "good", "bad", "unused"}
    assert set(read_glove(path, {"good"})) == {"good"}


def test_load_glove_skips_word2vec_header(tmp_path):
    path = _write(tmp_path / "w2v.txt", "2 2\nx 1 2\ny 3 4\n")
    assert set(read_glove(path)) == {"x", "y"}


def test_load_glove_errors(tmp_path):
    vocab = Vocab(["good"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_glove(tmp_path / "nope.txt", vocab)
    bad = _write(tmp_path / "bad.txt", "good 1 2 3\nbad 1 2\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: .*'bad' has 2 values.*3"):
        load_glove(bad, vocab)
    text = _write(tmp_path / "text.txt", "good 1 two 3\n")
    with pytest.raises(ValueError, match="text.txt:1: non-numeric"):
        load_glove(text, vocab)
    empty = _write(tmp_path / "empty.txt", "\n")
    with pytest.raises(ValueError, match="holds no vectors"):
        load_glove(empty, vocab)
    other = _write(tmp_path / "other.txt", "zebra 1 2\n")
    with pytest.raises(ValueError, match="no vector for any"):
        load_glove(other, vocab)


def test_reduce_dim_keeps_main_directions():
    gen = torch.Generator().manual_seed(0)
    basis = torch.randn(2, 6, generator=gen)  # data lies (almost) in a 2-d subspace
    weights = torch.randn(50, 2, generator=gen) @ basis + 0.01 * torch.randn(50, 6, generator=gen)
    weights[0] = 0.0
    reduced = reduce_dim(weights, 2, pad_idx=0)
    assert reduced.shape == (50, 2)
    assert torch.equal(reduced[0], torch.zeros(2))
    # Distances between rows are (almost) preserved by the 2-d projection.
    torch.testing.assert_close(
        torch.cdist(reduced[1:], reduced[1:]),
        torch.cdist(weights[1:], weights[1:]),
        atol=0.1,
        rtol=0.05,
    )
    with pytest.raises(ValueError, match=r"dim must be in \[1, 6\]"):
        reduce_dim(weights, 7)


# ----------------------------------------------------------- stored vectors, without pickle


def _vectors():
    return train_word2vec(_corpus(60), dim=5, window=2, min_count=1, epochs=1, workers=1, seed=0)


def test_save_and_load_vectors_round_trip(tmp_path):
    from rnnlib.embeddings import load_vectors, save_vectors

    kv = _vectors()
    path = save_vectors(kv, tmp_path / "w2v.bin")
    loaded = load_vectors(path)
    assert loaded.index_to_key == kv.index_to_key and loaded.vector_size == 5
    assert loaded.vectors.dtype == np.float32
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    vocab = Vocab(["cat", "pear", "unseen"])
    assert torch.equal(embedding_matrix(vocab, loaded)[0], embedding_matrix(vocab, kv)[0])
    # A plain mapping works too, and saving again replaces the file.
    save_vectors({"über": np.ones(3), "b": np.zeros(3)}, path)
    again = load_vectors(path)
    assert again.index_to_key == ["über", "b"] and again.vector_size == 3
    assert [p.name for p in tmp_path.iterdir()] == ["w2v.bin"]  # no temporary file left


def test_save_vectors_rejects_what_the_format_cannot_hold(tmp_path):
    from rnnlib.embeddings import save_vectors

    with pytest.raises(ValueError, match="no word vectors"):
        save_vectors({}, tmp_path / "v.bin")
    with pytest.raises(ValueError, match=r"\['new york'\] are not strings, are empty or hold"):
        save_vectors({"new york": np.ones(2), "b": np.ones(2)}, tmp_path / "v.bin")
    with pytest.raises(ValueError, match=r"\[7\] are not strings"):
        save_vectors({7: np.ones(2)}, tmp_path / "v.bin")
    with pytest.raises(ValueError, match="inconsistent dimensions"):
        save_vectors({"a": np.ones(2), "b": np.ones(3)}, tmp_path / "v.bin")
    with pytest.raises(ValueError, match=r"v\.bin\.gz: name the word vectors' file \*\.bin"):
        save_vectors({"a": np.ones(2)}, tmp_path / "v.bin.gz")
    assert list(tmp_path.iterdir()) == []


class _Planted:
    """Unpickling this object creates the file ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_vectors_never_unpickles_a_planted_file(tmp_path):
    import pickle

    from rnnlib.embeddings import load_vectors

    marker = tmp_path / "code-ran"
    planted = tmp_path / "w2v.bin"
    planted.write_bytes(pickle.dumps(_Planted(marker)))
    with pytest.raises(ValueError, match=r"w2v\.bin is not a complete word2vec binary file"):
        load_vectors(planted)
    assert not marker.exists()


DAMAGES = ["truncated", "header-only", "text", "not-utf8", "fewer", "more", "huge", "repeated"]


@pytest.mark.parametrize("damage", [*DAMAGES, "not-finite", "missing", "suffix"])
def test_a_damaged_vector_store_is_a_clear_error(tmp_path, damage):
    from rnnlib.embeddings import load_vectors, save_vectors

    path = save_vectors({"cat": np.ones(3), "dog": np.zeros(3)}, tmp_path / "w2v.bin")
    data = path.read_bytes()
    header, records = data.split(b"\n", 1)
    cat = b"cat " + np.ones(3, dtype=np.float32).tobytes()
    error, pattern = ValueError, r"w2v\.bin is not a complete word2vec binary file"
    if damage == "truncated":
        path.write_bytes(data[:-5])
    elif damage == "header-only":
        path.write_bytes(header + b"\n")
    elif damage == "text":
        path.write_text("hello world\n", encoding="utf-8")
    elif damage == "not-utf8":
        path.write_bytes(data.replace(b"cat ", b"c\xe9t "))
    elif damage == "fewer":  # the header announces one vector, the file holds two
        path.write_bytes(b"1 3\n" + records)
    elif damage == "more":  # a third record appended
        path.write_bytes(data + cat)
    elif damage == "huge":  # a header that would allocate terabytes
        path.write_bytes(b"99999999999 300\n" + records)
    elif damage == "repeated":
        path.write_bytes(b"2 3\n" + cat + cat)
    elif damage == "not-finite":
        save_vectors({"a": np.array([1.0, np.nan])}, path)
        pattern = r"w2v\.bin holds non-finite values"
    elif damage == "missing":
        path.unlink()
        error, pattern = FileNotFoundError, r"w2v\.bin is not a file"
    else:
        path = path.rename(tmp_path / "w2v.bin.gz")
        pattern = r"w2v\.bin\.gz: name the word vectors' file \*\.bin"
    with pytest.raises(error, match=pattern):
        load_vectors(path)


def test_a_file_ending_each_record_with_a_newline_is_read(tmp_path):
    from rnnlib.embeddings import load_vectors

    path = tmp_path / "c-tool.bin"  # as Mikolov et al.'s word2vec tool writes it
    rows = [b"%s " % w + np.full(2, v, dtype=np.float32).tobytes() + b"\n" for w, v in [(b"a", 1)]]
    path.write_bytes(b"1 2\n" + b"".join(rows))
    assert load_vectors(path)["a"].tolist() == [1.0, 1.0]


def test_save_vectors_keeps_the_old_store_when_writing_fails(tmp_path, monkeypatch):
    from gensim.models import KeyedVectors

    from rnnlib.embeddings import load_vectors, save_vectors

    path = save_vectors({"a": np.ones(2)}, tmp_path / "w2v.bin")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(KeyedVectors, "save_word2vec_format", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_vectors({"b": np.zeros(2)}, path)
    assert load_vectors(path).index_to_key == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["w2v.bin"]


def test_glove_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_bytes(b"good 1 2\ncaf\xe9 3 4\n")
    with pytest.raises(ValueError, match=r"glove\.txt:2: not valid UTF-8"):
        read_glove(path)
