"""Okta Management API client: API tokens, sessions, users, grants, and the System Log.

Settings (contract §6): `OKTA_CLIENT_TOKEN` (an API token, sent as
`Authorization: SSWS <token>`); base `IR_OKTA_ORG_URL` (or `OKTA_CLIENT_ORGURL`),
`https://{org}.okta.com`, no default. Paths carry `/api/v1`.

Verified against Okta's documentation (2026-12):
- Errors are `{"errorCode","errorSummary","errorLink","errorId","errorCauses"}`
  (https://developer.okta.com/docs/reference/error-codes/); an invalid or revoked
  token → 401 `E0000011` "Invalid token provided"
  (https://support.okta.com/help/s/article/HTTP-401-Okta-E0000011-Invalid-Token-provided-error);
  no permission → 403 `E0000006`; not found → 404 `E0000007`.
- Rate limits: 429 with `X-Rate-Limit-Limit`, `-Remaining` and `-Reset`, the reset
  "specified in UTC epoch time (in seconds)"
  (https://developer.okta.com/docs/reference/rl-best-practices/); the 429 body's
  code `E0000047` is from third-party test suites, not Okta's page.
- System Log `GET /api/v1/logs` takes `since`, `until`, `limit`, `after`; "Okta
  returns a link in the HTTP Header (`rel=next`) that includes the after query
  parameter" (Okta's generated SDK, https://www.powershellgallery.com/packages/Okta.PowerShell/2.0.2/Content/Api%5COktaSystemLogApi.ps1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from ir.providers.http import (
    Page,
    PageRequest,
    ProviderClient,
    Secret,
    Settings,
    by_link_header,
    json_or_none,
    page_request,
)

SCOPE_API_TOKENS = "okta.apiTokens.manage"
SCOPE_SESSIONS = "okta.sessions.manage"
SCOPE_USERS = "okta.users.manage"
SCOPE_LOGS = "okta.logs.read"


class OktaClient(ProviderClient):
    """Okta's Management API with the SSWS token from `OKTA_CLIENT_TOKEN`."""

    provider = "okta"
    credential_settings = "OKTA_CLIENT_TOKEN"

    def __init__(self, base_url: str, token: Secret, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._token = token

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> OktaClient:
        settings = Settings(cls.provider, env)
        base = settings.url("IR_OKTA_ORG_URL", "OKTA_CLIENT_ORGURL")
        token = settings.secret("OKTA_CLIENT_TOKEN")
        settings.check()
        return cls(base, token, **kw)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"SSWS {self._token.reveal()}", "Accept": "application/json"}

    def secrets(self) -> list[Secret]:
        return [self._token]

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        body = json_or_none(response)
        if isinstance(body, dict) and "errorCode" in body:
            return str(body["errorCode"]), str(body.get("errorSummary") or "")
        return None, response.reason_phrase or f"HTTP {response.status_code}"

    def rate_limit_wait(self, response: httpx.Response, code: str | None) -> float | None:
        reset = response.headers.get("x-rate-limit-reset")
        if reset is not None:
            return max(0.0, float(reset) - self.clock())
        return super().rate_limit_wait(response, code)

    # API tokens ----------------------------------------------------------------------------

    def revoke_api_token(self, token_id: str) -> None:
        """Revoke an API token (204; an unknown or revoked id → `Gone`, 404 E0000007)."""
        self.request("DELETE", f"/api/v1/api-tokens/{token_id}", permission=SCOPE_API_TOKENS)

    def api_token(self, token_id: str) -> dict[str, Any]:
        """An active API token's metadata (`Gone` once revoked)."""
        return dict(self.request("GET", f"/api/v1/api-tokens/{token_id}").json())

    # sessions and users --------------------------------------------------------------------

    def clear_user_sessions(self, user_id: str, *, oauth_tokens: bool = True) -> None:
        """End every session of a user, and (by default) revoke its OAuth tokens too (204)."""
        self.request(
            "DELETE",
            f"/api/v1/users/{user_id}/sessions",
            params={"oauthTokens": str(oauth_tokens).lower()},
            permission=SCOPE_USERS,
        )

    def revoke_session(self, session_id: str) -> None:
        """End one session (204; unknown → `Gone`)."""
        self.request("DELETE", f"/api/v1/sessions/{session_id}", permission=SCOPE_SESSIONS)

    def session(self, session_id: str) -> dict[str, Any]:
        """One session (`Gone` once ended)."""
        return dict(self.request("GET", f"/api/v1/sessions/{session_id}").json())

    def user(self, user: str) -> dict[str, Any]:
        """A user by id or login."""
        return dict(self.request("GET", f"/api/v1/users/{user}").json())

    def suspend_user(self, user_id: str) -> None:
        """Suspend an ACTIVE user (200; not ACTIVE → `Rejected`, 400 E0000001)."""
        self.request("POST", f"/api/v1/users/{user_id}/lifecycle/suspend", permission=SCOPE_USERS)

    def revoke_user_grants(self, user_id: str) -> None:
        """Revoke every OAuth grant of a user (204)."""
        self.request("DELETE", f"/api/v1/users/{user_id}/grants", permission=SCOPE_USERS)

    def user_grants(self, user_id: str) -> list[dict[str, Any]]:
        """A user's OAuth grants (Link-paginated)."""
        start = page_request(f"/api/v1/users/{user_id}/grants")
        return list(self.records(start, by_link_header()))

    # System Log ----------------------------------------------------------------------------

    def log_pages(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        limit: int = 1000,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of the System Log between `since` and `until` (ISO 8601), oldest first;
        from `resume` (a journaled next-page request) when given."""
        start = resume or page_request(
            "/api/v1/logs",
            {"since": since, "until": until, "limit": limit, "sortOrder": "ASCENDING"},
        )
        return self.pages(start, by_link_header(), permission=SCOPE_LOGS)
