"""Sources defined without Python: mapping files compiled into parsers.

The shipped parsers/mappings/slack.toml mirrors parsers/slack.py: it must load
the slack golden fixtures and conformance samples into exactly the golden rows.
A user mapping (explode, each, parent, unwrap, conditions) is exercised end to
end through `Case.ingest(mappings=…)`, `$IR_MAPPINGS` and `ir ingest --mappings`,
and every mistake in a mapping is reported with its file and key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ir.case import Case
from ir.cli import app
from parsers import registry
from parsers.toml import MappingError, compile_mapping, load_mapping
from tests.conftest import EXPECTED, REJECTS, Rows, evidence_fixtures, golden_path, read_jsonl

MAPPINGS = Path(registry.__file__).parent / "mappings"
CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"


@pytest.fixture
def slack_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in `slack` source is the mapping for this test, nothing else changes."""
    mapped = load_mapping(MAPPINGS / "slack.toml")
    shipped = registry.built_in()
    replaced = tuple(mapped if parser.name == "slack" else parser for parser in shipped)
    monkeypatch.setattr(registry, "built_in", lambda: replaced)


@pytest.mark.usefixtures("slack_mapping")
@pytest.mark.parametrize("path", evidence_fixtures("slack"), ids=lambda p: p.name)
def test_slack_mapping_loads_the_golden_rows(
    path: Path, case: Case, rows: Rows, rejects: Rows
) -> None:
    (report,) = case.ingest(path)
    assert report.source == "slack"
    assert rows(case) == read_jsonl(golden_path(path, EXPECTED))
    assert rejects(case) == read_jsonl(golden_path(path, REJECTS))
    assert report.records == report.loaded + report.duplicates + report.rejected


@pytest.mark.usefixtures("slack_mapping")
def test_slack_mapping_loads_the_conformance_sample(case: Case, rows: Rows) -> None:
    sample = CONFORMANCE / "slack" / "elastic-audit.log"
    if not sample.is_file():
        pytest.skip("no conformance samples beside the repository")
    (report,) = case.ingest(sample)
    assert (report.records, report.loaded, report.rejected) == (4, 4, 0)
    sessions = [ref for row in rows(case) for ref in row["refs"]]
    assert sessions == [
        {
            "credential": "slack_session:913888259765",
            "kind": "slack_session",
            "relation": "used",
            "parent": None,
            "via": None,
            "principal": "2f52269c-4f38-4f08-b56d-c2b968681dbd",
        }
    ]


def test_slack_mapping_reads_the_fields_the_python_parser_reads() -> None:
    """Same JSON read once per record: the mapping's structure is the parser's, minus
    fields the parser declares but never maps."""
    mapped = load_mapping(MAPPINGS / "slack.toml")
    python = registry.get("slack")
    assert mapped.fields == {
        "id": "VARCHAR",
        "date_create": "VARCHAR",
        "action": "VARCHAR",
        "actor": {"user": {"email": "VARCHAR", "id": "VARCHAR"}},
        "context": {
            "location": {"id": "VARCHAR"},
            "ip_address": "VARCHAR",
            "ua": "VARCHAR",
            "session_id": "VARCHAR",
        },
        "entity": {
            "type": "VARCHAR",
            **{e: {"id": "VARCHAR", "name": "VARCHAR"} for e in ("user", "file", "channel")},
            "app": {"id": "VARCHAR", "scopes": ["VARCHAR"], "name": "VARCHAR"},
            "workspace": {"id": "VARCHAR", "name": "VARCHAR"},
        },
    }
    assert mapped.fields["entity"] == python.fields["entity"]
    assert set(mapped.fields) == set(python.fields)
    assert len(mapped.credentials) == len(python.credentials)
    assert mapped.resource_types == python.resource_types


ACME = """
# A fictional IdP: activities with several events, an envelope, targets.
source = "acme_idp"
explode = "$.events"

[detect]
keys = ["$.activityId", "$.occurredAt"]
equals = { "$.schema" = "acme/v2" }
unwrap = "$.payload"

[event]
source_event_id = "$.activityId"
time = ["$.occurredAt", "$.receivedAt"]
action = "$.events[*].type"
outcome = { path = "$.events[*].result", map = { OK = "success", DENIED = "failure" }, ignore_case = true, default = "unknown" }
error = { when = { path = "$.events[*].result", equals = "denied", ignore_case = true }, then = "$.events[*].reason" }
actor = ["$.actor.email", "$.actor.id"]
tenant = { path = "$.org", regex = "^orgs/([^/]+)" }
client_ip = "$.client.ip"
user_agent = "$.client.ua"
country = { path = "$.client.geo", left = 2 }

[[credentials]]
kind = "okta_session"
relation = "used"
value = { path = "$.session", null_if = ["unknown", "-"] }
when = { not = { path = "$.events[*].type", in = ["session.start"] } }
principal = "$.actor.email"

[[credentials]]
kind = "okta_session"
relation = "issued"
value = "$.session"
when = [{ path = "$.events[*].type", equals = "session.start" }, { path = "$.parentSession", present = true }]
parent = [{ kind = "okta_session", value = "$.parentSession" }]
via = "session.start"
principal = "$.actor.email"

[[credentials]]
kind = "okta_api_token"
relation = "revoked"
value = "$.events[*].targets[*].id"
each = "$.events[*].targets"
when = { path = "$.events[*].targets[*].kind", equals = "Token" }
via = "$.events[*].type"
"""

ACME_RECORDS = [
    {
        "payload": {
            "schema": "acme/v2",
            "activityId": "act-1",
            "occurredAt": "2026-01-01T10:00:00Z",
            "org": "orgs/acme-prod/units/7",
            "actor": {"id": "u-9", "email": "dana@corp.example"},
            "client": {"ip": "203.0.113.77", "ua": "curl/8.5.0", "geo": "NLD"},
            "session": "sess-2",
            "parentSession": "sess-1",
            "events": [
                {"type": "session.start", "result": "ok"},
                {
                    "type": "token.revoke",
                    "result": "DENIED",
                    "reason": "not an admin",
                    "targets": [{"id": "00T1", "kind": "Token"}, {"id": "u-3", "kind": "User"}],
                },
            ],
        }
    },
    {
        "schema": "acme/v2",
        "activityId": "act-2",
        "occurredAt": "",
        "receivedAt": "1767261600",
        "actor": {"id": "u-9"},
        "session": "unknown",
        "events": {"type": "report.export", "result": "ok"},
    },
]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _acme_files(tmp_path: Path) -> tuple[Path, Path]:
    mappings = tmp_path / "mappings"
    _write(mappings, "acme.toml", ACME)
    logs = _write(
        tmp_path / "logs", "acme.ndjson", "".join(json.dumps(r) + "\n" for r in ACME_RECORDS)
    )
    return mappings, logs


ACME_ROWS = [
    {
        "source_event_id": "act-1",
        "action": "session.start",
        "outcome": "success",
        "error": None,
        "actor": "dana@corp.example",
        "tenant": "acme-prod",
        "country": "NL",
        "record_no": 1,
        "refs": [
            ("okta_session:sess-2", "issued", "okta_session:sess-1", "session.start"),
        ],
    },
    {
        "source_event_id": "act-1#2",
        "action": "token.revoke",
        "outcome": "failure",
        "error": "not an admin",
        "actor": "dana@corp.example",
        "tenant": "acme-prod",
        "country": "NL",
        "record_no": 1,
        "refs": [
            ("okta_api_token:00T1", "revoked", None, "token.revoke"),
            ("okta_session:sess-2", "used", None, None),
        ],
    },
    {
        "source_event_id": "act-2",
        "action": "report.export",
        "outcome": "success",
        "error": None,
        "actor": "u-9",
        "tenant": None,
        "country": None,
        "record_no": 2,
        "refs": [],
    },
]


def _acme_rows(case: Case, rows: Rows) -> list[dict[str, object]]:
    keep = ("source_event_id", "action", "outcome", "error", "actor", "tenant", "country")
    return [
        {k: row[k] for k in (*keep, "record_no")}
        | {"refs": [(r["credential"], r["relation"], r["parent"], r["via"]) for r in row["refs"]]}
        for row in rows(case)
    ]


def test_a_user_mapping_is_detected_and_mapped(case: Case, rows: Rows, tmp_path: Path) -> None:
    mappings, logs = _acme_files(tmp_path)
    (report,) = case.ingest(logs, mappings=[mappings])
    assert (report.source, report.records, report.loaded, report.rejected) == ("acme_idp", 3, 3, 0)
    assert _acme_rows(case, rows) == ACME_ROWS
    times = case.connection.execute("SELECT epoch(time) FROM events ORDER BY event_key")
    assert [row[0] for row in times.fetchall()] == [1767261600.0, 1767261600.0, 1767261600.0]


def test_user_config_mappings_join_detection(
    case: Case, rows: Rows, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mappings, logs = _acme_files(tmp_path)
    monkeypatch.setenv("IR_MAPPINGS", str(mappings))
    (report,) = case.ingest(logs)
    assert report.source == "acme_idp"
    assert [r["source_event_id"] for r in rows(case)] == ["act-1", "act-1#2", "act-2"]


def test_xdg_config_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IR_MAPPINGS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    _write(tmp_path / "ir" / "mappings", "acme.toml", ACME)
    assert registry.load().names[-1] == "acme_idp"
    assert registry.load().names[: len(registry.SOURCES)] == registry.SOURCES


def test_cli_ingest_reads_mappings_and_accepts_their_source(tmp_path: Path) -> None:
    mappings, logs = _acme_files(tmp_path)
    case_file = str(tmp_path / "case.duckdb")
    env = {"IR_MAPPINGS": ""}
    ingest = ["ingest", str(logs), "--case", case_file, "--format", "json"]
    result = CliRunner().invoke(app, [*ingest, "--mappings", str(mappings)], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["source"] == "acme_idp"
    unknown = CliRunner().invoke(app, [*ingest, "--source", "acme_idp"], env=env)
    assert unknown.exit_code == 2
    assert "--source: unknown source 'acme_idp'; known sources: aws_cloudtrail" in unknown.stderr


def test_a_mapping_never_takes_records_a_built_in_source_reads(case: Case, tmp_path: Path) -> None:
    greedy = 'source = "greedy"\n[detect]\nkeys = ["$.eventTime"]\n[event]\ntime = "$.eventTime"\n'
    mappings = tmp_path / "mappings"
    _write(mappings, "greedy.toml", greedy)
    trail = Path(__file__).parent / "fixtures" / "aws_cloudtrail"
    path = next(p for p in evidence_fixtures("aws_cloudtrail") if p.parent == trail)
    (report,) = case.ingest(path, mappings=[mappings])
    assert report.source == "aws_cloudtrail"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$.t"\ncolour = "$.c"\n',
            "[event]: unknown key(s) colour",
        ),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\naction = "$.a"\n',
            "[event] needs `time`",
        ),
        ('source = "x"\n[detect]\n[event]\ntime = "$.t"\n', "give `keys` and/or `equals`"),
        ('source = "X y"\n', 'source = "<name>"'),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$.t[*].x"\n',
            "event.time: '$.t[*].x' uses [*] outside",
        ),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$.t"\nactor = "$.t.name"\n',
            "event.actor: 't' is used both as a value and as an object",
        ),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$.t"\n'
            '[[credentials]]\nkind = "aws_key"\nrelation = "used"\nvalue = "$.k"\n',
            "credentials[0]: kind 'aws_key' is not one `ir kinds` lists",
        ),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$.t"\n'
            '[[credentials]]\nkind = "okta_session"\nrelation = "minted"\nvalue = "$.k"\n',
            "credentials[0]: relation is one of used, issued, revoked",
        ),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$.t"\n'
            'outcome = { when = { path = "$.o", bigger = 3 }, then = "failure" }\n',
            "event.outcome.when: a condition has `path`",
        ),
        (
            'source = "x"\n[detect]\nkeys = ["$.a"]\n[event]\ntime = "$..t"\n',
            "cannot read the JSON path '$..t'",
        ),
    ],
)
def test_mapping_mistakes_name_the_file_and_the_key(
    text: str, message: str, tmp_path: Path
) -> None:
    path = _write(tmp_path, "bad.toml", text)
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_a_built_in_name_or_a_repeated_name_is_refused(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    _write(taken, "slack.toml", (MAPPINGS / "slack.toml").read_text())
    with pytest.raises(MappingError, match="source 'slack' is built in"):
        registry.load([taken])
    twice = tmp_path / "twice"
    _write(twice, "a.toml", ACME)
    _write(twice, "b.toml", ACME)
    with pytest.raises(
        MappingError, match=r"b\.toml: source 'acme_idp' is also defined in .*a\.toml"
    ):
        registry.load([twice])
    with pytest.raises(MappingError, match="no such mappings folder"):
        registry.load([tmp_path / "missing"])


def test_not_toml_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.toml", 'source = "x\n')
    with pytest.raises(MappingError, match=r"broken\.toml: not valid TOML"):
        load_mapping(path)


def test_detection_reads_paths_and_envelopes() -> None:
    parser = compile_mapping(
        {
            "source": "probe",
            "detect": {"keys": ["$.a.b[0]"], "equals": {"$.kind": "Probe"}, "unwrap": "$.data"},
            "event": {"time": "$.t"},
        },
        "probe.toml",
    )
    assert parser.detect({"data": {"kind": "Probe", "a": {"b": [1]}}})
    assert parser.detect({"kind": "Probe", "a": {"b": ["x"]}})
    assert not parser.detect({"kind": "Probe", "a": {"b": []}})
    assert not parser.detect({"kind": "Other", "a": {"b": [1]}})
    assert parser.time_field == "t"
