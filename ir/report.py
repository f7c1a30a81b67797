"""The breach report: what a responder hands over after a token leak, as Markdown or HTML.

One model (plain strings, built here from the trace) and two Jinja templates
(`ir/templates/report.{md,html}.j2`). Every value comes from logs an attacker
can write to, so escaping is not left to the templates' authors: the HTML
environment autoescapes every `{{ }}`, the Markdown one passes every `{{ }}`
through `md_escape`. The only markup inserted unescaped is plotly's own
figure snippet, whose data plotly serialises with `<`, `>` and `/` escaped;
hover texts are HTML-escaped before plotly sees them, since plotly.js renders
a subset of HTML in them.

Sections follow the questions of NIST SP 800-61 (Rev. 2, §3.2 detection and
analysis, §3.3 containment, eradication and recovery, §3.4.1 lessons learned).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ir import coverage, places, render, timeline
from ir.errors import UsageError

if TYPE_CHECKING:
    from ir.impact import Impact
    from ir.trace import Trace

FORMATS = ("md", "html")
PLOT_ID = "timeline-plot"
PLOT_BACKGROUND = "#eef3fb"  # distinctive: the screenshot test looks for the plot area by it
NONE = "—"
ANCESTOR_COLUMNS = ["id", "parent", "relation_to_parent", "time", "parent_revoked_at"]
TOP_PER_TYPE = (
    50  # resources listed per type; the counts cover them all (`ir impact` lists every one)
)
# (anchor, title, the NIST SP 800-61 question the section answers)
SECTIONS = (
    (
        "summary",
        "Summary",
        "Lessons learned (§3.4.1): exactly what happened, and at what times?",
    ),
    (
        "plot",
        "Activity per credential",
        "Lessons learned (§3.4.1): exactly what happened, and at what times?",
    ),
    (
        "lineage",
        "Lineage: the leaked credential and what was derived from it",
        "Detection and analysis (§3.2.4): the scope of the incident; which credentials are affected?",
    ),
    (
        "places",
        "Places",
        "Lessons learned (§3.4.1): what precursors or indicators should be watched for "
        "to detect similar incidents?",
    ),
    (
        "actions",
        "The attacker's actions, by credential",
        "Detection and analysis (§3.2.4): what did the attacker do, with which credential?",
    ),
    (
        "touched",
        "What was touched",
        "Detection and analysis (§3.2.4): what information was accessed, from where; what "
        "must be notified?",
    ),
    (
        "stayed_in",
        "How they stayed in",
        "Eradication (§3.3.4): what did the attacker create to keep access, all of which "
        "must be removed?",
    ),
    (
        "after_revocation",
        "After revocation",
        "Containment (§3.3) and lessons learned (§3.4.1): did containment work? "
        "Were any steps taken that might have inhibited recovery?",
    ),
    (
        "remaining",
        "Remaining exposure",
        "Eradication and recovery (§3.3.4): what access is still live; what corrective "
        "actions remain?",
    ),
    (
        "containment",
        "Containment",
        "Containment, eradication and recovery (§3.3): what was revoked, when, by which "
        "step, and did a check afterwards find it dead?",
    ),
    (
        "coverage",
        "What this report could not see",
        "Lessons learned (§3.4.1): what information was needed sooner?",
    ),
)


def write(
    trace: Trace,
    path: Path,
    fmt: str | None = None,
    containment: pd.DataFrame | None = None,
    impact: Impact | None = None,
) -> Path:
    """Write the report to `path`; the format is `fmt`, else the file's suffix."""
    chosen = fmt or path.suffix.lstrip(".").lower()
    path.write_text(render_text(trace, chosen, containment, impact), encoding="utf-8")
    return path


def render_text(
    trace: Trace,
    fmt: str,
    containment: pd.DataFrame | None = None,
    impact: Impact | None = None,
) -> str:
    """The report as Markdown or self-contained HTML (plotly.js inline, no network needed)."""
    if fmt not in FORMATS:
        raise UsageError(f"report format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    data = model(trace, containment, impact)
    if fmt == "md":
        return _environment("md").get_template("report.md.j2").render(**data)
    import plotly.offline

    return (
        _environment("html")
        .get_template("report.html.j2")
        .render(
            **data,
            plot=Markup(_figure_html(trace)),
            plotly_js=Markup(plotly.offline.get_plotlyjs()),
        )
    )


def md_escape(value: Any) -> str:
    """A value as inert Markdown text: no markup, no HTML, no table breaks, one line."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\")
    for char in "`*_[]<>|&~":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


def model(
    trace: Trace, containment: pd.DataFrame | None = None, impact: Impact | None = None
) -> dict[str, Any]:
    """Everything the templates show, as display strings (times ISO 8601 UTC).

    `containment`: the playbook journal's account of the lineage (ir.playbooks.journal
    .containment), and `impact` what the lineage touched and created (ir.impact), both
    handed in by the face so the report reads neither the journal nor the case itself."""
    rows = timeline.from_trace(trace)
    events = trace.events
    # Malicious: a traced credential used from a new place (a revocation is not a use).
    malicious = rows[(rows["relation"] == "used") & rows["new_place"].fillna(False).astype(bool)]
    first = malicious.iloc[0] if not malicious.empty else None
    return {
        "root": trace.root,
        "query": ", ".join(trace.query),
        "sections": {a: {"anchor": a, "title": t, "question": q} for a, t, q in SECTIONS},
        "summary": _summary(trace, rows, first, malicious),
        "revocations": _revocations(trace, first),
        "lineage": _lineage(trace.credentials, trace.root),
        "ancestors": _table(trace.ancestors, ANCESTOR_COLUMNS),
        "places": _places(trace.places, events),
        "actions": _actions(trace.credentials, events),
        "assessed": impact is not None,
        "touched": [] if impact is None else _touched(impact.resources),
        "stayed_in": [] if impact is None else _stayed_in(impact.sensitive),
        "after_revocation": _after_revocation(trace.credentials, events),
        "remaining": _remaining(trace.credentials, events),
        "containment": _containment(containment),
        "coverage": _coverage(trace),
    }


def _touched(resources: pd.DataFrame) -> list[dict[str, Any]]:
    """Resources by type (types with resources touched from new places first), each type
    with its counts and its resources, those from new places first."""
    groups = []
    for kind, rows in resources.groupby("type", sort=True):
        rows = rows.sort_values(["from_new_place", "last_seen"], ascending=[False, False])
        new = int(rows["from_new_place"].astype(bool).sum())
        groups.append(
            {
                "type": str(kind),
                "count": str(len(rows)),
                "new": str(new),
                "more": str(max(len(rows) - TOP_PER_TYPE, 0)),
                "rows": [
                    {
                        "id": _cell(row["id"]),
                        "name": _cell(row["name"]),
                        "access": _cell(row["access"]),
                        "actions": _joined(row["actions"]),
                        "events": str(row["events"]),
                        "first_seen": _cell(row["first_seen"]),
                        "last_seen": _cell(row["last_seen"]),
                        "place": "new" if row["from_new_place"] else "known",
                        "is_new": bool(row["from_new_place"]),
                        "source": _cell(row["source"]),
                    }
                    for row in _records(rows.head(TOP_PER_TYPE))
                ],
            }
        )
    return sorted(groups, key=lambda group: group["new"] == "0")


def _stayed_in(sensitive: pd.DataFrame) -> list[dict[str, str]]:
    """The persistence rows: what was created to keep access (a failed attempt says so)."""
    rows = sensitive[sensitive["category"] == "persistence"]
    return [
        {
            "time": _cell(row["time"]),
            "action": _cell(row["action"]),
            "target": _cell(row["target"]),
            "credential": _cell(row["credential"]),
            "outcome": _cell(row["outcome"]),
            "place": "new" if row["from_new_place"] else "known",
            "technique": _cell(row["technique"]),
            "reason": _cell(row["reason"]),
        }
        for row in _records(rows)
    ]


def _containment(journal: pd.DataFrame | None) -> list[dict[str, str]]:
    """One row per credential (or target) a playbook step ended, with its verification."""
    if journal is None:
        return []
    return [
        {
            "credential": _cell(row["credential"] or row["target"]),
            "action": f"{_cell(row['provider'])} {_cell(row['action'])}",
            "step": _cell(row["step"]),
            "when": _cell(row["revoked_at"]),
            "verified": "verified " + _cell(row["verified_at"])
            if row["verified"] is True
            else "still works"
            if row["verified"] is False
            else "not verified yet",
        }
        for row in _records(journal)
    ]


def exposure(trace: Trace) -> str:
    """The exposure time, with how it was derived when it was assumed, not given."""
    if trace.leaked_at_assumed:
        return f"{_cell(trace.leaked_at)} ({trace.exposure_basis})"
    return _cell(trace.leaked_at)


def _environment(fmt: str) -> Environment:
    return Environment(
        loader=PackageLoader("ir", "templates"),
        autoescape=fmt == "html",
        finalize=md_escape if fmt == "md" else None,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _summary(
    trace: Trace, rows: pd.DataFrame, first: pd.Series | None, malicious: pd.DataFrame
) -> list[tuple[str, str]]:
    credentials = trace.credentials
    root = credentials[credentials["id"] == trace.root]
    never = credentials[credentials["revoked_at"].isna()]
    expired = int(never["expired"].astype(bool).sum())
    failures = int((rows["outcome"] == "failure").sum())
    late_expiry = int(trace.events["after_expiry"].astype(bool).sum())
    first_time = None if first is None else first["datetime"]
    return [
        ("Leaked credential (root)", trace.root),
        ("Principal", _cell(root["principal"].iloc[0] if not root.empty else None)),
        ("Traced as", ", ".join(trace.query)),
        ("Exposure time", exposure(trace)),
        (
            "First malicious use (first event from a new place)",
            NONE if first is None else f"{_cell(first_time)}: {first['message']}",
        ),
        ("Exposure to first malicious use", _duration(trace.leaked_at, first_time)),
        (
            "Last malicious activity",
            NONE if malicious.empty else _cell(malicious["datetime"].iloc[-1]),
        ),
        (
            "Credentials in the lineage",
            f"{len(credentials)} (the root and {len(credentials) - 1} derived)",
        ),
        (
            "Events",
            f"{len(rows)} ({len(malicious)} used a traced credential from a new place, "
            f"{failures} failed)",
        ),
        (
            "Places",
            f"{len(trace.places)} ({int(trace.places['new'].astype(bool).sum())} new)",
        ),
        (
            "Uses after revocation",
            f"{int(rows['after_revocation'].astype(bool).sum())} of a revoked credential, "
            f"{int(_only_ancestor(rows).sum())} of one whose parent was revoked"
            + (f", {late_expiry} after the credential expired" if late_expiry else ""),
        ),
        (
            "Credentials never revoked",
            f"{len(never)} of {len(credentials)}"
            + (f" ({expired} of them expired)" if expired else ""),
        ),
    ]


def _revocations(trace: Trace, first: pd.Series | None) -> list[dict[str, str]]:
    """Each revoked credential: when, by whom, and the dwell time since first malicious use."""
    events = trace.events
    revoking = events[(events["relation"] == "revoked") & (events["outcome"] == "success")]
    start = None if first is None else first["datetime"]
    result = []
    for credential in _records(trace.credentials):
        if credential["revoked_at"] is None:
            continue
        by = revoking[
            (revoking["credential"] == credential["id"])
            & (revoking["time"] == credential["revoked_at"])
        ]
        result.append(
            {
                "credential": credential["id"],
                "revoked_at": _cell(credential["revoked_at"]),
                "by": _cell(by["actor"].iloc[0] if not by.empty else None),
                "action": _cell(by["via"].iloc[0] if not by.empty else None),
                "dwell": _duration(start, credential["revoked_at"]),
            }
        )
    return result


def _lineage(credentials: pd.DataFrame, root: str) -> list[dict[str, Any]]:
    """The credentials depth-first from the root, each under the one that issued it."""
    rows = {row["id"]: row for row in _records(credentials)}
    children: dict[Any, list[str]] = {}
    for credential, row in rows.items():
        children.setdefault(row["parent"], []).append(credential)
    order: list[tuple[str, int]] = []

    def visit(credential: str, depth: int) -> None:
        if any(seen == credential for seen, _ in order):
            return
        order.append((credential, depth))
        for child in children.get(credential, []):
            visit(child, depth + 1)

    for start in [root, *children.get(None, []), *rows]:
        if start in rows:
            visit(start, 0)
    return [
        {
            "depth": depth,
            "indent": "  " * depth,
            "id": credential,
            "via": _cell(rows[credential]["relation_to_parent"]),
            "principal": _cell(rows[credential]["principal"]),
            "events": str(rows[credential]["events"]),
            "first_seen": _cell(rows[credential]["first_seen"]),
            "last_seen": _cell(rows[credential]["last_seen"]),
            "status": _status(rows[credential]),
            "revoked": rows[credential]["revoked_at"] is not None
            or bool(rows[credential]["expired"]),
        }
        for credential, depth in order
    ]


def _places(place_rows: pd.DataFrame, events: pd.DataFrame) -> list[dict[str, Any]]:
    """Every place, new or known; a place that only revoked credentials says so (responders)."""
    keys = places.place_key(events)
    revoking = set(keys[events["relation"] == "revoked"]) - set(
        keys[events["relation"] != "revoked"]
    )
    only_revoked = places.place_key(place_rows).isin(revoking).tolist()
    return [
        {
            **{k: _cell(place[k]) for k in ("source", "tenant", "client_ip", "user_agent")},
            "country": _cell(place["country"]),
            "asn": _cell(place["asn"]),
            "new": ("new" if place["new"] else "known")
            + (" (revocations only)" if revokes else ""),
            "is_new": bool(place["new"]),
            "first_seen": _cell(place["first_seen"]),
            "last_seen": _cell(place["last_seen"]),
            "events": str(place["events"]),
            "actors": _joined(place["actors"]),
            "credentials": _joined(place["credentials"]),
        }
        for place, revokes in zip(_records(place_rows), only_revoked, strict=True)
    ]


def _actions(credentials: pd.DataFrame, events: pd.DataFrame) -> list[dict[str, Any]]:
    """Per credential, what it did from new places: one row per (action, outcome)."""
    used = events[(events["relation"] == "used") & events["new_place"]]
    result = []
    for credential in _records(credentials):
        own = used[used["credential"] == credential["id"]]
        if own.empty:
            continue
        groups = own.groupby(["action", "outcome"], dropna=False, sort=False)
        rows = [
            {
                "action": _cell(action),
                "outcome": _cell(outcome),
                "events": str(len(group)),
                "first": _cell(group["time"].min()),
                "last": _cell(group["time"].max()),
                "from": _joined(group["client_ip"].dropna().unique()),
                "from_ips": [str(ip) for ip in group["client_ip"].dropna().unique()],
            }
            for (action, outcome), group in groups
        ]
        minted = credentials[credentials["parent"] == credential["id"]]
        result.append(
            {
                "credential": credential["id"],
                "principal": _cell(credential["principal"]),
                "rows": rows,
                "issued": [
                    f"{m['id']} ({_cell(m['relation_to_parent'])})" for m in _records(minted)
                ],
            }
        )
    return result


def _after_revocation(credentials: pd.DataFrame, events: pd.DataFrame) -> list[dict[str, str]]:
    """Uses of a revoked credential, of one that outlived a revoked ancestor, or of one
    past the expiry its issuance logged."""
    late = events[
        events["after_revocation"] | events["after_ancestor_revocation"] | events["after_expiry"]
    ]
    revoked_at = dict(zip(credentials["id"], credentials["revoked_at"], strict=True))
    expires_at = dict(zip(credentials["id"], credentials["expires_at"], strict=True))
    notes = _ancestor_notes(credentials)
    return [
        {
            "time": _cell(row["time"]),
            "credential": row["credential"],
            "action": _cell(row["action"]),
            "outcome": _cell(row["outcome"]) + (f" ({row['error']})" if row["error"] else ""),
            "client_ip": _cell(row["client_ip"]),
            "place": "new" if row["new_place"] else "known",
            "why": f"revoked {_cell(revoked_at.get(row['credential']))}"
            if row["after_revocation"]
            else notes[row["credential"]]
            if row["after_ancestor_revocation"]
            else f"expired {_cell(expires_at.get(row['credential']))}",
        }
        for row in _records(late)
    ]


def _remaining(credentials: pd.DataFrame, events: pd.DataFrame) -> list[dict[str, str]]:
    """Credentials in the lineage with no revocation logged and not expired (unless used
    after their expiry): the access that may still work."""
    notes = _ancestor_notes(credentials)
    used_late = set(events.loc[events["after_expiry"].astype(bool), "credential"])
    return [
        {
            "credential": row["id"],
            "principal": _cell(row["principal"]),
            "parent": _cell(row["parent"]),
            "last_seen": _cell(row["last_seen"]),
            "note": f"used after its expiry at {_cell(row['expires_at'])}"
            if row["id"] in used_late
            else notes[row["id"]] or "no revocation logged for it or its parents",
        }
        for row in _records(credentials)
        if row["revoked_at"] is None and (not row["expired"] or row["id"] in used_late)
    ]


def _coverage(trace: Trace) -> dict[str, Any]:
    """What the logs behind the trace cannot show (ir/coverage.py): the sources the lineage's
    kinds need that the case lacks, the blind spans of the others with the credentials whose
    lives they cut, the moment never-revoked credentials are followed to, and the retention
    that erases the lineage's oldest events next."""
    spots = coverage.blind_spots(trace.coverage)
    catalog = coverage.catalog()
    never = trace.coverage[
        trace.coverage["credential"].isin(
            trace.credentials.loc[trace.credentials["revoked_at"].isna(), "id"]
        )
    ]
    return {
        "case_end": NONE if never.empty else _cell(never["life_end"].max()),
        "absent": [
            {
                "source": spot["source"],
                "tenant": _cell(spot["tenant"]),
                "kinds": _joined(spot["kinds"]),
                "why": _joined(coverage.limit_lines(catalog.facts(spot["source"]), None)),
            }
            for spot in _records(spots[spots["span"] == "absent"])
        ],
        "spans": [
            {
                "source": spot["source"],
                "tenant": _cell(spot["tenant"]),
                "blind": spot["blind"],
                "credentials": _joined(spot["credentials"]),
            }
            for spot in _records(spots[spots["span"] != "absent"])
        ],
        "deadlines": [
            {
                "expires": _cell(row["expires"]),
                "source": row["source"],
                "tenant": _cell(row["tenant"]),
                "oldest": _cell(row["oldest"]),
                "retention": NONE if row["days"] is None else f"{row['days']} d: {row['tier']}",
                "held": "yes" if row["present"] else "no",
                "url": _cell(row["url"]),
            }
            for row in _records(coverage.deadlines(trace.coverage))
        ],
    }


def _ancestor_notes(credentials: pd.DataFrame) -> dict[str, str]:
    """Per credential: 'outlived the revocation of X at T', X its earliest-revoked ancestor
    as the trace found it ('' for none)."""
    return {
        row["id"]: ""
        if row["revoked_ancestor"] is None
        else f"outlived the revocation of {row['revoked_ancestor']} at {_cell(row['revoked_ancestor_at'])}"
        for row in _records(credentials)
    }


def _figure_html(trace: Trace) -> str:
    """Plotly scatter: one lane per credential, events by kind, revocations, exposure line."""
    import plotly.graph_objects as go

    events = trace.events
    lanes = [row["id"] for row in _lineage(trace.credentials, trace.root)]
    figure = go.Figure()
    for name, color, symbol, chosen in _categories(events):
        figure.add_trace(
            go.Scatter(
                x=[render.iso(t) for t in chosen["time"]],
                y=list(chosen["credential"]),
                mode="markers",
                name=name,
                marker={"color": color, "symbol": symbol, "size": 10, "opacity": 0.8},
                hovertext=[_hover(row) for row in _records(chosen)],
                hoverinfo="text",
            )
        )
    if trace.leaked_at is not None:
        figure.add_vline(x=render.iso(trace.leaked_at), line_dash="dash", line_color="#555")
    figure.update_layout(
        template="none",
        height=160 + 60 * len(lanes),
        margin={"l": 20, "r": 20, "t": 40, "b": 40},
        plot_bgcolor=PLOT_BACKGROUND,
        title={"text": "Events per credential (dashed line: exposure time)"},
        xaxis={"type": "date", "title": {"text": "time (UTC)"}},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": lanes[::-1],
            "automargin": True,
        },
        legend={"orientation": "h", "y": -0.2},
    )
    return str(
        figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=PLOT_ID,
            config={"displaylogo": False, "responsive": True},
        )
    )


def _categories(events: pd.DataFrame) -> Iterable[tuple[str, str, str, pd.DataFrame]]:
    used = events["relation"] == "used"
    late = events["after_revocation"] | events["after_ancestor_revocation"] | events["after_expiry"]
    failed = events["outcome"] == "failure"
    new = events["new_place"]
    yield "known place", "#7f8c8d", "circle", events[used & ~new & ~late & ~failed]
    yield "new place", "#d35400", "circle", events[used & new & ~late & ~failed]
    yield "failed", "#8e44ad", "triangle-down", events[used & ~late & failed]
    yield "after revocation", "#c0392b", "diamond", events[used & late]
    yield "issued", "#2980b9", "star", events[events["relation"] == "issued"]
    yield "revoked", "#27ae60", "x", events[events["relation"] == "revoked"]


def _hover(row: Mapping[str, Any]) -> str:
    """Hover text, HTML-escaped: plotly.js renders tags such as <a href> in it."""
    text = f"{_cell(row['time'])} {_cell(row['action'])} {_cell(row['outcome'])}"
    if row["client_ip"]:
        text += f" from {row['client_ip']}"
    return html.escape(text)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows with missing values as None (NaN, NaT and pd.NA alike)."""
    return [
        {k: None if _missing(v) else v for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _table(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, str]]:
    return [{c: _cell(row.get(c)) for c in columns} for row in _records(frame)]


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _cell(value: Any) -> str:
    """A display string: times ISO 8601 UTC, missing as an em dash."""
    if _missing(value):
        return NONE
    if isinstance(value, pd.Timestamp):
        return render.iso(value) or NONE
    return str(value)


def _joined(values: Any) -> str:
    items = [str(v) for v in (values if values is not None else []) if not _missing(v)]
    return ", ".join(items) if items else NONE


def _status(credential: Mapping[str, Any]) -> str:
    """revoked T, expired T, or never revoked (saying when it will expire, if logged)."""
    if not _missing(credential["revoked_at"]):
        return f"revoked {_cell(credential['revoked_at'])}"
    if credential["expired"]:
        return f"expired {_cell(credential['expires_at'])}"
    if not _missing(credential["expires_at"]):
        return f"never revoked, expires {_cell(credential['expires_at'])}"
    return "never revoked"


def _only_ancestor(rows: pd.DataFrame) -> pd.Series:
    return rows["after_ancestor_revocation"].astype(bool) & ~rows["after_revocation"].astype(bool)


def _duration(start: Any, end: Any) -> str:
    """'2 d 3 h 4 min' from start to end; an em dash when either is unknown."""
    if _missing(start) or _missing(end):
        return NONE
    seconds = int((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    parts += [f"{minutes} min"] if not days else []
    parts += [f"{seconds} s"] if not (days or hours) else []
    return sign + " ".join(parts)
