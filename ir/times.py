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


_RELATIVE = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def moment(value: str | None, now: pd.Timestamp) -> pd.Timestamp | None:
    """`--since`/`--until` of `ir collect`: ISO 8601, or an age before `now` (`7d`, `24h`,
    `30m`, `2w`); a bad one is a UsageError naming it."""
    if value is None:
        return None
    text = value.strip()
    unit = _RELATIVE.get(text[-1:].lower())
    if unit is not None and text[:-1].isdigit():
        return now - pd.Timedelta(**{unit: int(text[:-1])})
    try:
        return utc(text)
    except UsageError:
        raise UsageError(
            f"not a time: {value!r} (write ISO 8601, e.g. 2026-09-04T14:05:00Z, or an age:"
            " 7d, 24h, 30m, 2w)"
        ) from None
