"""CSV: one file per data point with a header row; several are zipped together."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

import polars as pl

from reports.safe import spreadsheet_safe
from reports.tables import FLOAT, INT, Table


def table_csv(table: Table) -> bytes:
    """Exact values (money keeps its decimals, dates ISO), formula-looking text neutralised."""
    # Text is neutralised before money becomes text, so a negative amount (-5.00) stays a number.
    frame = _by_row_kind(table, spreadsheet_safe(table.frame.select(table.columns)))
    frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.String)).rename({c: table.header(c) for c in table.columns})
    return frame.write_csv(datetime_format="%Y-%m-%d %H:%M").encode()


def _by_row_kind(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """A column that mixes units (the summary's values: counts, money, rates, one row each) written cell by
    cell as its row's kind, as the Excel and HTML writers do: a count is 259402, not the float 259402.0."""
    if table.unit_column is None:
        return frame
    mixed = [column for column in table.columns if table.kinds.get(column) == FLOAT]
    rows = list(table.frame.iter_rows(named=True))
    return frame.with_columns(
        pl.Series(column, [_cell(row[column], table.kind(column, row)) for row in rows], pl.String)
        for column in mixed
    )


def _cell(value: float | None, kind: str) -> str | None:
    if value is None:
        return None
    return str(int(value)) if kind == INT else str(value)


def file_name(index: int, table: Table) -> str:
    return f"{index:02d}-{table.key.replace('_', '-')}.csv"


def write_csv_zip(out: io.BufferedIOBase, tables: Iterable[Table]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, table in enumerate(tables, start=1):
            archive.writestr(file_name(index, table), table_csv(table))
