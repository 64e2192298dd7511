"""Cells that a spreadsheet would run as formulas are made plain text (CSV/formula injection)."""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def safe_text(value: str) -> str:
    """Prefix "'" to text that starts like a formula, so it stays text in Excel, Sheets or LibreOffice."""
    return f"'{value}" if value[:1] in FORMULA_STARTS else value


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """`safe_text` applied to every text column of a frame."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.slice(0, 1).is_in(list(FORMULA_STARTS)))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )
