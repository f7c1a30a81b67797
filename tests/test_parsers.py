"""Golden files: every fixture of every registered source, ingested and compared row by row.

A fixture is a raw vendor file in tests/fixtures/<source>/ next to
`<name>.expected.jsonl` (one normalised event per line, refs nested) and, for
bad-record fixtures, `<name>.rejects.jsonl`. `<name>` is the file name up to its
first dot. `IR_UPDATE_GOLDEN=1 pytest tests/test_parsers.py` rewrites the golden
files from the current output: read the diff line by line before committing it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ir.case import Case
from parsers import registry
from tests.conftest import (
    EXPECTED,
    FIXTURES,
    REJECTS,
    UPDATE,
    Rows,
    evidence_fixtures,
    fixture_name,
    golden_path,
    read_jsonl,
)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        path.unlink(missing_ok=True)
        return
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


CASES = [
    pytest.param(source, path, id=f"{source}/{path.name}")
    for source in registry.SOURCES
    for path in evidence_fixtures(source)
]


@pytest.mark.parametrize(("source", "path"), CASES)
def test_fixture_matches_golden_rows(
    source: str, path: Path, case: Case, rows: Rows, rejects: Rows
) -> None:
    (report,) = case.ingest(path)
    assert report.error is None
    assert report.source == source
    got_rows, got_rejects = rows(case), rejects(case)
    if UPDATE:
        write_jsonl(golden_path(path, EXPECTED), got_rows)
        write_jsonl(golden_path(path, REJECTS), got_rejects)
    expected_rows = read_jsonl(golden_path(path, EXPECTED))
    assert expected_rows, f"{path.name}: no golden rows; write {fixture_name(path)}{EXPECTED}"
    assert got_rows == expected_rows
    assert got_rejects == read_jsonl(golden_path(path, REJECTS))
    assert report.loaded == len(expected_rows)
    assert report.rejected == len(got_rejects)
    assert report.records == report.loaded + report.duplicates + report.rejected


def canonical_sha256(record: dict[str, Any]) -> str:
    """Contract §2, computed apart from the engine: sorted keys, no whitespace, UTF-8."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_github_record_without_document_id_gets_canonical_hash(case: Case, rows: Rows) -> None:
    path = FIXTURES / "github" / "rest-page.json"
    records = json.loads(path.read_text())
    case.ingest(path)
    by_record = {row["record_no"]: row["source_event_id"] for row in rows(case)}
    legacy = [(n, r) for n, r in enumerate(records, 1) if "_document_id" not in r]
    assert len(legacy) == 2
    for record_no, record in legacy:
        assert by_record[record_no] == canonical_sha256(record)


def _failed(source: str, record: dict[str, Any]) -> dict[str, Any]:
    if source == "okta":
        return dict(record, outcome={"result": "FAILURE", "reason": "INSUFFICIENT_PERMISSIONS"})
    return dict(record, status_code=403)


@pytest.mark.parametrize(
    ("source", "fixture", "positions", "token"),
    [
        ("okta", "logs-page.json", (3, 5), "okta_api_token:00Tq1w2e3r4T5y6U7i8o"),
        (
            "github",
            "stream.ndjson",
            (5, 6),
            "github_token:fgkq78ulbMn3wYZd+aQRcXmeGqCzMjSBjf2ARKJvFHI=",
        ),
    ],
    ids=["okta", "github"],
)
def test_a_failed_create_or_revoke_changes_no_credential(
    source: str, fixture: str, positions: tuple[int, ...], token: str, case: Case, tmp_path: Path
) -> None:
    """The golden create / revoke records again, but failed: nothing is issued, the revoke
    attempt stays visible (outcome failure) and the token is not revoked."""
    text = (FIXTURES / source / fixture).read_text()
    records = (
        json.loads(text) if text.startswith("[") else [json.loads(x) for x in text.splitlines()]
    )
    failed = [_failed(source, records[n - 1]) for n in positions]
    path = tmp_path / "failed.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in failed))
    (report,) = case.ingest(path)
    assert (report.loaded, report.rejected) == (2, 0)
    assert case.connection.execute("SELECT DISTINCT outcome FROM events").fetchall() == [
        ("failure",)
    ]
    relations = case.connection.execute(
        "SELECT relation FROM credential_refs WHERE credential = ?", [token]
    ).fetchall()
    assert relations == [("revoked",)]
    assert pd.isna(case.trace(token).credentials.loc[0, "revoked_at"])
