"""Rich display in notebooks: a case and a trace as escaped HTML, the lineage graph drawn.

The incident is hand-built so that every field the display shows can carry
markup: a user agent with a script, a principal with tags and matplotlib math.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import networkx as nx
import pytest

import ir
from ir import display
from tests import vendor_records as v

matplotlib.use("Agg")

LEAKED = "AKIALEAKEDEXAMPLE001"
SESSION = "ASIAHOSTILE000000001"
ATTACKER = "203.0.113.66"
HOSTILE_UA = '<script>alert("ua")</script><img src=x onerror=alert(1)>'
HOSTILE_USER = "ci-<u>x</u>$\\frac{1$"  # broken mathtext: drawing raises if parsed as math
# Tags the display writes itself; anything else in the HTML came from a log.
OWN_TAGS = {"h4", "h5", "p", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li"}
OWN_TAGS |= {"span", "b"}


class Page(HTMLParser):
    """The tags of some HTML, and its table rows as lists of cell texts (unescaped)."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self.in_cell = False
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag: str) -> None:
        self.in_cell = self.in_cell and tag not in ("td", "th")

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.rows[-1][-1] += data


@pytest.fixture
def case(tmp_path: Path) -> ir.Case:
    """The leaked key used from CI, then from the attacker with a hostile user agent to assume
    a role; the session is used after the key's deactivation."""
    records = [
        v.cloudtrail("e01", "2026-09-01T10:00:00Z", "ListBuckets", LEAKED, user=HOSTILE_USER),
        v.assume_role(
            "e02", "2026-09-03T10:00:00Z", LEAKED, SESSION, ip=ATTACKER, user=HOSTILE_USER
        ),
        v.update_access_key(
            "e03", "2026-09-03T11:00:00Z", LEAKED, LEAKED, "Inactive", user=HOSTILE_USER
        ),
        v.cloudtrail("e04", "2026-09-03T12:00:00Z", "ListUsers", SESSION, ip=ATTACKER),
    ]
    for record in records[1:]:
        record["userAgent"] = HOSTILE_UA
    v.write_cloudtrail(tmp_path / "logs" / "ct.json", records)
    opened = ir.open_case(tmp_path / "case.duckdb")
    opened.ingest(tmp_path / "logs")
    return opened


def test_case_html_is_escaped_and_counts(case: ir.Case) -> None:
    markup = case._repr_html_()
    page = Page(markup)
    assert page.tags <= OWN_TAGS
    assert "<p>1 files, 4 events, 2 credentials, 0 duplicates, <span>0 rejected records</span>" in (
        markup
    )
    assert page.rows == [
        [
            "source",
            "files",
            "events",
            "credentials",
            "rejected",
            "files_cut_short",
            "files_not_loaded",
            "first_event",
            "last_event",
        ],
        [
            "aws_cloudtrail",
            *("1", "4", "2", "0", "0", "0"),
            *("2026-09-01T10:00:00Z", "2026-09-03T12:00:00Z"),
        ],
    ]


def test_case_html_when_empty_or_closed(tmp_path: Path) -> None:
    case = ir.open_case(tmp_path / "case.duckdb")
    assert "empty: load logs with" in case._repr_html_()
    case.close()
    closed = case._repr_html_()
    assert closed.endswith("case.duckdb</code></h4><p>closed</p>")


def test_trace_html_escapes_every_log_value(case: ir.Case) -> None:
    markup = case.trace(f"aws_access_key:{LEAKED}")._repr_html_()
    assert Page(markup).tags <= OWN_TAGS, Page(markup).tags - OWN_TAGS
    assert "<script" not in markup and "<img" not in markup
    ua = '&lt;script&gt;alert("ua")&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'
    assert markup.count(f"{display.LEFT_TD}{ua}</td>") == 2  # the user agent of two places
    assert "user/ci-&lt;u&gt;x&lt;/u&gt;$\\frac{1$</td>" in markup  # a principal
    # ... in the lineage too, as the root's principal
    assert "</code> — arn:aws:iam::111122223333:user/ci-&lt;u&gt;x&lt;/u&gt;$\\frac{1$;" in markup
    assert "<h4>Trace of <code>aws_access_key:AKIALEAKEDEXAMPLE001</code></h4>" in markup


def test_trace_html_tells_lineage_places_and_late_use(case: ir.Case) -> None:
    markup = case.trace(f"aws_access_key:{LEAKED}")._repr_html_()
    rows = Page(markup).rows
    assert ["Credentials in the lineage", "2 (the root and 1 derived)"] in rows
    assert ["Places", "3 (1 new)"] in rows
    assert [row[:5] for row in rows if HOSTILE_UA in row] == [  # the places, unescaped
        ["new", "aws_cloudtrail", "111122223333", "203.0.113.66", HOSTILE_UA],
        ["known", "aws_cloudtrail", "111122223333", "198.51.100.10", HOSTILE_UA],
    ]
    assert "revoked 2026-09-03T11:00:00Z</b>" in markup  # the key
    assert "expired 2026-10-02T23:12:29Z</b>" in markup  # the session it issued
    assert "AssumeRole →</span> <code>aws_access_key:ASIAHOSTILE000000001</code>" in markup
    # The session's use after its key's deactivation is the one late row.
    assert markup.count("outlived the revocation of aws_access_key:AKIALEAKEDEXAMPLE001") == 1


def test_trace_html_of_the_session_alone_says_assumed_and_shows_its_issuer(
    case: ir.Case,
) -> None:
    markup = case.trace(f"aws_access_key:{SESSION}")._repr_html_()
    rows = Page(markup).rows
    assert [
        "Exposure time",
        "2026-09-02T10:00:00Z (assumed: 24 h after the first recorded use of"
        f" aws_access_key:{LEAKED} at 2026-09-01T10:00:00Z, which the traced credentials"
        " derive from)",
    ] in rows
    assert "Issued by (ancestors: context, not traced)" in markup
    assert [
        f"aws_access_key:{SESSION}",
        f"aws_access_key:{LEAKED}",
        "AssumeRole",
        "2026-09-03T10:00:00Z",
        "2026-09-03T11:00:00Z",
    ] in rows
    assert markup.count(f"outlived the revocation of aws_access_key:{LEAKED}") == 1  # e04


def test_trace_html_when_nothing_found(case: ir.Case) -> None:
    markup = case.trace("aws_access_key:AKIANOTHERE000000001")._repr_html_()
    assert markup.endswith(
        "<p>No event in the case references aws_access_key:AKIANOTHERE000000001.</p>"
    )


def test_table_html_cuts_long_tables() -> None:
    import pandas as pd

    markup = display.table_html(pd.DataFrame({"n": range(25)}), max_rows=20)
    assert markup.count("<tr") == 21  # header + 20 rows
    assert markup.endswith("… 5 more rows</p>")


def test_draw_lineage_labels_nodes_and_edges_as_plain_text(case: ir.Case) -> None:
    trace = case.trace(f"aws_access_key:{LEAKED}")
    ax = trace.draw()
    ax.figure.canvas.draw()  # renders: math parsing of a hostile `$` would raise here
    texts = {t.get_text() for t in ax.texts}
    assert texts == {
        "AKIALEAKEDEXAMPLE001\nuser/ci-<u>x</u>$\\frac{1$",
        "ASIAHOSTILE000000001\nassumed-role/Admin/e02",
        "AssumeRole",
    }
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["revoked", "expired, never revoked", "traced (root)"]
    assert ax.get_title() == "Lineage of aws_access_key:AKIALEAKEDEXAMPLE001"


def test_layered_positions_put_issuers_left_and_survive_cycles() -> None:
    graph = nx.DiGraph([("root", "a"), ("root", "b"), ("a", "c"), ("x", "y"), ("y", "x")])
    positions = display.layered_positions(graph, "root")
    assert positions == {
        "root": (0.0, 0.5),
        "x": (0.0, -0.5),  # a cycle has no source: one of its nodes starts it
        "a": (1.0, 1.0),
        "b": (1.0, 0.0),
        "y": (1.0, -1.0),
        "c": (2.0, 0.0),
    }
