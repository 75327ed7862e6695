"""The SCAN data set (Lake and Baroni, 2018): commands to action sequences.

Files as in the ``brendenlake/SCAN`` repository, one pair per line::

    IN: jump left OUT: I_TURN_LEFT I_JUMP
"""

from __future__ import annotations

import os
from pathlib import Path

from .fetch import (
    CorruptDataError,
    DataNotFoundError,
    candidate_roots,
    download,
    download_root,
    downloads_allowed,
    not_found_message,
)

SCAN_BASE_URL = "https://raw.githubusercontent.com/brendenlake/SCAN/master"

# split name -> (folder, train file, test file)
SCAN_SPLITS: dict[str, tuple[str, str, str]] = {
    "simple": ("simple_split", "tasks_train_simple.txt", "tasks_test_simple.txt"),
    "length": ("length_split", "tasks_train_length.txt", "tasks_test_length.txt"),
    "addprim_jump": (
        "add_prim_split",
        "tasks_train_addprim_jump.txt",
        "tasks_test_addprim_jump.txt",
    ),
    "addprim_turn_left": (
        "add_prim_split",
        "tasks_train_addprim_turn_left.txt",
        "tasks_test_addprim_turn_left.txt",
    ),
}

Pair = tuple[list[str], list[str]]


def parse_scan_line(line: str, *, where: str = "<line>") -> Pair:
    """``"IN: walk twice OUT: I_WALK I_WALK"`` -> ``(["walk", "twice"], ["I_WALK", "I_WALK"])``."""
    text = line.strip()
    if not text.startswith("IN:") or " OUT:" not in text:
        raise CorruptDataError(
            f"{where}: expected 'IN: <command> OUT: <actions>', got {text[:80]!r}"
        )
    command, actions = text[len("IN:") :].split(" OUT:", 1)
    source, target = command.split(), actions.split()
    if not source or not target:
        raise CorruptDataError(f"{where}: empty command or action sequence in {text[:80]!r}")
    return source, target


def read_scan_file(path: str | os.PathLike) -> list[Pair]:
    """All (command tokens, action tokens) pairs of one SCAN file; blank lines are skipped."""
    path = Path(path)
    pairs = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                pairs.append(parse_scan_line(line, where=f"{path}:{number}"))
    if not pairs:
        raise CorruptDataError(f"{path} holds no SCAN pairs")
    return pairs


def locate_scan(
    split: str = "simple",
    path: str | os.PathLike | None = None,
    *,
    allow_download: bool | None = None,
) -> tuple[Path, Path]:
    """Paths of the train and test files of a SCAN split, downloading them if absent."""
    if split not in SCAN_SPLITS:
        raise ValueError(f"unknown SCAN split {split!r}; choose one of {sorted(SCAN_SPLITS)}")
    folder, train_name, test_name = SCAN_SPLITS[split]
    looked_at: list[Path] = []
    for root in candidate_roots(path):
        for base in (root / "SCAN" / folder, root / folder, root):
            looked_at.append(base)
            train, test = base / train_name, base / test_name
            if train.is_file() and test.is_file():
                return train, test
    if allow_download is None:
        allow_download = downloads_allowed()
    if not allow_download:
        raise DataNotFoundError(
            not_found_message(f"SCAN split {split!r} ({train_name}, {test_name})", looked_at)
        )
    target = download_root(path) / "SCAN" / folder
    return tuple(  # type: ignore[return-value]
        download(f"{SCAN_BASE_URL}/{folder}/{name}", target / name)
        for name in (train_name, test_name)
    )


def load_scan(
    split: str = "simple", path: str | os.PathLike | None = None
) -> dict[str, list[Pair]]:
    """``{"train": pairs, "test": pairs}`` for a SCAN split (``simple`` by default)."""
    train, test = locate_scan(split, path)
    return {"train": read_scan_file(train), "test": read_scan_file(test)}


# ------------------------------------------------------------------------------ the grammar
# SCAN's commands come from a small grammar with a fixed meaning (Lake and Baroni, 2018):
#   C -> S and S | S after S | S;   S -> V twice | V thrice | V
#   V -> D opposite left|right | D around left|right | D;   D -> U left|right | turn left|right | U
#   U -> walk | look | run | jump
# ``interpret`` executes it; the tests check it against every pair of the real files, and the
# notebook uses ``clause_spans`` to tell which clause each output step belongs to.

PRIMITIVES = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP"}
TURNS = {"left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
REPEATS = {"twice": 2, "thrice": 3}


def _bad_command(words: list[str]) -> ValueError:
    return ValueError(f"{' '.join(words)!r} is not a SCAN command")


def _interpret_verb_phrase(words: list[str]) -> list[str]:
    if not words or (words[0] not in PRIMITIVES and words[0] != "turn"):
        raise _bad_command(words)
    action = [PRIMITIVES[words[0]]] if words[0] != "turn" else []
    if len(words) == 1 and action:
        return action
    if len(words) == 2 and words[1] in TURNS:
        return [TURNS[words[1]], *action]
    if len(words) == 3 and words[2] in TURNS:
        turn = TURNS[words[2]]
        if words[1] == "opposite":
            return [turn, turn, *action]
        if words[1] == "around":
            return [turn, *action] * 4
    raise _bad_command(words)


def interpret(command: str | list[str]) -> list[str]:
    """The action sequence that a SCAN command means, e.g. ``"jump left"`` ->
    ``["I_TURN_LEFT", "I_JUMP"]``; ``ValueError`` for text outside the grammar."""
    words = command.split() if isinstance(command, str) else list(command)
    for conjunction in ("and", "after"):
        if conjunction in words:
            i = words.index(conjunction)
            first, second = interpret(words[:i]), interpret(words[i + 1 :])
            return first + second if conjunction == "and" else second + first
    if words and words[-1] in REPEATS:
        return _interpret_verb_phrase(words[:-1]) * REPEATS[words[-1]]
    return _interpret_verb_phrase(words)


def clause_spans(command: str | list[str]) -> list[tuple[list[int], range]]:
    """For each clause of a command, in execution order: the positions of its words in the
    command and the range of output steps (actions) that it produces."""
    words = command.split() if isinstance(command, str) else list(command)
    clauses = [list(range(len(words)))]
    for conjunction in ("and", "after"):
        if conjunction in words:
            i = words.index(conjunction)
            left, right = list(range(i)), list(range(i + 1, len(words)))
            clauses = [left, right] if conjunction == "and" else [right, left]
            break
    spans, start = [], 0
    for positions in clauses:
        n = len(interpret([words[p] for p in positions]))
        spans.append((positions, range(start, start + n)))
        start += n
    return spans
