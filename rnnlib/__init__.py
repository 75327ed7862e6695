"""rnnlib: recurrent networks for IMDB sentiment and SCAN sequence-to-sequence."""

from .config import ClassifierConfig, Seq2SeqConfig, TrainConfig
from .utils import choose_device, num_trainable_parameters, set_seed

__version__ = "0.2.0"

__all__ = [
    "ClassifierConfig",
    "Seq2SeqConfig",
    "TrainConfig",
    "choose_device",
    "num_trainable_parameters",
    "set_seed",
]
