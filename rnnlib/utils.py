"""Seeding, device choice, parameter counting and atomic writes shared by both parts."""

from __future__ import annotations

import os
import random
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn


def set_seed(seed: int) -> None:
    """Seed ``random``, numpy and torch (CPU and CUDA) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - legacy global RNG, used by third-party code
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


def choose_device(preferred: str | None = None) -> torch.device:
    """``cuda`` when available (or when asked for), else ``cpu``."""
    if preferred is not None:
        if preferred not in ("cpu", "cuda") and not preferred.startswith("cuda:"):
            raise ValueError(f"unknown device {preferred!r}; use 'cpu', 'cuda' or 'cuda:N'")
        if preferred.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {preferred!r} was asked for but CUDA is not available")
        return torch.device(preferred)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def num_trainable_parameters(model: nn.Module) -> int:
    """Number of parameters that the optimiser updates (as in the assignment)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def split_indices(
    n: int, val_size: int | float, seed: int, *, groups: Sequence | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into sorted (train, validation) index arrays, with
    ``val_size`` a count or a fraction in (0, 1). With ``groups`` (one label per item), whole groups
    go to validation in a seeded order until it holds ``val_size`` items or more. ``ValueError``
    when either side would be empty."""
    if isinstance(val_size, float):
        if not 0.0 < val_size < 1.0:
            raise ValueError(f"a fractional val_size must be in (0, 1), got {val_size}")
        n_val = round(val_size * n)
    else:
        n_val = int(val_size)
    if not 0 < n_val < n:
        raise ValueError(f"val_size {val_size} leaves no training or no validation data (n={n})")
    rng = np.random.default_rng(seed)
    if groups is None:
        order = rng.permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} labels for {n} items")
    names, group_of = np.unique(np.asarray(groups), return_inverse=True)
    sizes = np.bincount(group_of)
    chosen = rng.permutation(len(names))
    taken = chosen[: int(np.searchsorted(np.cumsum(sizes[chosen]), n_val)) + 1]
    is_val = np.isin(group_of, taken)
    if is_val.all():
        raise ValueError(f"val_size {val_size} takes every group ({len(names)} of them)")
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


@contextmanager
def atomic_directory(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``final`` (``<final>.partial-<pid>-<random>``), renamed
    to ``final`` (replacing it) when the block ends without an error and removed otherwise."""
    final = Path(final)
    tmp = final.with_name(f"{final.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    tmp.mkdir(parents=True)
    try:
        yield tmp
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
