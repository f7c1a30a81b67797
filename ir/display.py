"""Rich display for notebooks: a case and a trace as HTML, the lineage graph drawn.

Every value shown comes from logs an attacker can write to, so nothing from
them is ever markup: text goes through `html.escape`, tables through
`DataFrame.to_html(escape=True)`. Tables stop at `MAX_ROWS` rows (the full
DataFrames are one attribute away) so a notebook stays small. Matplotlib text
is drawn with math parsing off: a `$` in a principal name stays a `$`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import duckdb
import networkx as nx
import pandas as pd

from ir import contents, render, report

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ir.impact import Impact
    from ir.store import Store
    from ir.trace import Trace

MAX_ROWS = 20
NEW = "#b03a2e"  # never revoked / new place / used after revocation
REVOKED = "#1e8449"
MUTED = "#55606e"
NODE_COLOURS = {
    "live": "#e67e22",
    "revoked": "#27ae60",
    "expired": "#5dade2",
    "ancestor": "#95a5a6",
}
NODE_MEANING = {
    "live": "never revoked",
    "revoked": "revoked",
    "expired": "expired, never revoked",
    "ancestor": "issued the root (outside the lineage)",
}
PLACE_COLUMNS = [
    "new",
    "source",
    "tenant",
    "client_ip",
    "user_agent",
    "first_seen",
    "last_seen",
    "events",
    "actors",
]
LATE_COLUMNS = ["time", "credential", "action", "outcome", "client_ip", "place", "why"]
DEADLINE_COLUMNS = ["expires", "source", "tenant", "retention", "held"]
NO_LATE = (
    "No traced credential was used after its own or an ancestor's revocation, or after it expired."
)
HINT = (
    f"<p style='color:{MUTED}'>DataFrames: <code>.credentials</code>, <code>.events</code>, "
    "<code>.places</code>, <code>.ancestors</code>, <code>.coverage</code>, <code>.timeline()</code>;"
    " the graph: "
    "<code>.graph</code>, <code>.draw()</code>; the breach report: <code>.report(path)</code></p>"
)
LEFT_TD = "<td style='text-align:left'>"
LEFT_TH = "<th style='text-align:left'>"
_PLATE = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0}


def case_html(store: Store) -> str:
    """The case at a glance: totals, then per source what `case.stats()` says."""
    title = f"<h4>ir case <code>{_text(store.path)}</code>{' (read-only)' if store.read_only else ''}</h4>"
    try:
        totals = contents.totals(store.connection)
        stats = contents.stats(store.connection)
    except duckdb.Error:
        return title + "<p>closed</p>"
    if not totals["files"]:
        return title + "<p>empty: load logs with <code>case.ingest(path)</code></p>"
    summary = (
        f"<p>{totals['files']} files, {totals['events']} events, "
        f"{totals['credentials']} credentials, {totals['duplicates']} duplicates, "
        f"{_flagged(totals['rejected'], 'rejected records')}"
        " — <code>case.sql(…)</code> for more, tables <code>events</code>, "
        "<code>credential_refs</code>, <code>evidence_files</code>, <code>rejects</code></p>"
    )
    return title + summary + table_html(stats)


def trace_html(trace: Trace) -> str:
    """The trace as the report tells it: summary, lineage, places, uses after revocation."""
    title = f"<h4>Trace of <code>{_text(trace.root)}</code></h4>"
    if not trace.found:
        return title + f"<p>No event in the case references {_text(', '.join(trace.query))}.</p>"
    model = report.model(trace)
    late = model["after_revocation"]
    return "".join(
        [
            title,
            table_html(pd.DataFrame(model["summary"]), header=False),
            "<h5>Lineage</h5>",
            _ancestors_html(trace.ancestors),
            _lineage_html(model["lineage"]),
            "<h5>Places</h5>",
            table_html(pd.DataFrame(model["places"], columns=PLACE_COLUMNS)),
            "<h5>Used after revocation</h5>",
            table_html(pd.DataFrame(late, columns=LATE_COLUMNS)) if late else f"<p>{NO_LATE}</p>",
            "<h5>What this trace cannot see</h5>",
            _coverage_html(model["coverage"]),
            HINT,
        ]
    )


def impact_html(impact: Impact) -> str:
    """The impact as the CLI shows it: resources (new places first), scopes, sensitive actions."""
    title = f"<h4>Impact of <code>{_text(impact.root)}</code></h4>"
    if not impact.found:
        return title + f"<p>No event in the case references {_text(', '.join(impact.query))}.</p>"
    return "".join(
        [
            title,
            f"<h5>Resources touched: {len(impact.resources)}</h5>",
            table_html(impact.resources.drop(columns="credentials")),
            f"<h5>Scopes carried: {len(impact.scopes)}</h5>",
            table_html(impact.scopes),
            f"<h5>Sensitive actions: {len(impact.sensitive)}</h5>",
            table_html(impact.sensitive.drop(columns="reason")),
            f"<p style='color:{MUTED}'>DataFrames: <code>.resources</code>, <code>.scopes</code>,"
            " <code>.sensitive</code>; contract §9 JSON: <code>.to_json()</code></p>",
        ]
    )


def table_html(frame: pd.DataFrame, max_rows: int = MAX_ROWS, header: bool = True) -> str:
    """A DataFrame as an escaped HTML table (times ISO 8601 UTC), cut at `max_rows` rows."""
    shown = frame.head(max_rows).copy()
    for column in shown.columns:
        if isinstance(shown[column].dtype, pd.DatetimeTZDtype):
            shown[column] = shown[column].map(render.iso)
    table: str = shown.to_html(escape=True, index=False, header=header, na_rep="—", border=0)
    # Text reads best left-aligned (notebooks right-align cells); escaped values hold no `<td>`.
    table = table.replace("<td>", LEFT_TD).replace("<th>", LEFT_TH)
    if len(frame) > max_rows:
        table += f"<p style='color:{MUTED}'>… {len(frame) - max_rows} more rows</p>"
    return table


def draw_lineage(trace: Trace, ax: Axes | None = None) -> Axes:
    """The lineage graph, parents left of what they issued, edges labelled by how."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    graph = nx.DiGraph(trace.graph)
    graph.add_node(trace.root)
    positions = layered_positions(graph, trace.root)
    if ax is None:
        layers = pd.Series([x for x, _ in positions.values()]).value_counts()
        width = 3.2 * (len(layers) + 1)
        _, ax = plt.subplots(figsize=(width, max(3.0, 1.4 * int(layers.max()))))
    lineage = set(trace.credentials["id"])
    roles = {node: _role(graph, node, lineage) for node in graph.nodes}
    nx.draw_networkx_edges(graph, positions, ax=ax, arrows=True, node_size=900, edge_color=MUTED)
    nx.draw_networkx_nodes(
        graph,
        positions,
        ax=ax,
        node_size=900,
        node_color=[NODE_COLOURS[roles[n]] for n in graph.nodes],
        edgecolors=["black" if n == trace.root else "white" for n in graph.nodes],
        linewidths=[3.0 if n == trace.root else 1.0 for n in graph.nodes],
    )
    for node, (x, y) in positions.items():
        label = _node_label(graph.nodes[node], node)
        ax.text(
            x, y - 0.22, label, ha="center", va="top", fontsize=8, parse_math=False, bbox=_PLATE
        )
    for parent, child in graph.edges:
        vias = sorted(
            {str(d.get("via")) for d in trace.graph.get_edge_data(parent, child).values()}
        )
        (x1, y1), (x2, y2) = positions[parent], positions[child]
        middle = ((x1 + x2) / 2, (y1 + y2) / 2 + 0.08)
        ax.text(
            *middle,
            ", ".join(vias),
            ha="center",
            fontsize=7,
            color=MUTED,
            parse_math=False,
            bbox=_PLATE,
        )
    present = [role for role in NODE_MEANING if role in roles.values()]
    handles = [Patch(color=NODE_COLOURS[r], label=NODE_MEANING[r]) for r in present]
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=2, label="traced (root)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(f"Lineage of {trace.root}", fontsize=10, parse_math=False)
    xs, ys = zip(*positions.values(), strict=True)
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.5)
    ax.set_axis_off()
    return ax


def layered_positions(graph: nx.DiGraph, root: str) -> dict[str, tuple[float, float]]:
    """x: generations from the graph's sources (the root's issuers first); y: depth-first order
    within a generation, so children sit near their parent. Iterative: chains of any length."""
    starts = [n for n in graph.nodes if graph.in_degree(n) == 0] or [root]
    layer: dict[str, int] = {}
    order: dict[str, int] = {}
    while len(layer) < len(graph):
        sources = [n for n in starts if n not in layer] or [min(set(graph) - set(layer))]
        for depth, nodes in enumerate(nx.bfs_layers(graph, sources)):
            layer.update({n: depth for n in nodes if n not in layer})
        for source in sources:
            for node in nx.dfs_preorder_nodes(graph, source):
                order.setdefault(node, len(order))
        starts = []
    positions: dict[str, tuple[float, float]] = {}
    for depth in set(layer.values()):
        nodes = sorted((n for n in layer if layer[n] == depth), key=order.__getitem__)
        for index, node in enumerate(nodes):
            positions[node] = (float(depth), (len(nodes) - 1) / 2 - index)
    return positions


def _role(graph: nx.DiGraph, node: str, lineage: set[str]) -> str:
    if node not in lineage:
        return "ancestor"
    if not pd.isna(graph.nodes[node].get("revoked_at")):
        return "revoked"
    return "expired" if graph.nodes[node].get("expired") else "live"


def _node_label(attributes: dict[str, Any], node: str) -> str:
    value = node.split(":", 1)[-1]
    label = _shorten(value, 24)
    principal = attributes.get("principal")
    if isinstance(principal, str) and principal:
        label += "\n" + _shorten(principal.rsplit(":", 1)[-1], 28)
    return label


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 7] + "…" + text[-6:]


def _lineage_html(lineage: list[dict[str, Any]]) -> str:
    items = []
    for c in lineage[: MAX_ROWS * 2]:
        colour = REVOKED if c["revoked"] else NEW
        via = f"<span style='color:{MUTED}'>{_text(c['via'])} →</span> " if c["depth"] else ""
        items.append(
            f"<li style='margin-left:{2 * int(c['depth'])}em'>{via}<code>{_text(c['id'])}</code>"
            f" — {_text(c['principal'])}; {_text(c['events'])} events, "
            f"{_text(c['first_seen'])} … {_text(c['last_seen'])}; "
            f"<b style='color:{colour}'>{_text(c['status'])}</b></li>"
        )
    more = len(lineage) - MAX_ROWS * 2
    tail = f"<p style='color:{MUTED}'>… {more} more credentials</p>" if more > 0 else ""
    return "<ul style='list-style:none;padding-left:0'>" + "".join(items) + "</ul>" + tail


def _ancestors_html(ancestors: pd.DataFrame) -> str:
    """What issued the traced roots (not traced themselves), when there is any."""
    if ancestors.empty:
        return ""
    return f"<p style='color:{MUTED}'>Issued by (ancestors: context, not traced)</p>" + table_html(
        ancestors[list(report.ANCESTOR_COLUMNS)]
    )


def _coverage_html(coverage: dict[str, Any]) -> str:
    """The report's blind spots: sources absent, blind spans, and the retention deadlines."""
    parts = []
    if coverage["absent"]:
        parts.append(
            f"<p style='color:{NEW}'>Sources that could show their use, absent from the case:</p>"
        )
        parts.append(table_html(pd.DataFrame(coverage["absent"])))
    if coverage["spans"]:
        parts.append(f"<p style='color:{NEW}'>Blind spans while the credentials lived:</p>")
        parts.append(table_html(pd.DataFrame(coverage["spans"])))
    if not parts:
        parts.append("<p>The logs in the case cover every traced credential's life.</p>")
    deadlines = pd.DataFrame(coverage["deadlines"], columns=DEADLINE_COLUMNS)
    parts.append(
        "<p>Retention: when the vendors drop the lineage's oldest events, soonest first</p>"
    )
    parts.append(table_html(deadlines))
    return "".join(parts)


def _flagged(count: Any, noun: str) -> str:
    style = f" style='color:{NEW};font-weight:bold'" if count else ""
    return f"<span{style}>{int(count)} {noun}</span>"


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))
