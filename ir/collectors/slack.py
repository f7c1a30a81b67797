"""Slack Enterprise Audit Logs → source `slack`.

`GET /audit/v1/logs` at `IR_SLACK_AUDIT_URL` with `oldest` and `latest` (Unix
seconds, both inclusive: `latest` is the last second before `until`), `limit=1000`,
and `cursor` from `response_metadata.next_cursor` (empty on the last page). Rate
limits: Tier 3, about 50 calls a minute, counted per organization; a 429 carries
`Retry-After` (seconds), waited for by the client. Permission: a user token
(`xoxp-…`) of the Enterprise organization's owner, from an app installed on the
organization, with the `auditlogs:read` scope; Enterprise plans only.

Verified (2026-12): methods, header, token and Tier 3 rate limit
(https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference);
`oldest`/`latest`/`limit`/`cursor`, `entries`, `response_metadata.next_cursor`
(https://docs.rs/crate/helr/0.4.0/source/docs/integrations/slack.md, citing Slack's
guide; `oldest` is inclusive per Slack's Java SDK guide,
https://slack.dev/java-slack-sdk/guides/audit-logs-api).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ir.collectors.base import Collector, PagedStream, Stream, Window, before, epoch
from ir.providers.http import Page, PageRequest
from ir.providers.slack import SCOPE_AUDIT, SlackClient

PERMISSION = f"{SCOPE_AUDIT} (a user token of the Enterprise organization owner)"


class SlackCollector(Collector):
    provider = "slack"

    def __init__(self, client: SlackClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kw: Any) -> SlackCollector:
        return cls(SlackClient.from_env(env, **kw))

    def streams(self) -> list[Stream]:
        return [PagedStream("audit", "slack", PERMISSION, self._pages, self.client.secrets)]

    def _pages(self, window: Window, resume: PageRequest | None) -> Iterator[Page]:
        oldest = epoch(window.since) if window.since else None
        latest = epoch(before(window.until))
        return self.client.audit_pages(oldest=oldest, latest=latest, resume=resume)

    def close(self) -> None:
        self.client.close()
