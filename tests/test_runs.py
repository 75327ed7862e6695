"""Saved runs: the key decides reuse; writes are atomic; unreadable runs are handled."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from rnnlib.config import ClassifierConfig, TrainConfig
from rnnlib.models import build_model
from rnnlib.runs import (
    PACKAGE_DIR,
    RunStore,
    fingerprint,
    load_run,
    model_and_inference,
    run_key,
    source_fingerprint,
)

CONFIG = ClassifierConfig(vocab_size=12, embedding_dim=4, hidden_size=3)


def _key(**changes):
    args = {"seed": 0, "data": "abc", **changes}
    return run_key(args.pop("config", CONFIG), args.pop("train", TrainConfig()), **args)


def _save(store, key, name="tiny"):
    torch.manual_seed(0)
    model = build_model(CONFIG)
    return model, store.save(name, key, model, {"history": {"epochs": []}})


def test_save_then_load_gives_the_same_weights_and_record(tmp_path):
    store = RunStore(tmp_path)
    model, path = _save(store, _key())
    loaded, payload, where = store.load("tiny", _key())
    assert where == path and path.name.startswith("tiny-s0-")
    for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    assert payload["history"] == {"epochs": []} and payload["key"]["config"]["type"] == (
        "ClassifierConfig"
    )
    assert load_run(path)[1] == payload


def test_loading_a_run_that_is_not_there_says_what_a_run_is(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist or is not a folder"):
        load_run(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="run.json is missing"):
        load_run(tmp_path / "empty")


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"data": "abd"},
        {"config": CONFIG.replace(hidden_size=4)},
        {"train": TrainConfig(lr=0.002)},
        {"pretrained": torch.zeros(12, 4)},
    ],
)
def test_anything_that_decides_a_run_changes_its_key(tmp_path, change):
    store = RunStore(tmp_path)
    _save(store, _key())
    assert store.path("tiny", _key(**change)) != store.path("tiny", _key())
    assert store.load("tiny", _key(**change)) is None


def test_pretrained_tables_are_keyed_by_their_values():
    a, b = torch.zeros(12, 4), torch.zeros(12, 4)
    b[3, 1] = 1e-3
    assert fingerprint(_key(pretrained=a)) == fingerprint(_key(pretrained=a.clone()))
    assert fingerprint(_key(pretrained=a)) != fingerprint(_key(pretrained=b))


def test_editing_any_module_changes_the_key_but_not_a_comment(tmp_path):
    copy = tmp_path / "rnnlib"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_fingerprint(copy) == source_fingerprint(PACKAGE_DIR)
    modules = sorted(p for p in copy.rglob("*.py"))
    assert {p.name for p in modules} >= {"elman.py", "text.py", "plots.py", "report.py"}
    for module in modules:
        original = module.read_text()
        module.write_text(original + "\n# a comment\n")
        source_fingerprint.cache_clear()
        assert source_fingerprint(copy) == source_fingerprint(PACKAGE_DIR), module.name
        module.write_text(original + "\nEDITED = 1\n")
        source_fingerprint.cache_clear()
        assert source_fingerprint(copy) != source_fingerprint(PACKAGE_DIR), module.name
        module.write_text(original)
    source_fingerprint.cache_clear()


def test_docstrings_do_not_change_the_code_fingerprint(tmp_path):
    copy = tmp_path / "rnnlib"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "train.py"
    module.write_text(module.read_text().replace('"""One training loop', '"""The training loop', 1))
    source_fingerprint.cache_clear()
    assert source_fingerprint(copy) == source_fingerprint(PACKAGE_DIR)
    source_fingerprint.cache_clear()


def test_an_interrupted_run_is_not_mistaken_for_a_complete_one(tmp_path):
    store = RunStore(tmp_path)
    final = store.path("tiny", _key())
    partial = final.with_name(final.name + ".partial-123")
    partial.mkdir(parents=True)
    (partial / "model.pt").write_bytes(b"half")
    assert store.load("tiny", _key()) is None


def test_a_damaged_run_names_the_file_at_fault(tmp_path):
    store = RunStore(tmp_path)
    _, path = _save(store, _key())
    (path / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"model\.pt does not hold the weights") as err:
        model_and_inference(path)
    assert "run the notebook again" in str(err.value)
    (path / "run.json").write_text("{")
    with pytest.raises(ValueError, match=r"run\.json does not describe a saved run"):
        load_run(path)


def test_a_corrupt_run_is_retrained_with_a_warning(tmp_path):
    store = RunStore(tmp_path)
    _, path = _save(store, _key())
    (path / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match=r"(?s)unusable.*training it again"):
        assert store.load("tiny", _key()) is None
    _save(store, _key())
    (path / "run.json").write_text("{")
    with pytest.warns(UserWarning, match="unusable"):
        assert store.load("tiny", _key()) is None


def test_a_run_saved_under_another_key_is_not_trusted(tmp_path):
    store = RunStore(tmp_path)
    _, path = _save(store, _key())
    payload = json.loads((path / "run.json").read_text())
    payload["key"]["seed"] = 5
    (path / "run.json").write_text(json.dumps(payload))
    with pytest.warns(UserWarning, match="does not match"):
        assert store.load("tiny", _key()) is None


def test_an_unreadable_run_is_reported_and_left_in_place(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    _, path = _save(store, _key())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(torch, "load", denied)
    with pytest.raises(PermissionError, match=f"{path}.*cannot be read.*permissions"):
        store.load("tiny", _key())
    assert (path / "model.pt").is_file()


def test_weights_are_never_unpickled(tmp_path):
    store = RunStore(tmp_path)
    _, path = _save(store, _key())

    class Planted:
        def __reduce__(self):
            return (os.system, ("touch planted",))

    torch.save({"x": Planted()}, path / "model.pt")
    with pytest.warns(UserWarning, match="unusable"):
        assert store.load("tiny", _key()) is None
    assert not (tmp_path / "planted").exists() and not os.path.exists("planted")


def test_update_adds_fields_atomically(tmp_path):
    store = RunStore(tmp_path)
    _, path = _save(store, _key())
    store.update(path, test={"accuracy": 0.5})
    assert store.load("tiny", _key())[1]["test"] == {"accuracy": 0.5}
    assert sorted(p.name for p in path.iterdir()) == ["model.pt", "run.json"]


def test_fingerprint_is_stable_and_sensitive():
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_run_folders_are_named_in_plain_ascii(tmp_path):
    path = RunStore(tmp_path).path("Seq2Seq básico (jump)", _key(seed=2))
    assert path.name.startswith("seq2seq-basico-jump-s2-")
