"""Microsoft Entra ID sign-in and directory audit logs → sources `entra_signin`, `entra_audit`.

`GET /v1.0/auditLogs/signIns` (`$filter=createdDateTime ge SINCE and createdDateTime
lt UNTIL`) and `GET /v1.0/auditLogs/directoryAudits` (the same on
`activityDateTime`); pages follow the absolute `@odata.nextLink` until it is absent.
The token is an app-only client-credentials grant, a form POST to
`{AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token` (ir/providers/entra.py), never
logged. Throttling: 429 with `Retry-After` seconds, else exponential backoff
(the client). Permission: the application permission `AuditLog.Read.All` (admin
consented); sign-in logs also need an Entra ID P1 or P2 licence in the tenant.

Verified (2026-12): "The maximum and default page size is 1,000 objects and by
default, the most recent sign-ins are returned first"; least privileged permission
`AuditLog.Read.All` (https://learn.microsoft.com/en-us/graph/api/signin-list);
`$filter` on `createdDateTime` (Get-AzureADAuditSignInLogs examples,
https://learn.microsoft.com/en-us/powershell/module/azuread/get-azureadauditsigninlogs);
throttling (https://learn.microsoft.com/graph/throttling).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ir.collectors.base import Collector, PagedStream, Stream, Window, iso
from ir.errors import UsageError
from ir.providers.entra import EntraClient
from ir.providers.http import Page, PageRequest

PERMISSION = "the application permission AuditLog.Read.All (admin consent)"
LOGS = ("signins", "audits")


class EntraCollector(Collector):
    provider = "entra"

    def __init__(self, client: EntraClient, logs: Sequence[str] = LOGS) -> None:
        unknown = sorted(set(logs) - set(LOGS))
        if unknown or not logs:
            raise UsageError(f"entra: --logs takes {', '.join(LOGS)}; not {', '.join(unknown)}")
        self.client, self.logs = client, [log for log in LOGS if log in logs]

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, logs: Sequence[str] = LOGS, **kw: Any
    ) -> EntraCollector:
        return cls(EntraClient.from_env(env, **kw), logs)

    def options(self) -> str:
        return f"logs={','.join(self.logs)}"

    def streams(self) -> list[Stream]:
        streams = {
            "signins": ("signIns", "entra_signin", self.client.sign_in_pages),
            "audits": ("directoryAudits", "entra_audit", self.client.directory_audit_pages),
        }
        return [
            PagedStream(name, source, PERMISSION, self._pages(listing), self.client.secrets)
            for name, source, listing in (streams[log] for log in self.logs)
        ]

    @staticmethod
    def _pages(
        listing: Callable[..., Iterator[Page]],
    ) -> Callable[[Window, PageRequest | None], Iterator[Page]]:
        def pages(window: Window, resume: PageRequest | None) -> Iterator[Page]:
            since = iso(window.since) if window.since else None
            return listing(since=since, until=iso(window.until), resume=resume)

        return pages

    def close(self) -> None:
        self.client.close()
