"""Models: the sentiment classifier (Part 1) and the seq2seq encoder/decoders (Part 2)."""

import torch
from torch import nn

from ..config import ClassifierConfig, Seq2SeqConfig
from .classifier import SentimentRNN
from .seq2seq import AttentionDecoderModule, AttentionModule, DecoderModule, Encoder, Seq2Seq


def build_model(
    config: ClassifierConfig | Seq2SeqConfig, *, pretrained: torch.Tensor | None = None
) -> nn.Module:
    """A fresh ``SentimentRNN`` (with an optional ``pretrained`` ``[vocab_size, embedding_dim]``
    table) or ``Seq2Seq`` for ``config``; ``ValueError`` for any other configuration."""
    if isinstance(config, ClassifierConfig):
        return SentimentRNN(config, pretrained=pretrained)
    if isinstance(config, Seq2SeqConfig):
        if pretrained is not None:
            raise ValueError("pretrained embeddings apply to the sentiment classifier only")
        return Seq2Seq(config)
    raise ValueError(
        f"no model for a {type(config).__name__}; pass a ClassifierConfig or a Seq2SeqConfig"
    )


__all__ = [
    "AttentionDecoderModule",
    "AttentionModule",
    "DecoderModule",
    "Encoder",
    "SentimentRNN",
    "Seq2Seq",
    "build_model",
]
