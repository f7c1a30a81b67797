"""The Okta connector end to end on the sample incident's hijacked session, against the local Okta API."""

from __future__ import annotations

import pytest

from ir.case import Case
from ir.playbooks.connectors import connector
from ir.playbooks.connectors.base import ALREADY_DONE, DONE, VERIFIED, PlanChoices, Secrets
from tests.servers.fixtures import settings
from tests.servers.okta import OktaApi
from tests.servers.sample import CAROL, seed_okta

ROOT = "okta_session:102hZRgCcFl742wO50iahAImd"
MINTED = "okta_api_token:00TE6Dc5gQFkHzR152mo"


@pytest.fixture
def okta(okta_api: OktaApi, monkeypatch: pytest.MonkeyPatch) -> OktaApi:
    for name, value in settings(okta_api).items():
        monkeypatch.setenv(name, value)
    return seed_okta(okta_api)


def test_plan_names_the_token_the_session_and_the_user_only(sample_case: Case) -> None:
    steps = connector("okta").plan(sample_case.trace(ROOT), PlanChoices(quarantine=True))
    assert [(s.action, s.target) for s in steps] == [
        ("revoke_api_token", MINTED),
        ("revoke_session", ROOT),
        ("clear_user_sessions", "okta_user:carol@corp.example"),
        ("suspend_user", "okta_user:carol@corp.example"),
    ]
    assert steps[2].credentials == (ROOT,)
    assert steps[0].request == {
        "api": "DELETE /api/v1/api-tokens/00TE6Dc5gQFkHzR152mo",
        "params": {},
    }


def test_dry_run_execute_rerun_verify(sample_case: Case, okta: OktaApi) -> None:
    module = connector("okta")
    steps = module.plan(sample_case.trace(ROOT), PlanChoices(quarantine=True))
    module.check_settings()
    dry = [[c.api for c in module.calls(s)] for s in steps]
    assert dry[2] == ["GET /api/v1/users/{login}", "DELETE /api/v1/users/{userId}/sessions"]
    assert okta.requests == []

    assert [module.execute(s, Secrets()).status for s in steps] == [DONE] * 4
    assert set(okta.api_tokens) == {"00Tdecoy"}
    assert set(okta.sessions) == {"102daveDecoy"}
    assert okta.cleared == [(CAROL, "true")]
    assert (
        okta.users[CAROL]["status"] == "SUSPENDED" and okta.users["00u7decoy"]["status"] == "ACTIVE"
    )

    rerun = [module.execute(s, Secrets()).status for s in steps]
    assert rerun == [ALREADY_DONE, ALREADY_DONE, DONE, ALREADY_DONE]  # clearing again is harmless
    assert [module.verify(s, Secrets()).status for s in steps] == [VERIFIED] * 4
