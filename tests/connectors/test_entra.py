"""The Entra connector end to end on the sample incident's hijacked session, against the local Graph."""

from __future__ import annotations

import pytest

from ir.case import Case
from ir.playbooks.connectors import connector
from ir.playbooks.connectors.base import (
    ALREADY_DONE,
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    PlanChoices,
    Secrets,
)
from tests.servers.entra import EntraApi
from tests.servers.fixtures import ENTRA_SECRET, settings
from tests.servers.sample import LEAKED_KEY, MEGAN, seed_entra

ROOT = "entra_session:d9d016e1-56a6-449c-a1ef-c6d76183a272"


@pytest.fixture
def entra(entra_api: EntraApi, monkeypatch: pytest.MonkeyPatch) -> EntraApi:
    for name, value in settings(entra_api).items():
        monkeypatch.setenv(name, value)
    return seed_entra(entra_api)


def test_plan_names_the_user_and_the_app_secret_only(sample_case: Case) -> None:
    steps = connector("entra").plan(sample_case.trace(ROOT), PlanChoices())
    assert [(s.action, s.target) for s in steps] == [
        ("revoke_sign_in_sessions", "entra_user:megan@corp.example"),
        ("remove_app_secret", f"entra_app_credential:{LEAKED_KEY}"),
    ]
    assert (
        ROOT in steps[0].credentials and len(steps[0].credentials) == 19
    )  # the session and its 18 tokens
    assert steps[0].options["after"].startswith("2026-09-0")
    assert steps[1].options == {"application": "payroll-sync"}


def test_dry_run_execute_rerun_verify(sample_case: Case, entra: EntraApi) -> None:
    module = connector("entra")
    steps = module.plan(sample_case.trace(ROOT), PlanChoices(quarantine=True))
    assert [s.action for s in steps] == [
        "revoke_sign_in_sessions",
        "remove_app_secret",
        "disable_user",
    ]
    module.check_settings()
    assert [c.api for c in module.calls(steps[1])][1:] == [
        "GET /v1.0/applications",
        "POST /v1.0/applications/{id}/removePassword",
    ]
    assert entra.requests == []
    assert [module.verify(s, Secrets()).status for s in steps] == [NOT_VERIFIED] * 3

    assert [module.execute(s, Secrets()).status for s in steps] == [DONE] * 3
    megan, decoy = entra.users[MEGAN], entra.users["decoy"]
    assert (
        megan["signInSessionsValidFromDateTime"] > "2026-09-05" and megan["accountEnabled"] is False
    )
    assert (
        decoy["signInSessionsValidFromDateTime"] == "2026-08-01T00:00:00Z"
        and decoy["accountEnabled"]
    )
    assert [p["keyId"] for p in entra.applications["app-payroll"]["passwordCredentials"]] == [
        "legit-key"
    ]

    rerun = [module.execute(s, Secrets()) for s in steps]
    assert [r.status for r in rerun] == [
        DONE,
        ALREADY_DONE,
        DONE,
    ]  # revoke/disable are safe to repeat
    results = [module.verify(s, Secrets()) for s in steps]
    assert [r.status for r in results] == [VERIFIED] * 3
    assert all(
        ENTRA_SECRET not in f"{r!r}" and entra.issued[0] not in f"{r!r}" for r in rerun + results
    )
