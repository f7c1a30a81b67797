"""Every source ir reads: the built-in parser modules, then the user's TOML mappings.

Adding a built-in source is one module in parsers/ plus its name in SOURCES.
Mapping files (parsers/toml.py) come from `--mappings` folders, `$IR_MAPPINGS`
(folders separated by the OS path separator; set but empty: none) or
`~/.config/ir/mappings/` (under `$XDG_CONFIG_HOME` when set). Detection asks the
sources in that order and takes the first that recognises a record, so a mapping
never takes records a built-in parser reads.

A source may declare credential kinds of its own (`Parser.kinds`); `ir kinds`
lists ir's kinds (ir.credentials.KINDS) and those.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from ir.credentials import KINDS, Kind
from ir.errors import UsageError
from parsers.base import Parser
from parsers.toml import MappingError, load_mapping

SOURCES: tuple[str, ...] = (
    "aws_cloudtrail",
    "okta",
    "github",
    "entra_signin",
    "entra_audit",
    "m365_ual",
    "graph_activity",
    "google_workspace",
    "slack",
    "salesforce",
    "k8s_audit",
    "gcp_audit",
    "auth0",
)
USER_CONFIG = Path("ir") / "mappings"


class UnknownSource(UsageError, KeyError):
    """A source name no parser or mapping has; names the known ones.

    A KeyError too, as `parsers.get` raised before the registry had a type of its own."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown source '{name}'; known sources: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError's own would quote the message
        return str(self.args[0])


@cache
def _module_parser(name: str) -> Parser:
    parser: Parser = import_module(f"parsers.{name}").PARSER
    return parser


def built_in() -> tuple[Parser, ...]:
    """The built-in parsers, in detection order."""
    return tuple(_module_parser(name) for name in SOURCES)


@dataclass(frozen=True)
class Registry:
    """The sources of one ingest, in detection order."""

    parsers: tuple[Parser, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(parser.name for parser in self.parsers)

    def get(self, name: str) -> Parser:
        for parser in self.parsers:
            if parser.name == name:
                return parser
        raise UnknownSource(name, self.names)

    def detect(self, records: Iterable[Mapping[str, Any]]) -> Parser | None:
        """The first source that recognises one of `records` (sample records, in file order)."""
        for record in records:
            for parser in self.parsers:
                if parser.detect(record):
                    return parser
        return None

    def kinds(self) -> tuple[Kind, ...]:
        """ir's credential kinds, then those the sources declare, each once."""
        return KINDS + tuple(kind for parser in self.parsers for kind in parser.kinds)


def load(mappings: Iterable[str | Path] = ()) -> Registry:
    """Built-ins, then the mapped sources of the given folders, then the user's."""
    builtins = built_in()
    folders = [Path(p) for p in mappings] + user_dirs()
    taken = {kind.name: "ir" for kind in KINDS}
    taken |= {kind.name: parser.name for parser in builtins for kind in parser.kinds}
    return Registry(builtins + _load_dirs(dict.fromkeys(folders), builtins, taken))


def get(name: str, mappings: Iterable[str | Path] = ()) -> Parser:
    """A source by name: a built-in, else a mapped one (mapping files are read only then)."""
    for parser in built_in():
        if parser.name == name:
            return parser
    return load(mappings).get(name)


def kinds(mappings: Iterable[str | Path] = ()) -> tuple[Kind, ...]:
    """Every credential kind `ir kinds` lists: ir's, and those its sources declare."""
    return load(mappings).kinds()


def user_dirs() -> list[Path]:
    """`$IR_MAPPINGS` (set: only it; empty: none), else the user config folder when it exists."""
    configured = os.environ.get("IR_MAPPINGS")
    if configured is not None:
        return [Path(p) for p in configured.split(os.pathsep) if p]
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    folder = base / USER_CONFIG
    return [folder] if folder.is_dir() else []


def _load_dirs(
    dirs: Iterable[Path], builtins: tuple[Parser, ...], taken: dict[str, str]
) -> tuple[Parser, ...]:
    """Every `*.toml` of the folders, in name order; a source or kind name is used once.

    `taken`: kind name -> the source (or "ir") that declares it; a mapping may use
    those and declare new ones."""
    names = {parser.name for parser in builtins}
    taken = dict(taken)
    loaded: dict[str, tuple[Parser, Path]] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise MappingError(f"{folder}: no such mappings folder")
        for path in sorted(folder.glob("*.toml")):
            parser = load_mapping(path, taken)
            if parser.name in names:
                raise MappingError(
                    f"{path}: source '{parser.name}' is built in; give the mapping another name"
                )
            if parser.name in loaded:
                raise MappingError(
                    f"{path}: source '{parser.name}' is also defined in {loaded[parser.name][1]}"
                )
            loaded[parser.name] = (parser, path)
            taken |= {kind.name: parser.name for kind in parser.kinds}
    return tuple(parser for parser, _ in loaded.values())
