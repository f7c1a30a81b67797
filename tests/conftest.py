"""Shared test helpers: a fresh case per test, and the case read back as golden rows.

Golden rows are what a responder can check by eye against the vendor record:
one dict per event with its credential refs nested, times as ISO 8601 `Z`.
"""

from __future__ import annotations

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
        " strftime(expires_at, '%Y-%m-%dT%H:%M:%S.%f') FROM credential_refs"
    ).fetchall():
        ref = dict(zip(REF_FIELDS, row[1:-1], strict=True))
        if row[-1] is not None:  # only where the vendor logs an expiry
            ref["expires_at"] = iso_z(row[-1])
        refs.setdefault(row[0], []).append(ref)
    result = []
    for event_key, *values in events:
        row = dict(zip(EVENT_FIELDS, values, strict=True))
        row["time"] = iso_z(row["time"])
        row["refs"] = sorted(
            refs.get(event_key, []), key=lambda r: tuple(str(r[f]) for f in REF_FIELDS)
        )
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
