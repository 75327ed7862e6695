#!/usr/bin/env python3
"""Training throughput against the machine's own kernels, on the real data (prints figures and
writes benchmarks/results.json; not a test).

    RNNLIB_DATA=../shared/data .venv/bin/python benchmarks/throughput.py [--steps 12]

Sentiment (IMDB reviews cut to 256 tokens, the first 64 and the last 192, as the notebook
reads them; batch 64, E = H = 100), for each cell
(``rnn``, ``lstm``, ``gru``, uni- and bidirectional) and each loss (on the final state only, as
the assignment's model; or on every step, as the notebook trains), in one run, side by side:

- **project**: the notebook's training step (``SentimentTask.step``, backward, clipping, fused
  Adam), on length-bucketed batches of real reviews; real tokens per second, padding excluded;
- **kernel**: the bare torch recurrent layer (``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``), forward and
  backward, on the same batches (padded embeddings in, a loss on the same states out);
- **plain**: a tutorial loop: random batches padded to their longest review, an ``nn.Embedding``,
  the torch recurrent layer and a linear layer, default Adam;
- where one project step's time goes: embedding (forward and gradient), the optimizer step
  (most of it on the 28,546 x 100 embedding table), the recurrent layer, the rest.

SCAN (both seq2seq models, the notebook's settings): training steps per second and the seconds
of one epoch's training and of one free-running validation pass.

Each figure is the median of five interleaved rounds (``side_by_side``), so that the machine's
slow spells fall on all the figures compared. Everything runs in this process with one thread,
denormals flushed (set before torch's thread pool exists) and freed memory kept for reuse, as
each training run of the notebook does.
"""

from __future__ import annotations

import torch

from rnnlib.train import keep_freed_memory

torch.set_flush_denormal(True)  # before any parallel op, so that every thread flushes
torch.set_num_threads(1)
KEEPS_FREED_MEMORY = keep_freed_memory()

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from torch import nn  # noqa: E402

from rnnlib.batching import BucketBatchSampler, collate_labelled  # noqa: E402
from rnnlib.config import ClassifierConfig, TrainConfig  # noqa: E402
from rnnlib.data import load_imdb, load_scan, tokenize_imdb  # noqa: E402
from rnnlib.models import SentimentRNN, Seq2Seq  # noqa: E402
from rnnlib.sentiment import SentimentTask, prepare_sentiment_data  # noqa: E402
from rnnlib.text import Tokenizer  # noqa: E402
from rnnlib.train import batches, make_adam  # noqa: E402
from rnnlib.translation import TranslationTask, evaluate_translation, prepare_scan  # noqa: E402

RESULTS = Path(__file__).with_name("results.json")
MAX_LEN = 256  # tokens per review: the first 64 and the last 192, as the notebook reads them
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
ROUNDS = 5  # interleaved rounds per side-by-side measurement


def side_by_side(steps: dict, rounds: int = ROUNDS, warmup: int = 2) -> dict[str, float]:
    """Seconds per unit of work of each ``steps[name] = (step, items, units)``, measured side by
    side: the timed items are cut into ``rounds`` chunks and every step runs its chunk ``r``
    before any runs chunk ``r + 1``, so that a slow spell of this shared machine falls on all of
    them; each step's figure is the median over rounds of its seconds per unit (one unit per item
    when ``units`` is ``None``, else ``units(item)``, e.g. its real tokens)."""
    for step, items, _ in steps.values():
        for item in items[:warmup]:
            step(item)
    rounds = min(rounds, *(len(items) - warmup for _, items, _ in steps.values()))
    per_unit: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds):
        for name, (step, items, units) in steps.items():
            chunk = items[warmup:][r::rounds]
            start = time.perf_counter()
            for item in chunk:
                step(item)
            seconds = time.perf_counter() - start
            per_unit[name].append(seconds / sum(units(i) if units else 1 for i in chunk))
    return {name: float(np.median(v)) for name, v in per_unit.items()}


def real_tokens(batch) -> int:
    return int(batch[1].sum())


def final_loss(states, lengths, labels, head):
    """BCE of ``head`` applied to each sequence's state at its last real token."""
    last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, states.shape[-1])  # [B, 1, F]
    logits = head(states.gather(1, last).squeeze(1)).squeeze(-1)  # [B]
    return nn.functional.binary_cross_entropy_with_logits(logits, labels)


def step_loss(states, lengths, labels, head):
    logits = head(states).squeeze(-1)  # [B, T]
    return nn.functional.binary_cross_entropy_with_logits(
        logits, labels.unsqueeze(1).expand_as(logits)
    )


def sentiment(data, *, steps: int, batch_size: int) -> dict:
    vocab = len(data.vocab)
    sampler = BucketBatchSampler(data.train.lengths, batch_size, seed=0)
    bucketed = [collate_labelled([data.train[i] for i in b]) for b in list(sampler)[: steps + 2]]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.train))
    plain_batches = [
        collate_labelled([data.train[int(i)] for i in order[k * batch_size : (k + 1) * batch_size]])
        for k in range(steps + 2)
    ]
    task = SentimentTask()
    results = {}
    for cell, layer_cls in CELLS.items():
        for bidirectional in (False, True):
            name = f"{'bi' if bidirectional else ''}{cell}"
            results[name] = {}
            for loss in ("final", "step"):
                torch.manual_seed(0)
                config = ClassifierConfig(
                    vocab, 100, 100, cell, bidirectional=bidirectional, dropout=0.3
                )
                model = SentimentRNN(config)
                params = [p for p in model.parameters() if p.requires_grad]
                optimizer = make_adam(params, lr=1e-3)
                train = TrainConfig(step_loss_weight=0.5 if loss == "step" else 0.0)
                model.train()

                def project(batch, model=model, optimizer=optimizer, train=train, params=params):
                    out = task.step(model, batch, train)
                    optimizer.zero_grad(set_to_none=True)
                    out.loss.backward()
                    nn.utils.clip_grad_norm_(params, 1.0)
                    optimizer.step()

                dirs = 2 if bidirectional else 1
                layer = layer_cls(100, 100, batch_first=True, bidirectional=bidirectional)
                head = nn.Linear(dirs * 100, 1)
                emb = torch.randn(vocab, 100)
                loss_fn = final_loss if loss == "final" else step_loss

                def kernel(batch, layer=layer, head=head, emb=emb, loss_fn=loss_fn):
                    ids, lengths, labels = batch
                    x = emb[ids].requires_grad_()  # [B, T, E], the layer's input
                    states, _ = layer(x)
                    loss_fn(states, lengths, labels, head).backward()

                plain_model = nn.ModuleDict(
                    {"emb": nn.Embedding(vocab, 100, padding_idx=0), "rnn": layer, "head": head}
                )
                plain_opt = torch.optim.Adam(plain_model.parameters(), lr=1e-3)

                def plain(batch, m=plain_model, opt=plain_opt, loss_fn=loss_fn):
                    ids, lengths, labels = batch
                    states, _ = m["rnn"](m["emb"](ids))
                    opt.zero_grad()
                    loss_fn(states, lengths, labels, m["head"]).backward()
                    opt.step()

                seconds = side_by_side(
                    {
                        "project": (project, bucketed, real_tokens),
                        "kernel": (kernel, bucketed, real_tokens),
                        "plain": (plain, plain_batches, real_tokens),
                    }
                )
                row = {f"{k}_tokens_per_s": 1 / v for k, v in seconds.items()}
                row["ratio_to_kernel"] = row["project_tokens_per_s"] / row["kernel_tokens_per_s"]
                row["ratio_to_plain"] = row["project_tokens_per_s"] / row["plain_tokens_per_s"]
                if loss == "final":
                    row["breakdown_ms"] = breakdown(model, optimizer, params, bucketed, task, train)
                results[name][loss] = row
                print_row(name, loss, row)
    return results


class FixedOutput(nn.Module):
    """Stands in for an embedding layer: returns ``output`` whatever ids it is given."""

    output: torch.Tensor

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.output


def breakdown(model, optimizer, params, items, task, train) -> dict:
    """Milliseconds per step: embedding forward + its gradient, the optimizer step, the
    recurrent layers forward + backward (as the project runs them, dropout included, on the
    embedding's output computed beforehand), and the rest of a whole step (head, loss, clipping):
    the whole step less the other three."""

    def embedding(batch):
        out = model.embedding(batch[0])
        out.backward(torch.ones_like(out))
        model.embedding.weight.grad = None

    def optimizer_step(batch):
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        optimizer.step()

    def whole(batch):
        out = task.step(model, batch, train)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()

    # the embedding's outputs, computed before the timing, so that "recurrent" leaves it out
    embedded = {id(batch): model.embedding(batch[0]).detach() for batch in items}  # [B, T, E]
    table, fixed = model.embedding, FixedOutput()

    def recurrent(batch):  # the model's own recurrent path (dropout included) on fixed inputs
        ids, lengths, _ = batch
        fixed.output = embedded[id(batch)].detach().requires_grad_()  # [B, T, E]
        model.embedding = fixed
        try:
            model.final_states(ids, lengths).sum().backward()
        finally:
            model.embedding = table

    parts = {
        "embedding": embedding, "optimizer": optimizer_step, "recurrent": recurrent,
        "whole_step": whole,
    }  # fmt: skip
    seconds = side_by_side({k: (f, items, None) for k, f in parts.items()})
    ms = {k: 1000 * v for k, v in seconds.items()}
    ms["rest"] = ms["whole_step"] - ms["embedding"] - ms["optimizer"] - ms["recurrent"]
    return {k: round(v, 1) for k, v in ms.items()}


def print_row(name: str, loss: str, row: dict) -> None:
    print(
        f"{name:7} {loss:5} | project {row['project_tokens_per_s']:9,.0f} tok/s | kernel "
        f"{row['kernel_tokens_per_s']:9,.0f} | plain {row['plain_tokens_per_s']:9,.0f} | "
        f"project/kernel {row['ratio_to_kernel']:.2f} | project/plain {row['ratio_to_plain']:.2f}"
        + (f" | ms/step {row['breakdown_ms']}" if "breakdown_ms" in row else ""),
        flush=True,
    )


def seq2seq(scan, *, steps: int) -> dict:
    train = TrainConfig(batch_size=64, teacher_forcing_ratio=1.0)
    task = TranslationTask(scan.tgt_vocab.pad_idx, scan.tgt_vocab.eos_idx)
    sampler = BucketBatchSampler(task.lengths(scan.train), train.batch_size, seed=0)
    items = list(batches(task, scan.train, sampler, torch.device("cpu")))
    results = {}
    for name, attention in (("basic", False), ("attention", True)):
        torch.manual_seed(0)
        model = Seq2Seq(scan.model_config(attention=attention, embedding_dim=32, hidden_size=64))
        optimizer = make_adam(model.parameters(), lr=3e-3)

        def step(batch, model=model, optimizer=optimizer):
            out = task.step(model, batch, train)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()

        per_step = side_by_side({name: (step, items[: steps + 2], None)})[name]
        start = time.perf_counter()
        evaluate_translation(model, scan.val)
        results[name] = {
            "train_steps_per_s": 1 / per_step,
            "epoch_train_seconds": per_step * len(items),
            "validation_seconds": time.perf_counter() - start,
        }
        print(
            f"SCAN {name:9} | {1 / per_step:5.1f} steps/s | one epoch: "
            f"{per_step * len(items):5.1f} s training + "
            f"{results[name]['validation_seconds']:.1f} s validation",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per measurement")
    args = parser.parse_args()
    imdb = tokenize_imdb(load_imdb(), Tokenizer())
    data = prepare_sentiment_data(
        imdb, max_len=MAX_LEN, truncation="head+tail", min_freq=5, val_size=2500
    )
    scan = prepare_scan(load_scan("simple"), val_size=0.1, seed=0)
    results = {
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "keeps_freed_memory": KEEPS_FREED_MEMORY,
            "processor": platform.processor() or platform.machine(),
        },
        "settings": {
            "steps": args.steps,
            "batch_size": 64,
            "max_len": MAX_LEN,
            "truncation": "head+tail",
            "embedding_dim": 100,
            "hidden_size": 100,
        },
        "sentiment": sentiment(data, steps=args.steps, batch_size=64),
        "seq2seq": seq2seq(scan, steps=3 * args.steps),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
