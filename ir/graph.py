"""The credential lineage graph: `issued` refs as edges, parent -> child.

Cross-source links are not special cases: an id minted in one log and used in
another is one node because both logs name it the same way (contract §1).

Walking the lineage is a frontier loop of set queries in DuckDB (one per
generation), so a trace never loads the whole case graph into Python; the
networkx graph is built for the traced part only, or for the whole case on
request (`case_graph`) when a notebook wants to explore.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import networkx as nx
import pandas as pd

EDGE_COLUMNS = [
    "parent",
    "credential",
    "kind",
    "via",
    "event_key",
    "source",
    "source_event_id",
    "time",
]

_EDGES_SQL = """
SELECT c.parent, c.credential, c.kind, c.via, c.event_key, e.source, e.source_event_id, e.time
FROM credential_refs c JOIN events e USING (event_key)
WHERE c.relation = 'issued' AND c.parent IS NOT NULL AND e.outcome <> 'failure'
"""
# One generation, in two index lookups: the issued refs whose `follow` column names
# the frontier, then their events. Each scan carries no filter but its indexed key's:
# another filter on the same scan, or a join, made DuckDB read the whole table.
_GENERATION_REFS_SQL = """
SELECT parent, credential, kind, via, event_key, relation FROM credential_refs
WHERE {follow} IN (SELECT unnest(?::VARCHAR[]))
"""
_GENERATION_EVENTS_SQL = """
SELECT event_key, source, source_event_id, time, outcome FROM events
WHERE event_key IN (SELECT unnest(?::BIGINT[]))
"""


def descendant_edges(connection: duckdb.DuckDBPyConnection, roots: Iterable[str]) -> pd.DataFrame:
    """Every issuance edge reachable from `roots`, generation by generation (cycles stop)."""
    return _walk(connection, roots, follow="parent", reach="credential")


def ancestor_edges(connection: duckdb.DuckDBPyConnection, roots: Iterable[str]) -> pd.DataFrame:
    """The issuance edges above `roots`: what minted them, and what minted that."""
    return _walk(connection, roots, follow="credential", reach="parent")


def _walk(
    connection: duckdb.DuckDBPyConnection, roots: Iterable[str], follow: str, reach: str
) -> pd.DataFrame:
    seen = set(roots)
    frontier = list(seen)
    found: list[pd.DataFrame] = []
    while frontier:
        edges = _generation(connection, follow, frontier)
        if edges.empty:
            break
        found.append(edges)
        frontier = sorted(set(edges[reach]) - seen)
        seen.update(frontier)
    if not found:
        return pd.DataFrame(columns=EDGE_COLUMNS)
    return pd.concat(found, ignore_index=True).drop_duplicates(
        ["event_key", "credential", "parent"]
    )


def _generation(
    connection: duckdb.DuckDBPyConnection, follow: str, frontier: list[str]
) -> pd.DataFrame:
    refs = connection.execute(_GENERATION_REFS_SQL.format(follow=follow), [frontier]).fetchdf()
    refs = refs[(refs["relation"] == "issued") & refs["parent"].notna()]
    if refs.empty:
        return pd.DataFrame(columns=EDGE_COLUMNS)
    keys = sorted({int(key) for key in refs["event_key"]})
    events = connection.execute(_GENERATION_EVENTS_SQL, [keys]).fetchdf()
    edges = refs.merge(events[events["outcome"] != "failure"], on="event_key")
    return edges[EDGE_COLUMNS]


def build_graph(edges: pd.DataFrame, nodes: pd.DataFrame | None = None) -> nx.MultiDiGraph:
    """A MultiDiGraph: one edge per issuing event, nodes carrying what `nodes` says of them."""
    graph = nx.MultiDiGraph()
    if nodes is not None:
        for row in nodes.to_dict(orient="records"):
            graph.add_node(row["id"], **{k: v for k, v in row.items() if k != "id"})
    for row in edges.to_dict(orient="records"):
        graph.add_edge(
            row["parent"],
            row["credential"],
            key=f"{row['source']}:{row['source_event_id']}",
            via=row["via"],
            source=row["source"],
            source_event_id=row["source_event_id"],
            time=row["time"],
        )
    return graph


def case_graph(connection: duckdb.DuckDBPyConnection) -> nx.MultiDiGraph:
    """The whole case's lineage, for exploring in a notebook."""
    return build_graph(connection.execute(_EDGES_SQL).fetchdf())
