#!/usr/bin/env python3
"""Training and decoding throughput on the real data (prints figures; not a test).

    RNNLIB_DATA=../shared/data .venv/bin/python benchmarks/throughput.py [--batches 60]

1. IMDB: training tokens per second (real tokens, padding excluded) of the project's pipeline
   (length-bucketed batches, ``SentimentRNN`` reading each review's state at its last real
   token; for the vanilla RNN, the hand-written BPTT of ``rnnlib.models.elman``) against a
   plain loop: random batches padded to their longest review and fed to ``nn.LSTM`` /
   ``nn.RNN`` as they are. Same sizes, same reviews, same truncation.
2. SCAN: training steps per second of both seq2seq models, and greedy-decoding pairs per
   second on the test set.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from rnnlib.batching import BucketBatchSampler, collate_labelled, collate_pairs
from rnnlib.data import load_imdb, load_scan, tokenize_imdb
from rnnlib.models.classifier import SentimentRNN
from rnnlib.models.seq2seq import build_seq2seq
from rnnlib.sentiment import prepare_sentiment_data
from rnnlib.text import Tokenizer
from rnnlib.translation import RECOMMENDED, evaluate_seq2seq, prepare_scan


class PlainRecurrent(nn.Module):
    """What a plain tutorial loop does: embed, run the RNN over the padded batch, classify."""

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, cell: str) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.rnn = {"lstm": nn.LSTM, "rnn": nn.RNN}[cell](
            embedding_dim, hidden_size, batch_first=True
        )
        self.output = nn.Linear(hidden_size, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        _, state = self.rnn(self.embedding(ids))  # h_n [1, batch, hidden], after the padding
        h_n = state[0] if isinstance(state, tuple) else state
        return self.output(h_n[-1]).squeeze(-1)  # [batch]


def train_tokens_per_second(model, loader, batches: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    tokens, start = 0, None
    for seen, (ids, lengths, labels) in enumerate(loader):
        if seen == 3:  # warm-up batches are not timed
            start, tokens = time.perf_counter(), 0
        if seen == batches + 3:
            break
        optimizer.zero_grad()
        loss_fn(model(ids, lengths), labels).backward()
        optimizer.step()
        tokens += int(lengths.sum())
    return tokens / (time.perf_counter() - start)


def imdb_benchmark(batches: int, batch_size: int, max_len: int) -> None:
    dd = tokenize_imdb(load_imdb(), Tokenizer(), num_proc=2)
    data = prepare_sentiment_data(dd, max_len=max_len, truncation="tail", min_freq=5)
    vocab_size = len(data.vocab)
    print(
        f"IMDB: {len(data.train):,} training reviews, max_len {max_len}, vocab {vocab_size:,}, "
        f"batch {batch_size}, E=100 H=100, {batches} timed batches, "
        f"{torch.get_num_threads()} threads"
    )
    for cell, module in (("lstm", "nn.LSTM"), ("rnn", "nn.RNN")):
        torch.manual_seed(0)
        sampler = BucketBatchSampler(data.train.lengths, batch_size, seed=0)
        ours = train_tokens_per_second(
            SentimentRNN(vocab_size, 100, 100, cell=cell),
            DataLoader(data.train, batch_sampler=sampler, collate_fn=collate_labelled),
            batches,
        )
        torch.manual_seed(0)
        plain = train_tokens_per_second(
            PlainRecurrent(vocab_size, 100, 100, cell),
            DataLoader(
                data.train, batch_size=batch_size, shuffle=True, collate_fn=collate_labelled
            ),
            batches,
        )
        print(
            f"  {cell.upper():4s} rnnlib (bucketed batches): {ours:10,.0f} tokens/s | plain padded "
            f"{module} loop: {plain:10,.0f} tokens/s | ratio {ours / plain:.2f}x"
        )


def scan_benchmark(batches: int, batch_size: int) -> None:
    data = prepare_scan(load_scan("simple"), seed=0)
    print(f"SCAN: {len(data.train):,} training pairs, batch {batch_size}, recommended models")
    for kind in ("basic", "attention"):
        torch.manual_seed(0)
        model = build_seq2seq(data.model_config(**RECOMMENDED[kind]["model"]))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss(ignore_index=0)
        sampler = BucketBatchSampler(data.train.lengths, batch_size, seed=0)
        loader = DataLoader(data.train, batch_sampler=sampler, collate_fn=collate_pairs)
        model.train()
        start = None
        for steps, (src, src_lengths, tgt, _) in enumerate(loader):
            if steps == 3:  # warm-up batches are not timed
                start = time.perf_counter()
            if steps == batches + 3:
                break
            logits, _ = model(src, src_lengths, targets=tgt, teacher_forcing_ratio=0.5)
            loss = loss_fn(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        step_rate = batches / (time.perf_counter() - start)
        start = time.perf_counter()
        evaluate_seq2seq(model, data.test, batch_size=256)
        pairs_rate = len(data.test) / (time.perf_counter() - start)
        name = f"{kind:9s}"
        print(
            f"  {name}: {step_rate:6.1f} training steps/s | greedy decoding "
            f"{pairs_rate:8,.0f} pairs/s ({len(data.test):,} test pairs)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60, help="timed batches per measurement")
    parser.add_argument("--batch-size", type=int, default=64, help="IMDB batch size")
    parser.add_argument("--scan-batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=400)
    args = parser.parse_args()
    imdb_benchmark(args.batches, args.batch_size, args.max_len)
    scan_benchmark(args.batches, args.scan_batch_size)


if __name__ == "__main__":
    main()
