"""`ir collect` as responders and scripts meet it: the per-file JSON of `ir ingest`, the
summary table, one line on stderr and exit 1 for a refusal, no secret anywhere."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ir.cli import app
from tests.servers.fixtures import OKTA_TOKEN, settings
from tests.servers.okta import OktaApi

SCHEMAS = json.loads((Path(__file__).parents[1] / "contract" / "schemas.json").read_text())
WINDOW = ["--since", "2026-09-02T00:00:00Z", "--until", "2026-09-03T00:00:00Z"]
runner = CliRunner()


@pytest.fixture
def okta_env(okta_api: OktaApi, monkeypatch: pytest.MonkeyPatch) -> OktaApi:
    for name, value in settings(okta_api).items():
        monkeypatch.setenv(name, value)
    return okta_api


def collect(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    where = ["--case", str(tmp_path / "case.duckdb"), "--out", str(tmp_path / "evidence")]
    result = runner.invoke(app, ["collect", *args, *where])
    return result.exit_code, result.stdout, result.stderr


def test_json_is_the_ingest_file_list(okta_env: OktaApi, tmp_path: Path) -> None:
    status, out, err = collect(tmp_path, "okta", *WINDOW, "--format", "json")
    assert status == 0, err
    reports = json.loads(out)
    jsonschema.validate(reports, SCHEMAS["ingest"])
    assert [(r["source"], r["records"], r["loaded"]) for r in reports] == [("okta", 2, 2)] * 3
    assert all(Path(r["file"]).read_bytes() for r in reports)
    again = json.loads(collect(tmp_path, "okta", *WINDOW, "--format", "json")[1])
    assert [(r["loaded"], r["skipped"]) for r in again] == [(0, True)] * 3


def test_the_table_sums_up_each_stream(okta_env: OktaApi, tmp_path: Path) -> None:
    status, out, _ = collect(tmp_path, "okta", *WINDOW)
    assert status == 0
    assert "collected, per stream" in out
    row = next(line for line in out.splitlines() if " logs " in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == [
        "logs",
        "okta",
        "2026-09-02T00:00:00Z",
        "2026-09-03T00:00:00Z",
        "3",
        "6",
        "6",
        "0",
        "0",
        "False",
    ]


def test_a_refusal_is_one_line_and_exit_1(
    okta_env: OktaApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = "00aRefusedTokenValue00000000000000000000"
    monkeypatch.setenv("OKTA_CLIENT_TOKEN", refused)
    status, out, err = collect(tmp_path, "okta", *WINDOW)
    assert status == 1
    assert err.count("error:") == 1 and "OKTA_CLIENT_TOKEN" in err and "okta.logs.read" in err
    for text in (out, err):
        assert refused not in text and OKTA_TOKEN not in text


def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IR_OKTA_ORG_URL", "OKTA_CLIENT_ORGURL", "OKTA_CLIENT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    status, _, err = collect(tmp_path, "okta")
    assert status == 2 and "set IR_OKTA_ORG_URL or OKTA_CLIENT_ORGURL, OKTA_CLIENT_TOKEN" in err
    status, _, err = collect(tmp_path, "jira")
    assert status == 2 and "no collector for 'jira'" in err
    status, _, err = collect(tmp_path, "okta", "--since", "last week")
    assert status == 2 and "not a time" in err


def test_a_rate_limit_wait_is_said_on_stderr(okta_env: OktaApi, tmp_path: Path) -> None:
    okta_env.throttle(reset=int(time.time()) + 1)
    status, _, err = collect(tmp_path, "okta", *WINDOW)
    assert status == 0 and "okta: waiting" in err and "(provider asked)" in err


def test_the_cli_names_every_collector_without_loading_them() -> None:
    """`ir --help` spells the providers itself (so it loads no client); the lists agree."""
    from ir import collectors
    from ir.cli import collect

    assert collect.PROVIDERS == collectors.PROVIDERS
