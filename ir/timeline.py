"""Timelines: one row per event, ready for Timesketch, with a sentence a responder can read.

Rows carry Timesketch's three mandatory columns (`message`, `datetime` ISO 8601
UTC, `timestamp_desc`) plus `timestamp` in epoch microseconds, so a `.csv` or
`.jsonl` file imports as it is (contract §5). A trace timeline holds exactly
the traced events; a case timeline every event of the case in a time window.

An event that used one traced credential and issued another is one row: its
`credential`/`relation` name what it acted with (the used credential when there
is one), `issued`/`revoked` list the others. Every cell comes from logs an
attacker can write to, so the CSV export neutralises cells a spreadsheet would
run as a formula unless `raw=True`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd

from ir.errors import UsageError
from ir.render import neutralise
from ir.times import Time, window

if TYPE_CHECKING:
    import duckdb

    from ir.trace import Trace

TIMESTAMP_DESC = "Event time"
FORMATS = ("csv", "jsonl")
COLUMNS = [
    "datetime",
    "timestamp",
    "timestamp_desc",
    "message",
    "source",
    "source_event_id",
    "action",
    "credential",
    "relation",
    "issued",
    "revoked",
    "actor",
    "tenant",
    "client_ip",
    "user_agent",
    "country",
    "asn",
    "outcome",
    "error",
    "after_revocation",
    "after_ancestor_revocation",
    "after_expiry",
    "new_place",
    "evidence",
    "evidence_sha256",
]
_EVENT_KEY = ["source", "source_event_id"]
_RELATION_ORDER = {"used": 0, "issued": 1, "revoked": 2}
_NOUNS = {"aws_access_key": "key", "github_token": "token"}
_EPOCH = pd.Timestamp(0, tz="UTC")
_MESSAGE_FIELDS = [
    "actor",
    "relation",
    "credential",
    "action",
    "issued",
    "revoked",
    "client_ip",
    "user_wide",
    "outcome",
    "error",
    "after_revocation",
    "after_ancestor_revocation",
    "after_expiry",
]

# Every event with its credential refs (none for events that name no credential);
# `after_revocation`: a use while the credential's last successful state change was a revocation;
# `after_expiry`: a use after the expiry its last successful issuance logged.
_CASE_SQL = """
WITH window_events AS (
    SELECT * FROM events
    WHERE (?::TIMESTAMPTZ IS NULL OR time >= ?::TIMESTAMPTZ)
      AND (?::TIMESTAMPTZ IS NULL OR time < ?::TIMESTAMPTZ)
),
changes AS (
    SELECT c.credential, e.time, c.relation AS state, c.expires_at
    FROM credential_refs c JOIN events e USING (event_key)
    WHERE c.relation IN ('issued', 'revoked') AND e.outcome = 'success'
),
refs AS (
    SELECT w.*, c.credential, c.relation, c.via, c.principal
    FROM window_events w LEFT JOIN credential_refs c USING (event_key)
)
SELECT r.time, r.source, r.source_event_id, r.action, r.actor, r.client_ip, r.user_agent,
       r.credential, r.relation, r.outcome, f.path || '#' || r.record_no AS evidence,
       coalesce(r.relation = 'used' AND s.state = 'revoked', false) AS after_revocation,
       NULL::BOOLEAN AS after_ancestor_revocation,
       coalesce(r.relation = 'used' AND s.state = 'issued' AND r.time > s.expires_at, false)
           AS after_expiry, r.error, r.tenant, r.country, r.asn, r.via,
       f.sha256 AS evidence_sha256, r.principal
FROM refs r
ASOF LEFT JOIN changes s ON r.credential = s.credential AND r.time > s.time
JOIN evidence_files f USING (file_id)
ORDER BY r.time, r.source, r.source_event_id, r.credential, r.relation
"""


def from_trace(trace: Trace, since: Time = None, until: Time = None) -> pd.DataFrame:
    """The traced events, one row per event; `new_place` as the trace's places say."""
    events = _window(trace.events, *window(since, until))
    principals = dict(zip(trace.credentials["id"], trace.credentials["principal"], strict=True))
    return _rows(events, principals)


def from_case(
    connection: duckdb.DuckDBPyConnection, since: Time = None, until: Time = None
) -> pd.DataFrame:
    """Every event of the case in [since, until), whether or not it names a credential."""
    start, end = window(since, until)
    refs = connection.execute(_CASE_SQL, [start, start, end, end]).fetchdf()
    issued = refs[refs["relation"] == "issued"]
    principals = dict(zip(issued["credential"], issued["principal"], strict=True))
    return _rows(refs.assign(new_place=None), principals)


def text(frame: pd.DataFrame, fmt: str, raw: bool = False) -> str:
    """CSV (formula cells neutralised unless `raw`) or JSON Lines text of a timeline."""
    if fmt not in FORMATS:
        raise UsageError(f"timeline format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    columns = [str(c) for c in frame.columns]
    rows = _tuples(frame.assign(datetime=_iso_micro(frame["datetime"])))
    if fmt == "jsonl":
        return "".join(
            orjson.dumps(dict(zip(columns, row, strict=True))).decode() + "\n" for row in rows
        )
    buffer = io.StringIO()
    # CRLF as RFC 4180 says: it also makes the csv module quote a bare CR inside a cell,
    # which would otherwise start a new row (a log line could forge timeline rows).
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = (_flat(value) for value in row)
        writer.writerow(cells if raw else (neutralise(cell) for cell in cells))
    return buffer.getvalue()


def _tuples(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as tuples of plain Python values, missing as None (column-wise: fast on big cases)."""
    columns = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame]
    return list(zip(*columns, strict=True))


def _flat(value: Any) -> Any:
    """A CSV cell: lists as JSON, missing as empty."""
    if isinstance(value, list):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def _iso_micro(times: pd.Series) -> pd.Series:
    """ISO 8601 UTC with `Z`, microseconds when present: the same instant as `timestamp`."""
    if times.empty:
        return times.astype(object)
    whole = times.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    fine = times.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return whole.where(times.dt.microsecond == 0, fine)


def _window(
    events: pd.DataFrame, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> pd.DataFrame:
    keep = pd.Series(True, index=events.index)
    if since is not None:
        keep &= events["time"] >= since
    if until is not None:
        keep &= events["time"] < until
    return events[keep]


def _rows(refs: pd.DataFrame, principals: Mapping[str, Any]) -> pd.DataFrame:
    """Collapse credential refs into one row per event (used credential first) with its message."""
    if refs.empty:
        return pd.DataFrame(columns=COLUMNS)
    refs = refs.assign(_order=refs["relation"].map(_RELATION_ORDER).fillna(len(_RELATION_ORDER)))
    refs = refs.sort_values(["time", *_EVENT_KEY, "_order", "credential"], kind="stable")
    rows = refs.drop_duplicates(_EVENT_KEY).set_index(_EVENT_KEY)
    for relation in ("issued", "revoked"):
        chosen = refs[refs["relation"] == relation]
        rows[relation] = chosen.groupby(_EVENT_KEY)["credential"].agg(list).reindex(rows.index)
    by_event = [refs[k] for k in _EVENT_KEY]
    user_wide = refs["via"].fillna("").str.endswith("(user-wide)") & (refs["relation"] == "revoked")
    rows["user_wide"] = user_wide.groupby(by_event).any().reindex(rows.index)
    for flag in ("after_revocation", "after_ancestor_revocation", "after_expiry"):
        if refs[flag].notna().any():  # a case timeline has no lineage: its ancestor flag stays null
            flags = refs[flag].fillna(False).astype(bool)
            rows[flag] = flags.groupby(by_event).any().reindex(rows.index)
    rows = rows.reset_index()  # in time order already: the first ref of each event, sorted
    rows["message"] = [
        _message(dict(zip(_MESSAGE_FIELDS, values, strict=True)), principals)
        for values in _tuples(rows[_MESSAGE_FIELDS])
    ]
    rows["datetime"] = rows["time"]
    rows["timestamp"] = (rows["time"] - _EPOCH) // pd.Timedelta(1, "us")
    rows["timestamp_desc"] = TIMESTAMP_DESC
    for relation in ("issued", "revoked"):
        rows[relation] = [_as_list(v) or None for v in rows[relation]]
    return rows.reindex(columns=COLUMNS).reset_index(drop=True)


def _message(row: Mapping[str, Any], principals: Mapping[str, Any]) -> str:
    """One sentence: `ci-deployer key AKIA… AssumeRole (role Admin) from 203.0.113.66 → issued ASIA…`."""
    words = [_who(row["actor"])]
    if row["relation"] == "used":
        kind, _, value = str(row["credential"]).partition(":")
        words.append(f"{_NOUNS.get(kind, kind.replace('_', ' '))} {value}")
    words.append(_text(row["action"]) or "(no action logged)")
    issued, revoked = _as_list(row["issued"]), _as_list(row["revoked"])
    if issued and _text(principals.get(issued[0])):
        words.append(f"({_who(principals[issued[0]])})")
    if _text(row["client_ip"]):
        words.append(f"from {row['client_ip']}")
    if issued:
        words.append("→ issued " + ", ".join(_value(c) for c in issued))
    if revoked:
        scope = " (user-wide)" if _flag(row["user_wide"]) else ""
        words.append("→ revoked " + ", ".join(_value(c) for c in revoked) + scope)
    return " ".join(words) + _outcome_words(row)


def _outcome_words(row: Mapping[str, Any]) -> str:
    """Failure and post-revocation use, in words."""
    tail = ""
    if row["outcome"] == "failure":
        error = _text(row["error"])
        tail += f" — failed ({error})" if error else " — failed"
    if _flag(row["after_revocation"]):
        tail += " — used after its revocation"
    elif _flag(row["after_ancestor_revocation"]):
        tail += " — used after the credential it derives from was revoked"
    if _flag(row["after_expiry"]):
        tail += " — used after it expired"
    return tail


def _flag(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _value(credential: str) -> str:
    return credential.partition(":")[2] or credential


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _who(actor: Any) -> str:
    """A short name for a principal: `ci-deployer` for an IAM user ARN, `role Admin` for a session."""
    if not isinstance(actor, str) or not actor:
        return "unknown actor"
    if not actor.startswith("arn:"):
        return actor
    resource = actor.split(":", 5)[-1]
    kind, _, rest = resource.partition("/")
    if kind == "assumed-role":
        return f"role {rest.split('/')[0]}"
    if kind == "role":
        return f"role {rest.rsplit('/', 1)[-1]}"
    return rest.rsplit("/", 1)[-1] if rest else kind


def _as_list(values: Any) -> list[str]:
    return list(values) if isinstance(values, (list, tuple, np.ndarray)) else []
