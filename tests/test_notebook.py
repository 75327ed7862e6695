"""The notebook: its source (tarea2.py) matches the executed tarea2.ipynb, and the whole of it
runs top to bottom in smoke mode (tiny subsets, a few epochs) on the real data."""

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _cells(notebook) -> list[tuple[str, str, list]]:
    return [
        (c["cell_type"], "".join(c["source"]).strip(), c["metadata"].get("tags", []))
        for c in notebook["cells"]
    ]


def test_the_script_and_the_notebook_hold_the_same_cells():
    jupytext = pytest.importorskip("jupytext")
    script = jupytext.read(REPO / "tarea2.py")
    executed = json.loads((REPO / "tarea2.ipynb").read_text(encoding="utf-8"))
    assert _cells(script) == _cells(executed), (
        "tarea2.py and tarea2.ipynb differ: edit tarea2.py, then run `python3 run.py notebook` "
        "(or `jupytext --update --to ipynb tarea2.py`, which keeps the outputs)"
    )
    metadata = [c["metadata"] for c in script["cells"]]
    answers = [m for m in metadata if "remove-input" in m.get("tags", [])]
    assert answers and all(m.get("jupyter", {}).get("source_hidden") for m in answers)


@pytest.mark.slow
@pytest.mark.data
def test_notebook_runs_top_to_bottom_in_smoke_mode(real_data, shared_cache, tmp_path):
    papermill = pytest.importorskip("papermill")
    jupytext = pytest.importorskip("jupytext")
    source = tmp_path / "tarea2.ipynb"
    jupytext.write(jupytext.read(REPO / "tarea2.py"), source)
    output = tmp_path / "tarea2-smoke.ipynb"
    env_before = dict(os.environ)
    os.environ["RNNLIB_CACHE"] = str(shared_cache)
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters={
                "SMOKE": True,
                "DATA_DIR": str(real_data),
                "RUNS_DIR": str(tmp_path / "runs"),
                "RESULTS_PATH": str(tmp_path / "results.json"),
            },
            kernel_name="python3",
            cwd=str(REPO),
            progress_bar=False,
        )
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    notebook = json.loads(output.read_text())
    errors = [
        out
        for cell in notebook["cells"]
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert errors == []
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["smoke"] is True
    assert {"imdb", "scan", "scan_generalization"} <= set(results)
    assert results["scan"]["source_words"] == 13 and results["scan"]["target_words"] == 6
    for config in results["imdb"]["configs"]:
        assert all(0.0 <= a <= 1.0 for a in config.get("test_accuracy", []))
    # a smoke run names its models apart, leaving a full run's best.json to the command line
    assert not (tmp_path / "runs" / "best.json").exists()
    best = json.loads((tmp_path / "runs" / "best-smoke.json").read_text())
    assert all((tmp_path / "runs" / best[kind]).is_dir() for kind in ("sentiment", "translation"))
