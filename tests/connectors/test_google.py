"""The Google connector end to end on the sample incident's abused OAuth client, against the local Admin SDK."""

from __future__ import annotations

import pytest

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
from tests.servers.google import GoogleApi

CLIENT = "526517594216-refu3llrfspzp2p9eg0iqdvmny5y7vug.apps.googleusercontent.com"
ROOT = f"google_oauth_client:{CLIENT}"
USERS = ("nora@corp.example", "theo@corp.example", "ivy@corp.example")


@pytest.fixture
def google(google_api: GoogleApi, monkeypatch: pytest.MonkeyPatch) -> GoogleApi:
    for name, value in settings(google_api).items():
        monkeypatch.setenv(name, value)
    other = {"clientId": "calendar-sync", "displayText": "Calendar Sync"}
    google_api.user_tokens = {
        user: {CLIENT: {"clientId": CLIENT, "displayText": "Breeze"}, "calendar-sync": dict(other)}
        for user in (*USERS, "zoe@corp.example")
    }
    return google_api


def test_plan_dry_run_execute_rerun_verify(sample_case: Case, google: GoogleApi) -> None:
    module = connector("google")
    steps = module.plan(sample_case.trace(ROOT), PlanChoices())
    assert sorted(s.target for s in steps) == sorted(
        f"google_oauth_grant:{CLIENT}/{u}" for u in USERS
    )
    assert {s.action for s in steps} == {"delete_oauth_grant"}
    module.check_settings()
    assert module.calls(steps[0])[1].api.startswith("DELETE /admin/directory/v1/users/")
    assert google.requests == []

    assert [module.verify(s, Secrets()).status for s in steps] == [NOT_VERIFIED] * 3
    assert [module.execute(s, Secrets()).status for s in steps] == [DONE] * 3
    assert {u: sorted(t) for u, t in google.user_tokens.items()} == {
        **{u: ["calendar-sync"] for u in USERS},
        "zoe@corp.example": sorted([CLIENT, "calendar-sync"]),  # not traced: untouched
    }
    assert [module.execute(s, Secrets()).status for s in steps] == [ALREADY_DONE] * 3
    assert [module.verify(s, Secrets()).status for s in steps] == [VERIFIED] * 3
