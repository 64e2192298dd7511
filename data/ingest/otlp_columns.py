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
import pyarrow.json as pj

from data.ingest import otlp
from data.ingest.jsonl import Item, _Checked, _rows_table
from data.ingest.validate import EVENT_FIELDS, EventValidator, Invalid

_VALUE = pl.Struct(
    {"stringValue": pl.String, "intValue": pl.String, "doubleValue": pl.Float64, "boolValue": pl.Boolean}
)
_ATTRIBUTES = pl.List(pl.Struct({"key": pl.String, "value": _VALUE}))
_IDS_AND_TIMES = ("traceId", "spanId", "parentSpanId", "name", "startTimeUnixNano", "endTimeUnixNano")
_SPAN = pl.Struct(
    {**dict.fromkeys(_IDS_AND_TIMES, pl.String), "attributes": _ATTRIBUTES, "status": pl.Struct({"code": pl.String})}
)
_SCOPE_SPANS = pl.Struct({"scope": pl.Struct({"name": pl.String}), "spans": pl.List(_SPAN)})
_RESOURCE_SPANS = pl.Struct({"resource": pl.Struct({"attributes": _ATTRIBUTES}), "scopeSpans": pl.List(_SCOPE_SPANS)})
_SCHEMA = pl.Schema({"resourceSpans": pl.List(_RESOURCE_SPANS)})
# Fields where OTLP/JSON may send a number for the text kept here (64-bit integers, enums); elsewhere a
# number where text is due makes protobuf's reader refuse the file, so the file is left to it.
_NUMBERS_AS_TEXT = frozenset({"intValue", "startTimeUnixNano", "endTimeUnixNano", "code"})
# keys protobuf's JSON parser also takes: such files are read by it
_SNAKE_CASE = re.compile(
    rb'"(resource_spans|scope_spans|trace_id|span_id|parent_span_id|start_time_unix_nano|end_time_unix_nano|'
    rb'string_value|int_value|double_value|instrumentation_library_spans)"'
)
_NESTED_VALUE = re.compile(rb'"(?:stringValue|intValue|doubleValue|boolValue)"\s*:\s*[\[{]')
# a key whose value must be a JSON string, given a number, a flag, an object or a list (not null); a
# key is the only string followed by a colon, so this never matches inside a value
_NOT_TEXT = re.compile(rb'"(?:traceId|spanId|parentSpanId|name|key|stringValue)"\s*:\s*[^"\sn]')
_HEX = r"^(?:[0-9a-fA-F]{2})+$"
_ERROR_CODES = ("2", "STATUS_CODE_ERROR")
_STATUS_CODES = ("0", "1", *_ERROR_CODES, "STATUS_CODE_UNSET", "STATUS_CODE_OK")
MAX_DEPTH = 64  # parents followed up from a span; a deeper (or circular) chain: the file is read span by span
BLOCK_SPANS = 100_000  # rows handed on at a time
BLOCK_BYTES = 16 << 20  # the file's lines read at once (a longer line: alone); Arrow's JSON reader's block too


class _NotColumnar(Exception):
    """The file is not in the shape read here: `otlp.read_json_file` reads it."""


def read_file(path: Path, validator: EventValidator, team_attribute: str) -> tuple[Iterator[_Checked], int] | None:
    """The file's interactions as checked blocks, and how many spans were ignored; None when the file is
    not in the shape read here (the span-by-span reader then reads it, or refuses it, as before).

    The file is parsed a block of lines (BLOCK_BYTES) at a time: a first pass checks its whole shape and keeps
    what links spans to their parents (`_Links`), the blocks' spans set aside on disk (`_Parsed`); then each
    block's events are handed on. Memory follows the block and the spans that have a parent, not the file."""
    parsed = _Parsed(Path(path))
    try:
        links = _survey(parsed, team_attribute)
    except (_NotColumnar, pa.ArrowException, pl.exceptions.PolarsError):
        parsed.close()
        return None
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
    """A block of whole lines as one row per span (`_spans`) with the attributes the mapping reads and the
    operation; _NotColumnar when it is not in the shape read here."""
    if _SNAKE_CASE.search(content):
        raise _NotColumnar
    lines = sum(1 for line in content.splitlines() if line.strip())
    spans = _spans(_documents(content, lines))
    spans = spans.with_columns(pl.col("span").cast(pl.Int64) + first_span)
    return _with_attributes(spans, team_attribute)


@dataclass
class _Links:
    """What the file's spans need of the others (read in a first pass): for each span that has a parent, and
    each other span that is a parent, its key, parent, operation and usage, and the nearest `invoke_agent`
    span above it (`nearest_agent`); per agent span, the usage of the inference spans under it (`inner`)."""

    nearest: pl.DataFrame  # span (its number in the file), nearest_agent (trace-span key); spans with a parent
    inner: pl.DataFrame  # key (an agent's), inner_input, inner_output, inner_models, inner_model_count
    ignored: int  # spans that are not interactions


def _survey(parsed: _Parsed, team_attribute: str) -> _Links | None:
    """The first pass: every block checked (_NotColumnar if one is not in the shape read here), the spans
    that have a parent kept, and how many spans are interactions; None when the file has no span or never
    says `resourceSpans`."""
    children, spans, counted, named_children = [], 0, 0, 0
    agent, inference = pl.col("operation") == otlp.INVOKE_AGENT, pl.col("operation").is_in(otlp.INFERENCE)
    named = inference & _attribute("gen_ai.agent.id", "gen_ai.agent.name").is_not_null()
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
        _attribute("gen_ai.agent.id", "gen_ai.agent.name").is_not_null().alias("named"),
        _count("gen_ai.usage.input_tokens").alias("input"),
        _count("gen_ai.usage.output_tokens").alias("output"),
        _attribute(*otlp.MODEL_ATTRIBUTES).alias("model"),
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


def _documents(content: bytes, expected: int) -> pl.DataFrame:
    """One row per line's export, in the columns of _SCHEMA: Arrow's JSON reader finds the types (a count
    may be a number or a string), which are then brought to the schema's."""
    try:
        options = pj.ReadOptions(block_size=max(BLOCK_BYTES, len(content)))  # each document in one piece
        table = pj.read_json(pa.BufferReader(content), read_options=options)
    except pa.ArrowInvalid:
        # a value spelt both ways in one file (a count as a number and as a string, as OTLP/JSON allows):
        # Polars' reader takes the schema's types, but would also take an object, a number or a flag as
        # text where protobuf's reader refuses the file, so not then
        if _NESTED_VALUE.search(content) or _NOT_TEXT.search(content):
            raise _NotColumnar from None
        documents = pl.read_ndjson(content, schema=_SCHEMA)
    else:
        if "resourceSpans" not in table.column_names:  # in another block (`_survey` checks the file says it)
            return pl.DataFrame({"resourceSpans": [None] * table.num_rows}, schema=_SCHEMA)
        target = pl.DataFrame(schema=_SCHEMA).to_arrow().schema.field("resourceSpans").type
        column = _conform(table.column("resourceSpans").combine_chunks(), target)
        documents = pl.from_arrow(pa.table({"resourceSpans": column}))
    if documents.height != expected:
        raise _NotColumnar  # a document over several lines: read as one by protobuf's reader
    return documents


def _conform(array: pa.Array, target: pa.DataType, name: str = "") -> pa.Array:
    """`array` in the type `target`: struct fields it lacks null, other fields dropped, leaves cast (a
    number where text is due becomes its decimal text); _NotColumnar when the nesting differs."""
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target)
    if pa.types.is_struct(target):
        if not pa.types.is_struct(array.type):
            raise _NotColumnar
        found = {array.type.field(i).name for i in range(array.type.num_fields)}
        children = [
            _conform(array.field(f.name), f.type, f.name) if f.name in found else pa.nulls(len(array), f.type)
            for f in target
        ]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=array.is_null())
    if pa.types.is_large_list(target):  # Polars' lists
        if not pa.types.is_list(array.type):
            raise _NotColumnar
        values = _conform(array.values, target.value_type)
        offsets = array.offsets.cast(pa.int64())
        return pa.LargeListArray.from_arrays(offsets, values, type=target, mask=array.is_null())
    if array.type == target:
        return array
    text, number = _is_text(array.type), pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
    if (text and _is_text(target)) or (number and (not _is_text(target) or name in _NUMBERS_AS_TEXT)):
        return array.cast(target)
    raise _NotColumnar  # e.g. an object where a value is due, a number for an id: protobuf's reader says so


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _spans(documents: pl.DataFrame) -> pl.DataFrame:
    """One row per span, in file order: its document (line) and place in it, resource number, ids, times,
    status, attributes and its resource's attributes; _NotColumnar when one is not in the shape read here."""
    frame = (
        documents.with_row_index("document")
        .explode("resourceSpans")
        .with_row_index("resource_number")
        .unnest("resourceSpans")
        .with_columns(pl.col("resource").struct.field("attributes").alias("resource_attributes"))
        .explode("scopeSpans")
        .unnest("scopeSpans")
        .with_columns(pl.col("scope").struct.field("name").alias("scope_name"))
        .explode("spans")
        .filter(pl.col("spans").is_not_null())
        .unnest("spans")
        .with_row_index("span")
    )
    ids = [pl.col(name).is_not_null() & pl.col(name).str.contains(_HEX) for name in ("traceId", "spanId")]
    parent = pl.col("parentSpanId")
    parent_ok = parent.is_null() | (parent == "") | parent.str.contains(_HEX)
    code = pl.col("status").struct.field("code")
    times = [pl.col(name).is_null() | pl.col(name).cast(pl.UInt64, strict=False).is_not_null()
             for name in ("startTimeUnixNano", "endTimeUnixNano")]  # fmt: skip
    well_formed = frame.select(pl.all_horizontal(*ids, parent_ok, *times, code.is_null() | code.is_in(_STATUS_CODES)))
    if not well_formed.to_series().all():
        raise _NotColumnar
    return frame.select(
        "span",
        "document",
        (pl.col("span") - pl.col("span").min().over("document")).alias("within"),  # the span's place in it
        "resource_number",
        "scope_name",
        pl.col("traceId").str.to_lowercase().alias("trace_id"),
        pl.col("spanId").str.to_lowercase().alias("span_id"),
        pl.when(parent != "").then(parent.str.to_lowercase()).alias("parent_id"),
        pl.col("name").fill_null(""),
        pl.col("startTimeUnixNano").cast(pl.Int64, strict=False).fill_null(0).alias("start_ns"),
        pl.col("endTimeUnixNano").cast(pl.Int64, strict=False).fill_null(0).alias("end_ns"),
        code.is_in(_ERROR_CODES).fill_null(False).alias("status_error"),
        "attributes",
        "resource_attributes",
    )


# What each attribute the mapping reads may hold here: text (an integer is its decimal text), a count (an
# integer, or an integral double), or any value (only whether it is there counts).
_TEXT, _COUNT, _ANY = "text", "count", "any"
_READ = {
    **dict.fromkeys(("gen_ai.operation.name", "gen_ai.agent.id", "gen_ai.agent.name", "gen_ai.conversation.id"), _TEXT),
    **dict.fromkeys((*otlp.USER_ATTRIBUTES, *otlp.MODEL_ATTRIBUTES), _TEXT),
    **dict.fromkeys(("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"), _COUNT),
    "error.type": _ANY,
}


def _attribute_columns(frame: pl.DataFrame, column: str, row: str, keys: dict[str, str]) -> pl.DataFrame:
    """Per `row`, each key's value (the last of that key, as a dict keeps it) as text or a count, and
    whether the key is there; raises _NotColumnar for a value of another type."""
    long = (
        frame.select(row, column)
        .unique(row, keep="first", maintain_order=True)
        .explode(column)
        .filter(pl.col(column).is_not_null())
        .unnest(column)
        .filter(pl.col("key").is_in(list(keys)))
        .unique([row, "key"], keep="last", maintain_order=True)
        .unnest("value")
    )
    text = pl.col("stringValue")
    integer = pl.col("intValue").cast(pl.Int64, strict=False)
    double = pl.col("doubleValue")
    integral = double.is_finite() & (double == double.floor()) & (double.abs() < 2.0**63)
    kind = pl.col("key").replace_strict(keys, return_dtype=pl.String)
    as_text = pl.coalesce(text, integer.cast(pl.String))
    as_count = pl.coalesce(integer, pl.when(integral).then(double.cast(pl.Int64)))
    readable = (
        pl.when(kind == _TEXT).then(text.is_not_null() | integer.is_not_null())
        .when(kind == _COUNT).then(integer.is_not_null() | (text.is_null() & double.is_not_null() & integral))
        .otherwise(pl.any_horizontal(text.is_not_null(), integer.is_not_null(), double.is_not_null(),
                                     pl.col("boolValue").is_not_null()))
    )  # fmt: skip
    not_integer = pl.col("intValue").is_not_null() & integer.is_null()  # "abc": protobuf refuses the file
    checked = long.with_columns(readable=readable & ~not_integer)
    if not checked["readable"].all():
        raise _NotColumnar
    value = (
        pl.when(kind == _COUNT).then(as_count.cast(pl.String)).when(kind == _ANY).then(pl.lit("")).otherwise(as_text)
    )
    values = checked.select(row, "key", value.alias("value"))
    wide = values.pivot("key", index=row, values="value", aggregate_function="first")
    missing = [key for key in keys if key not in wide.columns]
    return wide.with_columns(pl.lit(None, dtype=pl.String).alias(key) for key in missing)


def _with_attributes(spans: pl.DataFrame, team_attribute: str) -> pl.DataFrame:
    """The spans with the attributes the mapping reads, as `own:<key>` and `res:<key>` (its resource's)
    columns, and the operation (`otlp.candidates`)."""
    keys = {**_READ, team_attribute: _READ.get(team_attribute, _TEXT)}
    own = _attribute_columns(spans, "attributes", "span", keys)
    resource = _attribute_columns(spans, "resource_attributes", "resource_number", keys)
    frame = spans.drop("attributes", "resource_attributes")
    frame = frame.join(own.rename({k: f"own:{k}" for k in keys}), on="span", how="left", maintain_order="left")
    frame = frame.join(
        resource.rename({k: f"res:{k}" for k in keys}), on="resource_number", how="left", maintain_order="left"
    )
    named = pl.col("own:gen_ai.operation.name")
    return frame.with_columns(
        operation=pl.when(named != "").then(named).otherwise(pl.col("name").str.split(" ").list.first())
    )


def _attribute(*names: str) -> pl.Expr:
    """The first of these attributes found on the span, else on its resource (`otlp._Span.attribute`)."""
    return pl.coalesce(*(pl.col(f"own:{n}") for n in names), *(pl.col(f"res:{n}") for n in names))


def _count(name: str) -> pl.Expr:
    return _attribute(name).cast(pl.Int64)


def _events(frame: pl.DataFrame, links: _Links, team_attribute: str) -> pl.DataFrame:
    """A block's spans that are interactions (`otlp.candidates`), as event fields plus `span` (the order),
    `document`, `within` (the span's place in its document), `agent_name` (to look up) and `reasons` (the
    span's own, as `otlp._candidate` gives them); what links them to the file's other spans: `links`."""
    frame = frame.join(links.nearest, on="span", how="left", maintain_order="left")
    frame = frame.with_columns(key=pl.concat_str("trace_id", pl.lit("-"), "span_id"))
    agent = pl.col("operation") == otlp.INVOKE_AGENT
    inference = pl.col("operation").is_in(otlp.INFERENCE)
    model = _attribute(*otlp.MODEL_ATTRIBUTES)
    counted = agent | (
        inference & pl.col("nearest_agent").is_null() & _attribute("gen_ai.agent.id", "gen_ai.agent.name").is_not_null()
    )
    # every copy of a span sent twice has the spans under it (otlp._inference_under looks them up by id)
    frame = frame.filter(counted).join(links.inner, on="key", how="left", maintain_order="left")
    no_usage = _count("gen_ai.usage.input_tokens").is_null() & _count("gen_ai.usage.output_tokens").is_null()
    from_inner = agent & no_usage & pl.col("inner_input").is_not_null()
    spread = from_inner & model.is_null() & (pl.col("inner_model_count") > 1)
    duration = pl.col("end_ns") - pl.col("start_ns")
    agent_id = _attribute("gen_ai.agent.id")
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
        _attribute(*otlp.USER_ATTRIBUTES).alias("user_id"),
        _attribute(team_attribute).alias("team_id"),
        agent_id.alias("agent_id"),
        pl.when(from_inner & model.is_null() & (pl.col("inner_model_count") == 1))
        .then(pl.col("inner_models"))
        .otherwise(model)
        .alias("model"),
        _attribute("gen_ai.conversation.id").alias("conversation_id"),
        pl.when(from_inner).then("inner_input").otherwise(_count("gen_ai.usage.input_tokens")).alias("input_tokens"),
        pl.when(from_inner).then("inner_output").otherwise(_count("gen_ai.usage.output_tokens")).alias("output_tokens"),
        pl.when(pl.col("end_ns") != 0).then((duration + 500_000) // 1_000_000).alias("latency_ms"),
        pl.when(pl.col("status_error") | _attribute("error.type").is_not_null())
        .then(pl.lit("error"))
        .otherwise(pl.lit("ok"))
        .alias("status"),
        pl.lit(None, dtype=pl.Decimal(18, 6)).alias("cost_usd"),
        pl.when(agent_id.is_null()).then(_attribute("gen_ai.agent.name")).alias("agent_name"),
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
    raise _NotColumnar  # deeper than MAX_DEPTH, or parents in a circle


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
