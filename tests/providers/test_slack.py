"""The Slack client against the local Web API and Audit Logs API: ok:false mapping, sessions, revoke, logs."""

from __future__ import annotations

import logging
import re

import pytest

from ir.errors import MissingSetting
from ir.providers.http import AuthError, Gone, Secret
from ir.providers.slack import SlackClient
from tests.servers.fixtures import SLACK_TOKEN, Sleeps, assert_hidden, settings
from tests.servers.slack import SlackApi, audit_entries

LEAKED = "xoxp-9999-8888-7777-LeakedUserTokenInARepo"


def client(api: SlackApi, sleeps: Sleeps, **env: str) -> SlackClient:
    return SlackClient.from_env({**settings(api), **env}, sleep=sleeps)


def seed(api: SlackApi) -> None:
    api.users = {"W0A1B2C3D", "W0MALLORY"}
    api.sessions = [
        {
            "session_id": 7731002209113,
            "user_id": "W0A1B2C3D",
            "team_id": "T0AA11BB2",
            "type": "web",
        },
        {
            "session_id": 7731002209114,
            "user_id": "W0A1B2C3D",
            "team_id": "T0AA11BB2",
            "type": "mobile",
        },
        {
            "session_id": 7731002209200,
            "user_id": "W0MALLORY",
            "team_id": "T0AA11BB2",
            "type": "web",
        },
    ]


def test_missing_token_is_named() -> None:
    with pytest.raises(MissingSetting, match=r"^slack: set SLACK_TOKEN$"):
        SlackClient.from_env({})


def test_session_reset_and_invalidate(slack_api: SlackApi, sleeps: Sleeps) -> None:
    seed(slack_api)
    slack = client(slack_api, sleeps)
    slack.invalidate_session(7731002209200, "W0MALLORY")
    with pytest.raises(Gone) as caught:
        slack.invalidate_session(7731002209200, "W0MALLORY")
    assert caught.value.code == "session_not_found"
    assert [s["session_id"] for s in slack.sessions("W0A1B2C3D")] == [7731002209113, 7731002209114]
    slack.reset_sessions("W0A1B2C3D")
    slack.reset_sessions("W0A1B2C3D")  # harmless to repeat
    assert slack_api.sessions == []
    assert slack_api.requests[0].headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert slack_api.requests[0].path == "/api/admin.users.session.invalidate"


def test_unknown_user_is_gone(slack_api: SlackApi, sleeps: Sleeps) -> None:
    with pytest.raises(Gone, match="user_not_found"):
        client(slack_api, sleeps).reset_sessions("W0NOBODY")


def test_auth_revoke_uses_the_leaked_token_itself(
    slack_api: SlackApi, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack_api.tokens[LEAKED] = set()
    slack = client(slack_api, sleeps)
    assert slack.revoke_token(Secret(LEAKED)) is True
    assert LEAKED not in slack_api.tokens and SLACK_TOKEN in slack_api.tokens
    assert slack.revoke_token(Secret(LEAKED)) is False  # already dead: invalid_auth
    assert slack_api.requests[0].headers["authorization"] == f"Bearer {LEAKED}"
    assert_hidden([LEAKED, SLACK_TOKEN], caplog.text)


def test_http_200_invalid_auth_names_the_setting(slack_api: SlackApi, sleeps: Sleeps) -> None:
    bad = "xoxp-0000-0000-0000-WrongToken"
    with pytest.raises(AuthError) as caught:
        client(slack_api, sleeps, SLACK_TOKEN=bad).reset_sessions("W0A1B2C3D")
    assert (caught.value.status, caught.value.code) == (200, "invalid_auth")
    assert "check SLACK_TOKEN" in str(caught.value)
    assert_hidden([bad, SLACK_TOKEN], str(caught.value), repr(caught.value))


def test_missing_scope_names_the_needed_scope(slack_api: SlackApi, sleeps: Sleeps) -> None:
    slack_api.tokens[SLACK_TOKEN] = {"auditlogs:read"}
    with pytest.raises(AuthError, match=re.escape("SLACK_TOKEN needs admin.users:write")) as caught:
        client(slack_api, sleeps).reset_sessions("W0A1B2C3D")
    assert caught.value.code == "missing_scope"


def test_429_waits_retry_after(slack_api: SlackApi, sleeps: Sleeps) -> None:
    seed(slack_api)
    slack_api.throttle(3, retry_after=30)
    client(slack_api, sleeps).reset_sessions("W0MALLORY")
    assert sleeps == [30.0, 30.0, 30.0]
    assert [s["user_id"] for s in slack_api.sessions] == ["W0A1B2C3D", "W0A1B2C3D"]


def test_audit_logs_follow_the_cursor_in_the_window(slack_api: SlackApi, sleeps: Sleeps) -> None:
    slack = client(slack_api, sleeps)
    pages = list(slack.audit_pages())
    assert [e["id"] for p in pages for e in p.items] == [e["id"] for e in audit_entries()]
    assert len(pages) == 4 and pages[0].request.url == f"{slack_api.url}/audit/v1/logs"
    created = [e["date_create"] for e in audit_entries()]
    window = [
        e["date_create"]
        for p in slack.audit_pages(oldest=created[2], latest=created[4])
        for e in p.items
    ]
    assert window == created[2:5]


def test_audit_logs_auth_failure_is_terminal(slack_api: SlackApi, sleeps: Sleeps) -> None:
    with pytest.raises(AuthError, match="check SLACK_TOKEN"):
        list(client(slack_api, sleeps, SLACK_TOKEN="xoxp-wrong").audit_pages())
    assert sleeps == []
