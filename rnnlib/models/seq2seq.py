"""Sequence-to-sequence models for SCAN (Part 2, Activities 4-8): the assignment's templates,
completed, with their slips fixed (the batch size comes from the input, ``start_idx`` is a buffer);
both decoders return ``(logits, attention or None)``, so one training loop serves both.

A decoder generates left to right from its own predictions, so it cannot be bidirectional as the
text asks: ``DecoderModule`` is an ``LSTMCell`` of size ``2H`` started from the encoder's joined
final states. ``AttentionDecoderModule`` feeds ``O_t`` back to the LSTM at the next step (*input
feeding*, Luong et al. 2015), as the text asks."""

import math
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pad_packed_sequence

from ..batching import pack
from ..config import Seq2SeqConfig

# SCAN's longest action sequence has 48 actions; with <eos> a decoder needs 49 steps.
DEFAULT_MAX_LEN = 50


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``[batch, max_len]`` bool mask, ``True`` at real (non-padding) positions."""
    return torch.arange(max_len, device=lengths.device) < lengths.unsqueeze(1)  # [batch, max_len]


class Encoder(nn.Module):
    """Embedding + bidirectional LSTM over a padded batch read as a ``PackedSequence``."""

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        *,
        pad_idx: int = 0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_idx)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor):
        """``src [B, S]``, ``src_lengths [B]`` -> ``(all_states [B, S, 2H], (h_last, c_last))``,
        ``[B, 2H]`` each: zeros at padding; final states at each sequence's real end."""
        embedded = self.dropout(self.embedding(src))  # [B, S, E]
        packed_out, (h_n, c_n) = self.lstm(pack(embedded, src_lengths))
        # all_states [B, S, 2H]; h_n, c_n [2 (directions), B, H], in the batch's original order
        all_states, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=src.size(1))
        h_last, c_last = (torch.cat((s[0], s[1]), dim=-1) for s in (h_n, c_n))  # [B, 2H] each
        return all_states, (h_last, c_last)  # the final states joined (forward ; backward)


class AttentionModule(nn.Module):
    """Scaled dot-product attention, ``softmax(q·K^T / sqrt(m)) V``, ``K = V`` (no params); padded
    source positions get weight 0. A decoder calls ``prepare`` once per batch, then ``attend``."""

    def forward(
        self,
        h_t: torch.Tensor,
        all_enc_hidden_states: torch.Tensor,
        src_mask: torch.Tensor | None = None,
    ):
        """``h_t [B, m]``, ``all_enc_hidden_states [B, S, m]``, ``src_mask [B, S]`` (True = real)
        -> ``(O_t [B, m], weights [B, S])``."""
        keys = self.prepare(all_enc_hidden_states, src_mask)
        return self.attend(h_t, keys, all_enc_hidden_states)

    def prepare(
        self, all_enc_hidden_states: torch.Tensor, src_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(keys / sqrt(m) [B, m, S], bias [B, 1, S])``, the bias ``-inf`` at padding, else 0."""
        batch, src_len, m = all_enc_hidden_states.shape
        keys = all_enc_hidden_states.transpose(1, 2) / math.sqrt(m)  # [B, m, S]
        bias = all_enc_hidden_states.new_zeros(batch, 1, src_len)  # [B, 1, S]
        if src_mask is not None:
            bias = bias.masked_fill(~src_mask.unsqueeze(1), float("-inf"))  # [B, 1, S]
        return keys, bias

    def attend(
        self, h_t: torch.Tensor, keys: tuple[torch.Tensor, torch.Tensor], values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``h_t [B, m]``, ``keys`` from ``prepare``, ``values [B, S, m]`` ->
        ``(O_t [B, m], weights [B, S])``."""
        scaled_keys, bias = keys
        if h_t.size(-1) != scaled_keys.size(1):
            raise ValueError(
                f"query size {h_t.size(-1)} differs from key size {scaled_keys.size(1)}: the "
                "decoder's hidden size must be 2 * the encoder's hidden size"
            )
        scores = torch.baddbmm(bias, h_t.unsqueeze(1), scaled_keys)  # [B, 1, S]
        weights = torch.softmax(scores, dim=-1)  # [B, 1, S]
        attended = torch.bmm(weights, values)  # [B, 1, m]
        return attended.squeeze(1), weights.squeeze(1)  # [B, m], [B, S]


class _GreedyDecoder(nn.Module):
    """Both decoders' loop; each defines ``_step``, and may define a faster ``_teacher_forced``."""

    start_idx: torch.Tensor

    def __init__(
        self,
        embeddings_table: nn.Embedding,
        hidden_size: int,
        start_idx: int,
        eos_idx: int | None,
        dropout: float,
    ) -> None:
        super().__init__()
        self.embeddings_table = embeddings_table
        self.hidden_size = hidden_size
        if eos_idx == start_idx:
            raise ValueError("start_idx and eos_idx must differ")
        # a buffer moves with .to(device) and is saved in the state dict
        self.register_buffer("start_idx", torch.tensor(start_idx, dtype=torch.long))
        self.eos_idx = eos_idx
        self.dropout = nn.Dropout(dropout)

    def _context(self, all_enc_hidden_states: torch.Tensor, src_mask: torch.Tensor | None):
        return None  # what every step reads from the encoder (computed once per batch)

    def _step(self, y_emb, state, extra, context):
        raise NotImplementedError

    def _teacher_forced(self, state, targets, context):
        """``(logits, attention)`` by a faster route, or ``None`` (here) to decode step by step."""
        return None

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x) if self.dropout.p > 0 else x

    def _gold_inputs(self, targets: torch.Tensor) -> torch.Tensor:
        """Embedded gold previous tokens ``[B, T, E]``: ``<sos>``, then ``targets[:, :-1]``."""
        start = self.start_idx.expand(targets.size(0), 1)  # [B, 1]
        previous = torch.cat((start, targets[:, :-1]), dim=1)  # [B, T] gold y_{t-1}
        return self._drop(self.embeddings_table(previous))  # [B, T, E]

    def forward(
        self,
        all_enc_hidden_states: torch.Tensor,
        final_enc_hidden_states: torch.Tensor,
        final_enc_cell_states: torch.Tensor,
        max_len: int = DEFAULT_MAX_LEN,
        *,
        targets: torch.Tensor | None = None,
        teacher_forcing_ratio: float = 0.0,
        src_mask: torch.Tensor | None = None,
        stop_at_eos: bool = True,
    ):
        """Decode a batch: ``all_enc_hidden_states [B, S, 2H]``, ``final_enc_*_states [B, 2H]`` ->
        ``(logits [B, T', V], attention [B, T', S] or None)``. With ``targets [B, T]`` (gold ids
        ending with ``<eos>``, padded): ``T`` steps, each example fed the gold previous token with
        probability ``teacher_forcing_ratio``, else its greedy prediction. Without: greedy, at most
        ``max_len`` steps, until all emitted ``<eos>`` (if ``stop_at_eos``)."""
        if not 0.0 <= teacher_forcing_ratio <= 1.0:
            raise ValueError(f"teacher_forcing_ratio {teacher_forcing_ratio} is not in [0, 1]")
        if targets is None and teacher_forcing_ratio > 0:
            raise ValueError("teacher forcing needs targets")
        batch = final_enc_hidden_states.size(0)  # from the input, not a global BATCH_SIZE
        steps = targets.size(1) if targets is not None else max_len
        if steps < 1:
            raise ValueError(f"max_len must be >= 1, got {steps}")
        check_eos = targets is None and stop_at_eos and self.eos_idx is not None
        state = (final_enc_hidden_states, final_enc_cell_states)  # ([B, 2H], [B, 2H])
        context = self._context(all_enc_hidden_states, src_mask)
        # each decoder's faster route (same numbers; with dropout, same distribution) or None
        forced = targets is not None and teacher_forcing_ratio == 1.0
        if forced and (result := self._teacher_forced(state, targets, context)) is not None:
            return result

        extra = None  # what a step hands the next besides the state (O_t with attention)
        y_prev = self.start_idx.expand(batch)  # [B] (start_idx.repeat(batch) in the template)
        finished = torch.zeros(batch, dtype=torch.bool, device=y_prev.device)  # [B]
        use_gold = None  # [B, T]: where the gold previous token is fed (teacher forcing)
        if targets is not None and 0 < teacher_forcing_ratio < 1:
            use_gold = torch.rand(batch, steps, device=targets.device) < teacher_forcing_ratio
        out, attention = [], []
        for t in range(steps):
            y_emb = self._drop(self.embeddings_table(y_prev))  # [B, E]
            P_t, state, extra, weights = self._step(y_emb, state, extra, context)  # P_t: [B, V]
            out.append(P_t)
            if weights is not None:
                attention.append(weights)  # [B, S]
            y_prev = targets[:, t] if forced else P_t.argmax(dim=1)  # [B] gold, or greedy choice
            if use_gold is not None:  # teacher forcing drawn per example and step
                y_prev = torch.where(use_gold[:, t], targets[:, t], y_prev)  # [B]
            if check_eos:
                finished = finished | (y_prev == self.eos_idx)
                if bool(finished.all()):
                    break
        logits = torch.stack(out, dim=1)  # [B, T', V]
        attn = torch.stack(attention, dim=1) if attention else None  # [B, T', S]
        return logits, attn


class DecoderModule(_GreedyDecoder):
    """Basic decoder (Sutskever et al., 2014): ``LSTMCell(E -> D = 2H)``, ``P_t = W_vocab(h_t)``."""

    def __init__(
        self,
        embeddings_table: nn.Embedding,
        hidden_size: int,
        start_idx: int,
        tgt_vocab_size: int,
        *,
        eos_idx: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(embeddings_table, hidden_size, start_idx, eos_idx, dropout)
        # layer mapping the decoder state to the output vocabulary: D -> V
        self.W_vocab = nn.Linear(hidden_size, tgt_vocab_size)
        # recurrent decoder: input = embedding of the previous token (E), state size D
        self.lstm_cell = nn.LSTMCell(embeddings_table.embedding_dim, hidden_size)

    def _step(self, y_emb, state, extra, context):
        h_t, c_t = self.lstm_cell(y_emb, state)  # [B, D], [B, D]
        P_t = self.W_vocab(self._drop(h_t))  # [B, V]
        return P_t, (h_t, c_t), None, None

    def _teacher_forced(self, state, targets, context):
        """All inputs are known in advance: ``lstm_cell``'s weights run over the whole sequence
        in one fused ``torch.lstm`` call instead of step by step (same numbers, faster)."""
        inputs = self._gold_inputs(targets)  # [B, T, E]
        hx = tuple(s.unsqueeze(0) for s in state)  # (h0, c0), [1, B, D] each
        weights = list(self.lstm_cell.parameters())  # weight_ih, weight_hh, bias_ih, bias_hh
        # torch.lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        #            batch_first): the kernel behind nn.LSTM
        h, _, _ = torch.lstm(inputs, hx, weights, True, 1, 0.0, self.training, False, True)
        return self.W_vocab(self._drop(h)), None  # [B, T, V]


class AttentionDecoderModule(_GreedyDecoder):
    """Decoder with attention and input feeding: ``LSTMCell(E + D -> D)`` reads
    ``[emb(y_{t-1}); O_{t-1}]``; ``O_t = attention(h_t, enc)``; ``P_t = W_vocab([h_t; O_t])``
    with ``W_vocab: 2D -> V``."""

    def __init__(
        self,
        embeddings_table: nn.Embedding,
        embeddings_size: int,
        hidden_size: int,
        start_idx: int,
        tgt_vocab_size: int,
        *,
        eos_idx: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        if embeddings_size != embeddings_table.embedding_dim:
            raise ValueError(
                f"embeddings_size {embeddings_size} differs from the table's "
                f"{embeddings_table.embedding_dim}"
            )
        super().__init__(embeddings_table, hidden_size, start_idx, eos_idx, dropout)
        # output layer reads [h_t ; O_t]: 2D -> V
        self.W_vocab = nn.Linear(2 * hidden_size, tgt_vocab_size)
        # recurrent decoder: input [emb(y_{t-1}) ; O_{t-1}] (E + D), state size D
        self.lstm_cell = nn.LSTMCell(embeddings_size + hidden_size, hidden_size)
        self.attention = AttentionModule()

    def _context(self, all_enc_hidden_states, src_mask):
        keys = self.attention.prepare(all_enc_hidden_states, src_mask)  # [B, D, S], [B, 1, S]
        return keys, all_enc_hidden_states

    def _recur(self, y_emb, state, O_prev, context):
        """``(h_t, c_t)``, ``O_t [B, D]``, weights ``[B, S]``; ``O_prev`` is ``None`` at step 1."""
        keys, values = context
        if O_prev is None:
            O_prev = y_emb.new_zeros(y_emb.size(0), self.hidden_size)  # O_0 = 0: [B, D]
        lstm_input = torch.cat((y_emb, O_prev), dim=-1)  # [B, E + D]
        h_t, c_t = self.lstm_cell(lstm_input, state)  # [B, D], [B, D]
        O_t, weights = self.attention.attend(h_t, keys, values)  # [B, D], [B, S]
        return (h_t, c_t), O_t, weights

    def _output(self, h: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        """``P = W_vocab([h ; O])``: ``[..., D]`` each -> ``[..., V]``."""
        return self.W_vocab(self._drop(torch.cat((h, attended), dim=-1)))  # [..., V]

    def _step(self, y_emb, state, extra, context):
        state, O_t, weights = self._recur(y_emb, state, extra, context)
        return self._output(state[0], O_t), state, O_t, weights  # P_t: [B, V]

    def _teacher_forced(self, state, targets, context):
        """Input feeding keeps the step loop, but the embedding and ``W_vocab`` run once each."""
        inputs = self._gold_inputs(targets)  # [B, T, E]
        O_t, steps = None, []
        for y_emb in inputs.unbind(dim=1):  # [B, E]
            state, O_t, weights_t = self._recur(y_emb, state, O_t, context)
            steps.append((state[0], O_t, weights_t))
        hidden, attended, weights = zip(*steps, strict=True)  # T tensors each
        logits = self._output(torch.stack(hidden, dim=1), torch.stack(attended, dim=1))
        return logits, torch.stack(weights, dim=1)  # [B, T, V], [B, T, S]


class Seq2Seq(nn.Module):
    """Encoder (``H`` per direction) and decoder (``D = 2H``), with separate embedding tables."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        if not isinstance(config, Seq2SeqConfig):
            raise ValueError(
                f"Seq2Seq needs a Seq2SeqConfig, got {type(config).__name__}; build one with "
                "rnnlib.config.Seq2SeqConfig(src_vocab_size=..., ...)"
            )
        self.config = config
        e, h = config.embedding_dim, config.hidden_size
        self.encoder = Encoder(
            config.src_vocab_size, e, h, pad_idx=config.pad_idx, dropout=config.dropout
        )
        table = nn.Embedding(config.tgt_vocab_size, e, padding_idx=config.pad_idx)
        args = (2 * h, config.sos_idx, config.tgt_vocab_size)  # D, start_idx, V
        options = {"eos_idx": config.eos_idx, "dropout": config.dropout}
        if config.attention:
            self.decoder: _GreedyDecoder = AttentionDecoderModule(table, e, *args, **options)
        else:
            self.decoder = DecoderModule(table, *args, **options)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, **decoding: Any):
        """``src [B, S]``, ``src_lengths [B]`` -> ``(logits [B, T, V], attention [B, T, S] | None)``
        from the decoder's ``forward``, which ``decoding`` reaches by keyword: ``targets``,
        ``teacher_forcing_ratio``, ``max_len``, ``stop_at_eos`` (``_GreedyDecoder.forward``)."""
        all_states, (h_last, c_last) = self.encoder(src, src_lengths)  # [B, S, 2H], [B, 2H]
        src_mask = lengths_to_mask(src_lengths.to(src.device), src.size(1))  # [B, S]
        return self.decoder(all_states, h_last, c_last, src_mask=src_mask, **decoding)
