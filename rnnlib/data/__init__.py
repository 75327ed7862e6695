"""Readers and downloaders for the IMDB and SCAN data sets."""

from .fetch import (
    CorruptCacheWarning,
    CorruptDataError,
    DataNotFoundError,
    cache_dir,
    candidate_roots,
    download,
    downloads_allowed,
)
from .imdb import (
    imdb_cache_folder,
    load_imdb,
    locate_imdb,
    read_imdb,
    review_path,
    source_fingerprint,
    tokenize_imdb,
)
from .scan import (
    SCAN_FILES,
    SCAN_SPLITS,
    ScanPairs,
    load_scan,
    locate_scan,
    parse_scan_line,
    read_scan_file,
)

__all__ = [
    "SCAN_FILES",
    "SCAN_SPLITS",
    "CorruptCacheWarning",
    "CorruptDataError",
    "DataNotFoundError",
    "ScanPairs",
    "cache_dir",
    "candidate_roots",
    "download",
    "downloads_allowed",
    "imdb_cache_folder",
    "load_imdb",
    "load_scan",
    "locate_imdb",
    "locate_scan",
    "parse_scan_line",
    "read_imdb",
    "read_scan_file",
    "review_path",
    "source_fingerprint",
    "tokenize_imdb",
]
