"""Excel: a Summary sheet, then a sheet per data point with typed cells, filters and a native chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.meta import ReportMeta
from reports.safe import looks_like_formula
from reports.tables import DATE, DATETIME, FLOAT, INT, PERCENT, TEXT, USD, Table

NUMBER_FORMATS = {
    INT: "#,##0",
    FLOAT: "#,##0.00",
    USD: '"$"#,##0.00',
    PERCENT: "0.0%",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}
CHART_ROWS = 15
MAX_WIDTH = 48


class _Formats:
    def __init__(self, book: Workbook) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF7", "bottom": 1, "text_wrap": True,
                                       "valign": "top"})  # fmt: skip
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.label = book.add_format({"bold": True})
        self.by_kind = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
        self.text = book.add_format({})
        # Excel's hidden quote prefix: the cell shows the text as typed, no "'", and stays text when edited.
        self.formula_like = book.add_format({"quote_prefix": True})

    def text_format(self, text: str) -> Format:
        """The format for a text cell: quote-prefixed where the text starts like a formula."""
        return self.formula_like if looks_like_formula(text) else self.text


def write_xlsx(path: Path, meta: ReportMeta, summary: Table, tables: Iterable[Table]) -> None:
    """Write the workbook row by row (constant memory), so a large report stays small in RAM."""
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
         "strings_to_numbers": False, "default_date_format": NUMBER_FORMATS[DATE]},
    )  # fmt: skip
    formats = _Formats(book)
    _summary_sheet(book, formats, meta, summary)
    used = {"Summary"}
    for table in tables:
        if table.key != "summary":
            _table_sheet(book, formats, table, _sheet_name(table.title, used))
    book.close()


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\")[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def _summary_sheet(book: Workbook, formats: _Formats, meta: ReportMeta, summary: Table) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write_string(0, 0, "Telemetry report", formats.title)
    for row, (label, value) in enumerate(meta.lines(), start=2):
        sheet.write_string(row, 0, label, formats.label)
        sheet.write_string(row, 1, value, formats.text_format(value))
    first = len(meta.lines()) + 3
    _write_rows(sheet, formats, summary, first)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 3, 18)


def _table_sheet(book: Workbook, formats: _Formats, table: Table, name: str) -> None:
    sheet = book.add_worksheet(name)
    rows = _write_rows(sheet, formats, table, 0)
    columns = table.columns
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(rows, 1), len(columns) - 1)
    if table.chart and rows:
        _add_chart(book, sheet, name, table, rows)


def _write_rows(sheet: Worksheet, formats: _Formats, table: Table, first: int) -> int:
    """Header and typed cells from row `first`; returns the number of data rows."""
    columns = table.columns
    widths = [len(table.header(c)) + 2 for c in columns]
    for col, column in enumerate(columns):
        sheet.write_string(first, col, table.header(column), formats.header)
    count = 0
    for count, row in enumerate(table.frame.iter_rows(named=True), start=1):
        for col, column in enumerate(columns):
            kind = table.kind(column, row)
            shown = _write_cell(sheet, formats, first + count, col, row[column], kind)
            widths[col] = min(MAX_WIDTH, max(widths[col], shown))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    return count


def _write_cell(sheet: Worksheet, formats: _Formats, row: int, col: int, value, kind: str) -> int:
    """One typed cell; returns about how wide it shows."""
    if value is None:
        sheet.write_blank(row, col, None)
        return 0
    if kind == TEXT or isinstance(value, str):
        # Every text cell through write_string: a string cell, which no reader runs as a formula.
        text = str(value)
        sheet.write_string(row, col, text, formats.text_format(text))
        return len(text)
    if kind in (DATE, DATETIME):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        sheet.write_datetime(row, col, moment, formats.by_kind[kind])
        return 16 if kind == DATETIME else 11
    number = float(value) if isinstance(value, Decimal | int | float) else value
    sheet.write_number(row, col, number, formats.by_kind.get(kind, formats.by_kind[FLOAT]))
    return len(f"{number:,.2f}") + 2


def _add_chart(book: Workbook, sheet: Worksheet, name: str, table: Table, rows: int) -> None:
    columns = table.columns
    category = columns.index(table.chart.category)
    last = rows if table.chart.kind == "line" else min(rows, CHART_ROWS)
    chart = book.add_chart({"type": "line" if table.chart.kind == "line" else "bar"})
    for value in table.chart.values:
        col = columns.index(value)
        series = {
            "name": [name, 0, col],
            "categories": [name, 1, category, last, category],
            "values": [name, 1, col, last, col],
        }
        if table.chart.kind == "line" and value != table.chart.values[0]:
            series["y2_axis"] = True
        chart.add_series(series)
    chart.set_title({"name": table.title if table.chart.kind == "line" else f"{table.title} (top {last})"})
    chart.set_legend({"position": "bottom"})
    if table.chart.kind == "bar":
        chart.set_y_axis({"reverse": True})  # largest first, as in the table
        chart.set_legend({"none": True})
    chart.set_size({"width": 720, "height": 420})
    sheet.insert_chart(1, len(columns) + 1, chart)
