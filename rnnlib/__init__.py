"""rnnlib: recurrent networks for IMDB sentiment and SCAN sequence-to-sequence."""

from .utils import choose_device, num_trainable_parameters, parameter_table, set_seed

__version__ = "0.1.0"

__all__ = ["choose_device", "num_trainable_parameters", "parameter_table", "set_seed"]
