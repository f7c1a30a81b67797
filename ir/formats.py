"""How records sit in a file: sniff the layout, then read records inside DuckDB.

Every reader yields the same relation, `(file, record, reason)`, one row per
record in evidence order (file by file, as listed; record by record, as written):
`record` is the record's JSON text, minified (so its hash is the content's,
whatever the file's layout or whitespace), NULL where the bytes are not valid
JSON. DuckDB keeps that order when a query materialises the rows (insertion
order is preserved), so a record's evidence number is its row's place among
its file's rows; the readers need no row numbering of their own, which would
run on one thread.

DuckDB reads gz, arrays, NDJSON and CSV natively. A file DuckDB refuses as a
whole (an array with a broken element, a truncated gz) falls back to a Python
salvage reader that keeps every good record and marks the rest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ir import sql

# Keys under which vendors page records: CloudTrail files, Graph pages, Azure
# Monitor exports, Salesforce SOQL, Google Reports, Slack audit logs, CloudTrail
# LookupEvents, k8s EventList.
WRAPPER_KEYS = ("Records", "value", "records", "items", "entries", "Events")
SNIFF_BYTES = 32 * 1024  # widened (x8) while no whole record fits
BINARY_HEAD = 1024
MAX_OBJECT_BYTES = 64 * 1024 * 1024  # 1 GB ran out of memory on S3-delivery files
# What DuckDB raises for unreadable bytes (bad JSON, truncated gz, bad UTF-8);
# anything else is a bug and propagates.
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


class UnreadableFile(ValueError):
    """The whole file is no records we can read (empty, binary, not JSON/CSV)."""


@dataclass(frozen=True)
class Layout:
    kind: str  # objects | array | wrapper | csv
    wrapper_key: str | None = None
    compressed: bool = False

    def __str__(self) -> str:
        return f"wrapper:{self.wrapper_key}" if self.kind == "wrapper" else self.kind


def sha256_file(path: Path) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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
    text = _decode_prefix(prefix).lstrip(_SPACE)
    if not text:
        raise UnreadableFile("the file is empty")
    if text[0] == "[":
        return Layout("array", compressed=compressed)
    if text[0] == "{":
        found = _array_in_document(text, 0, WRAPPER_KEYS)
        return (
            Layout("wrapper", found[0], compressed)
            if found
            else Layout("objects", compressed=compressed)
        )
    first_line = text.split("\n", 1)[0].rstrip("\r")  # CRLF exports (Purview, Log Analytics)
    if "," in first_line and first_line.isprintable():
        return Layout("csv", compressed=compressed)
    raise UnreadableFile("the content is neither JSON nor CSV")


def _decode_prefix(prefix: bytes) -> str:
    """The prefix as text. Binary files show it in their first bytes (NULs, bytes that are
    not UTF-8); a broken line or cell is one bad record, not a binary file."""
    text = prefix.decode("utf-8", errors="replace")
    head = text[:BINARY_HEAD]
    if head.count("\x00") + head.count("\ufffd") > max(8, len(head) // 100):
        raise UnreadableFile("the content is binary, not UTF-8 text")
    return text


_SPACE = "\ufeff \t\r\n"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _array_in_document(text: str, position: int, keys: tuple[str, ...]) -> tuple[str, int] | None:
    """In the object opening at `position`: the first of `keys` whose value is an array
    at depth 1, and where its elements start. Structural, so a nested key of the same
    name, or one inside a string, is not mistaken for it."""
    depth = 0
    last_string: str | None = None
    pending_key: str | None = None
    for token in _TOKEN.finditer(text, position):
        value = token.group()
        if value in "{[":
            if depth == 1 and value == "[" and pending_key in keys:
                return pending_key, token.end()
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


def _document_end(text: str, position: int, depth: int) -> int | None:
    """Where the document closes, reading from `position` inside it at `depth`."""
    for token in _TOKEN.finditer(text, position):
        value = token.group()
        if value in "{[":
            depth += 1
        elif value in "}]":
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def reader_sql(layout: Layout, paths: list[str], minify: bool = True) -> str:
    """DuckDB SQL yielding `(file, record, reason)` for files of one layout, in evidence order.

    `minify=False` keeps each record's text as the file holds it (for showing it);
    wrapper elements are always as extracted."""
    files = "[" + sql.literals(_glob_literal(path) for path in paths) + "]"
    if layout.kind == "csv":
        # A row is a JSON object of its columns; the reader's own column is taken out.
        # The dialect is fixed: a short row made the sniffer fall back to one column
        # (every row rejected); now it fails the read and the salvage reader keeps the rest.
        rows = (
            f"SELECT * FROM read_csv({files}, all_varchar = true, header = true,"
            """ delim = ',', quote = '"', escape = '"',"""
            " filename = true, union_by_name = true)"
        )
        records = f"SELECT filename, json_remove(to_json(ir_row), '$.filename') AS record FROM ({rows}) AS ir_row"
    else:
        fmt = {"array": "array", "objects": "auto", "wrapper": "auto"}[layout.kind]
        options = f"format = '{fmt}', filename = true, maximum_object_size = {MAX_OBJECT_BYTES}"
        if fmt == "auto":
            options += ", ignore_errors = true"
        docs = f"SELECT filename, json FROM read_json_objects({files}, {options})"
        text = "json(json)" if minify else "json"
        records = (
            _wrapper_records(docs, layout.wrapper_key or "", text)
            if layout.kind == "wrapper"
            else f"SELECT filename, {text} AS record FROM ({docs})"
        )
    return f"SELECT filename AS file, record, NULL::VARCHAR AS reason FROM ({records})"


def _wrapper_records(docs: str, key: str, text: str) -> str:
    """One row per element of each page's `key` array (extracted minified).

    One parse per page: the wrapper's own type is only checked when the extraction
    came back empty (an empty page, or a bare record among pages)."""
    elements = (
        "CASE WHEN json IS NULL THEN [NULL::JSON] WHEN len(extracted) > 0 THEN extracted"
        f" WHEN json_type(json, {sql.json_path_literal([key])}) = 'ARRAY' THEN [] ELSE [{text}] END"
    )
    return (
        f"SELECT filename, unnest({elements}) AS record FROM ("
        f"SELECT *, json_extract(json, {sql.json_path_literal([key, None])}) AS extracted"
        f" FROM ({docs}))"
    )


def _glob_literal(path: str) -> str:
    """DuckDB globs file arguments: `a*.json` would also read `ab.json`. Bracket the
    metacharacters so each path names exactly its own file."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def sample_records(prefix: bytes, layout: Layout, limit: int = 5) -> list[dict[str, Any]]:
    """The first whole records in a file's prefix, as dicts, for source detection."""
    text = prefix.decode("utf-8", errors="replace")
    if layout.kind == "csv":
        rows = list(_csv_prefix_rows(text))
        return rows[: min(limit, max(len(rows) - 1, 1))]
    samples: list[dict[str, Any]] = []
    for value in _scan(text, layout):
        if isinstance(value.value, dict):
            samples.append(value.value)
            if len(samples) >= limit:
                break
    return samples


def _csv_prefix_rows(text: str) -> Iterator[dict[str, Any]]:
    """CSV rows up to the first the csv module cannot read (a bare CR in a cell)."""
    rows = csv.DictReader(io.StringIO(text))
    while True:
        try:
            yield next(rows)
        except (StopIteration, csv.Error):
            return


@dataclass(frozen=True)
class Salvaged:
    doc_no: int
    elem_no: int
    record: str | None  # None: not valid JSON
    reason: str | None = None


CUT_SHORT = "the file is cut short"


def salvage(path: Path, layout: Layout) -> Iterator[Salvaged]:
    """Read what can be read from a file DuckDB refused, record by record. A gz file cut
    short says so in its last record's reason (or in one more reject, when the cut fell
    between records): the records after it are lost, which one bad record would hide."""
    text, cut = _read_tolerant(path)
    last: Salvaged | None = None
    for found in _scan(text, layout):
        if last is not None:
            yield last
        record = None if found.reason else found.text or json.dumps(found.value, ensure_ascii=False)
        last = Salvaged(found.doc_no, found.elem_no, record, found.reason)
    if cut is None:
        if last is not None:
            yield last
        return
    why = f"{CUT_SHORT} ({cut}): whatever followed is lost"
    if last is not None and last.reason is not None:
        yield Salvaged(last.doc_no, last.elem_no, None, f"{why}; this record is incomplete")
        return
    if last is not None:
        yield last
    yield Salvaged((last.doc_no if last else 0) + 1, 1, None, why)


@dataclass(frozen=True)
class _Found:
    doc_no: int
    elem_no: int
    value: Any  # None when not valid JSON, or nested too deeply for Python (see `text`)
    reason: str | None = None  # set: not valid JSON
    text: str | None = None  # the record's JSON text as the file holds it


def _scan(text: str, layout: Layout) -> Iterator[_Found]:
    """Every record of every document in `text`, numbered as the DuckDB readers number them.

    Documents follow one another (NDJSON, concatenated pages); inside an array or
    a wrapper's array, each element is a record. A truncated text ends the scan.
    """
    if layout.kind == "csv":
        yield from _csv_rows(text)
        return
    position: int | None = 0
    doc_no = 0
    while position is not None:
        position = _skip(text, position, _SPACE)
        if position >= len(text):
            return
        doc_no += 1
        start = _elements_start(text, position, layout)
        if start is None:
            found, position = _one_document(text, position, doc_no)
            yield found
            continue
        position = yield from _elements(text, start, doc_no)
        if position is not None and layout.kind == "wrapper":
            position = _document_end(text, position, depth=1)


def _csv_rows(text: str) -> Iterator[_Found]:
    """CSV rows as records (empty fields are NULL, as DuckDB reads them); a row whose
    fields do not match the header, or whose bytes were not UTF-8, is rejected."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(rows, None) or []
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            yield _Found(number, 1, None, f"not a valid CSV row ({error})")
            continue
        if not row:
            continue  # a blank line is no row
        number += 1
        if len(row) > len(header) and not any(row[len(header) :]):
            row = row[: len(header)]  # a trailing comma: DuckDB reads the same row
        if len(row) != len(header):
            reason = f"CSV row has {len(row)} fields, the header {len(header)}"
            yield _Found(number, 1, None, reason)
        elif any("\ufffd" in field for field in row):
            yield _Found(number, 1, None, "not valid UTF-8")
        else:
            yield _Found(number, 1, {k: v or None for k, v in zip(header, row, strict=True)})


def _elements_start(text: str, position: int, layout: Layout) -> int | None:
    if layout.kind == "array" and text[position] == "[":
        return position + 1
    if layout.kind == "wrapper" and text[position] == "{" and layout.wrapper_key:
        found = _array_in_document(text, position, (layout.wrapper_key,))
        return found[1] if found else None
    return None


def _one_document(text: str, position: int, doc_no: int) -> tuple[_Found, int | None]:
    """A document that is itself the record (NDJSON, or a bare record among wrapper pages).

    After a broken one, reading resumes at the next `{` that opens a line: NDJSON
    records and concatenated pretty-printed documents start there.
    """
    try:
        value, end = _decode(text, position)
    except json.JSONDecodeError as error:
        found = _NEXT_DOCUMENT.search(text, error.pos)
        return _Found(doc_no, 1, None, _invalid(error)), found.end() - 1 if found else None
    return _Found(doc_no, 1, value, text=text[position:end]), end


def _elements(text: str, position: int, doc_no: int) -> Generator[_Found, None, int | None]:
    """The elements of the array whose first element starts at `position`.

    A broken element is reported and reading resumes after it, so one bad record
    never hides the good ones after it. Returns where the array ends (None: the
    text ran out).
    """
    elem_no = 0
    while True:
        position = _skip(text, position, _SPACE + ",")
        if position >= len(text):
            return None
        if text[position] == "]":
            return position + 1
        elem_no += 1
        try:
            value, end = _decode(text, position)
        except json.JSONDecodeError as error:
            yield _Found(doc_no, elem_no, None, _invalid(error))
            resume = _element_end(text, position)
            if resume is None:
                return None
            position = resume
            continue
        yield _Found(doc_no, elem_no, value, text=text[position:end])
        position = end


_DECODER = json.JSONDecoder()


def _decode(text: str, position: int) -> tuple[Any, int]:
    """The JSON value at `position` and where it ends. A value nested too deeply for
    Python's recursive decoder (DuckDB reads any depth) comes back as None; its end is
    found by counting brackets, and DuckDB judges its text."""
    try:
        return _DECODER.raw_decode(text, position)
    except RecursionError:
        end = _document_end(text, position, depth=0)
        if end is None:
            raise json.JSONDecodeError("unterminated nesting", text, position) from None
        return None, end


_NEXT_DOCUMENT = re.compile(r"\n\{")


def _invalid(error: json.JSONDecodeError) -> str:
    return f"not valid JSON ({error.msg}: line {error.lineno} column {error.colno})"


def _element_end(text: str, position: int) -> int | None:
    """Where a broken element starting at `position` ends: its brackets balance again,
    or the `,` / `]` after a scalar. A missing comma or a bad literal leaves the
    brackets intact, so the next element is found even when it holds nested objects."""
    depth = 0
    for token in _TOKEN.finditer(text, position):
        value = token.group()
        if value in "{[":
            depth += 1
        elif value in "}]":
            depth -= 1
            if depth <= 0:
                return token.end() if depth == 0 else token.start()
        elif value == "," and depth == 0:
            return token.start()
    return None


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def _read_tolerant(path: Path) -> tuple[str, str | None]:
    """File text (a truncated gz yields what decompressed, invalid UTF-8 is replaced) and
    why the gzip data broke off, if it did."""
    with path.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    raw, cut = _gunzip_tolerant(path) if compressed else (path.read_bytes(), None)
    return raw.decode("utf-8", errors="replace"), cut


def _gunzip_tolerant(path: Path) -> tuple[bytes, str | None]:
    """Every gzip member (streamed logs concatenate them) up to where the data breaks off,
    and why it broke off (None: it did not).

    Fed piece by piece so that a truncated or corrupt end loses nothing before it.
    """
    chunks: list[bytes] = []
    decompressor = zlib.decompressobj(wbits=31)
    started = False  # inside a member whose end has not come yet
    with path.open("rb") as handle:
        while piece := handle.read(1 << 16):
            while piece:
                started = True
                try:
                    chunks.append(decompressor.decompress(piece))
                except zlib.error:
                    return b"".join(chunks), "its gzip data is corrupt"
                if not decompressor.eof:
                    break
                # A member ended: the rest of this piece starts the next one.
                piece = decompressor.unused_data.lstrip(b"\x00")
                decompressor = zlib.decompressobj(wbits=31)
                started = False
    ended_early = started and not decompressor.eof
    return b"".join(chunks), "its gzip data ends early" if ended_early else None
