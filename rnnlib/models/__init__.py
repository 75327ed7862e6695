"""Models: the sentiment classifier (Part 1) and the seq2seq encoder/decoders (Part 2)."""

from .classifier import SentimentRNN, build_classifier, classifier_parameter_count
from .seq2seq import (
    AttentionDecoderModule,
    AttentionModule,
    DecoderModule,
    Encoder,
    Seq2Seq,
    build_seq2seq,
    seq2seq_parameter_count,
)

__all__ = [
    "AttentionDecoderModule",
    "AttentionModule",
    "DecoderModule",
    "Encoder",
    "Seq2Seq",
    "SentimentRNN",
    "build_classifier",
    "build_seq2seq",
    "classifier_parameter_count",
    "seq2seq_parameter_count",
]
