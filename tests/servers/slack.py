"""A local Slack Web API (admin session methods, auth.revoke) and Audit Logs API.

Behaviour (revocation-apis.md §6, §8): Web API methods answer HTTP 200 with
`ok:false` for errors — no token → `not_authed`, a bad one → `invalid_auth`, a
missing scope → `missing_scope` with `needed`/`provided`; `session_not_found`,
`user_not_found`; `auth.revoke` revokes the token it is called with
(`revoked: true`) and that token is then `invalid_auth`; rate limits are HTTP 429
with `Retry-After`. `admin.users.session.list` and the Audit Logs API page with
`response_metadata.next_cursor`. The Audit Logs API uses HTTP status codes; its
401 body (`ok:false`, `invalid_auth`) is unverified.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.servers.base import FakeApi, Reply, Request, route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def audit_entries() -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / "slack" / "audit-page.json").read_text())["entries"])


class SlackApi(FakeApi):
    def __init__(self, tokens: dict[str, set[str]]) -> None:
        super().__init__()
        self.tokens = tokens  # token -> scopes
        self.sessions: list[dict[str, Any]] = []  # {"session_id", "user_id", "team_id", "type"}
        self.users: set[str] = set()
        self.entries = audit_entries()

    def token(self, request: Request) -> str | None:
        """The header token, else the `token` form argument (Slack accepts both)."""
        return self.bearer(request) or self.arguments(request).get("token")

    def method_auth(self, request: Request, scope: str | None) -> Reply | None:
        token = self.token(request)
        if not token:
            return Reply(200, {"ok": False, "error": "not_authed"})
        if token not in self.tokens:
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        if scope and scope not in self.tokens[token]:
            provided = ",".join(sorted(self.tokens[token]))
            return Reply(
                200, {"ok": False, "error": "missing_scope", "needed": scope, "provided": provided}
            )
        return None

    def rate_limited(self, retry_after: float = 1) -> Reply:
        return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})

    def arguments(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(request.json() or {})
        return {
            **{k: v[0] for k, v in request.query.items()},
            **(request.form() if request.body else {}),
        }

    # sessions ------------------------------------------------------------------------------

    @route("POST", "/api/admin.users.session.reset", public=True)
    def reset(self, request: Request) -> Reply:
        refused = self.method_auth(request, "admin.users:write")
        args = self.arguments(request)
        if refused or args.get("user_id") not in self.users:
            return refused or Reply(200, {"ok": False, "error": "user_not_found"})
        kinds = (
            {"mobile"}
            if args.get("mobile_only")
            else {"web"}
            if args.get("web_only")
            else {"mobile", "web"}
        )
        self.sessions = [
            s for s in self.sessions if not (s["user_id"] == args["user_id"] and s["type"] in kinds)
        ]
        return Reply(200, {"ok": True})

    @route("POST", "/api/admin.users.session.invalidate", public=True)
    def invalidate(self, request: Request) -> Reply:
        refused = self.method_auth(request, "admin.users:write")
        args = self.arguments(request)
        if refused:
            return refused
        if not isinstance(args.get("session_id"), int) or not args.get("user_id"):
            return Reply(200, {"ok": False, "error": "invalid_arguments"})
        kept = [s for s in self.sessions if s["session_id"] != args["session_id"]]
        if len(kept) == len(self.sessions):
            return Reply(200, {"ok": False, "error": "session_not_found"})
        self.sessions = kept
        return Reply(200, {"ok": True})

    @route("GET", "/api/admin.users.session.list", public=True)
    def list_sessions(self, request: Request) -> Reply:
        refused = self.method_auth(request, "admin.users:write")
        if refused:
            return refused
        user = request.arg("user_id")
        mine = [s for s in self.sessions if user is None or s["user_id"] == user]
        page, cursor = self.paginate(
            mine, request.arg("cursor"), int(request.arg("limit", "100") or 100)
        )
        return Reply(
            200,
            {
                "ok": True,
                "active_sessions": page,
                "response_metadata": {"next_cursor": cursor or ""},
            },
        )

    @route("POST", "/api/auth.revoke", public=True)
    def revoke(self, request: Request) -> Reply:
        refused = self.method_auth(request, None)
        if refused:
            return refused
        if self.arguments(request).get("test"):
            return Reply(200, {"ok": True, "revoked": False})
        del self.tokens[self.token(request) or ""]
        return Reply(200, {"ok": True, "revoked": True})

    # Audit Logs API ------------------------------------------------------------------------

    @route("GET", "/audit/v1/logs", public=True)
    def audit_logs(self, request: Request) -> Reply:
        token = self.bearer(request)
        if token not in self.tokens:
            return Reply(401, {"ok": False, "error": "invalid_auth"})
        if "auditlogs:read" not in self.tokens[token]:
            return Reply(403, {"ok": False, "error": "missing_scope", "needed": "auditlogs:read"})
        oldest, latest = request.arg("oldest"), request.arg("latest")
        chosen = [
            e
            for e in self.entries
            if (oldest is None or e["date_create"] >= int(oldest))
            and (latest is None or e["date_create"] <= int(latest))
        ]
        page, cursor = self.paginate(
            chosen, request.arg("cursor"), int(request.arg("limit", "100") or 100)
        )
        return Reply(200, {"entries": page, "response_metadata": {"next_cursor": cursor or ""}})
