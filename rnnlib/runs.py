"""Saved training runs, reused exactly when nothing that could change them has changed.

A run is saved as ``<root>/<name>-s<seed>-<key>/``, written to a temporary folder renamed when
complete: ``model.pt`` (the ``state_dict``, read with ``weights_only=True``) and ``run.json``
(the key material, history, metrics and what is needed to use the model on new input). The key
hashes the model and training configurations, the seed, the data, the initial embedding table
and the code of every module, docstrings and comments aside (``source_fingerprint``)."""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import time
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import ClassifierConfig, Seq2SeqConfig, TrainConfig
from .models import build_model
from .utils import atomic_directory, atomic_write_text

RUN_FILE = "run.json"
WEIGHTS_FILE = "model.pt"
PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_TYPES = {cls.__name__: cls for cls in (ClassifierConfig, Seq2SeqConfig)}


def fingerprint(*parts: object) -> str:
    """Short stable hash of JSON-able parts (sorted keys) or of strings."""
    texts = (p if isinstance(p, str) else json.dumps(p, sort_keys=True, default=str) for p in parts)
    return hashlib.sha256("".join(text + "\0" for text in texts).encode()).hexdigest()[:16]


def tensor_fingerprint(tensor: torch.Tensor) -> str:
    """Hash of a tensor's dtype, shape and values."""
    array = tensor.detach().cpu().contiguous().numpy()
    return hashlib.sha256(f"{array.dtype}{array.shape}".encode() + array.tobytes()).hexdigest()[:16]


def _code_only(source: str) -> str:
    """The syntax tree of ``source`` without docstrings (comments are not in it)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(node, documented) and ast.get_docstring(node, clean=False) is not None:
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


@functools.cache
def source_fingerprint(package: Path = PACKAGE_DIR) -> str:
    """Hash of every ``.py`` module's path and code (no docstrings, comments) under ``package``."""
    digest = hashlib.sha256()
    for path in sorted(Path(package).rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(_code_only(path.read_text(encoding="utf-8")).encode())
    return digest.hexdigest()[:16]


def run_key(
    config: ClassifierConfig | Seq2SeqConfig,
    train: TrainConfig,
    *,
    seed: int,
    data: str,
    pretrained: torch.Tensor | None = None,
) -> dict[str, Any]:
    """The key material of a run: everything that decides its result."""
    return {
        "config": {"type": type(config).__name__, **config.to_dict()},
        "train": train.to_dict(),
        "seed": seed,
        "data": data,
        "pretrained": None if pretrained is None else tensor_fingerprint(pretrained),
        "code": source_fingerprint(),
    }


def _slug(name: str) -> str:
    """``"Seq2Seq básico"`` -> ``"seq2seq-basico"``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "run"


def config_from_dict(payload: dict[str, Any]) -> ClassifierConfig | Seq2SeqConfig:
    """A model configuration from ``{"type": ..., **fields}``."""
    payload = dict(payload)
    kind = payload.pop("type", None)
    if kind not in CONFIG_TYPES:
        raise ValueError(f"unknown configuration type {kind!r}; known: {sorted(CONFIG_TYPES)}")
    return CONFIG_TYPES[kind].from_dict(payload)


def load_run(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """The model (in eval mode, on the CPU) and the ``run.json`` payload of a saved run folder;
    ``FileNotFoundError`` if ``path`` is not one (no ``run.json`` / ``model.pt``),
    ``PermissionError`` if it cannot be read, ``ValueError`` if its files are not valid."""
    path = Path(path)
    for file in (RUN_FILE, WEIGHTS_FILE):
        if not (path / file).is_file():
            why = f"{file} is missing" if path.is_dir() else "it does not exist or is not a folder"
            raise FileNotFoundError(
                f"{path} is not a saved run: {why} (a saved run is a folder "
                "runs/<name>-s<seed>-<key> holding run.json and model.pt, saved by "
                "rnnlib.experiments.train_or_load, e.g. when the notebook runs)"
            )
    # a half-written or foreign file: say which and why
    try:
        payload = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
        model = build_model(config_from_dict(payload["key"]["config"]))
    except PermissionError:
        raise
    except Exception as err:
        raise ValueError(
            f"{path / RUN_FILE} does not describe a saved run ({type(err).__name__}: {err})"
        ) from err
    try:
        state = torch.load(path / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except PermissionError:
        raise
    except Exception as err:
        raise ValueError(
            f"{path / WEIGHTS_FILE} does not hold the weights of the model in {RUN_FILE} "
            f"({type(err).__name__}: {err})"
        ) from err
    return model.eval(), payload


def model_and_inference(run_or_path: Any) -> tuple[nn.Module, dict[str, Any] | None]:
    """The model and inference state of a ``rnnlib.experiments.Run`` or a saved run's folder
    (errors as ``load_run``)."""
    if isinstance(run_or_path, (str, os.PathLike)):
        try:
            model, payload = load_run(run_or_path)
        except ValueError as err:
            raise ValueError(
                f"{err}. The run is damaged: run the notebook again (it trains such a run anew) "
                "or use another saved run"
            ) from err
        return model, payload.get("inference")
    return run_or_path.model, run_or_path.inference


class RunStore:
    """A folder of saved runs, each keyed by ``run_key``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, name: str, key: dict[str, Any]) -> Path:
        return self.root / f"{_slug(name)}-s{key['seed']}-{fingerprint(key)}"

    def save(
        self, name: str, key: dict[str, Any], model: nn.Module, record: dict[str, Any]
    ) -> Path:
        """Save ``model``'s weights and ``record`` (JSON-able) under the run's folder."""
        final = self.path(name, key)
        stamp = {"saved_at": time.strftime("%Y-%m-%d %H:%M:%S"), "torch": torch.__version__}
        payload = {"name": name, "key": key, **record, **stamp}
        text = json.dumps(payload, indent=1, ensure_ascii=False)
        with atomic_directory(final) as tmp:
            torch.save(model.state_dict(), tmp / WEIGHTS_FILE)
            (tmp / RUN_FILE).write_text(text, encoding="utf-8")
        return final

    def update(self, path: Path, **fields: Any) -> None:
        """Add or replace top-level fields of a saved run's ``run.json``."""
        payload = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
        payload.update(fields)
        atomic_write_text(path / RUN_FILE, json.dumps(payload, indent=1, ensure_ascii=False))

    def load(self, name: str, key: dict[str, Any]) -> tuple[nn.Module, dict, Path] | None:
        """``(model, payload, path)`` of the saved run with this key; ``None`` if there is none
        or it cannot be parsed (with a warning). ``PermissionError`` if it cannot be read."""
        path = self.path(name, key)
        if not path.is_dir():
            return None
        try:
            model, payload = load_run(path)
            if payload.get("key") != json.loads(json.dumps(key)):
                raise ValueError("its key does not match the requested run")
        except PermissionError as err:
            raise PermissionError(
                f"saved run {path} cannot be read ({err.strerror}); fix its permissions or "
                "move it away"
            ) from err
        except (FileNotFoundError, ValueError) as err:
            warnings.warn(f"saved run {path} is unusable ({err}); training it again", stacklevel=2)
            return None
        return model, payload, path
