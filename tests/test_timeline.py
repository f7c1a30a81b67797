"""Timelines (contract §5): Timesketch-ready CSV/JSONL of the sample incident, formula-safe CSV.

Golden files live in tests/golden/; `IR_UPDATE_GOLDEN=1 pytest tests/test_timeline.py
tests/test_report.py` rewrites them (then read the diff). Evidence paths are absolute
at ingest time, so goldens hold them relative to the repository.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dateutil import parser as dateparser
from typer.testing import CliRunner

import ir
from ir import timeline
from ir.case import Case
from ir.cli import app
from ir.trace import Trace
from tests.conftest import (
    HOSTILE_AGENTS,
    ROOT,
    SAMPLE,
    check_golden,
    hostile_file,
    open_sample,
    relative,
)

# Timesketch's CSV/JSONL importer (timesketch/lib/utils.py): these three are mandatory;
# these columns are scrubbed on import, and `tag` is parsed as a list.
TIMESKETCH_MANDATORY = {"message", "datetime", "timestamp_desc"}
TIMESKETCH_SCRUBBED = {"_id", "_type", "_index", "_source", "__ts_timeline_id"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    with open_sample(tmp_path_factory.mktemp("sample") / "case.duckdb") as case:
        yield case


@pytest.fixture(scope="module")
def traced(sample: Case) -> Trace:
    return sample.trace(token=(SAMPLE / "leaked_token.txt").read_text())


@pytest.fixture(scope="module")
def rows(traced: Trace) -> pd.DataFrame:
    return traced.timeline()


def test_golden_csv(rows: pd.DataFrame) -> None:
    check_golden("sample_timeline.csv", relative(timeline.text(rows, "csv")))


def test_golden_jsonl(rows: pd.DataFrame) -> None:
    check_golden("sample_timeline.jsonl", relative(timeline.text(rows, "jsonl")))


def test_one_row_per_traced_event_sorted_by_time(traced: Trace, rows: pd.DataFrame) -> None:
    events = traced.events.drop_duplicates(["source", "source_event_id"])
    assert len(rows) == len(events) == 141
    assert set(rows["source_event_id"]) == set(events["source_event_id"])
    assert rows["datetime"].is_monotonic_increasing
    assert str(rows["datetime"].dt.tz) == "UTC"
    assert list(rows.columns) == timeline.COLUMNS


def test_csv_imports_into_timesketch_as_it_is(rows: pd.DataFrame, tmp_path: Path) -> None:
    """What Timesketch's importer does with a CSV (read_and_validate_csv), checked row by row."""
    path = tmp_path / "timeline.csv"  # the importer refuses names not ending .csv / .jsonl
    path.write_text(timeline.text(rows, "csv"), encoding="utf-8")
    header = pd.read_csv(path, sep=",", nrows=0)
    assert set(header.columns) >= TIMESKETCH_MANDATORY
    assert not TIMESKETCH_SCRUBBED & set(header.columns)
    assert "tag" not in header.columns
    data = pd.read_csv(path, sep=",")
    parsed = pd.to_datetime(data["datetime"], errors="coerce", utc=True)
    assert parsed.notna().all(), "rows with an unparsable datetime are dropped by Timesketch"
    assert data["datetime"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z").all()
    micros = (parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(1, "us")
    assert (micros == data["timestamp"]).all()
    assert data["timestamp"].is_monotonic_increasing
    assert (data["timestamp_desc"] == "Event time").all()
    assert data["message"].notna().all() and (data["message"].str.len() > 0).all()
    assert data.loc[0, "datetime"] == "2026-09-01T00:25:12Z"
    assert data.loc[0, "timestamp"] == 1788222312000000


def test_jsonl_lines_carry_the_mandatory_fields(rows: pd.DataFrame) -> None:
    lines = timeline.text(rows, "jsonl").splitlines()
    assert len(lines) == 141
    for line in lines:
        row = json.loads(line)
        assert set(row) >= TIMESKETCH_MANDATORY
        assert row["timestamp"] == int(dateparser.parse(row["datetime"]).timestamp() * 1_000_000)


def test_messages_read_as_sentences(rows: pd.DataFrame) -> None:
    by_id = rows.set_index("source_event_id")["message"]
    assert by_id["4b3e90b7-d743-4571-879d-bc121f04a6ff"] == (
        "ci-deployer key AKIAB4QWZLKKE2GRC3WO AssumeRole (role Admin) from 203.0.113.66"
        " → issued ASIARNVY25WXUF5VAB46"
    )
    assert by_id["ada65cc4-68b3-43aa-93c6-9b0ad19f0be9"] == (
        "role Admin key ASIARNVY25WXUF5VAB46 CreateAccessKey (backup-svc) from 203.0.113.66"
        " → issued AKIAU3JLW42SYGMXHT24"
    )
    assert by_id["c8a94814-5ca2-4132-b5f5-c1a051cdf2f9"] == (
        "ci-deployer key AKIAB4QWZLKKE2GRC3WO ListUsers from 203.0.113.66 — failed (AccessDenied)"
    )
    assert by_id["a13475fe-29fd-46b2-a517-6da0f4324d92"] == (
        "ci-deployer key AKIAB4QWZLKKE2GRC3WO ListBuckets from 198.18.7.23"
        " — failed (InvalidClientTokenId) — used after its revocation"
    )
    assert by_id["cd4b9ff5-b409-4893-a6a4-76a3f954dd9e"] == (
        "role Admin key ASIAERVTE74C7DYOALCC ListBuckets from 198.18.7.23"
        " — used after the credential it derives from was revoked"
    )
    revocation = rows[rows["revoked"].notna()].iloc[0]
    assert revocation["message"] == (
        "alice.admin UpdateAccessKey from 198.51.100.20 → revoked AKIAB4QWZLKKE2GRC3WO"
    )
    assert (revocation["credential"], revocation["relation"]) == (ROOT, "revoked")


def test_flags_and_issued_columns(rows: pd.DataFrame) -> None:
    assumed = rows[rows["source_event_id"] == "4b3e90b7-d743-4571-879d-bc121f04a6ff"].iloc[0]
    assert (assumed["credential"], assumed["relation"]) == (ROOT, "used")
    assert assumed["issued"] == ["aws_access_key:ASIARNVY25WXUF5VAB46"]
    assert bool(assumed["new_place"]) is True
    assert int(rows["after_revocation"].sum()) == 3
    assert int(rows["after_ancestor_revocation"].sum()) == 4
    assert int(rows["new_place"].sum()) == 41
    assert rows["evidence_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert rows["evidence"].str.contains(r"\.json\.gz#\d+$").all()


def test_since_until_bound_a_trace_timeline(traced: Trace) -> None:
    window = traced.timeline(since="2026-09-07T00:00:00Z", until="2026-09-07T00:45:25Z")
    # the two revocations and the two refused uses of the root; the ListBuckets at 00:45:25 is out
    assert [t.isoformat() for t in window["datetime"]] == [
        "2026-09-07T00:06:21+00:00",
        "2026-09-07T00:07:24+00:00",
        "2026-09-07T00:30:13+00:00",
        "2026-09-07T00:31:31+00:00",
    ]


def test_case_timeline_holds_every_event(sample: Case, rows: pd.DataFrame) -> None:
    whole = sample.timeline()
    assert len(whole) == 2000
    assert whole["datetime"].is_monotonic_increasing
    traced_late = set(rows.loc[rows["after_revocation"], "source_event_id"])
    assert traced_late <= set(whole.loc[whole["after_revocation"], "source_event_id"])
    assert whole["after_ancestor_revocation"].isna().all()  # a lineage notion: traces only
    window = sample.timeline(since="2026-09-04T15:10:11Z", until="2026-09-04T15:16:07Z")
    assert window["datetime"].min() == pd.Timestamp("2026-09-04T15:10:11Z")
    assert "4b3e90b7-d743-4571-879d-bc121f04a6ff" not in set(window["source_event_id"])
    counted = sample.sql(
        "SELECT count(*) AS n FROM events"
        " WHERE time >= '2026-09-04T15:10:11Z' AND time < '2026-09-04T15:16:07Z'"
    )
    assert len(window) == int(counted["n"].iloc[0])


def test_bad_time_names_itself(sample: Case) -> None:
    with pytest.raises(ValueError, match="not a time: 'soon'"):
        sample.timeline(since="soon")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_neutralise_every_formula_start(start: str) -> None:
    assert timeline.neutralise(f"{start}1+1") == f"'{start}1+1"


def test_neutralise_leaves_the_rest() -> None:
    assert timeline.neutralise("aws-cli/2.15 =x") == "aws-cli/2.15 =x"
    assert timeline.neutralise(1788222312000000) == 1788222312000000
    assert timeline.neutralise(True) is True
    assert timeline.neutralise(None) is None


def read_csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_neutralises_formulas_unless_raw(tmp_path: Path) -> None:
    with ir.open_case(tmp_path / "case.duckdb") as case:
        case.ingest(hostile_file(tmp_path))
        rows = case.trace(ROOT).timeline()
    safe_rows = read_csv(timeline.text(rows, "csv"))
    assert len(safe_rows) == len(HOSTILE_AGENTS)  # a CR inside a cell forges no row
    assert {r["user_agent"] for r in safe_rows} == {"'" + agent for agent in HOSTILE_AGENTS}
    raw = {r["user_agent"] for r in read_csv(timeline.text(rows, "csv", raw=True))}
    assert raw == set(HOSTILE_AGENTS)
    jsonl = {json.loads(line)["user_agent"] for line in timeline.text(rows, "jsonl").splitlines()}
    assert jsonl == set(HOSTILE_AGENTS)  # JSON is data, not a spreadsheet: kept as logged


def test_cli_timeline(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "case.duckdb"
    with ir.open_case(path) as case:
        case.ingest(hostile_file(tmp_path))
    base = ["timeline", "--case", str(path)]
    safe = runner.invoke(app, [*base, "--root", ROOT])
    assert safe.exit_code == 0, safe.output
    assert {r["user_agent"] for r in read_csv(safe.stdout)} == {"'" + a for a in HOSTILE_AGENTS}
    raw = runner.invoke(app, [*base, "--root", ROOT, "--raw"])
    assert {r["user_agent"] for r in read_csv(raw.stdout)} == set(HOSTILE_AGENTS)
    out = tmp_path / "case.jsonl"
    whole = runner.invoke(app, [*base, "--format", "jsonl", "--out", str(out)])
    assert whole.exit_code == 0 and whole.stdout == ""
    assert len(out.read_text().splitlines()) == len(HOSTILE_AGENTS)
    report = runner.invoke(app, [*base, "--format", "md"])
    assert report.exit_code == 2 and "--root, --token-file" in report.output
    missing = runner.invoke(app, [*base, "--root", "aws_access_key:AKIAAAAAAAAAAAAAAAAA"])
    assert missing.exit_code == 3
    bad = runner.invoke(app, [*base, "--since", "soon"])
    assert bad.exit_code == 2 and "not a time" in bad.output
    assert "Example: ir timeline" in runner.invoke(app, ["timeline", "--help"]).output
