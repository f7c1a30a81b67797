"""Hostile vendor files: every parser in SOURCES, fed mutated golden-fixture records.

Logs are attacker-controlled. Whatever a record holds (a dropped key, a string
where an object was, a huge or deeply nested value, control characters, bytes
that are not UTF-8, a vendor id reused for other content), ingest never crashes
or hangs, accounts for every record (`records = loaded + duplicates + rejected`),
rejects each bad one with its file, record number and reason, loads every good
one at its own record number, and a second ingest of the same records adds
nothing. Bounded (`max_examples`, `deadline`) so the file runs in well under two
minutes in `make test`; IR_FUZZ_EXAMPLES=500 searches harder.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ir
from ir.case import Case
from ir.formats import WRAPPER_KEYS, read_prefix, salvage, sniff
from ir.ingest import FileReport
from parsers import registry

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = (".expected.jsonl", ".rejects.jsonl")
EXAMPLES = int(os.environ.get("IR_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SENTINEL = "\ue000ir-fuzz-bytes\ue000"  # replaced by invalid UTF-8 after serialising
Record = dict[str, Any]


# --- the golden records each source starts from -------------------------------------------


@dataclass(frozen=True)
class Pool:
    """The records of one golden fixture file that all load as distinct events."""

    source: str
    name: str
    kind: str  # json | csv
    records: tuple[Record, ...]
    header: tuple[str, ...] = ()


def _fixture_files(source: str) -> Iterator[Path]:
    for path in sorted((FIXTURES / source).iterdir()):
        if path.name.startswith("bad-records") or path.name.endswith(GOLDEN):
            continue
        yield path


@cache
def pools(source: str) -> tuple[Pool, ...]:
    """Fixture files whose every record loads as its own event (no planned duplicates)."""
    found = []
    for path in _fixture_files(source):
        prefix, compressed = read_prefix(path)
        layout = sniff(prefix, compressed)
        records = tuple(json.loads(s.record) for s in salvage(path, layout) if s.record)
        with tempfile.TemporaryDirectory() as folder, ir.open_case(Path(folder) / "c") as case:
            (report,) = case.ingest(path)
            distinct = case.sql("SELECT count(DISTINCT record_no) AS n FROM events")["n"][0]
        if report.source != source or report.rejected or distinct != len(records):
            continue
        kind = "csv" if layout.kind == "csv" else "json"
        header = tuple(records[0]) if kind == "csv" else ()
        found.append(Pool(source, path.name, kind, records, header))
    return tuple(found)


def _json_pools(source: str) -> tuple[Pool, ...]:
    return tuple(p for p in pools(source) if p.kind == "json")


def _csv_sources() -> list[str]:
    return [s for s in registry.SOURCES if any(p.kind == "csv" for p in pools(s))]


# --- mutations ----------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", " ", "null", "unknown", "0", "-1", "1e400", "2026-13-45T99:99:99Z"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
hostile_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=60),  # control chars, RTL marks, NUL, emoji
    st.sampled_from(["\x00", "\u2028\u2029", "\u202e", "=cmd|' /C calc'!A0", "\r\n", "\\", '"']),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _deep(depth: int, kind: str) -> str:
    """A placeholder that `serialise` turns into `depth` nested lists or objects (the json
    module would recurse too deep to write them)."""
    return f"\ue001{kind}:{depth}\ue001"


_DEEP = re.compile(rb'"\xee\x80\x81(list|obj):(\d+)\xee\x80\x81"')


def _nested(match: re.Match[bytes]) -> bytes:
    depth = int(match.group(2))
    if match.group(1) == b"list":
        return b"[" * depth + b'"bottom"' + b"]" * depth
    return b'{"d":' * depth + b'"bottom"' + b"}" * depth


@st.composite
def mutated(draw: st.DrawFn, record: Record) -> Record:
    """A fixture record with one to three of its values dropped or replaced."""
    value = copy.deepcopy(record)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(value))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.sampled_from(["drop", "retype", "retype", "huge", "deep", "text", "bytes"]))
        if op == "drop":
            del parent[path[-1]]
            continue
        parent[path[-1]] = {
            "retype": lambda: draw(json_values),
            "huge": lambda: draw(st.sampled_from("Aé\u202e")) * draw(st.integers(70_000, 400_000)),
            "deep": lambda: _deep(
                draw(st.integers(2, 3000)), draw(st.sampled_from(["list", "obj"]))
            ),
            "text": lambda: draw(hostile_text),
            "bytes": lambda: SENTINEL,
        }[op]()
    assume(value != record)
    return value


invalid_utf8 = st.sampled_from(
    [b"\xff", b"\xfe\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"]
)


def serialise(record: Any, bad_bytes: bytes) -> bytes:
    """One record as JSON bytes; the sentinel, if the mutation placed it, becomes bad bytes."""
    text = json.dumps(record, ensure_ascii=False).encode()
    return _DEEP.sub(_nested, text.replace(SENTINEL.encode(), bad_bytes))


# --- one hostile file ---------------------------------------------------------------------


@dataclass
class Hostile:
    content: bytes
    name: str
    pristine: dict[int, Record]  # record number -> the unmutated fixture record there

    def __repr__(self) -> str:
        lines = self.content.splitlines() if not self.name.endswith(".gz") else []
        shown = [line[:300] + (b"..." if len(line) > 300 else b"") for line in lines[:40]]
        return f"Hostile({self.name}, {len(self.content)} bytes, good at {sorted(self.pristine)}, {shown})"


@st.composite
def line_garbage(draw: st.DrawFn, record: Record) -> bytes:
    """A record line broken as text: truncated, random bytes, a repeated key, not an object."""
    text = json.dumps(record).encode()
    choice = draw(st.sampled_from(["truncate", "random", "repeated_key", "not_object"]))
    if choice == "truncate":
        return text[: draw(st.integers(1, len(text) - 1))]
    if choice == "random":
        junk = draw(st.binary(min_size=1, max_size=200).filter(lambda b: b"\n" not in b))
        return b"#" + junk
    if choice == "repeated_key":
        key = draw(st.sampled_from(sorted(record)))
        return (
            b'{"'
            + key.encode()
            + b'": '
            + json.dumps(draw(json_values)).encode()
            + b", "
            + text[1:]
        )
    return json.dumps(draw(json_values.filter(lambda v: not isinstance(v, dict)))).encode()


@st.composite
def hostile_json_file(draw: st.DrawFn, source: str) -> Hostile:
    """Pristine fixture records (the first one first, so the source is detected), mutated
    ones, exact re-deliveries and, in NDJSON, lines broken as text, in some layout."""
    pool = draw(st.sampled_from(_json_pools(source)))
    records = list(pool.records)
    order = draw(st.permutations(range(len(records))))
    layout = draw(st.sampled_from(["ndjson", "array", "wrapper"]))
    bad_bytes = draw(invalid_utf8)
    items: list[tuple[bytes, Record | None]] = [
        (serialise(records[order[0]], b""), records[order[0]])
    ]
    for index in order[1:]:
        record = records[index]
        kind = draw(st.sampled_from(["pristine", "mutated", "mutated", "again", "text"]))
        if kind == "mutated" or (kind == "text" and layout != "ndjson"):
            items.append((serialise(draw(mutated(record)), bad_bytes), None))
        elif kind == "text":
            items.append((draw(line_garbage(record)), None))
        elif kind == "again":
            items.append((serialise(items[0][1], b""), None))  # a re-delivery: a duplicate
        if kind in ("pristine", "mutated", "again", "text"):
            items.append((serialise(record, b""), record))
    if layout == "ndjson":
        content = b"".join(text + b"\n" for text, _ in items)
    else:
        body = b"[" + b",\n".join(text for text, _ in items) + b"]"
        key = draw(st.sampled_from(WRAPPER_KEYS)).encode()
        content = body if layout == "array" else b'{"' + key + b'": ' + body + b"}"
    name = f"hostile.{'ndjson' if layout == 'ndjson' else 'json'}"
    if draw(st.booleans()):
        content, name = gzip.compress(content, mtime=0), name + ".gz"
    pristine = {n: record for n, (_, record) in enumerate(items, 1) if record is not None}
    return Hostile(content, name, pristine)


@st.composite
def hostile_csv_file(draw: st.DrawFn, source: str) -> Hostile:
    """CSV rows of a fixture export, some with cells replaced, missing, added or not UTF-8."""
    pool = draw(st.sampled_from([p for p in pools(source) if p.kind == "csv"]))
    header = list(pool.header)
    order = draw(st.permutations(range(len(pool.records))))
    lines: list[tuple[list[str], Record | None]] = []
    for position, index in enumerate(order):
        record = pool.records[index]
        cells = [record.get(column) or "" for column in header]
        if position and draw(st.booleans()):
            bad = list(cells)
            op = draw(st.sampled_from(["cell", "cell", "short", "long", "bytes"]))
            column = draw(st.integers(0, len(bad) - 1))
            if op == "cell":
                bad[column] = draw(hostile_text | st.sampled_from(['{"broken', "[]", "null"]))
            elif op == "short":
                bad = bad[:column]
            elif op == "long":
                bad.append(draw(hostile_text))
            else:
                bad[column] = SENTINEL
            assume(bad != cells and any(bad))
            lines.append((bad, None))
        lines.append((cells, record))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if draw(st.booleans()) else "\n")
    writer.writerow(header)
    for cells, _ in lines:
        writer.writerow(cells)
    content = buffer.getvalue().encode().replace(SENTINEL.encode(), draw(invalid_utf8))
    pristine = {n: record for n, (_, record) in enumerate(lines, 1) if record is not None}
    return Hostile(content, "hostile.csv", pristine)


# --- the properties -----------------------------------------------------------------------


def check_accounted(case: Case, report: FileReport, hostile: Hostile) -> int:
    """Every record is loaded, a duplicate or a reject with file, number and reason; every
    pristine record is loaded at its own number. Returns the file id."""
    assert report.error is None, report.error
    assert report.records == report.loaded + report.duplicates + report.rejected
    (file_id,) = case.connection.execute(
        "SELECT file_id FROM evidence_files WHERE sha256 = ?", [report.sha256]
    ).fetchone()
    rejects = case.connection.execute(
        "SELECT record_no, source, reason FROM rejects WHERE file_id = ?", [file_id]
    ).fetchall()
    assert len(rejects) == report.rejected
    numbers = [number for number, _, _ in rejects]  # a multi-event record: one per event
    for number, source, reason in rejects:
        assert source == report.source and reason.strip(), (number, reason)
    loaded = {
        row[0]
        for row in case.connection.execute(
            "SELECT DISTINCT record_no FROM events WHERE file_id = ?", [file_id]
        ).fetchall()
    }
    highest = max([*numbers, *loaded], default=0)
    assert not loaded & set(numbers) and highest <= max(report.records, len(hostile.pristine))
    hashes = content_hashes(case, report.source, list(hostile.pristine.values()))
    for number, digest in zip(hostile.pristine, hashes, strict=True):
        # Loaded at its own number, unless an earlier record held the same vendor record
        # in another envelope (a re-delivery: a duplicate by design).
        first = case.connection.execute(
            "SELECT min(record_no) FROM events WHERE file_id = ? AND content_hash = ?",
            [file_id, digest],
        ).fetchone()[0]
        assert first is not None and first <= number, (number, first, rejects)
        assert first == number or number not in loaded
    return int(file_id)


def content_hashes(case: Case, source: str, records: list[Record]) -> list[str]:
    """The hash ingest keeps of each record's vendor content (its envelope unwrapped)."""
    texts = [json.dumps(record) for record in records]
    rows = (
        "SELECT lpad(CAST(n AS VARCHAR), 9, '0') AS file, json(CAST(t AS JSON)) AS record,"
        " NULL AS reason, n AS position"
        " FROM (SELECT unnest($1::VARCHAR[]) AS t, generate_subscripts($1::VARCHAR[], 1) AS n)"
    )
    mapped = registry.get(source).select_sql(rows)
    found = case.connection.execute(
        f"SELECT file, content_hash FROM ({mapped}) WHERE part_no = 1 ORDER BY file", [texts]
    ).fetchall()
    return [str(digest) for _, digest in found]


def check_reingest_adds_nothing(
    case: Case, folder: Path, hostile: Hostile, first: FileReport
) -> None:
    (again,) = case.ingest(folder / hostile.name)
    assert again.skipped and again.loaded == 0
    # The same records under another name and hash (one more trailing blank line).
    copy_path = folder / ("copy-" + hostile.name.removesuffix(".gz"))
    content = hostile.content
    if hostile.name.endswith(".gz"):
        content = gzip.decompress(content)
    copy_path.write_bytes(content + b"\n")
    (second,) = case.ingest(copy_path)
    assert second.error is None, second.error
    assert (second.records, second.rejected) == (first.records, first.rejected)
    assert second.loaded == 0 and second.duplicates == first.loaded + first.duplicates


def ingest_hostile(hostile: Hostile) -> None:
    with tempfile.TemporaryDirectory() as tmp, ir.open_case(":memory:") as case:
        folder = Path(tmp)
        (folder / hostile.name).write_bytes(hostile.content)
        (report,) = case.ingest(folder / hostile.name)
        check_accounted(case, report, hostile)
        check_reingest_adds_nothing(case, folder, hostile, report)


@pytest.mark.parametrize("source", registry.SOURCES)
@FUZZ
@given(data=st.data())
def test_mutated_records_are_rejected_or_loaded_and_good_ones_always_load(
    source: str, data: st.DataObject
) -> None:
    assert _json_pools(source), f"{source}: no golden JSON fixture to mutate"
    ingest_hostile(data.draw(hostile_json_file(source)))


@pytest.mark.parametrize("source", _csv_sources())
@FUZZ
@given(data=st.data())
def test_mutated_csv_rows_are_rejected_or_loaded_and_good_rows_always_load(
    source: str, data: st.DataObject
) -> None:
    ingest_hostile(data.draw(hostile_csv_file(source)))


@FUZZ
@given(source=st.sampled_from(registry.SOURCES), data=st.data())
def test_a_truncated_gz_loads_every_complete_record_before_the_cut(
    source: str, data: st.DataObject
) -> None:
    pool = data.draw(st.sampled_from(_json_pools(source)))
    text = "".join(json.dumps(record) + "\n" for record in pool.records).encode()
    whole = gzip.compress(text, mtime=0)
    cut = whole[: data.draw(st.integers(1, len(whole) - 1))]
    recovered = zlib.decompressobj(wbits=31).decompress(cut)
    complete = recovered.count(b"\n")
    with tempfile.TemporaryDirectory() as tmp, ir.open_case(":memory:") as case:
        path = Path(tmp) / "cut.ndjson.gz"
        path.write_bytes(cut)
        (report,) = case.ingest(path)
        if report.error:  # not one whole record: the file is named as unreadable
            assert complete == 0 and "\n" not in report.error and report.loaded == 0
            return
        hostile = Hostile(cut, path.name, dict(enumerate(pool.records[:complete], 1)))
        check_accounted(case, report, hostile)
        assert report.loaded + report.duplicates <= complete + 1
        assert report.rejected <= 1


unknown_records = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=8).map("x_".__add__), json_values, min_size=1),
    min_size=1,
    max_size=5,
)


@FUZZ
@given(
    unknown=st.one_of(
        unknown_records.map(lambda rs: "".join(json.dumps(r) + "\n" for r in rs).encode()),
        unknown_records.map(lambda rs: json.dumps(rs).encode()),
        st.binary(min_size=1, max_size=3000),
    )
)
def test_a_file_of_no_known_source_is_named_in_one_line_and_the_rest_loads(unknown: bytes) -> None:
    """`ir ingest` over a folder: the unknown file is an error naming it, exit 1; the
    golden file beside it still loads."""
    from typer.testing import CliRunner

    from ir.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "evidence"
        folder.mkdir()
        (folder / "a-unknown.log").write_bytes(unknown)
        good = FIXTURES / "okta" / "logs-page.json"
        (folder / "b-okta.json").write_bytes(good.read_bytes())
        result = CliRunner().invoke(
            app, ["ingest", str(folder), "--case", f"{tmp}/c.duckdb", "--format", "json"]
        )
        reports = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
        assert reports["b-okta.json"]["loaded"] == len(json.loads(good.read_text()))
        if reports["a-unknown.log"].get("error") is None:  # bytes that happen to be a log
            return
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "a-unknown.log: " in lines[0], result.stderr


# --- what the fuzzing found: one plain test per bug -------------------------------------

OKTA: list[Record] = json.loads((FIXTURES / "okta" / "logs-page.json").read_text())
OKTA_IDS = [r["uuid"] for r in OKTA]


def load(case: Case, path: Path, content: bytes) -> tuple[FileReport, list[tuple[int, str]]]:
    path.write_bytes(content)
    (report,) = case.ingest(path)
    assert report.error is None, report.error
    assert report.records == report.loaded + report.duplicates + report.rejected
    loaded = case.connection.execute(
        "SELECT record_no, source_event_id FROM events ORDER BY record_no"
    ).fetchall()
    return report, loaded


def lines(*records: Any) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records
    )


def test_deeply_nested_records_load_first_or_later(tmp_path: Path) -> None:
    """Python's json recursed past its limit (RecursionError out of ingest); DuckDB reads any
    depth, so the record loads, also as the first record (detection) and when salvaged."""
    deep = b"[" * 5000 + b"1" + b"]" * 5000
    first = json.dumps({**OKTA[0], "debugContext": "X"}).encode()
    record = first.replace(b'"X"', deep)
    with ir.open_case(":memory:") as case:
        report, loaded = load(case, tmp_path / "deep.ndjson", lines(record, OKTA[1]))
        assert (report.loaded, report.rejected) == (2, 0)
        assert loaded == [(1, OKTA_IDS[0]), (2, OKTA_IDS[1])]
        array = b"[" + record + b", " + json.dumps(OKTA[2]).encode() + b", {broken}]"
        report, _ = load(case, tmp_path / "deep.json", array)  # broken: DuckDB refuses, salvage
        assert (report.records, report.duplicates, report.loaded, report.rejected) == (3, 1, 1, 1)


def test_a_record_without_id_nested_deeper_than_orjson_reads_gets_an_id(tmp_path: Path) -> None:
    """The canonical-id UDF raised inside DuckDB ('Recursion limit reached') and the whole
    file was unreadable."""
    deep = {k: v for k, v in OKTA[0].items() if k != "uuid"}
    text = (
        json.dumps({**deep, "debugContext": "X"}).encode().replace(b'"X"', b"[" * 300 + b"]" * 300)
    )
    with ir.open_case(":memory:") as case:
        report, loaded = load(case, tmp_path / "deep.ndjson", lines(OKTA[1], text))
        assert (report.loaded, report.rejected) == (2, 0)
        assert loaded[1][1].startswith("sha256:") and len(loaded[1][1]) == 7 + 64
        again, _ = load(case, tmp_path / "again.ndjson", lines(OKTA[1], text) + b"\n")
        assert (again.loaded, again.duplicates) == (0, 2)


def test_a_lone_surrogate_escape_is_one_invalid_record_when_salvaged(tmp_path: Path) -> None:
    """DuckDB refuses `\\ud800` without its pair; Python accepts it, and the salvaged string
    could not be handed to Arrow (UnicodeEncodeError out of ingest)."""
    bad = json.dumps({**OKTA[1], "displayMessage": "\ud800"}).encode()
    content = b"[" + b",".join([json.dumps(OKTA[0]).encode(), bad, json.dumps(OKTA[2]).encode()])
    with ir.open_case(":memory:") as case:
        report, loaded = load(case, tmp_path / "page.json", content + b"]")
        assert (report.loaded, report.rejected) == (2, 1)
        assert loaded == [(1, OKTA_IDS[0]), (3, OKTA_IDS[2])]


def test_a_garbage_line_with_nul_bytes_is_one_reject_not_a_binary_file(tmp_path: Path) -> None:
    """One line of NULs (a log file preallocated before a crash) made the whole file binary."""
    content = lines(OKTA[0], OKTA[1], b"\x00" * 64 + b"\xff\xfe", OKTA[2])
    with ir.open_case(":memory:") as case:
        report, loaded = load(case, tmp_path / "okta.ndjson", content)
        assert (report.loaded, report.rejected) == (3, 1)
        assert [n for n, _ in loaded] == [1, 2, 4]
        with pytest.raises(ir.formats.UnreadableFile, match="binary"):
            ir.formats.sniff(b"\xff\xfe{\x00\x22\x00" * 100, False)  # UTF-16: still binary


def test_a_bare_carriage_return_in_a_csv_cell_does_not_stop_detection(tmp_path: Path) -> None:
    """csv.Error ('new-line character seen in unquoted field') escaped from detection."""
    pool = next(p for p in pools("m365_ual") if p.kind == "csv")
    rows = [[r.get(c) or "" for c in pool.header] for r in pool.records]
    rows[1][3] = "Mail\rItemsAccessed"
    text = ",".join(pool.header) + "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    with ir.open_case(":memory:") as case:
        report, loaded = load(case, tmp_path / "ual.csv", (text + buffer.getvalue()).encode())
        assert report.source == "m365_ual"
        assert {n for n, _ in loaded} >= {1} | set(range(3, len(rows) + 1))


def test_a_trailing_comma_is_the_same_csv_row_on_both_read_paths(tmp_path: Path) -> None:
    """DuckDB reads `a,b,` under a two-column header as (a, b); the salvage reader rejected
    it, so the same rows loaded or not depending on another row of the file."""
    pool = next(p for p in pools("m365_ual") if p.kind == "csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(pool.header)
    rows = [[r.get(c) or "" for c in pool.header] for r in pool.records]
    writer.writerow([*rows[0], ""])
    writer.writerows(rows[1:])
    content = buffer.getvalue().encode()
    with ir.open_case(":memory:") as case:
        whole, _ = load(case, tmp_path / "a.csv", content)
        salvaged, _ = load(case, tmp_path / "b.csv", content + b"short,row\n")
        assert (whole.loaded, whole.rejected) == (len(rows), 0)
        assert (salvaged.duplicates, salvaged.rejected) == (len(rows), 1)


def test_a_first_record_longer_than_the_sniffed_prefix_is_detected(tmp_path: Path) -> None:
    """A 300 KB first record (a large policy document) left no whole record in the 256 KB
    prefix: 'no complete JSON record' and the file was refused."""
    big = {**OKTA[0], "debugContext": {"debugData": {"policy": "A" * 300_000}}}
    with ir.open_case(":memory:") as case:
        report, loaded = load(case, tmp_path / "okta.ndjson", lines(big, OKTA[1]))
        assert (report.source, loaded) == ("okta", [(1, OKTA_IDS[0]), (2, OKTA_IDS[1])])
        gz, _ = load(case, tmp_path / "okta.ndjson.gz", gzip.compress(lines(big, OKTA[2]) * 2))
        assert (gz.source, gz.loaded, gz.duplicates) == ("okta", 1, 3)
