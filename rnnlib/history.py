"""Training history shared by the sentiment and seq2seq loops."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """Per-epoch metrics (one dict per epoch) and the training loss of every step."""

    epochs: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)

    def add_epoch(self, **metrics: float) -> dict:
        row = {"epoch": len(self.epochs) + 1, **metrics}
        self.epochs.append(row)
        return row

    def column(self, name: str) -> list:
        """Values of one metric, epoch by epoch (``None`` where an epoch lacks it)."""
        return [row.get(name) for row in self.epochs]

    def best(self, metric: str, *, mode: str = "max") -> dict:
        """The epoch row with the best value of ``metric``."""
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        rows = [r for r in self.epochs if r.get(metric) is not None]
        if not rows:
            raise ValueError(f"no epoch has metric {metric!r}; metrics: {self.metric_names()}")
        pick = max if mode == "max" else min
        return pick(rows, key=lambda r: r[metric])

    def metric_names(self) -> list[str]:
        names: list[str] = []
        for row in self.epochs:
            names.extend(k for k in row if k not in names)
        return names

    @property
    def total_seconds(self) -> float:
        return float(sum(r.get("seconds", 0.0) for r in self.epochs))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict) -> History:
        return cls(epochs=list(payload["epochs"]), step_losses=list(payload["step_losses"]))


def format_epoch(row: dict, name: str = "") -> str:
    """One compact line per epoch, e.g. ``rnn | epoch 3 | train_loss 0.412 | ... | 41.2 s``."""
    parts = [name] if name else []
    for key, value in row.items():
        if key == "seconds":
            continue
        parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    if "seconds" in row:
        parts.append(f"{row['seconds']:.1f} s")
    return " | ".join(parts)
