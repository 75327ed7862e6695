"""Tokenisation (nltk's data-free ``RegexpTokenizer``) and vocabularies of training data."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from nltk.tokenize import RegexpTokenizer

from .data.fetch import StrPath, decode_utf8
from .utils import atomic_write_text

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<sos>", "<eos>"
KNOWN_SPECIALS = (PAD, UNK, SOS, EOS)

# Runs of letters (with combining marks) and digits with inner apostrophes ("don't" carries
# negation), and "!"/"?", which carry sentiment; all other punctuation is dropped.
WORD_PATTERN = r"[^\W_]+(?:'[^\W_]+)*|[!?]"
# Characters written for an apostrophe in reviews ("don’t", "don´t", "don`t"): read as "'".
APOSTROPHES = "\u2019\u2018\u00b4`"
NORMALIZATIONS = ("NFC", "NFKC", "NFD", "NFKD")
# Pickled, so fingerprinted: bump it when the behaviour changes, so that old caches are not reused.
TOKENIZER_VERSION = 2
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_APOSTROPHE = re.compile(f"[{APOSTROPHES}]")


class Tokenizer:
    """Normalise (``normalization``: a ``unicodedata`` form or ``None``), lowercase, drop ``<br>``,
    read typographic apostrophes as ``'`` and split into words of letters and digits with inner
    apostrophes ("cliché", "don't") and ``!``/``?``. ``ValueError`` for a text without tokens."""

    def __init__(self, pattern: str = WORD_PATTERN, *, normalization: str | None = "NFC") -> None:
        if normalization is not None and normalization not in NORMALIZATIONS:
            raise ValueError(
                f"unknown normalization {normalization!r}; use one of {NORMALIZATIONS} or None"
            )
        self.pattern = pattern
        self.normalization = normalization
        self._tokenizer = RegexpTokenizer(pattern)

    def __call__(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer expects a str, got {type(text).__name__}")
        if self.normalization is not None:
            text = unicodedata.normalize(self.normalization, text)
        text = _APOSTROPHE.sub("'", _HTML_BREAK.sub(" ", text))
        tokens = self._tokenizer.tokenize(text.lower())
        if not tokens:
            raise ValueError(f"text {text[:60]!r} has no tokens (it is empty or only punctuation)")
        return tokens

    @staticmethod
    def is_word(token: str) -> bool:
        """Whether a token is a word (holds a letter or a digit), not punctuation such as ``!``."""
        return any(map(str.isalnum, token))

    def __repr__(self) -> str:
        return f"Tokenizer(pattern={self.pattern!r}, normalization={self.normalization!r})"

    # Pickled (so fingerprinted by ``datasets``) as settings and version alone: nltk compiles
    # the regexp lazily, which would change the fingerprint after use.
    def __getstate__(self) -> dict:
        return {
            "pattern": self.pattern,
            "normalization": self.normalization,
            "apostrophes": APOSTROPHES,
            "version": TOKENIZER_VERSION,
        }

    def __setstate__(self, state: dict) -> None:
        # An older state (pattern only) gets today's behaviour, and so today's fingerprint.
        self.__init__(state["pattern"], normalization=state.get("normalization", "NFC"))


class Vocab:
    """Bidirectional token <-> id map with special tokens first (``<pad>`` is always id 0);
    tokens it does not know map to ``<unk>`` when it has one."""

    def __init__(self, tokens: Sequence[str], specials: Sequence[str] = (PAD, UNK)) -> None:
        specials = list(specials)
        if unknown := [s for s in specials if s not in KNOWN_SPECIALS]:
            raise ValueError(f"unknown special token(s) {unknown}; allowed: {list(KNOWN_SPECIALS)}")
        if specials[:1] != [PAD] or len(set(specials)) != len(specials):
            raise ValueError(f"specials must start with {PAD!r} (id 0), once each; got {specials}")
        self.specials = specials
        self.itos: list[str] = specials + [t for t in tokens if t not in specials]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("tokens contain duplicates")

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (PAD, UNK),
    ) -> Vocab:
        """The tokens seen at least ``min_freq`` times (at most ``max_size`` of them), most
        frequent first, ties alphabetical (independent of the data's order)."""
        if min_freq < 1 or (max_size is not None and max_size < 1):
            raise ValueError(f"min_freq and max_size must be >= 1, got {min_freq}, {max_size}")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise TypeError(f"token_lists must hold lists of tokens, not {tokens[:40]!r}")
            counts.update(tokens)
        if not counts:
            raise ValueError("Vocab.build got no tokens: pass the tokenised training data")
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if not kept:
            raise ValueError(
                f"no token occurs min_freq={min_freq} times ({len(counts)} distinct tokens "
                "seen): lower min_freq or use more data"
            )
        return cls(kept[:max_size], specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def special_id(self, token: str) -> int:
        """Id of a special token; ``ValueError`` if this vocabulary does not have it."""
        if token not in self.specials:
            raise ValueError(
                f"special token {token!r} is not in this vocabulary; it has {self.specials}"
            )
        return self.stoi[token]

    # Ids of the special tokens (``ValueError`` for one this vocabulary lacks).
    pad_idx = property(lambda self: self.special_id(PAD))
    unk_idx = property(lambda self: self.special_id(UNK))
    sos_idx = property(lambda self: self.special_id(SOS))
    eos_idx = property(lambda self: self.special_id(EOS))

    @property
    def num_words(self) -> int:
        return len(self.itos) - len(self.specials)

    def encode(self, tokens: Sequence[str], *, add_eos: bool = False) -> list[int]:
        unk = self.stoi.get(UNK)
        if unk is None and (missing := [t for t in tokens if t not in self.stoi]):
            raise KeyError(
                f"tokens {missing[:5]} are not in the vocabulary, which has no {UNK!r} for them"
            )
        ids = [self.stoi.get(t, unk) for t in tokens]
        if add_eos:
            ids.append(self.eos_idx)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens for ``ids``; ``IndexError`` for an id outside the vocabulary."""
        out: list[str] = []
        for i in map(int, ids):
            if not 0 <= i < len(self.itos):
                raise IndexError(f"id {i} is outside the vocabulary (size {len(self)})")
            out.append(self.itos[i])
        return out

    def state(self) -> dict[str, list[str]]:
        """``{"specials", "tokens"}`` (``tokens`` is ``itos``), read back by ``from_state``."""
        return {"specials": self.specials, "tokens": self.itos}

    @classmethod
    def from_state(cls, state: dict[str, list[str]]) -> Vocab:
        return cls(state["tokens"], state["specials"])

    def save(self, path: StrPath) -> None:
        """Write ``state()`` as UTF-8 JSON, through a temporary file renamed when done."""
        atomic_write_text(path, json.dumps(self.state(), ensure_ascii=False))

    @classmethod
    def load(cls, path: StrPath) -> Vocab:
        """A vocabulary written by ``save``; ``ValueError`` naming ``path`` for any other file
        (not UTF-8, not JSON, wrong fields), ``FileNotFoundError`` if it does not exist."""
        hint = "save one with Vocab.save"
        text = decode_utf8(Path(path).read_bytes(), f"{path} is not a saved Vocab", hint)
        try:
            return cls.from_state(json.loads(text))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a saved Vocab ({err}); {hint}") from err
