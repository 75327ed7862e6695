"""The hand-written Elman BPTT reproduces nn.RNN: outputs and every gradient."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnlib.models.elman import elman_outputs, supports


@pytest.mark.parametrize("batch, seq_len", [(3, 1), (4, 7), (2, 40)])
def test_outputs_and_gradients_match_nn_rnn(batch, seq_len):
    torch.manual_seed(0)
    rnn = nn.RNN(5, 6, batch_first=True).double()
    nn.init.orthogonal_(rnn.weight_hh_l0)
    x = torch.randn(batch, seq_len, 5, dtype=torch.double, requires_grad=True)
    upstream = torch.randn(batch, seq_len, 6, dtype=torch.double)
    inputs = [x, *rnn.parameters()]

    expected = rnn(x)[0]
    expected_grads = torch.autograd.grad(expected, inputs, upstream)
    actual = elman_outputs(x, rnn)
    actual_grads = torch.autograd.grad(actual, inputs, upstream)

    torch.testing.assert_close(actual, expected)
    for name, a, e in zip(
        ["x", *dict(rnn.named_parameters())], actual_grads, expected_grads, strict=True
    ):
        torch.testing.assert_close(a, e, msg=lambda m, name=name: f"{name}: {m}")


def test_gradient_reaches_early_steps_through_the_recurrence():
    torch.manual_seed(1)
    rnn = nn.RNN(3, 4, batch_first=True)
    x = torch.randn(1, 5, 3, requires_grad=True)
    elman_outputs(x, rnn)[0, -1].sum().backward()  # loss on the last state only
    assert x.grad[0, 0].abs().sum() > 0  # the first input still gets a gradient
    # ... and the outputs do not depend on later inputs.
    y = x.detach().clone()
    y[0, 3:] += 1.0
    torch.testing.assert_close(elman_outputs(y, rnn)[0, :3], elman_outputs(x, rnn)[0, :3])


@pytest.mark.parametrize(
    "module",
    [
        nn.RNN(3, 4, batch_first=True, nonlinearity="relu"),
        nn.RNN(3, 4, batch_first=True, num_layers=2),
        nn.RNN(3, 4, batch_first=True, bidirectional=True),
        nn.RNN(3, 4, batch_first=False),
        nn.RNN(3, 4, batch_first=True, bias=False),
        nn.GRU(3, 4, batch_first=True),
    ],
)
def test_unsupported_modules_are_rejected(module):
    assert not supports(module)
    with pytest.raises(ValueError, match="one-layer, unidirectional"):
        elman_outputs(torch.randn(2, 3, 3), module)


def test_bad_input_shape_is_rejected():
    with pytest.raises(ValueError, match="seq_len"):
        elman_outputs(torch.randn(2, 3), nn.RNN(3, 4, batch_first=True))
