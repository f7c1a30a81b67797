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
