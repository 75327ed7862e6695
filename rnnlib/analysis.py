"""Diagnostics for Activity 3: how far back the gradient reaches in a recurrent classifier (a
vanilla RNN's vanishes roughly geometrically with the distance; gated cells keep it flatter)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def input_gradient_norms(
    model: nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """``||dL/dx_t||`` (in float64) of each review's loss (binary cross-entropy of its final
    logit) at its embedded inputs, as ``[batch, distance]``: distance ``d`` from the review's last
    token, ``d`` below the shortest length. Computed in eval mode; the parameters' gradients are
    left untouched. ``ValueError`` for other shapes or a model without ``embedding``."""
    if ids.dim() != 2 or lengths.shape != (ids.shape[0],) or labels.shape != (ids.shape[0],):
        raise ValueError(
            f"expected ids [batch, seq_len], lengths [batch] and labels [batch], got "
            f"{tuple(ids.shape)}, {tuple(lengths.shape)} and {tuple(labels.shape)}"
        )
    if not hasattr(model, "embedding"):
        raise ValueError(f"{type(model).__name__} has no 'embedding' module to take gradients at")
    captured: list[torch.Tensor] = []
    was_training = model.training
    model.eval()
    model.to(device)
    requires = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    hook = model.embedding.register_forward_hook(lambda _m, _i, output: captured.append(output))
    try:
        model.embedding.weight.requires_grad_(True)  # so the embedded output is in the graph
        logits = model(ids.to(device), lengths)  # [batch]
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, labels.float().to(device), reduction="sum"
        )
        (grad,) = torch.autograd.grad(loss, captured[0])  # [batch, seq_len, embedding_dim]
        # in float64: squared float32 entries below ~4e-23 would underflow to 0
        grads = grad.cpu().double().norm(dim=-1)  # [batch, seq_len]
    finally:
        hook.remove()
        for p, r in zip(model.parameters(), requires, strict=True):
            p.requires_grad_(r)
        model.train(was_training)
    shortest = int(lengths.min())
    return np.stack(
        [
            grads[b, length - shortest : length].flip(0).numpy()
            for b, length in enumerate(lengths.tolist())
        ]
    )  # [batch, shortest], distance 0 first


def recurrent_spectral_norms(model: nn.Module) -> dict[str, float]:
    """``{name: ||W_hh||_2}``, the spectral norm (largest singular value) of each ``weight_hh*``
    parameter (per layer and direction of a torch RNN, LSTM or GRU, gates stacked). A vanilla
    RNN's gradient through time can grow only if it exceeds 1 (Pascanu et al., 2013); a gated
    cell's stacked matrix is no such factor. ``ValueError`` if no parameter is named
    ``weight_hh*`` (a parametrised one, e.g. under ``weight_norm``, is named otherwise)."""
    norms = {
        name: torch.linalg.matrix_norm(p.detach().cpu().double(), ord=2).item()
        for name, p in model.named_parameters()
        if name.rsplit(".", 1)[-1].startswith("weight_hh")
    }
    if not norms:
        raise ValueError(f"{type(model).__name__} has no recurrent 'weight_hh' parameters")
    return norms
