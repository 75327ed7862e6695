"""The SCAN data set (Lake and Baroni, 2018): commands to action sequences, as in the
``brendenlake/SCAN`` files (``IN: jump left OUT: I_TURN_LEFT I_JUMP`` per line)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .fetch import CorruptDataError, StrPath, download, locate, utf8_lines

SCAN_BASE_URL = "https://raw.githubusercontent.com/brendenlake/SCAN/master"
_FOLDERS = {
    "simple": "simple_split",
    "length": "length_split",
    "addprim_jump": "add_prim_split",
    "addprim_turn_left": "add_prim_split",
}
# split name -> (folder, train file, test file)
SCAN_SPLITS: dict[str, tuple[str, str, str]] = {
    split: (folder, f"tasks_train_{split}.txt", f"tasks_test_{split}.txt")
    for split, folder in _FOLDERS.items()
}
# Size in bytes and SHA-256 of every file of SCAN_SPLITS as published (brendenlake/SCAN):
_PINS = """
simple train 3267938 941bb8a088c5f53ceff12fde902dc008933cf0c4203cc672c47b5f79d73262dd
simple test 812450 1fe1c8f5a19d0dc40e41bab94278f45f66f3dc415a978bd29855a23440610fc6
length train 2723418 b034212dc7cf87ce62f3a067dd6ad49c4d5cd18d51d615d13825516bcb1ebbc2
length test 1356970 0760752ed34a75116ae11dcc1ee17526b7500060da1366540730fa24894d7db3
addprim_jump train 2579619 e3c78485692e028eed4205e1b8b3fd0e785ef2c12d45b5b89204dadf5b239e23
addprim_jump test 1531555 8147ae2651422c701162e174d9d66158daa57858a26b30317ac61797118ac7a5
addprim_turn_left train 3974537 1b3fed86055dd7689d217f1b90cc8960aeb1cf200f4f209dc47935761b05304c
addprim_turn_left test 173679 15a82c2d25ac7c3c1fff7e18051fb085974ef3617de895c520d02144396a10e2
"""
# "<folder>/<file>" -> (size, SHA-256): a download is kept, and a local copy read, only when it
# matches.
SCAN_FILES: dict[str, tuple[int, str]] = {
    f"{_FOLDERS[split]}/tasks_{part}_{split}.txt": (int(size), sha256)
    for split, part, size, sha256 in map(str.split, _PINS.strip().splitlines())
}

Pair = tuple[list[str], list[str]]


class ScanPairs(dict):
    """``{"train": pairs, "test": pairs}`` that also names the copy read: ``files`` (resolved
    paths by part) and ``source`` (their folder)."""

    def __init__(self, pairs: dict[str, list[Pair]], files: dict[str, Path]) -> None:
        super().__init__(pairs)
        self.files = {part: Path(file).resolve() for part, file in files.items()}
        self.source = self.files["train"].parent


def parse_scan_line(line: str, *, where: str = "<line>") -> Pair:
    """``"IN: walk twice OUT: I_WALK I_WALK"`` -> ``(["walk", "twice"], ["I_WALK", "I_WALK"])``;
    ``CorruptDataError`` naming ``where`` for a line in another format."""
    text = line.strip()
    command, sep, actions = text.removeprefix("IN:").partition(" OUT:")
    if not text.startswith("IN:") or not sep:
        raise CorruptDataError(
            f"{where}: expected 'IN: <command> OUT: <actions>', got {text[:80]!r}"
        )
    source, target = command.split(), actions.split()
    if not source or not target:
        raise CorruptDataError(f"{where}: empty command or action sequence in {text[:80]!r}")
    return source, target


def read_scan_file(path: StrPath) -> list[Pair]:
    """All pairs of one SCAN file (blank lines skipped); ``CorruptDataError`` naming the file
    (and line) when it is not UTF-8 text, a line is not a SCAN pair, or it holds no pairs."""
    pairs = [
        parse_scan_line(line, where=f"{path}:{number}")
        for number, line in utf8_lines(path, "it is not a SCAN file or it is damaged")
        if line.strip()
    ]
    if not pairs:
        raise CorruptDataError(f"{path} holds no SCAN pairs")
    return pairs


def locate_scan(split: str = "simple", path: StrPath | None = None) -> tuple[Path, Path]:
    """Paths of the train and test files of a SCAN split, looked for in ``<root>/SCAN/<folder>``,
    ``<root>/<folder>`` and ``<root>`` (see ``fetch.locate``); absent, downloaded to
    ``<root>/SCAN/<folder>`` and kept only if they match ``SCAN_FILES``."""
    if split not in SCAN_SPLITS:
        raise ValueError(f"unknown SCAN split {split!r}; choose one of {sorted(SCAN_SPLITS)}")
    folder, *names = SCAN_SPLITS[split]

    def places(root: Path) -> list[tuple[Path, tuple[Path, ...] | None]]:
        found = []
        for base in (root / "SCAN" / folder, root / folder, root):
            files = tuple(base / name for name in names)
            found.append((base, files if all(f.is_file() for f in files) else None))
        return found

    def fetch(root: Path) -> tuple[Path, ...]:
        files = []
        for name in names:
            size, sha256 = SCAN_FILES[f"{folder}/{name}"]
            url, dest = f"{SCAN_BASE_URL}/{folder}/{name}", root / "SCAN" / folder / name
            files.append(download(url, dest, size=size, sha256=sha256))
        return tuple(files)

    what = f"SCAN split {split!r} ({', '.join(names)})"
    return locate(path, places, what, fetch)


def check_published(path: StrPath, name: str) -> None:
    """``CorruptDataError`` unless the file at ``path`` is the published SCAN file ``name``
    (``"<folder>/<file>"``, a key of ``SCAN_FILES``): same size and SHA-256."""
    size, sha256 = SCAN_FILES[name]
    data = Path(path).read_bytes()
    if len(data) == size and hashlib.sha256(data).hexdigest() == sha256:
        return
    found = f"{len(data):,} bytes" if len(data) != size else "the same size, other bytes"
    raise CorruptDataError(
        f"{path} is not the published SCAN file {name} ({found}; the published one has "
        f"{size:,}): it is truncated, damaged or edited. Delete it to download it again, copy "
        f"{SCAN_BASE_URL}/{name} in its place, or pass official=False to read a modified copy."
    )


def load_scan(
    split: str = "simple", path: StrPath | None = None, *, official: bool = True
) -> ScanPairs:
    """``{"train": pairs, "test": pairs}`` of a SCAN split (``locate_scan``), as ``ScanPairs``
    naming the files read. With ``official``, each must be the published file (a truncated copy
    would read as fewer pairs, the last cut short); else any copy in SCAN's format is read."""
    files = dict(zip(("train", "test"), locate_scan(split, path), strict=True))
    if official:
        for file in files.values():
            check_published(file, f"{SCAN_SPLITS[split][0]}/{file.name}")
    return ScanPairs({part: read_scan_file(file) for part, file in files.items()}, files)


# ------------------------------------------------------------------------------ the grammar
# SCAN's grammar (Lake and Baroni, 2018), executed by ``interpret``:
#   C -> S and S | S after S | S;   S -> V twice | V thrice | V
#   V -> D opposite left|right | D around left|right | D;   D -> U left|right | turn left|right | U
#   U -> walk | look | run | jump

PRIMITIVES = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP"}
TURNS = {"left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
REPEATS = {"twice": 2, "thrice": 3}
CONJUNCTIONS = ("and", "after")


def _interpret_phrase(words: list[str]) -> list[str] | None:
    """The actions of one phrase ``S`` of the grammar, or ``None`` if ``words`` is not one."""
    repeat = 1
    if words and words[-1] in REPEATS:
        words, repeat = words[:-1], REPEATS[words[-1]]
    verb, *rest = words or [""]
    action = [PRIMITIVES[verb]] if verb in PRIMITIVES else [] if verb == "turn" else None
    if action is None:
        return None
    if not rest and action:
        phrase = action
    elif len(rest) == 1 and rest[0] in TURNS:
        phrase = [TURNS[rest[0]], *action]
    elif len(rest) == 2 and rest[0] in ("opposite", "around") and rest[1] in TURNS:
        turn = TURNS[rest[1]]
        phrase = [turn, turn, *action] if rest[0] == "opposite" else [turn, *action] * 4
    else:
        return None
    return phrase * repeat


def _clauses(words: list[str]) -> list[list[int]]:
    """Positions of each clause's words, in execution order (``x after y`` runs ``y`` first)."""
    for conjunction in CONJUNCTIONS:
        if conjunction in words:
            i = words.index(conjunction)
            left, right = list(range(i)), list(range(i + 1, len(words)))
            return [left, right] if conjunction == "and" else [right, left]
    return [list(range(len(words)))]


def interpret(command: str | list[str]) -> list[str]:
    """The actions a SCAN command means, e.g. ``"jump left"`` -> ``["I_TURN_LEFT", "I_JUMP"]``;
    ``ValueError`` naming the command (and the phrase, in one of two) outside the grammar."""
    words = command.split() if isinstance(command, str) else list(command)
    text = " ".join(words)
    joins = [w for w in words if w in CONJUNCTIONS]
    if len(joins) > 1:
        raise ValueError(
            f"{text!r} is not a SCAN command: it has {len(joins)} conjunctions, and a command "
            f"has at most one ({' or '.join(map(repr, CONJUNCTIONS))})"
        )
    actions = []
    for positions in _clauses(words):
        phrase = [words[p] for p in positions]
        meaning = _interpret_phrase(phrase)
        if meaning is None:
            why = ""
            if joins and phrase:
                why = f": {' '.join(phrase)!r}, on one side of {joins[0]!r}, is not a phrase"
            elif joins:
                why = f": one side of {joins[0]!r} is empty"
            raise ValueError(f"{text!r} is not a SCAN command{why}")
        actions += meaning
    return actions


def clause_spans(command: str | list[str]) -> list[tuple[list[int], range]]:
    """For each clause of a command, in execution order: the positions of its words in the
    command and the range of output steps (actions) that it produces."""
    words = command.split() if isinstance(command, str) else list(command)
    spans, start = [], 0
    for positions in _clauses(words):
        n = len(interpret([words[p] for p in positions]))
        spans.append((positions, range(start, start + n)))
        start += n
    return spans
