"""SQL text from Python values: the one place text becomes part of a DuckDB statement.

A value a statement runs with goes in as a `?` parameter. These functions are for
the SQL that cannot take one: the mapping a parser compiles once and ingest embeds
in views and CREATE TABLE AS statements, `json_transform` structures, JSON paths,
the file lists of the readers. Whatever the text holds (quotes, backslashes,
semicolons, `--`, `/*`), it comes out as one literal, one identifier or one path.

A leaf: it imports nothing of ir or parsers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

# A step of a JSON path: a key, an index into a list (0-based), or None for every
# element of a list (`[*]`).
PathToken = str | int | None


class SqlTextError(ValueError):
    """Text that no SQL identifier or JSON path can name (an empty key)."""


def literal(text: str) -> str:
    """A SQL string literal that reads back exactly `text`.

    DuckDB's plain string literals know one escape, the doubled quote; a backslash
    is an ordinary character (only E'…' strings read escapes)."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted identifier (a column, a struct field) named exactly `name`."""
    if not name:
        raise SqlTextError("an empty name is no SQL identifier")
    return '"' + name.replace('"', '""') + '"'


def json_path(tokens: Sequence[PathToken]) -> str:
    """DuckDB's JSON path text for `tokens` (`$."a"[0]."b"`), not yet a literal.

    Every key is quoted, so dots, brackets and `*` in it are plain characters; inside
    the quotes DuckDB reads `\\"` and `\\\\` as escapes, so both are escaped."""
    parts = ["$"]
    for token in tokens:
        if token is None:
            parts.append("[*]")
        elif isinstance(token, int):
            if token < 0:
                raise SqlTextError(f"a list index is 0 or more, not {token}")
            parts.append(f"[{token}]")
        elif not token:
            raise SqlTextError("DuckDB's JSON paths cannot name an empty key")
        else:
            parts.append('."' + token.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "".join(parts)


def json_path_literal(tokens: Sequence[PathToken]) -> str:
    """`json_path` as a SQL literal, for `->`, `json_type`, `json_extract_string`."""
    return literal(json_path(tokens))


def structure(shape: Mapping[str, Any] | Sequence[Any]) -> str:
    """A `json_transform` structure (field -> type, nested) as a SQL literal."""
    return literal(orjson.dumps(shape).decode())


def literals(texts: Iterable[str]) -> str:
    """Literals separated by commas: the inside of `IN (…)` or of a list `[…]`."""
    return ", ".join(literal(text) for text in texts)
