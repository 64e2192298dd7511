"""Names made inert where they are shown: as spreadsheet cells (formula injection) and as chart text."""

from __future__ import annotations

import re

import polars as pl

# OWASP's list (=, +, -, @, tab, carriage return), and | and % that older spreadsheets also run.
# The signs, and every character NFKC folds into one of them (full-width ＝ ＋ － ＠ ｜ ％, small ﹦ ﹢ ﹣ ﹫ ﹪,
# super- and subscript ⁼ ⁺ ₌ ₊, ⩵ ⩶ ﬩): a spreadsheet that folds widths (East Asian locales) may run ＝1+1.
# Written out, not derived at start (scanning Unicode is slow); a test derives them again.
FORMULA_SIGNS = (
    "=+-@|%\uff1d\uff0b\uff0d\uff20\uff5c\uff05\ufe66\ufe62\ufe63\ufe6b\ufe6a\u207c\u207a\u208c\u208a\u2a75\u2a76\ufb29"
)
# Every character Python's str.isspace() accepts: spreadsheets trim leading whitespace, newlines included.
LEADING_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _class(chars: str) -> str:
    """A regex character class that Python's `re` and Polars' (Rust) regex both read the same way."""
    return "[" + "".join(f"\\u{ord(c):04X}" for c in chars) + "]"


# A tab or carriage return first (OWASP), or a sign after any leading whitespace.
FORMULA_PATTERN = f"^(?:[\\t\\r]|{_class(LEADING_SPACE)}*{_class(FORMULA_SIGNS)})"
_FORMULA = re.compile(FORMULA_PATTERN)


def looks_like_formula(value: str) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    return _FORMULA.match(value) is not None


def safe_text(value: str) -> str:
    """Prefix "'" to text that starts like a formula, so it stays text in Excel, Sheets or LibreOffice
    (CSV has no other way to say "text"; xlsx writes it as a string cell instead)."""
    return f"'{value}" if looks_like_formula(value) else value


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """`safe_text` applied to every text column of a frame (numbers, negative ones too, are left alone)."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def chart_text(value: object) -> object:
    """Text Plotly draws (tick labels, legend entries, hover, bar text) with its markup escaped, so a name
    like `<a href=...>Eng</a>` shows as written and never becomes a link; Plotly shows `&lt;` as `<`.
    Lists are escaped item by item; numbers, dates and None pass unchanged."""
    if isinstance(value, str):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(value, list | tuple):
        return [chart_text(item) for item in value]
    return value
