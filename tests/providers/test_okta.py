"""The Okta client against the local Okta API: settings, SSWS auth, revocations, limits, the System Log."""

from __future__ import annotations

import json
import logging
import re

import pytest

from ir.errors import MissingSetting
from ir.providers.http import AuthError, Gone, PageRequest, Rejected, by_link_header
from ir.providers.okta import OktaClient
from tests.servers.fixtures import OKTA_TOKEN, Sleeps, assert_hidden, settings
from tests.servers.okta import OktaApi, log_events

NOW = 1_800_000_000.0


def client(api: OktaApi, sleeps: Sleeps, **env: str) -> OktaClient:
    return OktaClient.from_env({**settings(api), **env}, sleep=sleeps, clock=lambda: NOW)


def seed(api: OktaApi) -> None:
    api.users = {
        "00u1a2b3c4d5E6f7G8h9": {
            "id": "00u1a2b3c4d5E6f7G8h9",
            "status": "ACTIVE",
            "profile": {"login": "alice@corp.example"},
        },
        "00u9z8y7x6w5V4u3T2s1": {
            "id": "00u9z8y7x6w5V4u3T2s1",
            "status": "ACTIVE",
            "profile": {"login": "bob@corp.example"},
        },
    }
    api.sessions = {
        "idxHijacked01": {
            "id": "idxHijacked01",
            "userId": "00u1a2b3c4d5E6f7G8h9",
            "status": "ACTIVE",
        },
        "idxAliceLaptop": {
            "id": "idxAliceLaptop",
            "userId": "00u1a2b3c4d5E6f7G8h9",
            "status": "ACTIVE",
        },
        "idxBobPhone": {"id": "idxBobPhone", "userId": "00u9z8y7x6w5V4u3T2s1", "status": "ACTIVE"},
    }
    api.api_tokens = {"00Tminted0001": {"id": "00Tminted0001", "name": "backup-sync"}}


def test_every_missing_setting_is_named_at_once(okta_api: OktaApi) -> None:
    with pytest.raises(MissingSetting) as caught:
        OktaClient.from_env({})
    assert str(caught.value) == "okta: set IR_OKTA_ORG_URL or OKTA_CLIENT_ORGURL, OKTA_CLIENT_TOKEN"
    assert caught.value.names == ["IR_OKTA_ORG_URL", "OKTA_CLIENT_ORGURL", "OKTA_CLIENT_TOKEN"]


def test_the_sdk_org_url_name_is_accepted(okta_api: OktaApi, sleeps: Sleeps) -> None:
    env = {"OKTA_CLIENT_ORGURL": okta_api.url + "/", "OKTA_CLIENT_TOKEN": OKTA_TOKEN}
    assert OktaClient.from_env(env).base_url == okta_api.url


def test_api_token_revocation_then_gone_on_delete_and_get(
    okta_api: OktaApi, sleeps: Sleeps
) -> None:
    seed(okta_api)
    okta = client(okta_api, sleeps)
    assert okta.api_token("00Tminted0001")["name"] == "backup-sync"
    okta.revoke_api_token("00Tminted0001")
    assert okta_api.api_tokens == {}
    with pytest.raises(Gone) as caught:
        okta.revoke_api_token("00Tminted0001")
    assert caught.value.code == "E0000007"
    with pytest.raises(Gone):
        okta.api_token("00Tminted0001")
    assert okta_api.requests[1].headers["authorization"] == f"SSWS {OKTA_TOKEN}"


def test_clearing_a_users_sessions_leaves_other_users_alone(
    okta_api: OktaApi, sleeps: Sleeps
) -> None:
    seed(okta_api)
    okta = client(okta_api, sleeps)
    okta.clear_user_sessions("00u1a2b3c4d5E6f7G8h9")
    assert set(okta_api.sessions) == {"idxBobPhone"}
    assert okta_api.cleared == [("00u1a2b3c4d5E6f7G8h9", "true")]
    okta.clear_user_sessions("00u1a2b3c4d5E6f7G8h9")  # repeating is harmless
    with pytest.raises(Gone):
        okta.session("idxHijacked01")
    with pytest.raises(Gone):
        okta.revoke_session("idxHijacked01")


def test_suspending_twice_is_rejected_with_e0000001(okta_api: OktaApi, sleeps: Sleeps) -> None:
    seed(okta_api)
    okta = client(okta_api, sleeps)
    okta.suspend_user("00u9z8y7x6w5V4u3T2s1")
    assert okta.user("bob@corp.example")["status"] == "SUSPENDED"
    with pytest.raises(Rejected) as caught:
        okta.suspend_user("00u9z8y7x6w5V4u3T2s1")
    assert (caught.value.status, caught.value.code) == (400, "E0000001")


def test_bad_token_names_the_setting_and_hides_it(
    okta_api: OktaApi, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "00aWrongOktaTokenForTests000000000009"
    with pytest.raises(AuthError) as caught:
        client(okta_api, sleeps, OKTA_CLIENT_TOKEN=bad).revoke_api_token("00Tminted0001")
    message = str(caught.value)
    assert (caught.value.status, caught.value.code) == (401, "E0000011")
    assert "Invalid token provided" in message and "check OKTA_CLIENT_TOKEN" in message
    assert_hidden([bad, OKTA_TOKEN], message, repr(caught.value), caplog.text)


def test_missing_scope_names_it(okta_api: OktaApi, sleeps: Sleeps) -> None:
    okta_api.tokens[OKTA_TOKEN] = {"okta.users.manage"}
    with pytest.raises(AuthError, match=re.escape("needs okta.logs.read")) as caught:
        list(client(okta_api, sleeps).log_pages())
    assert caught.value.code == "E0000006"


def test_rate_limit_waits_until_x_rate_limit_reset(okta_api: OktaApi, sleeps: Sleeps) -> None:
    seed(okta_api)
    okta_api.throttle(2, reset=int(NOW) + 13)
    client(okta_api, sleeps).revoke_api_token("00Tminted0001")
    assert sleeps == [13.0, 13.0]
    assert okta_api.api_tokens == {}


def test_system_log_pages_follow_link_next_in_the_window(okta_api: OktaApi, sleeps: Sleeps) -> None:
    pages = list(client(okta_api, sleeps).log_pages(limit=1000))
    assert [e["uuid"] for p in pages for e in p.items] == [e["uuid"] for e in log_events()]
    assert len(pages) == 3
    since, until = log_events()[1]["published"], log_events()[4]["published"]
    window = [
        e["uuid"]
        for p in client(okta_api, sleeps).log_pages(since=since, until=until)
        for e in p.items
    ]
    assert window == [e["uuid"] for e in log_events()[1:4]]


def test_five_hundreds_are_retried_with_capped_backoff(okta_api: OktaApi, sleeps: Sleeps) -> None:
    okta_api.fail(3, status=503)
    assert len(list(client(okta_api, sleeps).log_pages())) == 3
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_listing_resumes_from_its_journaled_next_request(
    okta_api: OktaApi, sleeps: Sleeps
) -> None:
    first = next(client(okta_api, sleeps).log_pages())
    assert first.next is not None
    journaled = json.dumps(first.next.to_json())  # what a collector keeps in the case
    resumed = client(okta_api, sleeps).pages(
        PageRequest.from_json(json.loads(journaled)), by_link_header()
    )
    rest = [e["uuid"] for page in resumed for e in page.items]
    assert [e["uuid"] for e in first.items] + rest == [e["uuid"] for e in log_events()]
