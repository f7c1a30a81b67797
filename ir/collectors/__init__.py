"""Collectors: `ir collect PROVIDER` pulls audit logs from a provider's API into the case.

One small module per provider (aws, okta, github, entra, google, slack, salesforce)
says what to fetch — endpoint, window parameters, pagination, rate-limit signals —
on the provider clients of `ir.providers`; `base` holds the one loop that writes each
page raw under `--out`, journals the cursor and ingests through `ir.ingest`
(contract §8). Collectors sit beside ingest: they never import the analysis.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ir.collectors.aws import AwsCollector
from ir.collectors.base import (
    AfterLoad,
    Collection,
    CollectionFailed,
    Collector,
    Progress,
    Report,
    StreamResult,
    collect,
    telling_sleep,
)
from ir.collectors.entra import LOGS, EntraCollector
from ir.collectors.github import GitHubCollector
from ir.collectors.google import APPLICATIONS, GoogleCollector
from ir.collectors.okta import OktaCollector
from ir.collectors.salesforce import SalesforceCollector
from ir.collectors.slack import SlackCollector
from ir.errors import UsageError
from ir.providers.http import Sleep
from ir.store import Store
from ir.times import moment

PROVIDERS = ("aws", "okta", "github", "entra", "google", "slack", "salesforce")

__all__ = [
    "DEFAULT_OPTIONS",
    "PROVIDERS",
    "Collection",
    "CollectionFailed",
    "Collector",
    "Options",
    "Progress",
    "Report",
    "StreamResult",
    "collect",
    "collector",
    "run",
    "telling_sleep",
]


@dataclass(frozen=True)
class Options:
    """The provider options of `ir collect` (contract §8)."""

    s3: str | None = None
    lookup: bool = False
    org: str | None = None
    enterprise: str | None = None
    logs: Sequence[str] = LOGS
    applications: Sequence[str] = APPLICATIONS


DEFAULT_OPTIONS = Options()


def collector(provider: str, env: Mapping[str, str], options: Options, sleep: Sleep) -> Collector:
    """The collector of `provider`, its settings read from `env` (every missing one named
    before any call); `sleep` is how its clients wait for a rate limit or a backoff."""
    if provider == "aws":
        return AwsCollector.from_env(s3=options.s3, lookup=options.lookup, sleep=sleep)
    if provider == "okta":
        return OktaCollector.from_env(env, sleep=sleep)
    if provider == "github":
        return GitHubCollector.from_env(
            env, org=options.org, enterprise=options.enterprise, sleep=sleep
        )
    if provider == "entra":
        return EntraCollector.from_env(env, logs=options.logs, sleep=sleep)
    if provider == "google":
        return GoogleCollector.from_env(env, applications=options.applications, sleep=sleep)
    if provider == "slack":
        return SlackCollector.from_env(env, sleep=sleep)
    if provider == "salesforce":
        return SalesforceCollector.from_env(env, sleep=sleep)
    raise UsageError(f"no collector for {provider!r}; one of {', '.join(PROVIDERS)}")


def run(
    store: Store,
    provider: str,
    *,
    since: str | None = None,
    until: str | None = None,
    out: str | Path = "evidence",
    options: Options = DEFAULT_OPTIONS,
    env: Mapping[str, str],
    report: Report | None = None,
    after_load: AfterLoad | None = None,
    sleep: Sleep = time.sleep,
) -> Collection:
    """`ir collect PROVIDER`: [since, until) — ISO 8601 or an age (`7d`, `24h`); until
    defaults to now — from the provider's API into `out/<provider>/` and the case.
    Raises CollectionFailed (what was written is ingested) when the provider refuses."""
    now = pd.Timestamp.now(tz="UTC").floor("s")
    start, end = moment(since, now), moment(until, now)
    if start is not None and end is not None and start >= end:
        raise UsageError(f"--since ({since}) is not before --until ({until})")
    if start is not None and start >= now:
        raise UsageError(f"--since ({since}) is in the future")
    chosen = collector(provider, env, options, telling_sleep(provider, report, sleep))
    try:
        return collect(
            store,
            chosen,
            since=start.to_pydatetime() if start is not None else None,
            until=end.to_pydatetime() if end is not None else None,
            out=Path(out),
            key=f"since={since or '-'} until={until or '-'}",
            report=report,
            after_load=after_load,
        )
    finally:
        chosen.close()
