"""Google Workspace Admin SDK Reports → source `google_workspace`.

`GET /admin/reports/v1/activity/users/all/applications/{application}` per application
(`login`, `token`, `admin`, `drive` by default; `--applications` chooses), with
`startTime` and `endTime` (RFC 3339) and `maxResults=1000`; the next page is
`nextPageToken`, sent back as `pageToken`. The token is the service account's JWT
bearer grant with domain-wide delegation, acting as `IR_GOOGLE_ADMIN_SUBJECT`
(ir/providers/google.py). Rate limits: 429, or 403 `rateLimitExceeded` /
`userRateLimitExceeded`, waited for by the client. Permission: the OAuth scope
`https://www.googleapis.com/auth/admin.reports.audit.readonly` delegated to the
service account, and an admin subject with the Reports privilege.

Verified (2026-12): parameters and response (`items`, `nextPageToken`), "If
endTime is not specified, the report returns all activities from startTime until
the current time or the most recent 180 days"
(https://developers.google.cn/admin-sdk/reports/v1/reference/activities/list,
https://developers.google.cn/workspace/admin/reports/v1/guides/manage-audit-admin.md.txt).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ir.collectors.base import Collector, PagedStream, Stream, Window, iso
from ir.errors import UsageError
from ir.providers.google import SCOPE_REPORTS, GoogleClient
from ir.providers.http import Page, PageRequest

APPLICATIONS = ("login", "token", "admin", "drive")
NAME = re.compile(r"[a-z][a-z_]{1,40}")  # Reports application names: login, user_accounts, …


class GoogleCollector(Collector):
    provider = "google"

    def __init__(self, client: GoogleClient, applications: Sequence[str] = APPLICATIONS) -> None:
        bad = [a for a in applications if not NAME.fullmatch(a)]
        if bad or not applications:
            raise UsageError(f"google: not a Reports application name: {', '.join(bad)!r}")
        self.client, self.applications = client, list(applications)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, applications: Sequence[str] = APPLICATIONS, **kw: Any
    ) -> GoogleCollector:
        return cls(GoogleClient.from_env(env, scopes=(SCOPE_REPORTS,), **kw), applications)

    def options(self) -> str:
        return f"applications={','.join(self.applications)}"

    def streams(self) -> list[Stream]:
        permission = f"domain-wide delegation of {SCOPE_REPORTS}, acting as an admin"
        return [
            PagedStream(app, "google_workspace", permission, self._pages(app), self.client.secrets)
            for app in self.applications
        ]

    def _pages(self, application: str) -> Callable[[Window, PageRequest | None], Iterator[Page]]:
        def pages(window: Window, resume: PageRequest | None) -> Iterator[Page]:
            return self.client.activity_pages(
                application,
                start_time=iso(window.since) if window.since else None,
                end_time=iso(window.until),
                resume=resume,
            )

        return pages

    def close(self) -> None:
        self.client.close()
