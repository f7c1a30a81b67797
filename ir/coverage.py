"""What the case can see, and where a trace runs past it.

Everything here reads `event_hours` (per source, tenant, evidence file and UTC hour:
how many events, the first and the last; ingest keeps it) and `coverage_spans` (the
gap rule's answer, kept by `refresh` after each ingest through the case), never the
events themselves: a trace's coverage reads a few rows at any case size.

- `coverage`: per source and tenant, the first and last event, how many events and
  evidence files, the layouts they came in, the gaps, the vendor's retention and what
  the export shape cannot hold (`parsers/coverage.toml`, data with its sources).
- `of_trace`: per traced credential, each source and tenant whose logs could show its
  use (the kind's sources, in every tenant the credential was seen in), and whether they
  cover its life: from its first event to its revocation, or to the case's end (its
  latest event: nothing later is in any of its logs) when it was never revoked.
  `absent`: the case holds none of those logs; `blind`: they stop before the life ends
  (`blind_after`, their last event), start after it began (`blind_before`, their first),
  or have gaps inside it; `covered`: none of these.
- `deadlines`: when each of those sources' retention starts erasing the lineage's
  oldest events at the vendor, soonest first: what to export next.

Silent spans and the gap rule. A *silent span* is a run of whole UTC hours in which
one source, in one tenant, logged nothing: between two hours with events (a gap), or
past the end of its logs (after) or before their start (before). Events were *due* in
a silent span when the source's own activity at the same clock hours says so:

1. comparison windows: the span's first `PROBE_HOURS` hours (all of it, if shorter)
   moved back by 1 to `SHIFT_DAYS` days, and its last `PROBE_HOURS` hours moved forward
   by 1 to `SHIFT_DAYS` days; only windows wholly inside the source's covered hours
   (its first event's hour to its last event's hour) count;
2. events were due when at least `MIN_WINDOWS` windows count and every one of them
   holds at least `MIN_EVENTS` events.

A gap in which events were due is reported. Past the ends, the rule is worked out for
spans of 1 to `PROBE_HOURS` hours (a longer one compares as its first or last
`PROBE_HOURS`) and the shortest due one kept: a credential's life that runs past it,
to the hour, is blind after the logs' last event (before their first).

The same hours of other days carry the source's nights and weekends with them: a lull
repeats, so some comparison window is as quiet and the lull is not a gap; ten events in
each window make a silence by chance unlikely (Poisson, e^-10 ≈ 5e-5). A source too
sparse for that, or logs spanning under about three days, show no gaps and no blind
spans of their own: there the case cannot tell a gap from a quiet spell and says
nothing rather than guess (an absent source is always said).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, NamedTuple

import duckdb
import pandas as pd

from ir import render

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 ships no TOML reader
    import tomli as tomllib

PROBE_HOURS = 24
SHIFT_DAYS = 7
MIN_WINDOWS = 2
MIN_EVENTS = 10
COVERAGE_COLUMNS = [
    "source",
    "tenant",
    "first_event",
    "last_event",
    "events",
    "files",
    "layouts",
    "gaps",
    "retention",
    "limits",
]
TRACE_COLUMNS = [
    "credential",
    "kind",
    "source",
    "tenant",
    "life_start",
    "life_end",
    "status",
    "covered_from",
    "covered_until",
    "blind_before",
    "blind_after",
    "gaps",
]
DEADLINE_COLUMNS = ["source", "tenant", "present", "oldest", "days", "tier", "expires", "url"]
_TIMES = ["covered_from", "covered_until", "life_start", "life_end", "blind_before", "blind_after"]


@dataclass(frozen=True)
class Retention:
    """How long a vendor keeps a source's events, for one plan or class of events."""

    days: int
    tier: str
    url: str
    verified: bool
    note: str | None = None


@dataclass(frozen=True)
class Limit:
    """What an export of a source cannot hold; `layouts` narrows it to some export shapes."""

    text: str
    url: str
    verified: bool
    note: str | None = None
    layouts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceFacts:
    """One source's entry: what its tenant column holds, its retention, its limits."""

    tenant: str
    retention: tuple[Retention, ...] = ()
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """`parsers/coverage.toml`: the sources each credential kind is used in, and per
    source its vendor's retention and the limits of its exports."""

    kinds: dict[str, tuple[str, ...]]
    sources: dict[str, SourceFacts]

    def sources_of(self, kind: str) -> tuple[str, ...]:
        return self.kinds.get(kind, ())

    def facts(self, source: str) -> SourceFacts:
        return self.sources.get(source, SourceFacts(tenant="unknown"))


@cache
def catalog() -> Catalog:
    """The catalogue, read once per process."""
    document = tomllib.loads(files("parsers").joinpath("coverage.toml").read_text("utf-8"))
    return Catalog(
        kinds={kind: tuple(sources) for kind, sources in document["kinds"].items()},
        sources={
            name: SourceFacts(
                tenant=entry["tenant"],
                retention=tuple(Retention(**r) for r in entry.get("retention", [])),
                limits=tuple(
                    Limit(**{**limit, "layouts": tuple(limit.get("layouts", ()))})
                    for limit in entry.get("limits", [])
                ),
            )
            for name, entry in document["sources"].items()
        },
    )


# --- SQL -------------------------------------------------------------------------------

# Per source and tenant, what the case holds; `files` and `layouts` by evidence file.
_ROWS_SQL = """
WITH per_file AS (
    SELECT h.source, h.tenant, h.file_id, any_value(f.layout) AS layout,
           sum(h.events) AS events, min(h.first_event) AS first_event,
           max(h.last_event) AS last_event
    FROM event_hours h JOIN evidence_files f ON f.file_id = h.file_id
    GROUP BY h.source, h.tenant, h.file_id
)
SELECT source, tenant, min(first_event) AS first_event, max(last_event) AS last_event,
       sum(events)::BIGINT AS events, count(*) AS files,
       list(DISTINCT layout ORDER BY layout) AS layouts
FROM per_file GROUP BY source, tenant ORDER BY source, tenant NULLS FIRST
"""
# The (source, tenant) pairs asked about, as parallel lists.
_WANTED = """
WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS source, unnest(?::VARCHAR[]) AS tenant)"""
_WANTED_ONLY = """
WHERE EXISTS (SELECT 1 FROM wanted w WHERE w.source = h.source
                                       AND w.tenant IS NOT DISTINCT FROM h.tenant)"""
# The gap rule of the module docstring, in one statement, per source and tenant (`part`):
# hourly counts; the silent spans: runs of empty hours (`gap`), and the first 1 to
# PROBE_HOURS hours past the end of the logs (`after`) and before their start (`before`);
# the comparison windows of each and the events in them; the spans in which events were
# due. Out: each due gap; the shortest due `after` and `before` spans (a life that runs
# to `stop` or later, or starts at `start` or earlier, runs past the logs while events
# were due); and, as `covered`, the first and last event.
_SPANS_SQL = """
{wanted},
hourly AS (
    SELECT h.source, h.tenant, h.hour, sum(h.events) AS events,
           min(h.first_event) AS first_event, max(h.last_event) AS last_event,
           dense_rank() OVER (ORDER BY h.source, h.tenant) AS part
    FROM event_hours h {only}
    GROUP BY h.source, h.tenant, h.hour
),
running AS (
    SELECT part, hour, lag(hour) OVER (PARTITION BY part ORDER BY hour) AS previous FROM hourly
),
windows AS (
    SELECT part, any_value(source) AS source, any_value(tenant) AS tenant,
           min(hour) AS first_hour, max(hour) + INTERVAL 1 HOUR AS end_hour,
           min(first_event) AS first_event, max(last_event) AS last_event
    FROM hourly GROUP BY part
),
lengths AS (SELECT range AS hours FROM range(1, {probe} + 1)),
spans AS (
    SELECT 'gap' AS span, part, previous + INTERVAL 1 HOUR AS start, hour AS stop
    FROM running WHERE hour > previous + INTERVAL 1 HOUR
    UNION ALL
    SELECT 'after', part, end_hour, end_hour + hours * INTERVAL 1 HOUR FROM windows, lengths
    UNION ALL
    SELECT 'before', part, first_hour - hours * INTERVAL 1 HOUR, first_hour FROM windows, lengths
),
probes AS (SELECT *, least(stop - start, INTERVAL {probe} HOUR) AS probe FROM spans),
shifts AS (SELECT range AS days FROM range(1, {shift} + 1)),
compared AS (
    SELECT p.span, p.part, p.start, p.stop, p.start - s.days * INTERVAL 1 DAY AS window_start,
           p.probe
    FROM probes p, shifts s
    UNION ALL
    SELECT p.span, p.part, p.start, p.stop, p.stop - p.probe + s.days * INTERVAL 1 DAY, p.probe
    FROM probes p, shifts s
),
inside AS (
    SELECT c.*, c.window_start + c.probe AS window_stop
    FROM compared c JOIN windows w USING (part)
    WHERE c.window_start >= w.first_hour AND c.window_start + c.probe <= w.end_hour
),
counted AS (
    SELECT i.span, i.part, i.start, i.stop, i.window_start, coalesce(sum(h.events), 0) AS events
    FROM inside i LEFT JOIN hourly h
      ON h.part = i.part AND h.hour >= i.window_start AND h.hour < i.window_stop
    GROUP BY i.span, i.part, i.start, i.stop, i.window_start
),
due AS (
    SELECT span, part, start, stop, median(events)::BIGINT AS usual FROM counted
    GROUP BY span, part, start, stop
    HAVING count(*) >= {windows} AND min(events) >= {events}
)
SELECT s.span, w.source, w.tenant, s.start, s.stop, s.usual FROM (
    SELECT * FROM due WHERE span = 'gap'
    UNION ALL
    SELECT 'after', part, min(start), min(stop), NULL FROM due WHERE span = 'after' GROUP BY part
    UNION ALL
    SELECT 'before', part, max(start), max(stop), NULL FROM due WHERE span = 'before'
    GROUP BY part
    UNION ALL
    SELECT 'covered', part, first_event, last_event, NULL FROM windows
) s JOIN windows w USING (part)
ORDER BY w.source, w.tenant NULLS FIRST, s.span, s.start
"""
# The spans as `refresh` stored them, for the pairs asked about; and whether they are of
# the case as it is (`refresh` ran after the last file was ingested).
_STORED_SQL = """
{wanted}
SELECT h.span, h.source, h.tenant, h.start, h.stop, h.usual FROM coverage_spans h {only}
ORDER BY h.source, h.tenant NULLS FIRST, h.span, h.start
"""
_STATE_SQL = """
SELECT (SELECT value FROM case_meta WHERE key = 'coverage_spans_of')
       = (SELECT coalesce(max(file_id), 0)::VARCHAR FROM evidence_files),
       (SELECT max(last_event) FROM event_hours)
"""
_MARK_SQL = """
INSERT OR REPLACE INTO case_meta
SELECT 'coverage_spans_of', coalesce(max(file_id), 0)::VARCHAR FROM evidence_files
"""


def _sql(template: str, filtered: bool) -> str:
    return template.format(
        wanted=_WANTED,
        only=_WANTED_ONLY if filtered else "",
        probe=PROBE_HOURS,
        shift=SHIFT_DAYS,
        windows=MIN_WINDOWS,
        events=MIN_EVENTS,
    )


# --- the case --------------------------------------------------------------------------


def coverage(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source and tenant: span, events, files, layouts, gaps, retention, limits."""
    rows = connection.execute(_ROWS_SQL).fetchdf()
    rows["layouts"] = [list(layouts) for layouts in rows["layouts"]]
    gaps = _gaps_by_pair(_spans(connection, None, _state(connection)[0]))
    facts = catalog()
    rows["gaps"] = [
        [_gap_json(gap) for gap in gaps.get((s, _tenant(t)), [])]
        for s, t in zip(rows["source"], rows["tenant"], strict=True)
    ]
    rows["retention"] = [retention_lines(facts.facts(s)) for s in rows["source"]]
    rows["limits"] = [
        limit_lines(facts.facts(s), layouts)
        for s, layouts in zip(rows["source"], rows["layouts"], strict=True)
    ]
    return rows.reindex(columns=COVERAGE_COLUMNS)


def refresh(connection: duckdb.DuckDBPyConnection) -> None:
    """Work out the spans of every source and tenant and keep them in the case
    (`coverage_spans`), marked with the evidence they are of: a trace then reads a few
    rows instead of running the gap rule. Run after an ingest; until then, readers work
    the spans out themselves."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute("DELETE FROM coverage_spans")
        connection.execute(
            f"INSERT INTO coverage_spans BY NAME {_sql(_SPANS_SQL, False)}", [[], []]
        )
        connection.execute(_MARK_SQL)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _state(connection: duckdb.DuckDBPyConnection) -> tuple[bool, pd.Timestamp | None]:
    """Whether `refresh` has seen every evidence file, and the case's latest event (what
    stands for "now" in a case exported at some moment)."""
    ((fresh, end),) = connection.execute(_STATE_SQL).fetchall()
    return bool(fresh), None if end is None else pd.Timestamp(end).tz_convert("UTC")


def retention_lines(facts: SourceFacts) -> list[str]:
    """'<days> d: <plan or class of events>' per retention period, shortest first."""
    return [f"{r.days} d: {r.tier}" for r in sorted(facts.retention, key=lambda r: r.days)]


def limit_lines(facts: SourceFacts, layouts: Any) -> list[str]:
    """The limits that hold for exports in `layouts` (a limit without layouts: all)."""
    seen = set(layouts) if layouts is not None else set()
    return [
        limit.text
        for limit in facts.limits
        if not limit.layouts or seen.intersection(limit.layouts)
    ]


def gap_text(gap: dict[str, Any]) -> str:
    """One gap as a line: '<start> → <end> (N h, usually U events)'."""
    return f"{gap['start']} → {gap['end']} ({gap['hours']} h, usually {gap['usual']} events)"


# --- a trace ---------------------------------------------------------------------------


def of_trace(
    connection: duckdb.DuckDBPyConnection, credentials: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """Per traced credential and each source and tenant that could show its use: whether
    the case covers the credential's life there (module docstring)."""
    fresh, end = _state(connection)
    lives = _lives(credentials, events, end)
    pairs = sorted({(life.source, life.tenant) for life in lives}, key=str)
    spans = _spans(connection, pairs, fresh) if pairs else []
    edges = {(s["span"], s["source"], s["tenant"]): s for s in spans if s["span"] != "gap"}
    gaps = _gaps_by_pair(spans)
    rows = []
    for life in lives:
        pair = (life.source, life.tenant)
        window = edges.get(("covered", *pair))
        after = edges.get(("after", *pair))
        before = edges.get(("before", *pair))
        inside = [
            _gap_json(gap)
            for gap in gaps.get(pair, [])
            if gap["start"] < life.end and gap["stop"] > life.start
        ]
        if window is None:
            rows.append((*life, "absent", None, None, None, None, inside))
            continue
        # the spans start and stop on the hour: a life reaches one when it passes its edge
        blind_before = before is not None and life.start < before["start"]
        blind_after = after is not None and life.end >= after["stop"]
        rows.append(
            (
                *life,
                "blind" if blind_before or blind_after or inside else "covered",
                window["start"],
                window["stop"],
                window["start"] if blind_before else None,
                window["stop"] if blind_after else None,
                inside,
            )
        )
    columns = zip(*rows, strict=True) if rows else ([] for _ in TRACE_COLUMNS)
    return pd.DataFrame(
        {
            name: pd.DatetimeIndex(values, tz="UTC") if name in _TIMES else list(values)
            for name, values in zip(TRACE_COLUMNS, columns, strict=True)
        }
    )


def blind_after(credentials: pd.DataFrame, cover: pd.DataFrame) -> pd.Series:
    """Per credential (aligned to `credentials`), the earliest moment after which a source
    that could show its use holds nothing more of its life; NaT where none stops early."""
    earliest: dict[str, pd.Timestamp] = {}
    for credential, moment in zip(cover["credential"], cover["blind_after"], strict=True):
        if not pd.isna(moment) and (credential not in earliest or moment < earliest[credential]):
            earliest[credential] = moment
    return pd.to_datetime(credentials["id"].map(earliest), utc=True)


def nest(records: list[dict[str, Any]], cover: pd.DataFrame) -> list[dict[str, Any]]:
    """Credential records (trace JSON) each with its `coverage` rows (contract extension)."""
    rows = render.records(cover.drop(columns=["kind"]))
    by_credential: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_credential.setdefault(row.pop("credential"), []).append(row)
    return [{**record, "coverage": by_credential.get(record["id"], [])} for record in records]


def blind_spots(cover: pd.DataFrame) -> pd.DataFrame:
    """Where a trace is blind, one row per source, tenant and blind span, with the kinds and
    the credentials whose lives it cuts: `absent` (the case holds none of those logs),
    `before` / `after` a time (the logs start late or end early), or a `gap`."""
    spans: dict[tuple[str, str | None, str, str], tuple[set[str], list[str]]] = {}
    for row in cover.to_dict(orient="records"):
        for span, text in _blind_texts(row):
            kinds, credentials = spans.setdefault(
                (row["source"], _tenant(row["tenant"]), span, text), (set(), [])
            )
            kinds.add(row["kind"])
            if row["credential"] not in credentials:
                credentials.append(row["credential"])
    order = {"absent": 0, "before": 1, "gap": 2, "after": 3}
    keys = sorted(spans, key=lambda k: (k[0], str(k[1]), order[k[2]], k[3]))
    return pd.DataFrame(
        [(*key, sorted(spans[key][0]), spans[key][1]) for key in keys],
        columns=["source", "tenant", "span", "blind", "kinds", "credentials"],
    )


def _blind_texts(row: dict[str, Any]) -> list[tuple[str, str]]:
    """The blind spans of one coverage row, each with the line that says it."""
    if row["status"] == "absent":
        return [("absent", "the case holds none of these logs")]
    texts = []
    if not pd.isna(row["blind_before"]):
        texts.append(("before", f"before {render.iso(row['blind_before'])}: the logs start there"))
    texts += [("gap", f"gap {gap_text(gap)}") for gap in row["gaps"]]
    if not pd.isna(row["blind_after"]):
        texts.append(("after", f"after {render.iso(row['blind_after'])}: the logs end there"))
    return texts


def deadlines(cover: pd.DataFrame) -> pd.DataFrame:
    """Per source and tenant a trace needs, and per retention tier of its vendor: the
    lineage's oldest moment there (the earliest life start of the credentials that need
    it) and the date that moment leaves the vendor's store, soonest first. A source with
    no retention in the catalogue gets one row without a date."""
    if cover.empty:
        return pd.DataFrame(columns=DEADLINE_COLUMNS)
    facts = catalog()
    grouped = cover.groupby(["source", "tenant"], dropna=False, sort=True)
    rows: list[dict[str, Any]] = []
    for (source, tenant), group in grouped:
        oldest = group["life_start"].min()
        present = bool((group["status"] != "absent").any())
        retention = facts.facts(str(source)).retention
        base = {"source": source, "tenant": _tenant(tenant), "present": present, "oldest": oldest}
        rows.extend(
            {
                **base,
                "days": r.days,
                "tier": r.tier,
                "expires": oldest + pd.Timedelta(days=r.days),
                "url": r.url,
            }
            for r in retention
        )
        if not retention:
            rows.append({**base, "days": None, "tier": None, "expires": pd.NaT, "url": None})
    frame = pd.DataFrame(rows, columns=DEADLINE_COLUMNS)
    frame["days"] = pd.Series([row["days"] for row in rows], dtype=object)  # None, not NaN
    frame["expires"] = pd.to_datetime(frame["expires"], utc=True)
    return frame.sort_values(
        ["expires", "source", "days"], na_position="last", kind="stable"
    ).reset_index(drop=True)


class Life(NamedTuple):
    """A credential's life, held up against one source and tenant that could show its use."""

    credential: str
    kind: str
    source: str
    tenant: str | None
    start: pd.Timestamp
    end: pd.Timestamp


def _lives(credentials: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp | None) -> list[Life]:
    """Each credential against its kind's sources (else the sources of its events), in each
    tenant its events came from there (else anywhere); its life runs from its first event
    to its revocation, else to `end`."""
    seen: dict[str, dict[str, set[str | None]]] = {}
    unique = events[["credential", "source", "tenant"]].drop_duplicates()
    for credential, source, tenant in zip(
        unique["credential"], unique["source"], unique["tenant"], strict=True
    ):
        seen.setdefault(credential, {}).setdefault(source, set()).add(_tenant(tenant))
    facts = catalog()
    lives: list[Life] = []
    for credential, kind, first, revoked in zip(
        credentials["id"],
        credentials["kind"],
        credentials["first_seen"],
        credentials["revoked_at"],
        strict=True,
    ):
        own = seen.get(credential)
        if not own or pd.isna(first):
            continue
        sources = facts.sources_of(kind) or tuple(sorted(own))
        there = [own[source] for source in sources if source in own] or list(own.values())
        last = end if pd.isna(revoked) else revoked
        lives.extend(
            Life(credential, kind, source, tenant, first, last)
            for source in sources
            for tenant in sorted(set().union(*there), key=str)
        )
    return lives


def _spans(
    connection: duckdb.DuckDBPyConnection,
    pairs: list[tuple[str, str | None]] | None,
    fresh: bool,
) -> list[dict[str, Any]]:
    """The spans (`_SPANS_SQL`) of `pairs` (None: every source and tenant): as `refresh`
    kept them when they are `fresh` (of the case as it is), else worked out now. Rows as
    dicts: a trace's handful does not pay for a DataFrame."""
    parameters = [[source for source, _ in pairs or ()], [tenant for _, tenant in pairs or ()]]
    template = _STORED_SQL if fresh else _SPANS_SQL
    result = connection.execute(_sql(template, filtered=pairs is not None), parameters)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _gaps_by_pair(
    spans: list[dict[str, Any]],
) -> dict[tuple[str, str | None], list[dict[str, Any]]]:
    gaps: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for span in spans:
        if span["span"] == "gap":
            gaps.setdefault((span["source"], span["tenant"]), []).append(span)
    return gaps


def _gap_json(gap: dict[str, Any]) -> dict[str, Any]:
    """A gap as the outputs carry it: start and end (ISO 8601), hours, the usual count."""
    return {
        "start": render.iso(gap["start"]),
        "end": render.iso(gap["stop"]),
        "hours": int((gap["stop"] - gap["start"]).total_seconds() // 3600),
        "usual": int(gap["usual"]),
    }


def _tenant(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
