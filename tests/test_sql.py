"""ir/sql.py: whatever the text holds, DuckDB reads back exactly that text, as one token."""

from __future__ import annotations

import json

import duckdb
import pytest

from ir import sql

HOSTILE = [
    "plain",
    "it's",
    "''",
    "'); DROP TABLE events; --",
    "a\\b",
    "ends with a backslash\\",
    '"quoted"',
    'a\\"b',
    "semi;colon",
    "-- a comment",
    "/* block */ x",
    "*/",
    "$.a[0]",
    "tab\tnew\nline",
    "é ü 漢字 🙂",
    "",
]


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("CREATE TABLE events (n INTEGER)")
    connection.execute("INSERT INTO events VALUES (1)")
    return connection


def _events_intact(connection: duckdb.DuckDBPyConnection) -> bool:
    return connection.execute("SELECT count(*) FROM events").fetchall() == [(1,)]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_literal_reads_back_as_the_text(connection: duckdb.DuckDBPyConnection, text: str) -> None:
    assert connection.execute(f"SELECT {sql.literal(text)}").fetchall() == [(text,)]
    assert _events_intact(connection)


def test_literals_make_one_list(connection: duckdb.DuckDBPyConnection) -> None:
    texts = HOSTILE[:6]
    assert connection.execute(f"SELECT [{sql.literals(texts)}]").fetchall() == [(texts,)]
    assert connection.execute(
        f"SELECT {sql.literal(texts[3])} IN ({sql.literals(texts)})"
    ).fetchall() == [(True,)]


@pytest.mark.parametrize("name", [t for t in HOSTILE if t])
def test_an_identifier_names_exactly_the_column(
    connection: duckdb.DuckDBPyConnection, name: str
) -> None:
    result = connection.execute(f"SELECT 7 AS {sql.identifier(name)}")
    assert [column[0] for column in result.description] == [name]
    assert result.fetchall() == [(7,)]
    assert _events_intact(connection)


def test_an_empty_identifier_is_refused() -> None:
    with pytest.raises(sql.SqlTextError, match="empty name"):
        sql.identifier("")


@pytest.mark.parametrize("key", [t for t in HOSTILE if t])
def test_a_json_path_reaches_exactly_its_key(
    connection: duckdb.DuckDBPyConnection, key: str
) -> None:
    decoy = key[:-1] if len(key) > 1 else key + "x"
    record = json.dumps({key: {"list": [10, 20]}, decoy: "decoy"})
    path = sql.json_path_literal([key, "list", 1])
    found = connection.execute(f"SELECT json_extract_string(?, {path})", [record]).fetchall()
    assert found == [("20",)]


def test_json_path_forms() -> None:
    assert sql.json_path(["a", 0, None, 'q"\\']) == '$."a"[0][*]."q\\"\\\\"'
    with pytest.raises(sql.SqlTextError, match="empty key"):
        sql.json_path(["a", ""])
    with pytest.raises(sql.SqlTextError, match="0 or more"):
        sql.json_path([-1])


def test_a_structure_keeps_hostile_field_names(connection: duckdb.DuckDBPyConnection) -> None:
    keys = ["it's", 'a"b', "a\\b", "'); DROP TABLE events; --"]
    shape = {key: "VARCHAR" for key in keys}
    record = json.dumps({key: f"v{n}" for n, key in enumerate(keys)})
    (row,) = connection.execute(
        f"SELECT json_transform(?, {sql.structure(shape)})", [record]
    ).fetchall()
    assert row[0] == {key: f"v{n}" for n, key in enumerate(keys)}
    fields = ", ".join(f"r.{sql.identifier(key)}" for key in keys)
    query = f"SELECT {fields} FROM (SELECT json_transform(?, {sql.structure(shape)}) AS r)"
    assert connection.execute(query, [record]).fetchall() == [("v0", "v1", "v2", "v3")]
    assert _events_intact(connection)
