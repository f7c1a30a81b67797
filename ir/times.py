"""Times a user gives (`--since`, `--leaked-at`, notebook arguments), as tz-aware UTC."""

from __future__ import annotations

from typing import TypeAlias

import pandas as pd

from ir.errors import UsageError

Time: TypeAlias = "str | pd.Timestamp | None"


def utc(value: Time) -> pd.Timestamp | None:
    """A time as tz-aware UTC (naive means UTC); a bad one is a UsageError naming it."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise UsageError(
            f"not a time: {value!r} (write ISO 8601, e.g. 2026-09-04T14:05:00Z)"
        ) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def window(since: Time, until: Time) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """[since, until) as UTC; a window that ends before it starts is a UsageError."""
    start, end = utc(since), utc(until)
    if start is not None and end is not None and start >= end:
        raise UsageError(
            f"the window is empty: since ({start:%Y-%m-%dT%H:%M:%SZ}) is not before until"
            f" ({end:%Y-%m-%dT%H:%M:%SZ})"
        )
    return start, end
