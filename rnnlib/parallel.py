"""Train several sentiment runs at once, each in its own process with one CPU thread.

On a small CPU machine one recurrent training run does not keep the cores busy: its matrix
products are small, so a second thread speeds it up far less than twice. Two runs in two
processes with one thread each finish sooner than the same two runs one after the other with two
threads each (measured with torch 2.13 on 2 cores: 1.2x for two LSTMs, 1.3x for two
bidirectional RNNs, 1.6x for two vanilla RNNs).

A job is one of:

- a ``dict``: the keyword arguments of ``rnnlib.sentiment.run_experiment``. A worker trains the
  run and saves it in the ``RunStore``; this process then loads it from there, so what comes
  back is the same as from a sequential ``run_experiment`` call, and the worker's per-epoch lines
  are passed on to ``log``;
- a ``Deferred``: a run that depends on others (e.g. "the best of these three, plus a dense
  layer"). Its ``build`` is called here, with the finished results, once the jobs it names in
  ``after`` are done, and returns the ``dict`` job;
- a ``Call``: any other work for a worker (e.g. a baseline), ``fn(**kwargs)`` with ``fn``
  importable from a module (workers are spawned, so they import it by name).

A free worker takes the first job in the list that is ready (whose ``after`` runs are done), so
put the longest jobs, and those others wait for, first. With ``workers=1`` (or on CUDA, where
processes would share one GPU) the jobs run here, one after the other, in that same order.
"""

from __future__ import annotations

import multiprocessing
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import torch

from .runs import RunStore
from .sentiment import run_experiment


@dataclass(frozen=True)
class Deferred:
    """A ``run_experiment`` job built from earlier results: ``build(results)`` is called with
    ``{name: result}`` of the finished jobs once all the jobs named in ``after`` are done."""

    after: tuple[str, ...]
    build: Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """``fn(**kwargs)`` in a worker; its return value is the result under ``name``.

    ``fn`` must be a module-level function (spawned workers import it by name), and its
    arguments and return value are pickled, so pass data that pickles cheaply (e.g. Hugging
    Face datasets, which pickle as references to their files).
    """

    name: str
    fn: Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)


Job = dict[str, Any] | Deferred | Call


def _single_thread() -> None:
    torch.set_num_threads(1)


def _train_job(job: dict[str, Any]) -> tuple[list[str], bool]:
    """Worker side: train (or load) one run into its store; its log lines and ``loaded``."""
    lines: list[str] = []
    run = run_experiment(**job, log=lines.append)
    return lines, run.loaded


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    return fn(**kwargs)


def _check_run_job(job: Any) -> dict[str, Any]:
    if not isinstance(job, dict):
        raise ValueError(
            f"a job must be a dict of run_experiment arguments, a Deferred or a Call; got "
            f"{type(job).__name__}"
        )
    if not isinstance(job.get("store"), RunStore):
        raise ValueError(f"job {job.get('name')!r} has no RunStore (store=...)")
    job = dict(job)
    job.pop("log", None)
    return job


def run_experiments(
    jobs: Sequence[Job],
    *,
    workers: int = 2,
    log: Callable[[str], Any] | None = print,
) -> dict[str, Any]:
    """Run ``jobs`` with up to ``workers`` at a time; ``{name: result}`` in the jobs' order.

    A run's result is its ``SentimentRun`` (the same as ``run_experiment(**job)``; runs trained
    by a worker come back with ``loaded=False``); a ``Call``'s is what its function returned.
    Every run job needs a ``store`` (the workers hand their runs back through it), and all
    names must be distinct.
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    pending: list[tuple[int, Job]] = []  # (position in the jobs' order, job)
    known: list[str] = []
    for position, job in enumerate(jobs):
        if isinstance(job, Call):
            known.append(job.name)
        elif not isinstance(job, Deferred):
            job = _check_run_job(job)
            known.append(job.get("name"))
        pending.append((position, job))
    if len(set(known)) != len(known):
        raise ValueError(f"job names must be distinct, got {known}")
    for _, job in pending:
        if isinstance(job, Deferred) and not set(job.after) <= set(known):
            raise ValueError(
                f"a Deferred job waits for {sorted(set(job.after) - set(known))}, which are "
                f"not the names of the other jobs ({known})"
            )
    on_cuda = any(
        isinstance(job, dict) and torch.device(job.get("device", "cpu")).type == "cuda"
        for _, job in pending
    )
    in_process = workers == 1 or len(pending) == 1 or on_cuda
    taken = set(known)  # names in use, including those of the Deferred runs built so far
    results: dict[str, Any] = {}
    slots: dict[str, int] = {}  # name -> position in the jobs' order

    def next_ready() -> tuple[int, dict[str, Any] | Call] | None:
        for entry in pending:
            position, job = entry
            if isinstance(job, Deferred) and not set(job.after) <= results.keys():
                continue
            pending.remove(entry)
            if isinstance(job, Deferred):
                job = _check_run_job(job.build(dict(results)))
                if job.get("name") in taken:
                    raise ValueError(
                        f"a Deferred job built a run named {job.get('name')!r}, a name already "
                        "in use; names must be distinct"
                    )
                taken.add(job.get("name"))
            return position, job
        return None

    def keep(name: str, result: Any, position: int) -> None:
        results[name], slots[name] = result, position

    def finish(job: dict[str, Any] | Call, outcome: Any, position: int) -> None:
        """Store what a worker returned (a ``Call``'s value, or a run's log lines and flag)."""
        if isinstance(job, Call):
            keep(job.name, outcome, position)
            return
        lines, loaded = outcome
        if log is not None:
            for line in lines:
                log(line)
        run = run_experiment(**{**job, "retrain": False}, log=None)  # saved by the worker
        if not run.loaded:
            warnings.warn(
                f"run {job['name']!r} trained by a worker could not be loaded from "
                f"{job['store'].root}; it was trained again here",
                stacklevel=3,
            )
        run.loaded = loaded
        keep(job["name"], run, position)

    if in_process:
        while pending:
            ready = next_ready()
            if ready is None:  # cannot happen after the checks above
                raise RuntimeError("no job is ready to run")
            position, job = ready
            if isinstance(job, Call):
                keep(job.name, _call(job.fn, job.kwargs), position)
            else:
                keep(job["name"], run_experiment(**job, log=log), position)
        return {name: results[name] for name in sorted(results, key=slots.__getitem__)}

    context = multiprocessing.get_context("spawn")
    running: dict[Future, tuple[int, dict[str, Any] | Call]] = {}
    with ProcessPoolExecutor(
        max_workers=min(workers, len(pending)), mp_context=context, initializer=_single_thread
    ) as pool:
        while pending or running:
            while len(running) < workers and (ready := next_ready()) is not None:
                position, job = ready
                if isinstance(job, Call):
                    future = pool.submit(_call, job.fn, job.kwargs)
                else:
                    future = pool.submit(_train_job, job)
                running[future] = (position, job)
            if not running:  # cannot happen after the checks above
                raise RuntimeError("no job is ready to run")
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                position, job = running.pop(future)
                finish(job, future.result(), position)
    return {name: results[name] for name in sorted(results, key=slots.__getitem__)}


__all__ = ["Call", "Deferred", "run_experiments"]
