"""Microsoft Entra ID / Graph client: sign-in sessions, accounts, app secrets, and the audit logs.

Settings (contract §6): `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`;
Graph base `IR_GRAPH_API_URL`, default `https://graph.microsoft.com` (`/v1.0` is
part of each path); token host `AZURE_AUTHORITY_HOST`, default
`https://login.microsoftonline.com`.

The token is a client-credentials grant posted as a plain form to
`{AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token` (azure-identity and msal refuse
the plain-http authorities of local test servers), scope `{graph base}/.default`,
then sent as `Authorization: Bearer`. It is kept until a minute before it expires.

Verified against Microsoft's documentation (2026-12):
- Token errors are OAuth JSON `{"error","error_description","error_codes",…}`
  (https://docs.microsoft.com/en-us/azure/active-directory/develop/reference-aadsts-error-codes);
  a wrong secret is `invalid_client` with AADSTS7000215 "Invalid client secret
  provided" (https://www.decodeiterrors.com/errors/aadsts7000215-invalid-client-secret).
  The HTTP status of that answer (401 is typical) is not documented there, so any
  4xx from the token endpoint is read by its `error` and AADSTS code.
- Graph errors are `{"error":{"code","message","innerError"}}`; no or a bad token →
  401 `InvalidAuthenticationToken`; throttling → 429 with `Retry-After` seconds, and
  "if no Retry-After header is provided … implement an exponential backoff"
  (https://learn.microsoft.com/graph/throttling,
  https://learn.microsoft.com/en-us/answers/questions/922050/no-retry-after-in-header).
- Listing pages follow `@odata.nextLink`, an absolute URL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from ir.providers.http import (
    AuthError,
    Page,
    PageRequest,
    ProviderClient,
    ProviderError,
    Secret,
    Settings,
    by_body_url,
    json_or_none,
    page_request,
)

DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
TOKEN_SLACK_SECONDS = 60.0

# AADSTS codes that say which setting is wrong.
AADSTS_SETTING = {
    "7000215": "AZURE_CLIENT_SECRET",  # invalid client secret
    "7000222": "AZURE_CLIENT_SECRET",  # client secret expired
    "700016": "AZURE_CLIENT_ID",  # application not found in the tenant
    "90002": "AZURE_TENANT_ID",  # tenant not found
    "900023": "AZURE_TENANT_ID",  # tenant identifier is not valid
}


class EntraClient(ProviderClient):
    """Microsoft Graph with an app-only token from the tenant's token endpoint."""

    provider = "entra"
    credential_settings = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"

    def __init__(
        self,
        base_url: str,
        *,
        authority: str,
        tenant: str,
        client_id: str,
        client_secret: Secret,
        **kw: Any,
    ) -> None:
        super().__init__(base_url, **kw)
        self.authority = authority.rstrip("/")
        self.tenant = tenant
        self.client_id = client_id
        self._client_secret = client_secret
        self._token: Secret | None = None
        self._token_expires = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> EntraClient:
        settings = Settings(cls.provider, env)
        base = settings.url("IR_GRAPH_API_URL", default=DEFAULT_GRAPH_URL)
        authority = settings.url("AZURE_AUTHORITY_HOST", default=DEFAULT_AUTHORITY)
        tenant = settings.required("AZURE_TENANT_ID")
        client_id = settings.required("AZURE_CLIENT_ID")
        secret = settings.secret("AZURE_CLIENT_SECRET")
        settings.check()
        return cls(
            base,
            authority=authority,
            tenant=tenant,
            client_id=client_id,
            client_secret=secret,
            **kw,
        )

    # auth ----------------------------------------------------------------------------------

    def secrets(self) -> list[Secret]:
        return [s for s in (self._client_secret, self._token) if s is not None]

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token().reveal()}"}

    def access_token(self) -> Secret:
        """The cached app-only token, fetched again a minute before it expires."""
        if self._token is None or self.clock() >= self._token_expires - TOKEN_SLACK_SECONDS:
            self._token, lifetime = self._fetch_token()
            self._token_expires = self.clock() + lifetime
        return self._token

    def _fetch_token(self) -> tuple[Secret, float]:
        response = self.request(
            "POST",
            f"{self.authority}/{self.tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret.reveal(),
                "scope": f"{self.base_url}/.default",
            },
            authenticate=False,
        )
        body = response.json()
        return Secret(str(body["access_token"])), float(body.get("expires_in", 3600))

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        body = json_or_none(response)
        if not isinstance(body, dict):
            return None, response.reason_phrase or f"HTTP {response.status_code}"
        error = body.get("error")
        if isinstance(error, dict):  # Graph
            return str(error.get("code") or ""), str(error.get("message") or "")
        if isinstance(error, str):  # the token endpoint (OAuth)
            description = str(body.get("error_description") or "").split("\r\n")[0]
            return error, description
        return None, response.reason_phrase

    def classify(self, response: httpx.Response, permission: str | None) -> ProviderError | None:
        error = super().classify(response, permission)
        if error is None or not self._is_token_endpoint(response):
            return error
        if 400 <= response.status_code < 500 and response.status_code != 429:
            _, detail = self.error_detail(response)
            return AuthError(
                self.provider,
                f"the token endpoint refused the client credentials ({detail}); "
                f"check {self._setting_for(detail)}",
                status=response.status_code,
                code=error.code,
            )
        return error

    def _is_token_endpoint(self, response: httpx.Response) -> bool:
        return response.request.url.path.endswith("/oauth2/v2.0/token")

    def _setting_for(self, description: str) -> str:
        for code, setting in AADSTS_SETTING.items():
            if f"AADSTS{code}:" in description:
                return setting
        return self.credential_settings

    # users ---------------------------------------------------------------------------------

    def revoke_sign_in_sessions(self, user: str) -> bool:
        """Invalidate a user's refresh tokens and session cookies (any 2xx; `value` is true)."""
        response = self.request(
            "POST", f"/v1.0/users/{user}/revokeSignInSessions", permission="User.RevokeSessions.All"
        )
        body = json_or_none(response)
        return bool(body.get("value", True)) if isinstance(body, dict) else True

    def user(self, user: str, select: str | None = None) -> dict[str, Any]:
        """A user by id or UPN, optionally only the `$select`ed properties."""
        params = {"$select": select} if select else None
        return dict(self.request("GET", f"/v1.0/users/{user}", params=params).json())

    def disable_user(self, user: str) -> None:
        """Block sign-in (`accountEnabled: false`, 204)."""
        self.request(
            "PATCH",
            f"/v1.0/users/{user}",
            json={"accountEnabled": False},
            permission="User.EnableDisableAccount.All",
        )

    # application secrets -------------------------------------------------------------------

    def applications_named(self, display_name: str) -> list[dict[str, Any]]:
        """Applications with this display name: their object ids and password credentials."""
        quoted = display_name.replace("'", "''")
        start = page_request(
            "/v1.0/applications",
            {
                "$filter": f"displayName eq '{quoted}'",
                "$select": "id,displayName,passwordCredentials",
            },
        )
        return list(self.records(start, by_body_url("value", "@odata.nextLink")))

    def application_passwords(self, app_object_id: str) -> list[dict[str, Any]]:
        """An application's password credentials (ids and hints; never the secret)."""
        response = self.request(
            "GET", f"/v1.0/applications/{app_object_id}", params={"$select": "passwordCredentials"}
        )
        return list(response.json().get("passwordCredentials") or [])

    def remove_password(self, app_object_id: str, key_id: str) -> None:
        """Remove one client secret by its `keyId` (204)."""
        self.request(
            "POST",
            f"/v1.0/applications/{app_object_id}/removePassword",
            json={"keyId": key_id},
            permission="Application.ReadWrite.OwnedBy",
        )

    def add_password(self, app_object_id: str, display_name: str) -> tuple[str, Secret]:
        """Mint a replacement client secret: its `keyId`, and the secret text (shown only now)."""
        response = self.request(
            "POST",
            f"/v1.0/applications/{app_object_id}/addPassword",
            json={"passwordCredential": {"displayName": display_name}},
            permission="Application.ReadWrite.OwnedBy",
        )
        body = response.json()
        return str(body["keyId"]), Secret(str(body["secretText"]))

    # audit logs ----------------------------------------------------------------------------

    def sign_in_pages(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of `/v1.0/auditLogs/signIns` with `createdDateTime` in [since, until)."""
        return self._audit_pages("/v1.0/auditLogs/signIns", "createdDateTime", since, until, resume)

    def directory_audit_pages(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of `/v1.0/auditLogs/directoryAudits` with `activityDateTime` in [since, until)."""
        return self._audit_pages(
            "/v1.0/auditLogs/directoryAudits", "activityDateTime", since, until, resume
        )

    def _audit_pages(
        self,
        path: str,
        field: str,
        since: str | None,
        until: str | None,
        resume: PageRequest | None,
    ) -> Iterator[Page]:
        """From `resume` (a journaled `@odata.nextLink`) when given, else the first page."""
        terms = [f"{field} ge {since}"] if since else []
        terms += [f"{field} lt {until}"] if until else []
        start = resume or page_request(path, {"$filter": " and ".join(terms) or None})
        return self.pages(
            start, by_body_url("value", "@odata.nextLink"), permission="AuditLog.Read.All"
        )
