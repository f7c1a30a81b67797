"""Evidence integrity: `verify-evidence` re-hashes the files, `show` re-reads one record.

The case keeps each file's path and SHA-256 and each event's record number; it
never copies the evidence. A responder must be able to prove the files are the
ones ingested, and to see the exact vendor record behind any row of a trace.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ir
from ir.case import Case
from ir.cli import app
from ir.evidence import EvidenceError, UnknownEvent

FIXTURES = Path(__file__).parent / "fixtures"
CT: list[dict[str, Any]] = json.loads(
    gzip.decompress((FIXTURES / "aws_cloudtrail" / "s3-delivery.json.gz").read_bytes())
)["Records"]
OKTA: list[dict[str, Any]] = json.loads((FIXTURES / "okta" / "logs-page.json").read_text())
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def ndjson(records: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def broken_array(records: list[Any]) -> bytes:
    """An array DuckDB refuses (a broken element): the salvage reader numbers it."""
    parts = [json.dumps(r) for r in records]
    return ("[" + ", ".join([*parts[:2], '{"eventVersion" "1.08"}', *parts[2:]]) + "]").encode()


# name -> (file name, bytes, the record written at each record number)
Layout = Callable[[list[dict[str, Any]]], tuple[str, bytes, dict[int, Any]]]
LAYOUTS: dict[str, Layout] = {
    "ndjson": lambda rs: ("t.ndjson", ndjson(rs), dict(enumerate(rs, 1))),
    "ndjson-gz": lambda rs: ("t.ndjson.gz", gzip.compress(ndjson(rs)), dict(enumerate(rs, 1))),
    "array": lambda rs: ("t.json", json.dumps(rs, indent=2).encode(), dict(enumerate(rs, 1))),
    "wrapper-gz": lambda rs: (
        "t.json.gz",
        gzip.compress(json.dumps({"Records": rs}).encode()),
        dict(enumerate(rs, 1)),
    ),
    "salvaged": lambda rs: (
        "t.json",
        broken_array(rs),
        {n if n < 3 else n + 1: r for n, r in enumerate(rs, 1)},
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_show_returns_each_record_as_written(layout: str, case: Case, tmp_path: Path) -> None:
    name, content, written = LAYOUTS[layout](CT[:6])
    (tmp_path / name).write_bytes(content)
    (report,) = case.ingest(tmp_path / name)
    assert report.loaded == 6
    events = case.sql("SELECT event_key, source, source_event_id, record_no FROM events")
    for event_key, source, event_id, record_no in events.itertuples(index=False):
        record = case.raw_record(f"{source}:{event_id}")
        assert record == written[record_no]
        assert case.raw_record(event_key) == record
        assert case.raw_record(f"{tmp_path / name}#{record_no}") == record
        relative = os.path.relpath(tmp_path / name)
        assert case.raw_record(f"{relative}#{record_no}") == record


def test_show_reads_csv_rows_and_envelopes(case: Case, tmp_path: Path) -> None:
    """A CSV row comes back as its columns; an Event history record as its envelope."""
    purview = FIXTURES / "m365_ual" / "purview-export.csv"
    rows = list(csv.DictReader(io.StringIO(purview.read_text(encoding="utf-8-sig"))))
    history = json.loads((FIXTURES / "aws_cloudtrail" / "event-history.json").read_text())
    case.ingest(purview, FIXTURES / "aws_cloudtrail" / "event-history.json")
    first = case.sql(
        "SELECT source_event_id FROM events WHERE source = 'm365_ual' AND record_no = 1"
    )
    shown = case.raw_record(f"m365_ual:{first['source_event_id'][0]}")
    assert shown == {k: v or None for k, v in rows[0].items()}
    envelope = history["Events"][1]
    inner = json.loads(envelope["CloudTrailEvent"])
    assert case.raw_record(f"aws_cloudtrail:{inner['eventID']}") == envelope


def test_show_refuses_a_changed_or_vanished_file(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "okta.json"
    path.write_text(json.dumps(OKTA))
    case.ingest(path)
    event = f"okta:{OKTA[2]['uuid']}"
    assert case.raw_record(event)["uuid"] == OKTA[2]["uuid"]
    path.write_text(json.dumps(OKTA).replace("alice@corp.example", "mallory@corp.example"))
    with pytest.raises(EvidenceError, match=r"okta\.json#3: the evidence file changed since"):
        case.raw_record(event)
    path.unlink()
    with pytest.raises(EvidenceError, match=r"changed since ingest \(missing"):
        case.raw_record(event)


def test_show_refuses_a_pointer_that_no_longer_holds_the_event(case: Case, tmp_path: Path) -> None:
    """Same file, another record at that number (a case made by other readers)."""
    path = tmp_path / "okta.ndjson"
    path.write_bytes(ndjson(OKTA))
    case.ingest(path)
    case.connection.execute("UPDATE events SET record_no = record_no % 6 + 1")
    with pytest.raises(EvidenceError, match="not the one ingested"):
        case.raw_record(f"okta:{OKTA[0]['uuid']}")


def test_show_names_what_it_cannot_find(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "okta.ndjson"
    path.write_bytes(ndjson(OKTA))
    case.ingest(path)
    with pytest.raises(UnknownEvent, match="no event 'okta:nope' in the case"):
        case.raw_record("okta:nope")
    with pytest.raises(UnknownEvent, match="no event by that name"):
        case.raw_record("ghp_notshownbecauseitmaybeasecret")
    with pytest.raises(EvidenceError, match="has no such record"):
        case.raw_record(f"{path}#99")


def test_cli_show_prints_the_record_and_exits_by_the_contract(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "okta.json").write_text(json.dumps(OKTA))
    case = str(tmp_path / "c.duckdb")
    assert run("ingest", str(logs), "--case", case)[0] == 0
    status, out, _ = run("show", f"okta:{OKTA[3]['uuid']}", "--case", case)
    assert status == 0 and json.loads(out) == OKTA[3]
    session = OKTA[0]["authenticationContext"]["externalSessionId"]
    status, out, _ = run("trace", f"okta_session:{session}", "--case", case, "-f", "json")
    evidence = json.loads(out)["events"][0]["evidence"]
    status, out, _ = run("show", evidence, "--case", case)
    assert status == 0 and json.loads(out) == OKTA[int(evidence.rpartition("#")[2]) - 1]
    assert run("show", "okta:nope", "--case", case)[0] == 3
    (logs / "okta.json").write_text("[]")
    status, _, err = run("show", f"okta:{OKTA[3]['uuid']}", "--case", case)
    assert status == 1 and "okta.json#4: the evidence file changed since ingest" in err


def test_verify_evidence_names_every_changed_or_vanished_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a-okta.json").write_text(json.dumps(OKTA))
    (logs / "b-trail.ndjson").write_bytes(ndjson(CT))
    (logs / "c-trail.ndjson.gz").write_bytes(gzip.compress(ndjson(CT[:3]) + ndjson(CT[:1])))
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    status, out, err = run("verify-evidence", "--case", case)
    assert (status, out.strip(), err) == (
        0,
        "all 3 evidence files verified: unchanged since ingest",
        "",
    )
    status, out, err = run("verify-evidence", "--case", case, "-f", "json")
    assert status == 0 and err == ""
    assert [(Path(r["path"]).name, r["status"]) for r in json.loads(out)] == [
        ("a-okta.json", "ok"),
        ("b-trail.ndjson", "ok"),
        ("c-trail.ndjson.gz", "ok"),
    ]
    with (logs / "a-okta.json").open("a") as handle:
        handle.write("\n")  # one byte is enough
    (logs / "c-trail.ndjson.gz").unlink()
    status, out, err = run("verify-evidence", "--case", case, "-f", "json")
    rows = json.loads(out)
    assert status == 1
    assert [(Path(r["path"]).name, r["status"]) for r in rows] == [
        ("a-okta.json", "changed"),
        ("b-trail.ndjson", "ok"),
        ("c-trail.ndjson.gz", "missing"),
    ]
    assert rows[0]["current_sha256"] != rows[0]["sha256"] and rows[2]["current_sha256"] is None
    assert "a-okta.json: changed since ingest" in err and "c-trail.ndjson.gz: missing" in err
    status, out, _ = run("verify-evidence", "--case", case, "-f", "csv")
    assert status == 1 and out.splitlines()[0] == (
        "file_id,path,source,status,sha256,current_sha256,bytes"
    )
    status, out, _ = run("verify-evidence", "--case", case)
    assert status == 1 and "changed" in out and "missing" in out
    assert "2 of 3 evidence files changed or missing" in out and "b-trail" not in out


def test_the_python_api_returns_a_frame(tmp_path: Path) -> None:
    path = tmp_path / "okta.json"
    path.write_text(json.dumps(OKTA))
    with ir.open_case(tmp_path / "c.duckdb") as case:
        case.ingest(path)
        frame = case.verify_evidence()
    assert frame[["source", "status", "bytes"]].values.tolist() == [
        ["okta", "ok", path.stat().st_size]
    ]


def test_new_commands_have_help_and_an_example() -> None:
    for command in ("verify-evidence", "show"):
        status, out, _ = run(command, "--help")
        assert status == 0 and "--case" in out and "Example: ir " in out


def test_show_prints_hostile_records_exactly_and_safely(tmp_path: Path) -> None:
    """Numbers beyond 64 bits or a double stay as logged, any depth prints, and the
    characters a terminal would obey (C1 controls, bidi overrides) come out escaped."""
    deep = "[" * 3000 + "1" + "]" * 3000
    hostile = json.dumps({**OKTA[0], "displayMessage": "\x9b31m\u202egpj.exe"})
    hostile = hostile[:-1] + ', "big": 123456789012345678901234567890, "huge": 1e400}'
    deep_record = json.dumps(OKTA[1])[:-1] + f', "deep": {deep}}}'
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "okta.ndjson").write_text(hostile + "\n" + deep_record + "\n")
    case = str(tmp_path / "c.duckdb")
    assert run("ingest", str(logs), "--case", case)[0] == 0
    status, out, _ = run("show", f"okta:{OKTA[0]['uuid']}", "--case", case)
    assert status == 0 and "\x9b" not in out and "\u202e" not in out
    assert '"displayMessage": "\\u009b31m\\u202egpj.exe"' in out
    assert '"big": 123456789012345678901234567890' in out and '"huge": 1e400' in out
    assert json.loads(out)["displayMessage"] == "\x9b31m\u202egpj.exe"
    status, out, _ = run("show", f"okta:{OKTA[1]['uuid']}", "--case", case)
    assert status == 0 and out.count("[") == 3000 + json.dumps(OKTA[1]).count("[")
    assert max(len(line) for line in out.splitlines()) < 300  # indentation stops deepening
    with ir.open_case(case, read_only=True) as opened:
        assert opened.raw_record(f"okta:{OKTA[0]['uuid']}")["big"] == 123456789012345678901234567890
        with pytest.raises(EvidenceError, match="nested too deeply for Python"):
            opened.raw_record(f"okta:{OKTA[1]['uuid']}")


def test_show_finds_a_file_ingested_through_a_symlink(case: Case, tmp_path: Path) -> None:
    """Ingest stores the path as given (absolute, links kept); a trace prints it so."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "okta.ndjson").write_bytes(ndjson(OKTA))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    case.ingest(tmp_path / "link" / "okta.ndjson")
    (evidence,) = case.sql("SELECT path || '#2' AS e FROM evidence_files")["e"]
    assert evidence == f"{tmp_path / 'link' / 'okta.ndjson'}#2"
    assert case.raw_record(evidence) == OKTA[1]
    assert case.raw_record(f"{tmp_path / 'real' / 'okta.ndjson'}#2") == OKTA[1]
