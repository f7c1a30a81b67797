"""Salesforce REST client: OAuth token revocation, freezing users, ending sessions, SOQL, event logs.

Settings (contract §6): `SALESFORCE_ACCESS_TOKEN` (`Authorization: Bearer`); base
`IR_SALESFORCE_INSTANCE_URL` (`https://{MyDomain}.my.salesforce.com`, no default);
the REST version `IR_SALESFORCE_API_VERSION`, default `60.0` (paths
`/services/data/v60.0/…`).

Verified (2026-12):
- REST errors are a JSON array `[{"message","errorCode"}]`; an expired or invalid
  token → 401 `INVALID_SESSION_ID` "Session expired or invalid"
  (https://nango.dev/blog/fix-salesforce-invalid-session-id-error,
  https://salesforcedictionary.com/errors/invalid-session-id).
- A SOQL query answers `totalSize`, `done`, `records` and, while `done` is false,
  `nextRecordsUrl` (`/services/data/vXX.X/query/<locator>`), fetched with GET and
  no parameters (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api/resources_query_more_results.htm,
  https://developer.salesforce.com/docs/platform/api-rest/guide/dome-query.html).
- `EventLogFile` needs the View Event Log Files and API Enabled user permissions
  (View All Data also suffices); `LoginHistory` only the Manage Users permission
  (else a user sees only their own logins)
  (https://developer.salesforce.com/docs/atlas.en-us.224.0.api.meta/object_ref/sforce_api_objects_eventlogfile.htm,
  https://developer.salesforce.com/docs/atlas.en-us.238.0.object_reference.meta/object_reference/sforce_api_objects_loginhistory.htm).
  SOQL dateTime literals are unquoted `YYYY-MM-DDThh:mm:ssZ`; the window is built only
  from datetimes (`soql_datetime`), never from text.
- An EventLogFile's CSV is the blob at `/services/data/vXX.X/sobjects/EventLogFile/{Id}/LogFile`,
  returned as binary (https://developer.salesforce.com/docs/platform/api-rest/guide/dome-event-log-file-blob.html).
- `POST /services/oauth2/revoke` with form `token=…` revokes an access or refresh
  token (or an `OauthToken.DeleteToken`): 200; an invalid or already revoked token
  → 400 `{"error":"invalid_token"}` (revocation-apis.md §7); it is sent without an
  `Authorization` header (unverified whether one is refused; none is needed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from ir.providers.http import (
    Gone,
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

DEFAULT_API_VERSION = "60.0"
PERMISSION_MANAGE_USERS = "the Manage Users permission"
PERMISSION_EVENT_LOG_FILES = "the View Event Log Files and API Enabled permissions"


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal (`2026-09-04T14:05:00Z`, unquoted) of an aware datetime.

    Only a datetime is accepted, and only digits, `-`, `:`, `T` and `Z` come out: text
    never reaches the query."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise TypeError(f"a timezone-aware datetime, not {type(moment).__name__}")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_window(field: str, since: datetime | None, until: datetime | None) -> str:
    """` WHERE field >= since AND field < until` (either end optional), or nothing."""
    terms = [f"{field} >= {soql_datetime(since)}"] if since is not None else []
    terms += [f"{field} < {soql_datetime(until)}"] if until is not None else []
    return f" WHERE {' AND '.join(terms)}" if terms else ""


class SalesforceClient(ProviderClient):
    """Salesforce's REST API with the access token from `SALESFORCE_ACCESS_TOKEN`."""

    provider = "salesforce"
    credential_settings = "SALESFORCE_ACCESS_TOKEN"

    def __init__(self, base_url: str, token: Secret, *, api_version: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self.api_version = api_version
        self._token = token

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> SalesforceClient:
        settings = Settings(cls.provider, env)
        base = settings.url("IR_SALESFORCE_INSTANCE_URL")
        token = settings.secret("SALESFORCE_ACCESS_TOKEN")
        version = settings.optional("IR_SALESFORCE_API_VERSION", default=DEFAULT_API_VERSION)
        settings.check()
        return cls(base, token, api_version=str(version).lstrip("v"), **kw)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.reveal()}", "Accept": "application/json"}

    def secrets(self) -> list[Secret]:
        return [self._token]

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        body = json_or_none(response)
        if isinstance(body, list) and body and isinstance(body[0], dict):
            return str(body[0].get("errorCode") or ""), str(body[0].get("message") or "")
        if isinstance(body, dict) and "error" in body:  # the OAuth endpoints
            return str(body["error"]), str(body.get("error_description") or body["error"])
        return None, response.reason_phrase or f"HTTP {response.status_code}"

    def data(self, path: str) -> str:
        """A REST data path under the configured version: `/services/data/v60.0{path}`."""
        return f"/services/data/v{self.api_version}{path}"

    # revocation ----------------------------------------------------------------------------

    def revoke_token(self, token: Secret) -> bool:
        """Revoke an access/refresh token or a `DeleteToken`; False when it was already invalid."""
        try:
            self.request(
                "POST",
                "/services/oauth2/revoke",
                data={"token": token.reveal()},
                authenticate=False,
                secrets=[token],
            )
        except Gone:
            return False
        return True

    def classify(self, response: httpx.Response, permission: str | None) -> ProviderError | None:
        error = super().classify(response, permission)
        if error is not None and error.code == "invalid_token" and error.status == 400:
            where = f"{response.request.method} {response.request.url.path}"
            return Gone(
                self.provider,
                f"{where}: invalid_token (revoked or never valid)",
                status=400,
                code=error.code,
            )
        return error

    def freeze_user(self, user_login_id: str) -> None:
        """Freeze a user's login (`UserLogin.IsFrozen = true`, 204)."""
        self.request(
            "PATCH",
            self.data(f"/sobjects/UserLogin/{user_login_id}"),
            json={"IsFrozen": True},
            permission=PERMISSION_MANAGE_USERS,
        )

    def delete_session(self, auth_session_id: str) -> None:
        """End one session (`AuthSession` delete, 204; `Gone` when already ended)."""
        self.request(
            "DELETE",
            self.data(f"/sobjects/AuthSession/{auth_session_id}"),
            permission=PERMISSION_MANAGE_USERS,
        )

    # queries and event logs ----------------------------------------------------------------

    def query_pages(
        self, soql: str, *, permission: str | None = None, resume: PageRequest | None = None
    ) -> Iterator[Page]:
        """Pages of a SOQL query, following `nextRecordsUrl` until `done` (or from `resume`)."""
        start = resume or page_request(self.data("/query"), {"q": soql})
        return self.pages(
            start, by_body_url("records", "nextRecordsUrl", "done"), permission=permission
        )

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record a SOQL query returns."""
        return [record for page in self.query_pages(soql) for record in page.items]

    def event_log_file_pages(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of `EventLogFile` rows whose `LogDate` is in [since, until)."""
        soql = (
            "SELECT Id, EventType, LogDate, Interval, Sequence, LogFileLength FROM EventLogFile"
            f"{soql_window('LogDate', since, until)} ORDER BY LogDate, EventType, Sequence"
        )
        return self.query_pages(soql, permission=PERMISSION_EVENT_LOG_FILES, resume=resume)

    def login_history_pages(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of `LoginHistory` whose `LoginTime` is in [since, until) (SOQL JSON records)."""
        soql = (
            "SELECT Id, LoginTime, UserId, LoginType, SourceIp, Status, Browser, Platform,"
            " Application, ApiType, LoginUrl, CountryIso FROM LoginHistory"
            f"{soql_window('LoginTime', since, until)} ORDER BY LoginTime"
        )
        return self.query_pages(soql, permission=PERMISSION_MANAGE_USERS, resume=resume)

    def log_file(self, event_log_file_id: str) -> httpx.Response:
        """An EventLogFile's CSV, as received (`response.content` is the evidence)."""
        return self.request(
            "GET",
            self.data(f"/sobjects/EventLogFile/{event_log_file_id}/LogFile"),
            permission=PERMISSION_EVENT_LOG_FILES,
        )
