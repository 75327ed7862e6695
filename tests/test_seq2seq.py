"""Seq2seq modules: shapes, masking, padding invariance, decoding, parameter formulas."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from rnnlib.config import Seq2SeqConfig
from rnnlib.models.seq2seq import (
    AttentionDecoderModule,
    AttentionModule,
    DecoderModule,
    Encoder,
    Seq2Seq,
    lengths_to_mask,
)
from rnnlib.utils import num_trainable_parameters

PAD, SOS, EOS = 0, 1, 2


SRC_V, TGT_V, E, H = 11, 7, 6, 5


def make_config(**overrides) -> Seq2SeqConfig:
    return Seq2SeqConfig(**make_fields(**overrides))


def make_fields(**overrides) -> dict:
    cfg = {
        "src_vocab_size": SRC_V,
        "tgt_vocab_size": TGT_V,
        "sos_idx": SOS,
        "eos_idx": EOS,
        "embedding_dim": E,
        "hidden_size": H,
    }
    cfg.update(overrides)
    return cfg


def make_model(attention: bool, seed: int = 0, **overrides) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(make_config(attention=attention, **overrides)).eval()


def padded_batch():
    """Three sources of lengths 4, 2, 3 (padded with 0) and their lengths."""
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 10, 3, 0]])
    return src, torch.tensor([4, 2, 3])


def test_lengths_to_mask():
    mask = lengths_to_mask(torch.tensor([3, 1]), 4)
    assert mask.tolist() == [[True, True, True, False], [True, False, False, False]]


def test_encoder_shapes_and_final_states_at_real_end():
    torch.manual_seed(0)
    enc = Encoder(SRC_V, E, H).eval()
    src, lengths = padded_batch()
    states, (h, c) = enc(src, lengths)
    assert states.shape == (3, 4, 2 * H)
    assert h.shape == c.shape == (3, 2 * H)
    # padded positions hold no state
    assert torch.all(states[1, 2:] == 0) and torch.all(states[2, 3:] == 0)
    for b, n in enumerate(lengths.tolist()):
        alone_states, (h1, c1) = enc(src[b : b + 1, :n], lengths[b : b + 1])
        torch.testing.assert_close(states[b : b + 1, :n], alone_states)
        torch.testing.assert_close(h[b : b + 1], h1)
        torch.testing.assert_close(c[b : b + 1], c1)
        # forward half = forward state at the last real token; backward half = state at 0
        torch.testing.assert_close(h1[0, :H], alone_states[0, n - 1, :H])
        torch.testing.assert_close(h1[0, H:], alone_states[0, 0, H:])


def test_attention_weights_normalised_and_zero_on_padding():
    torch.manual_seed(0)
    attn = AttentionModule()
    keys = torch.randn(3, 4, 8)
    query = torch.randn(3, 8)
    mask = lengths_to_mask(torch.tensor([4, 2, 3]), 4)
    out, weights = attn(query, keys, mask)
    assert out.shape == (3, 8) and weights.shape == (3, 4)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3))
    assert torch.all(weights[~mask] == 0)
    assert torch.all(weights[mask] > 0)
    # O = sum_n a_n V_n with a = softmax(q.k / sqrt(m)) over the real positions
    b = 1
    scores = keys[b, :2] @ query[b] / math.sqrt(8)
    expected_w = torch.softmax(scores, dim=0)
    torch.testing.assert_close(weights[b, :2], expected_w)
    torch.testing.assert_close(out[b], expected_w @ keys[b, :2])
    # padding values do not matter at all
    keys2 = keys.clone()
    keys2[~mask] = 1e3
    out2, weights2 = attn(query, keys2, mask)
    torch.testing.assert_close(out2, out)
    torch.testing.assert_close(weights2, weights)


def test_attention_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="query size"):
        AttentionModule()(torch.randn(2, 5), torch.randn(2, 3, 6))


@pytest.mark.parametrize("attention", [False, True])
def test_decoder_output_shapes(attention):
    model = make_model(attention)
    src, lengths = padded_batch()
    logits, attn = model(src, lengths, max_len=7, stop_at_eos=False)
    assert logits.shape == (3, 7, TGT_V)
    if attention:
        assert attn.shape == (3, 7, 4)
        torch.testing.assert_close(attn.sum(dim=-1), torch.ones(3, 7))
        assert torch.all(attn[1, :, 2:] == 0) and torch.all(attn[2, :, 3:] == 0)
    else:
        assert attn is None
    targets = torch.tensor([[3, 4, EOS], [5, EOS, PAD], [6, 6, EOS]])
    logits, _ = model(src, lengths, targets=targets, teacher_forcing_ratio=0.5)
    assert logits.shape == (3, 3, TGT_V)


def test_template_constructor_and_forward_signatures():
    table = nn.Embedding(TGT_V, E, padding_idx=PAD)
    basic = DecoderModule(table, 2 * H, SOS, TGT_V, eos_idx=EOS)
    assert basic.W_vocab.in_features == 2 * H and basic.W_vocab.out_features == TGT_V
    assert basic.lstm_cell.input_size == E and basic.lstm_cell.hidden_size == 2 * H
    att = AttentionDecoderModule(table, E, 2 * H, SOS, TGT_V, eos_idx=EOS)
    assert att.W_vocab.in_features == 4 * H
    assert att.lstm_cell.input_size == E + 2 * H
    enc_states, h, c = torch.randn(2, 3, 2 * H), torch.randn(2, 2 * H), torch.randn(2, 2 * H)
    for dec in (basic, att):
        logits, _ = dec(enc_states, h, c, 4, stop_at_eos=False)  # positional, as the template
        assert logits.shape == (2, 4, TGT_V)
    with pytest.raises(ValueError, match="embeddings_size"):
        AttentionDecoderModule(table, E + 1, 2 * H, SOS, TGT_V)


@pytest.mark.parametrize("attention", [False, True])
def test_start_idx_is_a_buffer(attention):
    model = make_model(attention)
    assert "decoder.start_idx" in dict(model.named_buffers())
    assert int(model.decoder.start_idx) == SOS


@pytest.mark.parametrize("attention", [False, True])
def test_padded_batch_decodes_like_each_example_alone(attention):
    model = make_model(attention, seed=3)
    src, lengths = padded_batch()
    with torch.no_grad():
        logits, attn = model(src, lengths, max_len=6, stop_at_eos=False)
        for b, n in enumerate(lengths.tolist()):
            alone, alone_attn = model(
                src[b : b + 1, :n], lengths[b : b + 1], max_len=6, stop_at_eos=False
            )
            torch.testing.assert_close(logits[b : b + 1], alone, atol=1e-5, rtol=1e-5)
            if attention:
                torch.testing.assert_close(attn[b : b + 1, :, :n], alone_attn, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("attention", [False, True])
def test_batch_size_comes_from_the_input(attention):
    model = make_model(attention)
    for batch in (1, 5):
        src = torch.randint(3, SRC_V, (batch, 3))
        logits, _ = model(src, torch.full((batch,), 3), max_len=2, stop_at_eos=False)
        assert logits.shape == (batch, 2, TGT_V)


def _force_output(model: Seq2Seq, token: int) -> None:
    """Make the decoder's output layer always predict ``token``."""
    with torch.no_grad():
        model.decoder.W_vocab.weight.zero_()
        model.decoder.W_vocab.bias.fill_(-10.0)
        model.decoder.W_vocab.bias[token] = 10.0


@pytest.mark.parametrize("attention", [False, True])
def test_free_running_decoding_stops_when_all_emitted_eos(attention):
    model = make_model(attention)
    src, lengths = padded_batch()
    _force_output(model, EOS)
    logits, attn = model(src, lengths, max_len=9)
    assert logits.shape[1] == 1  # every sequence emitted <eos> at the first step
    assert model(src, lengths, max_len=9, stop_at_eos=False)[0].shape[1] == 9
    _force_output(model, 4)  # never <eos>: runs to max_length
    assert model(src, lengths, max_len=9)[0].shape[1] == 9


@pytest.mark.parametrize("attention", [False, True])
def test_decoder_feeds_back_its_own_greedy_prediction(attention):
    """Free-running: step t's input is argmax of step t-1, same as teacher forcing with it."""
    model = make_model(attention, seed=5)
    src, lengths = padded_batch()
    with torch.no_grad():
        free, _ = model(src, lengths, max_len=5, stop_at_eos=False)
        greedy = free.argmax(-1)  # [B, 5]
        forced, _ = model(src, lengths, targets=greedy, teacher_forcing_ratio=1.0)
        zero_ratio, _ = model(src, lengths, targets=greedy * 0 + 3, teacher_forcing_ratio=0.0)
    torch.testing.assert_close(forced, free)
    torch.testing.assert_close(zero_ratio, free)  # ratio 0 never reads the targets


@pytest.mark.parametrize("attention", [False, True])
def test_teacher_forcing_feeds_the_gold_previous_token(attention):
    model = make_model(attention, seed=1)
    src, lengths = padded_batch()
    tgt = torch.tensor([[3, 4, 5, EOS], [5, 6, EOS, PAD], [6, 3, 3, EOS]])
    changed = tgt.clone()
    changed[:, 2] = torch.tensor([6, 3, 4])
    with torch.no_grad():
        a, _ = model(src, lengths, targets=tgt, teacher_forcing_ratio=1.0)
        b, _ = model(src, lengths, targets=changed, teacher_forcing_ratio=1.0)
    torch.testing.assert_close(a[:, :3], b[:, :3])  # steps up to 2 read tokens before 2
    assert not torch.allclose(a[:, 3], b[:, 3])  # step 3 reads the gold token 2


@pytest.mark.parametrize("attention", [False, True])
def test_gradients_reach_every_parameter(attention):
    model = make_model(attention).train()
    src, lengths = padded_batch()
    tgt = torch.tensor([[3, 4, 5, EOS], [5, 6, EOS, PAD], [6, 3, 3, EOS]])
    logits, _ = model(src, lengths, targets=tgt, teacher_forcing_ratio=0.5)
    nn.functional.cross_entropy(
        logits.reshape(-1, TGT_V), tgt.reshape(-1), ignore_index=PAD
    ).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_teacher_forcing_arguments_are_checked():
    model = make_model(False)
    src, lengths = padded_batch()
    with pytest.raises(ValueError, match="needs targets"):
        model(src, lengths, teacher_forcing_ratio=0.5)
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        model(src, lengths, targets=src, teacher_forcing_ratio=1.5)


@pytest.mark.parametrize("attention", [False, True])
@pytest.mark.parametrize("sizes", [(6, 5, 11, 7), (32, 64, 15, 9), (1, 1, 3, 4)])
def test_parameter_formula_matches_the_model(attention, sizes):
    emb, hidden, vs, vt = sizes
    cfg = make_config(
        attention=attention,
        embedding_dim=emb,
        hidden_size=hidden,
        src_vocab_size=vs,
        tgt_vocab_size=vt,
    )
    counts = cfg.parameter_count()
    model = Seq2Seq(cfg)
    assert counts["total"] == num_trainable_parameters(model)
    assert counts["attention"] == 0
    assert counts["encoder_lstm"] == sum(p.numel() for p in model.encoder.lstm.parameters())
    assert counts["decoder_lstm_cell"] == sum(
        p.numel() for p in model.decoder.lstm_cell.parameters()
    )
    assert counts["W_vocab"] == sum(p.numel() for p in model.decoder.W_vocab.parameters())
    assert counts["encoder_embedding"] == vs * emb
    assert counts["decoder_embedding"] == vt * emb


def test_parameter_formula_by_hand():
    """E=2, H=1 (D=2), V_s=3, V_t=4, worked out on paper."""
    cfg = make_config(embedding_dim=2, hidden_size=1, src_vocab_size=3, tgt_vocab_size=4)
    basic = cfg.parameter_count()
    # encoder LSTM per direction: W_ih 4x2 + W_hh 4x1 + 2 biases of 4 = 20 -> 40
    # decoder LSTMCell (D=2): W_ih 8x2 + W_hh 8x2 + 2 biases of 8 = 48; W_vocab (2+1)*4 = 12
    assert basic == {
        "encoder_embedding": 6,
        "encoder_lstm": 40,
        "decoder_embedding": 8,
        "decoder_lstm_cell": 48,
        "attention": 0,
        "W_vocab": 12,
        "total": 114,
    }
    att = cfg.replace(attention=True).parameter_count()
    # decoder input 2 + 2 = 4: 8*4 + 8*2 + 16 = 64; W_vocab (4+1)*4 = 20
    assert att["decoder_lstm_cell"] == 64 and att["W_vocab"] == 20 and att["total"] == 138


def test_config_is_json_and_rebuilds_the_same_model():
    model = make_model(True, seed=2)
    cfg = Seq2SeqConfig.from_dict(json.loads(json.dumps(model.config.to_dict())))
    assert cfg == model.config
    rebuilt = Seq2Seq(cfg)
    rebuilt.load_state_dict(model.state_dict())
    assert isinstance(rebuilt.decoder, AttentionDecoderModule)
    assert isinstance(make_model(False).decoder, DecoderModule)
    src, lengths = padded_batch()
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(src, lengths)[0], model(src, lengths)[0])


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"hidden_size": 0}, "hidden_size"),
        ({"embedding_dim": 2.5}, "embedding_dim"),
        ({"attention": "yes"}, "attention"),
        ({"eos_idx": SOS}, "distinct"),
        ({"sos_idx": TGT_V}, "sos_idx"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_config_raises(bad, match):
    with pytest.raises(ValueError, match=match):
        make_config(**bad)


def test_unknown_or_missing_config_fields_raise():
    with pytest.raises(ValueError, match=r"unknown Seq2SeqConfig field\(s\) \['layers'\]"):
        Seq2SeqConfig.from_dict(make_fields(layers=2))
    fields = make_fields()
    del fields["tgt_vocab_size"]
    with pytest.raises(ValueError, match=r"lacks the required field\(s\) \['tgt_vocab_size'\]"):
        Seq2SeqConfig.from_dict(fields)
    with pytest.raises(ValueError, match="needs a dict"):
        Seq2SeqConfig.from_dict([("a", 1)])
    with pytest.raises(ValueError, match="needs a Seq2SeqConfig"):
        Seq2Seq(make_fields())


@pytest.mark.parametrize("attention", [False, True])
def test_decoder_starts_from_the_joined_encoder_states(attention):
    model = make_model(attention)
    assert model.decoder.hidden_size == 2 * model.encoder.hidden_size == 2 * H
    assert model.decoder.lstm_cell.hidden_size == 2 * H


@pytest.mark.parametrize("attention", [False, True])
def test_full_teacher_forcing_shortcut_gives_the_step_by_step_results(monkeypatch, attention):
    model = make_model(attention, seed=3).train()
    src, lengths = padded_batch()
    targets = torch.tensor([[3, 4, EOS], [5, EOS, PAD], [6, 6, EOS]])
    fused, fused_attn = model(src, lengths, targets=targets, teacher_forcing_ratio=1.0)
    grads = torch.autograd.grad(fused.sum(), list(model.parameters()))
    # the step-by-step loop, fed the gold previous token at every step
    monkeypatch.setattr(model.decoder, "_teacher_forced", lambda state, targets, context: None)
    stepwise, step_attn = model(src, lengths, targets=targets, teacher_forcing_ratio=1.0)
    step_grads = torch.autograd.grad(stepwise.sum(), list(model.parameters()))
    assert fused.shape == stepwise.shape == (3, 3, TGT_V)
    torch.testing.assert_close(fused, stepwise)
    if attention:
        torch.testing.assert_close(fused_attn, step_attn)
    else:
        assert fused_attn is None and step_attn is None
    for a, b in zip(grads, step_grads, strict=True):
        torch.testing.assert_close(a, b)
