"""OTLP/JSON files read as columns: spans to event rows with Arrow and Polars, checked as columns.

Decoding each span through protobuf (`otlp.read_json_file`, `otlp.candidates`) costs about 0.2 ms a
span. Here Arrow's JSON reader reads the file a block of lines at a time (`read_file`), the spans are
exploded out of `resourceSpans` / `scopeSpans`, their attributes (and their resource's) pivoted into
columns, and the rules of `otlp.candidates` (which spans are interactions, an agent span's usage from
the inference spans under it) applied with expressions, joins and a vectorised walk up the parents;
the rows then go through `EventValidator.accept_columns` like every other format. A span it does not
accept becomes the record `otlp.candidates` makes, for `validate`, so reasons and quarantine are as
before (the quarantine shows the span as protobuf decodes it, then, for that span only).

Only files in the common shape are read so: one export per line, camelCase keys, ids in hex, the
attributes the mapping reads holding text or an integer (counts also an integral double). Any other
file is left to `otlp.read_json_file`, which reads it, or says what is wrong with it, as before.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from data.ingest import otlp
from data.ingest.jsonl import Item, _Checked, _rows_table
from data.ingest.otlp_spans import (
    BLOCK_BYTES,
    NotColumnar,
    attribute,
    count,
    documents,
    spans,
    with_attributes,
)
from data.ingest.validate import EVENT_FIELDS, EventValidator, Invalid

# keys protobuf's JSON parser also takes: such files are read by it
_SNAKE_CASE = re.compile(
    rb'"(resource_spans|scope_spans|trace_id|span_id|parent_span_id|start_time_unix_nano|end_time_unix_nano|'
    rb'string_value|int_value|double_value|instrumentation_library_spans)"'
)
MAX_DEPTH = 64  # parents followed up from a span; a deeper (or circular) chain: the file is read span by span
BLOCK_SPANS = 100_000  # rows handed on at a time


def read_file(path: Path, validator: EventValidator, team_attribute: str) -> tuple[Iterator[_Checked], int] | None:
    """The file's interactions as checked blocks, and how many spans were ignored; None when the file is
    not in the shape read here (the span-by-span reader then reads it, or refuses it, as before).

    The file is parsed a block of lines (BLOCK_BYTES) at a time: a first pass checks its whole shape and keeps
    what links spans to their parents (`_Links`), the blocks' spans set aside on disk (`_Parsed`); then each
    block's events are handed on. Memory follows the block and the spans that have a parent, not the file."""
    parsed = _Parsed(Path(path))
    try:
        links = _survey(parsed, team_attribute)
    except (NotColumnar, pa.ArrowException, pl.exceptions.PolarsError):
        parsed.close()
        return None
    except BaseException:  # a disk full, an interrupt: the blocks set aside go now, not at exit
        parsed.close()
        raise
    if links is None:
        parsed.close()
        return None
    return _blocks_of_events(parsed, validator, team_attribute, links), links.ignored


@dataclass
class _Block:
    """A block of the file's lines read as spans (`_parse`), and where its lines are (for the quarantine)."""

    frame: pl.DataFrame
    offset: int
    size: int


class _Parsed:
    """The file's blocks, parsed once: the first pass reads the file (`blocks`) and sets each block's spans
    aside in a temporary folder (Arrow IPC), the later passes read them back (`again`); a file of one block
    stays in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sizes: list[tuple[int, int]] = []  # (offset, size) of each block
        self.only: _Block | None = None
        self.folder: tempfile.TemporaryDirectory | None = None
        self.said = False  # whether the file says "resourceSpans" anywhere

    def blocks(self, team_attribute: str) -> Iterator[_Block]:
        offset, first_span = 0, 0
        with open(self.path, "rb") as handle:
            while content := handle.read(BLOCK_BYTES):
                if not content.endswith(b"\n"):
                    content += handle.readline()  # whole lines only
                self.said = self.said or b'"resourceSpans"' in content
                block = _Block(_parse(content, first_span, team_attribute), offset, len(content))
                offset, first_span = offset + len(content), first_span + block.frame.height
                self._keep(block)
                yield block

    def _keep(self, block: _Block) -> None:
        self.sizes.append((block.offset, block.size))
        if len(self.sizes) == 1:
            self.only = block
            return
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="otlp-blocks-")
            self._spill(0, self.only.frame)
            self.only = None
        self._spill(len(self.sizes) - 1, block.frame)

    def _spill(self, number: int, frame: pl.DataFrame) -> None:
        frame.write_ipc(Path(self.folder.name) / f"{number}.arrow", compression="lz4")

    def again(self) -> Iterator[_Block]:
        if self.only is not None:
            yield self.only
            return
        for number, (offset, size) in enumerate(self.sizes):
            frame = pl.read_ipc(Path(self.folder.name) / f"{number}.arrow")
            yield _Block(frame, offset, size)

    def lines(self, block: _Block) -> list[bytes]:
        """The block's documents, one a line, read from the file again."""
        with open(self.path, "rb") as handle:
            handle.seek(block.offset)
            return [line for line in handle.read(block.size).splitlines() if line.strip()]

    def close(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()


def _parse(content: bytes, first_span: int, team_attribute: str) -> pl.DataFrame:
    """A block of whole lines as one row per span (`spans`) with the attributes the mapping reads and the
    operation; NotColumnar when it is not in the shape read here."""
    if _SNAKE_CASE.search(content):
        raise NotColumnar
    lines = sum(1 for line in content.splitlines() if line.strip())
    rows = spans(documents(content, lines))
    rows = rows.with_columns(pl.col("span").cast(pl.Int64) + first_span)
    return with_attributes(rows, team_attribute)


@dataclass
class _Links:
    """What the file's spans need of the others (read in a first pass): for each span that has a parent, and
    each other span that is a parent, its key, parent, operation and usage, and the nearest `invoke_agent`
    span above it (`nearest_agent`); per agent span, the usage of the inference spans under it (`inner`)."""

    nearest: pl.DataFrame  # span (its number in the file), nearest_agent (trace-span key); spans with a parent
    inner: pl.DataFrame  # key (an agent's), inner_input, inner_output, inner_models, inner_model_count
    ignored: int  # spans that are not interactions


def _survey(parsed: _Parsed, team_attribute: str) -> _Links | None:
    """The first pass: every block checked (NotColumnar if one is not in the shape read here), the spans
    that have a parent kept, and how many spans are interactions; None when the file has no span or never
    says `resourceSpans`."""
    children, spans, counted, named_children = [], 0, 0, 0
    agent, inference = pl.col("operation") == otlp.INVOKE_AGENT, pl.col("operation").is_in(otlp.INFERENCE)
    named = inference & attribute("gen_ai.agent.id", "gen_ai.agent.name").is_not_null()
    for block in parsed.blocks(team_attribute):
        frame = block.frame
        spans += frame.height
        counted += frame.select((agent | (named & pl.col("parent_id").is_null())).sum()).item()
        children.append(_link_rows(frame.filter(pl.col("parent_id").is_not_null())))
        named_children += frame.select((named & ~agent & pl.col("parent_id").is_not_null()).sum()).item()
    if not parsed.said or spans == 0:
        return None
    links = pl.concat(children)
    if links.height == 0:
        empty = pl.DataFrame(schema={"span": pl.Int64, "nearest_agent": pl.String})
        return _Links(empty, _inner(empty), spans - counted)
    wanted = links.select("trace_id", span_id="parent_id").unique()
    parents = [  # the spans without a parent that are one: their operation
        _link_rows(block.frame.filter(pl.col("parent_id").is_null()).join(wanted, on=["trace_id", "span_id"]))
        for block in parsed.again()
    ]
    links = pl.concat([links, *parents]).sort("span")
    links = links.with_columns(nearest_agent=_nearest_agent(links))
    children = links.filter(pl.col("parent_id").is_not_null())
    named = (
        children.filter(pl.col("inference") & pl.col("named") & pl.col("nearest_agent").is_null()).height
        if named_children
        else 0
    )
    return _Links(children.select("span", "nearest_agent"), _inner(children), spans - counted - named)


def _link_rows(frame: pl.DataFrame) -> pl.DataFrame:
    agent, inference = pl.col("operation") == otlp.INVOKE_AGENT, pl.col("operation").is_in(otlp.INFERENCE)
    return frame.select(
        "span",
        "trace_id",
        "span_id",
        "parent_id",
        agent.fill_null(False).alias("agent"),
        inference.fill_null(False).alias("inference"),
        attribute("gen_ai.agent.id", "gen_ai.agent.name").is_not_null().alias("named"),
        count("gen_ai.usage.input_tokens").alias("input"),
        count("gen_ai.usage.output_tokens").alias("output"),
        attribute(*otlp.MODEL_ATTRIBUTES).alias("model"),
    )


def _inner(children: pl.DataFrame) -> pl.DataFrame:
    """Per agent span (its key), the usage and models of the inference spans whose nearest agent it is."""
    if children.height == 0:
        return pl.DataFrame(
            schema={"key": pl.String, "inner_input": pl.Int64, "inner_output": pl.Int64,
                    "inner_models": pl.String, "inner_model_count": pl.UInt32}
        )  # fmt: skip
    model = pl.col("model")
    return (
        children.filter(pl.col("inference") & pl.col("nearest_agent").is_not_null())
        .group_by("nearest_agent")
        .agg(
            inner_input=pl.col("input").fill_null(0).sum(),
            inner_output=pl.col("output").fill_null(0).sum(),
            inner_models=model.filter(model != "").unique().sort().str.join(", "),
            inner_model_count=model.filter(model != "").n_unique(),
        )
        .rename({"nearest_agent": "key"})
    )


def _blocks_of_events(
    parsed: _Parsed, validator: EventValidator, team_attribute: str, links: _Links
) -> Iterator[_Checked]:
    """The second pass: each block's interactions, checked."""
    try:
        for block in parsed.again():
            events = _events(block.frame, links, team_attribute)
            yield from _checked(events, validator, _Documents(lambda block=block: parsed.lines(block)))
    finally:
        parsed.close()


def _events(frame: pl.DataFrame, links: _Links, team_attribute: str) -> pl.DataFrame:
    """A block's spans that are interactions (`otlp.candidates`), as event fields plus `span` (the order),
    `document`, `within` (the span's place in its document), `agent_name` (to look up) and `reasons` (the
    span's own, as `otlp._candidate` gives them); what links them to the file's other spans: `links`."""
    frame = frame.join(links.nearest, on="span", how="left", maintain_order="left")
    frame = frame.with_columns(key=pl.concat_str("trace_id", pl.lit("-"), "span_id"))
    agent = pl.col("operation") == otlp.INVOKE_AGENT
    inference = pl.col("operation").is_in(otlp.INFERENCE)
    model = attribute(*otlp.MODEL_ATTRIBUTES)
    counted = agent | (
        inference & pl.col("nearest_agent").is_null() & attribute("gen_ai.agent.id", "gen_ai.agent.name").is_not_null()
    )
    # every copy of a span sent twice has the spans under it (otlp._inference_under looks them up by id)
    frame = frame.filter(counted).join(links.inner, on="key", how="left", maintain_order="left")
    no_usage = count("gen_ai.usage.input_tokens").is_null() & count("gen_ai.usage.output_tokens").is_null()
    from_inner = agent & no_usage & pl.col("inner_input").is_not_null()
    spread = from_inner & model.is_null() & (pl.col("inner_model_count") > 1)
    duration = pl.col("end_ns") - pl.col("start_ns")
    agent_id = attribute("gen_ai.agent.id")
    reasons = pl.concat_list(
        pl.when(spread).then(
            pl.format("usage is spread over several models ({}); cannot price it as one", "inner_models")
        ),
        pl.when(duration < 0).then(pl.lit("span ends before it starts")),
    ).list.drop_nulls()
    return frame.select(
        "span",
        "document",
        "within",
        pl.concat_str(pl.lit("otel-"), "key").alias("event_id"),
        (pl.col("start_ns") // 1000).cast(pl.Datetime("us", "UTC")).alias("ts"),
        attribute(*otlp.USER_ATTRIBUTES).alias("user_id"),
        attribute(team_attribute).alias("team_id"),
        agent_id.alias("agent_id"),
        pl.when(from_inner & model.is_null() & (pl.col("inner_model_count") == 1))
        .then(pl.col("inner_models"))
        .otherwise(model)
        .alias("model"),
        attribute("gen_ai.conversation.id").alias("conversation_id"),
        pl.when(from_inner).then("inner_input").otherwise(count("gen_ai.usage.input_tokens")).alias("input_tokens"),
        pl.when(from_inner).then("inner_output").otherwise(count("gen_ai.usage.output_tokens")).alias("output_tokens"),
        pl.when(pl.col("end_ns") != 0).then((duration + 500_000) // 1_000_000).alias("latency_ms"),
        pl.when(pl.col("status_error") | attribute("error.type").is_not_null())
        .then(pl.lit("error"))
        .otherwise(pl.lit("ok"))
        .alias("status"),
        pl.lit(None, dtype=pl.Decimal(18, 6)).alias("cost_usd"),
        pl.when(agent_id.is_null()).then(attribute("gen_ai.agent.name")).alias("agent_name"),
        reasons.alias("reasons"),
    )


def _nearest_agent(links: pl.DataFrame) -> pl.Series:
    """Per link (in file order), the key of its nearest `invoke_agent` ancestor among the file's spans (null:
    none), parents followed as `otlp._under_agent` and `otlp._inference_under` follow them."""
    keys = links.select("trace_id", "span_id", "parent_id").with_row_index("row")
    # a span sent twice: the last one is the parent, as in otlp.candidates' dict of spans by id
    last = keys.unique(["trace_id", "span_id"], keep="last", maintain_order=True)
    parents = keys.join(
        last.select("trace_id", "span_id", parent_row="row"),
        left_on=["trace_id", "parent_id"],
        right_on=["trace_id", "span_id"],
        how="left",
        maintain_order="left",
    )["parent_row"]
    parent = parents.fill_null(-1).to_numpy().astype(np.int64)
    is_agent = links["agent"].to_numpy()
    found = np.full(len(parent), -1, dtype=np.int64)
    at = parent.copy()
    for _depth in range(MAX_DEPTH):
        walking = at >= 0
        if not walking.any():
            key = links.select(pl.concat_str("trace_id", pl.lit("-"), "span_id")).to_series()
            none = pl.Series([None], dtype=pl.String)
            return key.gather(np.maximum(found, 0)).zip_with(pl.Series(found >= 0), none).alias("nearest_agent")
        hit = walking & is_agent[np.maximum(at, 0)]
        found[hit] = at[hit]
        at = np.where(walking & ~hit, parent[np.maximum(at, 0)], -1)
    raise NotColumnar  # deeper than MAX_DEPTH, or parents in a circle


def _checked(events: pl.DataFrame, validator: EventValidator, documents: _Documents) -> list[_Checked]:
    """Blocks of rows the column check accepts, and the other interactions as records for `validate`,
    each with its span's place in the file."""
    names = _agent_ids(events, validator)
    looked_up = pl.col("agent_name").replace_strict(names, default=None, return_dtype=pl.String)
    events = events.with_columns(pl.coalesce("agent_id", looked_up).alias("agent_id"))
    blocks = []
    for start in range(0, events.height, BLOCK_SPANS):
        block = events.slice(start, BLOCK_SPANS)
        found_agent = block["agent_name"].is_null() | block["agent_id"].is_not_null()
        eligible = (block["reasons"].list.len() == 0) & found_agent
        rows, accepted = validator.accept_columns(block.select(EVENT_FIELDS), None, eligible)
        checked = _Checked()
        order = block["span"].to_numpy()
        if rows.height:
            checked.rows.append(_rows_table(rows))
            checked.lines.append(order[accepted])
        left = np.flatnonzero(~accepted)
        if len(left):
            checked.items = [_item(record, documents) for record in block[left].iter_rows(named=True)]
            checked.item_order = order[left].tolist()
        blocks.append(checked)
    return blocks


def _agent_ids(events: pl.DataFrame, validator: EventValidator) -> dict[str, str]:
    """The agent id of each agent name the spans give without an id, where the directory has exactly one."""
    found = {}
    for name in events["agent_name"].drop_nulls().unique().to_list():
        with contextlib.suppress(Invalid):  # `validate` gives the reason, for each such span
            found[name] = validator.directory.agent_by_name(name)
    return found


def _item(record: dict, documents: _Documents) -> Item:
    """A span the column check did not accept, as `otlp.candidates` gives it: the record, the span as the
    quarantine shows it, its own reasons and the agent name to look up."""
    fields = {name: record[name] for name in EVENT_FIELDS if name != "cost_usd"}
    if record["agent_name"] is not None:
        fields["agent_id"] = None  # `validate` looks the name up, and says why when it cannot
    document, within = record["document"], record["within"]
    return None, fields, lambda: documents.original(document, within), list(record["reasons"]), record["agent_name"]


class _Documents:
    """A block's documents, read again and decoded by protobuf only for a span the quarantine shows (the last
    few kept)."""

    def __init__(self, read: Callable[[], list[bytes]]) -> None:
        self.read = read
        self.lines: list[bytes] | None = None
        self._decoded: dict[int, list[otlp._Span]] = {}

    def original(self, document: int, within: int) -> dict:
        """The quarantine's view of a document's span (`otlp.original`)."""
        if document not in self._decoded:
            if self.lines is None:
                self.lines = self.read()
            if len(self._decoded) >= 4:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[document] = _spans_of(otlp.decode_json(self.lines[document]))
        return otlp.original(self._decoded[document][within])


def _spans_of(request: otlp.ExportTraceServiceRequest) -> list[otlp._Span]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = otlp._attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            spans.extend(otlp._Span(span, resource, scope_spans.scope.name, "") for span in scope_spans.spans)
    return spans
