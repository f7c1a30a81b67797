"""GitHub connector: a leaked token is reported to GitHub's credential revocation API.

The traced id (`github_token:<base64 sha256>`) cannot revoke anything: the API
takes the raw token, given at run time (`--token-file`) and never written into
the plan or the journal. No `GITHUB_TOKEN` is needed: github.com refuses
authenticated calls to `/credentials/revoke` (revocation-apis.md §2). Verify
asks GitHub whether the raw token still authenticates (`GET /user` → 401).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ir.playbooks.connectors._saas import env, raw_token, step, traced
from ir.playbooks.connectors.base import (
    ALREADY_DONE,
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    Call,
    PlanChoices,
    Secrets,
    Step,
    StepResult,
)
from ir.providers.github import GitHubClient
from ir.providers.http import Secret

if TYPE_CHECKING:
    from ir.trace import Trace

PROVIDER = "github"
REVOKE = Call("POST /credentials/revoke", {"credentials": ["<raw token from --token-file>"]})
LIVE = Call("GET /user", {"Authorization": "Bearer <raw token from --token-file>"})


def _client() -> GitHubClient:
    return GitHubClient.from_env(env(), need_token=False)


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    return [
        step(
            PROVIDER,
            "revoke_token",
            token.id,
            f"leaked GitHub token used by {token.principal or 'an unknown account'}: "
            "GitHub revokes it and emails its owner",
            REVOKE,
            credentials=[token.id],
        )
        for token in traced(trace, ["github_token"])
    ]


def check_settings() -> None:
    _client().close()


def calls(step: Step) -> list[Call]:
    return [LIVE, Call(REVOKE.api, REVOKE.params, when="the token still authenticates")]


def execute(step: Step, secrets: Secrets) -> StepResult:
    token = Secret(raw_token(secrets, step.target))
    with _client() as github:
        if not github.token_is_live(token):
            return StepResult(
                ALREADY_DONE, "GitHub no longer accepts the token", 401, LIVE.summary()
            )
        status = github.revoke_credentials([token])
    return StepResult(DONE, "reported for revocation", status, REVOKE.summary())


def verify(step: Step, secrets: Secrets) -> StepResult:
    token = Secret(raw_token(secrets, step.target))
    with _client() as github:
        live = github.token_is_live(token)
    if live:
        return StepResult(NOT_VERIFIED, "GitHub still accepts the token", 200, LIVE.summary())
    return StepResult(VERIFIED, "GitHub refuses the token (401)", 401, LIVE.summary())
