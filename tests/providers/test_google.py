"""The Google client against the local token endpoint, Admin SDK and IAM: JWT grant, revocations, Reports."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from ir.errors import MissingSetting, UsageError
from ir.providers.google import SCOPE_CLOUD, SCOPE_REPORTS, SCOPE_USER_SECURITY, GoogleClient
from ir.providers.http import AuthError, Gone
from tests.servers.fixtures import GOOGLE_ADMIN, Sleeps, assert_hidden, settings
from tests.servers.google import GoogleApi, activities

DRIFT = "774921503311-drift7sync0q1w2e3r4t5y6u7i8o9p0a.apps.googleusercontent.com"
ALL_SCOPES = (SCOPE_REPORTS, SCOPE_USER_SECURITY, SCOPE_CLOUD)


def client(
    api: GoogleApi, sleeps: Sleeps, scopes: tuple[str, ...] = ALL_SCOPES, **env: str
) -> GoogleClient:
    return GoogleClient.from_env({**settings(api), **env}, scopes=scopes, sleep=sleeps)


def test_missing_settings_are_named_with_why() -> None:
    with pytest.raises(MissingSetting) as caught:
        GoogleClient.from_env({})
    assert str(caught.value).startswith(
        "google: set GOOGLE_APPLICATION_CREDENTIALS, IR_GOOGLE_ADMIN_SUBJECT ("
    )


def test_an_unreadable_key_file_is_a_usage_error_without_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(
        json.dumps({"client_email": "x@y", "private_key": "-----BEGIN PRIVATE KEY-----secret"})
    )
    with pytest.raises(UsageError, match="no 'token_uri'") as caught:
        GoogleClient.from_env(
            {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "IR_GOOGLE_ADMIN_SUBJECT": GOOGLE_ADMIN}
        )
    assert "secret" not in str(caught.value)


def test_the_jwt_grant_is_signed_and_delegated(google_api: GoogleApi, sleeps: Sleeps) -> None:
    google_api.user_tokens = {
        "dana@corp.example": {DRIFT: {"clientId": DRIFT, "displayText": "Drift Sync"}}
    }
    google = client(google_api, sleeps)
    assert [t["clientId"] for t in google.tokens("dana@corp.example")] == [DRIFT]
    grant = google_api.requests[0].form()
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert google_api.issued == {"ya29.local-1": set(ALL_SCOPES)}
    assert google_api.requests[1].headers["authorization"] == "Bearer ya29.local-1"


def test_token_delete_then_gone_and_sign_out(google_api: GoogleApi, sleeps: Sleeps) -> None:
    google_api.user_tokens = {
        "dana@corp.example": {DRIFT: {"clientId": DRIFT}, "other": {"clientId": "other"}}
    }
    google = client(google_api, sleeps)
    google.delete_token("dana@corp.example", DRIFT)
    assert [t["clientId"] for t in google.tokens("dana@corp.example")] == ["other"]
    with pytest.raises(Gone):
        google.delete_token("dana@corp.example", DRIFT)
    google.sign_out("dana@corp.example")
    assert google_api.signed_out == ["dana@corp.example"]


def test_service_account_key_disable_goes_to_the_iam_base(
    google_api: GoogleApi, sleeps: Sleeps
) -> None:
    google_api.keys[("corp-project", "ci@corp-project.iam.gserviceaccount.com", "abc123")] = {
        "name": "projects/corp-project/serviceAccounts/ci@corp-project.iam.gserviceaccount.com/keys/abc123",
        "disabled": False,
    }
    google = client(google_api, sleeps)
    assert (
        google.iam_url == google_api.url
    )  # IR_GOOGLE_API_URL serves IAM too when no IAM URL is set
    google.disable_key("corp-project", "ci@corp-project.iam.gserviceaccount.com", "abc123")
    assert (
        google.key_state("corp-project", "ci@corp-project.iam.gserviceaccount.com", "abc123")[
            "disabled"
        ]
        is True
    )
    with pytest.raises(Gone):
        google.disable_key("corp-project", "ci@corp-project.iam.gserviceaccount.com", "nope")


def test_undelegated_scope_says_what_to_grant(
    google_api: GoogleApi, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    google_api.delegated = {SCOPE_REPORTS}
    google = client(google_api, sleeps)
    with pytest.raises(AuthError) as caught:
        google.sign_out("dana@corp.example")
    message = str(caught.value)
    assert caught.value.code == "unauthorized_client"
    assert "domain-wide delegation" in message and SCOPE_USER_SECURITY in message
    key = google.key.private_key.reveal()
    assertion = google_api.requests[0].form()["assertion"]
    assert_hidden(
        [key, assertion, key.splitlines()[1]],
        message,
        repr(caught.value),
        repr(google.key),
        caplog.text,
    )


def test_a_subject_that_is_not_an_admin_is_named(google_api: GoogleApi, sleeps: Sleeps) -> None:
    with pytest.raises(AuthError, match=r"IR_GOOGLE_ADMIN_SUBJECT \(eve@corp.example\)"):
        list(
            client(google_api, sleeps, IR_GOOGLE_ADMIN_SUBJECT="eve@corp.example").activity_pages(
                "token"
            )
        )


def test_a_token_without_the_scope_is_refused_with_the_scope_named(
    google_api: GoogleApi, sleeps: Sleeps
) -> None:
    with pytest.raises(
        AuthError,
        match=re.escape("needs https://www.googleapis.com/auth/admin.directory.user.security"),
    ):
        client(google_api, sleeps, scopes=(SCOPE_REPORTS,)).sign_out("dana@corp.example")


@pytest.mark.parametrize(("retry_after", "waits"), [(9, [9.0]), (None, [1.0])])
def test_rate_limits_429_and_403_rate_limit_exceeded_are_retried(
    google_api: GoogleApi, sleeps: Sleeps, retry_after: int | None, waits: list[float]
) -> None:
    google = client(google_api, sleeps)
    google.access_token()
    google_api.throttle(1, retry_after=retry_after)
    assert [a["id"]["uniqueQualifier"] for p in google.activity_pages("token") for a in p.items]
    assert sleeps == waits


def test_reports_pages_follow_next_page_token_in_the_window(
    google_api: GoogleApi, sleeps: Sleeps
) -> None:
    google = client(google_api, sleeps)
    pages = list(google.activity_pages("token"))
    ids = [a["id"]["uniqueQualifier"] for p in pages for a in p.items]
    assert ids == [a["id"]["uniqueQualifier"] for a in activities()]
    assert len(pages) == 2 and dict(pages[1].request.params)["pageToken"] == "c2"
    times = [a["id"]["time"] for a in activities()]
    window = [
        a["id"]["time"]
        for p in google.activity_pages("token", start_time=times[1])
        for a in p.items
    ]
    assert window == times[1:]
