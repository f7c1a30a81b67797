"""Slack connector: invalidate hijacked sessions, then reset every session of their users.

Steps: `invalidate_session` per traced `slack_session` (`admin.users.session.invalidate`;
`session_not_found` means already done), then `reset_user_sessions` per user
(`admin.users.session.reset`, the user id being the trace's principal). Both are
Enterprise Grid admin methods (scope `admin.users:write`, revocation-apis.md §6).
Verify lists the user's active sessions. Settings: `SLACK_TOKEN`, `IR_SLACK_API_URL`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ir.errors import UsageError
from ir.playbooks.connectors._saas import by_principal, env, gone_is_done, step, traced, value_of
from ir.playbooks.connectors.base import (
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    Call,
    PlanChoices,
    Secrets,
    Step,
    StepResult,
)
from ir.providers.slack import SlackClient

if TYPE_CHECKING:
    from ir.trace import Trace

PROVIDER = "slack"


def _client() -> SlackClient:
    return SlackClient.from_env(env())


def _call(action: str, value: str, user: str) -> Call:
    if action == "invalidate_session":
        return Call("POST /admin.users.session.invalidate", {"session_id": value, "user_id": user})
    return Call("POST /admin.users.session.reset", {"user_id": value})


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    steps = []
    for user, sessions in by_principal(traced(trace, ["slack_session"])).items():
        steps += [
            step(
                PROVIDER,
                "invalidate_session",
                s.id,
                "Slack session used in the incident",
                _call("invalidate_session", s.value, user),
                credentials=[s.id],
                options={"user_id": user},
            )
            for s in sessions
        ]
        steps.append(
            step(
                PROVIDER,
                "reset_user_sessions",
                f"slack_user:{user}",
                "wipe every session of the user whose session was used",
                _call("reset_user_sessions", user, user),
                credentials=[s.id for s in sessions],
            )
        )
    return steps


def _user(step: Step) -> str:
    return str(step.options.get("user_id") or value_of(step))


def _session_id(step: Step) -> int:
    value = value_of(step)
    if not value.isdigit():
        raise UsageError(f"{step.target}: a Slack session id is a number")
    return int(value)


def check_settings() -> None:
    _client().close()


def calls(step: Step) -> list[Call]:
    return [_call(step.action, value_of(step), _user(step))]


def execute(step: Step, secrets: Secrets) -> StepResult:
    call = _call(step.action, value_of(step), _user(step))
    with _client() as slack:
        if step.action == "invalidate_session":
            session = _session_id(step)
            return gone_is_done(lambda: slack.invalidate_session(session, _user(step)), call)
        slack.reset_sessions(_user(step))
    return StepResult(DONE, "", 200, call.summary())


def verify(step: Step, secrets: Secrets) -> StepResult:
    with _client() as slack:
        active = {int(s["session_id"]) for s in slack.sessions(_user(step))}
    still = {_session_id(step)} & active if step.action == "invalidate_session" else active
    if still:
        return StepResult(NOT_VERIFIED, f"still active: {', '.join(map(str, sorted(still)))}", 200)
    return StepResult(VERIFIED, "no such active session", 200)
