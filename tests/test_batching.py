import pytest
import torch
from torch import nn

from rnnlib.batching import (
    BucketBatchSampler,
    SequenceDataset,
    collate_labelled,
    collate_pairs,
    pack,
    pad_batch,
)


def _lengths(n=503, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, 400, (n,), generator=g).tolist()


@pytest.mark.parametrize("shuffle", [True, False])
def test_bucketing_keeps_every_example_once(shuffle):
    lengths = _lengths()
    sampler = BucketBatchSampler(lengths, 16, shuffle=shuffle, seed=3, bucket_factor=4)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    assert sorted(flat) == list(range(len(lengths)))


def test_bucketing_groups_similar_lengths():
    lengths = _lengths(2000)
    sampler = BucketBatchSampler(lengths, 32, seed=0, bucket_factor=20)
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in sampler]
    random_spread = [
        max(lengths[i : i + 32]) - min(lengths[i : i + 32]) for i in range(0, 2000, 32)
    ]
    assert sum(spread) / len(spread) < 0.2 * sum(random_spread) / len(random_spread)


def test_bucketing_is_seeded_per_epoch():
    lengths = _lengths()
    a = BucketBatchSampler(lengths, 16, seed=7)
    b = BucketBatchSampler(lengths, 16, seed=7)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    assert list(BucketBatchSampler(lengths, 16, seed=8)) != first


def test_bucketing_rejects_bad_sizes():
    with pytest.raises(ValueError, match="batch_size"):
        BucketBatchSampler([1, 2], 0)
    with pytest.raises(ValueError, match="bucket_factor"):
        BucketBatchSampler([1, 2], 2, bucket_factor=0)


def test_sequence_dataset_checks_sizes_and_empty_sequences():
    with pytest.raises(ValueError, match="mismatched sizes"):
        SequenceDataset([[1, 2], [3]], [1])
    with pytest.raises(ValueError, match="empty"):
        SequenceDataset([[1, 2], []], [1, 0])


def test_collate_labelled_pads_with_zero_and_returns_lengths():
    ds = SequenceDataset([[5, 6, 7], [8]], [1, 0])
    ids, lengths, labels = collate_labelled([ds[0], ds[1]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1]
    assert labels.dtype == torch.float and labels.tolist() == [1.0, 0.0]


def test_collate_pairs_pads_sources_and_targets():
    ds = SequenceDataset([[4, 5], [6]], [[7, 8, 3], [9, 3]])
    src, src_len, tgt, tgt_len = collate_pairs([ds[0], ds[1]])
    assert src.shape == (2, 2) and tgt.shape == (2, 3)
    assert src_len.tolist() == [2, 1] and tgt_len.tolist() == [3, 2]
    assert tgt[1].tolist() == [9, 3, 0]


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_batch_gives_each_sequence_its_own_final_state(cell, bidirectional):
    torch.manual_seed(0)
    embed = nn.Embedding(20, 4, padding_idx=0)
    rnn = cell(4, 3, batch_first=True, bidirectional=bidirectional)
    sequences = [torch.tensor(s) for s in ([3, 4, 5, 6, 7], [8, 9], [10, 11, 12])]
    ds = SequenceDataset(sequences, [0, 1, 0])
    ids, lengths, _ = collate_labelled([ds[i] for i in range(3)])
    _, state = rnn(pack(embed(ids), lengths))
    h = state[0] if isinstance(state, tuple) else state  # [layers*dirs, batch, hidden]
    for i, seq in enumerate(sequences):
        _, alone = rnn(embed(seq.unsqueeze(0)))
        h_alone = alone[0] if isinstance(alone, tuple) else alone
        torch.testing.assert_close(h[:, i], h_alone[:, 0])
    # Without packing, the shorter sequences' states would include the padding steps.
    _, unpacked = rnn(embed(ids))
    h_unpacked = unpacked[0] if isinstance(unpacked, tuple) else unpacked
    assert not torch.allclose(h_unpacked[0, 1], h[0, 1])


@pytest.mark.parametrize("collate", [collate_labelled, collate_pairs, pad_batch])
def test_an_empty_batch_is_a_clear_error(collate):
    with pytest.raises(ValueError, match=f"{collate.__name__} got an empty batch"):
        collate([])


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_sampler_over_no_examples_is_a_clear_error(shuffle):
    with pytest.raises(ValueError, match="no examples to batch"):
        BucketBatchSampler([], 4, shuffle=shuffle)
