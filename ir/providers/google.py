"""Google Workspace (Admin SDK) and Cloud IAM client: OAuth grants, sign-out, SA keys, Reports.

Settings (contract §6): `GOOGLE_APPLICATION_CREDENTIALS` (a service-account key
file) and `IR_GOOGLE_ADMIN_SUBJECT`, the admin the service account impersonates
through domain-wide delegation (the contract's "admin subject"; the Directory and
Reports APIs act only as an admin). Base `IR_GOOGLE_API_URL`, default
`https://admin.googleapis.com`; IAM calls go to `IR_GOOGLE_IAM_URL`, else to
`IR_GOOGLE_API_URL` when that is set (one local server serves both in tests),
else `https://iam.googleapis.com`.

The access token comes from the JWT bearer grant (RFC 7523) as Google documents
it: a JWT with `iss` = the key's `client_email`, `sub` = the admin, `scope`
(space-separated), `aud` = the key file's `token_uri`, `iat`, `exp` ≤ `iat` + 1 h,
signed RS256 with the key's `private_key` (header `kid` = `private_key_id`), posted
as `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…` to
`token_uri` (https://developers.google.cn/identity/protocols/oauth2/service-account;
https://google-auth.readthedocs.io/en/latest/reference/google.oauth2.service_account.html).
PyJWT (with `cryptography`) signs it; google-auth would refresh through its own
requests/urllib3 transport, outside this package's retry loop, error mapping and
secret redaction, and it is a larger dependency for one signature.

Verified (2026-12): token errors are OAuth JSON; a subject without delegation for
the scopes → 401 `unauthorized_client` "Client is unauthorized to retrieve access
tokens using this method, or client not authorized for any of the scopes
requested." (https://github.com/googleapis/google-auth-library-ruby/issues/210,
https://github.com/googleapis/google-api-php-client/issues/950). API errors are
`{"error":{"code","message","errors":[{"domain","reason",…}],"status"}}`; a bad
token → 401 reason `authError` "Invalid Credentials"; a rate limit → 429, or 403
with reason `rateLimitExceeded`/`userRateLimitExceeded`
(https://cloud.google.com/resource-manager/docs/core_errors). Reports
`activities.list` takes `startTime`, `endTime`, `maxResults`, `pageToken` and
answers `items` and `nextPageToken`
(https://developers.google.cn/workspace/admin/reports/v1/guides/manage-audit-admin.md.txt).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import jwt

from ir.errors import UsageError
from ir.providers.http import (
    AuthError,
    Page,
    PageRequest,
    ProviderClient,
    ProviderError,
    Secret,
    Settings,
    by_body_token,
    json_or_none,
    page_request,
)

DEFAULT_URL = "https://admin.googleapis.com"
DEFAULT_IAM_URL = "https://iam.googleapis.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600
TOKEN_SLACK_SECONDS = 60.0

SCOPE_REPORTS = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
SCOPE_USER_SECURITY = "https://www.googleapis.com/auth/admin.directory.user.security"
SCOPE_CLOUD = "https://www.googleapis.com/auth/cloud-platform"
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class ServiceAccountKey:
    """The parts of a service-account key file the grant needs; the private key stays hidden."""

    def __init__(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.client_email = str(data["client_email"])
            self.token_uri = str(data["token_uri"])
            self.key_id = str(data.get("private_key_id") or "")
            self.private_key = Secret(str(data["private_key"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = type(exc).__name__ if not isinstance(exc, KeyError) else f"no {exc}"
            raise UsageError(
                f"google: GOOGLE_APPLICATION_CREDENTIALS ({path}) is not a service-account "
                f"key file ({reason})"
            ) from None

    def __repr__(self) -> str:
        return f"ServiceAccountKey({self.client_email!r})"


class GoogleClient(ProviderClient):
    """The Admin SDK (Directory, Reports) and Cloud IAM, as a delegated admin."""

    provider = "google"
    credential_settings = "GOOGLE_APPLICATION_CREDENTIALS and IR_GOOGLE_ADMIN_SUBJECT"

    def __init__(
        self,
        base_url: str,
        *,
        iam_url: str,
        key: ServiceAccountKey,
        subject: str,
        scopes: Sequence[str],
        **kw: Any,
    ) -> None:
        super().__init__(base_url, **kw)
        self.iam_url = iam_url.rstrip("/")
        self.key = key
        self.subject = subject
        self.scopes = tuple(scopes)
        self._token: Secret | None = None
        self._token_expires = 0.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, scopes: Sequence[str] = (SCOPE_REPORTS,), **kw: Any
    ) -> GoogleClient:
        """The client the settings describe, asking for `scopes` (each must be delegated)."""
        settings = Settings(cls.provider, env)
        override = settings.optional("IR_GOOGLE_API_URL")
        base = settings.url("IR_GOOGLE_API_URL", default=DEFAULT_URL)
        iam = settings.url("IR_GOOGLE_IAM_URL", default=override or DEFAULT_IAM_URL)
        key_path = settings.required("GOOGLE_APPLICATION_CREDENTIALS")
        subject = settings.required("IR_GOOGLE_ADMIN_SUBJECT")
        settings.check(
            "a service-account key file with domain-wide delegation, and the admin it acts as"
        )
        key = ServiceAccountKey(Path(key_path))
        return cls(base, iam_url=iam, key=key, subject=subject, scopes=scopes, **kw)

    # auth ----------------------------------------------------------------------------------

    def secrets(self) -> list[Secret]:
        return [s for s in (self.key.private_key, self._token) if s is not None]

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token().reveal()}"}

    def access_token(self) -> Secret:
        """The cached delegated token, fetched again a minute before it expires."""
        if self._token is None or self.clock() >= self._token_expires - TOKEN_SLACK_SECONDS:
            self._token, lifetime = self._fetch_token()
            self._token_expires = self.clock() + lifetime
        return self._token

    def assertion(self) -> Secret:
        """The signed JWT that asks for a token (a bearer credential itself: kept hidden)."""
        now = int(self.clock())
        claims = {
            "iss": self.key.client_email,
            "sub": self.subject,
            "scope": " ".join(self.scopes),
            "aud": self.key.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        headers = {"kid": self.key.key_id} if self.key.key_id else None
        try:
            signed = jwt.encode(
                claims, self.key.private_key.reveal(), algorithm="RS256", headers=headers
            )
        except (ValueError, TypeError) as exc:
            raise UsageError(
                "google: the private_key in GOOGLE_APPLICATION_CREDENTIALS cannot sign "
                f"({type(exc).__name__})"
            ) from None
        return Secret(signed)

    def _fetch_token(self) -> tuple[Secret, float]:
        assertion = self.assertion()
        response = self.request(
            "POST",
            self.key.token_uri,
            data={"grant_type": JWT_BEARER, "assertion": assertion.reveal()},
            authenticate=False,
            secrets=[assertion],
        )
        body = response.json()
        return Secret(str(body["access_token"])), float(body.get("expires_in", 3600))

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        body = json_or_none(response)
        if not isinstance(body, dict):
            return None, response.reason_phrase or f"HTTP {response.status_code}"
        error = body.get("error")
        if isinstance(error, dict):
            reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
            code = next((r for r in reasons if r), None) or error.get("status")
            return (str(code) if code else None), str(error.get("message") or "")
        if isinstance(error, str):
            return error, str(body.get("error_description") or "")
        return None, response.reason_phrase

    def is_rate_limited(self, response: httpx.Response, code: str | None, detail: str) -> bool:
        return response.status_code == 429 or (
            response.status_code == 403 and code in RATE_LIMIT_REASONS
        )

    def classify(self, response: httpx.Response, permission: str | None) -> ProviderError | None:
        error = super().classify(response, permission)
        if error is None or response.request.url != httpx.URL(self.key.token_uri):
            return error
        if 400 <= response.status_code < 500 and response.status_code != 429:
            return AuthError(
                self.provider, self._token_refusal(error.code), status=error.status, code=error.code
            )
        return error

    def _token_refusal(self, code: str | None) -> str:
        scopes = ", ".join(self.scopes)
        if code == "unauthorized_client":
            return (
                f"the token endpoint refused the grant (unauthorized_client): in the Admin "
                f"console, give the service account {self.key.client_email} domain-wide "
                f"delegation for {scopes}"
            )
        return (
            f"the token endpoint refused the grant ({code}): check the key in "
            f"GOOGLE_APPLICATION_CREDENTIALS and that IR_GOOGLE_ADMIN_SUBJECT ({self.subject}) "
            "is an admin of the domain"
        )

    def iam(self, path: str) -> str:
        """An IAM path joined to the IAM base URL."""
        return self.iam_url + path

    # Directory -----------------------------------------------------------------------------

    def delete_token(self, user_key: str, client_id: str) -> None:
        """Delete every token a user issued to one OAuth client (empty success; `Gone` when none)."""
        self.request(
            "DELETE",
            f"/admin/directory/v1/users/{user_key}/tokens/{client_id}",
            permission=SCOPE_USER_SECURITY,
        )

    def tokens(self, user_key: str) -> list[dict[str, Any]]:
        """The OAuth clients a user has granted tokens to."""
        response = self.request(
            "GET", f"/admin/directory/v1/users/{user_key}/tokens", permission=SCOPE_USER_SECURITY
        )
        return list(response.json().get("items") or [])

    def sign_out(self, user_key: str) -> None:
        """Sign a user out of every web and device session (empty success)."""
        self.request(
            "POST", f"/admin/directory/v1/users/{user_key}/signOut", permission=SCOPE_USER_SECURITY
        )

    # Cloud IAM -----------------------------------------------------------------------------

    def disable_key(self, project: str, account: str, key_id: str) -> None:
        """Disable a service-account key (reversible; 200 `{}`; unknown → `Gone`)."""
        self.request(
            "POST",
            self.iam(f"/v1/projects/{project}/serviceAccounts/{account}/keys/{key_id}:disable"),
            json={},
            permission="iam.serviceAccountKeys.disable",
        )

    def key_state(self, project: str, account: str, key_id: str) -> dict[str, Any]:
        """A service-account key's metadata (`disabled` is true once disabled)."""
        response = self.request(
            "GET", self.iam(f"/v1/projects/{project}/serviceAccounts/{account}/keys/{key_id}")
        )
        return dict(response.json())

    # Reports -------------------------------------------------------------------------------

    def activity_pages(
        self,
        application: str,
        *,
        start_time: str | None = None,
        end_time: str | None = None,
        max_results: int = 1000,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of Reports `activities.list` for every user of one application (`login`,
        `token`, …); from `resume` (a journaled next-page request) when given."""
        start = resume or page_request(
            f"/admin/reports/v1/activity/users/all/applications/{application}",
            {"startTime": start_time, "endTime": end_time, "maxResults": max_results},
        )
        return self.pages(
            start, by_body_token("items", ("nextPageToken",), "pageToken"), permission=SCOPE_REPORTS
        )
