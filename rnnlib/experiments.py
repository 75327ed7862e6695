"""Experiments: train a configuration (or read its saved run back), and run several at once
in worker processes of one thread each (a recurrent training run does not keep two cores busy:
on 2 cores, two runs at once finish 1.2x to 1.6x sooner than one after the other)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import ClassifierConfig, Seq2SeqConfig, TrainConfig
from .history import History
from .models import build_model
from .runs import RunStore, run_key
from .sentiment import SentimentData, SentimentTask
from .train import fit
from .translation import ScanData, TranslationTask
from .utils import num_trainable_parameters, set_seed


@dataclass
class Run:
    """One trained configuration and seed: the model (selected weights), history, test metrics
    (``None`` if not evaluated; ``"correct"``: whether each test example was right) and where
    it is saved."""

    name: str
    seed: int
    config: ClassifierConfig | Seq2SeqConfig
    train: TrainConfig
    model: nn.Module
    history: History
    test: dict[str, Any] | None
    train_seconds: float
    inference: dict[str, Any]
    path: Path | None
    loaded: bool  # read back from a RunStore rather than trained now

    @property
    def best(self) -> dict:
        """The history row of the selected epoch."""
        return self.history.best

    @property
    def parameters(self) -> int:
        return self.config.parameter_count()["total"]


def task_for(config: ClassifierConfig | Seq2SeqConfig) -> SentimentTask | TranslationTask:
    """The task that trains and evaluates models of this configuration."""
    if isinstance(config, ClassifierConfig):
        return SentimentTask()
    if isinstance(config, Seq2SeqConfig):
        return TranslationTask(pad_idx=config.pad_idx, eos_idx=config.eos_idx)
    raise ValueError(f"no task for a {type(config).__name__}")


def train_or_load(
    name: str,
    config: ClassifierConfig | Seq2SeqConfig,
    train: TrainConfig,
    data: SentimentData | ScanData,
    *,
    seed: int = 0,
    pretrained: torch.Tensor | None = None,
    test: bool = True,
    store: RunStore | str | os.PathLike | None = None,
    retrain: bool = False,
    device: torch.device | str = "cpu",
    log: Callable[[str], Any] | None = print,
) -> Run:
    """Train ``config`` on ``data`` with ``train`` and ``seed`` (``rnnlib.train.fit``, selected
    on ``data.val``), or read the saved run back from ``store`` when its key matches (unless
    ``retrain``). With ``test`` the selected model is evaluated once on ``data.test`` (added to
    a saved run that lacks it), keeping per-example results; else the test set is unused."""
    if isinstance(store, (str, os.PathLike)):
        store = RunStore(store)
    task = task_for(config)
    key = run_key(config, train, seed=seed, data=data.fingerprint, pretrained=pretrained)
    saved = store.load(name, key) if store is not None and not retrain else None
    if saved is not None:
        model, record, path = saved
        model.to(device)
        if log is not None:
            log(f"{name} (seed {seed}): loaded from {path}")
    else:
        set_seed(seed)
        model = build_model(config, pretrained=pretrained)
        formula, actual = config.parameter_count()["total"], num_trainable_parameters(model)
        if formula != actual:  # the formula is tested; this guards against drift
            raise RuntimeError(f"parameter formula gives {formula:,}, the model has {actual:,}")
        start = time.perf_counter()
        history = fit(
            model, task, data.train, data.val, train, seed=seed, device=device, name=name, log=log
        )
        record = {
            "seed": seed,
            "history": history.to_dict(),
            "test": None,
            "train_seconds": time.perf_counter() - start,
            "inference": data.inference_state(),
        }
    if test and record["test"] is None:  # once per final model, after selection
        metrics = task.evaluate(
            model, data.test, batch_size=train.eval_batch_size, device=device, per_example=True
        )
        record["test"] = {**metrics, "correct": metrics["correct"].tolist()}
        if saved is not None:
            store.update(path, test=record["test"])
    if saved is None and store is not None:
        path = store.save(name, key, model, record)
    return Run(
        name=name,
        seed=seed,
        config=config,
        train=train,
        model=model,
        history=History.from_dict(record["history"]),
        test=record["test"],
        train_seconds=record["train_seconds"],
        inference=record["inference"],
        path=path if store is not None else None,
        loaded=saved is not None,
    )


class InlineExecutor(Executor):
    """An executor that runs each job in this process, when it is submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:
            future.set_exception(err)
        return future


def _init_worker() -> None:
    # Before the worker's thread pool exists, so that it flushes denormals too.
    torch.set_flush_denormal(True)
    torch.set_num_threads(1)


def pool_workers(workers: int | None = None, *, device: torch.device | str = "cpu") -> int:
    """How many runs ``process_pool`` trains at once: ``workers`` (default: one per core) on CPU,
    1 on CUDA; ``ValueError`` unless ``workers`` is a positive integer or ``None``."""
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    return 1 if torch.device(device).type == "cuda" else workers


def process_pool(workers: int | None = None, *, device: torch.device | str = "cpu") -> Executor:
    """An executor (a context manager) for ``train_or_load`` jobs: on CPU with ``workers > 1``
    (default: one per core), spawned processes with one torch thread each, flushing denormals;
    with one worker or on CUDA, an ``InlineExecutor``."""
    workers = pool_workers(workers, device=device)
    if workers == 1:
        return InlineExecutor()
    spawn = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=spawn, initializer=_init_worker)


class Experiments:
    """Named configurations, each trained with every seed of ``seeds`` by ``train_or_load`` in
    ``pool``; ``runs(name)`` waits for a configuration's runs (in seed order).

    ``submit`` returns at once; a configuration that depends on others is submitted once their
    ``runs`` returned. ``store``, ``retrain`` and ``device`` go to every run."""

    def __init__(
        self,
        pool: Executor,
        *,
        seeds: tuple[int, ...],
        store: RunStore | str | os.PathLike | None,
        retrain: bool = False,
        device: torch.device | str = "cpu",
    ) -> None:
        if not seeds:
            raise ValueError("seeds must hold at least one seed")
        self.pool, self.seeds = pool, tuple(seeds)
        self.options = {"store": store, "retrain": retrain, "device": device, "log": None}
        self._futures: dict[str, list[Future]] = {}

    def submit(
        self,
        name: str,
        config: ClassifierConfig | Seq2SeqConfig,
        train: TrainConfig,
        data: SentimentData | ScanData,
        *,
        pretrained: torch.Tensor | None = None,
        test: bool = True,
        seeds: tuple[int, ...] | None = None,
    ) -> None:
        """Start training ``config`` with every seed (``seeds``, when given, replaces the
        default ones for this configuration); ``ValueError`` if ``name`` is taken."""
        if name in self._futures:
            raise ValueError(f"an experiment named {name!r} was already submitted")
        options = {"pretrained": pretrained, "test": test, **self.options}
        self._futures[name] = [
            self.pool.submit(train_or_load, name, config, train, data, seed=seed, **options)
            for seed in (self.seeds if seeds is None else seeds)
        ]

    def runs(self, name: str) -> list[Run]:
        """The runs of ``name``, one per seed, once all are done (errors are raised here)."""
        if name not in self._futures:
            raise KeyError(f"no experiment named {name!r}; submitted: {list(self._futures)}")
        return [future.result() for future in self._futures[name]]

    @property
    def names(self) -> list[str]:
        return list(self._futures)

    @property
    def num_runs(self) -> int:
        """How many runs were submitted: every configuration times its seeds."""
        return sum(map(len, self._futures.values()))
