"""The Salesforce connector end to end on the sample incident's stolen connected-app token."""

from __future__ import annotations

import pytest

from ir.case import Case
from ir.errors import UsageError
from ir.playbooks.connectors import connector
from ir.playbooks.connectors.base import (
    ALREADY_DONE,
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    PlanChoices,
    Secrets,
    Step,
)
from tests.servers.fixtures import settings
from tests.servers.salesforce import SalesforceApi

ROOT = "salesforce_connected_app:0H47Q000000Zmj6"
BREEZE_USER = "0055j000000TRlzAAG"
OTHER_USER = "0055j000000utlPAAQ"


@pytest.fixture
def salesforce(salesforce_api: SalesforceApi, monkeypatch: pytest.MonkeyPatch) -> SalesforceApi:
    for name, value in settings(salesforce_api).items():
        monkeypatch.setenv(name, value)
    salesforce_api.objects["OauthToken"] = [
        {"Id": "0CQ1", "UserId": BREEZE_USER, "AppName": "Breeze", "DeleteToken": "del-breeze-1"},
        {"Id": "0CQ2", "UserId": BREEZE_USER, "AppName": "Breeze", "DeleteToken": "del-breeze-2"},
        {"Id": "0CQ3", "UserId": OTHER_USER, "AppName": "Outlook", "DeleteToken": "del-other"},
    ]
    salesforce_api.revocable = {"del-breeze-1", "del-breeze-2", "del-other"}
    salesforce_api.objects["AuthSession"] = [
        *({"Id": f"0Ak5j0000000B{n}", "UsersId": BREEZE_USER} for n in range(3)),
        {"Id": "0Ak5j0000000Z1", "UsersId": OTHER_USER},
    ]
    salesforce_api.objects["UserLogin"] = [
        {"Id": "0Yw5j0000000B01", "UserId": BREEZE_USER, "IsFrozen": False},
        {"Id": "0Yw5j0000000Z01", "UserId": OTHER_USER, "IsFrozen": False},
    ]
    return salesforce_api


def test_plan_dry_run_execute_rerun_verify(sample_case: Case, salesforce: SalesforceApi) -> None:
    module = connector("salesforce")
    steps = module.plan(sample_case.trace(ROOT), PlanChoices(quarantine=True))
    assert [(s.action, s.target) for s in steps] == [
        ("revoke_app_tokens", ROOT),
        ("end_user_sessions", f"salesforce_user:{BREEZE_USER}"),
        ("freeze_user", f"salesforce_user:{BREEZE_USER}"),
    ]
    assert len(steps[1].credentials) == 24  # the 12 logins and their 12 sessions
    module.check_settings()
    assert module.calls(steps[0])[1].api == "POST /services/oauth2/revoke"
    assert salesforce.requests == []

    assert [module.verify(s, Secrets()).status for s in steps] == [NOT_VERIFIED] * 3
    assert [module.execute(s, Secrets()).status for s in steps] == [DONE] * 3
    assert [t["Id"] for t in salesforce.objects["OauthToken"]] == ["0CQ3"]
    assert [s["Id"] for s in salesforce.objects["AuthSession"]] == ["0Ak5j0000000Z1"]
    assert [u["IsFrozen"] for u in salesforce.objects["UserLogin"]] == [True, False]
    assert [module.execute(s, Secrets()).status for s in steps] == [ALREADY_DONE] * 3
    assert [module.verify(s, Secrets()).status for s in steps] == [VERIFIED] * 3


def test_a_user_id_that_could_inject_soql_is_refused(salesforce: SalesforceApi) -> None:
    edited = Step(
        "salesforce",
        "end_user_sessions",
        "salesforce_user:x",
        "",
        {},
        options={"user_id": "005' OR Id!='"},
    )
    with pytest.raises(UsageError, match="not a Salesforce user id"):
        connector("salesforce").execute(edited, Secrets())
    assert salesforce.requests == []
