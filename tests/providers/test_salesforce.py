"""The Salesforce client against the local REST API: revoke, freeze, sessions, SOQL pages, LogFile bytes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ir.errors import MissingSetting
from ir.providers.http import AuthError, Gone, Secret
from ir.providers.salesforce import SalesforceClient
from tests.servers.fixtures import SALESFORCE_TOKEN, Sleeps, assert_hidden, settings
from tests.servers.salesforce import FIXTURES, SalesforceApi

JAN_1 = datetime(2026, 1, 1, tzinfo=timezone.utc)

DANA = "0055j000000utlPAAQ"
APP_TOKEN = "5Aep861DeleteTokenForDriftSync0001"
DRIFT_ACCESS = "00D5j000000VI3n!AQ0AQDriftSyncLeakedAccess"


def client(api: SalesforceApi, sleeps: Sleeps, **env: str) -> SalesforceClient:
    return SalesforceClient.from_env({**settings(api), **env}, sleep=sleeps)


def seed(api: SalesforceApi) -> None:
    api.objects["UserLogin"] = [{"Id": "0Yw5j0000000001", "UserId": DANA, "IsFrozen": False}]
    api.objects["AuthSession"] = [
        {"Id": f"0Ak5j00000000{n}", "UsersId": DANA, "SessionType": "OauthApprovedApp"}
        for n in range(1, 6)
    ]
    api.objects["OauthToken"] = [
        {"Id": "0CQ1", "UserId": DANA, "AppName": "Drift Sync", "DeleteToken": APP_TOKEN}
    ]
    api.revocable = {APP_TOKEN}
    api.access_tokens.add(DRIFT_ACCESS)


def test_missing_settings_are_named() -> None:
    with pytest.raises(MissingSetting) as caught:
        SalesforceClient.from_env({})
    assert (
        str(caught.value) == "salesforce: set IR_SALESFORCE_INSTANCE_URL, SALESFORCE_ACCESS_TOKEN"
    )


def test_revoke_is_unauthenticated_and_400_invalid_token_means_done(
    salesforce_api: SalesforceApi, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed(salesforce_api)
    sf = client(salesforce_api, sleeps)
    assert sf.revoke_token(Secret(DRIFT_ACCESS)) is True
    assert sf.revoke_token(Secret(DRIFT_ACCESS)) is False
    assert DRIFT_ACCESS not in salesforce_api.access_tokens
    assert all("authorization" not in r.headers for r in salesforce_api.requests)
    assert_hidden([DRIFT_ACCESS, SALESFORCE_TOKEN], caplog.text)


def test_connected_app_tokens_are_found_by_soql_and_revoked(
    salesforce_api: SalesforceApi, sleeps: Sleeps
) -> None:
    seed(salesforce_api)
    sf = client(salesforce_api, sleeps)
    rows = sf.query(f"SELECT DeleteToken, AppName FROM OauthToken WHERE UserId='{DANA}'")
    assert [r["AppName"] for r in rows] == ["Drift Sync"]
    assert sf.revoke_token(Secret(rows[0]["DeleteToken"])) is True
    assert sf.query(f"SELECT DeleteToken FROM OauthToken WHERE UserId='{DANA}'") == []


def test_freeze_and_end_sessions_across_query_pages(
    salesforce_api: SalesforceApi, sleeps: Sleeps
) -> None:
    seed(salesforce_api)
    sf = client(salesforce_api, sleeps)
    sf.freeze_user("0Yw5j0000000001")
    assert sf.query(f"SELECT IsFrozen FROM UserLogin WHERE UserId='{DANA}'")[0]["IsFrozen"] is True
    pages = list(sf.query_pages(f"SELECT Id FROM AuthSession WHERE UsersId='{DANA}'"))
    assert [len(p.items) for p in pages] == [2, 2, 1]
    for session_id in [r["Id"] for p in pages for r in p.items]:
        sf.delete_session(session_id)
    with pytest.raises(Gone) as caught:
        sf.delete_session("0Ak5j000000001")
    assert caught.value.code == "ENTITY_IS_DELETED"
    assert sf.query(f"SELECT Id FROM AuthSession WHERE UsersId='{DANA}'") == []


def test_event_log_files_in_the_window_and_their_bytes(
    salesforce_api: SalesforceApi, sleeps: Sleeps
) -> None:
    sf = client(salesforce_api, sleeps)
    rows = [
        r
        for p in sf.event_log_file_pages(since=JAN_1, until=JAN_1 + timedelta(days=1))
        for r in p.items
    ]
    assert [r["EventType"] for r in rows] == ["Login", "RestApi"]
    assert (
        sf.log_file(rows[0]["Id"]).content
        == (FIXTURES / "salesforce" / "eventlogfile-login.csv").read_bytes()
    )
    later = JAN_1 + timedelta(days=1)
    assert [r for p in sf.event_log_file_pages(since=later) for r in p.items] == []
    assert salesforce_api.requests[0].path == "/services/data/v60.0/query"
    assert salesforce_api.requests[0].arg("q") == (
        "SELECT Id, EventType, LogDate, Interval, Sequence, LogFileLength FROM EventLogFile"
        " WHERE LogDate >= 2026-01-01T00:00:00Z AND LogDate < 2026-01-02T00:00:00Z"
        " ORDER BY LogDate, EventType, Sequence"
    )


@pytest.mark.parametrize(
    "since",
    [
        "2026-01-01T00:00:00Z OR Id != null",  # text: what the old code put into SOQL as it was
        datetime(2026, 1, 1),  # naive: whose midnight?
    ],
)
def test_the_window_is_only_ever_an_aware_datetime(
    salesforce_api: SalesforceApi, sleeps: Sleeps, since: Any
) -> None:
    with pytest.raises(TypeError):
        next(client(salesforce_api, sleeps).event_log_file_pages(since=since))
    assert salesforce_api.requests == []


def test_expired_token_names_the_setting(salesforce_api: SalesforceApi, sleeps: Sleeps) -> None:
    bad = "00D5j000000VI3n!AQ0AQExpiredToken"
    with pytest.raises(AuthError) as caught:
        client(salesforce_api, sleeps, SALESFORCE_ACCESS_TOKEN=bad).query(
            "SELECT Id FROM UserLogin"
        )
    assert (caught.value.status, caught.value.code) == (401, "INVALID_SESSION_ID")
    assert "Session expired or invalid" in str(
        caught.value
    ) and "check SALESFORCE_ACCESS_TOKEN" in str(caught.value)
    assert_hidden([bad, SALESFORCE_TOKEN], str(caught.value), repr(caught.value))


def test_429_and_5xx_are_retried(salesforce_api: SalesforceApi, sleeps: Sleeps) -> None:
    salesforce_api.throttle(1, retry_after=5)
    salesforce_api.fail(1, status=500)
    assert len(client(salesforce_api, sleeps).query("SELECT Id FROM EventLogFile")) == 2
    assert sleeps == [5.0, 2.0]  # Retry-After, then the second attempt's backoff
