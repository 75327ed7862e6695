import pytest
import torch
from torch import nn

from rnnlib.analysis import input_gradient_profile


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


def test_profile_has_one_value_per_distance_and_vanishes_for_a_saturated_rnn():
    model = TinyClassifier(nn.RNN)
    with torch.no_grad():  # a contractive recurrence: gradients must shrink with distance
        model.rnn.weight_hh_l0.mul_(0.3)
    ids, lengths, labels = _batch()
    profile = input_gradient_profile(model, ids, lengths, labels)
    assert profile.shape == (60,)
    assert profile[0] > 0
    assert profile[40:].mean() < 1e-3 * profile[0]


def test_profile_uses_each_sequence_end_and_restores_the_model():
    model = TinyClassifier(nn.LSTM)
    ids, lengths, labels = _batch()
    lengths = torch.tensor([60, 50, 40, 60, 60, 60, 60, 60])
    flags = [p.requires_grad for p in model.parameters()]
    model.train()
    profile = input_gradient_profile(model, ids, lengths, labels)
    assert profile.shape == (40,)
    assert model.training and [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())


def test_profile_rejects_mismatched_shapes():
    ids, lengths, labels = _batch()
    with pytest.raises(ValueError, match="expected ids"):
        input_gradient_profile(TinyClassifier(nn.GRU), ids, lengths[:3], labels)
