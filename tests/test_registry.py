"""The registry is data: parsers/*.py, parsers.SOURCES and tests/fixtures/ must agree."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import parsers
from parsers.base import Parser

PARSERS_DIR = Path(parsers.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures"
NOT_SOURCES = {"__init__", "base", "mapping"}  # mapping: compiles sources from TOML files
GOLDEN = (".expected.jsonl", ".rejects.jsonl")


def _modules() -> set[str]:
    return {p.stem for p in PARSERS_DIR.glob("*.py")} - NOT_SOURCES


def test_every_parser_module_is_registered_and_every_source_has_a_module() -> None:
    assert set(parsers.SOURCES) == _modules()
    assert len(parsers.SOURCES) == len(set(parsers.SOURCES))


@pytest.mark.parametrize("source", parsers.SOURCES)
def test_parser_is_named_after_its_module_and_documented(source: str) -> None:
    module = importlib.import_module(f"parsers.{source}")
    parser = parsers.get(source)
    assert isinstance(parser, Parser)
    assert parser.name == source
    assert (module.__doc__ or "").strip(), f"parsers/{source}.py needs a docstring"


@pytest.mark.parametrize("source", parsers.SOURCES)
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


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=re.escape("known sources: " + ", ".join(parsers.SOURCES))):
        parsers.get("splunk")
