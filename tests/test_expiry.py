"""Expiry (issue 25): where the vendor logs when an issued credential stops working, the
case keeps it (`credential_refs.expires_at`), the trace shows it, an expired credential is
no remaining exposure, and a use after expiry is flagged.

Of the vendors' real samples only CloudTrail logs an expiry
(`responseElements.credentials.expiration` of AssumeRole and the other STS calls).
"""

from __future__ import annotations

import csv
import io
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import ir
from ir import report, store
from ir.cli import app
from tests import vendor_records as v

CONFORMANCE = Path(__file__).resolve().parent / "conformance" / "aws_cloudtrail"
KEY = "AKIAEXPIRYEXAMPLE001"
SESSION = "ASIAEXPIRYEXAMPLE001"


def session_expiring(expiration: str, *later: dict[str, Any]) -> list[dict[str, Any]]:
    issued = v.assume_role("i1", "2026-09-03T10:00:00Z", KEY, SESSION)
    issued["responseElements"]["credentials"]["expiration"] = expiration
    return [
        v.cloudtrail("u1", "2026-09-01T00:00:00Z", "ListBuckets", KEY),
        issued,
        v.cloudtrail("s1", "2026-09-03T10:30:00Z", "ListBuckets", SESSION),
        *later,
    ]


def traced(tmp_path: Path, records: list[dict[str, Any]]) -> ir.Trace:
    v.write_cloudtrail(tmp_path / "logs" / "ct.json", records)
    with ir.open_case(tmp_path / "case.duckdb") as case:
        case.ingest(tmp_path / "logs")
        return case.trace(f"aws_access_key:{KEY}")


def test_the_real_sample_records_its_expiry(tmp_path: Path) -> None:
    """Elastic's AssumeRole sample: eventTime 22:12:29Z, 3600 s, "Oct 2, 2019 11:12:29 PM"."""
    with ir.open_case(tmp_path / "case.duckdb") as case:
        case.ingest(CONFORMANCE / "elastic-assume-role.log")
        rows = case.sql(
            "SELECT credential, expires_at FROM credential_refs WHERE relation = 'issued'"
        )
    assert set(rows["credential"]) == {"aws_access_key:ASIAWHOJDLGPOEXAMPLE"}
    assert {t.isoformat() for t in rows["expires_at"]} == {"2019-10-02T23:12:29+00:00"}


def test_an_expired_session_key_is_expired_not_remaining(tmp_path: Path) -> None:
    trace = traced(tmp_path, session_expiring("Sep 3, 2026 11:00:00 AM"))
    session = trace.credentials.set_index("id").loc[f"aws_access_key:{SESSION}"]
    assert session["expires_at"].isoformat() == "2026-09-03T11:00:00+00:00"
    assert bool(session["expired"]) is True
    assert not trace.events["after_expiry"].any()
    data = report.model(trace)
    assert [c["status"] for c in data["lineage"]] == [
        "never revoked",
        "expired 2026-09-03T11:00:00Z",
    ]
    assert [r["credential"] for r in data["remaining"]] == [f"aws_access_key:{KEY}"]
    document = trace.to_json()
    assert [(c["expires_at"], c["expired"]) for c in document["credentials"]] == [
        (None, False),
        ("2026-09-03T11:00:00Z", True),
    ]


def test_a_use_after_expiry_is_flagged_and_stays_remaining(tmp_path: Path) -> None:
    late = v.cloudtrail("s2", "2026-09-03T12:00:00Z", "GetObject", SESSION, ip="203.0.113.66")
    trace = traced(tmp_path, session_expiring("Sep 3, 2026 11:00:00 AM", late))
    flagged = trace.events.set_index("source_event_id")["after_expiry"]
    assert flagged.to_dict() == {"u1": False, "i1": False, "s1": False, "s2": True}
    data = report.model(trace)
    assert [(r["credential"], r["note"]) for r in data["remaining"]] == [
        (f"aws_access_key:{KEY}", "no revocation logged for it or its parents"),
        (f"aws_access_key:{SESSION}", "used after its expiry at 2026-09-03T11:00:00Z"),
    ]
    assert [(r["time"], r["why"]) for r in data["after_revocation"]] == [
        ("2026-09-03T12:00:00Z", "expired 2026-09-03T11:00:00Z")
    ]
    assert dict(data["summary"])["Uses after revocation"].endswith(
        ", 1 after the credential expired"
    )


def test_a_key_not_yet_expired_says_when_it_will(tmp_path: Path) -> None:
    future = pd.Timestamp.now("UTC") + pd.Timedelta(days=400)
    expiration = f"{future:%b} {future.day}, {future:%Y %I:%M:%S %p}"
    trace = traced(tmp_path, session_expiring(expiration))
    session = trace.credentials.set_index("id").loc[f"aws_access_key:{SESSION}"]
    assert bool(session["expired"]) is False
    status = report.model(trace)["lineage"][1]["status"]
    assert status == f"never revoked, expires {future:%Y-%m-%dT%H:%M:%S}Z"


def test_the_table_shows_expired_and_late_uses(tmp_path: Path) -> None:
    late = v.cloudtrail("s2", "2026-09-03T12:00:00Z", "GetObject", SESSION)
    v.write_cloudtrail(
        tmp_path / "logs" / "ct.json", session_expiring("Sep 3, 2026 11:00:00 AM", late)
    )
    case = str(tmp_path / "case.duckdb")
    CliRunner().invoke(app, ["ingest", str(tmp_path / "logs"), "--case", case])
    result = CliRunner().invoke(app, ["trace", KEY, "--case", case])
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert f"aws_access_key:{SESSION}" in text and "expired 2026-09-03T11:00:00Z" in text
    assert "used after expiry" in text


def test_a_case_of_an_older_schema_gains_the_column(tmp_path: Path) -> None:
    """A case made before the column (its indexes in place) is migrated, then ingests."""
    path = tmp_path / "case.duckdb"
    schema = files("ir").joinpath("schema.sql").read_text()
    older = re.sub(
        r",(\s+--[^\n]*)?\n\s+expires_at TIMESTAMPTZ[^\n]*\n\s+scopes[^\n]*", r"\1", schema
    )
    assert "expires_at" not in older and "scopes" not in older
    with duckdb.connect(str(path)) as connection:
        connection.execute(older)
        connection.execute("INSERT INTO case_meta VALUES ('schema_version', '4')")
    with ir.open_case(path) as case:
        case.ingest(CONFORMANCE / "elastic-assume-role.log")
        rows = case.sql("SELECT DISTINCT expires_at FROM credential_refs WHERE relation = 'issued'")
        indexes = case.sql("SELECT count(*) AS n FROM duckdb_indexes()")["n"][0]
    assert rows["expires_at"].iloc[0].isoformat() == "2019-10-02T23:12:29+00:00"
    assert indexes == 6  # schema 7 indexed event_resources
    with duckdb.connect(str(path), read_only=True) as connection:
        row = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'")
        assert row.fetchall() == [(str(store.SCHEMA_VERSION),)]


@pytest.mark.parametrize("expiration", ["", "soon", "31/12/2026"])
def test_an_unreadable_expiry_is_no_expiry(tmp_path: Path, expiration: str) -> None:
    trace = traced(tmp_path, session_expiring(expiration))
    session = trace.credentials.set_index("id").loc[f"aws_access_key:{SESSION}"]
    assert pd.isna(session["expires_at"]) and bool(session["expired"]) is False


def test_timeline_rows_say_a_use_after_expiry(tmp_path: Path) -> None:
    """Trace and whole-case timelines flag the late use in `after_expiry` and in words."""
    late = v.cloudtrail("s2", "2026-09-03T12:00:00Z", "GetObject", SESSION)
    trace = traced(tmp_path, session_expiring("Sep 3, 2026 11:00:00 AM", late))
    with ir.open_case(tmp_path / "case.duckdb", read_only=True) as case:
        whole = case.timeline()
    for rows in (trace.timeline(), whole):
        flags = rows.set_index("source_event_id")["after_expiry"].astype(bool).to_dict()
        assert flags == {"u1": False, "i1": False, "s1": False, "s2": True}
        message = rows.set_index("source_event_id")["message"]
        assert message["s2"].endswith(" — used after it expired")
        assert "expired" not in message["s1"]
    out = tmp_path / "timeline.csv"
    case_path = str(tmp_path / "case.duckdb")
    result = CliRunner().invoke(
        app, ["timeline", "--root", KEY, "--case", case_path, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows_written = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["after_expiry"] for r in rows_written] == ["False", "False", "False", "True"]
