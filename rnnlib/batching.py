"""Length-bucketed batches, padding collate functions and packing.

Batches are made of examples of similar length, so little compute is spent on padding; the
recurrent layers then read the padded batch as a ``PackedSequence`` so that each sequence's
final state is the one at its real last token.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_sequence
from torch.utils.data import Dataset, Sampler

PAD_IDX = 0  # rnnlib.text.Vocab always puts <pad> at id 0


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of indices whose sequences have similar lengths.

    With ``shuffle``, the indices are permuted with ``seed + epoch`` (call :meth:`set_epoch`),
    cut into chunks of ``batch_size * bucket_factor``, each chunk sorted by length and split
    into batches, and the batches shuffled. Without it, batches are in order of length. Every
    index appears in exactly one batch.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        bucket_factor: int = 50,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if bucket_factor < 1:
            raise ValueError(f"bucket_factor must be >= 1, got {bucket_factor}")
        self.lengths = np.asarray(lengths)
        if self.lengths.ndim != 1:
            raise ValueError("lengths must be a flat sequence of integers")
        if len(self.lengths) == 0:
            raise ValueError(
                "lengths is empty: there are no examples to batch (check that the data split "
                "is not empty)"
            )
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.bucket_factor = bucket_factor
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        n = len(self.lengths)
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            chunks = [order]
        else:
            rng = np.random.default_rng(self.seed + self.epoch)
            order = rng.permutation(n)
            size = self.batch_size * self.bucket_factor
            chunks = [
                chunk[np.argsort(self.lengths[chunk], kind="stable")]
                for chunk in (order[i : i + size] for i in range(0, n, size))
            ]
        batches = [
            chunk[i : i + self.batch_size].tolist()
            for chunk in chunks
            for i in range(0, len(chunk), self.batch_size)
        ]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self.batches())

    def __len__(self) -> int:
        if self.drop_last:
            return sum(c // self.batch_size for c in self._chunk_sizes())
        return sum(-(-c // self.batch_size) for c in self._chunk_sizes())

    def _chunk_sizes(self) -> list[int]:
        n = len(self.lengths)
        if not self.shuffle:
            return [n]
        size = self.batch_size * self.bucket_factor
        return [min(size, n - i) for i in range(0, n, size)]


class SequenceDataset(Dataset):
    """Encoded sequences (1-D ``long`` tensors) with one target each (a label or a sequence)."""

    def __init__(self, sequences: Sequence[Sequence[int]], targets: Sequence) -> None:
        if len(sequences) != len(targets):
            raise ValueError(
                f"mismatched sizes: {len(sequences)} sequences but {len(targets)} targets"
            )
        empty = [i for i, s in enumerate(sequences) if len(s) == 0]
        if empty:
            raise ValueError(f"sequences at positions {empty[:5]} are empty")
        self.sequences = [torch.as_tensor(s, dtype=torch.long) for s in sequences]
        self.targets = [
            torch.as_tensor(t, dtype=torch.long) if isinstance(t, (list, tuple)) else t
            for t in targets
        ]

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int):
        return self.sequences[index], self.targets[index]

    def __getstate__(self) -> dict:
        """Pickle as a few flat arrays, not one tensor per sequence: fast, and when a dataset is
        sent to a worker process it does not open one shared-memory segment per sequence."""
        lengths = np.array([len(s) for s in self.sequences], dtype=np.int64)
        flat = torch.cat(self.sequences).numpy() if self.sequences else np.zeros(0, np.int64)
        targets = [t.tolist() if isinstance(t, torch.Tensor) else t for t in self.targets]
        return {"flat": flat, "lengths": lengths, "targets": targets}

    def __setstate__(self, state: dict) -> None:
        flat = torch.from_numpy(state["flat"])
        sequences = list(flat.split(state["lengths"].tolist())) if len(flat) else []
        targets = [
            torch.as_tensor(t, dtype=torch.long) if isinstance(t, list) else t
            for t in state["targets"]
        ]
        self.sequences, self.targets = sequences, targets  # views into one flat tensor

    @property
    def lengths(self) -> list[int]:
        return [len(s) for s in self.sequences]


def _check_batch(batch, name: str) -> None:
    if len(batch) == 0:
        raise ValueError(
            f"{name} got an empty batch; a batch needs at least one example (check the "
            "sampler and that the data split is not empty)"
        )


def pad_batch(sequences: Sequence[torch.Tensor], pad_idx: int = PAD_IDX):
    """``[batch, max_len]`` padded ids and ``[batch]`` lengths; ``ValueError`` if empty."""
    _check_batch(sequences, "pad_batch")
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    padded = pad_sequence(list(sequences), batch_first=True, padding_value=pad_idx)
    return padded, lengths


def collate_labelled(batch):
    """``(ids [B, T], lengths [B], labels [B] float)`` for sequence classification;
    ``ValueError`` for an empty batch."""
    _check_batch(batch, "collate_labelled")
    sequences, labels = zip(*batch, strict=True)
    ids, lengths = pad_batch(sequences)
    return ids, lengths, torch.tensor(labels, dtype=torch.float)


def collate_pairs(batch):
    """``(src [B, S], src_lengths [B], tgt [B, T], tgt_lengths [B])`` for seq2seq;
    ``ValueError`` for an empty batch."""
    _check_batch(batch, "collate_pairs")
    sources, targets = zip(*batch, strict=True)
    src, src_lengths = pad_batch(sources)
    tgt, tgt_lengths = pad_batch(targets)
    return src, src_lengths, tgt, tgt_lengths


def pack(embedded: torch.Tensor, lengths: torch.Tensor) -> PackedSequence:
    """Pack a ``[batch, seq_len, features]`` tensor; ``lengths`` need not be sorted."""
    return pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
