"""Training history: one row of metrics per epoch, the loss of every update, the best epoch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """One metrics dict per epoch, every update's loss and the kept ``best_epoch`` (1-based)."""

    epochs: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    best_epoch: int | None = None

    def add_epoch(self, **metrics: float) -> dict:
        row = {"epoch": len(self.epochs) + 1, **metrics}
        self.epochs.append(row)
        return row

    def column(self, name: str) -> list:
        """Values of one metric, epoch by epoch (``None`` where an epoch lacks it)."""
        return [row.get(name) for row in self.epochs]

    @property
    def best(self) -> dict:
        """The row of the selected epoch; ``ValueError`` when there is none."""
        if self.best_epoch is None:
            raise ValueError("this history has no selected epoch (no epoch was trained)")
        return self.epochs[self.best_epoch - 1]

    @property
    def total_seconds(self) -> float:
        return float(sum(r.get("seconds", 0.0) for r in self.epochs))

    @property
    def seconds_per_epoch(self) -> float:
        """Mean seconds of an epoch; ``ValueError`` when no epoch was trained."""
        if not self.epochs:
            raise ValueError("this history has no epoch to time")
        return self.total_seconds / len(self.epochs)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict) -> History:
        return cls(list(payload["epochs"]), list(payload["step_losses"]), payload.get("best_epoch"))


def format_epoch(row: dict, name: str = "") -> str:
    """One compact line per epoch, e.g. ``rnn | epoch 3 | train_loss 0.4120 | ... | 41.2 s``."""
    parts = [name] if name else []
    for key, value in row.items():
        if key != "seconds":
            parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    if "seconds" in row:
        parts.append(f"{row['seconds']:.1f} s")
    return " | ".join(parts)
