"""A local Google OAuth token endpoint, Admin SDK (Directory, Reports) and Cloud IAM.

Behaviour (revocation-apis.md §5, §8): `POST /token` takes the JWT bearer grant,
verifies the RS256 signature with the service account's public key, `iss`,
`aud` (= this token URI), `exp`, that `sub` is an admin and that every requested
scope is delegated (else 401 `unauthorized_client`); a bad signature or subject →
400 `invalid_grant`. APIs want that bearer, else 401 `authError`; a token without
the scope → 403 `insufficientPermissions`. `tokens.delete` and `users.signOut`
answer an empty body (204); deleting a token that is gone → 404 `notFound`
(unverified); `keys:disable` → 200 `{}`, an unknown key → 404 `NOT_FOUND`;
throttling → 429 with `Retry-After`, or 403 `rateLimitExceeded`. Reports
`activities.list` pages with `nextPageToken` and filters on `startTime`/`endTime`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import jwt

from tests.servers.base import FakeApi, Reply, Request, route, within

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def api_error(code: int, message: str, reason: str, status: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }
    }


def activities() -> list[dict[str, Any]]:
    return list(
        json.loads((FIXTURES / "google_workspace" / "token-page.json").read_text())["items"]
    )


class GoogleApi(FakeApi):
    key_path: Path | None = None  # the service-account key file the fixture wrote for it

    def __init__(
        self, *, client_email: str, public_key: Any, admins: set[str], delegated: set[str]
    ) -> None:
        super().__init__()
        self.client_email = client_email
        self.public_key = public_key
        self.admins = admins
        self.delegated = delegated
        self.issued: dict[str, set[str]] = {}  # token -> scopes
        self._serial = itertools.count(1)
        self.user_tokens: dict[str, dict[str, dict[str, Any]]] = {}  # user -> client id -> token
        self.signed_out: list[str] = []
        self.keys: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.activities = activities()

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def authenticate(self, request: Request) -> Reply | None:
        if self.bearer(request) not in self.issued:
            return Reply(
                401,
                api_error(
                    401,
                    "Request had invalid authentication credentials.",
                    "authError",
                    "UNAUTHENTICATED",
                ),
            )
        return None

    def needs(self, request: Request, scope: str) -> Reply | None:
        if scope in self.issued.get(self.bearer(request) or "", set()):
            return None
        return Reply(
            403,
            api_error(
                403,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
                "PERMISSION_DENIED",
            ),
        )

    def rate_limited(self, retry_after: float | None = 1) -> Reply:
        if retry_after is None:
            return Reply(
                403, api_error(403, "Rate Limit Exceeded", "rateLimitExceeded", "PERMISSION_DENIED")
            )
        return Reply(
            429,
            api_error(429, "Quota exceeded.", "rateLimitExceeded", "RESOURCE_EXHAUSTED"),
            {"Retry-After": str(retry_after)},
        )

    def not_found(self, request: Request) -> Reply:
        return Reply(404, api_error(404, "Resource Not Found", "notFound", "NOT_FOUND"))

    # token endpoint ------------------------------------------------------------------------

    @route("POST", "/token", public=True)
    def token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") != JWT_BEARER:
            return Reply(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
            )
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                options={"require": ["iss", "aud", "exp", "iat", "scope"]},
            )
        except jwt.InvalidTokenError:
            return Reply(
                400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            )
        if claims["iss"] != self.client_email or claims.get("sub") not in self.admins:
            return Reply(
                400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
            )
        scopes = set(claims["scope"].split())
        if not scopes <= self.delegated:
            return Reply(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                },
            )
        token = f"ya29.local-{next(self._serial)}"
        self.issued[token] = scopes
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # Directory -----------------------------------------------------------------------------

    @route("GET", "/admin/directory/v1/users/([^/]+)/tokens")
    def list_tokens(self, request: Request, user: str) -> Reply:
        refused = self.needs(
            request, "https://www.googleapis.com/auth/admin.directory.user.security"
        )
        if refused or user not in self.user_tokens:
            return refused or self.not_found(request)
        return Reply(
            200,
            {"kind": "admin#directory#tokenList", "items": list(self.user_tokens[user].values())},
        )

    @route("DELETE", "/admin/directory/v1/users/([^/]+)/tokens/([^/]+)")
    def delete_token(self, request: Request, user: str, client_id: str) -> Reply:
        refused = self.needs(
            request, "https://www.googleapis.com/auth/admin.directory.user.security"
        )
        if refused or self.user_tokens.get(user, {}).pop(client_id, None) is None:
            return refused or self.not_found(request)
        return Reply(204)

    @route("POST", "/admin/directory/v1/users/([^/]+)/signOut")
    def sign_out(self, request: Request, user: str) -> Reply:
        refused = self.needs(
            request, "https://www.googleapis.com/auth/admin.directory.user.security"
        )
        if refused or user not in self.user_tokens:
            return refused or self.not_found(request)
        self.signed_out.append(user)
        return Reply(204)

    # IAM -----------------------------------------------------------------------------------

    @route("POST", "/v1/projects/([^/]+)/serviceAccounts/([^/]+)/keys/([^/:]+):disable")
    def disable_key(self, request: Request, project: str, account: str, key_id: str) -> Reply:
        refused = self.needs(request, "https://www.googleapis.com/auth/cloud-platform")
        key = self.keys.get((project, account, key_id))
        if refused or key is None:
            return refused or self.not_found(request)
        key["disabled"] = True
        return Reply(200, {})

    @route("GET", "/v1/projects/([^/]+)/serviceAccounts/([^/]+)/keys/([^/:]+)")
    def get_key(self, request: Request, project: str, account: str, key_id: str) -> Reply:
        key = self.keys.get((project, account, key_id))
        return Reply(200, key) if key else self.not_found(request)

    # Reports -------------------------------------------------------------------------------

    @route("GET", "/admin/reports/v1/activity/users/all/applications/([^/]+)")
    def list_activities(self, request: Request, application: str) -> Reply:
        refused = self.needs(
            request, "https://www.googleapis.com/auth/admin.reports.audit.readonly"
        )
        if refused:
            return refused
        start, end = request.arg("startTime"), request.arg("endTime")
        chosen = [
            a
            for a in self.activities
            if a["id"]["applicationName"] == application and within(a["id"]["time"], start, end)
        ]
        page, token = self.paginate(
            chosen, request.arg("pageToken"), int(request.arg("maxResults", "1000") or 1000)
        )
        body: dict[str, Any] = {"kind": "admin#reports#activities", "items": page}
        if token:
            body["nextPageToken"] = token
        return Reply(200, body)
