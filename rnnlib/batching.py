"""Length-bucketed batches (little compute spent on padding), padding collate functions, and
packing, so that a recurrent layer's final state is the one at each sequence's last token."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_sequence
from torch.utils.data import Dataset, Sampler

PAD_IDX = 0  # rnnlib.text.Vocab always puts <pad> at id 0


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of indices whose sequences have similar lengths, every index in exactly one.

    With ``shuffle``, the indices are permuted with ``seed + epoch`` (see :meth:`set_epoch`),
    cut into chunks of ``batch_size * bucket_factor``, each chunk sorted by length and split
    into batches, and the batches shuffled. Without it, batches are in order of length."""

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        bucket_factor: int = 50,
    ) -> None:
        if batch_size < 1 or bucket_factor < 1:
            raise ValueError(
                f"batch_size and bucket_factor must be >= 1, got {batch_size}, {bucket_factor}"
            )
        self.lengths = np.asarray(lengths)
        if self.lengths.ndim != 1 or len(self.lengths) == 0:
            raise ValueError(
                f"lengths must be a flat sequence of integers, got shape {self.lengths.shape}; "
                "if it is empty, there are no examples to batch: check the data split"
            )
        self.batch_size, self.bucket_factor = batch_size, bucket_factor
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        n, bs = len(self.lengths), self.batch_size
        size = bs * self.bucket_factor if self.shuffle else n
        rng = np.random.default_rng(self.seed + self.epoch)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        batches = []
        for start in range(0, n, size):
            chunk = order[start : start + size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i : i + bs].tolist() for i in range(0, len(chunk), bs)]
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self.batches())

    def __len__(self) -> int:  # every chunk but the last is a whole number of batches
        return -(-len(self.lengths) // self.batch_size)


def _target(target):
    """A sequence target (list or tuple of ids) as a ``long`` tensor; a label as it is."""
    return torch.as_tensor(target, dtype=torch.long) if isinstance(target, list | tuple) else target


class SequenceDataset(Dataset):
    """Encoded sequences (1-D ``long`` tensors) with one target each (a label or a sequence)."""

    def __init__(self, sequences: Sequence[Sequence[int]], targets: Sequence) -> None:
        if len(sequences) != len(targets):
            raise ValueError(
                f"mismatched sizes: {len(sequences)} sequences but {len(targets)} targets"
            )
        if empty := [i for i, s in enumerate(sequences) if len(s) == 0]:
            raise ValueError(f"sequences at positions {empty[:5]} are empty")
        self.sequences = [torch.as_tensor(s, dtype=torch.long) for s in sequences]
        self.targets = [_target(t) for t in targets]

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
        flat = torch.from_numpy(state["flat"])  # the sequences are views into it
        self.sequences = list(flat.split(state["lengths"].tolist()))
        self.targets = [_target(t) for t in state["targets"]]

    @property
    def lengths(self) -> list[int]:
        return [len(s) for s in self.sequences]


def _check_batch(batch, name: str) -> None:
    if len(batch) == 0:
        raise ValueError(
            f"{name} got an empty batch; check the sampler and that the data split is not empty"
        )


def pad_batch(sequences: Sequence[torch.Tensor], pad_idx: int = PAD_IDX):
    """``[batch, max_len]`` padded ids and ``[batch]`` lengths; ``ValueError`` if empty."""
    _check_batch(sequences, "pad_batch")
    padded = pad_sequence(list(sequences), batch_first=True, padding_value=pad_idx)
    return padded, torch.tensor([len(s) for s in sequences], dtype=torch.long)


def collate_labelled(batch):
    """``(ids [B, T], lengths [B], labels [B] float)``; ``ValueError`` for an empty batch."""
    _check_batch(batch, "collate_labelled")
    sequences, labels = zip(*batch, strict=True)
    ids, lengths = pad_batch(sequences)
    return ids, lengths, torch.tensor(labels, dtype=torch.float)


def collate_pairs(batch):
    """``(src [B, S], src_lengths [B], tgt [B, T], tgt_lengths [B])``; ``ValueError`` if empty."""
    _check_batch(batch, "collate_pairs")
    sources, targets = zip(*batch, strict=True)
    return (*pad_batch(sources), *pad_batch(targets))


def pack(embedded: torch.Tensor, lengths: torch.Tensor) -> PackedSequence:
    """Pack a ``[batch, seq_len, features]`` tensor; ``lengths`` need not be sorted."""
    return pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
