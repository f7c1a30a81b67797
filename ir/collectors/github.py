"""GitHub organization or enterprise audit log → source `github`.

`GET /orgs/{org}/audit-log` or `/enterprises/{enterprise}/audit-log` with `include=all`
(web and Git events; the default is web only), `per_page=100` (the maximum),
`order=asc`, and the window as a search `phrase`: `created:SINCE..UNTIL` (the range
form, both ends inclusive, with `YYYY-MM-DDTHH:MM:SSZ` times; `*` for an open end).
Pages follow `Link: <…>; rel="next"` (an `after` cursor). Rate limits: the
enterprise endpoint allows 1,750 queries per hour; a 403/429 with `retry-after` or
`x-ratelimit-remaining: 0` is waited for by the client. Permission: an organization
owner's (enterprise admin's) token with the `read:audit_log` scope (classic PAT or
OAuth app); fine-grained tokens need "Administration" organization permission (read)
or "Enterprise administration" (read).

Verified (2026-12): parameters, `per_page` max 100, `order` asc|desc, `include`
web|git|all, cursors from the Link header, `read:audit_log`, 1,750 queries/hour
(https://docs.github.com/en/enterprise-cloud@latest/rest/enterprise-admin/audit-log;
the `read:audit_log` scope for both endpoints:
https://github.blog/changelog/2022-12-20-…, quoted on blog-github-com-develop.go-vip.co);
"By default, only events from the past three months are displayed. To view older
events, you must specify a date range with the created parameter"
(https://docs.github.com/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/searching-the-audit-log-for-your-enterprise);
date qualifiers take `YYYY-MM-DDTHH:MM:SSZ` and `a..b` ranges (github/docs,
content/search-github/getting-started-with-searching-on-github/understanding-the-search-syntax.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ir.collectors.base import Collector, PagedStream, Stream, Window, before, iso
from ir.errors import UsageError
from ir.providers.github import GitHubClient
from ir.providers.http import Page, PageRequest

SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
PERMISSION = (
    "the read:audit_log scope, as an organization owner (enterprise admin for --enterprise)"
)


def created_phrase(window: Window) -> str:
    """`created:SINCE..UNTIL` for [since, until): GitHub's range is inclusive, so its end
    is the last whole second before `until`."""
    start = iso(window.since) if window.since else "*"
    return f"created:{start}..{iso(before(window.until))}"


class GitHubCollector(Collector):
    provider = "github"

    def __init__(self, client: GitHubClient, *, org: str | None, enterprise: str | None) -> None:
        if (org is None) == (enterprise is None):
            raise UsageError("github: give --org ORG or --enterprise SLUG (one of them)")
        if not SLUG.fullmatch(org or enterprise or ""):
            raise UsageError(
                f"github: not an organization or enterprise name: {org or enterprise!r}"
            )
        self.client, self.org, self.enterprise = client, org, enterprise

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        org: str | None = None,
        enterprise: str | None = None,
        **kw: Any,
    ) -> GitHubCollector:
        if (org is None) == (enterprise is None):
            raise UsageError("github: give --org ORG or --enterprise SLUG (one of them)")
        return cls(GitHubClient.from_env(env, **kw), org=org, enterprise=enterprise)

    def options(self) -> str:
        return f"org={self.org}" if self.org else f"enterprise={self.enterprise}"

    def streams(self) -> list[Stream]:
        name = f"orgs/{self.org}" if self.org else f"enterprises/{self.enterprise}"
        return [PagedStream(name, "github", PERMISSION, self._pages, self.client.secrets)]

    def _pages(self, window: Window, resume: PageRequest | None) -> Iterator[Page]:
        return self.client.audit_log_pages(
            org=self.org,
            enterprise=self.enterprise,
            phrase=created_phrase(window),
            order="asc",
            resume=resume,
        )

    def close(self) -> None:
        self.client.close()
