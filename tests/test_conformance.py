"""Real vendor samples: every listed file loads completely.

The samples live in ../shared/conformance beside the repository; a copy rides
in tests/conformance (with SOURCES.md: origins and licences) so a clone on its
own still runs them, and a test keeps the copy identical to the shared folder.

Driven by expected.jsonl: detected source, record count, no rejects, every
record accounted for, every listed credential id referenced. A file whose
source has no parser yet is skipped by name, so a new parser in
registry.SOURCES brings its samples into play by itself. Vendor ids repeat in
these samples with different content (FIELD_NOTES §14): all of them must load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ir.case import Case
from parsers import registry

SHARED = Path(__file__).resolve().parents[2] / "shared" / "conformance"
VENDORED = Path(__file__).resolve().parent / "conformance"
CONFORMANCE = SHARED if (SHARED / "expected.jsonl").is_file() else VENDORED


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_vendored_copy_matches_the_shared_samples() -> None:
    if not (SHARED / "expected.jsonl").is_file():
        pytest.skip("../shared/conformance is not beside this checkout; the vendored copy is used")
    assert _tree(VENDORED) == _tree(SHARED), "refresh tests/conformance from ../shared/conformance"


def _expectations() -> list[dict[str, Any]]:
    lines = (CONFORMANCE / "expected.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


EXPECTATIONS = _expectations()


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=[e["file"] for e in EXPECTATIONS])
def test_sample_loads_completely(expected: dict[str, Any], case: Case) -> None:
    if expected["source"] not in registry.SOURCES:
        pytest.skip(f"no parser for source '{expected['source']}' in registry.SOURCES yet")
    (report,) = case.ingest(CONFORMANCE / expected["file"])
    assert report.error is None
    assert report.source == expected["source"]
    assert report.records == expected["records"]
    assert report.rejected == 0
    assert report.loaded + report.duplicates == expected["records"]
    assert report.loaded == _distinct_records(CONFORMANCE / expected["file"])
    referenced = case.connection.execute("SELECT DISTINCT credential FROM credential_refs")
    assert set(expected["credential_ids"]) <= {row[0] for row in referenced.fetchall()}


def _distinct_records(path: Path) -> int:
    """Only byte-for-byte re-deliveries are duplicates; every sample here is one record a line."""
    lines = path.read_text().splitlines()
    return len({json.dumps(json.loads(line), sort_keys=True) for line in lines if line.strip()})


def test_repeated_vendor_ids_with_different_content_all_load(case: Case) -> None:
    """elastic-console-login: records 2 and 3 share an eventID but differ (FIELD_NOTES §14)."""
    (report,) = case.ingest(CONFORMANCE / "aws_cloudtrail" / "elastic-console-login.log")
    assert (report.loaded, report.duplicates) == (3, 0)
    ids = [
        row[0]
        for row in case.connection.execute(
            "SELECT source_event_id FROM events ORDER BY record_no"
        ).fetchall()
    ]
    assert ids[:2] == ["3fcfb182-98f8-4744-bd45-10aEXAMPLE", "11ea990b-4678-4bcd-8fbe-625EXAMPLE"]
    assert ids[2].startswith("11ea990b-4678-4bcd-8fbe-625EXAMPLE#")
