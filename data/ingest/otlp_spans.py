"""OTLP/JSON documents as span rows in columns (for `otlp_columns`): a block of lines read by Arrow's JSON reader
into the schema below, the spans exploded out of `resourceSpans` / `scopeSpans`, and their attributes (and their
resource's) pivoted into columns. A file that does not fit raises `NotColumnar`: protobuf's reader takes it.
"""

from __future__ import annotations

import re

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from data.ingest import otlp

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
# a value nested where a scalar is due: such files are read by protobuf's reader
_NESTED_VALUE = re.compile(rb'"(?:stringValue|intValue|doubleValue|boolValue)"\s*:\s*[\[{]')
# a key whose value must be a JSON string, given a number, a flag, an object or a list (not null); a
# key is the only string followed by a colon, so this never matches inside a value
_NOT_TEXT = re.compile(rb'"(?:traceId|spanId|parentSpanId|name|key|stringValue)"\s*:\s*[^"\sn]')
_HEX = r"^(?:[0-9a-fA-F]{2})+$"
ERROR_CODES = ("2", "STATUS_CODE_ERROR")
_STATUS_CODES = ("0", "1", *ERROR_CODES, "STATUS_CODE_UNSET", "STATUS_CODE_OK")
BLOCK_BYTES = 16 << 20  # the file's lines read at once (a longer line: alone); Arrow's JSON reader's block too


class NotColumnar(Exception):
    """The file is not in the shape read here: `otlp.read_json_file` reads it."""


def documents(content: bytes, expected: int) -> pl.DataFrame:
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
            raise NotColumnar from None
        documents = pl.read_ndjson(content, schema=_SCHEMA)
    else:
        if "resourceSpans" not in table.column_names:  # in another block (`_survey` checks the file says it)
            return pl.DataFrame({"resourceSpans": [None] * table.num_rows}, schema=_SCHEMA)
        target = pl.DataFrame(schema=_SCHEMA).to_arrow().schema.field("resourceSpans").type
        column = _conform(table.column("resourceSpans").combine_chunks(), target)
        documents = pl.from_arrow(pa.table({"resourceSpans": column}))
    if documents.height != expected:
        raise NotColumnar  # a document over several lines: read as one by protobuf's reader
    return documents


def _conform(array: pa.Array, target: pa.DataType, name: str = "") -> pa.Array:
    """`array` in the type `target`: struct fields it lacks null, other fields dropped, leaves cast (a
    number where text is due becomes its decimal text); NotColumnar when the nesting differs."""
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target)
    if pa.types.is_struct(target):
        if not pa.types.is_struct(array.type):
            raise NotColumnar
        found = {array.type.field(i).name for i in range(array.type.num_fields)}
        children = [
            _conform(array.field(f.name), f.type, f.name) if f.name in found else pa.nulls(len(array), f.type)
            for f in target
        ]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=array.is_null())
    if pa.types.is_large_list(target):  # Polars' lists
        if not pa.types.is_list(array.type):
            raise NotColumnar
        values = _conform(array.values, target.value_type)
        offsets = array.offsets.cast(pa.int64())
        return pa.LargeListArray.from_arrays(offsets, values, type=target, mask=array.is_null())
    if array.type == target:
        return array
    text, number = _is_text(array.type), pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
    if (text and _is_text(target)) or (number and (not _is_text(target) or name in _NUMBERS_AS_TEXT)):
        return array.cast(target)
    raise NotColumnar  # e.g. an object where a value is due, a number for an id: protobuf's reader says so


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def spans(documents: pl.DataFrame) -> pl.DataFrame:
    """One row per span, in file order: its document (line) and place in it, resource number, ids, times,
    status, attributes and its resource's attributes; NotColumnar when one is not in the shape read here."""
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
        raise NotColumnar
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
        code.is_in(ERROR_CODES).fill_null(False).alias("status_error"),
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
    whether the key is there; raises NotColumnar for a value of another type."""
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
        raise NotColumnar
    value = (
        pl.when(kind == _COUNT).then(as_count.cast(pl.String)).when(kind == _ANY).then(pl.lit("")).otherwise(as_text)
    )
    values = checked.select(row, "key", value.alias("value"))
    wide = values.pivot("key", index=row, values="value", aggregate_function="first")
    missing = [key for key in keys if key not in wide.columns]
    return wide.with_columns(pl.lit(None, dtype=pl.String).alias(key) for key in missing)


def with_attributes(spans: pl.DataFrame, team_attribute: str) -> pl.DataFrame:
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


def attribute(*names: str) -> pl.Expr:
    """The first of these attributes found on the span, else on its resource (`otlp._Span.attribute`)."""
    return pl.coalesce(*(pl.col(f"own:{n}") for n in names), *(pl.col(f"res:{n}") for n in names))


def count(name: str) -> pl.Expr:
    return attribute(name).cast(pl.Int64)
