"""Slack Web API and Audit Logs API client: session reset/invalidate, token revocation, audit logs.

Settings (contract §6): `SLACK_TOKEN` (an org owner/admin user token, `xoxp-…`);
Web API base `IR_SLACK_API_URL`, default `https://slack.com/api` (methods are paths,
`/admin.users.session.reset`); Audit Logs base `IR_SLACK_AUDIT_URL`, default
`https://api.slack.com` (path `/audit/v1/logs`). Calls send `Authorization: Bearer`.

The Web API answers HTTP 200 with `{"ok": false, "error": …}` for its errors, so
they are mapped here as HTTP errors elsewhere: `not_authed`, `invalid_auth`,
`token_revoked`, `token_expired`, `account_inactive` → `AuthError` naming
`SLACK_TOKEN`; `missing_scope` → `AuthError` naming the `needed` scope;
`ratelimited` → retried; `*_not_found` → `Gone`; anything else → `Rejected`.

Verified (2026-12): Web API results carry `ok`, `error`, and
`response_metadata.next_cursor` (Slack's Node SDK reference,
https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebAPICallResult);
rate-limited calls are HTTP 429 with `Retry-After` (revocation-apis.md §6; the
SDKs' `retryAfter`, https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebAPIRateLimitedError).
The Audit Logs API is REST at `https://api.slack.com/audit/v1/`, "standard HTTP
status codes", `Authorization: Bearer xoxp-…` with `auditlogs:read`, Tier 3
(https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference);
`GET /audit/v1/logs` takes `oldest`, `latest`, `limit`, `cursor` and answers
`entries` with `response_metadata.next_cursor`
(https://docs.rs/crate/helr/0.4.0/source/docs/integrations/slack.md, citing Slack's guide).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from ir.providers.http import (
    AuthError,
    Gone,
    Page,
    PageRequest,
    ProviderClient,
    ProviderError,
    RateLimited,
    Rejected,
    Secret,
    Settings,
    by_body_token,
    json_or_none,
    page_request,
    retry_after,
)

DEFAULT_URL = "https://slack.com/api"
DEFAULT_AUDIT_URL = "https://api.slack.com"
AUTH_ERRORS = frozenset(
    {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"}
)
SCOPE_ADMIN_USERS = "admin.users:write"
SCOPE_AUDIT = "auditlogs:read"


class SlackClient(ProviderClient):
    """Slack's Web API (admin methods) and Audit Logs API with the token from `SLACK_TOKEN`."""

    provider = "slack"
    credential_settings = "SLACK_TOKEN"

    def __init__(self, base_url: str, token: Secret, *, audit_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self.audit_url = audit_url.rstrip("/")
        self._token = token

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> SlackClient:
        settings = Settings(cls.provider, env)
        base = settings.url("IR_SLACK_API_URL", default=DEFAULT_URL)
        audit = settings.url("IR_SLACK_AUDIT_URL", default=DEFAULT_AUDIT_URL)
        token = settings.secret("SLACK_TOKEN")
        settings.check()
        return cls(base, token, audit_url=audit, **kw)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.reveal()}"}

    def secrets(self) -> list[Secret]:
        return [self._token]

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        body = json_or_none(response)
        if isinstance(body, dict) and body.get("error"):
            return str(body["error"]), str(body["error"])
        return None, response.reason_phrase or f"HTTP {response.status_code}"

    def classify(self, response: httpx.Response, permission: str | None) -> ProviderError | None:
        error = super().classify(response, permission)
        if error is not None:
            return error
        body = json_or_none(response)
        if not isinstance(body, dict) or body.get("ok", True):
            return None
        return self._method_error(response, body)

    def _method_error(self, response: httpx.Response, body: dict[str, Any]) -> ProviderError:
        """The typed error of an HTTP-200 `ok:false` answer."""
        code = str(body.get("error") or "unknown_error")
        where = f"{response.request.method} {response.request.url.path}"
        if code in AUTH_ERRORS:
            return AuthError(
                self.provider,
                self.unauthenticated(where, code),
                status=response.status_code,
                code=code,
            )
        if code == "missing_scope":
            needed = body.get("needed") or "the scope this method needs"
            return AuthError(
                self.provider,
                f"{where}: missing_scope: the token in SLACK_TOKEN needs {needed}",
                status=response.status_code,
                code=code,
            )
        if code == "ratelimited":
            return RateLimited(
                self.provider, f"{where}: ratelimited", wait=retry_after(response), code=code
            )
        if code.endswith("_not_found"):
            return Gone(self.provider, f"{where}: {code}", status=response.status_code, code=code)
        return Rejected(self.provider, f"{where}: {code}", status=response.status_code, code=code)

    def call(
        self, method: str, *, permission: str | None = None, **arguments: Any
    ) -> dict[str, Any]:
        """Call a Web API method with a JSON body; the `ok:true` result."""
        response = self.request("POST", f"/{method}", json=arguments, permission=permission)
        return dict(response.json())

    # sessions and tokens -------------------------------------------------------------------

    def reset_sessions(
        self, user_id: str, *, mobile_only: bool = False, web_only: bool = False
    ) -> None:
        """Wipe a user's sessions (`admin.users.session.reset`, Enterprise Grid)."""
        self.call(
            "admin.users.session.reset",
            permission=SCOPE_ADMIN_USERS,
            user_id=user_id,
            mobile_only=mobile_only,
            web_only=web_only,
        )

    def invalidate_session(self, session_id: int, user_id: str, team_id: str | None = None) -> None:
        """End one session (`admin.users.session.invalidate`; `session_not_found` → `Gone`)."""
        arguments: dict[str, Any] = {"session_id": session_id, "user_id": user_id}
        if team_id:
            arguments["team_id"] = team_id
        self.call("admin.users.session.invalidate", permission=SCOPE_ADMIN_USERS, **arguments)

    def sessions(self, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """A user's active sessions (`admin.users.session.list`, cursor-paginated)."""
        start = page_request("/admin.users.session.list", {"user_id": user_id, "limit": limit})
        reader = by_body_token("active_sessions", ("response_metadata", "next_cursor"), "cursor")
        return list(self.records(start, reader, permission=SCOPE_ADMIN_USERS))

    def revoke_token(self, token: Secret) -> bool:
        """Revoke a leaked token with itself (`auth.revoke`); False when it was already dead."""
        try:
            self.request(
                "POST",
                "/auth.revoke",
                headers={"Authorization": f"Bearer {token.reveal()}"},
                authenticate=False,
                secrets=[token],
            )
        except AuthError as exc:
            if exc.code in AUTH_ERRORS:
                return False
            raise
        return True

    # audit logs ----------------------------------------------------------------------------

    def audit_pages(
        self,
        *,
        oldest: int | None = None,
        latest: int | None = None,
        limit: int = 1000,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of `GET /audit/v1/logs` between two Unix times; from `resume` (a journaled
        next-page request) when given."""
        start = resume or page_request(
            f"{self.audit_url}/audit/v1/logs", {"oldest": oldest, "latest": latest, "limit": limit}
        )
        reader = by_body_token("entries", ("response_metadata", "next_cursor"), "cursor")
        return self.pages(start, reader, permission=SCOPE_AUDIT)
