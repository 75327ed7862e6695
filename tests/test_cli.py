"""python -m rnnlib predict / translate on tiny saved runs, and their errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from rnnlib.__main__ import main, write_best
from rnnlib.config import ClassifierConfig, TrainConfig
from rnnlib.experiments import train_or_load
from rnnlib.sentiment import prepare_sentiment_data
from rnnlib.translation import prepare_scan
from tests.test_experiments import PAIRS
from tests.test_sentiment import _dataset_dict


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs/ folder with a tiny sentiment run, a tiny seq2seq run and best.json."""
    root = tmp_path_factory.mktemp("project") / "runs"
    imdb = prepare_sentiment_data(
        _dataset_dict(n_train=160, n_test=40), max_len=None, min_freq=1, val_size=40, seed=0
    )
    config = ClassifierConfig(len(imdb.vocab), 8, 8, "gru")
    train = TrainConfig(max_epochs=6, lr=0.02, batch_size=16)
    sentiment = train_or_load("s", config, train, imdb, store=root, log=None)
    scan = prepare_scan({"train": PAIRS * 8, "test": PAIRS}, val_size=0.2, seed=0)
    train = TrainConfig(max_epochs=30, lr=0.02, batch_size=8, teacher_forcing_ratio=1.0)
    seq2seq = train_or_load(
        "t", scan.model_config(attention=True, embedding_dim=8, hidden_size=8), train, scan,
        store=root, log=None,
    )  # fmt: skip
    write_best(root, {"sentiment": sentiment.path, "translation": seq2seq.path})
    return root


def test_predict_prints_one_probability_per_text(runs, capsys):
    assert main(["predict", "great fun, superb", "awful and boring", "--runs", str(runs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[1] == "positive" and lines[1].split()[1] == "negative"
    assert 0.5 <= float(lines[0].split()[0]) <= 1 and lines[1].endswith("awful and boring")


def test_translate_prints_the_actions(runs, capsys):
    assert main(["translate", "jump twice", "WALK thrice", "--runs", str(runs)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "jump twice  ->  I_JUMP I_JUMP",
        "walk thrice  ->  I_WALK I_WALK I_WALK",
    ]


def test_a_named_run_is_used(runs, capsys):
    (path,) = [p for p in runs.iterdir() if p.name.startswith("t-")]
    assert main(["translate", "walk", "--run", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "walk  ->  I_WALK"


def test_a_runs_folder_can_be_moved_and_renamed(runs, tmp_path, capsys):
    moved = tmp_path / "elsewhere"
    shutil.copytree(runs, moved)
    assert set(json.loads((moved / "best.json").read_text()).values()) == {
        p.name for p in moved.iterdir() if p.is_dir()
    }  # folder names, not paths
    assert main(["translate", "walk", "--runs", str(moved)]) == 0
    assert capsys.readouterr().out.strip() == "walk  ->  I_WALK"
    assert main(["predict", "great fun", "--runs", str(moved)]) == 0
    assert capsys.readouterr().out.split()[1] == "positive"


def test_best_json_written_by_an_older_notebook_is_read(runs, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(runs, old)
    names = json.loads((old / "best.json").read_text())
    (old / "best.json").write_text(json.dumps({k: f"runs/{v}" for k, v in names.items()}))
    assert main(["translate", "walk", "--runs", str(old)]) == 0
    assert capsys.readouterr().out.strip() == "walk  ->  I_WALK"


def test_write_best_rejects_an_unknown_kind_or_a_run_elsewhere(runs, tmp_path):
    run = next(p for p in runs.iterdir() if p.is_dir())
    with pytest.raises(ValueError, match="unknown kind 'model'; allowed values are"):
        write_best(runs, {"model": run})
    with pytest.raises(ValueError, match="is not a run folder directly inside"):
        write_best(tmp_path, {"sentiment": run})


@pytest.mark.parametrize("content", ["[1]", '{"sentiment": 5}', '{"translation": "x"}', "{"])
def test_a_damaged_best_json_is_a_clear_error(tmp_path, capsys, content):
    (tmp_path / "best.json").write_text(content)
    assert main(["predict", "good", "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "best.json names no sentiment run" in err and "use --run" in err
    assert "Traceback" not in err


def test_errors_say_what_to_do(runs, tmp_path, capsys):
    assert main(["predict", "good", "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "no trained model yet" in err and "python3 run.py notebook" in err
    assert main(["predict", "...", "--runs", str(runs)]) == 2
    assert "text 0 cannot be classified" in capsys.readouterr().err
    assert main(["translate", "fly twice", "--runs", str(runs)]) == 2
    assert "'fly' is not a SCAN word" in capsys.readouterr().err
    assert main(["translate", "jump jump", "--runs", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "'jump jump' is not a SCAN command, so it has no correct translation" in err
    assert err.count("jump jump") == 1
    assert main(["translate", "walk twice twice", "--runs", str(runs)]) == 2
    assert "'walk twice twice' is not a SCAN command" in capsys.readouterr().err
    (path,) = [p for p in runs.iterdir() if p.name.startswith("t-")]
    assert main(["predict", "good", "--run", str(path)]) == 2
    assert "is not a sentiment run" in (err := capsys.readouterr().err) and "use translate" in err


def test_the_module_runs_as_a_command(runs):
    done = subprocess.run(
        [sys.executable, "-m", "rnnlib", "translate", "jump", "--runs", str(runs)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == "jump  ->  I_JUMP"


def test_an_unknown_option_is_reported_with_the_command_usage(runs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "good", "--foo", "--runs", str(runs)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m rnnlib predict" in err
    assert "unrecognized arguments: --foo" in err
