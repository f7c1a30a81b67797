"""Pytest fixtures that start each local vendor API on a free loopback port for one test.

Import them into a conftest (`from tests.servers.fixtures import *`). Each
fixture yields the started server with seeded state; `settings(api)` gives the
environment (contract §6 names) that points a provider client at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.servers.base import FakeApi
from tests.servers.entra import EntraApi
from tests.servers.github import GitHubApi
from tests.servers.google import GoogleApi
from tests.servers.okta import OktaApi
from tests.servers.salesforce import SalesforceApi
from tests.servers.slack import SlackApi

GITHUB_TOKEN = "ghp_AdminTokenForLocalTests000000000001"
OKTA_TOKEN = "00aOktaApiTokenForLocalTests0000000001"
ENTRA_TENANT = "8f2c6e0a-1b3d-4c5e-9f70-a1b2c3d4e5f6"
ENTRA_CLIENT = "11111111-2222-3333-4444-555555555555"
ENTRA_SECRET = "Qq8~EntraClientSecretForLocalTests.0001"
GOOGLE_ADMIN = "admin@corp.example"
GOOGLE_SA = "ir-responder@corp-project.iam.gserviceaccount.com"
SLACK_TOKEN = "xoxp-1111-2222-3333-SlackAdminTokenForTests"
SALESFORCE_TOKEN = "00D5j000000VI3n!AQ0AQSalesforceTokenForTests"

GOOGLE_SCOPES = {
    "https://www.googleapis.com/auth/admin.reports.audit.readonly",
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/cloud-platform",
}


class Sleeps(list[float]):
    """An injectable `sleep` that records the waits it was asked for and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _serve(api: FakeApi) -> Iterator[Any]:
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def github_api() -> Iterator[GitHubApi]:
    yield from _serve(GitHubApi({GITHUB_TOKEN: {"read:audit_log"}}))


@pytest.fixture
def okta_api() -> Iterator[OktaApi]:
    scopes = {
        "okta.apiTokens.manage",
        "okta.sessions.manage",
        "okta.users.manage",
        "okta.logs.read",
    }
    yield from _serve(OktaApi({OKTA_TOKEN: scopes}))


@pytest.fixture
def entra_api() -> Iterator[EntraApi]:
    permissions = {
        "User.RevokeSessions.All",
        "User.EnableDisableAccount.All",
        "Application.ReadWrite.OwnedBy",
        "AuditLog.Read.All",
    }
    api = EntraApi(
        tenant=ENTRA_TENANT,
        client_id=ENTRA_CLIENT,
        client_secret=ENTRA_SECRET,
        permissions=permissions,
    )
    yield from _serve(api)


@pytest.fixture
def google_key(tmp_path: Path) -> tuple[Path, Any]:
    """A fresh service-account key file (its token_uri set once the server runs) and the public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "corp-project",
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": pem,
                "client_email": GOOGLE_SA,
                "client_id": "104477000000000000001",
                "token_uri": "set-by-google_api",
            }
        )
    )
    return path, private.public_key()


@pytest.fixture
def google_api(google_key: tuple[Path, Any]) -> Iterator[GoogleApi]:
    path, public = google_key
    api = GoogleApi(
        client_email=GOOGLE_SA, public_key=public, admins={GOOGLE_ADMIN}, delegated=GOOGLE_SCOPES
    )
    api.start()
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "token_uri": api.token_uri}))
    api.key_path = path
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def slack_api() -> Iterator[SlackApi]:
    yield from _serve(SlackApi({SLACK_TOKEN: {"admin.users:write", "auditlogs:read"}}))


@pytest.fixture
def salesforce_api() -> Iterator[SalesforceApi]:
    yield from _serve(SalesforceApi({SALESFORCE_TOKEN}))


def settings(api: FakeApi) -> dict[str, str]:
    """The environment (contract §6 names) that points a provider client at `api`."""
    if isinstance(api, GitHubApi):
        return {"IR_GITHUB_API_URL": api.url, "GITHUB_TOKEN": GITHUB_TOKEN}
    if isinstance(api, OktaApi):
        return {"IR_OKTA_ORG_URL": api.url, "OKTA_CLIENT_TOKEN": OKTA_TOKEN}
    if isinstance(api, EntraApi):
        return {
            "IR_GRAPH_API_URL": api.url,
            "AZURE_AUTHORITY_HOST": api.url,
            "AZURE_TENANT_ID": ENTRA_TENANT,
            "AZURE_CLIENT_ID": ENTRA_CLIENT,
            "AZURE_CLIENT_SECRET": ENTRA_SECRET,
        }
    if isinstance(api, GoogleApi):
        return {
            "IR_GOOGLE_API_URL": api.url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(api.key_path),
            "IR_GOOGLE_ADMIN_SUBJECT": GOOGLE_ADMIN,
        }
    if isinstance(api, SlackApi):
        return {
            "IR_SLACK_API_URL": f"{api.url}/api",
            "IR_SLACK_AUDIT_URL": api.url,
            "SLACK_TOKEN": SLACK_TOKEN,
        }
    if isinstance(api, SalesforceApi):
        return {"IR_SALESFORCE_INSTANCE_URL": api.url, "SALESFORCE_ACCESS_TOKEN": SALESFORCE_TOKEN}
    raise TypeError(f"no settings for {type(api).__name__}")


def assert_hidden(secrets: Iterable[str], *texts: str) -> None:
    """No secret value appears in any of `texts` (error messages, reprs, captured logs)."""
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a secret leaked into: {text[:200]!r}"
