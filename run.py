#!/usr/bin/env python3
"""The project's entry points, runnable with nothing but Python 3.11+.

    python3 run.py notebook   # execute tarea2.ipynb top to bottom, in place (full mode)
    python3 run.py test       # ruff + the whole test suite
    python3 run.py html       # tarea2.html: the executed notebook for a browser, code hidden

Each creates ``.venv/`` on first use and installs ``requirements.txt`` into it (again only when
that file changes). The notebook's cells live in ``tarea2.py`` (jupytext, paired with
``tarea2.ipynb``): ``notebook`` first copies them into the ``.ipynb``. Extra options:
``notebook --smoke`` (tiny subsets, a few epochs, written to ``runs/tarea2-smoke.ipynb`` and
``runs/results-smoke.json``), ``notebook --retrain`` (ignore saved training runs), ``notebook
--data DIR``, ``notebook --keep-going`` (where this run's results contradict an answer's text,
show the answer after a warning instead of stopping), ``test -- <pytest args>``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".requirements.sha256"


def ensure_environment() -> None:
    """Create the virtualenv and install the pinned requirements if they changed."""
    wanted = hashlib.sha256(
        (ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    started = time.perf_counter()
    print("installing requirements.txt (first run: a few minutes)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(wanted)
    print(f"environment ready in {time.perf_counter() - started:.0f} s", flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}).returncode


def notebook(args: argparse.Namespace) -> int:
    if args.data and not Path(args.data).exists():
        print(f"error: --data {args.data} does not exist", file=sys.stderr)
        return 2
    env_data = os.environ.get("RNNLIB_DATA")
    if not args.data and env_data and not Path(env_data).expanduser().is_dir():
        print(
            f"error: RNNLIB_DATA={env_data} is not an existing folder; point it at the folder "
            "that holds aclImdb_v1.tar.gz and SCAN/, or unset it",
            file=sys.stderr,
        )
        return 2
    # The cells of tarea2.py as a notebook to execute: in place for a full run (its outputs are
    # about to be replaced), beside the smoke output otherwise (the committed notebook is kept).
    source = ROOT / ("runs/tarea2-smoke-input.ipynb" if args.smoke else "tarea2.ipynb")
    output = ROOT / ("runs/tarea2-smoke.ipynb" if args.smoke else "tarea2.ipynb")
    output.parent.mkdir(parents=True, exist_ok=True)
    code = run(
        [str(PYTHON), "-m", "jupytext", "--to", "ipynb", "-q", "-o", str(source), "tarea2.py"]
    )
    if code:
        return code
    cmd = [
        str(PYTHON),
        "-m",
        "papermill",
        str(source),
        str(output),
        "--kernel",
        "python3",
        "--log-output",
        "--no-progress-bar",
    ]
    # Parameters only where they differ from the notebook's defaults (full mode): papermill
    # adds a cell for them, which then stands in the notebook.
    if args.smoke:  # keep the committed results.json, which comes from a full run
        cmd += ["-p", "SMOKE", "True", "-p", "RESULTS_PATH", "runs/results-smoke.json"]
    if args.retrain:
        cmd += ["-p", "RETRAIN", "True"]
    if args.keep_going:
        cmd += ["-p", "STOP_ON_CONTRADICTION", "False"]
    if args.data:
        cmd += ["-p", "DATA_DIR", str(Path(args.data).resolve())]
    return run(cmd)


def html(args: argparse.Namespace) -> int:
    """``tarea2.html`` from the executed notebook, without the code of cells tagged
    ``remove-input`` (the answers and the purely presentational cells)."""
    return run(
        [
            str(PYTHON),
            "-m",
            "nbconvert",
            "--to",
            "html",
            "--TagRemovePreprocessor.enabled=True",
            "--TagRemovePreprocessor.remove_input_tags",
            "remove-input",
            "--output",
            "tarea2.html",
            "tarea2.ipynb",
        ]
    )


def test(args: argparse.Namespace) -> int:
    code = run([str(PYTHON), "-m", "ruff", "check", "."])
    if code:
        return code
    return run([str(PYTHON), "-m", "pytest", *args.pytest_args])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    nb = sub.add_parser("notebook", help="execute tarea2.ipynb")
    nb.add_argument("--smoke", action="store_true", help="tiny subsets, a few epochs")
    nb.add_argument("--retrain", action="store_true", help="train again even if a saved run exists")
    nb.add_argument("--data", help="folder with aclImdb_v1.tar.gz and SCAN/ (else RNNLIB_DATA)")
    nb.add_argument(
        "--keep-going",
        action="store_true",
        help="where this run's results contradict an answer's text, warn and go on (default: stop)",
    )
    nb.set_defaults(func=notebook)
    sub.add_parser("html", help="write tarea2.html (code of answer cells hidden)").set_defaults(
        func=html
    )
    ts = sub.add_parser("test", help="ruff and pytest")
    ts.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
    ts.set_defaults(func=test)
    args = parser.parse_args()
    if args.command == "test" and args.pytest_args[:1] == ["--"]:
        args.pytest_args = args.pytest_args[1:]
    ensure_environment()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
