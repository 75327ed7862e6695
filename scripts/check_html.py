#!/usr/bin/env python3
"""Open tarea2.html in headless Chromium and check what a reader sees.

    python3 scripts/check_html.py [tarea2.html] [--screenshot out.png]

Checks, in the rendered page (not the file's text): every figure of tarea2.ipynb is an image
that the browser decoded; every table is there; special tokens (<eos>, <sos>, <pad>, <unk>) read
as text instead of being swallowed as HTML tags; the code of the answer cells is hidden. Needs
Chromium (Debian: `apt-get install chromium`). Exit status 0 when everything holds.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const text = document.body.innerText;
  document.body.dataset.check = JSON.stringify({
    images: images.length,
    decoded: images.filter((i) => i.complete && i.naturalWidth > 0).length,
    tables: document.querySelectorAll("table").length,
    tokens_as_text: ["<eos>", "<sos>", "<pad>", "<unk>"].filter((t) => text.includes(t)),
    tokens_as_tags: ["eos", "sos", "pad", "unk"].filter(
      (t) => document.getElementsByTagName(t).length > 0),
    answers: (text.match(/Respuesta/g) || []).length,
    answer_code: text.includes("Markdown(f"),
  });
});
</script>
"""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=20000",
]


def expected(notebook: Path) -> dict:
    """Figures and tables that the executed notebook holds."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    return {
        "images": sum("image/png" in o.get("data", {}) for o in outputs),
        "tables": sum("<table" in "".join(o.get("data", {}).get("text/html", "")) for o in outputs),
    }


def render(html: Path, chromium: str, screenshot: Path | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp, "page.html")
        page.write_text(html.read_text(encoding="utf-8") + PROBE, encoding="utf-8")
        profile = ["--user-data-dir=" + str(Path(tmp, "profile"))]
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, *profile, "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout
        if screenshot is not None:
            subprocess.run(
                [chromium, *CHROMIUM_FLAGS, *profile, "--window-size=1000,3000",
                 f"--screenshot={screenshot.resolve()}", html.resolve().as_uri()],
                capture_output=True, timeout=180, check=True,
            )  # fmt: skip
    match = re.search(r'data-check="([^"]*)"', dom)
    if match is None:
        raise RuntimeError("the page did not finish loading in Chromium")
    return json.loads(html_lib.unescape(match.group(1)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("html", nargs="?", default="tarea2.html", type=Path)
    parser.add_argument("--notebook", default="tarea2.ipynb", type=Path)
    parser.add_argument("--screenshot", type=Path, help="also save a screenshot of the top")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Chromium not found: install it (apt-get install chromium)", file=sys.stderr)
        return 2
    seen, want = render(args.html, chromium, args.screenshot), expected(args.notebook)
    problems = []
    if seen["images"] != want["images"] or seen["decoded"] != want["images"]:
        problems.append(f"{seen['decoded']} of {seen['images']} images decoded; the notebook "
                        f"has {want['images']} figures")  # fmt: skip
    if seen["tables"] < want["tables"]:
        problems.append(f"{seen['tables']} tables rendered; the notebook has {want['tables']}")
    if seen["tokens_as_tags"]:
        problems.append(f"special tokens swallowed as HTML tags: {seen['tokens_as_tags']}")
    if "<eos>" not in seen["tokens_as_text"]:
        problems.append("<eos> is not visible anywhere in the page")
    if seen["answer_code"] or seen["answers"] == 0:
        problems.append("answer cells show their code, or no answer is visible")
    print(json.dumps(seen))
    for problem in problems:
        print("problem:", problem)
    print(f"{len(problems)} problem(s) in {args.html}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
