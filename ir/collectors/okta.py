"""Okta System Log → source `okta`.

`GET /api/v1/logs` with `since`, `until` (ISO 8601, the `published` time), `limit`
(1000 per page here) and `sortOrder=ASCENDING`; the next page is the `Link: <…>;
rel="next"` header, whose URL carries the `after` cursor. A request without `until` is
a polling request whose next link never ends, so `until` is always sent (the run's
start when not given). Rate limits: 429 with `X-Rate-Limit-Reset` (UTC epoch seconds),
waited for by the client. Permission: an API token (`OKTA_CLIENT_TOKEN`) of an admin
who can read the System Log, or an OAuth service app granted `okta.logs.read`.

Verified (2026-12) against Okta's generated SDK reference (`since`, `until`, `after`
"Okta returns a link in the HTTP Header (rel=next) that includes the after query
parameter", `limit`, `sortOrder`:
https://www.powershellgallery.com/packages/Okta.PowerShell/2.0.2/Content/Api%5COktaSystemLogApi.ps1),
Okta's System Log page ("By default, 100 System Log events are returned. If there are
more events, see the header link for the next link, or increase … the limit
parameter": https://developer.okta.com/use_cases/events-api-migration) and the rate
limit headers (https://developer.okta.com/docs/reference/rl-best-practices/); an API
token created by a Read-only Administrator is what SIEM integrations use to read it
(https://docs.cloud.google.com/chronicle/docs/ingestion/default-parsers/okta).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ir.collectors.base import Collector, PagedStream, Stream, Window, iso
from ir.providers.http import Page, PageRequest
from ir.providers.okta import SCOPE_LOGS, OktaClient


class OktaCollector(Collector):
    provider = "okta"

    def __init__(self, client: OktaClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> OktaCollector:
        return cls(OktaClient.from_env(env, **kw))

    def streams(self) -> list[Stream]:
        permission = f"{SCOPE_LOGS} (an API token of an admin who can read the System Log)"
        return [PagedStream("logs", "okta", permission, self._pages, self.client.secrets)]

    def _pages(self, window: Window, resume: PageRequest | None) -> Iterator[Page]:
        since = iso(window.since) if window.since else None
        return self.client.log_pages(since=since, until=iso(window.until), resume=resume)

    def close(self) -> None:
        self.client.close()
