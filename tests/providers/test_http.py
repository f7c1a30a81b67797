"""The shared provider base: secrets, settings, the retry loop's limits, next links, resumable pages."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from ir.errors import MissingSetting
from ir.providers.entra import EntraClient
from ir.providers.github import GitHubClient
from ir.providers.google import GoogleClient
from ir.providers.http import (
    PageRequest,
    ProviderClient,
    RateLimited,
    Rejected,
    Retry,
    Secret,
    Settings,
    TransientError,
    by_link_header,
    page_request,
    redact,
)
from ir.providers.okta import OktaClient
from ir.providers.salesforce import SalesforceClient
from ir.providers.slack import SlackClient
from tests.servers.base import FakeApi, Reply, Request, route
from tests.servers.entra import EntraApi
from tests.servers.fixtures import (
    ENTRA_SECRET,
    GITHUB_TOKEN,
    OKTA_TOKEN,
    SALESFORCE_TOKEN,
    SLACK_TOKEN,
    Sleeps,
    assert_hidden,
    settings,
)
from tests.servers.github import GitHubApi
from tests.servers.google import GoogleApi
from tests.servers.okta import OktaApi
from tests.servers.salesforce import SalesforceApi
from tests.servers.slack import SlackApi


class Plain(ProviderClient):
    provider = "plain"
    credential_settings = "PLAIN_TOKEN"


class Elsewhere(FakeApi):
    """A listing whose next link points at another host."""

    @route("GET", "/items")
    def items(self, request: Request) -> Reply:
        return Reply(200, [1, 2], {"Link": '<http://198.51.100.7/items?after=c2>; rel="next"'})


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    api = Elsewhere().start()
    yield api
    api.stop()


def test_a_secret_never_shows_in_repr_or_str() -> None:
    secret = Secret("xoxp-very-secret")
    assert repr(secret) == str(secret) == "Secret('***')"
    assert f"{secret}" == "Secret('***')"
    assert secret.reveal() == "xoxp-very-secret"
    assert redact("token=xoxp-very-secret;", [secret]) == "token=***;"


def test_settings_collect_every_missing_name_and_trim_urls() -> None:
    settings = Settings("demo", {"A_URL": "http://x/api/", "B": "  "})
    assert settings.url("A_URL") == "http://x/api"
    assert settings.optional("B", default="d") == "d"  # blank counts as unset
    settings.required("B", "B_ALT")
    settings.secret("C")
    with pytest.raises(MissingSetting) as caught:
        settings.check()
    assert str(caught.value) == "demo: set B or B_ALT, C"
    assert caught.value.exit_code == 2


def test_connection_errors_are_retried_with_capped_backoff_then_raised(sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    plain = Plain(f"http://127.0.0.1:{port}", sleep=sleeps, retry=Retry(attempts=5, base=1, cap=4))
    with pytest.raises(TransientError, match=r"plain: GET /x failed: ConnectError"):
        plain.request("GET", "/x")
    assert sleeps == [1.0, 2.0, 4.0, 4.0]


def test_throttling_that_never_ends_raises_rate_limited(
    elsewhere: Elsewhere, sleeps: Sleeps
) -> None:
    elsewhere.throttle(3, retry_after=2)
    plain = Plain(elsewhere.url, sleep=sleeps, retry=Retry(attempts=3))
    with pytest.raises(RateLimited) as caught:
        plain.request("GET", "/items")
    assert caught.value.wait == 2.0 and sleeps == [2.0, 2.0]


def test_a_next_link_to_another_host_is_refused(elsewhere: Elsewhere, sleeps: Sleeps) -> None:
    pages = Plain(elsewhere.url, sleep=sleeps).pages(page_request("/items"), by_link_header())
    with pytest.raises(Rejected, match=re.escape("refusing to follow a next link to 198.51.100.7")):
        list(pages)
    assert len(elsewhere.requests) == 1


def test_a_page_request_survives_a_journal_round_trip() -> None:
    start = page_request(
        "/api/v1/logs", {"since": "2026-01-01T00:00:00Z", "until": None, "limit": 2}
    )
    assert start.params == (("since", "2026-01-01T00:00:00Z"), ("limit", "2"))
    resumed = PageRequest.from_json(start.with_param("after", "c4").to_json())
    assert resumed == PageRequest(
        "/api/v1/logs", (("since", "2026-01-01T00:00:00Z"), ("limit", "2"), ("after", "c4"))
    )


def test_paths_must_start_with_a_slash() -> None:
    with pytest.raises(ValueError, match="starts with '/'"):
        Plain("http://127.0.0.1:1").url("v1.0/users")
    assert Plain("http://h/api/").url("/m") == "http://h/api/m"


def test_no_client_shows_a_secret_in_its_repr_or_attributes(
    github_api: GitHubApi,
    okta_api: OktaApi,
    entra_api: EntraApi,
    google_api: GoogleApi,
    slack_api: SlackApi,
    salesforce_api: SalesforceApi,
) -> None:
    clients = [
        GitHubClient.from_env(settings(github_api)),
        OktaClient.from_env(settings(okta_api)),
        EntraClient.from_env(settings(entra_api)),
        GoogleClient.from_env(settings(google_api)),
        SlackClient.from_env(settings(slack_api)),
        SalesforceClient.from_env(settings(salesforce_api)),
    ]
    entra, google = clients[2], clients[3]
    entra.access_token(), google.access_token()  # tokens fetched and cached
    assert isinstance(google, GoogleClient)
    secrets = [
        GITHUB_TOKEN,
        OKTA_TOKEN,
        ENTRA_SECRET,
        SLACK_TOKEN,
        SALESFORCE_TOKEN,
        entra_api.issued[0],
        next(iter(google_api.issued)),
        google.key.private_key.reveal(),
    ]
    for provider in clients:
        assert_hidden(secrets, repr(provider), repr(vars(provider)), str(vars(provider)))
