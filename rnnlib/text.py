"""Tokenisation and vocabularies.

The tokenizer is nltk's data-free ``RegexpTokenizer`` (no corpus download needed), applied
after lowercasing and removing the HTML line breaks that IMDB reviews contain. A ``Vocab`` is
always built from training data only; words it does not know map to ``<unk>``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from nltk.tokenize import RegexpTokenizer

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<sos>", "<eos>"
KNOWN_SPECIALS = (PAD, UNK, SOS, EOS)

# Words (keeping inner apostrophes: "don't", "isn't" carry negation), numbers, and "!"/"?",
# which carry sentiment; all other punctuation is dropped.
WORD_PATTERN = r"[a-z0-9]+(?:'[a-z]+)*|[!?]"
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


class Tokenizer:
    """Lowercase, drop ``<br />`` tags, split into word tokens with nltk's RegexpTokenizer."""

    def __init__(self, pattern: str = WORD_PATTERN) -> None:
        self.pattern = pattern
        self._tokenizer = RegexpTokenizer(pattern)

    def __call__(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer expects a str, got {type(text).__name__}")
        tokens = self._tokenizer.tokenize(_HTML_BREAK.sub(" ", text).lower())
        if not tokens:
            raise ValueError(
                f"text {text[:60]!r} has no tokens (it is empty or only punctuation); "
                "remove it from the data or check how it was read"
            )
        return tokens

    def __repr__(self) -> str:
        return f"Tokenizer(pattern={self.pattern!r})"

    # Pickled (and so fingerprinted by ``datasets`` for its map cache) by its pattern alone:
    # nltk compiles the regexp lazily, which would otherwise change the fingerprint after use.
    def __getstate__(self) -> dict:
        return {"pattern": self.pattern}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["pattern"])


class Vocab:
    """Bidirectional token <-> id map with special tokens first (``<pad>`` is always id 0)."""

    def __init__(self, tokens: Sequence[str], specials: Sequence[str] = (PAD, UNK)) -> None:
        specials = list(specials)
        unknown = [s for s in specials if s not in KNOWN_SPECIALS]
        if unknown:
            raise ValueError(
                f"unknown special token(s) {unknown}; allowed special tokens are "
                f"{list(KNOWN_SPECIALS)}"
            )
        if not specials or specials[0] != PAD:
            raise ValueError(f"specials must start with {PAD!r} (id 0), got {specials}")
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials contain duplicates: {specials}")
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
        """Vocabulary of the tokens seen at least ``min_freq`` times, most frequent first.

        ``max_size`` caps the number of non-special tokens. Ties are broken alphabetically so
        the result does not depend on the order of the data.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be >= 1 or None, got {max_size}")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            kept = kept[:max_size]
        return cls(kept, specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def special_id(self, token: str) -> int:
        """Id of a special token; a clear error if this vocabulary does not have it."""
        if token not in self.specials:
            raise ValueError(
                f"special token {token!r} is not in this vocabulary; it has {self.specials}"
            )
        return self.stoi[token]

    @property
    def pad_idx(self) -> int:
        return self.special_id(PAD)

    @property
    def unk_idx(self) -> int:
        return self.special_id(UNK)

    @property
    def sos_idx(self) -> int:
        return self.special_id(SOS)

    @property
    def eos_idx(self) -> int:
        return self.special_id(EOS)

    @property
    def num_words(self) -> int:
        """Number of entries that are not special tokens."""
        return len(self.itos) - len(self.specials)

    def encode(
        self, tokens: Sequence[str], *, add_sos: bool = False, add_eos: bool = False
    ) -> list[int]:
        if UNK in self.stoi:
            unk = self.stoi[UNK]
            ids = [self.stoi.get(t, unk) for t in tokens]
        else:
            missing = [t for t in tokens if t not in self.stoi]
            if missing:
                raise KeyError(
                    f"tokens {missing[:5]} are not in the vocabulary, which has no {UNK!r} "
                    "to map them to"
                )
            ids = [self.stoi[t] for t in tokens]
        if add_sos:
            ids.insert(0, self.sos_idx)
        if add_eos:
            ids.append(self.eos_idx)
        return ids

    def decode(self, ids: Iterable[int], *, strip_specials: bool = False) -> list[str]:
        """Tokens for ``ids``; with ``strip_specials``, stops at ``<eos>`` and drops specials."""
        out: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise IndexError(f"id {i} is outside the vocabulary (size {len(self)})")
            token = self.itos[i]
            if strip_specials:
                if token == EOS:
                    break
                if token in self.specials:
                    continue
            out.append(token)
        return out

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"specials": self.specials, "tokens": self.itos[len(self.specials) :]}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(payload["tokens"], payload["specials"])
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(
                f"{path} is not a saved Vocab ({err}); save one with Vocab.save"
            ) from err
