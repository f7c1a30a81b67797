"""Entra ID connector: revoke users' sign-in sessions, remove leaked app secrets, disable accounts.

Graph has no call that ends one session: the unit is the user
(revocation-apis.md §4). Steps: `revoke_sign_in_sessions` per user principal
(a UPN) of the traced `entra_session`/`entra_uti` credentials — verified by
`signInSessionsValidFromDateTime` moving past the last traced use;
`remove_app_secret` per traced `entra_app_credential` (its `keyId`), on the
application named by the trace's principal (resolved by display name at run
time, `options.application`); with `quarantine`, `disable_user`. Access tokens
already issued live on until they expire (about an hour) except on CAE
resources. Settings: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`,
`IR_GRAPH_API_URL`, `AZURE_AUTHORITY_HOST`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ir.playbooks.connectors._saas import Traced, by_principal, env, step, traced, value_of
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
from ir.providers.entra import EntraClient
from ir.providers.http import Gone

if TYPE_CHECKING:
    from ir.trace import Trace

PROVIDER = "entra"
USER_KINDS = ("entra_session", "entra_uti")


def _client() -> EntraClient:
    return EntraClient.from_env(env())


def _call(action: str, value: str, options: dict[str, Any]) -> Call:
    return {
        "revoke_sign_in_sessions": Call(f"POST /v1.0/users/{value}/revokeSignInSessions"),
        "disable_user": Call(f"PATCH /v1.0/users/{value}", {"accountEnabled": False}),
        "remove_app_secret": Call(
            "POST /v1.0/applications/{id}/removePassword",
            {"keyId": value, "application": options.get("application")},
        ),
    }[action]


def _step(action: str, target: str, reason: str, ids: list[str], **options: Any) -> Step:
    call = _call(action, target.split(":", 1)[1], options)
    return step(PROVIDER, action, target, reason, call, credentials=ids, options=options)


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    users = {u: own for u, own in by_principal(traced(trace, USER_KINDS)).items() if "@" in u}
    steps = [
        _step(
            "revoke_sign_in_sessions",
            f"entra_user:{user}",
            "hijacked sign-in session: invalidate the user's refresh tokens and session cookies",
            [c.id for c in own],
            after=_latest(own),
        )
        for user, own in users.items()
    ]
    steps += [
        _step(
            "remove_app_secret",
            secret.id,
            "application secret added in the incident",
            [secret.id],
            application=secret.principal,
        )
        for secret in traced(trace, ["entra_app_credential"])
    ]
    if choices.quarantine:
        steps += [
            _step(
                "disable_user",
                f"entra_user:{user}",
                "quarantine: block sign-in until reviewed",
                [c.id for c in own],
            )
            for user, own in users.items()
        ]
    return steps


def _latest(credentials: list[Traced]) -> str | None:
    seen = [c.last_seen for c in credentials if c.last_seen is not None]
    return max(seen).strftime("%Y-%m-%dT%H:%M:%SZ") if seen else None


def check_settings() -> None:
    _client().close()


def calls(step: Step) -> list[Call]:
    token = Call(
        "POST {AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token",
        {"grant_type": "client_credentials"},
    )
    own = _call(step.action, value_of(step), dict(step.options))
    if step.action == "remove_app_secret":
        find = Call(
            "GET /v1.0/applications",
            {"$filter": f"displayName eq '{step.options.get('application')}'"},
        )
        return [token, find, Call(own.api, own.params, when="the keyId is still listed")]
    return [token, own]


def execute(step: Step, secrets: Secrets) -> StepResult:
    value = value_of(step)
    call = _call(step.action, value, dict(step.options))
    with _client() as entra:
        if step.action == "revoke_sign_in_sessions":
            entra.revoke_sign_in_sessions(value)
            return StepResult(DONE, "", 200, call.summary())
        if step.action == "disable_user":
            entra.disable_user(value)
            return StepResult(DONE, "", 204, call.summary())
        app = _application_with(entra, step)
        if app is None:
            return StepResult(ALREADY_DONE, "no application lists the keyId", 200, call.summary())
        entra.remove_password(str(app["id"]), value)
        return StepResult(DONE, f"removed from application {app['id']}", 204, call.summary())


def _application_with(entra: EntraClient, step: Step) -> dict[str, Any] | None:
    """The application (of the step's display name) that still lists the secret's keyId."""
    name = str(step.options.get("application") or "")
    for app in entra.applications_named(name):
        if any(p.get("keyId") == value_of(step) for p in app.get("passwordCredentials") or []):
            return app
    return None


def verify(step: Step, secrets: Secrets) -> StepResult:
    value = value_of(step)
    with _client() as entra:
        if step.action == "remove_app_secret":
            app = _application_with(entra, step)
            if app is None:
                return StepResult(VERIFIED, "the keyId is no longer listed", 200)
            return StepResult(NOT_VERIFIED, f"application {app['id']} still lists it", 200)
        try:
            user = entra.user(value, select="accountEnabled,signInSessionsValidFromDateTime")
        except Gone as gone:
            return StepResult(NOT_VERIFIED, str(gone), gone.status)
    if step.action == "disable_user":
        enabled = user.get("accountEnabled")
        return StepResult(NOT_VERIFIED if enabled else VERIFIED, f"accountEnabled {enabled}", 200)
    valid_from = str(user.get("signInSessionsValidFromDateTime") or "")
    after = str(step.options.get("after") or "")
    ok = bool(valid_from) and valid_from[:19] > after[:19]
    return StepResult(
        VERIFIED if ok else NOT_VERIFIED,
        f"sessions valid from {valid_from or 'unset'} (last traced use {after or 'unknown'})",
        200,
    )
