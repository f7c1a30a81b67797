"""Okta connector: revoke minted API tokens, end hijacked sessions, clear the user's sessions.

Steps, in order: `revoke_api_token` per traced `okta_api_token`; `revoke_session`
per traced `okta_session` (the System Log's `externalSessionId`, taken to be the
Sessions API id — revocation-apis.md §3 marks that unverified, so the user-wide
step follows); `clear_user_sessions` per principal with sessions (also revoking
its OAuth tokens); with `quarantine`, `suspend_user`. A 404 (E0000007) on a
revocation means it was already done. Settings: `OKTA_CLIENT_TOKEN`,
`IR_OKTA_ORG_URL` (or `OKTA_CLIENT_ORGURL`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ir.playbooks.connectors._saas import by_principal, env, gone_is_done, step, traced, value_of
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
from ir.providers.http import Gone
from ir.providers.okta import OktaClient

if TYPE_CHECKING:
    from ir.trace import Trace

PROVIDER = "okta"


def _client() -> OktaClient:
    return OktaClient.from_env(env())


def _call(action: str, value: str) -> Call:
    """The call a step of `action` on `value` makes."""
    return {
        "revoke_api_token": Call(f"DELETE /api/v1/api-tokens/{value}"),
        "revoke_session": Call(f"DELETE /api/v1/sessions/{value}"),
        "clear_user_sessions": Call(
            "DELETE /api/v1/users/{userId}/sessions", {"user": value, "oauthTokens": "true"}
        ),
        "suspend_user": Call("POST /api/v1/users/{userId}/lifecycle/suspend", {"user": value}),
    }[action]


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    tokens = traced(trace, ["okta_api_token"])
    sessions = traced(trace, ["okta_session"])
    steps = [
        _step("revoke_api_token", t.id, "API token minted or used in the incident", [t.id])
        for t in tokens
    ]
    steps += [_step("revoke_session", s.id, "hijacked Okta session", [s.id]) for s in sessions]
    for user, own in by_principal(sessions).items():
        ids = [s.id for s in own]
        steps.append(
            _step(
                "clear_user_sessions",
                f"okta_user:{user}",
                "end every session and OAuth token of the user whose session was hijacked",
                ids,
            )
        )
        if choices.quarantine:
            steps.append(
                _step(
                    "suspend_user",
                    f"okta_user:{user}",
                    "quarantine: suspend the user until reviewed",
                    ids,
                )
            )
    return steps


def _step(action: str, target: str, reason: str, credentials: list[str]) -> Step:
    call = _call(action, target.split(":", 1)[1])
    return step(PROVIDER, action, target, reason, call, credentials=credentials)


def check_settings() -> None:
    _client().close()


def calls(step: Step) -> list[Call]:
    own = _call(step.action, value_of(step))
    if step.target.startswith("okta_user:"):
        return [Call("GET /api/v1/users/{login}", {"login": value_of(step)}), own]
    return [own]


def execute(step: Step, secrets: Secrets) -> StepResult:
    value = value_of(step)
    call = _call(step.action, value)
    with _client() as okta:
        if step.action == "revoke_api_token":
            return gone_is_done(lambda: okta.revoke_api_token(value), call)
        if step.action == "revoke_session":
            return gone_is_done(lambda: okta.revoke_session(value), call)
        user = okta.user(value)
        if step.action == "clear_user_sessions":
            okta.clear_user_sessions(str(user["id"]), oauth_tokens=True)
            return StepResult(DONE, "", 204, call.summary())
        if user.get("status") == "SUSPENDED":
            return StepResult(ALREADY_DONE, "the user is already suspended", 200, call.summary())
        okta.suspend_user(str(user["id"]))
        return StepResult(DONE, "", 200, call.summary())


def verify(step: Step, secrets: Secrets) -> StepResult:
    with _client() as okta:
        if step.action == "suspend_user":
            status = okta.user(value_of(step)).get("status")
            ok = status == "SUSPENDED"
            return StepResult(VERIFIED if ok else NOT_VERIFIED, f"user status {status}", 200)
        read = okta.api_token if step.action == "revoke_api_token" else okta.session
        alive = [c for c in step.credentials if _exists(read, c.split(":", 1)[1])]
    if alive:
        return StepResult(NOT_VERIFIED, f"still active: {', '.join(alive)}", 200)
    return StepResult(VERIFIED, "Okta answers 404 for each", 404)


def _exists(read: Callable[[str], object], key: str) -> bool:
    try:
        read(key)
    except Gone:
        return False
    return True
