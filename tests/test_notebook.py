"""The whole notebook, executed in smoke mode (tiny subsets, one epoch) on the real data."""

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.data]


def test_notebook_runs_top_to_bottom_in_smoke_mode(real_data, shared_cache, tmp_path):
    papermill = pytest.importorskip("papermill")
    output = tmp_path / "tarea2-smoke.ipynb"
    env_before = dict(os.environ)
    os.environ["RNNLIB_CACHE"] = str(shared_cache)
    try:
        papermill.execute_notebook(
            str(REPO / "tarea2.ipynb"),
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
    assert {"imdb", "scan"} <= set(results)
    assert results["scan"]["source_words"] == 13 and results["scan"]["target_words"] == 6
    assert all(0.0 <= run["test_accuracy"] <= 1.0 for run in results["imdb"]["runs"])
