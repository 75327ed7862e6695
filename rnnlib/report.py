"""Numbers for the notebook's Spanish prose (``1.234.567``, ``86,3 %``), and comparisons over
seeds: a difference of means is real beyond two Welch standard errors, else it is seed noise."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

NOISE_STANDARD_ERRORS = 2.0
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def num(value: float, decimals: int = 0) -> str:
    """``1234567`` -> ``"1.234.567"``; ``0.5`` with ``decimals=2`` -> ``"0,50"``."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def sci(value: float, decimals: int = 1) -> str:
    """``5.4e-18`` -> ``"5,4 · 10⁻¹⁸"`` (decimal comma, superscript exponent); ``"0"`` for 0."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10**exponent, decimals)
    if abs(mantissa) >= 10:  # 9.96 rounds to 10.0
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{num(mantissa, decimals)} · 10{str(exponent).translate(_SUPERSCRIPTS)}"


def pct(fraction: float, decimals: int = 1) -> str:
    """``0.8634`` -> ``"86,3 %"``."""
    return f"{num(100 * fraction, decimals)} %"


def pct_where(fractions: Sequence[float], mask: Sequence[bool], decimals: int = 1) -> str:
    """Mean of ``fractions`` where ``mask`` is true, as a percentage; ``"—"`` if it selects none."""
    selected = [f for f, keep in zip(fractions, mask, strict=True) if keep]
    return pct(sum(selected) / len(selected), decimals) if selected else "—"


def signed_points(difference: float, decimals: int = 1) -> str:
    """Difference of two fractions in percentage points: ``0.031`` -> ``"+3,1 pp"``; one that
    rounds to zero has no sign (``"0,0 pp"``, not ``"−0,0 pp"``)."""
    sign = "−" if difference < 0 else "+"
    if num(abs(100 * difference), decimals) == num(0, decimals):
        sign = ""
    return f"{sign}{num(abs(100 * difference), decimals)} pp"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value); ``ValueError`` for no values."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_std needs at least one value")
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def pct_pm(values: Sequence[float], decimals: int = 1) -> str:
    """Mean ± standard deviation of fractions as percentages: ``"85,3 ± 0,4 %"``. A non-zero
    deviation that would round to 0 gets up to two more decimals, mean too: ``"85,25 ± 0,05 %"``."""
    mean, std = mean_std(values)
    for _ in range(2):
        if not 0 < 100 * std < 0.5 * 10.0**-decimals:
            break
        decimals += 1
    return f"{num(100 * mean, decimals)} ± {num(100 * std, decimals)} %"


@dataclass(frozen=True)
class Comparison:
    """``a`` against ``b``, one value per seed each (higher is better)."""

    mean_a: float
    mean_b: float
    standard_error: float

    @property
    def difference(self) -> float:
        return self.mean_a - self.mean_b

    @property
    def beyond_noise(self) -> bool:
        """The difference exceeds two standard errors."""
        return abs(self.difference) > NOISE_STANDARD_ERRORS * self.standard_error

    @property
    def a_better(self) -> bool:
        """``a`` is higher than ``b`` beyond noise."""
        return self.beyond_noise and self.difference > 0

    @property
    def within_noise(self) -> bool:
        return not self.beyond_noise


def compare(a: Sequence[float], b: Sequence[float]) -> Comparison:
    """Compare two sets of per-seed results; ``ValueError`` unless each has 2 values or more."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError(
            f"a comparison needs at least 2 seeds on each side, got {len(a)} and {len(b)}"
        )
    mean_a, std_a = mean_std(a)
    mean_b, std_b = mean_std(b)
    return Comparison(mean_a, mean_b, math.sqrt(std_a**2 / len(a) + std_b**2 / len(b)))
