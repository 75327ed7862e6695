"""Number formatting for the notebook's Spanish prose: ``1.234.567`` and ``86,3 %``."""

from __future__ import annotations


def num(value: float, decimals: int = 0) -> str:
    """``1234567`` -> ``"1.234.567"``; ``0.5`` with ``decimals=2`` -> ``"0,50"``."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def pct(fraction: float, decimals: int = 1) -> str:
    """``0.8634`` -> ``"86,3 %"``."""
    return f"{num(100 * fraction, decimals)} %"


def signed_points(difference: float, decimals: int = 1) -> str:
    """Difference of two fractions in percentage points: ``0.031`` -> ``"+3,1 pp"``."""
    sign = "+" if difference >= 0 else "−"
    return f"{sign}{num(abs(100 * difference), decimals)} pp"
