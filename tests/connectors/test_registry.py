"""Every SaaS connector is registered by name, speaks the protocol, and names missing settings first."""

from __future__ import annotations

import pytest

from ir.errors import MissingSetting
from ir.playbooks.connectors import CONNECTORS, connector

SAAS = ("github", "okta", "entra", "google", "slack", "salesforce")
SETTINGS = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "IR_GITHUB_API_URL",
    "OKTA_CLIENT_TOKEN",
    "IR_OKTA_ORG_URL",
    "OKTA_CLIENT_ORGURL",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "IR_GOOGLE_ADMIN_SUBJECT",
    "SLACK_TOKEN",
    "SALESFORCE_ACCESS_TOKEN",
    "IR_SALESFORCE_INSTANCE_URL",
)
MISSING = {
    "okta": "okta: set IR_OKTA_ORG_URL or OKTA_CLIENT_ORGURL, OKTA_CLIENT_TOKEN",
    "entra": "entra: set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET",
    "google": "google: set GOOGLE_APPLICATION_CREDENTIALS, IR_GOOGLE_ADMIN_SUBJECT",
    "slack": "slack: set SLACK_TOKEN",
    "salesforce": "salesforce: set IR_SALESFORCE_INSTANCE_URL, SALESFORCE_ACCESS_TOKEN",
}


@pytest.mark.parametrize("provider", SAAS)
def test_registered_with_the_protocol_verbs(provider: str) -> None:
    module = connector(provider)
    assert CONNECTORS[provider] == f"ir.playbooks.connectors.{provider}"
    assert provider == module.PROVIDER
    for verb in ("plan", "check_settings", "calls", "execute", "verify"):
        assert callable(getattr(module, verb))


@pytest.mark.parametrize("provider", sorted(MISSING))
def test_check_settings_names_what_is_missing(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingSetting) as caught:
        connector(provider).check_settings()
    assert str(caught.value).startswith(MISSING[provider])


def test_github_needs_no_setting_to_revoke(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    connector("github").check_settings()
