"""A local Entra ID token endpoint and Microsoft Graph: sessions, accounts, app secrets, audit logs.

Behaviour (revocation-apis.md §4, §8): tokens only from
`POST /{tenant}/oauth2/v2.0/token` (client credentials; a wrong secret → 401
`invalid_client` AADSTS7000215, an unknown app → 400 `unauthorized_client`
AADSTS700016, an unknown tenant → 400 `invalid_request` AADSTS90002 — the
statuses of the last two are unverified); Graph wants that bearer, else 401
`InvalidAuthenticationToken`; an app without the permission → 403
`Authorization_RequestDenied`; `revokeSignInSessions` → 200 `{"value": true}`
every time and moves `signInSessionsValidFromDateTime`; unknown objects → 404
`Request_ResourceNotFound`; `removePassword` of an unknown `keyId` → 400
(unverified); throttling → 429 with `Retry-After`. Audit logs page with an
absolute `@odata.nextLink` and filter on `createdDateTime`/`activityDateTime` (`ge`, `le`, `lt`).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.servers.base import FakeApi, Reply, Request, instant, route, within

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
METADATA = "https://graph.microsoft.com/v1.0/$metadata"


def graph_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "req-1"}}}


def oauth_error(error: str, aadsts: str, text: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{aadsts}: {text}\r\nTrace ID: t-1\r\nCorrelation ID: c-1",
        "error_codes": [int(aadsts)],
    }


def fixture_records(source: str) -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / source / "graph-page.json").read_text())["value"])


class EntraApi(FakeApi):
    def __init__(
        self,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        permissions: set[str],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        super().__init__()
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.permissions = permissions
        self.clock = clock
        self.issued: list[str] = []
        self._serial = itertools.count(1)
        self.users: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.sign_ins = fixture_records("entra_signin")
        self.directory_audits = fixture_records("entra_audit")

    def authenticate(self, request: Request) -> Reply | None:
        token = self.bearer(request)
        if not token:
            return Reply(401, graph_error("InvalidAuthenticationToken", "Access token is empty."))
        if token not in self.issued:
            return Reply(
                401, graph_error("InvalidAuthenticationToken", "Access token validation failure.")
            )
        return None

    def needs(self, permission: str) -> Reply | None:
        if permission in self.permissions:
            return None
        return Reply(
            403,
            graph_error(
                "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            ),
        )

    def rate_limited(self, retry_after: float = 1) -> Reply:
        body = graph_error("TooManyRequests", "Too many requests.")
        return Reply(429, body, {"Retry-After": str(retry_after)})

    def not_found(self, request: Request) -> Reply:
        return Reply(
            404,
            graph_error("Request_ResourceNotFound", f"Resource '{request.path}' does not exist."),
        )

    def user(self, key: str) -> dict[str, Any] | None:
        return next(
            (u for u in self.users.values() if key in (u["id"], u["userPrincipalName"])), None
        )

    # token endpoint ------------------------------------------------------------------------

    @route("POST", "/([^/]+)/oauth2/v2.0/token", public=True)
    def token(self, request: Request, tenant: str) -> Reply:
        form = request.form()
        if tenant != self.tenant:
            return Reply(
                400, oauth_error("invalid_request", "90002", f"Tenant '{tenant}' not found.")
            )
        if form.get("grant_type") != "client_credentials" or not form.get("scope", "").endswith(
            "/.default"
        ):
            return Reply(
                400,
                oauth_error(
                    "invalid_request",
                    "900144",
                    "The request body must contain grant_type and scope.",
                ),
            )
        if form.get("client_id") != self.client_id:
            return Reply(
                400,
                oauth_error(
                    "unauthorized_client",
                    "700016",
                    f"Application with identifier '{form.get('client_id')}' was not found in the directory.",
                ),
            )
        if form.get("client_secret") != self.client_secret:
            return Reply(
                401, oauth_error("invalid_client", "7000215", "Invalid client secret provided.")
            )
        token = f"eyJ0eXAiOiJKV1QifQ.graph-token-{next(self._serial)}.sig"
        self.issued.append(token)
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            },
        )

    # users ---------------------------------------------------------------------------------

    @route("POST", "/v1.0/users/([^/]+)/revokeSignInSessions")
    def revoke_sessions(self, request: Request, key: str) -> Reply:
        user = self.user(key)
        refused = self.needs("User.RevokeSessions.All")
        if refused or user is None:
            return refused or self.not_found(request)
        user["signInSessionsValidFromDateTime"] = self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        return Reply(200, {"@odata.context": f"{METADATA}#Edm.Boolean", "value": True})

    @route("GET", "/v1.0/users/([^/]+)")
    def get_user(self, request: Request, key: str) -> Reply:
        user = self.user(key)
        if user is None:
            return self.not_found(request)
        fields = request.arg("$select")
        return Reply(200, {k: v for k, v in user.items() if not fields or k in fields.split(",")})

    @route("PATCH", "/v1.0/users/([^/]+)")
    def update_user(self, request: Request, key: str) -> Reply:
        user = self.user(key)
        refused = self.needs("User.EnableDisableAccount.All")
        if refused or user is None:
            return refused or self.not_found(request)
        user.update(request.json())
        return Reply(204)

    # applications --------------------------------------------------------------------------

    @route("GET", "/v1.0/applications")
    def list_applications(self, request: Request) -> Reply:
        named = re.fullmatch(r"displayName eq '(.*)'", request.arg("$filter") or "")
        if named is None:
            return Reply(400, graph_error("Request_UnsupportedQuery", "Unsupported query."))
        name = named.group(1).replace("''", "'")
        apps = [a for a in self.applications.values() if a.get("displayName") == name]
        return Reply(200, {"@odata.context": f"{METADATA}#applications", "value": apps})

    @route("GET", "/v1.0/applications/([^/]+)")
    def get_application(self, request: Request, key: str) -> Reply:
        app = self.applications.get(key)
        return Reply(200, app) if app else self.not_found(request)

    @route("POST", "/v1.0/applications/([^/]+)/removePassword")
    def remove_password(self, request: Request, key: str) -> Reply:
        app = self.applications.get(key)
        refused = self.needs("Application.ReadWrite.OwnedBy")
        if refused or app is None:
            return refused or self.not_found(request)
        key_id = request.json().get("keyId")
        kept = [p for p in app["passwordCredentials"] if p["keyId"] != key_id]
        if len(kept) == len(app["passwordCredentials"]):
            return Reply(
                400,
                graph_error(
                    "Request_BadRequest", f"No password credential found with keyId '{key_id}'."
                ),
            )
        app["passwordCredentials"] = kept
        return Reply(204)

    @route("POST", "/v1.0/applications/([^/]+)/addPassword")
    def add_password(self, request: Request, key: str) -> Reply:
        app = self.applications.get(key)
        refused = self.needs("Application.ReadWrite.OwnedBy")
        if refused or app is None:
            return refused or self.not_found(request)
        secret = f"Zx8Q~{uuid.uuid4().hex}"
        credential = {
            "keyId": str(uuid.uuid4()),
            "displayName": request.json()["passwordCredential"].get("displayName"),
            "hint": secret[:3],
        }
        app["passwordCredentials"].append(credential)
        return Reply(200, {**credential, "secretText": secret})

    # audit logs ----------------------------------------------------------------------------

    def audit_page(self, request: Request, records: list[dict[str, Any]], field: str) -> Reply:
        refused = self.needs("AuditLog.Read.All")
        if refused:
            return refused
        terms = dict(re.findall(rf"{field} (ge|le|lt) (\S+)", request.arg("$filter") or ""))
        upto = instant(terms["le"]) if "le" in terms else None
        chosen = [
            r
            for r in records
            if within(r[field], terms.get("ge"), terms.get("lt"))
            and (upto is None or instant(r[field]) <= upto)
        ]
        page, skip = self.paginate(chosen, request.arg("$skiptoken"))
        body: dict[str, Any] = {"@odata.context": f"{METADATA}#auditLogs", "value": page}
        if skip:
            body["@odata.nextLink"] = self.next_url(request, **{"$skiptoken": skip})
        return Reply(200, body)

    @route("GET", "/v1.0/auditLogs/signIns")
    def list_sign_ins(self, request: Request) -> Reply:
        return self.audit_page(request, self.sign_ins, "createdDateTime")

    @route("GET", "/v1.0/auditLogs/directoryAudits")
    def list_directory_audits(self, request: Request) -> Reply:
        return self.audit_page(request, self.directory_audits, "activityDateTime")
