"""How records sit in a file: sniff the layout, then read records inside DuckDB.

Every reader yields the same relation, `(file_id, doc_no, elem_no, record)`:
`doc_no` is the n-th JSON document (or CSV row) of the file, `elem_no` the
element inside a wrapper array (1 otherwise), `record` the record's JSON text,
NULL where the bytes are not valid JSON. The record's evidence number is its
rank by (doc_no, elem_no) inside the file.

DuckDB reads gz, arrays, NDJSON and CSV natively. A file DuckDB refuses as a
whole (an array with a broken element, a truncated gz) falls back to a Python
salvage reader that keeps every good record and marks the rest.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Keys under which vendors page records: CloudTrail files, Graph pages, Azure
# Monitor exports, Salesforce SOQL, Google Reports, Slack audit logs, CloudTrail
# LookupEvents, k8s EventList.
WRAPPER_KEYS = ("Records", "value", "records", "items", "entries", "Events")
SNIFF_BYTES = 256 * 1024
MAX_OBJECT_BYTES = 64 * 1024 * 1024  # 1 GB ran out of memory on S3-delivery files


class UnreadableFile(ValueError):
    """The whole file is no records we can read (empty, binary, not JSON/CSV)."""


@dataclass(frozen=True)
class Layout:
    kind: str  # objects | array | wrapper | csv
    wrapper_key: str | None = None
    compressed: bool = False

    def __str__(self) -> str:
        return f"wrapper:{self.wrapper_key}" if self.kind == "wrapper" else self.kind


def read_prefix(path: Path, limit: int = SNIFF_BYTES) -> tuple[bytes, bool]:
    """The first bytes of the file's content (decompressed) and whether it is gz."""
    with path.open("rb") as handle:
        head = handle.read(limit)
    if not head.startswith(b"\x1f\x8b"):
        return head, False
    decompressor = zlib.decompressobj(wbits=31)
    try:
        return decompressor.decompress(head, limit), True
    except zlib.error as error:
        raise UnreadableFile(f"gzip data is corrupt ({error})") from None


def sniff(prefix: bytes, compressed: bool) -> Layout:
    text = _decode_prefix(prefix).lstrip("\ufeff \t\r\n")
    if not text:
        raise UnreadableFile("the file is empty")
    if text[0] == "[":
        return Layout("array", compressed=compressed)
    if text[0] == "{":
        key = _top_level_array_key(text)
        return (
            Layout("wrapper", key, compressed) if key else Layout("objects", compressed=compressed)
        )
    first_line = text.split("\n", 1)[0]
    if "," in first_line and first_line.isprintable():
        return Layout("csv", compressed=compressed)
    raise UnreadableFile("the content is neither JSON nor CSV")


def _decode_prefix(prefix: bytes) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        return decoder.decode(prefix, final=False)
    except UnicodeDecodeError:
        raise UnreadableFile("the content is binary, not UTF-8 text") from None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _top_level_array_key(text: str) -> str | None:
    """The wrapper key whose value is an array at depth 1 of the first document."""
    depth = 0
    last_string: str | None = None
    pending_key: str | None = None
    for token in _TOKEN.finditer(text):
        value = token.group()
        if value in "{[":
            if depth == 1 and value == "[" and pending_key in WRAPPER_KEYS:
                return pending_key
            depth += 1
        elif value in "}]":
            depth -= 1
            if depth == 0:
                return None
        elif value == ":":
            pending_key = last_string if depth == 1 else None
        elif value == ",":
            pending_key = None
        else:
            last_string = json.loads(value) if depth == 1 else None
    return None


def reader_sql(layout: Layout, files: list[tuple[int, str]]) -> str:
    """DuckDB SQL yielding (file_id, doc_no, elem_no, record) for files of one layout."""
    paths = "[" + ", ".join(_quote(path) for _, path in files) + "]"
    ids = (
        "(VALUES "
        + ", ".join(f"({fid}, {_quote(path)})" for fid, path in files)
        + ") AS f(file_id, path)"
    )
    if layout.kind == "csv":
        source = (
            f"SELECT filename, ordinality AS doc_no, to_json(c) AS json FROM ("
            f"SELECT * EXCLUDE (filename), filename FROM read_csv({paths}, all_varchar = true, header = true,"
            f" filename = true, union_by_name = true)) AS c WITH ORDINALITY"
        )
        docs = f"SELECT filename, doc_no, json_remove(json, '$.filename') AS json FROM ({source})"
    else:
        fmt = {"array": "array", "objects": "auto", "wrapper": "auto"}[layout.kind]
        options = f"format = '{fmt}', filename = true, maximum_object_size = {MAX_OBJECT_BYTES}"
        if fmt == "auto":
            options += ", ignore_errors = true"
        docs = f"SELECT filename, ordinality AS doc_no, json FROM read_json_objects({paths}, {options}) WITH ORDINALITY"
    if layout.kind == "wrapper":
        path = f"$.{layout.wrapper_key}[*]"
        records = (
            f"SELECT filename, doc_no, unnest(elems) AS record, generate_subscripts(elems, 1) AS elem_no FROM ("
            f"SELECT filename, doc_no, CASE WHEN json IS NULL THEN [NULL::JSON] "
            f"WHEN json_type(json, '$.{layout.wrapper_key}') = 'ARRAY' THEN json_extract(json, '{path}') "
            f"ELSE [json] END AS elems FROM ({docs}))"
        )
    else:
        records = f"SELECT filename, doc_no, 1 AS elem_no, json AS record FROM ({docs})"
    return (
        f"SELECT f.file_id, doc_no, elem_no, record, NULL::VARCHAR AS reason"
        f" FROM ({records}) AS d JOIN {ids} ON d.filename = f.path"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sample_records(prefix: bytes, layout: Layout, limit: int = 20) -> list[dict[str, Any]]:
    """The first whole records in a file's prefix, as dicts, for source detection."""
    text = prefix.decode("utf-8", errors="replace")
    if layout.kind == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        return rows[: min(limit, max(len(rows) - 1, 1))]
    if layout.kind == "array":
        start = text.index("[") + 1
    elif layout.kind == "wrapper":
        opening = re.search(rf'"{re.escape(str(layout.wrapper_key))}"\s*:\s*\[', text)
        start = opening.end() if opening else len(text)
    else:
        start = 0
    samples: list[dict[str, Any]] = []
    for _, record, _ in _elements(text, start):
        if record is not None:
            value = json.loads(record)
            if isinstance(value, dict):
                samples.append(value)
        if len(samples) >= limit:
            break
    return samples


@dataclass(frozen=True)
class Salvaged:
    doc_no: int
    elem_no: int
    record: str | None  # None: not valid JSON
    reason: str | None = None


def salvage(path: Path, layout: Layout) -> Iterator[Salvaged]:
    """Read what can be read from a file DuckDB refused, record by record."""
    text = _read_tolerant(path)
    if layout.kind == "array":
        for number, record, reason in _elements(text, text.index("[") + 1):
            yield Salvaged(number, 1, record, reason)
    elif layout.kind == "wrapper":
        opening = re.search(rf'"{re.escape(str(layout.wrapper_key))}"\s*:\s*\[', text)
        start = opening.end() if opening else len(text)
        for number, record, reason in _elements(text, start):
            yield Salvaged(1, number, record, reason)
    else:
        for number, record, reason in _elements(text, 0):
            yield Salvaged(number, 1, record, reason)


_RESUME = re.compile(r"\n\s*\{|\}\s*,\s*\{")


def _elements(text: str, position: int) -> Iterator[tuple[int, str | None, str | None]]:
    """JSON values from `position` on (array elements or concatenated documents).

    A broken value is reported and reading resumes at the next record start (a
    `{` opening a line, or following `},`), so one bad record never hides the
    good ones after it.
    """
    decoder = json.JSONDecoder()
    number = 0
    while True:
        position = _skip(text, position, " \t\r\n,\ufeff")
        if position >= len(text) or text[position] == "]":
            return
        number += 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield number, None, f"not valid JSON ({error.msg} at character {error.pos})"
            resume = _RESUME.search(text, error.pos + 1)
            if resume is None:
                return
            position = resume.end() - 1
            continue
        yield number, json.dumps(value), None


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def _read_tolerant(path: Path) -> str:
    """File text; a truncated gz yields what decompressed, invalid UTF-8 is replaced."""
    raw = path.read_bytes()
    if raw.startswith(b"\x1f\x8b"):
        decompressor = zlib.decompressobj(wbits=31)
        try:
            raw = decompressor.decompress(raw)
        except zlib.error:
            raw = _gunzip_prefix(path)
    return raw.decode("utf-8", errors="replace")


def _gunzip_prefix(path: Path) -> bytes:
    chunks: list[bytes] = []
    with gzip.open(path, "rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                chunks.append(chunk)
        except (EOFError, OSError, zlib.error):
            pass
    return b"".join(chunks)
