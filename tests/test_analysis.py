import numpy as np
import pytest
import torch
from torch import nn

from rnnlib.analysis import input_gradient_norms, recurrent_spectral_norms


class TinyClassifier(nn.Module):
    def __init__(self, cell):
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(30, 8, padding_idx=0)
        self.rnn = cell(8, 16, batch_first=True)
        self.output = nn.Linear(16, 1)

    def forward(self, ids, lengths):
        out, _ = self.rnn(self.embedding(ids))  # [batch, seq_len, hidden]
        last = out[torch.arange(ids.shape[0]), lengths - 1]  # [batch, hidden]
        return self.output(last).squeeze(-1)


def _batch(length=60, batch=8):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 30, (batch, length), generator=g)
    return ids, torch.full((batch,), length), torch.randint(0, 2, (batch,), generator=g)


def test_one_norm_per_review_and_distance_vanishing_for_a_contractive_rnn():
    model = TinyClassifier(nn.RNN)
    with torch.no_grad():  # a contractive recurrence: gradients must shrink with distance
        model.rnn.weight_hh_l0.mul_(0.3)
    ids, lengths, labels = _batch()
    norms = input_gradient_norms(model, ids, lengths, labels)
    assert norms.shape == (8, 60)
    assert (norms[:, 0] > 0).all()
    assert (norms[:, 40:].max(axis=1) < 1e-3 * norms[:, 0]).all()


def test_each_row_is_its_own_review_read_back_from_its_last_token():
    model = TinyClassifier(nn.LSTM)
    ids, lengths, labels = _batch()
    lengths = torch.tensor([60, 50, 40, 60, 60, 60, 60, 60])
    flags = [p.requires_grad for p in model.parameters()]
    model.train()
    norms = input_gradient_norms(model, ids, lengths, labels)
    assert norms.shape == (8, 40)  # distances below the shortest length
    assert model.training and [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    # the review of length 50, alone and cut to its own tokens: the same 40 last distances
    alone = input_gradient_norms(model, ids[1:2, :50], lengths[1:2], labels[1:2])
    np.testing.assert_allclose(norms[1], alone[0, :40], rtol=1e-5, atol=1e-9)


def test_a_gradient_too_small_to_square_in_float32_keeps_its_norm():
    model = TinyClassifier(nn.GRU)
    with torch.no_grad():  # every input gradient around 1e-25: its float32 square underflows
        model.output.weight.mul_(1e-25)
    ids, lengths, labels = _batch(length=10)
    norms = input_gradient_norms(model, ids, lengths, labels)
    assert (norms > 0).all() and norms.max() < 1e-20


def test_rejects_mismatched_shapes():
    ids, lengths, labels = _batch()
    with pytest.raises(ValueError, match="expected ids"):
        input_gradient_norms(TinyClassifier(nn.GRU), ids, lengths[:3], labels)


def test_recurrent_spectral_norms_are_the_largest_singular_values():
    model = TinyClassifier(nn.RNN)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(torch.diag(torch.linspace(0.5, 3.0, 16)))
    assert recurrent_spectral_norms(model) == {"rnn.weight_hh_l0": pytest.approx(3.0)}
    lstm = TinyClassifier(nn.LSTM)
    (norm,) = recurrent_spectral_norms(lstm).values()  # the four gates' blocks stacked: [64, 16]
    assert norm == pytest.approx(torch.linalg.svdvals(lstm.rnn.weight_hh_l0.detach())[0].item())
    with pytest.raises(ValueError, match="no recurrent 'weight_hh'"):
        recurrent_spectral_norms(nn.Linear(3, 3))
