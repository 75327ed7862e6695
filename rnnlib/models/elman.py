"""A faster CPU path for a one-layer tanh RNN (Elman), with hand-written BPTT.

``elman_outputs(x, rnn)`` returns ``rnn(x)[0]`` (zero initial state) with the same gradients.
PyTorch's CPU RNN records several autograd nodes and a small ``W_hh`` gradient product per step;
here a step is one ``addmm`` and ``sigmoid`` forward and one multiply-add and ``mm`` backward, and
``W_hh``'s gradient one product over all steps (README, "Speed")."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn
from torch.autograd.function import once_differentiable


class _ElmanRecurrence(torch.autograd.Function):
    """``h_t = tanh(p_t + h_{t-1} W_hh^T)`` from ``h_0 = 0``, for pre-activations ``p``."""

    @staticmethod
    def forward(ctx, projected: torch.Tensor, w_hh: torch.Tensor) -> torch.Tensor:
        # projected [batch, seq_len, hidden] = x W_ih^T + b_ih + b_hh; w_hh [hidden, hidden]
        batch, seq_len, hidden = projected.shape
        # tanh(a) = 2 sigmoid(2a) - 1, and PyTorch's CPU sigmoid is ~3x faster than its tanh.
        # With s_t = sigmoid(2 a_t), h_t = 2 s_t - 1 and a_t = p_t + h_{t-1} W^T:
        #   2 a_t = (2 p_t - 2 W 1) + s_{t-1} (4 W^T),
        # one addmm and one sigmoid per step; h = 2 s - 1 for all steps at the end.
        states = projected.new_empty(seq_len, batch, hidden)  # [seq_len, batch, hidden]
        torch.mul(projected.transpose(0, 1), 2.0, out=states)  # 2 p_t
        states[1:] -= 2.0 * w_hh.sum(dim=1)  # the "- 1" of h_{t-1} = 2 s_{t-1} - 1
        w_hh_t4 = 4.0 * w_hh.t()  # [hidden, hidden]
        steps = states.unbind(0)  # seq_len views [batch, hidden], made in one call
        steps[0].sigmoid_()  # h_0 = 0, so 2 a_1 = 2 p_1
        for previous, current in pairwise(steps):
            current.addmm_(previous, w_hh_t4).sigmoid_()
        states.mul_(2.0).sub_(1.0)  # h_t = tanh(a_t)
        ctx.save_for_backward(states, w_hh)
        return states.transpose(0, 1)  # [batch, seq_len, hidden]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_states: torch.Tensor):
        states, w_hh = ctx.saved_tensors  # states [seq_len, batch, hidden]
        _, batch, hidden = states.shape
        grad_steps = grad_states.transpose(0, 1)  # [seq_len, batch, hidden]
        tanh_grad = 1 - states * states  # d tanh / d pre-activation, [seq_len, batch, hidden]
        grad_pre = torch.empty_like(states)  # dL/dp_t, [seq_len, batch, hidden]
        carried = states.new_zeros(batch, hidden)  # dL/dh_t arriving from step t+1
        # per-step views [batch, hidden], made in one call each, walked from the last step
        steps = zip(*(x.unbind(0)[::-1] for x in (grad_steps, tanh_grad, grad_pre)), strict=True)
        for grad_t, tanh_grad_t, grad_pre_t in steps:
            torch.mul(carried.add_(grad_t), tanh_grad_t, out=grad_pre_t)
            torch.mm(grad_pre_t, w_hh, out=carried)
        # dL/dW_hh = sum_t grad_pre_t^T h_{t-1}, with h_0 = 0 contributing nothing.
        grad_w_hh = grad_pre[1:].reshape(-1, hidden).t() @ states[:-1].reshape(-1, hidden)
        return grad_pre.transpose(0, 1), grad_w_hh  # [batch, seq_len, hidden], [hidden, hidden]


def supports(rnn: nn.Module) -> bool:
    """Whether ``elman_outputs`` reproduces ``rnn``: a one-layer, unidirectional, batch-first
    ``nn.RNN`` with ``tanh`` and biases."""
    return (
        type(rnn) is nn.RNN
        and rnn.num_layers == 1
        and not rnn.bidirectional
        and rnn.batch_first
        and rnn.bias
        and rnn.nonlinearity == "tanh"
    )


def elman_outputs(x: torch.Tensor, rnn: nn.RNN) -> torch.Tensor:
    """``rnn(x)[0]`` for ``x [batch, seq_len, input]``, computed with the hand-written BPTT."""
    if not supports(rnn):
        raise ValueError(
            "elman_outputs needs a one-layer, unidirectional, batch_first nn.RNN with tanh and "
            f"biases; got {rnn!r}"
        )
    if x.dim() != 3 or x.shape[1] < 1:
        raise ValueError(f"x must be [batch, seq_len >= 1, input], got shape {tuple(x.shape)}")
    bias = rnn.bias_ih_l0 + rnn.bias_hh_l0  # [hidden]
    projected = nn.functional.linear(x, rnn.weight_ih_l0, bias)  # [batch, seq_len, hidden]
    return _ElmanRecurrence.apply(projected, rnn.weight_hh_l0)
