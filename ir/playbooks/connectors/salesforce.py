"""Salesforce connector: revoke a connected app's OAuth tokens, end sessions, freeze the user.

Steps (revocation-apis.md §7): `revoke_app_tokens` per traced
`salesforce_connected_app` — `OauthToken` cannot be deleted, so its rows for the
app's user are queried and each `DeleteToken` is posted to `/services/oauth2/revoke`
(400 `invalid_token` = already revoked); `end_user_sessions` per user of the traced
logins/sessions — each `AuthSession` of the user is deleted (404 = already ended);
with `quarantine`, `freeze_user` (`UserLogin.IsFrozen`). The user is the trace's
principal (an `005…` id), checked before it goes into SOQL. Settings:
`SALESFORCE_ACCESS_TOKEN`, `IR_SALESFORCE_INSTANCE_URL`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ir.errors import UsageError
from ir.playbooks.connectors._saas import by_principal, env, step, traced, value_of
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
from ir.providers.http import Gone, Secret
from ir.providers.salesforce import SalesforceClient

if TYPE_CHECKING:
    from ir.trace import Trace

PROVIDER = "salesforce"
USER_ID = re.compile(r"005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")
QUERIES = {
    "revoke_app_tokens": "SELECT Id, AppName, DeleteToken FROM OauthToken WHERE UserId='{user}'",
    "end_user_sessions": "SELECT Id FROM AuthSession WHERE UsersId='{user}'",
    "freeze_user": "SELECT Id, IsFrozen FROM UserLogin WHERE UserId='{user}'",
}
FOLLOW_UP = {
    "revoke_app_tokens": Call(
        "POST /services/oauth2/revoke", {"token": "<DeleteToken>"}, when="per row"
    ),
    "end_user_sessions": Call(
        "DELETE /services/data/vXX.X/sobjects/AuthSession/{Id}", when="per row"
    ),
    "freeze_user": Call(
        "PATCH /services/data/vXX.X/sobjects/UserLogin/{Id}", {"IsFrozen": True}, when="not frozen"
    ),
}


def _client() -> SalesforceClient:
    return SalesforceClient.from_env(env())


def _user(step: Step) -> str:
    return _checked(str(step.options.get("user_id") or value_of(step)), step.target)


def _checked(user: str, target: str) -> str:
    """A user id safe to put into SOQL (an id has no quote); anything else is refused."""
    if not USER_ID.fullmatch(user):
        raise UsageError(f"{target}: {user!r} is not a Salesforce user id (005…)")
    return user


def _query_call(action: str, user: str) -> Call:
    return Call("GET /services/data/vXX.X/query", {"q": QUERIES[action].format(user=user)})


def _query(step: Step) -> Call:
    return _query_call(step.action, _user(step))


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    steps = [
        _step(
            "revoke_app_tokens",
            app.id,
            "connected app whose OAuth tokens were stolen: revoke its tokens for its user",
            [app.id],
            app.principal,
        )
        for app in traced(trace, ["salesforce_connected_app"])
        if app.principal is not None
    ]
    users = by_principal(traced(trace, ["salesforce_login", "salesforce_session"]))
    for user, own in users.items():
        ids = [c.id for c in own]
        steps.append(
            _step(
                "end_user_sessions",
                f"salesforce_user:{user}",
                "end the sessions of the logins used in the incident",
                ids,
                user,
            )
        )
        if choices.quarantine:
            steps.append(
                _step(
                    "freeze_user",
                    f"salesforce_user:{user}",
                    "quarantine: freeze the user until reviewed",
                    ids,
                    user,
                )
            )
    return steps


def _step(action: str, target: str, reason: str, ids: list[str], user: str) -> Step:
    call = _query_call(action, _checked(user, target))
    return step(PROVIDER, action, target, reason, call, credentials=ids, options={"user_id": user})


def check_settings() -> None:
    _client().close()


def calls(step: Step) -> list[Call]:
    return [_query(step), FOLLOW_UP[step.action]]


def execute(step: Step, secrets: Secrets) -> StepResult:
    query = _query(step)
    with _client() as sf:
        rows = sf.query(str(query.params["q"]))
        done = [row for row in rows if _act(sf, step.action, row)]
    summary = f"{query.summary()}; {FOLLOW_UP[step.action].api} x{len(done)}"
    if not done:
        return StepResult(ALREADY_DONE, "nothing left to do", 200, summary)
    return StepResult(DONE, f"{len(done)} of {len(rows)} rows", 200, summary)


def _act(sf: SalesforceClient, action: str, row: dict[str, Any]) -> bool:
    """Apply the step to one queried row; False when it was already in that state."""
    if action == "revoke_app_tokens":
        return sf.revoke_token(Secret(str(row["DeleteToken"])))
    if action == "freeze_user":
        if row.get("IsFrozen"):
            return False
        sf.freeze_user(str(row["Id"]))
        return True
    try:
        sf.delete_session(str(row["Id"]))
    except Gone:
        return False
    return True


def verify(step: Step, secrets: Secrets) -> StepResult:
    with _client() as sf:
        rows = sf.query(str(_query(step).params["q"]))
    if step.action == "freeze_user":
        frozen = bool(rows) and all(row.get("IsFrozen") for row in rows)
        return StepResult(VERIFIED if frozen else NOT_VERIFIED, f"IsFrozen {frozen}", 200)
    if rows:
        return StepResult(NOT_VERIFIED, f"{len(rows)} rows remain", 200)
    return StepResult(VERIFIED, "no rows remain", 200)
