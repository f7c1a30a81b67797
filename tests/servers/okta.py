"""A local Okta Management API: API tokens, sessions, users, grants, and the System Log.

Behaviour (revocation-apis.md §3, §8): `SSWS` or `Bearer` only; a bad or missing
token → 401 `E0000011` "Invalid token provided"; a token without the scope → 403
`E0000006`; a revoked (or unknown) API token, session or user → 404 `E0000007` on
DELETE and GET; suspending a non-ACTIVE user → 400 `E0000001`; throttling → 429
`E0000047` with `X-Rate-Limit-Limit/-Remaining/-Reset` (epoch seconds). The System
Log pages with `Link: <…&after=…>; rel="next"` and filters `published` on
`since`/`until`. Clearing the sessions of a user without sessions answers 204
(revocation-apis.md marks that unverified).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.servers.base import FakeApi, Reply, Request, route, within

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def error(code: str, summary: str) -> dict[str, Any]:
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": f"oae{code}",
        "errorCauses": [],
    }


NOT_FOUND = "Not found: Resource not found: {} ({})"


def log_events() -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / "okta" / "logs-page.json").read_text()))


class OktaApi(FakeApi):
    def __init__(self, tokens: dict[str, set[str]]) -> None:
        super().__init__()
        self.tokens = tokens  # API token value -> the okta.* scopes it may use
        self.api_tokens: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, list[dict[str, Any]]] = {}
        self.cleared: list[tuple[str, str | None]] = []  # (user id, oauthTokens)
        self.logs = log_events()

    def authenticate(self, request: Request) -> Reply | None:
        token = self.bearer(request, "SSWS") or self.bearer(request, "Bearer")
        if token not in self.tokens:
            return Reply(401, error("E0000011", "Invalid token provided"))
        return None

    def needs(self, request: Request, scope: str) -> Reply | None:
        token = self.bearer(request, "SSWS") or self.bearer(request, "Bearer") or ""
        if scope in self.tokens.get(token, set()):
            return None
        return Reply(
            403, error("E0000006", "You do not have permission to perform the requested action")
        )

    def rate_limited(self, reset: int = 0, limit: int = 600) -> Reply:
        headers = {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(reset),
        }
        body = error("E0000047", "API call exceeded rate limit due to too many requests.")
        return Reply(429, body, headers)

    def missing(self, what: str, key: str) -> Reply:
        return Reply(404, error("E0000007", NOT_FOUND.format(key, what)))

    def user_id(self, key: str) -> str | None:
        """A user id from an id or a login."""
        for uid, user in self.users.items():
            if key in (uid, user["profile"]["login"]):
                return uid
        return None

    # API tokens ----------------------------------------------------------------------------

    @route("GET", "/api/v1/api-tokens/([^/]+)")
    def get_api_token(self, request: Request, token_id: str) -> Reply:
        token = self.api_tokens.get(token_id)
        return Reply(200, token) if token else self.missing("ApiToken", token_id)

    @route("DELETE", "/api/v1/api-tokens/([^/]+)")
    def revoke_api_token(self, request: Request, token_id: str) -> Reply:
        refused = self.needs(request, "okta.apiTokens.manage")
        if refused:
            return refused
        if self.api_tokens.pop(token_id, None) is None:
            return self.missing("ApiToken", token_id)
        return Reply(204)

    # sessions and users --------------------------------------------------------------------

    @route("GET", "/api/v1/sessions/([^/]+)")
    def get_session(self, request: Request, session_id: str) -> Reply:
        session = self.sessions.get(session_id)
        return Reply(200, session) if session else self.missing("Session", session_id)

    @route("DELETE", "/api/v1/sessions/([^/]+)")
    def revoke_session(self, request: Request, session_id: str) -> Reply:
        refused = self.needs(request, "okta.sessions.manage")
        if refused:
            return refused
        if self.sessions.pop(session_id, None) is None:
            return self.missing("Session", session_id)
        return Reply(204)

    @route("DELETE", "/api/v1/users/([^/]+)/sessions")
    def clear_sessions(self, request: Request, user: str) -> Reply:
        refused = self.needs(request, "okta.users.manage")
        uid = self.user_id(user)
        if refused or uid is None:
            return refused or self.missing("User", user)
        self.sessions = {k: s for k, s in self.sessions.items() if s["userId"] != uid}
        self.cleared.append((uid, request.arg("oauthTokens")))
        return Reply(204)

    @route("GET", "/api/v1/users/([^/]+)")
    def get_user(self, request: Request, user: str) -> Reply:
        uid = self.user_id(user)
        return Reply(200, self.users[uid]) if uid else self.missing("User", user)

    @route("POST", "/api/v1/users/([^/]+)/lifecycle/suspend")
    def suspend(self, request: Request, user: str) -> Reply:
        refused = self.needs(request, "okta.users.manage")
        uid = self.user_id(user)
        if refused or uid is None:
            return refused or self.missing("User", user)
        if self.users[uid]["status"] != "ACTIVE":
            return Reply(
                400,
                error(
                    "E0000001", "Api validation failed: Cannot suspend a user that is not active"
                ),
            )
        self.users[uid]["status"] = "SUSPENDED"
        return Reply(200, {})

    @route("GET", "/api/v1/users/([^/]+)/grants")
    def list_grants(self, request: Request, user: str) -> Reply:
        items, after = self.paginate(self.grants.get(user, []), request.arg("after"))
        headers = {"Link": f'<{self.next_url(request, after=after)}>; rel="next"'} if after else {}
        return Reply(200, items, headers)

    @route("DELETE", "/api/v1/users/([^/]+)/grants")
    def revoke_grants(self, request: Request, user: str) -> Reply:
        refused = self.needs(request, "okta.users.manage")
        if refused:
            return refused
        self.grants[user] = []
        return Reply(204)

    # System Log ----------------------------------------------------------------------------

    @route("GET", "/api/v1/logs")
    def logs(self, request: Request) -> Reply:
        refused = self.needs(request, "okta.logs.read")
        if refused:
            return refused
        since, until = request.arg("since"), request.arg("until")
        events = [e for e in self.logs if within(e["published"], since, until)]
        limit = int(request.arg("limit", "100") or 100)
        page, after = self.paginate(events, request.arg("after"), limit)
        headers = {"Link": f'<{self.next_url(request, after=after)}>; rel="next"'} if after else {}
        return Reply(200, page, headers)
