"""Impact: what the traced credentials could do and what they touched (contract §9).

After "where was it used" (the trace) a responder owes the business, the breach notice
and the regulator "what could it do" and "what did they touch". `impact` answers from
the same closure as the trace (`ir.trace`, never a closure of its own), in SQL over the
case:

- `resources`: every object the traced credentials acted on (`event_resources`, filled
  by the parsers), one row per (source, type, id) with its actions, the strongest access
  (admin > write > read > auth), events, first and last seen, and `from_new_place` when
  any of those events came from a place the trace marks new. Only the events that used a
  traced credential and did not fail count: an admin's revocation of a traced key, or an
  AccessDenied, touched nothing for the attacker;
- `scopes`: the permissions each traced credential carried, as logged
  (`credential_refs.scopes`), per credential and source;
- `sensitive`: the traced uses that match the catalogue of sensitive actions
  (ir/catalog/sensitive_actions.toml: data, not code), each with its category, its
  MITRE ATT&CK technique and its target (for persistence the credential it minted, else
  the resource it acted on, admin access first; the other way round for the rest: a query
  that also opened a session targets what it read); failures included, with their outcome.

The catalogue is matched by `matches_ctes`, SQL that `ir.hunt` splices into its own
pass to score `sensitive_from_new_network`. A row may hold only in bulk (`count` such
events of one credential, or distinct resources of a type, within `minutes`: every event
of such a burst is listed) or only when the event acted on a resource of a type.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import duckdb
import pandas as pd

from ir import render, sql
from ir.errors import IrError
from ir.trace import Trace

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CATALOGUE_FILE = "catalog/sensitive_actions.toml"
CATEGORIES = (
    "persistence",
    "privilege",
    "credential_access",
    "defense_evasion",
    "exfiltration",
    "discovery",
)
TECHNIQUE = re.compile(r"T\d{4}(\.\d{3})?")
RESOURCE_COLUMNS = [
    "source",
    "type",
    "id",
    "name",
    "actions",
    "access",
    "events",
    "first_seen",
    "last_seen",
    "from_new_place",
    "credentials",
]
SCOPE_COLUMNS = ["credential", "source", "scopes"]
SENSITIVE_COLUMNS = [
    "time",
    "source",
    "source_event_id",
    "action",
    "category",
    "technique",
    "target",
    "credential",
    "outcome",
    "from_new_place",
    "reason",
]
_ROW_KEYS = {"source", "action", "pattern", "category", "technique", "reason", "url"}
_BULK_KEYS = {"count", "minutes", "distinct"}
_WHERE_KEYS = {"resource_type"}


@dataclass(frozen=True)
class Rule:
    """One row of the catalogue: what to match, what it means, where the vendor names it."""

    source: str
    action: str | None
    pattern: str | None
    category: str
    technique: str
    reason: str
    url: str
    bulk_count: int | None = None
    bulk_minutes: int | None = None
    bulk_distinct: str | None = None
    resource_type: str | None = None


def load_catalogue(text: str | None = None, sources: tuple[str, ...] | None = None) -> list[Rule]:
    """The package's catalogue (or `text` in its format), every row checked: a known source,
    an action or a pattern, a category of the contract, a well-formed technique id, a reason
    and a vendor URL. IrError names the row and what is wrong."""
    if sources is None:
        from parsers.registry import SOURCES

        sources = SOURCES
    try:
        document = tomllib.loads(
            text if text is not None else files("ir").joinpath(CATALOGUE_FILE).read_text("utf-8")
        )
    except tomllib.TOMLDecodeError as error:
        raise IrError(f"{CATALOGUE_FILE}: not TOML ({error})") from None
    rows = document.get("action")
    if not isinstance(rows, list) or not rows:
        raise IrError(f"{CATALOGUE_FILE}: no [[action]] rows")
    return [_rule(number, row, sources) for number, row in enumerate(rows, start=1)]


def _rule(number: int, row: dict[str, Any], sources: tuple[str, ...]) -> Rule:
    where = f"{CATALOGUE_FILE}: [[action]] #{number}"
    unknown = set(row) - _ROW_KEYS - {"bulk", "where"}
    unknown |= {f"bulk.{k}" for k in set(row.get("bulk", {})) - _BULK_KEYS}
    unknown |= {f"where.{k}" for k in set(row.get("where", {})) - _WHERE_KEYS}
    if unknown:
        raise IrError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    for key in ("source", "category", "technique", "reason", "url"):
        if not str(row.get(key, "")).strip():
            raise IrError(f"{where}: {key} is missing")
    if row["source"] not in sources:
        raise IrError(f"{where}: unknown source {row['source']!r}")
    if ("action" in row) == ("pattern" in row):
        raise IrError(f"{where}: give an action or a pattern, one of the two")
    if "pattern" in row:
        try:
            re.compile(row["pattern"])
        except re.error as error:
            raise IrError(f"{where}: the pattern is no regular expression ({error})") from None
    if row["category"] not in CATEGORIES:
        raise IrError(f"{where}: category must be one of {', '.join(CATEGORIES)}")
    if not TECHNIQUE.fullmatch(row["technique"]):
        raise IrError(
            f"{where}: technique {row['technique']!r} is no ATT&CK id (T1234 or T1234.001)"
        )
    if not str(row["url"]).startswith("https://"):
        raise IrError(f"{where}: url must be an https:// vendor page")
    bulk = row.get("bulk", {})
    if bulk and not all(isinstance(bulk.get(k), int) and bulk[k] > 0 for k in ("count", "minutes")):
        raise IrError(f"{where}: bulk needs count and minutes, whole numbers above 0")
    return Rule(
        source=row["source"],
        action=row.get("action"),
        pattern=row.get("pattern"),
        category=row["category"],
        technique=row["technique"],
        reason=" ".join(str(row["reason"]).split()),
        url=row["url"],
        bulk_count=bulk.get("count"),
        bulk_minutes=bulk.get("minutes"),
        bulk_distinct=bulk.get("distinct"),
        resource_type=row.get("where", {}).get("resource_type"),
    )


def _value(value: str | int | None) -> str:
    if value is None:
        return "NULL"
    return str(value) if isinstance(value, int) else sql.literal(value)


def matches_ctes(relation: str, rules: list[Rule] | None = None) -> str:
    """CTEs (to follow a WITH) ending in `sensitive_matches(event_key, credential, rule)`:
    the rows of `relation` (event_key, credential, time, source, action: one per use of a
    credential) that a catalogue rule matches, bulk rules counted per credential, and
    `sensitive_catalogue(rule, category, technique, reason, …)`."""
    rules = rules if rules is not None else load_catalogue()
    values = ",\n        ".join(
        "("
        + ", ".join(
            _value(v)
            for v in (
                number,
                r.source,
                r.action,
                r.pattern,
                r.category,
                r.technique,
                r.reason,
                r.bulk_count,
                r.bulk_minutes,
                r.bulk_distinct,
                r.resource_type,
            )
        )
        + ")"
        for number, r in enumerate(rules)
    )
    return f"""
sensitive_catalogue(rule, source, action, pattern, category, technique, reason, bulk_count,
                    bulk_minutes, bulk_distinct, resource_type) AS (
    VALUES {values}
),
sensitive_candidates AS (
    SELECT u.event_key, u.credential, u.time, c.rule, c.bulk_count, c.bulk_minutes,
           c.bulk_distinct, c.resource_type
    FROM {relation} u JOIN sensitive_catalogue c ON c.source = u.source AND c.action = u.action
    UNION ALL
    SELECT u.event_key, u.credential, u.time, c.rule, c.bulk_count, c.bulk_minutes,
           c.bulk_distinct, c.resource_type
    FROM {relation} u JOIN (FROM sensitive_catalogue WHERE pattern IS NOT NULL) c
      ON c.source = u.source AND regexp_full_match(u.action, c.pattern)
),
sensitive_conditioned AS (
    SELECT * FROM sensitive_candidates c
    WHERE c.resource_type IS NULL OR EXISTS (
        SELECT 1 FROM event_resources r WHERE r.event_key = c.event_key AND r.type = c.resource_type)
),
sensitive_counted AS MATERIALIZED (
    SELECT c.rule, c.credential, c.event_key, c.time, c.bulk_count, c.bulk_minutes,
           CASE WHEN c.bulk_distinct IS NULL THEN CAST(c.event_key AS VARCHAR) ELSE r.id END AS unit
    FROM sensitive_conditioned c
    LEFT JOIN event_resources r
      ON c.bulk_distinct IS NOT NULL AND r.event_key = c.event_key AND r.type = c.bulk_distinct
    WHERE c.bulk_count IS NOT NULL
),
sensitive_bursts AS (
    SELECT b.rule, b.credential, b.time AS ends, any_value(b.bulk_minutes) AS minutes
    FROM (SELECT DISTINCT rule, credential, time, bulk_count, bulk_minutes
          FROM sensitive_counted) b
    JOIN sensitive_counted p
      ON p.rule = b.rule AND p.credential = b.credential AND p.time <= b.time
     AND p.time > b.time - to_minutes(CAST(b.bulk_minutes AS BIGINT))
    GROUP BY b.rule, b.credential, b.time
    HAVING count(DISTINCT p.unit) >= any_value(b.bulk_count)
),
sensitive_matches AS (
    SELECT event_key, credential, rule FROM sensitive_conditioned WHERE bulk_count IS NULL
    UNION
    SELECT c.event_key, c.credential, c.rule
    FROM sensitive_counted c JOIN sensitive_bursts b
      ON b.rule = c.rule AND b.credential = c.credential AND c.time <= b.ends
     AND c.time > b.ends - to_minutes(CAST(b.minutes AS BIGINT))
)"""


@dataclass
class Impact:
    """What the traced lineage could do and touched, as DataFrames (times tz-aware UTC)."""

    root: str
    query: list[str]
    found: bool
    resources: pd.DataFrame
    scopes: pd.DataFrame
    sensitive: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """The contract §9 document (plus `query`, and extension columns in the rows)."""
        return {
            "query": list(self.query),
            "root": self.root,
            "resources": render.records(self.resources),
            "scopes": render.records(self.scopes),
            "sensitive": render.records(self.sensitive),
        }


_TRACED = "ir_impact_traced"
# One row per traced event that used a traced credential and did not fail; their resources
# are looked up by key (a list parameter: an index lookup, not a scan of the table).
_TOUCHING = f"""
touching AS (
    SELECT event_key, any_value(source) AS source, any_value(time) AS time,
           any_value(action) AS action, bool_or(new_place) AS new_place,
           list(DISTINCT credential ORDER BY credential) AS credentials
    FROM {_TRACED} WHERE relation = 'used' AND outcome <> 'failure'
    GROUP BY event_key
)"""
_ACCESS_RANK = "CASE {0} WHEN 'admin' THEN 4 WHEN 'write' THEN 3 WHEN 'auth' THEN 1 ELSE 2 END"
_RESOURCES_SQL = f"""
WITH {_TOUCHING}
SELECT t.source, r.type, r.id,
       first(r.name ORDER BY t.time DESC) FILTER (WHERE r.name IS NOT NULL) AS name,
       list(DISTINCT t.action ORDER BY t.action) FILTER (WHERE t.action IS NOT NULL) AS actions,
       ['auth', 'read', 'write', 'admin'][max({_ACCESS_RANK.format("r.access")})] AS access,
       count(DISTINCT t.event_key) AS events, min(t.time) AS first_seen,
       max(t.time) AS last_seen, bool_or(t.new_place) AS from_new_place,
       list_sort(list_distinct(flatten(list(t.credentials)))) AS credentials
FROM touching t
JOIN (FROM event_resources WHERE event_key IN (SELECT unnest($keys::BIGINT[]))) r USING (event_key)
GROUP BY t.source, r.type, r.id
ORDER BY from_new_place DESC, r.type, t.source, r.id
"""
_SCOPES_SQL = f"""
SELECT r.credential, t.source, list(DISTINCT r.scope ORDER BY r.scope) AS scopes
FROM (SELECT credential, event_key, unnest(scopes) AS scope FROM credential_refs
      WHERE credential IN (SELECT unnest(?::VARCHAR[])) AND scopes IS NOT NULL) r
JOIN (SELECT DISTINCT event_key, credential, source FROM {_TRACED}) t USING (event_key, credential)
WHERE r.scope IS NOT NULL AND r.scope <> ''
GROUP BY ALL
ORDER BY r.credential, t.source
"""


def _sensitive_sql(rules: list[Rule]) -> str:
    return f"""
WITH used AS (
    SELECT event_key, credential, time, source, action FROM {_TRACED} WHERE relation = 'used'
),
{matches_ctes("used", rules)},
events_once AS (
    SELECT event_key, any_value(time) AS time, any_value(source) AS source,
           any_value(source_event_id) AS source_event_id, any_value(action) AS action,
           any_value(outcome) AS outcome, bool_or(new_place) AS new_place
    FROM {_TRACED} WHERE event_key IN (SELECT event_key FROM sensitive_matches)
    GROUP BY event_key
),
issued AS (
    SELECT event_key, min(credential) AS target FROM {_TRACED}
    WHERE relation = 'issued' AND event_key IN (SELECT event_key FROM sensitive_matches)
    GROUP BY event_key
),
acted_on AS (
    SELECT event_key,
           first(type || ':' || id ORDER BY -({_ACCESS_RANK.format("access")}), type, id) AS target
    FROM event_resources WHERE event_key IN (SELECT event_key FROM sensitive_matches)
    GROUP BY event_key
)
SELECT e.time, e.source, e.source_event_id, e.action, c.category, c.technique,
       CASE WHEN c.category = 'persistence' THEN coalesce(i.target, a.target)
            ELSE coalesce(a.target, i.target) END AS target, min(m.credential) AS credential, e.outcome,
       e.new_place AS from_new_place, c.reason
FROM sensitive_matches m
JOIN sensitive_catalogue c USING (rule)
JOIN events_once e USING (event_key)
LEFT JOIN issued i USING (event_key)
LEFT JOIN acted_on a USING (event_key)
GROUP BY ALL
ORDER BY e.time, e.source, e.source_event_id, c.category, c.technique
"""


def impact(
    connection: duckdb.DuckDBPyConnection, trace: Trace, rules: list[Rule] | None = None
) -> Impact:
    """The impact of a trace: its events (with their case keys) joined back to the case."""
    rules = rules if rules is not None else load_catalogue()
    traced = trace.events[["credential", "relation", "time", "source", "source_event_id"]]
    traced = traced.assign(
        action=trace.events["action"],
        outcome=trace.events["outcome"],
        new_place=trace.events["new_place"].fillna(False).astype(bool),
        event_key=trace.event_keys.astype("int64"),
    )
    connection.register(_TRACED, traced)
    try:
        keys = sorted({int(key) for key in traced["event_key"]})
        resources = connection.execute(_RESOURCES_SQL, {"keys": keys}).fetchdf()
        scopes = connection.execute(_SCOPES_SQL, [list(trace.credentials["id"])]).fetchdf()
        sensitive = connection.execute(_sensitive_sql(rules)).fetchdf()
    finally:
        connection.unregister(_TRACED)
    return Impact(
        root=trace.root,
        query=list(trace.query),
        found=trace.found,
        resources=_listed(resources, ["actions", "credentials"]).reindex(columns=RESOURCE_COLUMNS),
        scopes=_listed(scopes, ["scopes"]).reindex(columns=SCOPE_COLUMNS),
        sensitive=sensitive.reindex(columns=SENSITIVE_COLUMNS),
    )


def _listed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """List columns as Python lists of str (DuckDB hands back numpy arrays)."""
    return frame.assign(
        **{
            c: [[str(v) for v in cell] if cell is not None else [] for cell in frame[c]]
            for c in columns
        }
    )
