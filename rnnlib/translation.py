"""SCAN: data preparation, the translation task for ``rnnlib.train.fit``, greedy decoding and
translation of new commands from a saved run (Activities 4-8). Vocabularies come from the
training split only; the target one has no ``<unk>`` (a decoder must never produce one).
Evaluation is free-running greedy decoding (never a gold token). Exact match (*exactitud de
secuencia*): the output up to and including its first ``<eos>`` equals the target."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .batching import BucketBatchSampler, SequenceDataset, collate_pairs, pad_batch
from .config import Seq2SeqConfig, TrainConfig
from .data.scan import Pair, interpret
from .models.seq2seq import DEFAULT_MAX_LEN, Seq2Seq
from .text import EOS, PAD, SOS, UNK, Vocab
from .train import StepResult
from .utils import split_indices


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

    def model_config(self, **settings: Any) -> Seq2SeqConfig:
        """A ``Seq2SeqConfig`` with this data's vocabulary sizes and special ids, plus
        ``settings`` (``attention``, ``embedding_dim``, ``hidden_size``, ``dropout``)."""
        return Seq2SeqConfig(
            src_vocab_size=len(self.src_vocab),
            tgt_vocab_size=len(self.tgt_vocab),
            pad_idx=self.tgt_vocab.pad_idx,
            sos_idx=self.tgt_vocab.sos_idx,
            eos_idx=self.tgt_vocab.eos_idx,
            **settings,
        )

    @functools.cached_property
    def fingerprint(self) -> str:
        """Hash of the pairs of every split (the vocabularies follow from them)."""
        from .runs import fingerprint

        return fingerprint(self.train_pairs, self.val_pairs, self.test_pairs)

    def inference_state(self) -> dict[str, Any]:
        """What ``translate_commands`` needs: both vocabularies."""
        return {"src_vocab": self.src_vocab.state(), "tgt_vocab": self.tgt_vocab.state()}


def encode_pairs(pairs: Sequence[Pair], src_vocab: Vocab, tgt_vocab: Vocab) -> SequenceDataset:
    """Source ids and target ids ending with ``<eos>`` (no ``<sos>``: the decoder adds it)."""
    sources = [src_vocab.encode(src) for src, _ in pairs]
    targets = [tgt_vocab.encode(tgt, add_eos=True) for _, tgt in pairs]
    return SequenceDataset(sources, targets)


def prepare_scan(
    pairs: dict[str, list[Pair]],
    *,
    val_size: int | float = 0.1,
    seed: int = 0,
    max_examples: int | None = None,
) -> ScanData:
    """Split ``pairs["train"]`` into train/validation (``val_size``: a count or a fraction,
    seeded), build the vocabularies from it (never from test), encode everything.
    ``max_examples`` keeps only that many training and test pairs (smoke runs)."""
    if not {"train", "test"} <= set(pairs):
        raise ValueError(f"pairs must have 'train' and 'test', got {sorted(pairs)}")
    train_all, test = list(pairs["train"]), list(pairs["test"])
    if max_examples is not None:
        if max_examples < 2:
            raise ValueError(f"max_examples must be >= 2 or None, got {max_examples}")
        train_all, test = train_all[:max_examples], test[:max_examples]
    train_idx, val_idx = split_indices(len(train_all), val_size, seed)
    src_vocab = Vocab.build((s for s, _ in train_all), specials=(PAD, UNK))
    tgt_vocab = Vocab.build((t for _, t in train_all), specials=(PAD, SOS, EOS))
    train_pairs = [train_all[i] for i in train_idx]
    val_pairs = [train_all[i] for i in val_idx]
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


@torch.inference_mode()
def evaluate_translation(
    model: Seq2Seq,
    dataset: SequenceDataset,
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    per_example: bool = False,
) -> dict[str, Any]:
    """Free-running greedy evaluation, ``{"loss", "exact_match", "token_accuracy"}``, decoding
    exactly ``T`` steps (the batch's longest target) without stopping at ``<eos>`` (greedy
    decoding is causal: the metrics are those of decoding until ``<eos>``). ``loss`` is the
    cross-entropy at every target position; token accuracy counts target positions (``<eos>``
    included). With ``per_example``, also ``"correct"``: ``[len(dataset)]`` booleans, exact
    outputs. ``ValueError`` for no examples or a target without one ``<eos>``, at its end."""
    if len(dataset) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    was_training = model.training
    model.eval()
    pad_idx, eos_idx = model.config.pad_idx, model.config.eos_idx
    total_loss, n_tokens, correct_tokens = 0.0, 0, 0
    correct = np.zeros(len(dataset), dtype=bool)
    for indices in BucketBatchSampler([len(t) for t in dataset.targets], batch_size, shuffle=False):
        src, src_lengths, tgt, tgt_lengths = collate_pairs([dataset[i] for i in indices])
        last = tgt.gather(1, (tgt_lengths - 1).unsqueeze(1))  # [B, 1] each target's last token
        if not bool((last == eos_idx).all()) or int((tgt == eos_idx).sum()) != len(indices):
            raise ValueError("every target must hold exactly one <eos>, at its end")
        src, tgt = src.to(device), tgt.to(device)  # [B, S], [B, T]
        # free-running: no targets given to the model, only the number of steps T
        logits, _ = model(src, src_lengths, max_len=tgt.size(1), stop_at_eos=False)  # [B, T, V]
        total_loss += nn.functional.cross_entropy(
            logits.flatten(0, 1), tgt.flatten(), ignore_index=pad_idx, reduction="sum"
        ).item()  # over [B * T, V] logits
        pred = logits.argmax(dim=-1)  # [B, T]
        real = tgt != pad_idx  # [B, T]
        is_eos = pred == eos_idx  # [B, T]
        ended = (is_eos.cumsum(dim=1) - is_eos.long()) > 0  # [B, T] the output has ended
        hits = (pred == tgt) & real & ~ended  # [B, T]
        correct_tokens += int(hits.sum())
        n_tokens += int(real.sum())
        # targets hold exactly one <eos>, at their last real position: matching every real
        # position means the prediction is the target up to and including its first <eos>
        correct[indices] = (hits | ~real).all(dim=1).cpu().numpy()
    model.train(was_training)
    metrics: dict[str, Any] = {
        "loss": total_loss / n_tokens,
        "exact_match": float(correct.mean()),
        "token_accuracy": correct_tokens / n_tokens,
    }
    if per_example:
        metrics["correct"] = correct
    return metrics


@dataclass(frozen=True)
class TranslationTask:
    """Sequence-to-sequence translation for ``rnnlib.train.fit``: cross-entropy over target
    tokens, the gold previous token fed with probability ``config.teacher_forcing_ratio``;
    validation by ``evaluate_translation``, selected on exact match."""

    pad_idx: int
    eos_idx: int
    metric: str = "exact_match"

    def lengths(self, dataset: SequenceDataset) -> list[int]:
        """Target lengths: the decoder loop, which dominates the cost, runs that many steps."""
        return [len(t) for t in dataset.targets]

    # src [B, S], src_lengths [B], tgt [B, T], tgt_lengths [B]
    collate = staticmethod(collate_pairs)

    def step(self, model: nn.Module, batch: tuple, config: TrainConfig) -> StepResult:
        src, src_lengths, tgt, _ = batch
        logits, _ = model(
            src, src_lengths, targets=tgt, teacher_forcing_ratio=config.teacher_forcing_ratio
        )  # [B, T, V]
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)), tgt.reshape(-1), ignore_index=self.pad_idx
        )
        real = tgt != self.pad_idx  # [B, T]
        correct = int(((logits.detach().argmax(-1) == tgt) & real).sum())
        return StepResult(loss, loss.item(), int(real.sum()), correct)

    evaluate = staticmethod(evaluate_translation)


@dataclass
class Translation:
    """One decoded command: the actions emitted before ``<eos>``, every token the decoder
    emitted (``<eos>`` included when it came), the attention weights ``[len(tokens),
    len(command)]`` (``None`` without attention) and whether decoding stopped at ``max_len``
    without emitting ``<eos>``."""

    command: list[str]
    actions: list[str]
    tokens: list[str]
    attention: torch.Tensor | None
    truncated: bool


@torch.inference_mode()
def greedy_decode(
    model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, *, max_len: int = DEFAULT_MAX_LEN
) -> tuple[list[list[int]], list[torch.Tensor] | None]:
    """Free-running greedy decoding of a padded batch: ``(predictions, attention)``, id lists
    up to and including their first ``<eos>`` (or ``max_len`` ids), and ``[T_i, S_i]`` attention
    tensors cut to each output and source length (``None`` without attention)."""
    model.eval()
    device = next(model.parameters()).device
    logits, attention = model(src.to(device), src_lengths, max_len=max_len)
    eos_idx = model.config.eos_idx
    rows = logits.argmax(dim=-1).cpu().tolist()  # [B, T]
    predictions = [row[: row.index(eos_idx) + 1] if eos_idx in row else row for row in rows]
    if attention is None:
        return predictions, None
    attention = attention.cpu()  # [B, T, S]
    weights = [attention[b, : len(p), : int(src_lengths[b])] for b, p in enumerate(predictions)]
    return predictions, weights


def translate(
    model: Seq2Seq,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    commands: str | Sequence[str] | Sequence[Sequence[str]],
    *,
    max_len: int = DEFAULT_MAX_LEN,
) -> list[Translation]:
    """Greedy translations of SCAN commands (strings, lower-cased and split on white space, or
    lists of words). ``ValueError`` for no commands, an empty command, a word outside the
    training commands (named, with the known words; its ``<unk>`` embedding was never trained,
    so a translation would be a confident guess) or a command outside the SCAN grammar (Lake &
    Baroni, 2018), which has no correct translation to compare with."""
    commands = [commands] if isinstance(commands, str) else list(commands)
    if not commands:
        raise ValueError("translate needs at least one command")
    words = set(src_vocab.itos) - set(src_vocab.specials)
    token_lists = []
    for command in commands:
        tokens = command.lower().split() if isinstance(command, str) else list(command)
        if not tokens:
            raise ValueError("an empty command cannot be translated")
        if unknown := [t for t in tokens if t not in words]:
            what = "is not a SCAN word" if len(unknown) == 1 else "are not SCAN words"
            raise ValueError(
                f"{' '.join(tokens)!r}: {', '.join(map(repr, unknown))} {what}; "
                f"the commands use only {', '.join(sorted(words))}"
            )
        try:
            interpret(tokens)
        except ValueError as err:  # it names the command (and the phrase at fault)
            raise ValueError(
                f"{err}, so it has no correct translation; a command is one or two phrases "
                "joined by 'and' or 'after', e.g. 'jump twice after walk left'"
            ) from None
        token_lists.append(tokens)
    sources = [torch.tensor(src_vocab.encode(tokens), dtype=torch.long) for tokens in token_lists]
    predictions, weights = greedy_decode(model, *pad_batch(sources), max_len=max_len)
    out = []
    for b, (command, ids) in enumerate(zip(token_lists, predictions, strict=True)):
        tokens = tgt_vocab.decode(ids)
        truncated = not ids or ids[-1] != tgt_vocab.eos_idx
        actions = tokens if truncated else tokens[:-1]
        attention = None if weights is None else weights[b]
        out.append(
            Translation(
                command=command,
                actions=actions,
                tokens=tokens,
                attention=attention,
                truncated=truncated,
            )
        )
    return out


def translate_commands(
    run_or_path: Any, commands: str | Sequence[str], *, max_len: int = DEFAULT_MAX_LEN
) -> list[Translation]:
    """``translate`` with a seq2seq ``rnnlib.experiments.Run`` or a saved run's folder; errors as
    ``translate``, ``ValueError`` for a run that is not a seq2seq run and ``FileNotFoundError``
    if ``run_or_path`` is not a saved run."""
    from .runs import model_and_inference

    model, state = model_and_inference(run_or_path)
    if not isinstance(model, Seq2Seq) or not state or "src_vocab" not in state:
        raise ValueError(f"{run_or_path} is not a seq2seq run (for a sentiment run, use predict)")
    vocabs = (Vocab.from_state(state["src_vocab"]), Vocab.from_state(state["tgt_vocab"]))
    return translate(model, *vocabs, commands, max_len=max_len)
