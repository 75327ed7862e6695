"""Diagnostics for Activity 3: how far back the gradient reaches in a recurrent classifier.

``input_gradient_profile`` measures ``||dL/dx_t||``, the gradient of the loss with respect to
the embedded input at each position, as a function of the distance from the last token. For a
vanilla RNN it shrinks roughly geometrically with the distance (vanishing gradients: early
words barely change the loss); gated cells (LSTM, GRU) keep it much flatter.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def input_gradient_profile(
    model: nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """Mean ``||dL/dx_t||`` by distance from the end: entry ``d`` averages, over the batch,
    the gradient norm at position ``length - 1 - d`` of each sequence (``d`` below the shortest
    length only). The model must have an ``embedding`` module; it is run in eval mode (no
    dropout) and its parameters' gradients are left untouched.
    """
    if ids.dim() != 2 or lengths.shape != (ids.shape[0],) or labels.shape != (ids.shape[0],):
        raise ValueError(
            f"expected ids [batch, seq_len], lengths [batch] and labels [batch], got "
            f"{tuple(ids.shape)}, {tuple(lengths.shape)} and {tuple(labels.shape)}"
        )
    if not hasattr(model, "embedding"):
        raise ValueError(f"{type(model).__name__} has no 'embedding' module to take gradients at")
    captured: list[torch.Tensor] = []

    def keep(_module, _inputs, output):
        output.retain_grad()
        captured.append(output)

    was_training = model.training
    model.eval()
    model.to(device)
    requires = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    hook = model.embedding.register_forward_hook(keep)
    try:
        embedding_weight = model.embedding.weight
        embedding_weight.requires_grad_(True)  # so the embedded output is part of the graph
        logits = model(ids.to(device), lengths)  # [batch]
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, labels.float().to(device), reduction="sum"
        )
        loss.backward()
        grads = captured[0].grad.norm(dim=-1).cpu()  # [batch, seq_len]
    finally:
        hook.remove()
        for p, r in zip(model.parameters(), requires, strict=True):
            p.requires_grad_(r)
            p.grad = None
        model.train(was_training)
    shortest = int(lengths.min())
    profile = np.zeros(shortest)
    for b, length in enumerate(lengths.tolist()):
        profile += grads[b, length - shortest : length].flip(0).numpy()  # distance 0 first
    return profile / len(lengths)
