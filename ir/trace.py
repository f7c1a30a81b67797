"""Trace a credential: everything derived from it, every event that touched any of it, from where.

`trace` answers the responder's first questions (contract §4): which
credentials descend from the leaked one (the closure over `issued` edges),
every event that used, issued or revoked any of them (failures included), and
the places those events came from, marked `new` when neither the traced
credentials nor the same actor had used that IP before the exposure time.
Extensions: `after_revocation` on events that used a credential while it was
revoked, `after_ancestor_revocation` on uses of a credential that outlived the
revocation of one it derives from (an ancestor above the traced roots included),
`after_expiry` on uses after the expiry its issuance logged (`expires_at`, and
`expired` as of the trace: an expired credential is not remaining exposure), and
`ancestors`, what issued the roots, as context outside the closure.

Exposure: a credential is exposed no later than the credential it derives from,
so without a given time the trace assumes the end of the first 24 hours of the
earliest recorded use among the roots and their ancestors, and says so
(`leaked_at_assumed`, `exposure_basis`): a key the attacker minted, traced on its
own, is judged against its lineage's exposure, not against its own first use.
`coverage`: whether the logs that could show each credential's use cover its life
(ir/coverage.py), with `blind_after` on the credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import duckdb
import networkx as nx
import pandas as pd

from ir import coverage, places, render
from ir.credentials import PRINCIPAL_REVOCATIONS
from ir.graph import EDGE_COLUMNS, ancestor_edges, build_graph, descendant_edges

DEFAULT_EXPOSURE = timedelta(hours=24)
EVENT_COLUMNS = [
    "time",
    "source",
    "source_event_id",
    "action",
    "actor",
    "client_ip",
    "user_agent",
    "credential",
    "relation",
    "outcome",
    "evidence",
    "after_revocation",
    "after_ancestor_revocation",
    "after_expiry",
    "error",
    "tenant",
    "country",
    "asn",
    "via",
    "evidence_sha256",
    "new_place",
]
CREDENTIAL_COLUMNS = [
    "id",
    "kind",
    "parent",
    "relation_to_parent",
    "principal",
    "first_seen",
    "last_seen",
    "events",
    "revoked_at",
    "expires_at",
    "expired",
    "depth",
    "parents",
    "revoked_ancestor",
    "revoked_ancestor_at",
]
ANCESTOR_COLUMNS = [
    "id",
    "parent",
    "relation_to_parent",
    "source",
    "source_event_id",
    "time",
    "parent_principal",
    "parent_first_seen",
    "parent_revoked_at",
]

# A credential's refs, then their events, then those events' evidence files: three
# lookups by index (tests/test_query_plans.py). Joined in one statement, DuckDB read
# every event whenever the refs were few or none.
_REFS_SQL = """
SELECT credential, relation, via, kind, principal, expires_at, event_key FROM credential_refs
WHERE credential IN (SELECT unnest(?::VARCHAR[]))
"""
_EVENTS_SQL = """
SELECT event_key, time, source, source_event_id, action, actor, client_ip, user_agent, outcome,
       error, tenant, country, asn, file_id, record_no
FROM events WHERE event_key IN (SELECT unnest(?::BIGINT[]))
"""
_FILES_SQL = "SELECT file_id, path, sha256 FROM evidence_files WHERE file_id IN (SELECT unnest(?::INTEGER[]))"
# The event columns as read (the after_* flags are worked out later), plus what
# the trace needs of each ref.
_REFS_COLUMNS = [c for c in EVENT_COLUMNS if not c.startswith("after_") and c != "new_place"] + [
    "kind",
    "principal",
    "expires_at",
    "event_key",
]
_REFS_ORDER = ["time", "source", "source_event_id", "credential", "relation"]


_COVERING_KIND = {
    kind: principal for principal, kinds in PRINCIPAL_REVOCATIONS.items() for kind in kinds
}
_COVERED_KINDS = tuple(_COVERING_KIND)
# One principal's refs by the lower-case index (ids as logged differ in case between
# sources); relation and outcome are checked on the rows found, since another filter
# on the scan makes DuckDB read the whole table.
_PRINCIPAL_REFS_SQL = """
SELECT event_key, via, relation, lower(credential) AS principal_id FROM credential_refs
WHERE lower(credential) = ?
"""


@dataclass
class Trace:
    """A traced credential lineage, as DataFrames (times tz-aware UTC) plus the graph.

    Analysis only: the notebook conveniences (timeline, report, drawing) are added by
    `ir.case.Trace`, the face layer's subclass."""

    query: list[str]
    root: str
    leaked_at: pd.Timestamp | None
    leaked_at_assumed: bool
    exposure_basis: str
    credentials: pd.DataFrame
    events: pd.DataFrame
    places: pd.DataFrame
    ancestors: pd.DataFrame
    graph: nx.MultiDiGraph = field(repr=False)
    coverage: pd.DataFrame = field(repr=False)
    # Per row of `events`, the case's event_key: what analyses joining back to the case
    # (ir/impact.py) need, kept out of the §4 document.
    event_keys: pd.Series = field(repr=False)

    @property
    def found(self) -> bool:
        return not self.events.empty

    def to_json(self) -> dict[str, Any]:
        """The contract §4 document (plus extension keys)."""
        return {
            "query": list(self.query),
            "root": self.root,
            "leaked_at": render.iso(self.leaked_at),
            "leaked_at_assumed": self.leaked_at_assumed,
            "exposure_basis": self.exposure_basis,
            "credentials": coverage.nest(render.records(self.credentials), self.coverage),
            "events": render.records(self.events),
            "places": render.records(self.places),
            "ancestors": render.records(self.ancestors),
        }


def trace(
    connection: duckdb.DuckDBPyConnection,
    roots: list[str],
    query: list[str] | None = None,
    leaked_at: pd.Timestamp | None = None,
) -> Trace:
    """Trace `roots` (canonical ids); `query` is what the user asked for, as shown back."""
    edges = descendant_edges(connection, roots)
    closure = list(dict.fromkeys([*roots, *edges["credential"]]))
    refs = _flag_after_revocation(_revocations_added(connection, _refs(connection, closure)))
    referenced = [r for r in roots if r in set(refs["credential"])]
    root = referenced[0] if referenced else roots[0]
    above = ancestor_edges(connection, roots)
    above = above[~above["parent"].isin(closure)]
    above_refs = _revocations_added(connection, _refs(connection, sorted(set(above["parent"]))))
    exposure = _exposure(leaked_at, roots, refs, above_refs)
    credentials = _credentials(closure, roots, edges, refs)
    credentials = _with_revoked_ancestors(credentials, above, _revocation_times(above_refs))
    refs = _flag_after_expiry(_flag_after_ancestor_revocation(refs, credentials), credentials)
    ancestors = _ancestors(above, above_refs)
    graph = build_graph(
        pd.concat([edges, _as_edges(ancestors)], ignore_index=True),
        credentials.drop(columns="parents"),
    )
    place_rows = places.places(connection, refs, exposure.at)
    refs = refs.assign(new_place=places.from_new_place(refs, place_rows))
    cover = coverage.of_trace(connection, credentials, refs)
    return Trace(
        query=query or list(roots),
        root=root,
        leaked_at=exposure.at,
        leaked_at_assumed=exposure.assumed,
        exposure_basis=exposure.basis,
        credentials=credentials.assign(blind_after=coverage.blind_after(credentials, cover)),
        events=refs.reindex(columns=EVENT_COLUMNS),
        places=place_rows,
        ancestors=ancestors,
        graph=graph,
        coverage=cover,
        event_keys=refs["event_key"],
    )


def _refs(connection: duckdb.DuckDBPyConnection, credentials: list[str]) -> pd.DataFrame:
    """Every ref of `credentials` with its event and evidence pointer, in time order."""
    refs = connection.execute(
        _REFS_SQL if credentials else f"SELECT * FROM ({_REFS_SQL}) LIMIT 0", [credentials]
    ).fetchdf()
    joined = refs.merge(_events(connection, refs["event_key"]), on="event_key")
    return joined[_REFS_COLUMNS].sort_values(_REFS_ORDER, ignore_index=True)


def _events(connection: duckdb.DuckDBPyConnection, keys: pd.Series) -> pd.DataFrame:
    """The events of `keys`, each with its evidence pointer (`file#record`) and file hash."""
    events = _looked_up(connection, _EVENTS_SQL, keys)
    files = _looked_up(connection, _FILES_SQL, events["file_id"])
    events = events.merge(files, on="file_id")
    events["evidence"] = events["path"] + "#" + events["record_no"].astype(str)
    return events.rename(columns={"sha256": "evidence_sha256"})


def _principal_revocations(
    connection: duckdb.DuckDBPyConnection, principal_ids: list[str]
) -> pd.DataFrame:
    """Successful revocations of the principals (ids lower-cased), with their events."""
    found = [
        connection.execute(_PRINCIPAL_REFS_SQL, [principal]).fetchdf()
        for principal in principal_ids
    ]
    refs = pd.concat(found, ignore_index=True)
    refs = refs[refs["relation"] == "revoked"]
    revocations = refs.merge(_events(connection, refs["event_key"]), on="event_key")
    return revocations[revocations["outcome"] == "success"]


def _looked_up(connection: duckdb.DuckDBPyConnection, sql: str, keys: pd.Series) -> pd.DataFrame:
    """Rows by key; no keys, no lookup (an empty list made DuckDB scan the whole table)."""
    unique = sorted({int(key) for key in keys})
    return connection.execute(
        sql if unique else f"SELECT * FROM ({sql}) LIMIT 0", [unique]
    ).fetchdf()


def _revocations_added(connection: duckdb.DuckDBPyConnection, refs: pd.DataFrame) -> pd.DataFrame:
    """Add a `revoked` row where a user-wide revocation ended a traced credential issued before it."""
    held = refs.dropna(subset=["principal"])
    held = held[held["kind"].isin(_COVERED_KINDS)][
        ["credential", "kind", "principal"]
    ].drop_duplicates()
    if held.empty:
        return refs
    held["principal_id"] = held.apply(
        lambda row: f"{_COVERING_KIND[row['kind']]}:{row['principal']}".lower(), axis=1
    )
    revocations = _principal_revocations(connection, sorted(set(held["principal_id"])))
    if revocations.empty:
        return refs
    first_seen = refs.groupby("credential")["time"].min().rename("first_seen")
    rows = revocations.merge(held, on="principal_id").merge(
        first_seen, left_on="credential", right_index=True
    )
    rows = rows[rows["time"] > rows["first_seen"]]
    rows = rows.assign(via=rows["via"].fillna(rows["action"]) + " (user-wide)")
    rows = rows.drop(columns=["principal_id", "first_seen"]).assign(expires_at=pd.NaT)
    combined = pd.concat([refs, rows[refs.columns]], ignore_index=True)
    return combined.sort_values(
        ["time", "source", "source_event_id", "credential", "relation"]
    ).reset_index(drop=True)


def _flag_after_revocation(refs: pd.DataFrame) -> pd.DataFrame:
    """Mark uses that came while the credential stood revoked (revoked, not re-issued since)."""
    refs = refs.copy()
    changes = refs[refs["relation"].isin(["revoked", "issued"]) & (refs["outcome"] == "success")]
    changes = changes[["credential", "time", "relation"]].rename(columns={"relation": "state"})
    changes = changes.sort_values("time")
    ordered = refs.reset_index().sort_values("time")
    merged = pd.merge_asof(
        ordered,
        changes,
        on="time",
        by="credential",
        direction="backward",
        allow_exact_matches=False,
    ).set_index("index")
    refs["after_revocation"] = (refs["relation"] == "used") & (merged["state"] == "revoked")
    refs["revoked_state"] = merged["state"]
    return refs


def _flag_after_ancestor_revocation(refs: pd.DataFrame, credentials: pd.DataFrame) -> pd.DataFrame:
    """Mark uses of a credential that outlived the revocation of one it derives from.

    AWS session keys keep working after the key that minted them is deactivated;
    these rows are what a responder must still chase.
    """
    cutoff = dict(zip(credentials["id"], credentials["revoked_ancestor_at"], strict=True))
    limit = pd.to_datetime(refs["credential"].map(cutoff), utc=True)
    refs = refs.copy()
    refs["after_ancestor_revocation"] = (
        (refs["relation"] == "used") & limit.notna() & (refs["time"] > limit)
    )
    return refs


def _flag_after_expiry(refs: pd.DataFrame, credentials: pd.DataFrame) -> pd.DataFrame:
    """Mark uses of a credential after the expiry its issuance logged: a key that should
    have stopped working did not (a clock, a re-issue the logs missed, or a forgery)."""
    expiry = dict(zip(credentials["id"], credentials["expires_at"], strict=True))
    limit = pd.to_datetime(refs["credential"].map(expiry), utc=True)
    return refs.assign(
        after_expiry=(refs["relation"] == "used") & limit.notna() & (refs["time"] > limit)
    )


def _with_revoked_ancestors(
    credentials: pd.DataFrame, above: pd.DataFrame, above_revoked: dict[str, pd.Timestamp]
) -> pd.DataFrame:
    """Per credential, its earliest-revoked ancestor and when: the one walk up the parents
    (through the ancestors above the roots too) that the flags, the report and the
    display all read."""
    parent: dict[str, Any] = dict(_first_parents(above))
    parent.update(
        (c, p)
        for c, p in zip(credentials["id"], credentials["parent"], strict=True)
        if isinstance(p, str) or c not in parent
    )
    revoked = {
        k: v
        for k, v in zip(credentials["id"], credentials["revoked_at"], strict=True)
        if not pd.isna(v)
    } | above_revoked
    expiry = dict(zip(credentials["id"], credentials["expires_at"], strict=True))
    found: dict[str, tuple[str, pd.Timestamp]] = {}
    for credential in credentials["id"]:
        seen, ancestor = {credential}, parent.get(credential)
        ends = expiry.get(credential)
        while isinstance(ancestor, str) and ancestor not in seen:
            if (
                ancestor in revoked
                and (pd.isna(ends) or revoked[ancestor] < ends)  # it outlived the revocation
                and (credential not in found or revoked[ancestor] < found[credential][1])
            ):
                found[credential] = (ancestor, revoked[ancestor])
            seen.add(ancestor)
            ancestor = parent.get(ancestor)
    return credentials.assign(
        revoked_ancestor=[found[c][0] if c in found else None for c in credentials["id"]],
        revoked_ancestor_at=pd.to_datetime(
            [found[c][1] if c in found else None for c in credentials["id"]], utc=True
        ),
    )


def _first_parents(edges: pd.DataFrame) -> dict[str, str]:
    """Each issued credential's first issuer (the earliest issuing event)."""
    first = edges.sort_values("time", kind="stable").drop_duplicates("credential")
    return dict(zip(first["credential"], first["parent"], strict=True))


@dataclass(frozen=True)
class Exposure:
    """When the traced credentials were exposed; `assumed` when defaulted, `basis` says how."""

    at: pd.Timestamp | None
    assumed: bool
    basis: str


def _exposure(
    given: pd.Timestamp | None, roots: list[str], refs: pd.DataFrame, above_refs: pd.DataFrame
) -> Exposure:
    """The given time, else the end of the first 24 hours of the earliest recorded use of
    the roots or what issued them (contract §4: a credential is exposed no later than the
    lineage it derives from)."""
    if given is not None:
        return Exposure(given, False, "given")
    own = refs[refs["credential"].isin(roots)]
    # Ancestors first: at a tie (a sign-in that uses the session and issues the token)
    # the basis names the lineage's root.
    candidates = pd.concat([above_refs, own], ignore_index=True) if not above_refs.empty else own
    if candidates.empty:
        candidates = refs
    if candidates.empty:
        return Exposure(None, True, "assumed: no recorded use to start from")
    first = candidates.loc[candidates["time"].idxmin()]
    hours = int(DEFAULT_EXPOSURE.total_seconds() // 3600)
    above = first["credential"] in set(above_refs.get("credential", []))
    return Exposure(
        first["time"] + DEFAULT_EXPOSURE,
        True,
        f"assumed: {hours} h after the first recorded use of {first['credential']}"
        f" at {render.iso(first['time'])}"
        + (", which the traced credentials derive from" if above else ""),
    )


def _credentials(
    closure: list[str], roots: list[str], edges: pd.DataFrame, refs: pd.DataFrame
) -> pd.DataFrame:
    """One row per traced credential. Each fact is worked out for all credentials at once
    (a busy root has thousands of derived keys: per-credential filtering was quadratic)."""
    depth = _depths(roots, edges)
    lineage = nx.DiGraph(list(zip(edges["parent"], edges["credential"], strict=True)))
    incoming = _incoming(edges)
    principals = _principals(refs)
    revoked = _revocation_times(refs)
    expiries = _expiries(refs)
    by_credential = refs.groupby("credential", sort=False)
    first_seen = by_credential["time"].min().to_dict()
    last_seen = by_credential["time"].max().to_dict()
    counts = by_credential["event_key"].nunique().to_dict()
    rows = []
    for credential in closure:
        issuers = incoming.get(credential, [])
        if credential in roots:  # under another root only if it derives from that one
            below = nx.descendants(lineage, credential) if credential in lineage else set()
            issuers = [(p, via) for p, via in issuers if p not in below]
        parents = sorted({p for p, _ in issuers})
        rows.append(
            {
                "id": credential,
                "kind": credential.split(":", 1)[0],
                "parent": issuers[0][0] if issuers else None,
                "relation_to_parent": issuers[0][1] if issuers else None,
                "principal": principals.get(credential),
                "first_seen": first_seen.get(credential),
                "last_seen": last_seen.get(credential),
                "events": int(counts.get(credential, 0)),
                "revoked_at": revoked.get(credential),
                "expires_at": expiries.get(credential),
                "depth": depth.get(credential, 0),
                "parents": parents if len(parents) > 1 else None,
            }
        )
    frame = pd.DataFrame(rows, columns=CREDENTIAL_COLUMNS)
    frame["expires_at"] = pd.to_datetime(frame["expires_at"], utc=True)
    frame["expired"] = frame["expires_at"].notna() & (
        frame["expires_at"] <= pd.Timestamp.now("UTC")
    )
    return frame.sort_values(
        ["depth", "first_seen"], kind="stable", na_position="last"
    ).reset_index(drop=True)


def _incoming(edges: pd.DataFrame) -> dict[str, list[tuple[str, Any]]]:
    """Per credential, its issuers (parent, via), earliest issuing event first."""
    ordered = edges.sort_values("time", kind="stable")
    found: dict[str, list[tuple[str, Any]]] = {}
    for credential, parent, via in zip(
        ordered["credential"], ordered["parent"], ordered["via"], strict=True
    ):
        found.setdefault(credential, []).append((parent, via))
    return found


def _depths(roots: list[str], edges: pd.DataFrame) -> dict[str, int]:
    graph = nx.DiGraph()
    graph.add_nodes_from(roots)
    graph.add_edges_from(zip(edges["parent"], edges["credential"], strict=True))
    lengths: dict[str, int] = {}
    for root in roots:
        for node, length in nx.single_source_shortest_path_length(graph, root).items():
            lengths[node] = min(length, lengths.get(node, length))
    return lengths


def _principals(refs: pd.DataFrame) -> dict[str, str]:
    """Whom each credential belongs to: as its first issuance naming one says, else as its
    refs say most often (ties: the first name in order)."""
    named = refs.dropna(subset=["principal"])
    issued = named[named["relation"] == "issued"].drop_duplicates("credential")
    counts = named.groupby(["credential", "principal"], sort=True).size().rename("n").reset_index()
    common = counts.sort_values(["credential", "n"], ascending=[True, False], kind="stable")
    common = common.drop_duplicates("credential")
    found = dict(zip(common["credential"], common["principal"].astype(str), strict=True))
    found.update(zip(issued["credential"], issued["principal"].astype(str), strict=True))
    return found


def _revocation_times(refs: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """When each credential died, for those that did: the first revocation since it was
    last (re-)issued."""
    changes = refs[refs["relation"].isin(["revoked", "issued"]) & (refs["outcome"] == "success")]
    revoked: dict[str, pd.Timestamp | None] = {}
    for credential, relation, time in zip(
        changes["credential"], changes["relation"], changes["time"], strict=True
    ):
        if relation == "issued":
            revoked[credential] = None
        elif revoked.get(credential) is None:
            revoked[credential] = time
    return {c: t for c, t in revoked.items() if t is not None}


def _expiries(refs: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """When each credential stops working, as its last successful issuance logged it."""
    issued = refs[(refs["relation"] == "issued") & (refs["outcome"] == "success")]
    last = issued.drop_duplicates("credential", keep="last")
    return {
        c: pd.Timestamp(t)
        for c, t in zip(last["credential"], last["expires_at"], strict=True)
        if not pd.isna(t)
    }


def _ancestors(above: pd.DataFrame, above_refs: pd.DataFrame) -> pd.DataFrame:
    """The issuance edges above the roots, each with what the logs say of its parent:
    whose it is, when first seen, when revoked."""
    frame = above.rename(columns={"credential": "id", "via": "relation_to_parent"})
    principals = _principals(above_refs)
    first_seen = above_refs.groupby("credential", sort=False)["time"].min().to_dict()
    revoked = _revocation_times(above_refs)
    frame = frame.assign(
        parent_principal=[principals.get(p) for p in frame["parent"]],
        parent_first_seen=pd.to_datetime([first_seen.get(p) for p in frame["parent"]], utc=True),
        parent_revoked_at=pd.to_datetime([revoked.get(p) for p in frame["parent"]], utc=True),
    )
    return frame.reindex(columns=ANCESTOR_COLUMNS).reset_index(drop=True)


def _as_edges(ancestors: pd.DataFrame) -> pd.DataFrame:
    return ancestors.rename(columns={"id": "credential", "relation_to_parent": "via"}).reindex(
        columns=EDGE_COLUMNS
    )
