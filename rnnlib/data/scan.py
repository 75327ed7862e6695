"""The SCAN data set (Lake and Baroni, 2018): commands to action sequences.

Files as in the ``brendenlake/SCAN`` repository, one pair per line::

    IN: jump left OUT: I_TURN_LEFT I_JUMP

Downloaded files are checked against the size and SHA-256 pinned in ``SCAN_FILES`` before they
are kept; ``load_scan`` says which files it read (``pairs.files``).
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

# "<folder>/<file>" -> (size in bytes, SHA-256) of the official files (brendenlake/SCAN), for
# every file of SCAN_SPLITS: a download is kept only when it matches.
SCAN_FILES: dict[str, tuple[int, str]] = {
    "simple_split/tasks_train_simple.txt": (
        3_267_938,
        "941bb8a088c5f53ceff12fde902dc008933cf0c4203cc672c47b5f79d73262dd",
    ),
    "simple_split/tasks_test_simple.txt": (
        812_450,
        "1fe1c8f5a19d0dc40e41bab94278f45f66f3dc415a978bd29855a23440610fc6",
    ),
    "length_split/tasks_train_length.txt": (
        2_723_418,
        "b034212dc7cf87ce62f3a067dd6ad49c4d5cd18d51d615d13825516bcb1ebbc2",
    ),
    "length_split/tasks_test_length.txt": (
        1_356_970,
        "0760752ed34a75116ae11dcc1ee17526b7500060da1366540730fa24894d7db3",
    ),
    "add_prim_split/tasks_train_addprim_jump.txt": (
        2_579_619,
        "e3c78485692e028eed4205e1b8b3fd0e785ef2c12d45b5b89204dadf5b239e23",
    ),
    "add_prim_split/tasks_test_addprim_jump.txt": (
        1_531_555,
        "8147ae2651422c701162e174d9d66158daa57858a26b30317ac61797118ac7a5",
    ),
    "add_prim_split/tasks_train_addprim_turn_left.txt": (
        3_974_537,
        "1b3fed86055dd7689d217f1b90cc8960aeb1cf200f4f209dc47935761b05304c",
    ),
    "add_prim_split/tasks_test_addprim_turn_left.txt": (
        173_679,
        "15a82c2d25ac7c3c1fff7e18051fb085974ef3617de895c520d02144396a10e2",
    ),
}

Pair = tuple[list[str], list[str]]


class ScanPairs(dict):
    """``{"train": pairs, "test": pairs}`` (a plain ``dict`` to every caller) that also says
    which copy was read: ``files`` maps ``"train"``/``"test"`` to the resolved file paths and
    ``source`` is the folder holding them."""

    def __init__(self, pairs: dict[str, list[Pair]], files: dict[str, Path]) -> None:
        super().__init__(pairs)
        self.files = dict(files)
        self.source = self.files["train"].parent


def parse_scan_line(line: str, *, where: str = "<line>") -> Pair:
    """``"IN: walk twice OUT: I_WALK I_WALK"`` -> ``(["walk", "twice"], ["I_WALK", "I_WALK"])``.

    Raises ``CorruptDataError`` naming ``where`` for a line in another format.
    """
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
    """All (command tokens, action tokens) pairs of one SCAN file; blank lines are skipped.

    Raises ``CorruptDataError`` naming the file (and line) when it is not UTF-8 text, a line is
    not a SCAN pair, or it holds no pairs.
    """
    path = Path(path)
    pairs = []
    with open(path, "rb") as f:  # decoded line by line, so an error names its exact line
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise CorruptDataError(
                    f"{path}:{number}: not valid UTF-8 ({err.reason} at byte {err.start} of the "
                    "line); it is not a SCAN file or it is damaged"
                ) from err
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
    """Paths of the train and test files of a SCAN split, downloading them if absent.

    An explicit ``path`` must exist (``DataNotFoundError`` naming it) and is the only place
    searched: ``path/SCAN/<folder>``, ``path/<folder>`` and ``path`` itself. Without one,
    ``$RNNLIB_DATA`` and ``<project>/data`` are searched. A download (when allowed) goes to
    ``<path or project data>/SCAN/<folder>`` and is kept only if its size and SHA-256 match
    ``SCAN_FILES``.
    """
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
    files = []
    for name in (train_name, test_name):
        size, sha256 = SCAN_FILES[f"{folder}/{name}"]
        files.append(
            download(f"{SCAN_BASE_URL}/{folder}/{name}", target / name, size=size, sha256=sha256)
        )
    return files[0], files[1]


def load_scan(split: str = "simple", path: str | os.PathLike | None = None) -> ScanPairs:
    """``{"train": pairs, "test": pairs}`` for a SCAN split (``simple`` by default).

    The result is a ``dict`` whose ``files`` attribute names the two files read (resolved
    paths) and whose ``source`` attribute is their folder. See ``locate_scan`` for where the
    files are looked for.
    """
    train, test = locate_scan(split, path)
    return ScanPairs(
        {"train": read_scan_file(train), "test": read_scan_file(test)},
        {"train": train.resolve(), "test": test.resolve()},
    )


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
