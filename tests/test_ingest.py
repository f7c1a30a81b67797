"""The ingest engine: layouts, re-ingest, duplicates, bad records, unreadable files, progress.

Records come from the golden fixtures (real vendor shapes) and are laid out
here in every way vendors and responders deliver them.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ir.case import Case
from ir.ingest import FileReport
from parsers import registry
from parsers.base import CredentialRef, Parser

FIXTURES = Path(__file__).parent / "fixtures"
Records = list[dict[str, Any]]


def cloudtrail_records() -> Records:
    records: Records = json.loads(
        gzip.decompress((FIXTURES / "aws_cloudtrail" / "s3-delivery.json.gz").read_bytes())
    )["Records"]
    return records


CT = cloudtrail_records()
CT_IDS = [r["eventID"] for r in CT]
OKTA: Records = json.loads((FIXTURES / "okta" / "logs-page.json").read_text())


def ndjson(records: Records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(gzip.compress(content, mtime=0) if path.suffix == ".gz" else content)
    return path


def counts(report: FileReport) -> tuple[int, int, int, int]:
    assert report.error is None
    assert report.records == report.loaded + report.duplicates + report.rejected
    return report.records, report.loaded, report.duplicates, report.rejected


def event_ids(case: Case) -> list[tuple[int, str]]:
    return case.connection.execute(
        "SELECT record_no, source_event_id FROM events ORDER BY file_id, record_no"
    ).fetchall()


def reject_rows(case: Case) -> list[tuple[int, int, str]]:
    return case.connection.execute(
        "SELECT file_id, record_no, reason FROM rejects ORDER BY file_id, record_no"
    ).fetchall()


WRAPPER = "wrapper:Records"
# layout -> (file name, how the records are written, the layout the case records)
LAYOUTS: dict[str, tuple[str, Callable[[Records], str], str]] = {
    "ndjson": ("trail.ndjson", ndjson, "objects"),
    "ndjson-gz": ("trail.ndjson.gz", ndjson, "objects"),
    "array": ("trail.json", json.dumps, "array"),
    "array-pretty": ("trail.json", lambda rs: json.dumps(rs, indent=2), "array"),
    "array-gz": ("trail.json.gz", json.dumps, "array"),
    "objects-pretty": (
        "trail.json",
        lambda rs: "\n".join(json.dumps(r, indent=4) for r in rs),
        "objects",
    ),
    "wrapper-gz": (
        "111122223333_CloudTrail_us-east-1.json.gz",
        lambda rs: json.dumps({"Records": rs}),
        WRAPPER,
    ),
    "wrapper-pretty": ("trail.json", lambda rs: json.dumps({"Records": rs}, indent=2), WRAPPER),
    # The wrapper key last, after a nested key of the same name and a string that looks like it.
    "wrapper-key-not-first": (
        "trail.json",
        lambda rs: json.dumps(
            {"NextToken": '"Records": [', "Summary": {"Records": []}, "Records": rs}
        ),
        WRAPPER,
    ),
    "wrapper-pages-ndjson": (
        "pages.json",
        lambda rs: "\n".join(json.dumps({"Records": rs[i : i + 4]}) for i in range(0, len(rs), 4)),
        WRAPPER,
    ),
    "wrapper-pages-first-empty": (
        "pages.json",
        lambda rs: json.dumps({"Records": []}) + "\n" + json.dumps({"Records": rs}),
        WRAPPER,
    ),
    "arrays-concatenated": (
        "pages.json",
        lambda rs: json.dumps(rs[:5]) + "\n" + json.dumps(rs[5:]) + "\n",
        "array",
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_loads_every_record_in_order(layout: str, case: Case, tmp_path: Path) -> None:
    name, render, stored = LAYOUTS[layout]
    (report,) = case.ingest(write(tmp_path / name, render(CT)))
    assert report.source == "aws_cloudtrail"
    assert counts(report) == (11, 11, 0, 0)
    assert event_ids(case) == list(enumerate(CT_IDS, 1))
    assert case.connection.execute("SELECT layout FROM evidence_files").fetchone() == (stored,)


@pytest.mark.parametrize("layout", ["ndjson-gz", "wrapper-gz"])
def test_a_large_batch_read_in_parallel_numbers_each_record_by_its_place(
    layout: str, case: Case, tmp_path: Path
) -> None:
    """Records are numbered by where DuckDB's readers put them: many files of thousands of
    records are read by several threads at once, and each must keep its file and line."""
    name, render, _ = LAYOUTS[layout]
    case.connection.execute("SET threads = 4")
    expected = {}
    for file_no in range(24):
        records = [
            {**CT[line % len(CT)], "eventID": f"{file_no}-{line}"}
            for line in range(500 + 97 * file_no)
        ]
        path = write(tmp_path / f"{file_no:02d}-{name}", render(records))
        expected[str(path.absolute())] = [(n, r["eventID"]) for n, r in enumerate(records, 1)]
    reports = case.ingest(tmp_path)
    assert {r.loaded for r in reports} != {0} and len({r.file for r in reports}) == 24
    for report in reports:
        got = case.connection.execute(
            """SELECT record_no, source_event_id FROM events JOIN evidence_files USING (file_id)
               WHERE path = ? ORDER BY record_no""",
            [report.file],
        ).fetchall()
        assert got == expected[report.file]
    keys = case.connection.execute("SELECT event_key FROM events ORDER BY file_id, record_no")
    assert [key for (key,) in keys.fetchall()] == list(
        range(1, sum(map(len, expected.values())) + 1)
    )


def test_bom_and_crlf_are_read(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path / "trail.ndjson", "\ufeff" + ndjson(CT[:3]).replace("\n", "\r\n"))
    assert counts(case.ingest(path)[0]) == (3, 3, 0, 0)


CSV_PROBE = Parser(
    name="csv_probe",
    detect=lambda record: "REQUEST_ID" in record and "TIMESTAMP_DERIVED" in record,
    fields={
        "REQUEST_ID": "VARCHAR",
        "TIMESTAMP_DERIVED": "VARCHAR",
        "EVENT_TYPE": "VARCHAR",
        "CLIENT_IP": "VARCHAR",
        "LOGIN_KEY": "VARCHAR",
    },
    event={
        "source_event_id": "r.REQUEST_ID",
        "time": "ir_time(r.TIMESTAMP_DERIVED)",
        "action": "r.EVENT_TYPE",
        "outcome": "'success'",
        "client_ip": "ir_blank(r.CLIENT_IP)",
    },
    credentials=(CredentialRef("salesforce_login", "used", value="r.LOGIN_KEY"),),
    time_field="TIMESTAMP_DERIVED",
)
# An EventLogFile-like CSV as downloaded: quoted UPPER_SNAKE header, quoted values.
CSV_TEXT = (
    '"EVENT_TYPE","TIMESTAMP_DERIVED","REQUEST_ID","CLIENT_IP","LOGIN_KEY","URI"\n'
    '"API","2026-09-02T09:00:00.000Z","4exLFFQZ1234","203.0.113.10","QfNecrLXSII6fsBq","/services/data"\n'
    '"API","2026-09-02T09:00:01.500Z","4exLFFQZ1235","","QfNecrLXSII6fsBq","/a,b"\n'
    '"API","not a time","4exLFFQZ1236","203.0.113.10","QfNecrLXSII6fsBq","/c"\n'
)


@pytest.fixture
def csv_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny CSV source, registered for one test ahead of the shipped ones (salesforce reads
    these rows too)."""
    shipped = registry.built_in()
    monkeypatch.setattr(registry, "built_in", lambda: (CSV_PROBE, *shipped))


@pytest.mark.parametrize("name", ["ApiEvent.csv", "ApiEvent.csv.gz"])
@pytest.mark.usefixtures("csv_source")
def test_csv_rows_are_records(name: str, case: Case, tmp_path: Path) -> None:
    (report,) = case.ingest(write(tmp_path / name, CSV_TEXT))
    assert report.source == "csv_probe"
    assert counts(report) == (3, 2, 0, 1)
    assert event_ids(case) == [(1, "4exLFFQZ1234"), (2, "4exLFFQZ1235")]
    assert case.connection.execute(
        "SELECT client_ip FROM events ORDER BY record_no"
    ).fetchall() == [
        ("203.0.113.10",),
        (None,),
    ]
    assert reject_rows(case) == [(1, 3, "no valid time in TIMESTAMP_DERIVED")]
    refs = case.connection.execute("SELECT DISTINCT credential FROM credential_refs").fetchall()
    assert refs == [("salesforce_login:QfNecrLXSII6fsBq",)]


@pytest.mark.usefixtures("csv_source")
def test_bad_csv_rows_are_rejected_and_the_rest_load(case: Case, tmp_path: Path) -> None:
    header, first, second, _ = CSV_TEXT.encode().splitlines(keepends=True)
    short = b'"API","2026-09-02T09:00:02.000Z","4exLFFQZ1237"\n'
    not_utf8 = second.replace(b"4exLFFQZ1235", b"4exLFFQZ\xff1238")
    (report,) = case.ingest(
        write(tmp_path / "ApiEvent.csv", header + first + short + not_utf8 + second)
    )
    assert counts(report) == (4, 2, 0, 2)
    assert event_ids(case) == [(1, "4exLFFQZ1234"), (4, "4exLFFQZ1235")]
    assert reject_rows(case) == [
        (1, 2, "CSV row has 3 fields, the header 6"),
        (1, 3, "not valid UTF-8"),
    ]


def test_file_names_are_not_patterns(case: Case, tmp_path: Path) -> None:
    """`trail*.json` must not also read `trail-2.json`; quotes and brackets are literal too."""
    names = ["trail*.json", "trail-2.json", "alice's trail [copy?].json"]
    folder = tmp_path / "evidence"
    folder.mkdir()
    for n, name in enumerate(names):
        write(folder / name, json.dumps(CT[n * 3 : n * 3 + 3]))
    reports = case.ingest(folder)
    assert sorted(Path(r.file).name for r in reports) == sorted(names)
    assert [counts(r) for r in reports] == [(3, 3, 0, 0)] * 3


def test_reingesting_the_same_file_adds_nothing(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path / "trail.ndjson", ndjson(CT))
    first = case.ingest(path)[0]
    copy = write(tmp_path / "copy-of-trail.ndjson", path.read_bytes())
    again, same_bytes = case.ingest(path, copy)
    assert counts(first) == (11, 11, 0, 0)
    assert again.skipped and same_bytes.skipped
    assert (again.records, again.loaded, again.sha256) == (0, 0, first.sha256)
    assert case.connection.execute("SELECT count(*) FROM events").fetchone() == (11,)
    assert case.connection.execute("SELECT count(*) FROM evidence_files").fetchone() == (1,)


def test_the_same_new_bytes_twice_in_one_run_load_once(case: Case, tmp_path: Path) -> None:
    first = write(tmp_path / "a.ndjson", ndjson(CT))
    second = write(tmp_path / "b.ndjson", first.read_bytes())
    loaded, skipped = case.ingest(first, second)
    assert counts(loaded) == (11, 11, 0, 0) and skipped.skipped and skipped.loaded == 0
    assert skipped.sha256 == loaded.sha256


def test_an_ingest_checkpoints_once_and_restores_the_setting(case: Case, tmp_path: Path) -> None:
    """Batches commit to the WAL; the ingest ends with a checkpoint and DuckDB's own threshold."""
    setting = "SELECT current_setting('checkpoint_threshold')"
    before = case.connection.execute(setting).fetchone()
    case.ingest(write(tmp_path / "trail.ndjson", ndjson(CT)))
    assert case.connection.execute(setting).fetchone() == before == ("16.0 MiB",)
    wal = case.path.with_name(case.path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_same_records_in_another_file_and_layout_are_duplicates(case: Case, tmp_path: Path) -> None:
    case.ingest(write(tmp_path / "trail.ndjson", ndjson(CT[:6])))
    (report,) = case.ingest(
        write(tmp_path / "delivery.json.gz", json.dumps({"Records": CT}, indent=2))
    )
    assert counts(report) == (11, 5, 6, 0)
    assert [row[1] for row in event_ids(case)] == CT_IDS[:6] + CT_IDS[6:]


def test_event_history_redelivers_what_s3_delivered(case: Case, tmp_path: Path) -> None:
    """The same CloudTrail event from S3 and from LookupEvents (a JSON string) is one event."""
    case.ingest(write(tmp_path / "delivery.json", json.dumps({"Records": CT[:2]})))
    history = {
        "Events": [{"EventId": r["eventID"], "CloudTrailEvent": json.dumps(r)} for r in CT[:3]]
    }
    (report,) = case.ingest(write(tmp_path / "lookup-events.json", json.dumps(history)))
    assert counts(report) == (3, 1, 2, 0)


def test_a_vendor_id_reused_for_other_content_loads_with_a_suffix(
    case: Case, tmp_path: Path
) -> None:
    changed = dict(OKTA[0], displayMessage="User login to Okta (replayed)")
    (first,) = case.ingest(write(tmp_path / "a.ndjson", ndjson([OKTA[0], changed, OKTA[0]])))
    (second,) = case.ingest(write(tmp_path / "b.ndjson", ndjson([changed, OKTA[1]])))
    assert counts(first) == (3, 2, 1, 0)
    assert counts(second) == (2, 1, 1, 0)
    ids = [row[1] for row in event_ids(case)]
    uuid = OKTA[0]["uuid"]
    assert ids[0] == uuid
    assert re.fullmatch(re.escape(uuid) + "#[0-9a-f]{16}", ids[1])
    assert ids[2] == OKTA[1]["uuid"]


def test_record_numbers_count_bad_lines(case: Case, tmp_path: Path) -> None:
    lines = ndjson(CT[:4]).splitlines()
    lines[1] = lines[1][:120]
    (report,) = case.ingest(write(tmp_path / "trail.ndjson", "\n".join(lines) + "\n"))
    assert counts(report) == (4, 3, 0, 1)
    assert event_ids(case) == [(1, CT_IDS[0]), (3, CT_IDS[2]), (4, CT_IDS[3])]
    assert reject_rows(case) == [(1, 2, "not valid JSON")]


def test_a_broken_array_element_is_rejected_and_the_rest_load(case: Case, tmp_path: Path) -> None:
    text = json.dumps(CT[:4], indent=2).replace(
        '"eventName": "AssumeRole",', '"eventName" "AssumeRole",'
    )
    (report,) = case.ingest(write(tmp_path / "trail.json", text))
    assert counts(report) == (4, 3, 0, 1)
    assert [row[0] for row in event_ids(case)] == [1, 3, 4]
    ((file_id, record_no, reason),) = reject_rows(case)
    assert (file_id, record_no) == (1, 2)
    assert re.fullmatch(r"not valid JSON \(Expecting ':' delimiter: line \d+ column \d+\)", reason)


def test_a_batch_with_one_refused_file_loads_the_others(case: Case, tmp_path: Path) -> None:
    good = [write(tmp_path / f"page{n}.json", json.dumps(CT[n * 3 : n * 3 + 3])) for n in (0, 1)]
    broken = write(tmp_path / "page2.json", json.dumps(CT[6:9])[:-200])
    reports = case.ingest(*good, broken)
    assert [counts(r) for r in reports] == [(3, 3, 0, 0), (3, 3, 0, 0), (3, 2, 0, 1)]


def complete_lines(cut_gzip: bytes) -> int:
    """How many whole lines a cut gzip member still holds; it must end inside a record."""
    recovered = zlib.decompressobj(wbits=31).decompress(cut_gzip).decode()
    assert recovered and not recovered.endswith("\n")
    return recovered.count("\n")


def test_truncated_gz_keeps_the_complete_records(case: Case, tmp_path: Path) -> None:
    whole = gzip.compress(ndjson(CT).encode(), mtime=0)
    cut = whole[: len(whole) * 2 // 3]
    complete = complete_lines(cut)
    assert 0 < complete < 11
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(cut)
    (report,) = case.ingest(path)
    assert counts(report) == (complete + 1, complete, 0, 1)
    assert [row[1] for row in event_ids(case)] == CT_IDS[:complete]
    (full,) = case.ingest(write(tmp_path / "whole.ndjson.gz", ndjson(CT)))
    assert counts(full) == (11, 11 - complete, complete, 0)


def test_a_file_cut_short_says_so_in_ingest_rejects_and_stats(case: Case, tmp_path: Path) -> None:
    """Issue 25: a truncated gz is reported as cut short, per file, not as one bad record."""
    whole = gzip.compress(ndjson(CT).encode(), mtime=0)
    inside = tmp_path / "cut-inside.ndjson.gz"
    inside.write_bytes(whole[: len(whole) * 2 // 3])  # ends inside a record
    between = tmp_path / "cut-between.ndjson.gz"
    between.write_bytes(whole[:-8])  # every record whole, the gzip trailer lost
    cut, clean = case.ingest(inside, between)
    assert (
        cut.note
        == clean.note
        == ("the file is cut short (its gzip data ends early): whatever followed is lost")
    )
    loaded_before = complete_lines(whole[: len(whole) * 2 // 3])
    # every record (those the first file held are duplicates), and the cut named
    assert counts(clean) == (12, 11 - loaded_before, loaded_before, 1)
    reasons = case.sql("SELECT record_no, reason FROM rejects ORDER BY file_id")
    assert reasons["reason"].tolist() == [
        "the file is cut short (its gzip data ends early): whatever followed is lost;"
        " this record is incomplete",
        "the file is cut short (its gzip data ends early): whatever followed is lost",
    ]
    assert case.stats()["files_cut_short"].tolist() == [2]


def test_a_file_whose_every_record_was_rejected_failed(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path / "broken.ndjson", "{not json\n" * 3)
    (report,) = case.ingest(path, source="aws_cloudtrail")
    assert (report.records, report.rejected, report.loaded) == (3, 3, 0)
    assert report.error == "none of its 3 records could be loaded (ir rejects)"


def test_concatenated_gzip_members_are_all_read(case: Case, tmp_path: Path) -> None:
    """Streamed logs (GitHub to S3, Firehose) append gzip members; a cut last one keeps the rest."""
    members = [gzip.compress(ndjson(CT[n : n + 4]).encode(), mtime=0) for n in (0, 4, 8)]
    whole = tmp_path / "stream.ndjson.gz"
    whole.write_bytes(b"".join(members))
    cut = tmp_path / "stream-cut.ndjson.gz"
    cut.write_bytes(members[0] + members[1] + members[2][: len(members[2]) // 2])
    complete = 8 + complete_lines(members[2][: len(members[2]) // 2])
    assert complete < 11
    (report,) = case.ingest(cut)
    assert counts(report) == (complete + 1, complete, 0, 1)
    assert [row[1] for row in event_ids(case)] == CT_IDS[:complete]
    (full,) = case.ingest(whole)
    assert counts(full) == (11, 11 - complete, complete, 0)


def test_invalid_utf8_rejects_that_record_only(case: Case, tmp_path: Path) -> None:
    lines = [line.encode() for line in ndjson(CT[:3]).splitlines(keepends=True)]
    lines[1] = lines[1].replace(b"AssumeRole", b"Assume\xff\xfeRole", 1)
    (report,) = case.ingest(write(tmp_path / "trail.ndjson", b"".join(lines)))
    assert counts(report) == (3, 2, 0, 1)
    assert reject_rows(case) == [(1, 2, "not valid JSON")]


def test_records_that_are_not_objects_are_rejected(case: Case, tmp_path: Path) -> None:
    text = ndjson(CT[:1]) + '123\n"AssumeRole"\n[1, 2]\nnull\n' + ndjson(CT[1:2])
    (report,) = case.ingest(write(tmp_path / "trail.ndjson", text))
    assert counts(report) == (6, 2, 0, 4)
    assert [row[1:] for row in reject_rows(case)] == [
        (2, "not a JSON object (ubigint)"),
        (3, "not a JSON object (varchar)"),
        (4, "not a JSON object (array)"),
        (5, "not a JSON object (null)"),
    ]


def test_an_envelope_without_a_valid_record_is_rejected(case: Case, tmp_path: Path) -> None:
    events = [
        {"EventId": CT_IDS[0], "CloudTrailEvent": json.dumps(CT[0])},
        {"EventId": CT_IDS[1], "CloudTrailEvent": json.dumps(CT[1])[:50]},
        {"EventId": CT_IDS[2], "CloudTrailEvent": json.dumps(CT[2])},
    ]
    (report,) = case.ingest(write(tmp_path / "lookup-events.json", json.dumps({"Events": events})))
    assert counts(report) == (3, 2, 0, 1)
    assert reject_rows(case) == [(1, 2, "the record inside its envelope is not valid JSON")]


def test_unreadable_files_are_named_and_the_others_load(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    write(folder / "a-garbage.bin", bytes(range(256)) * 64)
    write(folder / "b-empty.json", "")
    write(folder / "c-unknown.json", json.dumps([{"level": "info", "msg": "started"}]))
    write(folder / "d-trail.ndjson", ndjson(CT[:2]))
    write(folder / ".hidden.json", "not read")
    reports = case.ingest(folder, tmp_path / "missing.json")
    errors = {Path(r.file).name: r.error for r in reports}
    assert errors == {
        "a-garbage.bin": "the content is binary, not UTF-8 text",
        "b-empty.json": "the file is empty",
        "c-unknown.json": "records match no known source (known: "
        + ", ".join(registry.SOURCES)
        + "); use --source NAME, or --mappings FOLDER for a source defined in a mapping file",
        "d-trail.ndjson": None,
        "missing.json": "no such file",
    }
    assert counts(reports[3]) == (2, 2, 0, 0)
    assert case.connection.execute("SELECT count(*) FROM evidence_files").fetchone() == (1,)


def test_the_case_file_in_an_ingested_folder_is_not_evidence(case: Case) -> None:
    write(case.path.parent / "trail.ndjson", ndjson(CT[:2]))
    reports = case.ingest(case.path.parent)
    assert [(Path(r.file).name, r.error) for r in reports] == [("trail.ndjson", None)]


def test_source_override_reads_what_detection_cannot(case: Case, tmp_path: Path) -> None:
    """GitHub system events carry no actor and no _document_id: detection passes them by."""
    records = [
        {"action": "org.update_default_repository_permission", "created_at": 1788106811111 + n}
        for n in range(3)
    ]
    path = write(tmp_path / "system-events.json", json.dumps(records))
    assert case.ingest(path)[0].error is not None
    (report,) = case.ingest(path, source="github")
    assert report.source == "github"
    assert counts(report) == (3, 3, 0, 0)
    with pytest.raises(KeyError, match="unknown source 'splunk'; known sources: aws_cloudtrail"):
        case.ingest(path, source="splunk")


def test_progress_reports_bytes_done_of_all(case: Case, tmp_path: Path) -> None:
    files = [
        write(tmp_path / "a.ndjson", ndjson(CT[:5])),
        write(tmp_path / "b.json", json.dumps(CT[5:])),
        write(tmp_path / "c.json.gz", json.dumps(OKTA)),
    ]
    calls: list[tuple[int, int]] = []
    case.ingest(*files, progress=lambda done, total: calls.append((done, total)))
    total = sum(p.stat().st_size for p in files)
    assert len(calls) == 3
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (total, total)


def test_irignore_skips_what_is_not_evidence(case: Case, tmp_path: Path) -> None:
    """A folder's .irignore names files that are not evidence; named on the command line, a file is read."""
    folder = tmp_path / "incident"
    (folder / "logs").mkdir(parents=True)
    record = {"uuid": "u1", "published": "2026-09-01T00:00:00Z", "eventType": "user.session.start"}
    (folder / "logs" / "okta.ndjson").write_text(json.dumps(record) + "\n")
    (folder / "notes.txt").write_text("call the vendor\n")
    (folder / "logs" / "answers.json").write_text("{}")
    (folder / ".irignore").write_text("# comments allowed\nnotes.txt\nlogs/answers.json\n")
    reports = {Path(r.file).name: r for r in case.ingest(folder)}
    assert reports["okta.ndjson"].loaded == 1
    for name in ("notes.txt", "answers.json"):
        assert (reports[name].skipped, reports[name].error) == (True, None)
        assert reports[name].note == f"ignored by {folder / '.irignore'}"
    (named,) = case.ingest(folder / "notes.txt")
    assert named.error == "the content is neither JSON nor CSV"
