"""SCAN data preparation, training and evaluation of the seq2seq models (Activities 4-8).

* Vocabularies come from the training split only. Source: ``<pad>, <unk>`` + the command
  words. Target: ``<pad>, <sos>, <eos>`` + the actions; it has no ``<unk>``, because a decoder
  must never produce one and every target action must be known (an unknown action raises a
  ``KeyError`` instead of silently becoming a token that can never be scored right).
* Model selection uses a validation split carved from the training split with a fixed seed;
  the test set is only evaluated (each epoch, for the learning curves) and never selects.
* Evaluation is free-running greedy decoding: the decoder never receives a gold token. The
  reported ``loss`` is the cross-entropy of those free-running logits against the target at
  every target position (so it is higher than the teacher-forced training loss, whose inputs
  are the gold tokens). To have a logit at every target position, evaluation decodes exactly
  ``T`` steps (``T`` = longest target of the batch) without stopping at ``<eos>``; since
  greedy decoding is causal, the first ``T`` predictions are those of unbounded decoding, so
  the metrics equal those of decoding until ``<eos>`` (a test checks this against
  :func:`greedy_decode`).
* Exact match: the whole predicted sequence up to and including its first ``<eos>`` equals the
  target (which ends with ``<eos>``). Token accuracy: fraction of target positions (``<eos>``
  included, padding excluded) where the prediction at that position is the target token.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import Subset

from .batching import BucketBatchSampler, SequenceDataset, collate_pairs, pad_batch
from .history import History, format_epoch
from .models.seq2seq import DEFAULT_MAX_DECODE_LENGTH, Seq2Seq
from .runs import RunStore
from .text import EOS, PAD, SOS, UNK, Vocab
from .utils import set_seed

SRC_SPECIALS = (PAD, UNK)
TGT_SPECIALS = (PAD, SOS, EOS)

# Tuned on the SCAN simple split (validation = 10% of train, seed 0), one CPU thread.
# ``model`` goes to build_seq2seq (with ScanData.model_config), ``fit`` to fit_seq2seq.
RECOMMENDED = {
    "basic": {
        "model": {"attention": False, "embedding_dim": 32, "hidden_size": 64, "dropout": 0.0},
        "fit": {
            "epochs": 12,
            "lr": 2e-3,
            "batch_size": 32,
            "teacher_forcing_ratio": 0.5,
            "clip": 1.0,
            "lr_schedule": "cosine",
        },
    },
    "attention": {
        "model": {"attention": True, "embedding_dim": 32, "hidden_size": 64, "dropout": 0.0},
        "fit": {
            "epochs": 8,
            "lr": 2e-3,
            "batch_size": 32,
            "teacher_forcing_ratio": 0.5,
            "clip": 1.0,
            "lr_schedule": "cosine",
        },
    },
}

Pair = tuple[list[str], list[str]]


@dataclass
class ScanData:
    """Vocabularies, encoded datasets and the raw pairs behind them."""

    src_vocab: Vocab
    tgt_vocab: Vocab
    train: SequenceDataset
    val: SequenceDataset
    test: SequenceDataset
    train_pairs: list[Pair]
    val_pairs: list[Pair]
    test_pairs: list[Pair]

    def model_config(self, **overrides) -> dict:
        """The vocabulary part of a ``build_seq2seq`` config, plus ``overrides``."""
        return {
            "src_vocab_size": len(self.src_vocab),
            "tgt_vocab_size": len(self.tgt_vocab),
            "pad_idx": self.tgt_vocab.pad_idx,
            "sos_idx": self.tgt_vocab.sos_idx,
            "eos_idx": self.tgt_vocab.eos_idx,
            **overrides,
        }


def encode_pairs(pairs: Sequence[Pair], src_vocab: Vocab, tgt_vocab: Vocab) -> SequenceDataset:
    """Source ids and target ids ending with ``<eos>`` (no ``<sos>``: the decoder adds it)."""
    sources = [src_vocab.encode(src) for src, _ in pairs]
    targets = [tgt_vocab.encode(tgt, add_eos=True) for _, tgt in pairs]
    return SequenceDataset(sources, targets)


def prepare_scan(
    pairs: dict[str, list[Pair]],
    *,
    val_fraction: float = 0.1,
    seed: int = 0,
    max_examples: int | None = None,
) -> ScanData:
    """Split ``pairs["train"]`` into train/validation, build vocabularies, encode everything.

    ``max_examples`` keeps only that many training and test pairs (for smoke runs).
    """
    if set(pairs) < {"train", "test"}:
        raise ValueError(f"pairs must have 'train' and 'test', got {sorted(pairs)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    train_all, test = list(pairs["train"]), list(pairs["test"])
    if max_examples is not None:
        if max_examples < 2:
            raise ValueError(f"max_examples must be >= 2 or None, got {max_examples}")
        train_all, test = train_all[:max_examples], test[:max_examples]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_all))
    n_val = max(1, round(val_fraction * len(train_all)))
    if n_val >= len(train_all):
        raise ValueError("the validation split would leave no training pairs")
    val_pairs = [train_all[i] for i in sorted(order[:n_val])]
    train_pairs = [train_all[i] for i in sorted(order[n_val:])]
    # vocabularies from the (whole) training split: validation is carved from it, test is not
    src_vocab = Vocab.build((s for s, _ in train_all), specials=SRC_SPECIALS)
    tgt_vocab = Vocab.build((t for _, t in train_all), specials=TGT_SPECIALS)
    return ScanData(
        src_vocab=src_vocab,
        tgt_vocab=tgt_vocab,
        train=encode_pairs(train_pairs, src_vocab, tgt_vocab),
        val=encode_pairs(val_pairs, src_vocab, tgt_vocab),
        test=encode_pairs(test, src_vocab, tgt_vocab),
        train_pairs=train_pairs,
        val_pairs=val_pairs,
        test_pairs=test,
    )


def _batches(dataset, sampler: BucketBatchSampler):
    """Collated batches in the sampler's order.

    A plain loop rather than a ``DataLoader``: a ``DataLoader`` draws a seed from torch's
    global generator each time it is iterated, so evaluating the test set would change the
    random stream of training (teacher forcing, dropout) and thus the selected model.
    """
    for indices in sampler:
        yield collate_pairs([dataset[i] for i in indices])


def _lengths(dataset) -> list[int]:
    """Target lengths: the decoder loop, which dominates the cost, runs that many steps."""
    if isinstance(dataset, Subset):
        base = _lengths(dataset.dataset)
        return [base[i] for i in dataset.indices]
    return [len(t) for t in dataset.targets]


def _trim_at_eos(ids: Sequence[int], eos_idx: int) -> list[int]:
    """Ids up to and including the first ``<eos>`` (all of them when there is none)."""
    out = []
    for i in ids:
        out.append(int(i))
        if i == eos_idx:
            break
    return out


@torch.inference_mode()
def evaluate_seq2seq(
    model: Seq2Seq,
    dataset,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> dict[str, float]:
    """Free-running greedy evaluation: ``{"loss", "exact_match", "token_accuracy"}``."""
    model.eval()
    device = torch.device(device)
    eos_idx = model.decoder.eos_idx
    pad_idx = model.config["pad_idx"] if model.config else 0
    loss_fn = nn.CrossEntropyLoss(ignore_index=pad_idx, reduction="sum")
    sampler = BucketBatchSampler(_lengths(dataset), batch_size, shuffle=False)
    total_loss, exact, n_seq, correct_tokens, n_tokens = 0.0, 0, 0, 0, 0
    for src, src_lengths, tgt, _ in _batches(dataset, sampler):
        src, tgt = src.to(device), tgt.to(device)  # [B, S], [B, T]
        # free-running: no targets given to the model, only the number of steps T
        logits, _ = model(src, src_lengths, max_length=tgt.size(1), stop_at_eos=False)
        # logits: [B, T, V]
        total_loss += loss_fn(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1)).item()
        pred = logits.argmax(dim=-1)  # [B, T]
        real = tgt != pad_idx  # [B, T]
        is_eos = pred == eos_idx  # [B, T]
        after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0  # [B, T] the output has ended
        hits = (pred == tgt) & real & ~after_eos  # [B, T]
        correct_tokens += int(hits.sum())
        n_tokens += int(real.sum())
        # targets hold exactly one <eos>, at their last real position: matching every real
        # position means the prediction is the target up to and including its first <eos>
        exact += int((hits | ~real).all(dim=1).sum())
        n_seq += tgt.size(0)
        if eos_idx is not None and not bool(((tgt == eos_idx).sum(dim=1) == 1).all()):
            raise ValueError("every target must hold exactly one <eos>, at its end")
    if n_seq == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    return {
        "loss": total_loss / n_tokens,
        "exact_match": exact / n_seq,
        "token_accuracy": correct_tokens / n_tokens,
    }


@torch.inference_mode()
def greedy_decode(
    model: Seq2Seq,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    *,
    max_length: int = DEFAULT_MAX_DECODE_LENGTH,
):
    """Free-running greedy decoding of a padded batch (never sees a target).

    Returns ``(predictions, attention)``: a list of id lists, each up to and including its
    first ``<eos>`` (or ``max_length`` ids without one), and a list of ``[T_i, S_i]`` attention
    tensors cut to each sequence's output and source lengths (``None`` without attention).
    """
    model.eval()
    device = next(model.parameters()).device
    logits, attention = model(src.to(device), src_lengths, max_length=max_length)
    pred = logits.argmax(dim=-1).cpu()  # [B, T]
    eos_idx = model.decoder.eos_idx
    predictions = [_trim_at_eos(row.tolist(), eos_idx) for row in pred]
    if attention is None:
        return predictions, None
    attention = attention.cpu()  # [B, T, S]
    weights = [
        attention[b, : len(p), : int(src_lengths[b])] for b, p in enumerate(predictions)
    ]  # each [T_b, S_b]
    return predictions, weights


def translate(
    model: Seq2Seq,
    command: str | Sequence[str],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    device: torch.device | str | None = None,
    *,
    max_length: int = DEFAULT_MAX_DECODE_LENGTH,
):
    """``"jump twice"`` -> ``(["I_JUMP", "I_JUMP"], attention [T, S] or None)``.

    The actions exclude ``<eos>``; the attention rows are the output steps (the last one is
    the step that emitted ``<eos>``, if any), its columns the command's words.
    """
    tokens = command.split() if isinstance(command, str) else list(command)
    if not tokens:
        raise ValueError("empty command")
    if device is not None:
        model.to(device)
    src, lengths = pad_batch([torch.tensor(src_vocab.encode(tokens), dtype=torch.long)])
    predictions, attention = greedy_decode(model, src, lengths, max_length=max_length)
    actions = tgt_vocab.decode(predictions[0], strip_specials=True)
    return actions, (attention[0] if attention is not None else None)


def fit_seq2seq(
    model: Seq2Seq,
    train_data,
    val_data,
    test_data=None,
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 32,
    teacher_forcing_ratio: float = 0.5,
    clip: float | None = 1.0,
    lr_schedule: str = "constant",
    device: torch.device | str = "cpu",
    seed: int = 0,
    train_eval_size: int | None = 1000,
    eval_batch_size: int = 256,
    patience: int | None = None,
    name: str = "",
    log: Callable[[str], None] | None = print,
) -> History:
    """Train with Adam + cross-entropy (``ignore_index=pad``) and teacher forcing.

    Each epoch records ``train_loss`` (teacher-forced, mean over the epoch),
    ``train_exact_match`` (free-running, on a fixed random subset of ``train_eval_size`` training
    pairs; all of them with ``None``), ``val_loss``, ``val_exact_match``, ``val_token_accuracy``
    and, with ``test_data``, ``test_loss``, ``test_exact_match``, ``test_token_accuracy``
    (learning curves only), ``lr`` and ``seconds``. The weights of the epoch with the best
    validation exact match (ties: lower validation loss) are restored before returning.
    ``lr_schedule``: ``"constant"`` or ``"cosine"`` (per step, down to 0 at the last step).
    ``patience``: stop after that many epochs without a better validation exact match.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be >= 1 or None, got {patience}")
    device = torch.device(device)
    set_seed(seed)
    model.to(device)
    pad_idx = model.config["pad_idx"] if model.config else 0
    loss_fn = nn.CrossEntropyLoss(ignore_index=pad_idx)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    sampler = BucketBatchSampler(_lengths(train_data), batch_size, shuffle=True, seed=seed)
    total_steps = epochs * len(sampler)
    scheduler = None
    if lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)),
        )
    if train_eval_size is not None and train_eval_size < len(train_data):
        picked = np.random.default_rng(seed).choice(len(train_data), train_eval_size, replace=False)
        train_eval = Subset(train_data, sorted(picked.tolist()))
    else:
        train_eval = train_data

    history = History()
    best_key, best_state, since_best = None, None, 0
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        sampler.set_epoch(epoch)
        epoch_loss, n_batches = 0.0, 0
        lr_now = optimizer.param_groups[0]["lr"]
        for src, src_lengths, tgt, _ in _batches(train_data, sampler):
            src, tgt = src.to(device), tgt.to(device)  # [B, S], [B, T]
            logits, _ = model(
                src, src_lengths, targets=tgt, teacher_forcing_ratio=teacher_forcing_ratio
            )  # [B, T, V]
            loss = loss_fn(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            history.step_losses.append(loss.item())
            epoch_loss += history.step_losses[-1]
            n_batches += 1
        row = {"train_loss": epoch_loss / n_batches, "lr": lr_now}
        kw = {"device": device, "batch_size": eval_batch_size}
        row["train_exact_match"] = evaluate_seq2seq(model, train_eval, **kw)["exact_match"]
        for split, data in (("val", val_data), ("test", test_data)):
            if data is not None:
                for key, value in evaluate_seq2seq(model, data, **kw).items():
                    row[f"{split}_{key}"] = value
        row["seconds"] = time.perf_counter() - start
        row = history.add_epoch(**row)
        if log is not None:
            log(format_epoch(row, name))
        key = (row["val_exact_match"], -row["val_loss"])
        if best_key is None or key > best_key:
            best_key, since_best = key, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                break
    model.load_state_dict(best_state)
    return history


# ----------------------------------------------------------------------------- experiments


@torch.inference_mode()
def exact_match_per_example(
    model: Seq2Seq, dataset, *, device: torch.device | str = "cpu", batch_size: int = 256
) -> np.ndarray:
    """``[len(dataset)]`` booleans: is the free-running greedy output of each pair exact?"""
    model.eval()
    eos_idx = model.decoder.eos_idx
    sampler = BucketBatchSampler(_lengths(dataset), batch_size, shuffle=False)
    correct = np.zeros(len(dataset), dtype=bool)
    for indices in sampler:
        src, src_lengths, tgt, tgt_lengths = collate_pairs([dataset[i] for i in indices])
        predictions, _ = greedy_decode(model, src, src_lengths, max_length=tgt.size(1))
        for i, pred, target, n in zip(indices, predictions, tgt, tgt_lengths, strict=True):
            correct[i] = pred == target[:n].tolist() and (not pred or pred[-1] == eos_idx)
    return correct


@dataclass
class Seq2SeqRun:
    """One trained seq2seq configuration: model, history, test metrics and provenance."""

    name: str
    model: Seq2Seq
    history: History
    test: dict[str, float]
    parameters: int
    train_seconds: float
    loaded: bool
    settings: dict

    def result(self) -> dict:
        """The run's entry in ``results.json``."""
        return {
            "name": self.name,
            "attention": bool(self.model.has_attention),
            "trainable_params": self.parameters,
            "test_exact_match": self.test["exact_match"],
            "test_token_accuracy": self.test["token_accuracy"],
            "test_loss": self.test["loss"],
            "best_epoch": int(self.history.best("val_exact_match")["epoch"]),
            "epochs": len(self.history.epochs),
            "train_seconds": round(self.train_seconds, 1),
        }


def run_seq2seq(
    name: str,
    model_config: dict,
    data: ScanData,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    teacher_forcing_ratio: float,
    clip: float | None = 1.0,
    lr_schedule: str = "constant",
    seed: int = 0,
    device: torch.device | str = "cpu",
    store: RunStore | None = None,
    retrain: bool = False,
    log: Callable[[str], None] | None = print,
) -> Seq2SeqRun:
    """Build ``build_seq2seq(model_config)``, train it with :func:`fit_seq2seq` (test curves
    included) and evaluate the restored best model on ``data.test``.

    With a ``rnnlib.runs.RunStore`` the run is saved, and loaded instead of trained next time
    (unless ``retrain``): its key covers the config, the training settings, the seed, the
    data and the source code of the model and of this module.
    """
    from . import batching
    from .models import seq2seq as seq2seq_module
    from .models.seq2seq import build_seq2seq
    from .runs import code_version, fingerprint, train_or_load
    from .utils import num_trainable_parameters

    fit = {
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "teacher_forcing_ratio": teacher_forcing_ratio,
        "clip": clip,
        "lr_schedule": lr_schedule,
        "seed": seed,
    }
    key = {
        "model": dict(model_config),
        "fit": fit,
        "data": fingerprint(data.train_pairs, data.val_pairs, data.test_pairs),
        "code": code_version([seq2seq_module, batching, sys.modules[__name__]]),
    }

    def build() -> Seq2Seq:
        set_seed(seed)
        return build_seq2seq(model_config)

    def train(model: Seq2Seq) -> tuple[History, dict]:
        start = time.perf_counter()
        history = fit_seq2seq(
            model, data.train, data.val, data.test, **fit, device=device, name=name, log=log
        )
        seconds = time.perf_counter() - start
        test = evaluate_seq2seq(model, data.test, device=device)
        return history, {"test": test, "train_seconds": seconds}

    saved = train_or_load(store, name, key, build, train, retrain=retrain, device=device, log=log)
    model, history, extra, loaded = saved.model, saved.history, saved.extra, saved.loaded
    if log is not None:
        t = extra["test"]
        log(
            f"{name} | test exact_match {t['exact_match']:.4f} | token_accuracy "
            f"{t['token_accuracy']:.4f} | loss {t['loss']:.4f}"
        )
    return Seq2SeqRun(
        name=name,
        model=model,
        history=history,
        test=extra["test"],
        parameters=num_trainable_parameters(model),
        train_seconds=extra["train_seconds"],
        loaded=loaded,
        settings={"model": dict(model_config), **fit},
    )
