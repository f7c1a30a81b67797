"""The Entra/Graph client against the local token endpoint and Graph: token, revocations, limits, logs."""

from __future__ import annotations

import logging
import re

import pytest

from ir.errors import MissingSetting
from ir.providers.entra import EntraClient
from ir.providers.http import AuthError, Gone, Rejected
from tests.servers.entra import EntraApi, fixture_records
from tests.servers.fixtures import ENTRA_SECRET, Sleeps, assert_hidden, settings

ALICE = "2b7e4c1d-0a9f-4e3b-8c6d-5f1a2b3c4d01"
APP = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"


def client(api: EntraApi, sleeps: Sleeps, **env: str) -> EntraClient:
    return EntraClient.from_env({**settings(api), **env}, sleep=sleeps)


def seed(api: EntraApi) -> None:
    api.users = {
        ALICE: {
            "id": ALICE,
            "userPrincipalName": "alice@corp.example",
            "accountEnabled": True,
            "signInSessionsValidFromDateTime": "2026-01-01T00:00:00Z",
        },
    }
    api.applications = {
        APP: {
            "id": APP,
            "passwordCredentials": [{"keyId": "k-leaked", "displayName": "ci", "hint": "Qx8"}],
        },
    }


def test_missing_client_settings_are_named_together() -> None:
    with pytest.raises(MissingSetting) as caught:
        EntraClient.from_env({"AZURE_CLIENT_ID": "x"})
    assert str(caught.value) == "entra: set AZURE_TENANT_ID, AZURE_CLIENT_SECRET"


def test_token_then_bearer_then_revoke_sessions_every_time(
    entra_api: EntraApi, sleeps: Sleeps
) -> None:
    seed(entra_api)
    entra = client(entra_api, sleeps)
    assert entra.revoke_sign_in_sessions("alice@corp.example") is True
    first = entra_api.users[ALICE]["signInSessionsValidFromDateTime"]
    assert first > "2026-01-01T00:00:00Z"
    assert entra.revoke_sign_in_sessions(ALICE) is True  # idempotent: true again
    token_calls = [r for r in entra_api.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert len(token_calls) == 1  # the token is cached
    assert token_calls[0].path == f"/{settings(entra_api)['AZURE_TENANT_ID']}/oauth2/v2.0/token"
    assert token_calls[0].form()["scope"] == f"{entra_api.url}/.default"
    graph = [r for r in entra_api.requests if r.path.startswith("/v1.0/")]
    assert all(r.headers["authorization"] == f"Bearer {entra_api.issued[0]}" for r in graph)
    selected = entra.user(ALICE, select="signInSessionsValidFromDateTime")
    assert selected == {
        "signInSessionsValidFromDateTime": entra_api.users[ALICE]["signInSessionsValidFromDateTime"]
    }


def test_unknown_user_is_gone(entra_api: EntraApi, sleeps: Sleeps) -> None:
    with pytest.raises(Gone) as caught:
        client(entra_api, sleeps).revoke_sign_in_sessions("nobody@corp.example")
    assert caught.value.code == "Request_ResourceNotFound"


def test_disable_and_rotate_an_app_secret(entra_api: EntraApi, sleeps: Sleeps) -> None:
    seed(entra_api)
    entra = client(entra_api, sleeps)
    entra.disable_user(ALICE)
    assert entra.user(ALICE, select="accountEnabled") == {"accountEnabled": False}
    key_id, secret = entra.add_password(APP, "ir rotation")
    assert "***" in repr(secret) and secret.reveal().startswith("Zx8Q~")
    entra.remove_password(APP, "k-leaked")
    assert [p["keyId"] for p in entra.application_passwords(APP)] == [key_id]
    with pytest.raises(Rejected):
        entra.remove_password(APP, "k-leaked")


def test_wrong_secret_names_azure_client_secret_and_hides_it(
    entra_api: EntraApi, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Qq8~WrongSecretForLocalTests.0009"
    with pytest.raises(AuthError) as caught:
        client(entra_api, sleeps, AZURE_CLIENT_SECRET=wrong).revoke_sign_in_sessions(ALICE)
    message = str(caught.value)
    assert caught.value.status == 401 and caught.value.code == "invalid_client"
    assert "AADSTS7000215" in message and message.endswith("check AZURE_CLIENT_SECRET")
    assert_hidden([wrong, ENTRA_SECRET], message, repr(caught.value), caplog.text)


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000000"}, "AZURE_CLIENT_ID"),
        ({"AZURE_TENANT_ID": "not-our-tenant"}, "AZURE_TENANT_ID"),
    ],
)
def test_token_refusals_name_the_setting(
    entra_api: EntraApi, sleeps: Sleeps, override: dict[str, str], setting: str
) -> None:
    with pytest.raises(AuthError, match=f"check {setting}$"):
        client(entra_api, sleeps, **override).revoke_sign_in_sessions(ALICE)


def test_missing_permission_is_named(entra_api: EntraApi, sleeps: Sleeps) -> None:
    seed(entra_api)
    entra_api.permissions.discard("User.RevokeSessions.All")
    with pytest.raises(AuthError, match=re.escape("needs User.RevokeSessions.All")) as caught:
        client(entra_api, sleeps).revoke_sign_in_sessions(ALICE)
    assert caught.value.code == "Authorization_RequestDenied"


def test_throttling_waits_retry_after(entra_api: EntraApi, sleeps: Sleeps) -> None:
    seed(entra_api)
    entra = client(entra_api, sleeps)
    entra.access_token()
    entra_api.throttle(1, retry_after=17)
    assert entra.revoke_sign_in_sessions(ALICE) is True
    assert sleeps == [17.0]


@pytest.mark.parametrize(
    ("pages_of", "source", "field"),
    [
        ("sign_in_pages", "entra_signin", "createdDateTime"),
        ("directory_audit_pages", "entra_audit", "activityDateTime"),
    ],
)
def test_audit_logs_follow_next_link_within_the_window(
    entra_api: EntraApi, sleeps: Sleeps, pages_of: str, source: str, field: str
) -> None:
    entra = client(entra_api, sleeps)
    pages = list(getattr(entra, pages_of)())
    assert [r["id"] for p in pages for r in p.items] == [r["id"] for r in fixture_records(source)]
    assert len(pages) == 2 and pages[1].request.url.startswith(f"{entra_api.url}/v1.0/auditLogs/")
    records = fixture_records(source)
    later = sorted(r[field] for r in records[1:])  # the first record is the earliest
    window = [
        r["id"] for p in getattr(entra, pages_of)(since=later[0], until=later[-1]) for r in p.items
    ]
    # [since, until): `ge` the first, `lt` the last, which stays out
    assert window == [r["id"] for r in records[1:] if r[field] != later[-1]]
    assert len(window) == len(records) - 2
