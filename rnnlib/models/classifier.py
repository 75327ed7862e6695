"""Many-to-one recurrent classifier for IMDB sentiment: ids -> one logit per review.

Each sequence's final state is the one at its own last real token (backward direction: after
reading back to the first), taken one of two exact ways (``packing``): ``"packed"``
(``pack_padded_sequence``; fast with cuDNN, but its CPU backward pass is 5-25x slower, torch
2.13), or ``"padded"``: run on the right-padded tensor, the right-to-left direction reading each
sequence reversed within its length, and gather each output at ``length - 1``. ``"auto"`` packs
on CUDA and gathers on CPU. Each (layer, direction) is its own one-layer module."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pad_packed_sequence

from ..batching import pack
from ..config import ClassifierConfig
from . import elman

PACKING_MODES = ("auto", "packed", "padded")
RNN_MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SentimentRNN(nn.Module):
    """Embedding -> recurrent layers -> optional dense layer with ReLU -> one logit
    (``P(positive) = sigmoid(logit)``), as ``config`` says.

    ``pretrained`` is an initial ``[vocab_size, embedding_dim]`` table (its ``<pad>`` row is
    zeroed); ``packing`` (see the module docstring) changes speed only; ``fast_elman`` runs a
    vanilla RNN in the padded mode through ``rnnlib.models.elman`` (same numbers, faster on CPU).
    ``ValueError`` for a ``pretrained`` table of the wrong shape or an unknown ``packing``."""

    def __init__(
        self,
        config: ClassifierConfig,
        *,
        pretrained: torch.Tensor | None = None,
        packing: str = "auto",
        fast_elman: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(config, ClassifierConfig):
            raise ValueError(
                f"SentimentRNN needs a ClassifierConfig, got {type(config).__name__}; build one "
                "with rnnlib.config.ClassifierConfig(vocab_size=..., ...)"
            )
        if packing not in PACKING_MODES:
            raise ValueError(f"packing must be one of {list(PACKING_MODES)}, got {packing!r}")
        self.config = config
        self.packing = packing
        self.fast_elman = fast_elman
        self.num_directions = config.num_directions
        hidden = config.hidden_size

        self.embedding = nn.Embedding(
            config.vocab_size, config.embedding_dim, padding_idx=config.pad_idx
        )
        if pretrained is not None:
            pretrained = torch.as_tensor(pretrained, dtype=torch.float)
            if pretrained.shape != self.embedding.weight.shape:
                raise ValueError(
                    f"pretrained embeddings have shape {tuple(pretrained.shape)}, expected "
                    f"{tuple(self.embedding.weight.shape)} = (vocab_size, embedding_dim)"
                )
            with torch.no_grad():
                self.embedding.weight.copy_(pretrained)
                self.embedding.weight[config.pad_idx].zero_()
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)

        self.dropout = LockedDropout(config.dropout)
        # layers[l][d]: layer l, direction d (0 = left to right, 1 = right to left).
        rnn_type, dirs = RNN_MODULES[config.cell], self.num_directions
        inputs = [config.embedding_dim] + [dirs * hidden] * (config.num_layers - 1)  # per layer
        self.layers = nn.ModuleList(
            nn.ModuleList(rnn_type(size, hidden, batch_first=True) for _ in range(dirs))
            for size in inputs
        )
        if config.orthogonal_init:
            with torch.no_grad():
                for layer in self.layers:
                    for rnn in layer:  # weight_hh_l0 [gates * hidden, hidden]: a block per gate
                        for block in rnn.weight_hh_l0.split(hidden, dim=0):
                            nn.init.orthogonal_(block)
        features = dirs * hidden
        self.dense: nn.Module = nn.Identity()
        if config.dense_size is not None:
            self.dense = nn.Sequential(nn.Linear(features, config.dense_size), nn.ReLU())
            features = config.dense_size
        self.output = nn.Linear(features, 1)

    def final_states(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Last layer's final state(s) at each sequence's real last token: ``[B, dirs * H]``."""
        return self._encode(ids, lengths, steps=False)

    def step_states(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Last layer's states after reading ``k = 1..seq_len`` tokens: ``[B, seq_len, dirs * H]``
        (right to left: the last ``k``). Position ``length - 1`` is ``final_states``; positions
        ``>= length`` read padding and must be masked by the caller."""
        return self._encode(ids, lengths, steps=True)

    def _encode(self, ids: torch.Tensor, lengths: torch.Tensor, *, steps: bool) -> torch.Tensor:
        """``final_states``, or ``step_states`` if ``steps``."""
        if ids.dim() != 2:
            raise ValueError(f"ids must be [batch, seq_len], got shape {tuple(ids.shape)}")
        if lengths.shape != (ids.shape[0],):
            raise ValueError(
                f"lengths must be [batch] = [{ids.shape[0]}], got shape {tuple(lengths.shape)}"
            )
        lengths = lengths.to(ids.device)
        shortest, longest = int(lengths.min()), int(lengths.max())
        if shortest < 1 or longest > ids.shape[1]:
            msg = f"lengths must be in [1, {ids.shape[1]}] (seq_len), got {shortest}..{longest}"
            raise ValueError(msg)
        packed = self.packing == "packed" or (self.packing == "auto" and ids.is_cuda)
        reverse = _reverse_index(lengths, ids.shape[1]) if self.num_directions == 2 else None
        x = self.dropout(self.embedding(ids))  # [batch, seq_len, emb]
        for depth, layer in enumerate(self.layers):
            last_layer = depth == len(self.layers) - 1
            outputs: list[torch.Tensor] = []
            finals: list[torch.Tensor] = []
            for direction, rnn in enumerate(layer):
                inp = x if direction == 0 else _take(x, reverse)  # [batch, seq_len, features]
                out, final = self._run(rnn, inp, lengths, packed, steps or not last_layer)
                finals.append(final)  # [batch, hidden]
                if out is not None:
                    # Inner layers feed the next one in reading order; the last layer's outputs
                    # stay in each direction's own frame (position k-1 = k tokens read).
                    outputs.append(out if direction == 0 or last_layer else _take(out, reverse))
            if not last_layer:
                x = self.dropout(torch.cat(outputs, dim=-1))  # [batch, seq_len, dirs * hidden]
        # [batch, seq_len, dirs * hidden] or [batch, dirs * hidden]; forward first
        return torch.cat(outputs if steps else finals, dim=-1)

    def _run(
        self, rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor, packed: bool, need_out: bool
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """One direction of a layer: ``(outputs [B, S, H] or None, final state [B, H])``."""
        if packed:
            packed_out, state = rnn(pack(x, lengths))
            h_n = state[0] if isinstance(state, tuple) else state  # [1, batch, hidden]
            out = None
            if need_out:
                out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=x.shape[1])
            return out, h_n[0]  # [batch, hidden]
        # the hand-written BPTT gives rnn(x)[0] too, faster to train on CPU
        fast = self.fast_elman and elman.supports(rnn)
        out = elman.elman_outputs(x, rnn) if fast else rnn(x)[0]  # [batch, seq_len, hidden]
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.shape[-1])  # [batch, 1, hidden]
        return out, out.gather(1, last).squeeze(1)  # [batch, hidden]

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch]`` for padded ``ids [batch, seq_len]`` with real ``lengths [batch]``."""
        return self._head(self.final_states(ids, lengths))  # [batch]

    def step_logits(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The output layer on every ``step_states`` position: logits ``[B, seq_len]`` (column
        ``length - 1`` equals ``forward``), for the per-step loss of ``SentimentTask``."""
        return self._head(self.step_states(ids, lengths))  # [batch, seq_len]

    def _head(self, features: torch.Tensor) -> torch.Tensor:
        """Dropout -> optional dense -> output: ``[..., dirs * H]`` -> logits ``[...]``."""
        features = self.dense(self.dropout(features))  # [..., dense_size or dirs * hidden]
        return self.output(features).squeeze(-1)  # [..., 1] -> [...]

    def extra_repr(self) -> str:
        return f"cell={self.config.cell!r}, directions={self.num_directions}"


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence, shared by all its time steps (Gal & Ghahramani, 2016):
    ``[batch, 1, features]`` for ``x [batch, seq_len, features]``, an ordinary mask for
    ``x [batch, features]``. It also draws ``seq_len`` times fewer random numbers."""

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {p!r}")
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        shape = (x.shape[0], 1, x.shape[-1]) if x.dim() == 3 else x.shape
        keep = 1.0 - self.p
        mask = x.new_empty(shape).bernoulli_(keep).div_(keep)  # [batch, 1, features] or x.shape
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _reverse_index(lengths: torch.Tensor, seq_len: int) -> torch.Tensor:
    """``[batch, seq_len]`` positions that reverse each row within its length (pads stay)."""
    positions = torch.arange(seq_len, device=lengths.device).unsqueeze(0)  # [1, seq_len]
    last = (lengths - 1).unsqueeze(1)  # [batch, 1]
    return torch.where(positions <= last, last - positions, positions)  # [batch, seq_len]


def _take(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x[b, index[b, t]]`` for ``x [batch, seq_len, features]``; same shape as ``x``."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
