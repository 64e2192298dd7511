"""Cents that add up: hand-made awkward amounts."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from queries.money import allocate_cents, to_cents


def test_thirds_add_up_to_the_total():
    parts = [D("0.333333"), D("0.333333"), D("0.333334")]
    assert allocate_cents(parts) == [D("0.33"), D("0.33"), D("0.34")]
    assert sum(allocate_cents(parts)) == to_cents(sum(parts)) == D("1.00")


def test_half_cents_go_to_the_largest_remainders():
    parts = [D("0.005"), D("0.005"), D("0.005"), D("1.004999")]
    # total 1.019999 -> 1.02; floors 0+0+0+1.00 = 1.00; two cents to the largest remainders
    assert allocate_cents(parts) == [D("0.01"), D("0.01"), D("0.00"), D("1.00")]


def test_plain_rounding_would_not_add_up_here():
    parts = [D("0.004")] * 10  # each rounds to 0.00, but the total is 0.04
    assert sum(to_cents(p) for p in parts) == D("0.00")
    assert sum(allocate_cents(parts)) == D("0.04")


def test_empty_and_exact():
    assert allocate_cents([]) == []
    assert allocate_cents([D("1.10"), D("2.20")]) == [D("1.10"), D("2.20")]


@given(st.lists(st.decimals(min_value=0, max_value=10**6, places=6), min_size=1, max_size=40))
def test_parts_always_add_up_and_stay_within_a_cent(amounts):
    cents = allocate_cents(amounts)
    assert sum(cents) == to_cents(sum(amounts))
    for exact, rounded in zip(amounts, cents, strict=True):
        assert abs(rounded - exact) < D("0.01")
