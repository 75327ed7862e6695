"""Readers and downloaders for the IMDB and SCAN data sets."""

from .fetch import CorruptCacheWarning, CorruptDataError, DataNotFoundError, download
from .imdb import (
    imdb_cache_folder,
    load_imdb,
    locate_imdb,
    read_imdb,
    source_fingerprint,
    tokenize_imdb,
)
from .scan import load_scan, locate_scan, parse_scan_line, read_scan_file

__all__ = [
    "CorruptCacheWarning",
    "CorruptDataError",
    "DataNotFoundError",
    "download",
    "imdb_cache_folder",
    "load_imdb",
    "load_scan",
    "locate_imdb",
    "locate_scan",
    "parse_scan_line",
    "read_imdb",
    "read_scan_file",
    "source_fingerprint",
    "tokenize_imdb",
]
