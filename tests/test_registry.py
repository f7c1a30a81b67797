"""The registry is data: parsers/*.py, registry.SOURCES and tests/fixtures/ must agree."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ir.cli import app
from ir.credentials import KINDS, Kind, UnknownCredential, normalise_id
from ir.errors import UsageError
from parsers import registry
from parsers.base import Parser
from parsers.toml import MappingError

PARSERS_DIR = Path(registry.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures"
# The machinery, not sources: what a parser is, the registry, the TOML compiler;
# `_name` modules are helpers shared by sources.
NOT_SOURCES = {"__init__", "base", "registry", "toml"}
GOLDEN = (".expected.jsonl", ".rejects.jsonl")


def _modules() -> set[str]:
    return {p.stem for p in PARSERS_DIR.glob("*.py") if not p.stem.startswith("_")} - NOT_SOURCES


def test_every_parser_module_is_registered_and_every_source_has_a_module() -> None:
    assert set(registry.SOURCES) == _modules()
    assert len(registry.SOURCES) == len(set(registry.SOURCES))
    assert registry.load([]).names[: len(registry.SOURCES)] == registry.SOURCES


@pytest.mark.parametrize("source", registry.SOURCES)
def test_parser_is_named_after_its_module_and_documented(source: str) -> None:
    module = importlib.import_module(f"parsers.{source}")
    parser = registry.get(source)
    assert isinstance(parser, Parser)
    assert parser.name == source
    assert (module.__doc__ or "").strip(), f"parsers/{source}.py needs a docstring"


@pytest.mark.parametrize("source", registry.SOURCES)
def test_source_has_golden_and_bad_record_fixtures(source: str) -> None:
    folder = FIXTURES / source
    assert folder.is_dir(), f"tests/fixtures/{source}/ is missing"
    golden = [p for p in folder.glob("*.expected.jsonl") if p.read_text().strip()]
    bad = [p for p in folder.glob("*.rejects.jsonl") if p.read_text().strip()]
    assert golden, f"tests/fixtures/{source}/ has no <name>.expected.jsonl"
    assert bad, f"tests/fixtures/{source}/ has no bad-record fixture (<name>.rejects.jsonl)"
    for path in golden + bad:
        name = path.name.split(".", 1)[0]
        evidence = [p for p in folder.glob(f"{name}.*") if not p.name.endswith(GOLDEN)]
        assert evidence, f"{path.name} has no vendor file {name}.* beside it"


def test_unknown_source_is_one_usage_error_naming_the_known_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IR_MAPPINGS", "")
    known = "known sources: " + ", ".join(registry.SOURCES)
    for lookup in (lambda: registry.get("splunk"), lambda: registry.load().get("splunk")):
        with pytest.raises(registry.UnknownSource) as raised:
            lookup()
        assert str(raised.value) == f"unknown source 'splunk'; {known}"
        # A usage error (exit 2), and the KeyError callers caught before it had a type.
        assert isinstance(raised.value, UsageError) and isinstance(raised.value, KeyError)
        assert raised.value.exit_code == 2


def test_detection_asks_the_sources_in_order() -> None:
    sources = registry.load([])
    trail = {"eventVersion": "1.08", "eventID": "e-1", "eventTime": "2026-01-01T00:00:00Z"}
    trail |= {"eventName": "AssumeRole", "eventSource": "sts.amazonaws.com"}
    found = sources.detect([{"msg": "not a vendor record"}, trail])
    assert found is not None and found.name == "aws_cloudtrail"
    assert sources.detect([{"msg": "not a vendor record"}]) is None


def test_built_in_sources_declare_no_kind_twice() -> None:
    names = [kind.name for kind in registry.load([]).kinds()]
    assert len(names) == len(set(names))
    assert registry.load([]).kinds()[: len(KINDS)] == KINDS


ACME_KIND = """
source = "acme_idp"
[detect]
keys = ["$.activityId"]
[event]
time = "$.at"
[[kinds]]
name = "acme_session"
vendor = "Acme"
value = "session id as logged"
[[credentials]]
kind = "acme_session"
relation = "used"
value = "$.session"
"""


def test_a_mapping_declares_a_kind_that_ir_kinds_then_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme.toml").write_text(ACME_KIND)
    monkeypatch.setenv("IR_MAPPINGS", str(tmp_path))
    declared = Kind("acme_session", "Acme", "session id as logged", "")
    assert registry.kinds() == (*KINDS, declared)
    assert registry.get("acme_idp").kinds == (declared,)
    known = {kind.name for kind in registry.kinds()}
    assert normalise_id("acme_session:s-1", known) == "acme_session:s-1"
    with pytest.raises(UnknownCredential, match="kind 'acme_session' is unknown"):
        normalise_id("acme_session:s-1")


@pytest.mark.parametrize(
    ("name", "declarer"), [("okta_session", "ir"), ("acme_session", "acme_idp")]
)
def test_a_kind_is_declared_once(tmp_path: Path, name: str, declarer: str) -> None:
    (tmp_path / "a.toml").write_text(ACME_KIND)
    again = ACME_KIND.replace('"acme_idp"', '"acme_two"').replace('"acme_session"', f'"{name}"')
    (tmp_path / "b.toml").write_text(again)
    message = f"b.toml: kinds[0]: kind '{name}' is already declared by {declarer}"
    with pytest.raises(MappingError, match=re.escape(message)):
        registry.load([tmp_path])


def test_ir_kinds_lists_a_mapped_kind_with_its_count(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "acme.toml").write_text(ACME_KIND)
    logs = tmp_path / "acme.ndjson"
    record = {"activityId": "a-1", "at": "2026-01-01T00:00:00Z", "session": "s-1"}
    logs.write_text(json.dumps(record) + "\n")
    case = str(tmp_path / "case.duckdb")
    env = {"IR_MAPPINGS": str(mappings)}
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(logs), "--case", case], env=env)
    assert ingested.exit_code == 0, ingested.output
    listed = runner.invoke(app, ["kinds", "--case", case, "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [row["kind"] for row in rows] == [*(kind.name for kind in KINDS), "acme_session"]
    assert rows[-1] == {
        "kind": "acme_session",
        "vendor": "Acme",
        "value": "session id as logged",
        "credentials": 1,
        "references": 1,
    }


@pytest.mark.parametrize("declared_at_trace", [True, False])
def test_a_mapped_kind_is_traced_by_id(tmp_path: Path, declared_at_trace: bool) -> None:
    """`ir trace acme_session:s-1` traces a kind a mapping declares: known from the user's
    mappings at trace time, or only from the refs a `--mappings` ingest put in the case
    (its other values included); a kind neither knows is refused."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "acme.toml").write_text(ACME_KIND)
    logs = tmp_path / "acme.ndjson"
    records = [
        {"activityId": "a-1", "at": "2026-01-01T00:00:00Z", "session": "s-1"},
        {"activityId": "a-2", "at": "2026-01-01T01:00:00Z", "session": "s-1"},
    ]
    logs.write_text("".join(json.dumps(record) + "\n" for record in records))
    case = str(tmp_path / "case.duckdb")
    runner = CliRunner()
    ingested = runner.invoke(
        app, ["ingest", str(logs), "--mappings", str(mappings), "--case", case]
    )
    assert ingested.exit_code == 0, ingested.output
    env = {"IR_MAPPINGS": str(mappings) if declared_at_trace else ""}
    traced = runner.invoke(
        app, ["trace", "acme_session:s-1", "--case", case, "-f", "json"], env=env
    )
    assert traced.exit_code == 0, traced.output
    document = json.loads(traced.stdout)
    assert document["root"] == "acme_session:s-1"
    times = [e["time"] for e in document["events"]]
    assert times == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
    unknown = runner.invoke(app, ["trace", "acme_session:s-2", "--case", case], env=env)
    assert unknown.exit_code == 3 and "no event" in unknown.stderr
    never = runner.invoke(app, ["trace", "acme_token:t-1", "--case", case], env=env)
    assert never.exit_code == 2 and "kind 'acme_token' is unknown" in never.stderr
