"""Hunting: rank the case's credential lineages by evidence that someone else is using them.

Most leaks start without a known id ("a vendor was breached", "a secret scanner found
something"). What gives a stolen token away is its use, so `hunt` judges every use in
the case at once (contract §10):

- baselines come from the case itself: per credential, per principal (its owner), and
  per organisation, whose own networks are those many principals use;
- a use is placed on networks (`ir.places`: IPv4 /24, IPv6 /48, and the ASN where the
  log carries one); a network is known to an owner once it was used successfully, and
  new only when neither key of the use was known before (so a source that logs ASNs
  and one that does not still agree on a place both saw);
- the signals are found in one SQL statement over every use (`_SIGNALS_SQL`: what each
  credential and owner knew, as aggregates per credential, owner and network; a window
  per credential for concurrency), each with the event that shows it; the weights are
  data (ir/catalog/hunt_weights.toml, each with its reason);
- a finding is a lineage, named by its top-most credential whose use turned suspicious
  (the `issued` refs), with everything derived from it listed, so the list reads as a
  responder's worklist, and `credential` is the id `ir trace` takes next.

`--since` and `--until` bound the hunt: nothing at or after `until` exists for it, and
only events from `since` on can be evidence; baselines use all the history before.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ir import render, sql
from ir.credentials import PRINCIPAL_REVOCATIONS
from ir.errors import IrError, UsageError
from ir.impact import matches_ctes
from ir.places import define_network_macros

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SIGNALS = (
    "new_network",
    "new_user_agent",
    "concurrent_networks",
    "after_revocation",
    "derived_from_new_network",
    "sensitive_from_new_network",
)
FINDING_COLUMNS = [
    "credential",
    "kind",
    "principal",
    "score",
    "derived",
    "first_suspicious_use",
    "reasons",
]
REASONS_PER_SIGNAL = 3  # the strongest few of each signal: a worklist, not a dump
WEIGHTS_FILE = "catalog/hunt_weights.toml"


@dataclass(frozen=True)
class Signal:
    """One kind of evidence, its weight, and why; `scored` false lists it as not scored."""

    name: str
    weight: float
    why: str
    scored: bool = True
    not_scored: str | None = None


@dataclass(frozen=True)
class Weights:
    """The hunt's data file: signal weights, what a failure counts, what "many" means."""

    signals: dict[str, Signal]
    failure: float
    first_use: float
    org_principals: int
    concurrent_minutes: int

    def unscored(self) -> list[Signal]:
        return [signal for signal in self.signals.values() if not signal.scored]


def load_weights(text: str | None = None) -> Weights:
    """The weights file of the package (or `text` in its format); IrError naming what is wrong."""
    try:
        document = tomllib.loads(text or files("ir").joinpath(WEIGHTS_FILE).read_text("utf-8"))
        signals = {name: _signal(name, _table(document, "signals", name)) for name in SIGNALS}
        unknown = sorted(set(document["signals"]) - set(SIGNALS))
        if unknown:
            raise IrError(f"{WEIGHTS_FILE}: unknown signals {', '.join(unknown)}")
        weights = Weights(
            signals=signals,
            failure=float(_table(document, "outcome")["failure"]),
            first_use=float(_table(document, "first_use")["factor"]),
            org_principals=int(_table(document, "organisation")["principals"]),
            concurrent_minutes=int(_table(document, "concurrency")["minutes"]),
        )
    except tomllib.TOMLDecodeError as error:
        raise IrError(f"{WEIGHTS_FILE}: not TOML ({error})") from None
    except KeyError as missing:
        raise IrError(f"{WEIGHTS_FILE}: {missing.args[0]} is missing") from None
    if not (0 < weights.failure <= 1 and 0 < weights.first_use <= 1):
        raise IrError(f"{WEIGHTS_FILE}: the failure and first-use factors must be in (0, 1]")
    if weights.org_principals < 2:
        raise IrError(f"{WEIGHTS_FILE}: an organisation's network needs at least 2 principals")
    return weights


def _signal(name: str, table: dict[str, Any]) -> Signal:
    weight = float(table["weight"])
    if not 0 < weight < 1:
        raise IrError(f"{WEIGHTS_FILE}: {name} weight must be between 0 and 1 (exclusive)")
    scored = bool(table.get("scored", True))
    if not scored and not table.get("not_scored"):
        raise IrError(f"{WEIGHTS_FILE}: {name} is not scored; say why in not_scored")
    return Signal(name, weight, str(table["why"]).strip(), scored, table.get("not_scored"))


def _table(document: dict[str, Any], *path: str) -> dict[str, Any]:
    """A table of the weights file, which must say why its values are what they are."""
    table = document
    for key in path:
        table = table[key]
    if not str(table.get("why", "")).strip():
        raise IrError(f"{WEIGHTS_FILE}: [{'.'.join(path)}] gives no why (every weight says why)")
    return table


# Kinds a user-wide revocation ends, as rows: (credential kind, the user kind revoked).
_COVERED = ", ".join(
    f"({sql.literals([kind, user])})"
    for user, kinds in PRINCIPAL_REVOCATIONS.items()
    for kind in kinds
)
# Every signal of the case in one statement. `uses` are the used refs with their owner
# (principal, else the credential itself), place (each distinct address and ASN, keyed
# once into networks) and client (each distinct user agent, once into its family). What
# a credential or owner knew is its first successful use of each network (family); a use
# is new when it comes no later than that for every network of its place. A piece of
# evidence is keyed by a place's first network (its /24 or /48 where there is an address,
# else its ASN), so one place logged with an ASN by one source and without by another is
# one piece. Concurrency is a window per credential, over those held by one owner on more
# than one network. A sensitive action (the impact catalogue, ir/impact.py) counts when
# taken from a network that was new to its credential, as a minted credential does; the
# catalogue's matching is spliced in where `{sensitive}` stands.
_SIGNALS_TEMPLATE = f"""
WITH
used AS (
    SELECT r.credential, r.principal, e.event_key, e.time, e.outcome, e.client_ip, e.asn,
           e.user_agent
    FROM credential_refs r JOIN events e USING (event_key)
    WHERE r.relation = 'used' AND ($until::TIMESTAMPTZ IS NULL OR e.time < $until::TIMESTAMPTZ)
),
changed AS (
    SELECT r.credential, r.kind, r.relation, r.parent, r.via, r.principal, e.event_key,
           e.time, e.outcome
    FROM credential_refs r JOIN events e USING (event_key)
    WHERE r.relation <> 'used' AND ($until::TIMESTAMPTZ IS NULL OR e.time < $until::TIMESTAMPTZ)
),
places AS MATERIALIZED (
    SELECT row_number() OVER () AS place, client_ip, asn,
           list_filter([ir_network(client_ip, NULL), ir_network(NULL, asn)],
                       lambda n: n IS NOT NULL) AS networks
    FROM (SELECT DISTINCT client_ip, asn FROM used)
),
clients AS MATERIALIZED (
    SELECT row_number() OVER () AS client, user_agent,
           regexp_replace(regexp_replace(ir_strip(user_agent), '^\\[(.*)\\]$', '\\1'),
                          '[0-9][0-9._]*', '#', 'g') AS agent
    FROM (SELECT DISTINCT user_agent FROM used WHERE user_agent <> '')
),
uses AS MATERIALIZED (
    SELECT u.credential, u.event_key, u.time, u.outcome <> 'failure' AS ok,
           coalesce('principal:' || u.principal, u.credential) AS owner, p.place, p.networks,
           c.client, c.agent
    FROM used u
    JOIN places p
      ON u.client_ip IS NOT DISTINCT FROM p.client_ip AND u.asn IS NOT DISTINCT FROM p.asn
    LEFT JOIN clients c USING (user_agent)
),
networked AS MATERIALIZED (
    SELECT credential, owner, event_key, time, ok, len(networks) AS keys,
           unnest(networks) AS network
    FROM uses
),
organisation AS MATERIALIZED (
    SELECT network FROM networked WHERE ok
    GROUP BY network HAVING count(DISTINCT owner) >= $org_principals
),
place_org AS (
    SELECT place,
           coalesce(list_has_any(networks, (SELECT list(network) FROM organisation)), false) AS org
    FROM places
),
credential_since AS (
    SELECT credential, min(time) FILTER (WHERE ok) AS since FROM networked GROUP BY credential
),
owner_since AS (
    SELECT owner, min(time) FILTER (WHERE ok) AS since FROM networked GROUP BY owner
),
credential_networks AS (
    SELECT credential, network, min(time) FILTER (WHERE ok) AS known
    FROM networked GROUP BY ALL
),
owner_networks AS (
    SELECT owner, network, min(time) FILTER (WHERE ok) AS known FROM networked GROUP BY ALL
),
unseen AS (
    SELECT n.credential, n.event_key
    FROM networked n
    JOIN credential_networks c USING (credential, network)
    JOIN owner_networks o USING (owner, network)
    JOIN owner_since h USING (owner)
    WHERE coalesce(n.time <= c.known, true) AND coalesce(n.time <= o.known, true)
      AND h.since < n.time AND n.network NOT IN (SELECT network FROM organisation)
    GROUP BY n.credential, n.event_key HAVING count(*) = any_value(n.keys)
),
new_network AS (
    SELECT u.credential, u.event_key, u.time, u.networks,
           coalesce(s.since >= u.time, true) AS first_use
    FROM unseen JOIN uses u USING (credential, event_key) JOIN credential_since s USING (credential)
),
new_places AS (
    SELECT credential, network, min(time) AS since, bool_and(first_use) AS first_use
    FROM (SELECT credential, time, first_use, unnest(networks) AS network FROM new_network)
    GROUP BY ALL
),
agents AS MATERIALIZED (
    SELECT u.credential, u.owner, u.event_key, u.time, u.ok, u.agent, u.client, o.org
    FROM uses u JOIN place_org o USING (place) WHERE u.agent <> ''
),
common_agents AS (
    SELECT agent FROM agents WHERE ok
    GROUP BY agent HAVING count(DISTINCT owner) >= $org_principals
),
credential_agents AS (
    SELECT credential, agent, min(time) FILTER (WHERE ok) AS known FROM agents GROUP BY ALL
),
owner_agents AS (
    SELECT owner, agent, min(time) FILTER (WHERE ok) AS known FROM agents GROUP BY ALL
),
agent_owner_since AS (
    SELECT owner, min(time) FILTER (WHERE ok) AS since FROM agents GROUP BY owner
),
agent_credential_since AS (
    SELECT credential, min(time) FILTER (WHERE ok) AS since FROM agents GROUP BY credential
),
new_agent AS (
    SELECT a.credential, a.event_key, a.agent, l.user_agent,
           coalesce(s.since >= a.time, true) AS first_use
    FROM agents a
    JOIN credential_agents c USING (credential, agent)
    JOIN owner_agents o USING (owner, agent)
    JOIN agent_owner_since h USING (owner)
    JOIN agent_credential_since s USING (credential)
    JOIN clients l USING (client)
    WHERE coalesce(a.time <= c.known, true) AND coalesce(a.time <= o.known, true)
      AND h.since < a.time AND NOT a.org AND a.agent NOT IN (SELECT agent FROM common_agents)
),
roaming AS (
    SELECT credential FROM networked GROUP BY credential
    HAVING count(DISTINCT owner) = 1 AND count(DISTINCT network) > 1
),
sequenced AS (
    SELECT u.credential, u.event_key, u.time, u.networks, o.org,
           lag(u.time) OVER w AS before_time, lag(u.networks) OVER w AS before_networks,
           lag(o.org) OVER w AS before_org
    FROM uses u SEMI JOIN roaming USING (credential) JOIN place_org o USING (place)
    WHERE len(u.networks) > 0
    WINDOW w AS (PARTITION BY u.credential ORDER BY u.time, u.event_key)
),
concurrent AS (
    SELECT credential, event_key, before_networks, networks FROM sequenced
    WHERE before_time >= time - to_minutes($concurrent_minutes::BIGINT)
      AND NOT list_has_any(networks, before_networks) AND NOT (org AND before_org)
),
covered(kind, user_kind) AS (VALUES {_COVERED}),
user_revocations AS (
    SELECT lower(credential) AS holder, time FROM changed
    WHERE relation = 'revoked' AND outcome = 'success'
      AND kind IN (SELECT user_kind FROM covered)
),
held AS (
    SELECT r.credential, lower(c.user_kind || ':' || r.principal) AS holder, min(r.time) AS since
    FROM (SELECT credential, principal, time FROM used
          UNION ALL SELECT credential, principal, time FROM changed) r
    JOIN covered c ON c.kind = split_part(r.credential, ':', 1)
    WHERE r.principal IS NOT NULL GROUP BY ALL
),
changes AS (
    SELECT credential, time, relation AS state FROM changed
    WHERE relation IN ('issued', 'revoked') AND outcome = 'success'
    UNION ALL
    SELECT h.credential, v.time, 'revoked' FROM held h JOIN user_revocations v USING (holder)
    WHERE v.time > h.since
),
late AS (
    SELECT u.credential, u.event_key, c.time AS revoked
    FROM (FROM uses WHERE credential IN (SELECT credential FROM changes WHERE state = 'revoked')) u
    ASOF JOIN changes c ON u.credential = c.credential AND u.time > c.time
    WHERE c.state = 'revoked'
),
minted AS (
    SELECT i.credential, i.event_key, i.parent, i.via, u.networks, n.first_use
    FROM changed i
    JOIN uses u ON u.credential = i.parent AND u.event_key = i.event_key
    JOIN new_places n ON n.credential = i.parent AND list_contains(u.networks, n.network)
                     AND u.time >= n.since
    WHERE i.relation = 'issued' AND i.outcome <> 'failure'
),
sensitive_uses AS (
    SELECT u.credential, u.event_key, any_value(u.time) AS time, any_value(e.source) AS source,
           any_value(e.action) AS action, any_value(u.networks) AS networks,
           bool_and(n.first_use) AS first_use
    FROM uses u
    JOIN new_places n ON n.credential = u.credential AND list_contains(u.networks, n.network)
                     AND u.time >= n.since
    JOIN events e ON e.event_key = u.event_key
    GROUP BY u.credential, u.event_key
),
{{sensitive}},
sensitive AS (
    SELECT s.credential, s.event_key, s.networks, s.first_use,
           s.action || ' (' || c.category || ', ' || c.technique || ')' AS what
    FROM sensitive_matches m
    JOIN sensitive_uses s USING (credential, event_key)
    JOIN sensitive_catalogue c USING (rule)
),
signals AS (
    SELECT credential, 'new_network' AS signal, event_key, networks[1] AS piece,
           array_to_string(networks, ', ') AS detail, first_use
    FROM new_network
    UNION ALL
    SELECT credential, 'new_user_agent', event_key, agent, user_agent, first_use FROM new_agent
    UNION ALL
    SELECT credential, 'concurrent_networks', event_key,
           before_networks[1] || ' then ' || networks[1],
           array_to_string(before_networks, ', ') || ' then ' || array_to_string(networks, ', '),
           false
    FROM concurrent
    UNION ALL
    SELECT credential, 'after_revocation', event_key, revoked::VARCHAR,
           'revoked ' || strftime(revoked, '%Y-%m-%dT%H:%M:%SZ'), false
    FROM late
    UNION ALL
    SELECT credential, 'derived_from_new_network', event_key, networks[1],
           'minted by ' || parent || coalesce(' (' || via || ')', '') || ' from '
           || array_to_string(networks, ', '), first_use
    FROM minted
    UNION ALL
    SELECT credential, 'sensitive_from_new_network', event_key, networks[1],
           string_agg(what, '; ' ORDER BY what) || ' from ' || array_to_string(networks, ', '),
           first_use
    FROM sensitive GROUP BY credential, event_key, networks, first_use
)
SELECT s.credential, s.signal, s.piece, s.detail, s.first_use, e.time, e.outcome,
       e.source || ':' || e.source_event_id AS event,
       min(e.time) OVER (PARTITION BY s.credential, s.signal, s.piece) AS since
FROM signals s JOIN events e USING (event_key)
WHERE $since::TIMESTAMPTZ IS NULL OR e.time >= $since::TIMESTAMPTZ
QUALIFY row_number() OVER (
    PARTITION BY s.credential, s.signal, s.piece
    ORDER BY e.outcome = 'failure', s.first_use, e.time, e.source, e.source_event_id) = 1
"""
# The lineage: every successful issuance, once per parent -> child, with its first time.
_EDGES = """
edges AS MATERIALIZED (
    SELECT r.parent, r.credential, min(e.time) AS time
    FROM credential_refs r JOIN events e USING (event_key)
    WHERE r.relation = 'issued' AND r.parent IS NOT NULL AND e.outcome <> 'failure'
      AND ($until::TIMESTAMPTZ IS NULL OR e.time < $until::TIMESTAMPTZ)
    GROUP BY ALL
)"""
_ANCESTORS_SQL = f"""
WITH RECURSIVE {_EDGES},
up(credential, ancestor) AS (
    SELECT s, s FROM unnest($credentials::VARCHAR[]) AS t(s)
    UNION
    SELECT up.credential, edges.parent FROM up JOIN edges ON edges.credential = up.ancestor
)
SELECT credential, ancestor FROM up
WHERE ancestor IN (SELECT unnest($credentials::VARCHAR[]))
"""
_DESCENDANTS_SQL = f"""
WITH RECURSIVE {_EDGES},
down(root, credential, time) AS (
    SELECT s, s, NULL::TIMESTAMPTZ FROM unnest($credentials::VARCHAR[]) AS t(s)
    UNION
    SELECT down.root, edges.credential, edges.time
    FROM down JOIN edges ON edges.parent = down.credential
)
SELECT root AS credential, list(credential ORDER BY time, credential) AS derived
FROM (SELECT root, credential, min(time) AS time FROM down WHERE credential <> root GROUP BY ALL)
GROUP BY root
"""
# Whom each credential belongs to, as the trace says it: its issuance, else its uses.
_OWNERS_SQL = """
SELECT r.credential,
       coalesce(arg_min(r.principal, e.time)
                    FILTER (WHERE r.relation = 'issued' AND r.principal IS NOT NULL),
                mode(r.principal)) AS principal
FROM credential_refs r JOIN events e USING (event_key)
WHERE r.credential IN (SELECT unnest($credentials::VARCHAR[]))
GROUP BY r.credential
"""


@cache
def _signals_sql() -> str:
    """The signals statement with the impact catalogue's matching in place (read once)."""
    return _SIGNALS_TEMPLATE.replace("{sensitive}", matches_ctes("sensitive_uses"))


def hunt(
    connection: duckdb.DuckDBPyConnection,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    top: int | None = None,
    weights: Weights | None = None,
) -> pd.DataFrame:
    """Findings, highest score first: one row per suspicious lineage (FINDING_COLUMNS)."""
    if top is not None and top < 1:
        raise UsageError(f"--top {top}: give at least 1")
    if since is not None and until is not None and since >= until:
        raise UsageError("--since must be before --until")
    weights = weights or load_weights()
    evidence = _evidence(connection, since, until, weights)
    if evidence.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    finding_of = _finding_roots(connection, evidence, until)
    evidence["finding"] = evidence["credential"].map(finding_of)
    roots = sorted(set(finding_of.values()))
    lineage = _lineage(connection, roots, until)
    findings = [_finding(root, rows, lineage) for root, rows in evidence.groupby("finding")]
    frame = pd.DataFrame(findings, columns=[*FINDING_COLUMNS, "exact"])
    frame = frame.sort_values(
        ["exact", "first_suspicious_use", "credential"], ascending=[False, True, True]
    )
    frame = frame.drop(columns="exact").reset_index(drop=True)
    return frame if top is None else frame.head(top)


def _evidence(
    connection: duckdb.DuckDBPyConnection,
    since: pd.Timestamp | None,
    until: pd.Timestamp | None,
    weights: Weights,
) -> pd.DataFrame:
    """Every scored signal's strongest event per (credential, signal, piece of evidence),
    weighted (a failure and a credential's first use count less), and when the piece was
    first seen."""
    define_network_macros(connection)
    parameters = {
        "since": since,
        "until": until,
        "org_principals": weights.org_principals,
        "concurrent_minutes": weights.concurrent_minutes,
    }
    rows = connection.execute(_signals_sql(), parameters).fetchdf()
    scored = {name: s.weight for name, s in weights.signals.items() if s.scored}
    rows = rows[rows["signal"].isin(scored)].copy()
    failed = rows["outcome"].eq("failure").map({True: weights.failure, False: 1.0})
    first = rows["first_use"].astype(bool).map({True: weights.first_use, False: 1.0})
    rows["weight"] = rows["signal"].map(scored) * failed * first
    return rows.reset_index(drop=True)


def _finding_roots(
    connection: duckdb.DuckDBPyConnection, evidence: pd.DataFrame, until: pd.Timestamp | None
) -> dict[str, str]:
    """Each suspicious credential -> the top-most suspicious credential of its lineage
    (itself when nothing above it is suspicious); between two, the earlier suspicious."""
    suspicious = sorted(set(evidence["credential"]))
    first = evidence.groupby("credential")["since"].min()
    pairs = connection.execute(
        _ANCESTORS_SQL, {"credentials": suspicious, "until": until}
    ).fetchall()
    above: dict[str, set[str]] = {credential: {credential} for credential in suspicious}
    for credential, ancestor in pairs:
        above[credential].add(ancestor)
    tops = {credential for credential, ancestors in above.items() if ancestors == {credential}}
    return {
        credential: min(ancestors & tops or {credential}, key=lambda c: (first[c], c))
        for credential, ancestors in above.items()
    }


def _lineage(
    connection: duckdb.DuckDBPyConnection, roots: list[str], until: pd.Timestamp | None
) -> pd.DataFrame:
    """Per finding root: its principal and everything derived from it (in mint order)."""
    parameters = {"credentials": roots, "until": until}
    derived = connection.execute(_DESCENDANTS_SQL, parameters).fetchdf().set_index("credential")
    owners = connection.execute(_OWNERS_SQL, {"credentials": roots}).fetchdf()
    return owners.set_index("credential").join(derived, how="left")


def _finding(root: str, rows: pd.DataFrame, lineage: pd.DataFrame) -> dict[str, Any]:
    """One lineage: each piece of evidence (a signal and what it saw: a network, a client,
    a revocation) at its strongest event, combined as independent evidence. The same
    network seen through two credentials of the lineage is one piece."""
    ordered = rows.sort_values(["weight", "time", "event"], ascending=[False, True, True])
    pieces = ordered.drop_duplicates(["signal", "piece"])
    exact = 1.0 - float((1.0 - pieces["weight"]).prod())
    reasons = pieces.groupby("signal", sort=False).head(REASONS_PER_SIGNAL)
    derived = lineage["derived"].get(root)
    return {
        "credential": root,
        "kind": root.split(":", 1)[0],
        "principal": _text(lineage["principal"].get(root)),
        "score": round(exact, 3),
        "derived": [] if not isinstance(derived, (list, np.ndarray)) else list(derived),
        "first_suspicious_use": rows["since"].min(),
        "reasons": [
            {
                "signal": row.signal,
                "detail": f"{row.detail} (first use)" if row.first_use else row.detail,
                "event": row.event,
                "credential": row.credential,
                "time": render.iso(row.time),
                "weight": round(float(row.weight), 3),
            }
            for row in reasons.itertuples()
        ],
        "exact": exact,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def to_json(findings: pd.DataFrame, weights: Weights, generated: pd.Timestamp) -> dict[str, Any]:
    """The contract §10 document, plus `signals`: each signal's weight, whether it is
    scored (and why not), and why it weighs what it does."""
    return {
        "generated": render.iso(generated),
        "findings": render.records(findings),
        "signals": [
            {
                "signal": signal.name,
                "weight": signal.weight if signal.scored else None,
                "scored": signal.scored,
                "not_scored": signal.not_scored,
                "why": " ".join(signal.why.split()),
            }
            for signal in weights.signals.values()
        ],
    }
