"""The parser registry: one module per log source, in detection order.

Adding a source is one module here plus its name in SOURCES; detection asks the
parsers in this order and takes the first that recognises a file's records.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from parsers.base import Parser

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


@cache
def get(name: str) -> Parser:
    if name not in SOURCES:
        raise KeyError(f"unknown source '{name}'; known sources: {', '.join(SOURCES)}")
    parser: Parser = import_module(f"parsers.{name}").PARSER
    return parser


def all_parsers() -> tuple[Parser, ...]:
    return tuple(get(name) for name in SOURCES)
