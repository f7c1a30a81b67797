"""The local vendor APIs, and one case of the sample incident shared by the connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ir
from ir.case import Case
from tests.servers.fixtures import *  # noqa: F403  (pytest fixtures)

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"


@pytest.fixture(scope="session")
def sample_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    """The sample incident ingested once (read-only for the tests: they only trace it)."""
    case = ir.open_case(tmp_path_factory.mktemp("sample") / "case.duckdb")
    case.ingest(str(SAMPLE_LOGS))
    yield case
    case.close()
