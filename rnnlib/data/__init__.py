"""Readers and downloaders for the IMDB and SCAN data sets."""

from .fetch import CorruptDataError, DataNotFoundError, cache_dir, candidate_roots, download
from .imdb import load_imdb, locate_imdb, read_imdb, tokenize_imdb
from .scan import SCAN_SPLITS, load_scan, locate_scan, parse_scan_line, read_scan_file

__all__ = [
    "SCAN_SPLITS",
    "CorruptDataError",
    "DataNotFoundError",
    "cache_dir",
    "candidate_roots",
    "download",
    "load_imdb",
    "load_scan",
    "locate_imdb",
    "locate_scan",
    "parse_scan_line",
    "read_imdb",
    "read_scan_file",
    "tokenize_imdb",
]
