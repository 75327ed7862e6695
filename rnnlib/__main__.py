"""Command line: use the notebook's trained models on new input.

    python -m rnnlib predict "A wonderful film." "Dull and far too long."
    python -m rnnlib translate "jump twice after walk left"

Both read a saved run only, never the data sets. Without ``--run``, they use the runs that the
notebook chose by their validation results (``runs/best.json``, written when
``python3 run.py notebook`` finishes)."""

import argparse
import json
import sys
from pathlib import Path

from .utils import atomic_write_text

BEST_FILE = "best.json"
KINDS = ("sentiment", "translation")


def write_best(runs: Path, chosen: dict[str, Path], *, file: str = BEST_FILE) -> Path:
    """Record in ``runs/<file>`` (atomically) the name of the run folder chosen for each kind (read
    by ``best_run``); ``ValueError`` for an unknown kind or a run outside ``runs``."""
    runs = Path(runs)
    names = {}
    for kind, path in chosen.items():
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; allowed values are {KINDS}")
        if Path(path).resolve().parent != runs.resolve():
            raise ValueError(f"{path} is not a run folder directly inside {runs}")
        names[kind] = Path(path).name
    index = runs / file
    atomic_write_text(index, json.dumps(names, indent=1) + "\n")
    return index


def best_run(runs: Path, kind: str) -> Path:
    """The notebook's run for ``kind``; else ``FileNotFoundError`` saying how to make one."""
    index = runs / BEST_FILE
    try:
        chosen = json.loads(index.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no trained model yet: {index} does not exist. Run the notebook first "
            "(python3 run.py notebook; the README says how long it takes), point --runs at the "
            "folder that holds its runs, or name a saved run with --run "
            "runs/<name>-s<seed>-<key> (a smoke run's models are listed in runs/best-smoke.json)"
        ) from None
    except ValueError as err:  # not JSON, or not UTF-8
        raise FileNotFoundError(
            f"{index} names no {kind} run: it is not valid JSON ({err}); run the notebook again, "
            "or use --run"
        ) from None
    name = chosen.get(kind) if isinstance(chosen, dict) else None
    if not isinstance(name, str) or not name:
        raise FileNotFoundError(
            f"{index} names no {kind} run (it should map {kind!r} to a run folder's name); "
            "run the notebook again, or use --run"
        )
    return runs / Path(name).name  # wherever ``runs`` is now (older notebooks wrote runs/<run>)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlib",
        description=__doc__.replace("``", ""),  # the docstring's literals, as plain text
        formatter_class=argparse.RawTextHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {}
    for name, what in (("predict", "reviews (English)"), ("translate", "SCAN commands")):
        cmd = commands[name] = sub.add_parser(name, help=f"{name} {what}")
        cmd.add_argument("inputs", nargs="+", metavar="TEXT", help=what)
        cmd.add_argument("--run", type=Path, help="a saved run folder (default: the notebook's)")
        cmd.add_argument("--runs", type=Path, default=Path("runs"), help="default: ./runs")
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported with the command's own usage, not the top-level one
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    kind = "sentiment" if args.command == "predict" else "translation"
    try:
        run = args.run or best_run(args.runs, kind)
        if args.command == "predict":
            from .sentiment import predict

            for text, p in zip(args.inputs, predict(run, args.inputs), strict=True):
                label = "positive" if p >= 0.5 else "negative"
                print(f"{p:.3f}  {label:8}  {text}")
        else:
            from .translation import translate_commands

            for out in translate_commands(run, args.inputs):
                note = f"  (cut at {len(out.tokens)} steps: no <eos>)" if out.truncated else ""
                print(f"{' '.join(out.command)}  ->  {' '.join(out.actions)}{note}")
    except (FileNotFoundError, ValueError, PermissionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
