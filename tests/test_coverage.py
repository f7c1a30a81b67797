"""What the case can see (issue 23): the gap rule, coverage rows, blind credentials, the
report's blind spots, the retention catalogue, and the CLI twin.

The synthetic incident with `BLIND_SPOTS` (a missing CloudTrail day, a tenant's Graph
activity logs never exported, a UAL export that ends before the Entra revocation) is
read back exactly; the gap rule has property tests on a real case file.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import Random

import duckdb
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import ir
from ir import coverage, render, report
from ir import ingest as ingesting
from ir.case import Case
from ir.cli import app
from ir.credentials import KIND_NAMES, PRINCIPAL_REVOCATIONS
from ir.store import open_store
from ir.synth import BLIND_SPOTS, GroundTruth, generate
from parsers import registry
from tests.conftest import check_golden, open_sample

EVENTS = 20_000  # dense enough that a missing day, and a UAL export cut short, are due
ENTRA = "entra_session:d9d016e1-56a6-449c-a1ef-c6d76183a272"
AWS = "aws_access_key:AKIAB4QWZLKKE2GRC3WO"
TENANT = "4c9fa4ca-d72d-43f5-97e9-71b9c356cbe5"
START = datetime(2026, 9, 1, tzinfo=timezone.utc)
# The trace JSON's `coverage` per credential (contract extension, issue 23).
COVERAGE_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["source", "tenant", "status", "covered_from", "covered_until", "gaps"],
        "properties": {
            "status": {"enum": ["covered", "blind", "absent"]},
            "gaps": {
                "type": "array",
                "items": {"type": "object", "required": ["start", "end", "hours", "usual"]},
            },
        },
    },
}


@pytest.fixture(scope="module")
def blind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Case, GroundTruth]]:
    folder = tmp_path_factory.mktemp("blind")
    truth = generate(folder / "incident", events=EVENTS, seed=7, cuts=BLIND_SPOTS)
    with ir.open_case(folder / "case.duckdb") as case:
        case.ingest(folder / "incident" / "logs")
    # read-only, as the CLI under test opens it in this same process
    with ir.open_case(folder / "case.duckdb", read_only=True) as case:
        yield case, truth


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    with open_sample(tmp_path_factory.mktemp("sample") / "case.duckdb") as case:
        yield case


# --- the gap rule, on a real case file -----------------------------------------------------


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A case file that holds only what the rule reads: one evidence file, event_hours."""
    with open_store(tmp_path_factory.mktemp("rule") / "case.duckdb") as store:
        store.connection.execute(
            "INSERT INTO evidence_files (file_id, path, sha256, bytes, source, layout, records,"
            " loaded, duplicates, rejected, ingested_at)"
            " VALUES (1, 'x', 'h', 0, 'okta', 'array', 0, 0, 0, 0, now())"
        )
        yield store.connection


def load(connection: duckdb.DuckDBPyConnection, times: list[datetime]) -> None:
    """Events at `times` as ingest would count them (one source, one tenant, one file)."""
    connection.execute("DELETE FROM event_hours")
    connection.execute(
        """INSERT INTO event_hours
           SELECT 'okta', 't', 1, date_trunc('hour', time), count(*), min(time), max(time)
           FROM (SELECT unnest(?::TIMESTAMPTZ[]) AS time) GROUP BY ALL""",
        [times],
    )


def uniform(days: int, spacing: float, seed: int) -> list[datetime]:
    """An event every `spacing` seconds, each anywhere inside its own slot."""
    rng = Random(seed)
    slots = int(days * 86400 / spacing)
    return [START + timedelta(seconds=(i + rng.random()) * spacing) for i in range(slots)]


@settings(max_examples=40, deadline=None)
@given(
    days=st.integers(min_value=1, max_value=15),
    spacing=st.floats(min_value=1.0, max_value=14 * 3600.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_uniform_background_never_shows_a_gap(
    bare: duckdb.DuckDBPyConnection, days: int, spacing: float, seed: int
) -> None:
    times = uniform(days, spacing, seed)
    if not times:
        return
    load(bare, times)
    assert coverage.coverage(bare)["gaps"].tolist() == [[]]


@settings(max_examples=40, deadline=None)
@given(
    days=st.integers(min_value=3, max_value=15),
    spacing=st.floats(min_value=1.0, max_value=300.0),
    seed=st.integers(min_value=0, max_value=2**32),
    hour=st.integers(min_value=1),
)
def test_removing_an_hour_shows_exactly_that_gap(
    bare: duckdb.DuckDBPyConnection, days: int, spacing: float, seed: int, hour: int
) -> None:
    """Every 5 minutes or more often: each hour holds at least 11 events."""
    removed = START + timedelta(hours=1 + hour % (days * 24 - 2))
    times = [
        t for t in uniform(days, spacing, seed) if not removed <= t < removed + timedelta(hours=1)
    ]
    load(bare, times)
    (gaps,) = coverage.coverage(bare)["gaps"].tolist()
    per_hour = 3600 / spacing
    assert [(g["start"], g["end"], g["hours"]) for g in gaps] == [
        (render.iso(removed), render.iso(removed + timedelta(hours=1)), 1)
    ]
    assert math.floor(per_hour) - 1 <= gaps[0]["usual"] <= math.ceil(per_hour) + 1


def test_a_lull_that_repeats_is_no_gap_and_one_that_does_not_is(
    bare: duckdb.DuckDBPyConnection,
) -> None:
    """Nights without events every day are the source's rhythm; a day without is a gap."""
    days = [START + timedelta(days=d) for d in range(10)]
    office = [
        day + timedelta(hours=h, minutes=m)
        for day in days
        for h in range(8, 18)
        for m in range(0, 60, 4)
    ]
    load(bare, office)
    assert coverage.coverage(bare)["gaps"].tolist() == [[]]
    missing = days[5]
    load(bare, [t for t in office if not missing <= t < missing + timedelta(days=1)])
    (gaps,) = coverage.coverage(bare)["gaps"].tolist()
    # from the last office hour before the missing day to the first one after it
    assert gaps == [
        {
            "start": "2026-09-05T18:00:00Z",
            "end": "2026-09-07T08:00:00Z",
            "hours": 38,
            "usual": 150,
        }
    ]


# --- the synthetic incident with blind spots --------------------------------------------


def test_the_generator_leaves_out_only_the_cut_records(blind: tuple[Case, GroundTruth]) -> None:
    case, truth = blind
    assert truth.events == case.sql("SELECT count(*) AS n FROM events")["n"][0] == 17_246
    sources = Counter(e.source for s in truth.scenarios.values() for e in s.events)
    assert "graph_activity" not in sources and sources["m365_ual"] > 0
    late = case.sql(
        """SELECT source, count(*) AS n FROM events
           WHERE (source = 'm365_ual' AND time >= '2026-09-05')
              OR (source = 'aws_cloudtrail' AND time >= '2026-09-08' AND time < '2026-09-09')
           GROUP BY ALL"""
    )
    assert late.empty


def test_coverage_rows_of_the_blind_incident(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    rows = render.records(case.coverage().drop(columns=["retention", "limits"]))
    assert [tuple(r.values()) for r in rows] == [
        ("aws_cloudtrail", "534439589175", "2026-09-01T00:01:54Z", "2026-09-10T23:59:53Z", 7074, 318, ["wrapper:Records"], [{"start": "2026-09-08T00:00:00Z", "end": "2026-09-09T00:00:00Z", "hours": 24, "usual": 921}]),
        ("entra_audit", TENANT, "2026-09-01T00:23:48.538Z", "2026-09-10T23:38:28.242Z", 198, 97, ["wrapper:records"], []),
        ("entra_signin", TENANT, "2026-09-01T00:03:11.044Z", "2026-09-10T23:57:04.452Z", 1604, 120, ["wrapper:records"], []),
        ("github", "corp-data", "2026-09-01T00:01:39.398Z", "2026-09-10T23:46:48.756Z", 913, 116, ["objects"], []),
        ("github", "corp-eng", "2026-09-01T00:03:25.997Z", "2026-09-10T23:55:35.212Z", 1106, 117, ["objects"], []),
        ("github", "corp-infra", "2026-09-01T00:02:46.160Z", "2026-09-10T23:56:04.792Z", 1003, 118, ["objects"], []),
        ("google_workspace", "C0CFsEG9X", "2026-09-01T00:03:05.352Z", "2026-09-10T23:56:35.225Z", 827, 3, ["wrapper:items"], []),
        ("m365_ual", TENANT, "2026-09-01T00:27:55Z", "2026-09-04T23:46:07Z", 557, 1, ["csv"], []),
        ("okta", None, "2026-09-01T00:07:10.950Z", "2026-09-10T23:49:57.503Z", 2943, 3, ["array"], []),
        ("salesforce", "00D5j000000w27K", "2026-09-01T00:03:28.181Z", "2026-09-10T23:59:43.032Z", 1021, 30, ["csv"], []),
    ]  # fmt: skip
    retention = dict(zip(case.coverage()["source"], case.coverage()["retention"], strict=True))
    assert retention["github"] == [
        "7 d: Git events (git.clone, git.fetch, git.push)",
        "180 d: web and API events (the current month and the previous six)",
    ]


def test_blind_flags_of_the_entra_session(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    traced = case.trace(ENTRA)
    cover = traced.coverage
    assert Counter(zip(cover["kind"], cover["source"], cover["status"], strict=True)) == {
        ("entra_session", "entra_signin", "covered"): 1,
        ("entra_session", "m365_ual", "blind"): 1,
        ("entra_session", "graph_activity", "absent"): 1,
        ("entra_uti", "entra_signin", "covered"): 21,
        ("entra_uti", "m365_ual", "blind"): 21,
        ("entra_uti", "graph_activity", "absent"): 21,
        ("entra_app_credential", "entra_signin", "covered"): 1,  # its sign-ins are all it uses
    }
    session = cover[(cover["credential"] == ENTRA) & (cover["source"] == "m365_ual")].iloc[0]
    # the UAL export ends before the revocation (18:14), so the case is blind after its end
    assert render.iso(session["blind_after"]) == "2026-09-04T23:46:07Z"
    assert render.iso(session["life_end"]) == "2026-09-05T18:14:13.475Z"
    assert session["gaps"] == [] and session["tenant"] == TENANT
    blind_after = dict(
        zip(traced.credentials["id"], traced.credentials["blind_after"], strict=True)
    )
    assert Counter(render.iso(t) for t in blind_after.values()) == {
        "2026-09-04T23:46:07Z": 22,  # the session and its tokens (UAL)
        None: 1,  # the app credential: only sign-ins could show it
    }


def test_blind_flags_of_the_aws_key(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    document = case.trace(AWS).to_json()
    flags = {
        c["id"]: (c["blind_after"], [(r["status"], r["gaps"]) for r in c["coverage"]])
        for c in document["credentials"]
    }
    gap = [
        {"start": "2026-09-08T00:00:00Z", "end": "2026-09-09T00:00:00Z", "hours": 24, "usual": 921}
    ]
    assert flags == {
        AWS: (None, [("covered", [])]),  # revoked on 7 September, before the missing day
        "aws_access_key:AKIAU3JLW42SYGMXHT24": (None, [("covered", [])]),
        # never revoked: followed to the case's end, through the missing day
        "aws_access_key:ASIARNVY25WXUF5VAB46": (None, [("blind", gap)]),
        "aws_access_key:ASIAERVTE74C7DYOALCC": (None, [("blind", gap)]),
        "aws_access_key:ASIAJ7WJ56WCSIXWLK2O": (None, [("blind", gap)]),
    }
    for credential in document["credentials"]:
        jsonschema.validate(credential["coverage"], COVERAGE_SCHEMA)


def test_the_report_says_what_it_could_not_see(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    for root, name in ((ENTRA, "blind_entra_report.md"), (AWS, "blind_aws_report.md")):
        text = report.render_text(case.trace(root), "md")
        check_golden(name, text[text.index("## What this report could not see") :])


def test_the_complete_sample_is_blind_nowhere(sample: Case) -> None:
    truth = GroundTruth.load(
        Path(__file__).resolve().parent.parent / "sample_logs" / "ground_truth.json"
    )
    for root in truth.scenarios:
        traced = sample.trace(root)
        assert set(traced.coverage["status"]) == {"covered"}, root
        assert traced.credentials["blind_after"].isna().all()
    assert coverage.blind_spots(sample.trace(AWS).coverage).empty
    assert all(gaps == [] for gaps in sample.coverage()["gaps"])


def test_retention_deadlines_soonest_first(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    rows = coverage.deadlines(case.trace(ENTRA).coverage)
    assert [(r["source"], r["days"], r["expires"], r["present"]) for r in render.records(rows)] == [
        ("entra_signin", 7, "2026-09-10T08:03:25.786Z", True),
        ("entra_signin", 30, "2026-10-03T08:03:25.786Z", True),
        ("m365_ual", 180, "2027-03-02T08:03:25.786Z", True),
        ("m365_ual", 365, "2027-09-03T08:03:25.786Z", True),
        ("graph_activity", None, None, False),  # no retention of its own: its destination's
    ]


# --- the case file --------------------------------------------------------------------------


def test_event_hours_add_up_to_the_events(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    differences = case.sql(
        """SELECT * FROM (
             SELECT source, tenant, file_id, date_trunc('hour', time) AS hour, count(*) AS events,
                    min(time) AS first_event, max(time) AS last_event
             FROM events GROUP BY ALL)
           EXCEPT SELECT * FROM event_hours"""
    )
    assert differences.empty
    assert case.sql("SELECT sum(events) AS n FROM event_hours")["n"][0] == 17_246


def test_a_schema_2_case_gains_event_hours(tmp_path: Path) -> None:
    older = tmp_path / "older.duckdb"
    with ir.open_case(older) as case:
        case.ingest(Path(__file__).resolve().parent.parent / "sample_logs" / "logs" / "okta")
        expected = case.sql("SELECT * FROM event_hours ORDER BY ALL")
    with duckdb.connect(str(older)) as connection:
        connection.execute("DROP TABLE event_hours")
        connection.execute("UPDATE case_meta SET value = '2' WHERE key = 'schema_version'")
    with ir.open_case(older, read_only=True) as case:
        assert case.sql("SELECT * FROM event_hours ORDER BY ALL").equals(expected)
        assert len(expected) > 100


def test_the_spans_kept_at_ingest_are_the_rule_worked_out_again(
    blind: tuple[Case, GroundTruth], tmp_path: Path
) -> None:
    """`refresh` keeps the spans after an ingest; without its mark, readers work them out:
    the same rows and the same blind credentials either way."""
    case, _ = blind
    kept = case.sql("SELECT span, count(*) AS n FROM coverage_spans GROUP BY ALL ORDER BY ALL")
    assert kept.values.tolist() == [["after", 8], ["before", 9], ["covered", 10], ["gap", 1]]
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(case.path.read_bytes())
    with ir.open_case(copy) as unmarked:
        unmarked.sql("DELETE FROM case_meta WHERE key = 'coverage_spans_of'")
        unmarked.sql("DELETE FROM coverage_spans")
        assert unmarked.coverage().equals(case.coverage())
        for root in (ENTRA, AWS):
            assert unmarked.trace(root).coverage.equals(case.trace(root).coverage)


def test_files_ingested_past_the_kept_spans_are_seen(tmp_path: Path) -> None:
    """An ingest that does not go through the case facade leaves the kept spans behind:
    they are not read then, and the new source shows."""
    logs = Path(__file__).resolve().parent.parent / "sample_logs" / "logs"
    with ir.open_case(tmp_path / "case.duckdb") as case:
        case.ingest(logs / "okta")
        ingesting.ingest(case.store, [logs / "aws_cloudtrail"])
        assert set(case.sql("SELECT DISTINCT source FROM coverage_spans")["source"]) == {"okta"}
        assert list(case.coverage()["source"]) == ["aws_cloudtrail", "okta"]
        assert set(case.trace(AWS).coverage["status"]) == {"covered"}


# --- the catalogue ---------------------------------------------------------------------------


def test_every_source_has_its_facts_and_every_fact_its_page() -> None:
    catalog = coverage.catalog()
    assert sorted(catalog.sources) == sorted(registry.SOURCES)
    for name, facts in catalog.sources.items():
        for fact in (*facts.retention, *facts.limits):
            assert re.fullmatch(r"https://[\w.-]+/\S*", fact.url), (name, fact)
            assert fact.verified or fact.note, (name, fact)  # what was found instead
    principals = set(PRINCIPAL_REVOCATIONS) | {"jwt_id"}
    assert set(catalog.kinds) == KIND_NAMES - principals
    assert {s for sources in catalog.kinds.values() for s in sources} <= set(registry.SOURCES)


def test_a_limit_holds_for_its_layouts_only() -> None:
    facts = coverage.catalog().facts("aws_cloudtrail")
    management_only = "Event history holds management events only"
    assert not any(management_only in t for t in coverage.limit_lines(facts, ["wrapper:Records"]))
    assert any(management_only in t for t in coverage.limit_lines(facts, ["wrapper:Events"]))


# --- the command line -------------------------------------------------------------------------


def test_cli_coverage_is_the_library_twin(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    runner = CliRunner()
    result = runner.invoke(app, ["coverage", "--case", str(case.path), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == render.records(case.coverage())
    table = runner.invoke(app, ["coverage", "--case", str(case.path)])
    assert "2026-09-08T00:00:00Z →" in table.stdout and "2026-09-09T00:00:00Z" in table.stdout
    assert "Event history (console, LookupEvents)" in table.stdout
    csv = runner.invoke(app, ["coverage", "--case", str(case.path), "-f", "csv"])
    assert csv.stdout.splitlines()[0] == ",".join(coverage.COVERAGE_COLUMNS)


def test_cli_trace_marks_blind_credentials(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    result = CliRunner().invoke(app, ["trace", ENTRA, "--case", str(case.path)])
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"blind after\s+2026-09-04T23:46:07Z", result.stdout)) == 22
    assert "the case holds none of these logs" in result.stdout
    assert "graph_activity" in result.stdout.split("blind spots")[1]


def test_the_notebook_shows_the_blind_spots(blind: tuple[Case, GroundTruth]) -> None:
    case, _ = blind
    section = case.trace(ENTRA)._repr_html_().split("What this trace cannot see")[1]
    assert "<td style='text-align:left'>graph_activity</td>" in section
    assert "after 2026-09-04T23:46:07Z: the logs end there" in section
    assert "2026-09-10T08:03:25.786Z" in section  # entra_signin on a free tenant: first to go


def test_cli_help_and_the_blind_spots_incident(tmp_path: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["coverage", "--help"]).stdout
    assert "--case" in text and "Example: ir coverage" in text
    out = tmp_path / "incident"
    result = runner.invoke(app, ["synth", str(out), "--events", "400", "--blind-spots"])
    assert result.exit_code == 0, result.output
    folders = sorted(p.name for p in (out / "logs").iterdir())
    assert "graph_activity" not in folders and "entra_signin" in folders
