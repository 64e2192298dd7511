"""Exact money: cents that add up. Sums stay DECIMAL in SQL; only the final display rounds."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    """Round half-up to the cent, as an invoice would."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def allocate_cents(amounts: Sequence[Decimal]) -> list[Decimal]:
    """Round each part to the cent so the parts add up to the rounded total, exactly.

    Largest remainder: every part is first rounded down, then the cents still missing from the
    total go to the parts that lost most in rounding (ties to the earlier part). No part moves by
    more than one cent from its own rounding.
    """
    exact = [Decimal(a) for a in amounts]
    if not exact:
        return []
    total = to_cents(sum(exact, Decimal(0)))
    floors = [a.quantize(CENT, rounding=ROUND_FLOOR) for a in exact]
    missing = int((total - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    step = CENT if missing >= 0 else -CENT
    # Negative `missing` only arises with negative parts (credits); take cents back from the smallest losses.
    chosen = order[:missing] if missing >= 0 else order[::-1][: -missing]
    for i in chosen:
        floors[i] += step
    return floors
