"""Seeding, device choice and parameter counting shared by both parts."""

from __future__ import annotations

import os
import random

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


def parameter_table(model: nn.Module) -> list[dict]:
    """One row per top-level child module: its name, trainable and frozen parameter counts."""
    rows = []
    for name, child in model.named_children():
        trainable = sum(p.numel() for p in child.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in child.parameters() if not p.requires_grad)
        rows.append({"component": name, "trainable": trainable, "frozen": frozen})
    return rows
