"""A mapping file is user input: no text in it reaches the case as SQL.

Every field of a mapping — detect keys, equals and unwrap, explode, time, every
event column, credential references (value, when, parent, via, principal, each),
declared kinds, time_field, names — is fed quotes, backslashes, semicolons, comment
markers and `'); DROP TABLE events; --`, both as JSON keys the paths name and as
literals. A mapping either compiles and ingests real records with exactly the
values under those keys, or is refused with a MappingError naming the file and
the field; never a DuckDB error, never a changed table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ir.case import Case
from parsers import registry
from parsers.toml import MappingError
from tests.conftest import Rows

HOSTILE = [
    "it's",
    "''",
    'say "hi"',
    "back\\slash",
    "tail\\",
    '\\"',
    "semi;colon",
    "-- comment",
    "/* block */",
    "'); DROP TABLE events; --",
    '"); DROP TABLE events; --',
    "$.a[*].b",
    "é 漢字 🙂\ttab",
]
GOOD_TIME = "2026-01-01T10:00:00Z"


def toml_text(text: str) -> str:
    """A TOML basic string holding `text` (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def path(hostile: str, *names: str) -> str:
    """A JSON path (as TOML text) through keys `<name><hostile>`; `*` is the current element."""
    steps = "".join("[*]" if n == "*" else "[" + json.dumps(n + hostile) + "]" for n in names)
    return toml_text("$" + steps)


def re2_literal(text: str) -> str:
    """`text` as an RE2 pattern matching itself."""
    return "".join(
        c if c.isalnum() else f"\\{c}" if c.isascii() and c.isprintable() else f"\\x{{{ord(c):x}}}"
        for c in text
    )


def hostile_mapping(h: str) -> str:
    def p(*names: str) -> str:
        return path(h, *names)

    def t(text: str) -> str:
        return toml_text(text)

    return f"""
source = "hostile_probe"
time_field = {t(h)}
explode = {p("events")}

[detect]
keys = [{p("id")}, {p("time")}]
equals = {{ {p("schema")} = {t("v" + h)} }}
unwrap = {p("envelope")}

[event]
source_event_id = {p("id")}
time = {p("time")}
action = {{ join = [{p("action")}, {p("events", "*", "type")}, {{ const = {t("c" + h)} }}], sep = {t(h)} }}
outcome = {{ path = {p("status")}, map = {{ {t("bad" + h)} = {t("failure" + h)} }}, default = "success" }}
error = {{ when = {{ path = {p("status")}, equals = {t("bad" + h)} }}, then = {{ const = {t("err" + h)} }} }}
actor = {{ path = {p("actor")}, regex = {t("^(actor" + re2_literal(h) + ")@corp$")} }}
tenant = {{ path = {p("tenant")}, null_if = [{t("none" + h)}], left = 200 }}
client_ip = [{p("missing")}, {p("ip")}]
user_agent = {{ path = {p("ua")}, default = {t("ua" + h)} }}
country = {{ when = {{ any = [{{ path = {p("country")}, starts_with = {t("c" + h)} }}, {{ path = {p("country")}, ends_with = {t("never" + h)} }}] }}, then = {p("country")}, else = "none" }}
asn = {{ when = {{ path = {p("asn")}, in = [{t("ASN" + h)}, {t("other" + h)}], ignore_case = true }}, then = {{ const = {t("AS" + h)} }} }}

[[kinds]]
name = "hostile_session"
vendor = {t("V" + h)}
value = {t("as logged " + h)}
example = {t(h)}

[[credentials]]
kind = "hostile_session"
relation = "used"
value = {p("session")}
when = {{ path = {p("events", "*", "type")}, not_in = [{t("nothing" + h)}] }}
via = {t("via" + h)}
principal = {p("actor")}

[[credentials]]
kind = "hostile_session"
relation = "issued"
value = {{ join = [{p("session")}, {p("events", "*", "type")}], sep = {t("/" + h)} }}
when = {{ path = {p("events", "*", "type")}, differs_from = {p("action")} }}
parent = {{ kind = "hostile_session", value = {p("parent")} }}
via = {p("events", "*", "type")}

[[credentials]]
kind = "okta_api_token"
relation = "revoked"
each = {p("events", "*", "targets")}
value = {p("events", "*", "targets", "*", "id")}
when = {{ path = {p("events", "*", "targets", "*", "id")}, starts_with = "tok" }}
"""


def hostile_records(h: str) -> list[dict[str, Any]]:
    def k(name: str) -> str:
        return name + h

    inner = {
        k("schema"): "v" + h,
        k("id"): "evt-" + h,
        k("time"): GOOD_TIME,
        k("action"): "act" + h,
        k("status"): "bad" + h,
        k("actor"): "actor" + h + "@corp",
        k("tenant"): "tenant" + h,
        k("ip"): "203.0.113.9",
        k("country"): "c" + h,
        k("asn"): "asn" + h,
        k("session"): "sess" + h,
        k("parent"): "par" + h,
        k("events"): [
            {k("type"): "login" + h, k("targets"): [{k("id"): "tok1" + h}, {k("id"): "tok2" + h}]},
            {k("type"): "logout" + h, k("targets"): [{k("id"): "user" + h}]},
        ],
    }
    late = inner | {k("id"): "late-" + h, k("time"): "not a time", k("events"): []}
    return [{k("envelope"): inner}, {k("envelope"): late}]


def expected_rows(h: str) -> list[dict[str, Any]]:
    def event(number: int, kind: str, revoked: list[str]) -> dict[str, Any]:
        session = f"hostile_session:sess{h}"
        refs = [
            (session, "used", None, "via" + h, f"actor{h}@corp"),
            (f"{session}/{h}{kind}{h}", "issued", f"hostile_session:par{h}", kind + h, None),
        ]
        refs += [(f"okta_api_token:{token}", "revoked", None, None, None) for token in revoked]
        return {
            "source_event_id": "evt-" + h + ("" if number == 1 else f"#{number}"),
            "time": GOOD_TIME,
            "action": f"act{h}{h}{kind}{h}{h}c{h}",
            "outcome": "failure" + h,
            "error": "err" + h,
            "actor": "actor" + h,
            "tenant": "tenant" + h,
            "client_ip": "203.0.113.9",
            "user_agent": "ua" + h,
            "country": "c" + h,
            "asn": "AS" + h,
            "refs": sorted(refs, key=str),
        }

    return [event(1, "login", ["tok1" + h, "tok2" + h]), event(2, "logout", [])]


def _row(row: dict[str, Any]) -> dict[str, Any]:
    keep = {k: row[k] for k in expected_rows("")[0] if k != "refs"}
    refs = [
        (r["credential"], r["relation"], r["parent"], r["via"], r["principal"]) for r in row["refs"]
    ]
    return keep | {"refs": sorted(refs, key=str)}


def _tables(case: Case) -> list[tuple[Any, ...]]:
    return case.connection.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
    ).fetchall()


@pytest.fixture(autouse=True)
def _no_user_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IR_MAPPINGS", "")


@pytest.mark.parametrize("h", HOSTILE)
def test_hostile_text_in_every_field_is_read_as_text(
    h: str, case: Case, rows: Rows, tmp_path: Path
) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "hostile.toml").write_text(hostile_mapping(h), encoding="utf-8")
    logs = tmp_path / "hostile.ndjson"
    logs.write_text("".join(json.dumps(r) + "\n" for r in hostile_records(h)), encoding="utf-8")
    tables = _tables(case)

    (report,) = case.ingest(logs, mappings=[mappings])

    assert report.error is None, report.error
    assert (report.source, report.records, report.loaded, report.rejected) == (
        "hostile_probe",
        3,
        2,
        1,
    )
    assert [_row(row) for row in rows(case)] == expected_rows(h)
    reasons = case.connection.execute("SELECT source, reason FROM rejects").fetchall()
    assert reasons == [("hostile_probe", "no valid time in " + h)]
    assert [name for name, _ in _tables(case)] == [name for name, _ in tables]
    kinds = case.connection.execute("SELECT DISTINCT kind FROM credential_refs ORDER BY 1")
    assert kinds.fetchall() == [("hostile_session",), ("okta_api_token",)]


@pytest.mark.parametrize("h", HOSTILE)
@pytest.mark.parametrize(
    ("field", "swap", "message"),
    [
        ("source", ('source = "hostile_probe"', "source = {h}"), 'source = "<name>"'),
        ("kinds", ('name = "hostile_session"', "name = {h}"), "kinds[0]: name ="),
        (
            "credentials",
            ('kind = "okta_api_token"', "kind = {h}"),
            "credentials[2]: kind {shown} is not one `ir kinds` lists",
        ),
        (
            "parent",
            ('parent = { kind = "hostile_session"', "parent = { kind = {h}"),
            "credentials[1].parent[0]: kind {shown}",
        ),
        # not a path, or (`$.a[*].b`) one that names no single field
        ("detect.keys", ("keys = [", "keys = [{h}, "), "[detect].keys: "),
        ("explode", ("explode = ", "explode = {h} #"), "explode: "),
    ],
)
def test_hostile_names_are_refused_naming_the_field(
    h: str, field: str, swap: tuple[str, str], message: str, case: Case, tmp_path: Path
) -> None:
    """Names are not paths or literals: a hostile one is refused before any SQL runs."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    old, new = swap
    text = hostile_mapping("x")
    assert old in text, field
    mapping = mappings / "hostile.toml"
    mapping.write_text(text.replace(old, new.replace("{h}", toml_text(h)), 1), encoding="utf-8")
    logs = tmp_path / "hostile.ndjson"
    logs.write_text("".join(json.dumps(r) + "\n" for r in hostile_records("x")), encoding="utf-8")
    tables = _tables(case)

    with pytest.raises(MappingError) as refused:
        case.ingest(logs, mappings=[mappings])

    assert str(refused.value).startswith(f"{mapping}: ")
    assert message.replace("{shown}", f"'{h}'") in str(refused.value)
    assert _tables(case) == tables
    assert case.connection.execute("SELECT count(*) FROM evidence_files").fetchall() == [(0,)]


SMALL = 'source = "probe"\n[detect]\nkeys = ["$.id"]\n[event]\ntime = "$.time"\n'
LIST_OF_ONE = "a list of one or more items"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('actor = "$[\\"\\"]"', 'event.actor: [""] names no field'),
        ("actor = '$[\"a\\q\"]'", 'event.actor: ["a\\q"] is not a JSON string'),
        ('actor = "$.list[99999999999]"', "event.actor: list index 99999999999 is out of range"),
        ('actor = "$.Id"\ntenant = "$.id"', "event.tenant: 'id' and 'Id' differ only in case"),
        (
            'actor = { path = "$.a", regex = "(unclosed" }',
            "event.actor.regex: not a regular expression DuckDB reads",
        ),
        ('tenant = { path = "$.t", left = true }', "event.tenant.left: a positive number"),
        ('tenant = { path = "$.t", left = 99999999999 }', "event.tenant.left: a positive number"),
        ('tenant = { path = "$.t", null_if = [] }', f"event.tenant.null_if: {LIST_OF_ONE}"),
        (
            'asn = { when = { path = "$.a", in = [] }, then = "x" }',
            f"event.asn.when.in: {LIST_OF_ONE}",
        ),
        ('country = { when = { any = [] }, then = "x" }', f"event.country.when.any: {LIST_OF_ONE}"),
        ('outcome = { path = "$.o", map = {} }', "event.outcome.map: a table"),
        ("error = { const = { a = 1 } }", "event.error.const: a literal is a string"),
        (
            'error = { when = { path = "$.e", equals = [1] }, then = "x" }',
            "event.error.when.equals: a literal is a string",
        ),
        ("action = { join = [] }", f"event.action.join: {LIST_OF_ONE}"),
        ("client_ip = []", f"event.client_ip: {LIST_OF_ONE}"),
        (
            '[[credentials]]\nkind = "okta_session"\nrelation = "used"\nvalue = "$.s"\nparent = []',
            f"credentials[0].parent: {LIST_OF_ONE}",
        ),
    ],
)
def test_what_duckdb_would_refuse_is_a_mapping_error(
    lines: str, message: str, case: Case, tmp_path: Path
) -> None:
    mapping = tmp_path / "mappings" / "bad.toml"
    mapping.parent.mkdir()
    mapping.write_text(SMALL + lines + "\n", encoding="utf-8")
    tables = _tables(case)
    with pytest.raises(MappingError) as refused:
        case.ingest(tmp_path / "nothing.json", mappings=[mapping.parent])
    assert str(refused.value).startswith(f"{mapping}: ")
    assert message in str(refused.value)
    assert _tables(case) == tables


def test_time_field_is_text(tmp_path: Path) -> None:
    mapping = tmp_path / "mappings" / "bad.toml"
    mapping.parent.mkdir()
    mapping.write_text("time_field = 3\n" + SMALL, encoding="utf-8")
    with pytest.raises(MappingError, match="time_field names the time's vendor fields"):
        registry.load([mapping.parent])
