"""Salesforce EventLogFile and LoginHistory → source `salesforce`.

EventLogFile: a SOQL query (`GET /services/data/vXX.X/query?q=SELECT Id, EventType,
LogDate, … FROM EventLogFile WHERE LogDate >= SINCE AND LogDate < UNTIL`), paged by
`nextRecordsUrl` while `done` is false; each row's CSV is then downloaded from
`…/sobjects/EventLogFile/{Id}/LogFile` and written byte for byte — the CSVs are the
evidence, the listing only finds them. The cursor is the set of files already
written, so a resumed run lists again and skips them. LoginHistory: the same query
paging over `LoginTime`, each page of records written as received. The window's
times are rendered by `soql_datetime` from datetimes only (no text reaches SOQL).
Permission: View Event Log Files and API Enabled (EventLogFile), Manage Users
(LoginHistory); a 401 `INVALID_SESSION_ID` means SALESFORCE_ACCESS_TOKEN expired.

Verified (2026-12): query paging (`done`, `nextRecordsUrl`:
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api/resources_query_more_results.htm),
the LogFile blob (https://developer.salesforce.com/docs/platform/api-rest/guide/dome-event-log-file-blob.html),
EventLogFile fields and its access rule
(https://developer.salesforce.com/docs/atlas.en-us.224.0.api.meta/object_ref/sforce_api_objects_eventlogfile.htm),
LoginHistory's (https://developer.salesforce.com/docs/atlas.en-us.238.0.object_reference.meta/object_reference/sforce_api_objects_loginhistory.htm).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ir.collectors.base import Collector, PagedStream, Piece, Stream, Window
from ir.providers.http import Page, PageRequest, Rejected, redact
from ir.providers.salesforce import (
    PERMISSION_EVENT_LOG_FILES,
    PERMISSION_MANAGE_USERS,
    SalesforceClient,
)

# What a listing row may put into a file name (a server's value never names a path).
FILE_ID = re.compile(r"[A-Za-z0-9]{15,18}")
EVENT_TYPE = re.compile(r"[A-Za-z0-9_]{1,80}")
LOG_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class EventLogFiles(Stream):
    """The EventLogFile CSVs of the window, one piece each."""

    name = "EventLogFile"
    source = "salesforce"
    permission = PERMISSION_EVENT_LOG_FILES

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    def fetch(self, window: Window, resume: dict[str, Any] | None) -> Iterator[Piece]:
        done = set(resume["done"]) if resume else set()
        listing = self.client.event_log_file_pages(since=window.since, until=window.until)
        for row in (row for page in listing for row in page.items):
            name = self._file_name(row)
            if row["Id"] in done:
                continue
            response = self.client.log_file(row["Id"])
            done.add(row["Id"])
            yield Piece(
                body=response.content,
                name=name,
                request=redact(str(response.request.url), self.client.secrets()),
                status=response.status_code,
                records=max(response.content.count(b"\n") - 1, 0),
                cursor={"done": sorted(done)},
            )

    def _file_name(self, row: Mapping[str, Any]) -> str:
        """`2026-09-01/Login-0AT….csv`, from values checked to be what Salesforce sends."""
        file_id, event_type = str(row.get("Id")), str(row.get("EventType"))
        day = str(row.get("LogDate"))[:10]
        if not (FILE_ID.fullmatch(file_id) and EVENT_TYPE.fullmatch(event_type)):
            raise Rejected(
                "salesforce",
                f"an EventLogFile row with an unexpected Id or EventType: {file_id[:20]!r}",
            )
        if not LOG_DAY.fullmatch(day):
            raise Rejected("salesforce", f"EventLogFile {file_id}: unexpected LogDate")
        return f"{day}/{event_type}-{file_id}.csv"


class SalesforceCollector(Collector):
    provider = "salesforce"

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> SalesforceCollector:
        return cls(SalesforceClient.from_env(env, **kw))

    def streams(self) -> list[Stream]:
        logins = PagedStream(
            "LoginHistory",
            "salesforce",
            PERMISSION_MANAGE_USERS,
            self._login_history,
            self.client.secrets,
        )
        return [EventLogFiles(self.client), logins]

    def _login_history(self, window: Window, resume: PageRequest | None) -> Iterator[Page]:
        return self.client.login_history_pages(
            since=window.since, until=window.until, resume=resume
        )

    def close(self) -> None:
        self.client.close()
