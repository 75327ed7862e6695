"""SentimentRNN: parameter formula, final states at the real last token, bidirectionality."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnlib.batching import pad_batch
from rnnlib.config import ClassifierConfig
from rnnlib.models.classifier import SentimentRNN
from rnnlib.utils import num_trainable_parameters

CELLS = ("rnn", "lstm", "gru")


def _batch(seqs: list[list[int]]):
    return pad_batch([torch.tensor(s) for s in seqs])


def _model(
    vocab_size,
    embedding_dim,
    hidden_size=100,
    cell="rnn",
    num_layers=1,
    bidirectional=False,
    *,
    packing="auto",
    pretrained=None,
    **config,
):
    config = ClassifierConfig(
        vocab_size, embedding_dim, hidden_size, cell, num_layers, bidirectional, **config
    )
    return SentimentRNN(config, packing=packing, pretrained=pretrained)


@pytest.mark.parametrize(
    "cell, bidirectional, dense_size, freeze, num_layers",
    [
        (c, b, d, f, n)
        for c, b, d, f, n in itertools.product(CELLS, (False, True), (None, 7), (False, True), (1,))
    ]
    + [(c, b, 5, False, 2) for c in CELLS for b in (False, True)],
)
def test_parameter_formula_matches_model(cell, bidirectional, dense_size, freeze, num_layers):
    args = dict(
        vocab_size=37,
        embedding_dim=11,
        hidden_size=13,
        cell=cell,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dense_size=dense_size,
        freeze_embeddings=freeze,
    )
    model = _model(**args)
    counts = ClassifierConfig(**args).parameter_count()
    assert counts["total"] == num_trainable_parameters(model)
    assert counts["total"] == sum(counts[k] for k in ("embedding", "recurrent", "dense", "output"))
    assert counts["embedding"] == (0 if freeze else 37 * 11)
    assert counts["frozen"] == (37 * 11 if freeze else 0)
    by_module = {
        "embedding": model.embedding,
        "recurrent": model.layers,
        "dense": model.dense,
        "output": model.output,
    }
    for name, module in by_module.items():
        assert counts[name] == num_trainable_parameters(module), name


def test_parameter_formula_by_hand():
    # Assignment's base model: vocab 20,000, embeddings 100, vanilla RNN hidden 100.
    counts = ClassifierConfig(20_000, 100, 100, "rnn").parameter_count()
    assert counts["recurrent"] == 100 * 100 + 100 * 100 + 2 * 100
    assert counts["output"] == 101
    assert counts["total"] == 2_000_000 + 20_200 + 101
    lstm = ClassifierConfig(20_000, 100, 100, "lstm", bidirectional=True).parameter_count()
    assert lstm["recurrent"] == 2 * 4 * (100 * 100 + 100 * 100 + 200)
    assert lstm["output"] == 201


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_prediction(cell, bidirectional):
    torch.manual_seed(0)
    model = _model(30, 6, 5, cell, num_layers=2, bidirectional=bidirectional).eval()
    short = [3, 7, 2, 9]
    alone_ids, alone_len = _batch([short])
    batch_ids, batch_len = _batch([list(range(1, 15)), short])
    assert batch_ids.shape[1] > len(short)  # the short one really is padded
    with torch.no_grad():
        alone = model(alone_ids, alone_len)
        in_batch = model(batch_ids, batch_len)
        # Garbage in the padded positions must not matter either.
        noisy = batch_ids.clone()
        noisy[1, len(short) :] = 17
        noisy_out = model(noisy, batch_len)
    torch.testing.assert_close(in_batch[1], alone[0])
    torch.testing.assert_close(noisy_out[1], alone[0])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_packed_and_padded_paths_agree(cell, bidirectional, num_layers):
    torch.manual_seed(1)
    model = _model(40, 6, 5, cell, num_layers, bidirectional, dense_size=4).eval()
    ids, lengths = _batch([[1, 2, 3], [4, 5, 6, 7, 8, 9], [10], [11, 12, 13, 14]])
    with torch.no_grad():
        model.packing = "padded"
        padded = model(ids, lengths)
        model.packing = "packed"
        packed = model(ids, lengths)
    torch.testing.assert_close(padded, packed)


@pytest.mark.parametrize("cell", CELLS)
def test_final_state_is_state_at_real_last_token(cell):
    torch.manual_seed(2)
    model = _model(20, 4, 3, cell).eval()
    seq = [5, 6, 7]
    ids, lengths = _batch([seq, [1, 2, 3, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        final = model.final_states(ids, lengths)
        out, _ = model.layers[0][0](model.embedding(torch.tensor([seq])))
    torch.testing.assert_close(final[0], out[0, -1])


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_reads_both_final_states(cell):
    torch.manual_seed(3)
    model = _model(20, 4, 3, cell, bidirectional=True).eval()
    assert model.output.in_features == 2 * 3
    seq = [4, 9, 1, 7, 3]
    ids, lengths = _batch([seq, [2, 2, 2, 2, 2, 2, 2, 2]])
    with torch.no_grad():
        final = model.final_states(ids, lengths)  # [2, 6]
        emb = model.embedding(torch.tensor([seq]))
        fwd, _ = model.layers[0][0](emb)
        bwd, _ = model.layers[0][1](emb.flip(1))  # backward = forward over the reversed sequence
    torch.testing.assert_close(final[0, :3], fwd[0, -1])
    torch.testing.assert_close(final[0, 3:], bwd[0, -1])

    # Changing only the backward direction's weights changes the prediction ...
    with torch.no_grad():
        before = model(ids, lengths)
        for p in model.layers[0][1].parameters():
            p.add_(0.5)
        after = model(ids, lengths)
        final_after = model.final_states(ids, lengths)
    assert not torch.allclose(before, after)
    # ... and leaves the forward half of the features as it was.
    torch.testing.assert_close(final_after[:, :3], final[:, :3])


@pytest.mark.parametrize("packing", ("padded", "packed"))
@pytest.mark.parametrize(
    "cell, bidirectional, num_layers",
    [(c, b, n) for c in CELLS for b in (False, True) for n in (1, 2)],
)
def test_step_states_end_at_final_states(cell, bidirectional, num_layers, packing):
    torch.manual_seed(4)
    model = _model(20, 4, 3, cell, num_layers, bidirectional, dense_size=5, packing=packing).eval()
    seqs = [[5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8], [9]]
    ids, lengths = _batch(seqs)
    with torch.no_grad():
        steps = model.step_states(ids, lengths)  # [3, 8, dirs * 3]
        final = model.final_states(ids, lengths)
        step_logits = model.step_logits(ids, lengths)  # [3, 8]
        logits = model(ids, lengths)
    assert steps.shape == (3, 8, model.num_directions * 3)
    assert step_logits.shape == (3, 8)
    at_last = steps[torch.arange(3), lengths - 1]
    torch.testing.assert_close(at_last, final)
    torch.testing.assert_close(step_logits[torch.arange(3), lengths - 1], logits)
    # Real positions do not depend on the padding: the short sequence alone gives the same states.
    with torch.no_grad():
        alone = model.step_states(torch.tensor([seqs[0]]), torch.tensor([3]))
    torch.testing.assert_close(steps[0, :3], alone[0])


def test_step_states_pair_the_directions_by_tokens_read():
    torch.manual_seed(5)
    model = _model(20, 4, 3, "rnn", bidirectional=True).eval()
    seq = [4, 9, 1, 7]
    with torch.no_grad():
        steps = model.step_states(torch.tensor([seq]), torch.tensor([4]))  # [1, 4, 6]
        emb = model.embedding(torch.tensor([seq]))
        fwd, _ = model.layers[0][0](emb)  # state after the first k tokens
        bwd, _ = model.layers[0][1](emb.flip(1))  # state after the last k tokens
    torch.testing.assert_close(steps[0, :, :3], fwd[0])
    torch.testing.assert_close(steps[0, :, 3:], bwd[0])


@pytest.mark.parametrize("cell", CELLS)
def test_overfits_tiny_batch(cell):
    torch.manual_seed(0)
    seqs = [[1, 2, 3, 4], [5, 6], [7, 8, 9], [2, 4, 6, 8, 1], [3, 3], [9, 1, 5], [6, 2], [8]]
    labels = torch.tensor([1, 0, 1, 0, 1, 0, 1, 0], dtype=torch.float)
    ids, lengths = _batch(seqs)
    model = _model(10, 8, 16, cell, bidirectional=True, dense_size=8)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(ids, lengths), labels)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert ((model.eval()(ids, lengths) > 0).float() == labels).all()


def test_pad_row_is_zero_and_pretrained_is_used():
    pretrained = torch.randn(12, 5)
    model = _model(12, 5, 4, pretrained=pretrained, pad_idx=0, freeze_embeddings=True)
    assert torch.equal(model.embedding.weight[0], torch.zeros(5))
    torch.testing.assert_close(model.embedding.weight[1:], pretrained[1:])
    assert not model.embedding.weight.requires_grad
    with pytest.raises(ValueError, match=r"shape \(12, 4\).*\(12, 5\)"):
        _model(12, 5, 4, pretrained=torch.randn(12, 4))


@pytest.mark.parametrize("cell", CELLS)
def test_orthogonal_init_of_recurrent_blocks(cell):
    torch.manual_seed(0)
    model = _model(10, 4, 6, cell, bidirectional=True, orthogonal_init=True)
    default = _model(10, 4, 6, cell, bidirectional=True)
    assert num_trainable_parameters(model) == num_trainable_parameters(default)
    for direction in model.layers[0]:
        blocks = direction.weight_hh_l0.detach().split(6, dim=0)
        assert len(blocks) == {"rnn": 1, "gru": 3, "lstm": 4}[cell]
        for block in blocks:
            torch.testing.assert_close(block @ block.T, torch.eye(6), atol=1e-5, rtol=0)
    block = default.layers[0][0].weight_hh_l0.detach()[:6]
    assert not torch.allclose(block @ block.T, torch.eye(6), atol=0.1)


def test_config_round_trip():
    torch.manual_seed(0)
    model = _model(25, 6, 7, "gru", 2, True, dense_size=3, dropout=0.1)
    import json

    payload = json.loads(json.dumps(model.config.to_dict()))  # JSON-able
    config = ClassifierConfig.from_dict(payload)
    assert config == model.config
    rebuilt = SentimentRNN(config)
    rebuilt.load_state_dict(model.state_dict())
    ids, lengths = _batch([[1, 2, 3], [4, 5]])
    model.eval()
    rebuilt.eval()
    torch.testing.assert_close(model(ids, lengths), rebuilt(ids, lengths))
    with pytest.raises(ValueError, match=r"unknown ClassifierConfig field\(s\) \['hidden'\]"):
        ClassifierConfig.from_dict({**payload, "hidden": 3})
    with pytest.raises(ValueError, match="needs a ClassifierConfig"):
        SentimentRNN(payload)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cell": "transformer"}, r"cell must be one of \['rnn', 'lstm', 'gru'\], got 'transf"),
        ({"packing": "zip"}, r"packing must be one of .*'padded'.*got 'zip'"),
        ({"hidden_size": 0}, "hidden_size must be a positive integer, got 0"),
        ({"num_layers": 1.5}, "num_layers must be a positive integer"),
        ({"dense_size": -3}, "dense_size must be a positive integer or None"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
        ({"bidirectional": "yes"}, r"bidirectional must be one of \[False, True\], got 'yes'"),
        ({"bidirectional": 1}, r"bidirectional must be one of \[False, True\], got 1"),
        ({"pad_idx": 99}, r"pad_idx must be an id in \[0, vocab_size = 10\)"),
    ],
)
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _model(**{"vocab_size": 10, "embedding_dim": 4, **kwargs})


def test_bad_inputs_raise():
    model = _model(10, 4, 3)
    with pytest.raises(ValueError, match=r"ids must be \[batch, seq_len\]"):
        model(torch.tensor([1, 2, 3]), torch.tensor([3]))
    with pytest.raises(ValueError, match="lengths must be in"):
        model(torch.tensor([[1, 2, 0]]), torch.tensor([4]))
    with pytest.raises(ValueError, match="cell must be one of"):
        ClassifierConfig(10, 4, 3, "cnn")


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1])
def test_locked_dropout_rejects_a_rate_outside_0_1(p):
    from rnnlib.models.classifier import LockedDropout

    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        LockedDropout(p)
