"""What the case holds, the same through the notebook API and the CLI (one query each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import parsers
from ir.case import Case
from ir.cli import app
from ir.credentials import KINDS
from ir.errors import IrError, NotFound, UsageError
from tests import vendor_records as v

runner = CliRunner()


@pytest.fixture
def loaded(case: Case, tmp_path: Path) -> Case:
    logs = tmp_path / "logs"
    timeless = v.cloudtrail("e3", "2026-09-01T00:02:00Z", "ListUsers", "AKIACONTENTS00000001")
    del timeless["eventTime"]
    v.write_cloudtrail(
        logs / "ct.json",
        [
            v.cloudtrail("e1", "2026-09-01T00:00:00Z", "ListBuckets", "AKIACONTENTS00000001"),
            v.assume_role(
                "e2", "2026-09-01T00:01:00Z", "AKIACONTENTS00000001", "ASIACONTENTS00000001"
            ),
            timeless,
        ],
    )
    case.ingest(logs)
    return case


def test_sources_list_every_parser_in_detection_order_with_what_the_case_holds(
    loaded: Case,
) -> None:
    frame = loaded.sources()
    assert frame["source"].tolist() == list(parsers.SOURCES)
    cloudtrail = frame.set_index("source").loc["aws_cloudtrail"]
    assert (cloudtrail["files"], cloudtrail["events"]) == (1, 2)
    assert frame.set_index("source").loc["slack", "events"] == 0
    assert all(frame["what"].str.len() > 0)


def test_kinds_count_credentials_and_references(loaded: Case) -> None:
    frame = loaded.kinds().set_index("kind")
    assert list(frame.index) == [k.name for k in KINDS]
    # AKIA: used + issued-by (parent) -> one credential; ASIA: issued -> one credential
    assert frame.loc["aws_access_key", "credentials"] == 2
    assert frame.loc["okta_session", "credentials"] == 0


def test_rejects_name_file_record_and_reason(loaded: Case) -> None:
    frame = loaded.rejects()
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["file"].endswith("ct.json") and row["record_no"] == 3
    assert row["source"] == "aws_cloudtrail" and "time" in row["reason"]
    assert loaded.rejects(limit=1).equals(frame)


def test_cli_and_api_give_the_same_rows(loaded: Case) -> None:
    path = str(loaded.path)
    loaded.close()
    result = runner.invoke(app, ["kinds", "--case", path, "--format", "json"])
    assert result.exit_code == 0
    by_kind = {row["kind"]: row for row in json.loads(result.stdout)}
    assert by_kind["aws_access_key"]["credentials"] == 2


def test_sources_and_kinds_work_before_a_case_exists(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sources", "--case", str(tmp_path / "none.duckdb"), "-f", "csv"])
    assert result.exit_code == 0 and "aws_cloudtrail" in result.stdout
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize(("error", "status"), [(IrError, 1), (UsageError, 2), (NotFound, 3)])
def test_library_errors_become_one_line_and_their_exit_status(
    error: type[IrError], status: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*_: object) -> None:
        raise error("evidence.json#3: the reason, said once")

    monkeypatch.setattr("ir.contents.stats", refuse)
    case_path = tmp_path / "c.duckdb"
    runner.invoke(app, ["ingest", str(tmp_path / "missing"), "--case", str(case_path)])
    result = runner.invoke(app, ["stats", "--case", str(case_path)])
    assert result.exit_code == status
    assert result.stderr.strip() == "error: evidence.json#3: the reason, said once"
    assert "Traceback" not in result.stderr
