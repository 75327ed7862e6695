"""Frozen configurations of the models and of training, with closed-form parameter counts. Each
field is checked when made (``ValueError`` naming it, its value and what is allowed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

CELLS = ("rnn", "lstm", "gru")
# Gate groups per cell: each has an input matrix, a recurrent matrix and two bias vectors.
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SCHEDULES = ("constant", "cosine")

C = TypeVar("C", bound="_Config")


def _number(value: Any, kind: type | tuple[type, ...] = (int, float)) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _positive_int(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not _number(value, int) or value < 1:
        allowed = "a positive integer" + (" or None" if optional else "")
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _choice(name: str, value: Any, allowed: Collection) -> None:
    if isinstance(value, bool) != all(isinstance(a, bool) for a in allowed) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _fraction(name: str, value: Any, *, closed: bool) -> None:
    if not _number(value) or value < 0.0 or value > 1.0 or (value == 1.0 and not closed):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")


def _index(name: str, value: Any, size: int, size_name: str) -> None:
    if not _number(value, int) or not 0 <= value < size:
        raise ValueError(f"{name} must be an id in [0, {size_name} = {size}), got {value!r}")


class _Config:
    """JSON round trip (``to_dict`` / ``from_dict``) shared by the configurations."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], payload: Mapping[str, Any]) -> C:
        """Rebuild from ``to_dict()``; unknown keys raise ``ValueError`` listing the known ones."""
        if not isinstance(payload, Mapping):
            raise ValueError(f"{cls.__name__} needs a dict, got {type(payload).__name__}")
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        known = sorted(f.name for f in fields)
        if unknown := sorted(set(payload) - set(known)):
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; known fields are {known}")
        missing = dataclasses.MISSING
        if required := [f.name for f in fields if f.default is missing and f.name not in payload]:
            raise ValueError(f"{cls.__name__} lacks the required field(s) {required}")
        return cls(**payload)

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (checked like a new one)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(_Config):
    """A ``SentimentRNN``: embedding -> recurrent layers -> optional dense layer -> one logit.

    Attributes:
        vocab_size: rows of the embedding table (``len(vocab)``, special tokens included).
        embedding_dim, hidden_size: ``E`` and ``H`` (the recurrent state, per direction).
        cell: ``"rnn"`` (Elman, tanh), ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers; the output reads the last one's final state.
        bidirectional: also read right to left; the output layer then reads ``2H`` features.
        dense_size: if set, a ``Linear + ReLU`` layer of this size before the output layer.
        dropout: locked dropout on embeddings, between layers and before the dense/output layers.
        pad_idx: id of ``<pad>``: its embedding row is zero and gets no gradient.
        freeze_embeddings: keep the embedding table fixed (not trainable).
        orthogonal_init: initialise each gate block of ``W_hh`` as an orthogonal matrix.
    """

    vocab_size: int
    embedding_dim: int = 100
    hidden_size: int = 100
    cell: str = "rnn"
    num_layers: int = 1
    bidirectional: bool = False
    dense_size: int | None = None
    dropout: float = 0.0
    pad_idx: int = 0
    freeze_embeddings: bool = False
    orthogonal_init: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            _positive_int(name, getattr(self, name))
        _positive_int("dense_size", self.dense_size, optional=True)
        _choice("cell", self.cell, CELLS)
        for name in ("bidirectional", "freeze_embeddings", "orthogonal_init"):
            _choice(name, getattr(self, name), (False, True))
        _fraction("dropout", self.dropout, closed=False)
        _index("pad_idx", self.pad_idx, self.vocab_size, "vocab_size")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def parameter_count(self) -> dict[str, int]:
        """Trainable parameters by component (a frozen embedding's ``V*E`` is under ``frozen``).
        With ``g`` gate groups (RNN 1, GRU 3, LSTM 4), a layer has per direction
        ``g*H*I + g*H*H + 2*g*H`` (two biases); ``I = E`` in the first layer, else ``dirs*H``."""
        g, h, dirs = GATES[self.cell], self.hidden_size, self.num_directions
        inputs = [self.embedding_dim] + [dirs * h] * (self.num_layers - 1)  # I of each layer
        recurrent = sum(dirs * g * h * (i + h + 2) for i in inputs)
        features, dense = dirs * h, 0  # the output layer's inputs, and the dense layer's weights
        if self.dense_size is not None:
            dense = (features + 1) * self.dense_size
            features = self.dense_size
        table = self.vocab_size * self.embedding_dim
        frozen = table if self.freeze_embeddings else 0
        counts = {"embedding": table - frozen, "recurrent": recurrent, "dense": dense}
        counts["output"] = features + 1
        counts["total"] = sum(counts.values())
        return {**counts, "frozen": frozen}


@dataclasses.dataclass(frozen=True)
class Seq2SeqConfig(_Config):
    """A SCAN ``Seq2Seq``: BiLSTM encoder + LSTMCell decoder, with or without attention.

    Attributes:
        src_vocab_size, tgt_vocab_size: vocabulary sizes, special tokens included.
        sos_idx, eos_idx: ids of ``<sos>`` and ``<eos>`` in the target vocabulary.
        pad_idx: id of ``<pad>`` in both vocabularies.
        attention: scaled dot-product attention with input feeding.
        embedding_dim, hidden_size: ``E`` (both embeddings) and the encoder's ``H`` per
            direction; the decoder has ``D = 2H``.
        dropout: dropout on embeddings and before ``W_vocab``.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    sos_idx: int
    eos_idx: int
    pad_idx: int = 0
    attention: bool = False
    embedding_dim: int = 32
    hidden_size: int = 64
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("src_vocab_size", "tgt_vocab_size", "embedding_dim", "hidden_size"):
            _positive_int(name, getattr(self, name))
        for name in ("sos_idx", "eos_idx", "pad_idx"):
            _index(name, getattr(self, name), self.tgt_vocab_size, "tgt_vocab_size")
        if len({self.sos_idx, self.eos_idx, self.pad_idx}) != 3:
            raise ValueError(
                f"pad_idx, sos_idx and eos_idx must be distinct, got {self.pad_idx}, "
                f"{self.sos_idx} and {self.eos_idx}"
            )
        _choice("attention", self.attention, (False, True))
        _fraction("dropout", self.dropout, closed=False)

    def parameter_count(self) -> dict[str, int]:
        """Trainable parameters by component, from the formulas (``D = 2H``): encoder embedding
        ``V_s E``; BiLSTM ``2 [4H (E + H) + 8H]``; decoder embedding ``V_t E``; LSTMCell
        ``4D (I + D) + 8D`` with ``I = E`` (basic) or ``E + D`` (input feeding); attention 0;
        ``W_vocab`` ``(D + 1) V_t`` (basic) or ``(2D + 1) V_t`` (attention)."""
        e, h, vt = self.embedding_dim, self.hidden_size, self.tgt_vocab_size
        d = 2 * h
        decoder_input, vocab_input = (e + d, 2 * d) if self.attention else (e, d)
        counts = {
            "encoder_embedding": self.src_vocab_size * e,
            "encoder_lstm": 2 * (4 * h * (e + h) + 8 * h),
            "decoder_embedding": vt * e,
            "decoder_lstm_cell": 4 * d * (decoder_input + d) + 8 * d,
            "attention": 0,
            "W_vocab": (vocab_input + 1) * vt,
        }
        counts["total"] = sum(counts.values())
        return counts


@dataclasses.dataclass(frozen=True)
class TrainConfig(_Config):
    """How a model is trained by ``rnnlib.train.fit`` (the same fields for both tasks).

    Attributes:
        max_epochs: passes over the training set at most.
        batch_size, eval_batch_size: examples per update, and per evaluation batch.
        lr, weight_decay: Adam's initial learning rate and L2 penalty.
        clip: the gradient norm is clipped to this value (``None``: no clipping).
        schedule: ``"constant"``, or ``"cosine"`` (``CosineAnnealingLR``, per update, to 0 at
            the end of ``max_epochs``).
        patience: stop after this many epochs without a better validation score (``None``: never).
        step_loss_weight: sentiment only: weight ``w`` of the per-step (target replication)
            loss, ``(1 - w) * final + w * per-step``.
        teacher_forcing_ratio: seq2seq only: probability of feeding the gold previous token.
    """

    max_epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip: float | None = 1.0
    schedule: str = "cosine"
    patience: int | None = None
    step_loss_weight: float = 0.0
    teacher_forcing_ratio: float = 0.0
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        for name in ("max_epochs", "batch_size", "eval_batch_size"):
            _positive_int(name, getattr(self, name))
        _positive_int("patience", self.patience, optional=True)
        _choice("schedule", self.schedule, SCHEDULES)
        for name, value in (("lr", self.lr), ("clip", self.clip)):
            if (value is not None or name == "lr") and (not _number(value) or value <= 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not _number(self.weight_decay) or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}")
        _fraction("step_loss_weight", self.step_loss_weight, closed=False)
        _fraction("teacher_forcing_ratio", self.teacher_forcing_ratio, closed=True)
