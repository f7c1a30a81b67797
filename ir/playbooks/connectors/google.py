"""Google Workspace connector: delete the OAuth grants a traced client holds on users' accounts.

One `delete_oauth_grant` step per traced `google_oauth_grant`
(`<client_id>/<user email>`): Directory `tokens.delete` removes every token the
user issued to that client (revocation-apis.md §5); a 404 means it was already
gone. Verify lists the user's tokens and expects the client to be absent. The
client itself (a third party's app) has no revocation call: blocking it is an
Admin console setting. Settings: `GOOGLE_APPLICATION_CREDENTIALS`,
`IR_GOOGLE_ADMIN_SUBJECT`, `IR_GOOGLE_API_URL`; scope
`admin.directory.user.security` delegated to the service account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ir.playbooks.connectors._saas import env, gone_is_done, step, traced, value_of
from ir.playbooks.connectors.base import (
    NOT_VERIFIED,
    VERIFIED,
    Call,
    PlanChoices,
    Secrets,
    Step,
    StepResult,
)
from ir.providers.google import SCOPE_USER_SECURITY, GoogleClient

if TYPE_CHECKING:
    from ir.trace import Trace

PROVIDER = "google"


def _client() -> GoogleClient:
    return GoogleClient.from_env(env(), scopes=(SCOPE_USER_SECURITY,))


def _grant(step: Step) -> tuple[str, str]:
    """(client id, user email) of a grant target."""
    client_id, _, user = value_of(step).rpartition("/")
    return client_id, user


def _delete_call(client_id: str, user: str) -> Call:
    return Call(f"DELETE /admin/directory/v1/users/{user}/tokens/{client_id}")


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    steps = []
    for grant in traced(trace, ["google_oauth_grant"]):
        client_id, _, user = grant.value.rpartition("/")
        steps.append(
            step(
                PROVIDER,
                "delete_oauth_grant",
                grant.id,
                f"OAuth grant of {user} to a client whose tokens were abused",
                _delete_call(client_id, user),
                credentials=[grant.id],
            )
        )
    return steps


def check_settings() -> None:
    _client().close()


def calls(step: Step) -> list[Call]:
    token = Call("POST {token_uri}", {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"})
    return [token, _delete_call(*_grant(step))]


def execute(step: Step, secrets: Secrets) -> StepResult:
    client_id, user = _grant(step)
    with _client() as google:
        return gone_is_done(
            lambda: google.delete_token(user, client_id), _delete_call(client_id, user)
        )


def verify(step: Step, secrets: Secrets) -> StepResult:
    client_id, user = _grant(step)
    with _client() as google:
        granted = {str(t.get("clientId")) for t in google.tokens(user)}
    if client_id in granted:
        return StepResult(NOT_VERIFIED, f"{user} still has tokens for the client", 200)
    return StepResult(VERIFIED, f"{user} has no token for the client", 200)
