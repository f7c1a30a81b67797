"""The local vendor APIs as fixtures, and a way to run one collection against them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ir
from ir import collectors
from ir.case import Case
from tests.servers.base import FakeApi
from tests.servers.fixtures import *  # noqa: F403  (pytest fixtures)
from tests.servers.fixtures import Sleeps, settings


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    opened = ir.open_case(tmp_path / "case.duckdb")
    yield opened
    opened.close()


class Runner:
    """`ir collect` in-process: one provider, settings pointing at its local server, waits
    recorded rather than slept, every progress report kept (and a hook to act mid-run)."""

    def __init__(self, case: Case, out: Path, sleeps: Sleeps) -> None:
        self.case, self.out, self.sleeps = case, out, sleeps
        self.progress: list[collectors.Progress] = []
        self.on_page: Callable[[collectors.Progress], None] | None = None

    def __call__(
        self, provider: str, api: FakeApi | None, env: dict[str, str] | None = None, **kw: Any
    ) -> collectors.Collection:
        environment = {**(settings(api) if api is not None else {}), **(env or {})}
        return collectors.run(
            self.case.store,
            provider,
            out=self.out,
            env=environment,
            report=self.report,
            sleep=self.sleeps,
            after_load=None,
            **kw,
        )

    def report(self, progress: collectors.Progress) -> None:
        self.progress.append(progress)
        if self.on_page is not None and progress.waiting is None:
            self.on_page(progress)


@pytest.fixture
def run(case: Case, tmp_path: Path, sleeps: Sleeps) -> Runner:
    return Runner(case, tmp_path / "evidence", sleeps)


def files(out: Path) -> dict[str, bytes]:
    """Every file under `out`, by its path relative to it."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def served_bodies(api: FakeApi, path_part: str) -> list[bytes]:
    """The bodies of the successful answers to requests whose path holds `path_part`."""
    return [
        body for request, status, body in api.served if status == 200 and path_part in request.path
    ]
