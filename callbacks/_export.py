"""Files people download: cells that a spreadsheet would run as formulas are made plain text."""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix "'" to text cells that start like a formula (CSV/formula injection)."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(_starts_like_formula(name))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def _starts_like_formula(name: str) -> pl.Expr:
    return pl.col(name).str.slice(0, 1).is_in(list(FORMULA_STARTS))
