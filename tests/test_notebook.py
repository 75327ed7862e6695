"""The notebook: its source (tarea2.py) matches the executed tarea2.ipynb, and the whole of it
runs top to bottom in smoke mode (tiny subsets, a few epochs) on the real data."""

import ast
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


def _claim_checker(smoke: bool, stop: bool) -> dict:
    """The notebook's ``check_claims`` and its records, run apart from the notebook, with what
    it displays collected in ``shown``."""
    tree = ast.parse((REPO / "tarea2.py").read_text(encoding="utf-8"))
    wanted = {"check_claims", "CHECKED", "CONTRADICTED"}
    nodes = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in wanted)
        or (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) in wanted)
    ]
    assert len(nodes) == len(wanted), "tarea2.py no longer defines check_claims as expected"
    shown: list[str] = []
    namespace = {
        "SMOKE": smoke,
        "STOP_ON_CONTRADICTION": stop,
        "Markdown": str,
        "display": shown.append,
        "shown": shown,
    }
    exec(compile(ast.Module(body=nodes, type_ignores=[]), "tarea2.py", "exec"), namespace)
    return namespace


def test_claims_that_hold_pass_silently_and_are_counted():
    notebook = _claim_checker(smoke=False, stop=True)
    notebook["check_claims"]("Actividad 9", {"A supera a B": True, "C no difiere de D": True})
    assert notebook["shown"] == [] and notebook["CONTRADICTED"] == {}
    assert notebook["CHECKED"] == {"Actividad 9": 2}


def test_a_contradicted_claim_stops_the_run_naming_it():
    notebook = _claim_checker(smoke=False, stop=True)
    with pytest.raises(AssertionError) as err:
        notebook["check_claims"]("Actividad 9", {"A supera a B": True, "C no difiere de D": False})
    message = str(err.value)
    assert message.startswith("Actividad 9:") and "«C no difiere de D»" in message
    assert "A supera a B" not in message and "--keep-going" in message


@pytest.mark.parametrize(("smoke", "stop"), [(False, False), (True, True)])
def test_keep_going_and_smoke_warn_before_the_answer_and_record_the_claim(smoke, stop):
    notebook = _claim_checker(smoke=smoke, stop=stop)
    notebook["check_claims"]("Actividad 9", {"A supera a B": True, "C no difiere de D": False})
    notebook["check_claims"]("Anexo", {"E es cero": False})
    assert notebook["CONTRADICTED"] == {
        "Actividad 9": ["C no difiere de D"],
        "Anexo": ["E es cero"],
    }
    first, second = notebook["shown"]
    assert first.startswith("> **Aviso.**") and "«C no difiere de D»" in first
    assert "A supera a B" not in first and "«E es cero»" in second


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
    # smoke mode warns instead of stopping where its tiny runs contradict the text (they do):
    # one warning per answer with such claims, each quoting them, all recorded
    warnings = [
        "".join(out["data"]["text/markdown"])
        for cell in notebook["cells"]
        for out in cell.get("outputs", [])
        if "".join(out.get("data", {}).get("text/markdown", "")).startswith("> **Aviso.**")
    ]
    contradicted = results["contradicted_claims"]
    assert contradicted and len(warnings) == len(contradicted)
    for warning, claims in zip(warnings, contradicted.values(), strict=True):
        assert all(f"«{claim}»" in warning for claim in claims)
    checked = results["checked_claims"]
    assert all(len(claims) <= checked[section] for section, claims in contradicted.items())
    assert {"imdb", "scan", "scan_generalization"} <= set(results)
    assert results["scan"]["source_words"] == 13 and results["scan"]["target_words"] == 6
    for config in results["imdb"]["configs"]:
        assert all(0.0 <= a <= 1.0 for a in config.get("test_accuracy", []))
    # a smoke run names its models apart, leaving a full run's best.json to the command line
    assert not (tmp_path / "runs" / "best.json").exists()
    best = json.loads((tmp_path / "runs" / "best-smoke.json").read_text())
    assert all((tmp_path / "runs" / best[kind]).is_dir() for kind in ("sentiment", "translation"))
