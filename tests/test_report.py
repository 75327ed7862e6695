from rnnlib.report import num, pct, signed_points


def test_spanish_number_formatting():
    assert num(1234567) == "1.234.567"
    assert num(0.5, 2) == "0,50"
    assert num(12345.678, 1) == "12.345,7"
    assert pct(0.8634) == "86,3 %"
    assert pct(1.0, 2) == "100,00 %"
    assert signed_points(0.031) == "+3,1 pp"
    assert signed_points(-0.0049, 2) == "−0,49 pp"
