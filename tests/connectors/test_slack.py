"""The Slack connector end to end on a case of real-shape Slack audit records, against the local Web API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ir
from ir.case import Case
from ir.playbooks.connectors import connector
from ir.playbooks.connectors.base import (
    ALREADY_DONE,
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    PlanChoices,
    Secrets,
)
from tests.servers.fixtures import settings
from tests.servers.slack import FIXTURES, SlackApi

ROOT = "slack_session:7731002209113"


@pytest.fixture(scope="module")
def slack_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    case = ir.open_case(tmp_path_factory.mktemp("slack") / "case.duckdb")
    case.ingest(str(FIXTURES / "slack" / "audit-page.json"))
    yield case
    case.close()


@pytest.fixture
def slack(slack_api: SlackApi, monkeypatch: pytest.MonkeyPatch) -> SlackApi:
    for name, value in settings(slack_api).items():
        monkeypatch.setenv(name, value)
    slack_api.users = {"W0A1B2C3D", "W0OTHER"}
    slack_api.sessions = [
        {
            "session_id": 7731002209113,
            "user_id": "W0A1B2C3D",
            "team_id": "T0AA11BB2",
            "type": "web",
        },
        {
            "session_id": 7731002209999,
            "user_id": "W0A1B2C3D",
            "team_id": "T0AA11BB2",
            "type": "mobile",
        },
        {"session_id": 5550001, "user_id": "W0OTHER", "team_id": "T0AA11BB2", "type": "web"},
    ]
    return slack_api


def test_plan_dry_run_execute_rerun_verify(slack_case: Case, slack: SlackApi) -> None:
    module = connector("slack")
    steps = module.plan(slack_case.trace(ROOT), PlanChoices())
    assert [(s.action, s.target) for s in steps] == [
        ("invalidate_session", ROOT),
        ("reset_user_sessions", "slack_user:W0A1B2C3D"),
    ]
    module.check_settings()
    assert [c.api for c in module.calls(steps[0])] == ["POST /admin.users.session.invalidate"]
    assert slack.requests == []

    assert [module.verify(s, Secrets()).status for s in steps] == [NOT_VERIFIED] * 2
    assert [module.execute(s, Secrets()).status for s in steps] == [DONE] * 2
    assert [s["session_id"] for s in slack.sessions] == [5550001]
    assert [module.execute(s, Secrets()).status for s in steps] == [ALREADY_DONE, DONE]
    assert [module.verify(s, Secrets()).status for s in steps] == [VERIFIED] * 2
