"""The GitHub client against the local GitHub API: settings, auth, revocation, limits, pages."""

from __future__ import annotations

import logging

import pytest

from ir.errors import MissingSetting
from ir.providers.github import GitHubClient
from ir.providers.http import AuthError, Gone, Secret
from tests.servers.fixtures import GITHUB_TOKEN, Sleeps, assert_hidden, settings
from tests.servers.github import GitHubApi, audit_events

LEAKED = "ghp_LeakedTokenFoundInAPublicGist00000042"


def client(api: GitHubApi, sleeps: Sleeps, **env: str) -> GitHubClient:
    return GitHubClient.from_env(
        {**settings(api), **env}, sleep=sleeps, clock=lambda: 1_800_000_000.0
    )


def test_missing_token_is_named_before_any_call(github_api: GitHubApi) -> None:
    with pytest.raises(MissingSetting, match="github: set GITHUB_TOKEN or GH_TOKEN") as caught:
        GitHubClient.from_env({"IR_GITHUB_API_URL": github_api.url})
    assert caught.value.names == ["GITHUB_TOKEN", "GH_TOKEN"]
    assert github_api.requests == []


def test_the_revocation_api_needs_no_token_setting(github_api: GitHubApi, sleeps: Sleeps) -> None:
    github_api.live.add(LEAKED)
    revoker = GitHubClient.from_env(
        {"IR_GITHUB_API_URL": github_api.url}, need_token=False, sleep=sleeps
    )
    assert revoker.token_is_live(Secret(LEAKED)) is True
    assert revoker.revoke_credentials([Secret(LEAKED)]) == 202
    assert github_api.reported == [LEAKED]
    assert revoker.token_is_live(Secret(LEAKED)) is False
    revoke_call = github_api.requests[1]
    assert revoke_call.path == "/credentials/revoke"
    assert "authorization" not in revoke_call.headers
    assert revoke_call.headers["x-github-api-version"] == "2022-11-28"


def test_revocation_sends_no_credentials_even_when_a_token_is_set(
    github_api: GitHubApi, sleeps: Sleeps
) -> None:
    # the server answers 403 to any Authorization header: a 202 proves none was sent
    assert client(github_api, sleeps).revoke_credentials([Secret(LEAKED)]) == 202
    assert client(github_api, sleeps).revoke_credentials([Secret(LEAKED)]) == 202  # repeatable


def test_revocation_batch_bounds_are_checked_before_sending(
    github_api: GitHubApi, sleeps: Sleeps
) -> None:
    with pytest.raises(ValueError, match="between 1 and 1000"):
        client(github_api, sleeps).revoke_credentials(
            [Secret(f"ghp_{n:036d}") for n in range(1001)]
        )
    assert github_api.requests == []


def test_bad_token_names_the_setting_and_hides_the_token(
    github_api: GitHubApi, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "ghp_WrongTokenForLocalTests000000000009"
    with pytest.raises(AuthError) as caught:
        list(client(github_api, sleeps, GITHUB_TOKEN=bad).audit_log_pages(org="example-org"))
    assert caught.value.status == 401
    assert "Bad credentials" in str(caught.value)
    assert "GITHUB_TOKEN (or GH_TOKEN)" in str(caught.value)
    assert sleeps == []  # terminal: not retried
    assert_hidden([bad, GITHUB_TOKEN], str(caught.value), repr(caught.value), caplog.text)


def test_missing_scope_names_the_permission(github_api: GitHubApi, sleeps: Sleeps) -> None:
    github_api.tokens[GITHUB_TOKEN] = set()
    with pytest.raises(AuthError, match=r"needs read:audit_log") as caught:
        list(client(github_api, sleeps).audit_log_pages(org="example-org"))
    assert caught.value.status == 403


def test_audit_log_pages_yield_every_record_once(github_api: GitHubApi, sleeps: Sleeps) -> None:
    pages = list(client(github_api, sleeps).audit_log_pages(org="example-org", per_page=100))
    records = [record for page in pages for record in page.items]
    assert records == audit_events()
    assert len(pages) == 2  # the server caps pages at 2 records: Link rel="next" was followed
    assert pages[1].request.url.startswith(github_api.url)


def test_secondary_rate_limit_waits_retry_after(github_api: GitHubApi, sleeps: Sleeps) -> None:
    github_api.throttle(2, retry_after=7)
    records = [
        r for p in client(github_api, sleeps).audit_log_pages(org="example-org") for r in p.items
    ]
    assert sleeps == [7.0, 7.0]
    assert len(records) == len(audit_events())


def test_primary_rate_limit_waits_until_the_reset(github_api: GitHubApi, sleeps: Sleeps) -> None:
    github_api.throttle(1, reset=1_800_000_042)  # the client's clock reads 1_800_000_000
    list(client(github_api, sleeps).audit_log_pages(org="example-org"))
    assert sleeps == [42.0]


def test_secondary_limit_without_headers_waits_a_minute(
    github_api: GitHubApi, sleeps: Sleeps
) -> None:
    github_api.throttle(1)
    list(client(github_api, sleeps).audit_log_pages(org="example-org"))
    assert sleeps == [60.0]


def test_deploy_key_delete_is_gone_on_repeat(github_api: GitHubApi, sleeps: Sleeps) -> None:
    github_api.deploy_keys[("example-org", "app")] = {
        7: {"id": 7, "title": "ci", "read_only": False}
    }
    gh = client(github_api, sleeps)
    assert gh.deploy_key("example-org", "app", 7)["title"] == "ci"
    gh.delete_deploy_key("example-org", "app", 7)
    with pytest.raises(Gone):
        gh.delete_deploy_key("example-org", "app", 7)
    with pytest.raises(Gone):
        gh.deploy_key("example-org", "app", 7)


def test_org_pat_revocation_removes_it_from_the_list(github_api: GitHubApi, sleeps: Sleeps) -> None:
    github_api.pats["example-org"] = {
        n: {"id": n, "owner": {"login": f"u{n}"}} for n in (11, 12, 13)
    }
    gh = client(github_api, sleeps)
    gh.revoke_org_pat("example-org", 12)
    assert [p["id"] for p in gh.org_pats("example-org")] == [11, 13]
    with pytest.raises(Gone):
        gh.revoke_org_pat("example-org", 12)
