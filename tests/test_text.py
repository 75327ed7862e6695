import json
import pickle
import unicodedata

import pytest

from rnnlib.text import EOS, PAD, SOS, UNK, Tokenizer, Vocab


def test_tokenizer_lowercases_strips_html_and_keeps_negations():
    tokens = Tokenizer()("A GREAT film.<br /><br />I didn't like the END!")
    assert tokens == ["a", "great", "film", "i", "didn't", "like", "the", "end", "!"]
    assert "br" not in tokens


def test_tokenizer_keeps_question_marks_and_numbers():
    assert Tokenizer()("Worth 10/10? Yes") == ["worth", "10", "10", "?", "yes"]


def test_only_tokens_with_letters_or_digits_are_words():
    tokens = Tokenizer()("Wow!! 10/10, don't miss el café?")
    assert [t for t in tokens if Tokenizer.is_word(t)] == [
        "wow",
        "10",
        "10",
        "don't",
        "miss",
        "el",
        "café",
    ]
    assert [t for t in tokens if not Tokenizer.is_word(t)] == ["!", "!", "?"]


@pytest.mark.parametrize("text", ["", "   ", "<br />", "... ,;"])
def test_tokenizer_rejects_text_without_tokens(text):
    with pytest.raises(ValueError, match="no tokens"):
        Tokenizer()(text)


def test_tokenizer_rejects_non_strings():
    with pytest.raises(TypeError, match="str"):
        Tokenizer()(None)


def test_vocab_build_orders_by_frequency_and_applies_min_freq():
    data = [["b", "a", "b"], ["c", "b", "a"], ["d"]]
    vocab = Vocab.build(data, min_freq=2)
    assert vocab.itos == [PAD, UNK, "b", "a"]
    assert vocab.pad_idx == 0 and vocab.unk_idx == 1
    assert "d" not in vocab
    assert vocab.encode(["a", "d", "b"]) == [3, 1, 2]


def test_vocab_ties_are_alphabetical_and_max_size_caps_words():
    vocab = Vocab.build([["z", "y", "x", "x"]], max_size=2)
    assert vocab.itos == [PAD, UNK, "x", "y"]
    assert vocab.num_words == 2


def test_vocab_sequence_specials_and_decode():
    vocab = Vocab.build([["I_WALK", "I_JUMP"]], specials=[PAD, UNK, SOS, EOS])
    ids = vocab.encode(["I_WALK", "I_JUMP"], add_eos=True)
    assert ids[-1] == vocab.eos_idx and vocab.sos_idx == 2
    assert vocab.decode(ids) == ["I_WALK", "I_JUMP", EOS]


def test_vocab_without_unk_refuses_unknown_tokens():
    vocab = Vocab(["walk"], specials=[PAD])
    with pytest.raises(KeyError, match="not in the vocabulary"):
        vocab.encode(["run"])


def test_unknown_special_token_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown special token"):
        Vocab(["a"], specials=[PAD, "<mask>"])
    with pytest.raises(ValueError, match="must start with"):
        Vocab(["a"], specials=[UNK, PAD])
    vocab = Vocab(["a"])
    with pytest.raises(ValueError, match="<sos>"):
        _ = vocab.sos_idx


def test_decode_rejects_ids_outside_the_vocabulary():
    with pytest.raises(IndexError, match="outside"):
        Vocab(["a"]).decode([5])


def test_vocab_state_round_trip():
    vocab = Vocab.build([["x", "y", "y"]], specials=[PAD, UNK, SOS, EOS])
    loaded = Vocab.from_state(json.loads(json.dumps(vocab.state())))  # as a saved run holds it
    assert loaded == vocab
    assert loaded.specials == vocab.specials
    assert loaded.encode(["y", "q"]) == vocab.encode(["y", "q"])


@pytest.mark.parametrize("kwargs", [{"min_freq": 0}, {"max_size": 0}])
def test_vocab_build_rejects_bad_limits(kwargs):
    with pytest.raises(ValueError):
        Vocab.build([["a"]], **kwargs)


def test_tokenizer_keeps_accented_words_whole():
    text = "Another cliché! Clichés galore: his fiancée was naïve? Señor Müller, Ångström."
    assert Tokenizer()(text) == [
        "another", "cliché", "!", "clichés", "galore", "his", "fiancée", "was", "naïve", "?",
        "señor", "müller", "ångström",
    ]  # fmt: skip


def test_tokenizer_normalises_to_nfc_first():
    decomposed = unicodedata.normalize("NFD", "fiancée")
    assert decomposed != "fiancée"
    assert Tokenizer()(f"My {decomposed}") == ["my", "fiancée"]


def test_tokenizer_reads_typographic_apostrophes_inside_words():
    assert Tokenizer()("Don’t, isn´t, can`t, won't: 'quoted'") == [
        "don't",
        "isn't",
        "can't",
        "won't",
        "quoted",
    ]


def test_a_text_of_accented_letters_only_is_not_empty():
    assert Tokenizer()("Éé àç") == ["éé", "àç"]


def test_tokenizer_behaviour_is_part_of_its_fingerprint():
    from datasets.fingerprint import Hasher

    default = Tokenizer()
    assert Hasher.hash(default) != Hasher.hash(Tokenizer(normalization=None))
    default("used once")  # nltk compiles lazily: using it must not change the fingerprint
    assert Hasher.hash(default) == Hasher.hash(Tokenizer())
    clone = pickle.loads(pickle.dumps(Tokenizer(normalization="NFKC")))
    assert clone.normalization == "NFKC" and clone("ﬁne") == ["fine"]
    with pytest.raises(ValueError, match="unknown normalization 'NFX'"):
        Tokenizer(normalization="NFX")


def test_tokenize_imdb_keeps_accents_and_keys_its_cache_on_the_tokenizer(
    monkeypatch, tmp_path, imdb_copy
):
    from rnnlib.data import load_imdb, tokenize_imdb

    monkeypatch.setenv("RNNLIB_CACHE", str(tmp_path / "cache"))
    decomposed = unicodedata.normalize("NFD", "Cliché after cliché.")
    (imdb_copy / "train" / "pos" / "2_7.txt").write_text(decomposed, encoding="utf-8")
    nfc = tokenize_imdb(load_imdb(imdb_copy), Tokenizer())
    assert nfc["train"]["tokens"][4] == ["cliché", "after", "cliché"]
    raw = tokenize_imdb(load_imdb(imdb_copy), Tokenizer(normalization=None))
    word = unicodedata.normalize("NFD", "cliché")  # kept whole, but not in its NFC form
    assert raw["train"]["tokens"][4] == [word, "after", word] != nfc["train"]["tokens"][4]
    assert raw["train"].cache_files != nfc["train"].cache_files


@pytest.mark.parametrize("token_lists", [[], [[], []]])
def test_vocab_build_over_no_tokens_is_an_error(token_lists):
    with pytest.raises(ValueError, match="got no tokens"):
        Vocab.build(token_lists)


def test_vocab_build_that_would_keep_no_word_is_an_error():
    with pytest.raises(ValueError, match=r"min_freq=3 .*2 distinct tokens"):
        Vocab.build([["a", "b", "a"]], min_freq=3)
