"""From what a responder knows to the credentials to trace: every credential of the case
(with filters), those a user held, those used from an address or network.

`ir credentials` lists the case's credentials with what the logs say of each (kind,
principal, first and last use, events, places, revoked or expired); `ir trace --actor`
and `ir trace --ip` trace every credential such a pivot finds, so "the attacker's
address: what else did it touch?" is one command. The revocation rule is the trace's:
the first successful revocation since the credential was last issued (user-wide
revocations are the trace's to find, per lineage).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ir import places
from ir.credentials import UnknownCredential, normalise_id
from ir.errors import UsageError
from ir.times import Time, utc
from parsers import registry

COLUMNS = [
    "id",
    "kind",
    "principal",
    "first_seen",
    "last_seen",
    "events",
    "places",
    "revoked_at",
    "expires_at",
    "expired",
]
_CREDENTIALS_SQL = """
WITH refs AS (
    SELECT c.credential, c.kind, c.relation, c.principal, c.expires_at, c.event_key,
           e.time, e.outcome, e.source, e.tenant, e.client_ip, e.user_agent
    FROM credential_refs c JOIN events e USING (event_key)
    WHERE $kind IS NULL OR c.kind = $kind
),
per AS (
    SELECT credential AS id, any_value(kind) AS kind,
           coalesce(arg_min(principal, time) FILTER (WHERE relation = 'issued'),
                    mode(principal)) AS principal,
           min(time) AS first_seen, max(time) AS last_seen,
           count(DISTINCT event_key) AS events,
           count(DISTINCT struct_pack(source, tenant, client_ip, user_agent)) AS places,
           max(time) FILTER (WHERE relation = 'issued' AND outcome = 'success') AS last_issued,
           arg_max(expires_at, time)
               FILTER (WHERE relation = 'issued' AND outcome = 'success') AS expires_at
    FROM refs GROUP BY credential
),
revocations AS (
    SELECT r.credential AS id, min(r.time) AS revoked_at
    FROM refs r JOIN per p ON r.credential = p.id
    WHERE r.relation = 'revoked' AND r.outcome = 'success'
      AND (p.last_issued IS NULL OR r.time > p.last_issued)
    GROUP BY r.credential
)
SELECT p.id, p.kind, p.principal, p.first_seen, p.last_seen, p.events, p.places,
       v.revoked_at, p.expires_at, coalesce(p.expires_at <= now(), false) AS expired
FROM per p LEFT JOIN revocations v USING (id)
WHERE ($principal IS NULL OR contains(lower(p.principal), lower($principal)))
  AND ($since IS NULL OR p.last_seen >= $since)
ORDER BY p.first_seen, p.id
"""
# A user named as logged (`alice@corp.example`), or by the last part of an ARN or path
# (`ci-deployer` for arn:aws:iam::…:user/ci-deployer).
_HELD_SQL = """
SELECT DISTINCT c.credential FROM credential_refs c JOIN events e USING (event_key)
WHERE (c.relation IN ('used', 'issued') AND ir_names(c.principal, $user))
   OR (c.relation = 'used' AND ir_names(e.actor, $user))
ORDER BY 1
"""
_NAMES_MACRO = """
CREATE OR REPLACE TEMP MACRO ir_names(logged, user) AS
    lower(logged) = lower(user) OR ends_with(lower(logged), '/' || lower(user))
    OR ends_with(lower(logged), ':' || lower(user))
"""
_ADDRESSES_SQL = "SELECT DISTINCT client_ip FROM events WHERE client_ip IS NOT NULL"
# Events by the client_ip index, then the credentials they used.
_USED_FROM_SQL = """
SELECT DISTINCT credential FROM credential_refs
WHERE relation = 'used'
  AND event_key IN (SELECT event_key FROM events WHERE client_ip IN (SELECT unnest(?::VARCHAR[])))
ORDER BY 1
"""
_HOLDS_KIND_SQL = "SELECT 1 FROM credential_refs WHERE kind = ? LIMIT 1"


def credentials(
    connection: duckdb.DuckDBPyConnection,
    kind: str | None = None,
    principal: str | None = None,
    since: Time = None,
) -> pd.DataFrame:
    """Every credential of the case, first seen first; `principal` matches a part of it
    (any case), `since` keeps those still in use at or after that time."""
    parameters = {"kind": kind, "principal": principal, "since": utc(since)}
    return connection.execute(_CREDENTIALS_SQL, parameters).fetchdf()[COLUMNS]


def held_by(connection: duckdb.DuckDBPyConnection, user: str) -> list[str]:
    """The credentials a user held: issued to them, or used by them (their sessions, keys
    and tokens), the user named as logged or by the last part of an ARN."""
    if not user.strip():
        raise UsageError("--actor: give a user, e.g. alice@corp.example or ci-deployer")
    connection.execute(_NAMES_MACRO)
    rows = connection.execute(_HELD_SQL, {"user": user.strip()}).fetchall()
    return [row[0] for row in rows]


def used_from(connection: duckdb.DuckDBPyConnection, where: str) -> list[str]:
    """The credentials used from an address, or from any address of a network (CIDR)."""
    network = places.parse_network(where)
    if network.num_addresses == 1:
        addresses = [str(network.network_address), where.strip()]
    else:
        seen = [row[0] for row in connection.execute(_ADDRESSES_SQL).fetchall()]
        addresses = places.addresses_in(seen, network)
    if not addresses:
        return []
    rows = connection.execute(_USED_FROM_SQL, [sorted(set(addresses))]).fetchall()
    return [row[0] for row in rows]


def canonical_ids(connection: duckdb.DuckDBPyConnection, ids: list[str]) -> list[str]:
    """The `kind:value` ids to trace, each once: kinds ir knows, those the sources declare
    (mappings in $IR_MAPPINGS or the user's folder), and any kind the case holds refs of
    (a mapping given to `ir ingest --mappings` only), so whatever was ingested can be traced."""
    return list(dict.fromkeys(_canonical(connection, credential) for credential in ids))


def _canonical(connection: duckdb.DuckDBPyConnection, credential: str) -> str:
    """ir's own kinds first: the mappings are read only for an id none of them names."""
    try:
        return normalise_id(credential)
    except UnknownCredential:
        known = {kind.name for kind in registry.kinds()}
    try:
        return normalise_id(credential, known)
    except UnknownCredential:
        kind = credential.strip().partition(":")[0]
        # Only when the kind is unknown: stops at its first ref, reads the column otherwise.
        if kind and connection.execute(_HOLDS_KIND_SQL, [kind]).fetchall():
            return normalise_id(credential, {*known, kind})
        raise
