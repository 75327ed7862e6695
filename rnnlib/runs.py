"""Saved training runs, so that re-running the notebook does not train again.

A run is saved as ``<root>/<name>-<key>/`` holding ``model.pt`` (the ``state_dict``) and
``run.json`` (config, history, extra results). The key hashes everything that determines the
run: the configuration, a fingerprint of the data, the seed and the source code of the modules
that define the model and its training. A run is written to a temporary folder that is renamed
only once complete, so an interrupted run never looks finished; a saved run that cannot be read
is retrained with a warning.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from .history import History, format_epoch

RUN_FILE = "run.json"
WEIGHTS_FILE = "model.pt"


def fingerprint(*parts: object) -> str:
    """Short stable hash of JSON-able parts (sorted keys) or of strings."""
    digest = hashlib.sha256()
    for part in parts:
        text = part if isinstance(part, str) else json.dumps(part, sort_keys=True, default=str)
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def code_version(modules: Iterable[ModuleType]) -> str:
    """Hash of the source code of ``modules``: a change in the model or loop retrains."""
    return fingerprint(*(inspect.getsource(m) for m in modules))


@dataclass
class SavedRun:
    model: nn.Module
    history: History
    extra: dict
    loaded: bool  # True when read back from disk rather than trained now
    path: Path | None  # None when trained without a store


class RunStore:
    """Directory of saved runs keyed by ``(name, key material)``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, name: str, key_material: dict) -> Path:
        return self.root / f"{name}-{fingerprint(key_material)}"

    def save(
        self, name: str, key_material: dict, model: nn.Module, history: History, extra: dict
    ) -> Path:
        final = self.path(name, key_material)
        tmp = final.with_name(final.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        torch.save(model.state_dict(), tmp / WEIGHTS_FILE)
        payload = {
            "name": name,
            "key": key_material,
            "history": history.to_dict(),
            "extra": extra,
            "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "torch": torch.__version__,
        }
        (tmp / RUN_FILE).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        return final

    def load(self, name: str, key_material: dict, model: nn.Module) -> SavedRun | None:
        """Load a saved run into ``model``; ``None`` if absent, or if corrupt (with a warning)."""
        path = self.path(name, key_material)
        if not path.is_dir():
            return None
        try:
            payload = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
            if payload.get("key") != json.loads(json.dumps(key_material, default=str)):
                raise ValueError("its key does not match the requested configuration")
            state = torch.load(path / WEIGHTS_FILE, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            history = History.from_dict(payload["history"])
            extra = dict(payload.get("extra", {}))
        except Exception as err:  # any unreadable run is retrained, never trusted
            warnings.warn(
                f"saved run {path} is unreadable ({type(err).__name__}: {err}); training it again",
                stacklevel=2,
            )
            shutil.rmtree(path, ignore_errors=True)
            return None
        return SavedRun(model, history, extra, loaded=True, path=path)

    def train_or_load(
        self,
        name: str,
        key_material: dict,
        build: Callable[[], nn.Module],
        train: Callable[[nn.Module], tuple[History, dict]],
        *,
        retrain: bool = False,
        device: torch.device | str = "cpu",
    ) -> SavedRun:
        """The saved run if there is one (unless ``retrain``), else train it and save it.

        ``build`` makes a fresh model; ``train`` trains it in place and returns its history
        and any extra results worth saving (e.g. test metrics).
        """
        model = build()
        if not retrain:
            saved = self.load(name, key_material, model)
            if saved is not None:
                saved.model.to(device)
                return saved
        model.to(device)
        history, extra = train(model)
        path = self.save(name, key_material, model, history, extra)
        return SavedRun(model, history, extra, loaded=False, path=path)


def train_or_load(
    store: RunStore | None,
    name: str,
    key_material: dict,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], tuple[History, dict]],
    *,
    retrain: bool = False,
    device: torch.device | str = "cpu",
    log: Callable[[str], object] | None = print,
) -> SavedRun:
    """Train a fresh model when there is no store; with one, :meth:`RunStore.train_or_load`,
    logging a loaded run's epochs as training would have (``extra["train_seconds"]`` is shown).
    """
    if store is None:
        model = build().to(device)
        history, extra = train(model)
        return SavedRun(model, history, extra, loaded=False, path=None)
    saved = store.train_or_load(name, key_material, build, train, retrain=retrain, device=device)
    if saved.loaded and log is not None:
        seconds = saved.extra.get("train_seconds", 0.0)
        log(f"{name}: loaded from {saved.path} (trained in {seconds:.0f} s)")
        for row in saved.history.epochs:
            log(format_epoch(row, name))
    return saved
