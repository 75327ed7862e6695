"""One training loop for both tasks (in the spirit of minGPT's ``Trainer``): ``fit`` owns Adam,
the schedule, clipping, bucketed batches, validation, early stopping and the history; a task
(``SentimentTask``, ``TranslationTask``) supplies collation, the batch loss and the validation
metrics. ``fit`` never sees the test set."""

from __future__ import annotations

import copy
import ctypes
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from .batching import BucketBatchSampler
from .config import TrainConfig
from .history import History, format_epoch
from .utils import set_seed


@dataclass
class StepResult:
    """One training batch: ``loss`` is minimised, ``reported_loss`` recorded; ``correct`` of
    ``count`` items (examples or target tokens) were right."""

    loss: torch.Tensor
    reported_loss: float
    count: int
    correct: int


class Task(Protocol):
    """What ``fit`` needs from a task: the validation ``metric`` to maximise, per-example
    ``lengths`` to bucket batches, ``collate`` (a CPU batch of dataset items), ``step`` (the loss
    of a batch on the model's device) and ``evaluate`` (``"loss"`` and ``metric``, in eval mode;
    with ``per_example``, also ``"correct"``, a boolean array in the dataset's order)."""

    metric: str

    def lengths(self, dataset: Any) -> Sequence[int]: ...
    def collate(self, examples: list) -> tuple[torch.Tensor, ...]: ...
    def step(self, model: nn.Module, batch: tuple, config: TrainConfig) -> StepResult: ...
    def evaluate(
        self,
        model: nn.Module,
        dataset: Any,
        *,
        batch_size: int,
        device: torch.device,
        per_example: bool = False,
    ) -> dict[str, Any]: ...


def batches(
    task: Task, dataset: Any, sampler: BucketBatchSampler, device: torch.device
) -> Iterator[tuple[torch.Tensor, ...]]:
    """Collated batches in the sampler's order, on ``device``. Not a ``DataLoader``: it draws
    from torch's global generator, so an evaluation would change training's random stream."""
    for indices in sampler:
        yield tuple(t.to(device) for t in task.collate([dataset[i] for i in indices]))


def make_adam(params, *, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """Adam, fused where supported (same arithmetic, faster for a large embedding table)."""
    params = list(params)  # tried twice
    try:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def flushes_in_all_threads() -> bool:
    """Whether every intra-op thread flushes denormals (an op over 2^20 elements gives zeros)."""
    return not bool((torch.full((1 << 20,), 1e-39) * 1.0).any())


def _on_glibc() -> bool:
    """Whether this process runs on Linux's GNU C library."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> bool:
    """Make glibc's ``malloc`` keep freed blocks of up to 32 MiB in the process (heap trimmed
    only when 1 GiB is free), so training steps do not fault them back in page by page (README,
    "Speed"); whether ``mallopt`` accepted it (``False`` off glibc: no change). Process-wide and
    permanent (glibc cannot report the previous setting): it replaces glibc's adaptive thresholds
    and any ``MALLOC_*`` or ``GLIBC_TUNABLES`` choice, and the process keeps the memory its peak
    used. Another allocator (jemalloc, tcmalloc) ignores it."""
    if not _on_glibc():
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    accepted = [mallopt(m_mmap_threshold, 32 << 20), mallopt(m_trim_threshold, 1 << 30)]
    return accepted == [1, 1]


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Flush denormal floats (vanishing gradients, slow on CPU) to zero within the block; see
    the README's "Speed" section. The flag is per thread, so if some of torch's intra-op threads
    do not flush, the block runs with one thread. The previous settings are restored."""
    before = bool((torch.tensor([1e-39]) * 1.0 == 0).all())  # whether this thread flushes
    if not torch.set_flush_denormal(True):  # this processor cannot flush: nothing to do
        yield
        return
    threads = torch.get_num_threads()
    single = threads > 1 and not flushes_in_all_threads()
    if single:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if single:
            torch.set_num_threads(threads)
        torch.set_flush_denormal(before)


def fit(
    model: nn.Module,
    task: Task,
    train_set: Any,
    val_set: Any,
    config: TrainConfig,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    name: str = "",
    log: Callable[[str], Any] | None = print,
) -> History:
    """Train ``model`` on ``train_set`` for ``task``, selecting on ``val_set``; its history.

    Each epoch adds a row: ``epoch``, ``updates``, ``lr`` (at its end), ``train_loss`` and
    ``train_accuracy`` (over its batches, in training mode), ``val_<k>`` for each metric of
    ``task.evaluate`` and ``seconds``; ``log`` gets it as one line (``None``: silent). The epoch
    with the best ``val_<task.metric>`` (ties: lower loss) is kept and its weights loaded back;
    ``config.patience`` stops training after that many epochs without a better one. ``seed``
    fixes batch order, dropout and teacher forcing. ``ValueError`` for an empty set. Denormals
    are flushed while it runs; on CPU it calls ``keep_freed_memory`` (which outlasts it)."""
    if len(train_set) == 0 or len(val_set) == 0:
        raise ValueError(
            f"fit needs examples to train on and to validate on; got {len(train_set)} training "
            f"and {len(val_set)} validation examples"
        )
    device = torch.device(device)
    if device.type == "cpu":
        keep_freed_memory()
    with flush_denormals():
        set_seed(seed)
        model.to(device)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = make_adam(params, lr=config.lr, weight_decay=config.weight_decay)
        sampler = BucketBatchSampler(task.lengths(train_set), config.batch_size, seed=seed)
        scheduler = None
        if config.schedule == "cosine":
            total = config.max_epochs * len(sampler)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
        history = History()
        best_key, best_state, since_best = None, None, 0
        for epoch in range(config.max_epochs):
            start = time.perf_counter()
            sampler.set_epoch(epoch)
            model.train()
            loss_sum, count, correct = 0.0, 0, 0
            for batch in batches(task, train_set, sampler, device):
                out = task.step(model, batch, config)
                optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                if config.clip is not None:
                    nn.utils.clip_grad_norm_(params, config.clip)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                history.step_losses.append(out.reported_loss)
                loss_sum += out.reported_loss
                count += out.count
                correct += out.correct
            val = task.evaluate(model, val_set, batch_size=config.eval_batch_size, device=device)
            row = history.add_epoch(
                updates=len(history.step_losses),
                lr=optimizer.param_groups[0]["lr"],
                train_loss=loss_sum / len(sampler),
                train_accuracy=correct / count,
                **{f"val_{k}": v for k, v in val.items()},
                seconds=time.perf_counter() - start,
            )
            if log is not None:
                log(format_epoch(row, name))
            key = (val[task.metric], -val["loss"])
            if best_key is None or key > best_key:
                best_key, best_state, since_best = key, copy.deepcopy(model.state_dict()), 0
                history.best_epoch = row["epoch"]
            else:
                since_best += 1
                if config.patience is not None and since_best >= config.patience:
                    break
        model.load_state_dict(best_state)
    return history
