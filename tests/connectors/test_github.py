"""The GitHub connector end to end on the sample incident's leaked token, against the local GitHub API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ir.case import Case
from ir.errors import UsageError
from ir.playbooks.connectors import connector
from ir.playbooks.connectors.base import (
    ALREADY_DONE,
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    PlanChoices,
    Secrets,
)
from tests.servers.fixtures import settings
from tests.servers.github import GitHubApi

ROOT = "github_token:kZ1jcZU2dh1UXZtsK0SVFhjzWxHrrnt4fcDSj24i8M8="
RAW = (
    (Path(__file__).resolve().parents[2] / "sample_logs" / "leaked_github_token.txt")
    .read_text()
    .strip()
)


@pytest.fixture
def github(github_api: GitHubApi, monkeypatch: pytest.MonkeyPatch) -> GitHubApi:
    monkeypatch.setenv("IR_GITHUB_API_URL", settings(github_api)["IR_GITHUB_API_URL"])
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)  # the revocation API needs none
    monkeypatch.delenv("GH_TOKEN", raising=False)
    github_api.live.add(RAW)
    return github_api


def test_plan_dry_run_execute_rerun_verify(sample_case: Case, github: GitHubApi) -> None:
    module = connector("github")
    steps = module.plan(sample_case.trace(ROOT), PlanChoices())
    assert [(s.action, s.target, s.credentials) for s in steps] == [("revoke_token", ROOT, (ROOT,))]
    assert RAW not in json.dumps([s.to_json() for s in steps])
    module.check_settings()
    assert [c.api for c in module.calls(steps[0])] == ["GET /user", "POST /credentials/revoke"]
    assert github.requests == []  # planning and the dry run call nothing

    secrets = Secrets({ROOT: RAW})
    assert module.verify(steps[0], secrets).status == NOT_VERIFIED
    done = module.execute(steps[0], secrets)
    assert (done.status, done.http_status) == (DONE, 202)
    assert github.reported == [RAW] and RAW not in github.live
    assert module.execute(steps[0], secrets).status == ALREADY_DONE  # a re-run reports nothing new
    assert github.reported == [RAW]
    verified = module.verify(steps[0], secrets)
    assert (verified.status, verified.http_status) == (VERIFIED, 401)
    for result in (done, verified):
        assert RAW not in f"{result!r}{result.detail}{result.request}"


def test_without_the_raw_token_the_step_says_to_pass_it(
    sample_case: Case, github: GitHubApi
) -> None:
    module = connector("github")
    [only] = module.plan(sample_case.trace(ROOT), PlanChoices())
    with pytest.raises(UsageError, match="--token-file"):
        module.execute(only, Secrets())
    assert github.requests == []


def test_other_providers_traces_plan_nothing_here(sample_case: Case) -> None:
    trace = sample_case.trace("okta_session:102hZRgCcFl742wO50iahAImd")
    assert connector("github").plan(trace, PlanChoices()) == []
