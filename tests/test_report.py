import math

import pytest

from rnnlib.report import num, pct, pct_where, sci, signed_points


def test_spanish_number_formatting():
    assert num(1234567) == "1.234.567"
    assert num(0.5, 2) == "0,50"
    assert num(12345.678, 1) == "12.345,7"
    assert pct(0.8634) == "86,3 %"
    assert pct(1.0, 2) == "100,00 %"
    assert signed_points(0.031) == "+3,1 pp"
    assert signed_points(-0.0049, 2) == "−0,49 pp"
    assert signed_points(-0.0004) == "0,0 pp"  # no sign on a difference that rounds to zero
    assert signed_points(0.0) == "0,0 pp"


def test_powers_of_ten_with_a_decimal_comma():
    assert sci(5.42e-18) == "5,4 · 10⁻¹⁸"
    assert sci(0.00942) == "9,4 · 10⁻³"
    assert sci(9.96e-5) == "1,0 · 10⁻⁴"  # the mantissa rounds up to 10
    assert sci(123.4, 2) == "1,23 · 10²"
    assert sci(0.0) == "0"


def test_percent_over_a_mask_and_an_empty_bin():
    import numpy as np

    correct = np.array([1.0, 0.0, 1.0, 0.5])
    lengths = np.array([3, 10, 4, 30])
    assert pct_where(correct, lengths < 5) == "100,0 %"
    assert pct_where(correct, lengths >= 10, 2) == "25,00 %"
    assert pct_where(correct, lengths > 40) == "—"  # no pairs: no nan, no warning
    with pytest.raises(ValueError):
        pct_where(correct, [True])  # a mask of another length


def test_mean_std_and_percent_with_spread():
    from rnnlib.report import mean_std, pct_pm

    assert mean_std([0.8, 0.9]) == pytest.approx((0.85, 0.0707107), rel=1e-5)
    assert mean_std([0.5]) == (0.5, 0.0)
    assert pct_pm([0.851, 0.855, 0.853]) == "85,3 ± 0,2 %"
    # a spread that would show as 0,0 gets more decimals; exactly none stays 0,0
    assert pct_pm([0.8522, 0.8530, 0.8522]) == "85,25 ± 0,05 %"
    assert pct_pm([0.85220, 0.85221, 0.85222]) == "85,221 ± 0,001 %"
    assert pct_pm([0.852, 0.852000001]) == "85,200 ± 0,000 %"  # two decimals more at most
    assert pct_pm([0.9]) == "90,0 ± 0,0 %"
    with pytest.raises(ValueError, match="at least one"):
        mean_std([])
    assert all(math.isnan(x) for x in mean_std([float("nan"), 0.5]))  # a failed run shows as nan


def test_a_difference_is_real_only_beyond_two_standard_errors():
    from rnnlib.report import compare

    clear = compare([0.90, 0.91, 0.905], [0.85, 0.86, 0.855])
    assert clear.beyond_noise and clear.a_better
    assert clear.difference == pytest.approx(0.05)
    noisy = compare([0.90, 0.80, 0.85], [0.86, 0.84, 0.85])
    assert noisy.within_noise and not noisy.a_better
    reversed_ = compare([0.85, 0.86, 0.855], [0.90, 0.91, 0.905])
    assert reversed_.beyond_noise and not reversed_.a_better
    # the threshold: |difference| > 2 standard errors (Welch)
    se = clear.standard_error
    assert se == pytest.approx(((0.005**2) / 3 * 2) ** 0.5)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        compare([0.9], [0.8, 0.85])


def test_a_difference_in_the_prose_carries_the_verdict_the_data_give():
    from rnnlib.report import Comparison, difference_verdict, two_standard_errors

    beyond = Comparison(0.854, 0.845, 0.0025)  # +0,9 pp against 2 × 0,25 pp
    assert two_standard_errors(beyond) == "(dos errores estándar: 0,5 pp)"
    assert (
        difference_verdict(beyond) == "+0,9 pp, más allá del ruido (dos errores estándar: 0,5 pp)"
    )
    within = Comparison(0.80, 0.825, 0.028)
    assert difference_verdict(within) == "−2,5 pp, dentro del ruido (dos errores estándar: 5,6 pp)"
    # figures that would print alike get a decimal more, so the verdict can be read from them
    close = Comparison(0.8400, 0.8503, 0.0050)
    assert difference_verdict(close) == (
        "−1,03 pp, más allá del ruido (dos errores estándar: 1,00 pp)"
    )
    nearer = Comparison(0.84002, 0.85, 0.005)  # two decimals more at most
    assert difference_verdict(nearer) == (
        "−0,998 pp, dentro del ruido (dos errores estándar: 1,000 pp)"
    )
