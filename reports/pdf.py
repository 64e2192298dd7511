"""PDF: a report to read, print or forward, drawn by ReportLab with no browser and no network.

A title page (whose data, which period, when and by whom), the KPI table, then each chosen point as a
vector chart (ReportLab's own charts, in the app's colours) and its table, which splits across pages
with its header repeated; "Page n of m" at the foot of every page. Names are text: each is escaped
before ReportLab's paragraph markup reads it, so `<a href=…>` or `=1+1` is printed as typed. The fonts
are Debian's DejaVu Sans (fonts-dejavu-core), and for what it lacks Droid Sans Fallback
(fonts-droid-fallback: Chinese, Japanese, Korean) and Symbola (fonts-symbola: emoji); right-to-left and
other scripts that need shaping are shaped by HarfBuzz (uharfbuzz).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

# ReportLab uses these when it can import them: here it must (shaping; its C accelerator, twice the speed).
import _rl_accel  # noqa: F401
import uharfbuzz  # noqa: F401
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from reports.chart_style import MUTED, PALETTE, count_ticks
from reports.html import BAR_COLOURS, SERIES_COLOURS, display
from reports.meta import ReportMeta
from reports.tables import DATE, DATETIME, FLOAT, INT, PERCENT, USD, Table

FONT_FILES = {
    "DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
}
# For the characters DejaVu Sans lacks, the first of these that has them; registered when first needed.
FALLBACK_FONTS = {
    "DroidSansFallback": "/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf",  # Chinese, Japanese, Korean
    "Symbola": "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",  # emoji and symbols
}
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
TEXT_COLOUR, LINE_COLOUR, HEADER_FILL = colors.HexColor("#1e293b"), colors.HexColor("#e2e8f0"), "#f1f5f9"
PAGE = A4
MARGIN = 15 * mm
WIDTH = PAGE[0] - 2 * MARGIN - 12  # within the page's frame, which keeps 6 pt on each side
CELL_PAD, V_PAD, FONT_SIZE, LEADING = 3, 2, 7.5, 9.5  # a table's cells
MIN_TEXT, MAX_TEXT = 60.0, 250.0  # a column of names wraps within these widths before numbers give up room
BAR_ROWS = 15  # a breakdown's chart shows its first 15 rows, as in the HTML report; the table has them all
MAX_CELL_CHARS = 1000  # a name longer than this is cut in a table's cell (a row must fit on a page)
LABEL_CHARS = 40  # longer names are cut in a chart's labels (with "…"); the table beside it has them whole
NUMERIC = (INT, FLOAT, USD, PERCENT)
# Right-to-left letters (Hebrew, Arabic, ...) and combining marks need HarfBuzz to be drawn right.
SHAPED_BIDI = frozenset(("R", "AL", "AN", "NSM"))


class FontMissing(RuntimeError):
    """A font the PDF needs is not installed; the message names the Debian package."""


_reportlab_cmap = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's map from glyphs back to text, with characters beyond U+FFFF (emoji) written in UTF-16 as
    PDF requires: ReportLab writes five hex digits, which readers cut to four (🚀 read back as Ὠ)."""
    return re.sub(r"(?<=> )<([0-9A-F]{5,6})>$", _utf16, _reportlab_cmap(fontname, subset), flags=re.MULTILINE)


def _utf16(match: re.Match) -> str:
    return "<" + chr(int(match.group(1), 16)).encode("utf-16-be").hex().upper() + ">"


@cache
def _fonts() -> None:
    """Register the main fonts once per process."""
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    for name, path in FONT_FILES.items():
        if not Path(path).is_file():
            raise FontMissing(f"The PDF report needs {path} (Debian's fonts-dejavu-core; `make run` installs it).")
        _register(name, path)


def _register(name: str, path: str) -> None:
    font = TTFont(name, path)
    font.hbFont()  # ReportLab sets up a font for shaping there: a shaped paragraph in several fonts needs each
    pdfmetrics.registerFont(font)


@cache
def _has(font: str) -> frozenset[int]:
    """The characters a font has, registering a fallback font the first time (none if it is not installed)."""
    _fonts()
    if font in FALLBACK_FONTS:
        if not Path(FALLBACK_FONTS[font]).is_file():
            return frozenset()
        _register(font, FALLBACK_FONTS[font])
    return frozenset(pdfmetrics.getFont(font).face.charToGlyph)


def _font_for(char: str) -> str:
    """DejaVu Sans when it has the character (or for a space), else the first fallback font that has it."""
    code = ord(char)
    if code in _has(FONT) or char.isspace():
        return FONT
    return next((font for font in FALLBACK_FONTS if code in _has(font)), FONT)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=FONT, fontSize=FONT_SIZE, leading=LEADING, textColor=TEXT_COLOUR)
    return {
        "cell": base,
        "head": ParagraphStyle("head", base, fontName=BOLD),
        "numhead": ParagraphStyle("numhead", base, fontName=BOLD, alignment=2),
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=24, leading=30, spaceAfter=18),
        "h2": ParagraphStyle("h2", base, fontName=BOLD, fontSize=14, leading=18, spaceBefore=6, spaceAfter=8),
        "fact": ParagraphStyle("fact", base, fontSize=11, leading=15),
        "factlabel": ParagraphStyle("factlabel", base, fontSize=11, leading=15, textColor=colors.HexColor(MUTED)),
        "label": ParagraphStyle("label", base, fontSize=7, leading=8.5, alignment=2),
        "muted": ParagraphStyle("muted", base, fontSize=9, leading=12, textColor=colors.HexColor(MUTED)),
    }


def _needs_shaping(text: str) -> bool:
    return not text.isascii() and any(unicodedata.bidirectional(c) in SHAPED_BIDI for c in text)


def markup(text: str) -> str:
    """Text as ReportLab paragraph markup that prints it as typed: escaped, and the characters DejaVu Sans
    lacks (Chinese, Japanese, Korean, emoji) set in a font that has them."""
    if text.isascii():
        return escape(text)
    parts, run, font = [], [], FONT
    for char in text:
        wanted = _font_for(char)
        if wanted != font and run:
            parts.append(_run("".join(run), font))
            run = []
        run.append(char)
        font = wanted
    parts.append(_run("".join(run), font))
    return "".join(parts)


def _run(text: str, font: str) -> str:
    return escape(text) if font == FONT else f'<font name="{font}">{escape(text)}</font>'


class _Writer:
    """Turns the report's tables into ReportLab flowables, with one set of styles and fonts."""

    def __init__(self) -> None:
        _fonts()
        self.styles = _styles()
        self._shaped: dict[str, ParagraphStyle] = {}

    def para(self, text: str, style: str = "cell") -> Paragraph:
        chosen = self.styles[style]
        if _needs_shaping(text):
            chosen = self._shaped.setdefault(style, ParagraphStyle(f"{style}-shaped", chosen, shaping=1))
        return Paragraph(markup(text), chosen)

    def title_page(self, meta: ReportMeta) -> list:
        facts = [[self.para(label, "factlabel"), self.para(value, "fact")] for label, value in meta.lines()]
        table = LongTable(facts, colWidths=[45 * mm, WIDTH - 45 * mm], splitInRow=1)  # a scope of many teams
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
        return [Spacer(1, 40 * mm), self.para("Telemetry report", "title"), table, PageBreak()]

    def table(self, table: Table) -> Flowable:
        """The table whole, its header repeated on every page it runs onto."""
        columns = table.columns
        kinds = [table.kinds.get(c) for c in columns]
        unbroken = [k in (*NUMERIC, DATE, DATETIME) for k in kinds]
        head = [
            self.para(table.header(c), "numhead" if k in NUMERIC else "head")
            for c, k in zip(columns, kinds, strict=True)
        ]
        texts = [[display(row[c], table.kind(c, row)) for c in columns] for row in table.frame.iter_rows(named=True)]
        by_column = [[cells[i] for cells in texts] for i in range(len(columns))]
        widths = _widths([table.header(c) for c in columns], by_column, unbroken)
        room = [width - 2 * CELL_PAD for width in widths]
        # Plain strings where they fit on one line as they are (drawn as typed, several times faster than
        # paragraphs): numbers, dates, and printable ASCII that fits; paragraphs for the rest, which wrap, take
        # another font for emoji or are shaped.
        rows = [head] + [
            [text if unbroken[i] or _fits(text, room[i]) else self.para(_cut(text)) for i, text in enumerate(cells)]
            for cells in texts
        ]
        style = TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(HEADER_FILL)),
            ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor("#cbd5e1")),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, LINE_COLOUR),
            ("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONT", (0, 1), (-1, -1), FONT, FONT_SIZE, LEADING),
            ("TEXTCOLOR", (0, 1), (-1, -1), TEXT_COLOUR),
            *(("ALIGN", (i, 1), (i, -1), "RIGHT") for i, kind in enumerate(kinds) if kind in NUMERIC),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("TOPPADDING", (0, 0), (-1, -1), V_PAD), ("BOTTOMPADDING", (0, 0), (-1, -1), V_PAD),
        ])  # fmt: skip
        return _PagedTable(rows, [_row_height(cells, widths) for cells in rows], widths, style)

    def section(self, table: Table) -> list:
        heading = self.para(table.title, "h2")
        if not table.frame.height:
            return [CondPageBreak(40 * mm), heading, self.para("Nothing in this period.", "muted")]
        chart = table.chart and (_line_chart(table) if table.chart.kind == "line" else _bar_chart(table, self.para))
        top = [heading, chart] if chart else [heading]
        return [CondPageBreak(110 * mm), KeepTogether(top), Spacer(1, 4 * mm), self.table(table), Spacer(1, 8 * mm)]


def _cut(text: str) -> str:
    """A cell's text, cut after MAX_CELL_CHARS: a row must fit on a page (the other formats have it whole)."""
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _fits(text: str, room: float) -> bool:
    return text.isascii() and text.isprintable() and pdfmetrics.stringWidth(text, FONT, FONT_SIZE) <= room


def _row_height(cells: list, widths: list[float]) -> float:
    """A row's height: its tallest cell, a paragraph as wrapped in its column, a plain string one line."""
    tallest = LEADING
    for cell, width in zip(cells, widths, strict=True):
        if isinstance(cell, Paragraph):
            tallest = max(tallest, cell.wrap(width - 2 * CELL_PAD, PAGE[1])[1])
    return tallest + 2 * V_PAD


class _PagedTable(Flowable):
    """A table cut into one LongTable a page, the header first on each. ReportLab's own split builds a new
    table of every row left at each page, so time grew with the square of the rows (10,000 people: 20 s);
    this one knows each row's height and cuts at the page's end, in time that follows the rows."""

    def __init__(self, rows: list, heights: list[float], widths: list[float], style: TableStyle, start: int = 1):
        super().__init__()
        self.rows, self.heights, self.widths, self.style, self.start = rows, heights, widths, style, start

    def _table(self, end: int) -> LongTable:
        rows, heights = [self.rows[0], *self.rows[self.start : end]], [self.heights[0], *self.heights[self.start : end]]
        table = LongTable(rows, colWidths=self.widths, rowHeights=heights, repeatRows=1)
        table.setStyle(self.style)
        return table

    def wrap(self, _width: float, _height: float) -> tuple[float, float]:
        return sum(self.widths), self.heights[0] + sum(self.heights[self.start :])

    def split(self, _width: float, height: float) -> list[Flowable]:
        used, end = self.heights[0], self.start
        while end < len(self.rows) and used + self.heights[end] <= height:
            used += self.heights[end]
            end += 1
        if end == self.start:
            return []  # not one row fits under the header here: all on the next page
        rest = _PagedTable(self.rows, self.heights, self.widths, self.style, end)
        return [self._table(end), rest] if end < len(self.rows) else [self._table(end)]

    def draw(self) -> None:
        table = self._table(len(self.rows))
        table.wrapOn(self.canv, sum(self.widths), PAGE[1])
        table.drawOn(self.canv, 0, 0)


def _widths(headers: list[str], texts: list[list[str]], unbroken: list[bool]) -> list[float]:
    """Columns as wide as their widest value; numbers, dates and short texts never wrap, longer texts
    share what is left and wrap in their cells; the table spans the page."""
    pad = 2 * CELL_PAD + 1

    def natural(values: Iterable[str], font: str = FONT) -> float:
        return max((pdfmetrics.stringWidth(v, font, FONT_SIZE) for v in values), default=0.0) + pad

    count = range(len(headers))
    nowrap = [unbroken[i] or all(len(v) <= 16 for v in texts[i]) for i in count]
    words = [natural(h.split(), BOLD) for h in headers]  # a header may wrap at its words
    wants = [max(natural(texts[i]), words[i]) for i in count]
    wants = [w if nowrap[i] else min(w, MAX_TEXT) for i, w in enumerate(wants)]
    whole = [max(w, min(natural([h], BOLD), 90.0)) for w, h in zip(wants, headers, strict=True)]
    if sum(whole) <= WIDTH:  # headers on one line where the page has room
        wants = whole
    wrapping = [i for i in count if not nowrap[i]]
    spare = WIDTH - sum(wants)
    if spare >= 0:  # stretch the text columns (or every column) to the page's width
        grow = wrapping or [i for i in count if not unbroken[i]] or list(count)
        total = sum(wants[i] for i in grow) or 1.0
        return [w + spare * w / total if i in grow else w for i, w in enumerate(wants)]
    room = WIDTH - sum(wants[i] for i in count if nowrap[i])
    if wrapping and room >= MIN_TEXT * len(wrapping):  # the long texts wrap
        total = sum(wants[i] for i in wrapping)
        return [room * w / total if i in wrapping else w for i, w in enumerate(wants)]
    return [w * WIDTH / sum(wants) for w in wants]  # too many columns: every one gives up room


def _label(value: object, kind: str | None) -> str:
    text = display(value, kind or "text")
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _axis_format(table: Table, column: str, largest: float):
    """Value axis labels as the tabs write them: whole counts with separators or 20k, dollars for money."""
    if table.kinds.get(column) == USD:
        return (lambda v: f"${v:,.2f}") if largest < 10 else (lambda v: f"${v:,.0f}")
    if count_ticks(largest).get("tickformat") == "~s":
        return _si
    return lambda v: f"{v:,.0f}"


def _si(value: float) -> str:
    """A count as Plotly's "~s" writes it on the tabs: 20k, 1.5M, 2G."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.0f}"


def _bar_chart(table: Table, para: Callable[[str, str], Paragraph]) -> Flowable:
    """A breakdown's first rows as horizontal bars, the largest on top, in the colour of what they are."""
    chart = table.chart
    frame = table.frame.head(BAR_ROWS)
    value = chart.values[0]
    values = [float(v or 0) for v in frame[value].to_list()][::-1]
    labels = [_label(v, table.kinds.get(chart.category)) for v in frame[chart.category].to_list()][::-1]
    label_width = min(max(pdfmetrics.stringWidth(t, FONT, 7) for t in labels) + 12, WIDTH * 0.4)
    height = 30 + 14 * len(values)
    drawing = Drawing(WIDTH, height + 18)
    bars = HorizontalBarChart()
    bars.x, bars.y, bars.width, bars.height = label_width, 18, WIDTH - label_width - 20, height - 10
    bars.data = [values]
    bars.bars[0].fillColor = colors.HexColor(BAR_COLOURS.get(chart.category, PALETTE[0]))
    bars.bars.strokeColor = None
    bars.categoryAxis.categoryNames = [""] * len(labels)  # the names are paragraphs, drawn by _Bars
    bars.categoryAxis.strokeColor = LINE_COLOUR
    _value_axis(bars.valueAxis, table, value, max(values, default=0.0))
    drawing.add(bars)
    title = table.header(value)
    if len(table.frame) > len(frame):
        title += f" (the first {len(frame)} of {len(table.frame)}; all in the table)"
    drawing.add(String(label_width, height + 8, title, fontName=BOLD, fontSize=8, fillColor=TEXT_COLOUR))
    return _Bars(drawing, [para(label, "label") for label in labels], bars)


class _Bars(Flowable):
    """A bar chart whose names are paragraphs, like the table's: a chart's own labels are drawn unshaped
    (a right-to-left name reversed) and in one font (an emoji as a box)."""

    def __init__(self, drawing: Drawing, labels: list[Paragraph], bars: HorizontalBarChart) -> None:
        super().__init__()
        self.drawing, self.labels, self.bars = drawing, labels, bars

    def wrap(self, _width: float, _height: float) -> tuple[float, float]:
        return self.drawing.width, self.drawing.height

    def draw(self) -> None:
        renderPDF.draw(self.drawing, self.canv, 0, 0)
        step = self.bars.height / len(self.labels)
        for index, label in enumerate(self.labels):
            _width, height = label.wrap(self.bars.x - 6, step * 2)
            label.drawOn(self.canv, 0, self.bars.y + (index + 0.5) * step - height / 2)


def _line_chart(table: Table) -> Drawing:
    """Each series over time in a chart of its own, side by side (their scales differ too much for one axis)."""
    chart = table.chart
    frame = table.frame
    dates = [display(v, table.kinds.get(chart.category)) for v in frame[chart.category].to_list()]
    step = max(1, len(dates) // 8)  # about eight date labels on an axis
    names = [d if i % step == 0 else "" for i, d in enumerate(dates)]
    gap = 24
    width = (WIDTH - gap * (len(chart.values) - 1)) / len(chart.values)
    drawing = Drawing(WIDTH, 200)
    for number, value in enumerate(chart.values):
        values = [float(v or 0) for v in frame[value].to_list()]
        line = HorizontalLineChart()
        line.x, line.y = number * (width + gap) + 40, 40
        line.width, line.height = width - 48, 130
        line.data = [values]
        colour = colors.HexColor(SERIES_COLOURS.get(value, PALETTE[number]))
        line.lines[0].strokeColor, line.lines[0].strokeWidth = colour, 1.5
        line.joinedLines = 1
        line.categoryAxis.categoryNames = names
        line.categoryAxis.labels.fontName, line.categoryAxis.labels.fontSize = FONT, 6.5
        line.categoryAxis.labels.angle, line.categoryAxis.labels.boxAnchor = 30, "ne"
        line.categoryAxis.strokeColor = LINE_COLOUR
        _value_axis(line.valueAxis, table, value, max(values, default=0.0))
        drawing.add(line)
        drawing.add(String(line.x, 182, table.header(value), fontName=BOLD, fontSize=8, fillColor=colour))
    return drawing


def _value_axis(axis, table: Table, column: str, largest: float) -> None:
    axis.valueMin = 0
    if largest <= 6 and table.kinds.get(column) == INT:
        axis.valueStep = 1  # no 0.5 interactions
    axis.labelTextFormat = _axis_format(table, column, largest)
    axis.labels.fontName, axis.labels.fontSize = FONT, 6.5
    axis.strokeColor, axis.visibleGrid = LINE_COLOUR, 1
    axis.gridStrokeColor, axis.gridStrokeWidth = LINE_COLOUR, 0.5


class _NumberedCanvas(Canvas):
    """Says "Page n of m" on every page: the pages are kept until the total is known (ReportLab's recipe)."""

    footer = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._page_states: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for page in self._page_states:
            self.__dict__.update(page)
            self.setFont(FONT, 7.5)
            self.setFillColor(colors.HexColor(MUTED))
            self.drawString(MARGIN, 8 * mm, self.footer)
            self.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"Page {self._pageNumber} of {len(self._page_states)}")
            super().showPage()
        super().save()


def write_pdf(out, meta: ReportMeta, summary: Table, tables: Iterable[Table]) -> None:
    """Write the report as PDF to a binary stream: title page, KPIs, then each point's chart and table."""
    writer = _Writer()
    story = writer.title_page(meta)
    story += [writer.para("Summary KPIs", "h2"), writer.table(summary), Spacer(1, 8 * mm)]
    for table in tables:
        if table.key != "summary":
            story += writer.section(table)
    canvas = type("ReportCanvas", (_NumberedCanvas,), {"footer": f"Telemetry report · {meta.period_label}"})
    document = SimpleDocTemplate(
        out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm,
        title=f"Telemetry report · {meta.period_label}", author=meta.generated_by, creator="Telemetry",
        subject=meta.scope_label,
    )  # fmt: skip
    document.build(story, canvasmaker=canvas)
