"""Log sources defined without Python: a TOML mapping file compiled into a `Parser`.

A responder who meets a log `ir` does not know writes a mapping: how to
recognise a record, the JSON path of each event column, the credential
references a record carries. `load_mapping` compiles it into the same
declarative `Parser` a module writes (the `json_transform` structure is derived
from the paths), so the same one-SELECT-per-batch SQL runs. Where the files are
found, and in which order their sources are detected: parsers/registry.py.

Everything a mapping says reaches SQL as a literal, a quoted identifier or a JSON
path (ir.sql), never as SQL text; what DuckDB would refuse at ingest (an empty
list of choices, a regex RE2 cannot read, two keys differing only in case) is
refused here, with the file and the key.

The format, by example (parsers/mappings/slack.toml is a complete one):

    source = "my_idp"                      # events.source, --source, unique
    explode = "$.events"                   # optional: one event per element
    [detect]                               # all must hold for a sample record
    keys = ["$.eventId", "$.when"]         # present
    equals = { "$.schema" = "idp/v1" }     # and equal
    unwrap = "$.data"                      # optional envelope (used when an object)
    [event]                                # columns: a value each (below)
    source_event_id = "$.eventId"
    time = "$.when"
    outcome = { when = { path = "$.ok", equals = "false" }, then = "failure", else = "success" }
    [[credentials]]
    kind = "okta_session"                  # a kind listed by `ir kinds`, or one declared below
    relation = "used"                      # used | issued | revoked
    value = "$.session.id"
    # when, parent = { kind, value }, via, principal, each = "$.targets" are optional;
    # scopes = "$.token.scopes" (text, split at spaces and commas) or "$.scopes[*]" (a list)
    [[resources]]                          # optional: what each event acted on
    type = "my_idp_app"                    # <vendor>_<thing>, lower case
    id = "$.target.id"
    # name, when, each are optional; access = "read" | "write" | "admin" | "auth", or
    # { when = <condition>, then = "auth", else = "read" }; none: the shared rule over
    # the event's action (parsers/base.py ACCESS_MACROS)
    [[kinds]]                              # optional: credential kinds this source adds
    name = "my_idp_session"
    vendor = "My IdP"
    value = "session id as logged"         # what the value is; `example` is optional

A value is a JSON path (`$.a.b`, `$.a["dotted.key"]` — the quoted key read as a
JSON string —, `$.list[0]` its first element, `$.list[*].x` the current element
inside `each` / `explode`), any other string as a literal, a list (the first that
is logged), or a table: `path` with optional `null_if`, `map` + `default`,
`regex` (first group), `left` (first n characters); `join` (+ `sep`); `const`;
`when` + `then` + `else`. A condition is a table with `path` (or `value`) and one
test (`equals`, `in`, `not_in`, `present`, `starts_with`, `ends_with`,
`differs_from`; `ignore_case`), or `all` / `any` (lists) / `not`; a list of
conditions means all of them. Literals are compared as text: a TOML boolean as
JSON writes it (`true`, `false`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from ir import sql
from ir.credentials import KINDS, Kind
from ir.errors import UsageError
from parsers.base import (
    ACCESS,
    EVENT_COLUMNS,
    CredentialRef,
    Parser,
    Resource,
    explode_sql,
    split_scopes,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 ships no TOML reader
    import tomli as tomllib

TOP_LEVEL = {
    "source", "detect", "event", "credentials", "explode", "time_field", "kinds", "resources",
}  # fmt: skip
DETECT_KEYS = {"keys", "equals", "unwrap"}
CREDENTIAL_KEYS = {
    "kind", "relation", "value", "when", "parent", "via", "principal", "each", "scopes",
}  # fmt: skip
RESOURCE_KEYS = {"type", "id", "name", "access", "when", "each"}
RESOURCE_TYPE = re.compile(r"[a-z][a-z0-9]*_[a-z0-9_]+")
KIND_KEYS = {"name", "vendor", "value", "example"}
RELATIONS = ("used", "issued", "revoked")
TESTS = ("equals", "in", "not_in", "present", "starts_with", "ends_with", "differs_from")
VALUE_FORMS = ("path", "join", "const", "when")
VALUE_OPTIONS = {"null_if", "map", "default", "regex", "left", "ignore_case", "sep", "then", "else"}
NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_INDEX = 2**31 - 1  # a list index DuckDB takes as a number
_TOKEN = re.compile(r'\.([A-Za-z_@][\w@$-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\*|\d+)\]')


class MappingError(UsageError):
    """A mapping file that cannot be compiled; the message names the file and the key."""


Token = sql.PathToken  # a key, an index into a list, None = the current element ([*])


@dataclass(frozen=True)
class JsonPath:
    text: str
    tokens: tuple[Token, ...]

    @property
    def literal(self) -> str:
        """The path as a SQL literal in DuckDB's JSON path syntax (for `->`, json_type)."""
        return sql.json_path_literal(self.tokens)


def parse_path(text: Any, where: str) -> JsonPath:
    if not isinstance(text, str) or not text.startswith("$"):
        raise MappingError(f"{where}: {_shown(text)} is not a JSON path (start it with $)")
    tokens: list[Token] = []
    position = 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise MappingError(
                f"{where}: cannot read the JSON path '{text}' at '{text[position:]}'"
            )
        tokens.append(_token(match, where))
        position = match.end()
    if not tokens:
        raise MappingError(f"{where}: '{text}' names the whole record, not a field")
    return JsonPath(text, tuple(tokens))


def _token(match: re.Match[str], where: str) -> Token:
    key, quoted, index = match.groups()
    if key is not None:
        return str(key)
    if quoted is not None:
        try:
            name = json.loads(f'"{quoted}"')
        except json.JSONDecodeError:
            raise MappingError(f'{where}: ["{quoted}"] is not a JSON string') from None
        if not name:
            raise MappingError(f'{where}: [""] names no field (an empty key)')
        return str(name)
    if index == "*":
        return None
    if int(index) > MAX_INDEX:
        raise MappingError(f"{where}: list index {index} is out of range")
    return int(index)


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else f"a {type(value).__name__}"


def _text(value: Any, where: str) -> str:
    """A TOML scalar as the text a JSON field holds (booleans as `true` / `false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MappingError(
        f"{where}: a literal is a string, a number or a boolean, not a table or list"
    )


def _literal(value: Any, where: str) -> str:
    return sql.literal(_text(value, where))


@dataclass
class _Scope:
    """Where a path's current-element (`[*]`) refers: the `each` list or the exploded one."""

    prefix: tuple[Token, ...]
    variable: str


@dataclass
class _Compiler:
    origin: str
    kinds: frozenset[str]  # the kinds a credential reference may name
    structure: dict[str, Any] = field(default_factory=dict)
    explode: JsonPath | None = None
    element: dict[str, Any] = field(default_factory=dict)
    scope: _Scope | None = None

    # --- paths -> json_transform structure + SQL -----------------------------------------

    def path_sql(self, path: JsonPath, where: str) -> str:
        tokens = path.tokens
        if self.scope and _under(tokens, self.scope.prefix):
            inside = tokens[len(self.scope.prefix) + 1 :]
            if not inside:  # the element itself: a list of plain values
                self.declare((*self.scope.prefix, 0), where, star=True)
                return self.scope.variable
            self.declare(tokens, where, star=True)
            return self._access(self.scope.variable, inside)
        return self.declare(tokens, where)

    def locate(self, tokens: Sequence[Token]) -> tuple[dict[str, Any], str, Sequence[Token]]:
        """The structure a path belongs to (the record's, or the exploded element's), the
        SQL variable holding it, and the path relative to it."""
        if self.explode and _under(tokens, self.explode.tokens):
            return self.element, "element", tokens[len(self.explode.tokens) + 1 :]
        return self.structure, "r", tokens

    def declare(self, tokens: Sequence[Token], where: str, star: bool = False) -> str:
        tree, variable, relative = self.locate(tokens)
        if None in relative and not star:
            text = "".join(f".{t}" if isinstance(t, str) else f"[{t}]" for t in tokens)
            raise MappingError(
                f"{where}: '${text.replace('[None]', '[*]')}' uses [*] outside `each` /"
                " `explode` of that list"
            )
        return self._declare(tree, variable, relative, where)

    def _declare(
        self, tree: dict[str, Any], variable: str, tokens: Sequence[Token], where: str
    ) -> str:
        if not tokens:
            raise MappingError(f"{where}: the path names a list element, not a field of it")
        node: Any = tree
        for position, token in enumerate(tokens):
            last = position == len(tokens) - 1
            if isinstance(token, str):
                if not isinstance(node, dict):
                    raise MappingError(f"{where}: '{token}' is read as a field of a list")
                _check_case(node, token, where)
                child = "VARCHAR" if last else ({} if isinstance(tokens[position + 1], str) else [])
                existing = node.setdefault(token, child)
                if isinstance(existing, str) != isinstance(child, str) or (
                    isinstance(existing, list) != isinstance(child, list)
                ):
                    raise MappingError(
                        f"{where}: '{token}' is used both as a value and as an object or list"
                    )
                node = existing
            else:  # an index, or None ([*]): the list's element type
                if not isinstance(node, list):
                    raise MappingError(f"{where}: an index is applied to an object")
                child = "VARCHAR" if last else {}
                if not node:
                    node.append(child)
                elif isinstance(node[0], str) != isinstance(child, str):
                    raise MappingError(
                        f"{where}: list elements are used both as values and as objects"
                    )
                node = node[0]
        return self._access(variable, tokens)

    @staticmethod
    def _access(variable: str, tokens: Sequence[Token]) -> str:
        sql_text = variable
        for token in tokens:
            if isinstance(token, int):
                sql_text += f"[{token + 1}]"
            else:
                sql_text += f".{sql.identifier(str(token))}"
        return sql_text

    # --- values ---------------------------------------------------------------------------

    def value(self, spec: Any, where: str, raw: bool = False) -> str:
        """SQL for a value spec: VARCHAR, NULL when not logged."""
        if isinstance(spec, int | float):  # bool is an int too
            return _literal(spec, where)
        if isinstance(spec, str):
            if spec.startswith("$"):
                sql_text = self.path_sql(parse_path(spec, where), where)
                return sql_text if raw else f"ir_blank({sql_text})"
            return sql.literal(spec)
        if isinstance(spec, list):
            parts = [
                self.value(item, f"{where}[{n}]") for n, item in enumerate(_nonempty(spec, where))
            ]
            return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
        if isinstance(spec, dict):
            return self._table_value(spec, where)
        raise MappingError(f"{where}: a value is a JSON path, a literal, a list or a table")

    def _table_value(self, spec: Mapping[str, Any], where: str) -> str:
        forms = [form for form in VALUE_FORMS if form in spec]
        unknown = set(spec) - set(VALUE_FORMS) - VALUE_OPTIONS
        if len(forms) != 1 or unknown:
            raise MappingError(
                f"{where}: a value table has exactly one of {', '.join(VALUE_FORMS)}"
                + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
            )
        form = forms[0]
        if form == "const":
            return _literal(spec["const"], f"{where}.const")
        if form == "join":
            items = _nonempty(spec["join"], f"{where}.join")
            parts = [self.value(item, f"{where}.join[{n}]") for n, item in enumerate(items)]
            return f" || {_literal(spec.get('sep', ''), f'{where}.sep')} || ".join(parts)
        if form == "when":
            then = self.value(spec.get("then"), f"{where}.then") if "then" in spec else "NULL"
            otherwise = self.value(spec["else"], f"{where}.else") if "else" in spec else "NULL"
            return f"CASE WHEN {self.condition(spec['when'], f'{where}.when')} THEN {then} ELSE {otherwise} END"
        return self._refine(self.value(spec["path"], f"{where}.path"), spec, where)

    def _refine(self, sql_text: str, spec: Mapping[str, Any], where: str) -> str:
        if "null_if" in spec:
            choices = _nonempty(_as_list(spec["null_if"]), f"{where}.null_if")
            blanks = ", ".join(_literal(v, f"{where}.null_if") for v in choices)
            sql_text = f"CASE WHEN {sql_text} IN ({blanks}) THEN NULL ELSE {sql_text} END"
        if "regex" in spec:
            pattern = _regex(spec["regex"], f"{where}.regex")
            sql_text = f"nullif(regexp_extract({sql_text}, {pattern}, 1), '')"
        if "left" in spec:
            count = spec["left"]
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_INDEX:
                raise MappingError(f"{where}.left: a positive number of characters")
            sql_text = f"left({sql_text}, {count})"
        if "map" in spec:
            table = spec["map"]
            if not isinstance(table, dict) or not table:
                raise MappingError(f"{where}.map: a table of logged value = mapped value")
            fold = "upper" if spec.get("ignore_case") else ""
            cases = " ".join(
                f"WHEN {sql.literal(k.upper() if fold else k)} THEN {_literal(v, f'{where}.map')}"
                for k, v in table.items()
            )
            default = (
                self.value(spec["default"], f"{where}.default") if "default" in spec else "NULL"
            )
            sql_text = f"CASE {fold}({sql_text}) {cases} ELSE {default} END"
        elif "default" in spec:
            sql_text = f"coalesce({sql_text}, {self.value(spec['default'], f'{where}.default')})"
        return sql_text

    # --- conditions -----------------------------------------------------------------------

    def condition(self, spec: Any, where: str) -> str:
        """SQL for a condition: TRUE or FALSE, never NULL."""
        if isinstance(spec, list):
            parts = [self.condition(item, f"{where}[{n}]") for n, item in enumerate(spec)]
            return "(" + " AND ".join(parts or ["TRUE"]) + ")"
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: a condition is a table (or a list of them)")
        for combinator, joiner in (("all", " AND "), ("any", " OR ")):
            if combinator in spec:
                items = _nonempty(_as_list(spec[combinator]), f"{where}.{combinator}")
                parts = [
                    self.condition(item, f"{where}.{combinator}[{n}]")
                    for n, item in enumerate(items)
                ]
                return "(" + joiner.join(parts) + ")"
        if "not" in spec:
            return f"(NOT {self.condition(spec['not'], f'{where}.not')})"
        return f"coalesce({self._test(spec, where)}, FALSE)"

    def _test(self, spec: Mapping[str, Any], where: str) -> str:
        tests = [test for test in TESTS if test in spec]
        subjects = [key for key in ("path", "value") if key in spec]
        unknown = set(spec) - set(TESTS) - {"path", "value", "ignore_case"}
        if len(tests) != 1 or len(subjects) != 1 or unknown:
            raise MappingError(
                f"{where}: a condition has `path` (or `value`) and one of {', '.join(TESTS)}"
            )
        test = tests[0]
        # A blank value equals no literal, so comparisons read the field as it is; only
        # `present` / `differs_from` need "blank = not logged".
        raw = test not in ("present", "differs_from")
        subject = self.value(spec[subjects[0]], f"{where}.{subjects[0]}", raw=raw)
        operand = spec[test]
        fold = bool(spec.get("ignore_case"))
        if fold:
            subject = f"lower({subject})"

        def literal(value: Any) -> str:
            text = _text(value, f"{where}.{test}")
            return sql.literal(text.lower() if fold else text)

        if test == "present":
            return f"({subject} IS {'NOT ' if operand else ''}NULL)"
        if test == "differs_from":
            other = self.value(operand, f"{where}.differs_from")
            return f"({subject} IS DISTINCT FROM {f'lower({other})' if fold else other})"
        if test == "equals":
            return f"({subject} = {literal(operand)})"
        choices = _nonempty(_as_list(operand), f"{where}.{test}")
        if test in ("in", "not_in"):
            listed = ", ".join(literal(v) for v in choices)
            if test == "in":
                return f"({subject} IN ({listed}))"
            return f"coalesce({subject} NOT IN ({listed}), TRUE)"
        function = test  # starts_with | ends_with
        return "(" + " OR ".join(f"{function}({subject}, {literal(v)})" for v in choices) + ")"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _nonempty(items: Any, where: str) -> list[Any]:
    """A list with something in it: SQL has no empty IN (), CASE or coalesce()."""
    if not isinstance(items, list) or not items:
        raise MappingError(f"{where}: a list of one or more items")
    return items


def _check_case(node: Mapping[str, Any], key: str, where: str) -> None:
    """DuckDB's structs name fields case-insensitively: `Id` and `id` cannot both be read."""
    twin = next((k for k in node if k != key and k.lower() == key.lower()), None)
    if twin is not None:
        raise MappingError(
            f"{where}: '{key}' and '{twin}' differ only in case; DuckDB reads a record's"
            " fields into one struct whose names ignore case, so a mapping reads one of them"
        )


@cache
def _regex_checker() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _regex(pattern: Any, where: str) -> str:
    """The pattern as a literal, once DuckDB (RE2) has read it: a bad one fails here, not
    inside an ingest."""
    if not isinstance(pattern, str):
        raise MappingError(f"{where}: a regular expression is a string")
    try:
        _regex_checker().execute("SELECT regexp_extract('', ?, 1)", [pattern]).fetchall()
    except duckdb.Error as error:
        message = str(error).strip().splitlines()[0]
        raise MappingError(f"{where}: not a regular expression DuckDB reads ({message})") from None
    return sql.literal(pattern)


def _check_keys(table: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(table, dict):
        raise MappingError(f"{where}: expected a table")
    unknown = set(table) - allowed
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(allowed))}"
        )
    return table


def compile_mapping(
    document: Mapping[str, Any], origin: str, kinds: Mapping[str, str] | None = None
) -> Parser:
    """The Parser a mapping document describes; `origin` names it in errors.

    `kinds`: kind name -> who declares it, the kinds its references may name besides its
    own (default: ir's, ir.credentials.KINDS)."""
    _check_keys(document, TOP_LEVEL, origin)
    name = document.get("source")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise MappingError(f'{origin}: source = "<name>" (lower case, digits, _) is required')
    known = dict(kinds) if kinds is not None else {kind.name: "ir" for kind in KINDS}
    declared = _kinds(document.get("kinds", []), f"{origin}: kinds", known)
    compiler = _Compiler(origin, frozenset(known) | {kind.name for kind in declared})
    if "explode" in document:
        compiler.explode = parse_path(document["explode"], f"{origin}: explode")
        if None in compiler.explode.tokens:
            raise MappingError(f"{origin}: explode: name the list itself, without [*]")
    event_spec = _check_keys(document.get("event"), set(EVENT_COLUMNS), f"{origin}: [event]")
    if "time" not in event_spec:
        raise MappingError(f"{origin}: [event] needs `time`")
    event = {
        column: _time(compiler, spec, f"{origin}: event.{column}")
        if column == "time"
        # the engine checks the id for blanks itself
        else compiler.value(spec, f"{origin}: event.{column}", raw=column == "source_event_id")
        for column, spec in event_spec.items()
    }
    event.setdefault("source_event_id", "NULL")
    event.setdefault("outcome", "'unknown'")
    credentials = tuple(
        _credential(compiler, spec, f"{origin}: credentials[{n}]")
        for n, spec in enumerate(
            _as_table_list(document.get("credentials", []), f"{origin}: credentials")
        )
    )
    resources = tuple(
        _resource(compiler, spec, f"{origin}: resources[{n}]")
        for n, spec in enumerate(
            _as_table_list(document.get("resources", []), f"{origin}: resources")
        )
    )
    detect, unwrap = _detect(document.get("detect"), f"{origin}: [detect]")
    explode = None
    if compiler.explode is not None:
        element = compiler.element or {"ir_none": "VARCHAR"}
        explode = explode_sql(compiler.explode.tokens, element)
    time_field = document.get("time_field") or _describe(event_spec["time"])
    if not isinstance(time_field, str):
        raise MappingError(f"{origin}: time_field names the time's vendor fields, as text")
    return Parser(
        name=name,
        detect=detect,
        fields=compiler.structure,
        event=event,
        credentials=credentials,
        resources=resources,
        unwrap=unwrap,
        time_field=time_field,
        explode=explode,
        kinds=declared,
    )


def _as_table_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MappingError(f"{where}: a list of tables ([[…]] in TOML)")
    return value


def _kinds(spec: Any, where: str, known: Mapping[str, str]) -> tuple[Kind, ...]:
    """The credential kinds a mapping declares: new names, never ir's or another source's."""
    declared: list[Kind] = []
    for n, table in enumerate(_as_table_list(spec, where)):
        table = _check_keys(table, KIND_KEYS, f"{where}[{n}]")
        name = table.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise MappingError(f'{where}[{n}]: name = "<kind>" (lower case, digits, _) is required')
        if name in known or name in {kind.name for kind in declared}:
            owner = known.get(name, "this mapping")
            raise MappingError(f"{where}[{n}]: kind '{name}' is already declared by {owner}")
        texts = {key: table.get(key, "") for key in ("vendor", "value", "example")}
        typed = all(isinstance(text, str) for text in texts.values())
        if not typed or not texts["vendor"] or not texts["value"]:
            raise MappingError(f"{where}[{n}]: `vendor` and `value` are text (`example` optional)")
        declared.append(Kind(name, texts["vendor"], texts["value"], texts["example"]))
    return tuple(declared)


def _time(compiler: _Compiler, spec: Any, where: str) -> str:
    """`ir_time` of the first alternative that holds a time (a blank one does not)."""
    if not isinstance(spec, list):
        return f"ir_time({compiler.value(spec, where, raw=isinstance(spec, str))})"
    parts = [
        f"ir_time({compiler.value(item, f'{where}[{n}]', raw=isinstance(item, str))})"
        for n, item in enumerate(_nonempty(spec, where))
    ]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _credential(compiler: _Compiler, spec: Any, where: str) -> CredentialRef:
    spec = _check_keys(spec, CREDENTIAL_KEYS, where)
    kind, relation = spec.get("kind"), spec.get("relation")
    _check_kind(compiler, kind, where)
    if relation not in RELATIONS:
        raise MappingError(f"{where}: relation is one of {', '.join(RELATIONS)}")
    if "value" not in spec:
        raise MappingError(f"{where}: `value` is required")
    each = parse_path(spec["each"], f"{where}.each") if "each" in spec else None
    compiler.scope = _Scope(each.tokens, "item") if each else None
    try:
        ref = CredentialRef(
            kind,
            relation,
            value=compiler.value(spec["value"], f"{where}.value", raw=True),
            when=_when(compiler, spec, where),
            parent=_parent(compiler, spec.get("parent"), f"{where}.parent"),
            via=_optional(compiler, spec, "via", where, raw=True),
            principal=_optional(compiler, spec, "principal", where),
            scopes=_scopes(compiler, spec["scopes"], f"{where}.scopes")
            if "scopes" in spec
            else None,
        )
    finally:
        compiler.scope = None
    return ref if each is None else replace(ref, each=_each(compiler, each, where))


def _when(compiler: _Compiler, spec: Mapping[str, Any], where: str) -> str:
    return compiler.condition(spec["when"], f"{where}.when") if "when" in spec else "TRUE"


def _each(compiler: _Compiler, each: JsonPath, where: str) -> str:
    """SQL for the list `each` walks (declared even when no element field is read)."""
    tree, variable, relative = compiler.locate(each.tokens)
    if None in relative:
        raise MappingError(f"{where}.each: name the list itself, without [*]")
    if _find(tree, relative) is None:  # no element field is read: only the list matters
        compiler.declare((*each.tokens, 0), f"{where}.each")
    return compiler._access(variable, relative)


def _scopes(compiler: _Compiler, spec: Any, where: str) -> str:
    """SQL for a credential's scopes: a text split at spaces and commas, or a JSON list
    of texts (a path ending in [*])."""
    if isinstance(spec, str) and spec.endswith("[*]"):
        path = parse_path(spec, where)
        if None in path.tokens[:-1]:
            raise MappingError(f"{where}: only the last step of a list of scopes is [*]")
        _, variable, relative = compiler.locate(path.tokens[:-1])
        compiler.declare((*path.tokens[:-1], 0), where, star=True)
        return compiler._access(variable, relative)
    return split_scopes(compiler.value(spec, where))


def _resource(compiler: _Compiler, spec: Any, where: str) -> Resource:
    spec = _check_keys(spec, RESOURCE_KEYS, where)
    type_ = spec.get("type")
    if not isinstance(type_, str) or not RESOURCE_TYPE.fullmatch(type_):
        raise MappingError(
            f'{where}: type = "<vendor>_<thing>" (lower case, digits, _) is required'
        )
    if "id" not in spec:
        raise MappingError(f"{where}: `id` is required")
    each = parse_path(spec["each"], f"{where}.each") if "each" in spec else None
    compiler.scope = _Scope(each.tokens, "item") if each else None
    try:
        resource = Resource(
            type_,
            compiler.value(spec["id"], f"{where}.id"),
            name=_optional(compiler, spec, "name", where),
            access=_access(compiler, spec["access"], f"{where}.access")
            if "access" in spec
            else None,
            when=_when(compiler, spec, where),
        )
    finally:
        compiler.scope = None
    return resource if each is None else replace(resource, each=_each(compiler, each, where))


def _access(compiler: _Compiler, spec: Any, where: str) -> str:
    """An access literal, or `when` + `then` (+ `else`) choosing between literals."""

    def named(value: Any, at: str) -> str:
        if value not in ACCESS:
            raise MappingError(f"{at}: access is one of {', '.join(ACCESS)}")
        return sql.literal(value)

    if not isinstance(spec, dict):
        return named(spec, where)
    _check_keys(spec, {"when", "then", "else"}, where)
    if "when" not in spec or "then" not in spec:
        raise MappingError(f"{where}: a table of `when`, `then` and optionally `else`")
    otherwise = named(spec["else"], f"{where}.else") if "else" in spec else "NULL"
    return (
        f"CASE WHEN {compiler.condition(spec['when'], f'{where}.when')}"
        f" THEN {named(spec['then'], f'{where}.then')} ELSE {otherwise} END"
    )


def _check_kind(compiler: _Compiler, kind: Any, where: str) -> None:
    if kind not in compiler.kinds:
        known = ", ".join(sorted(compiler.kinds))
        raise MappingError(
            f"{where}: kind {_shown(kind)} is not one `ir kinds` lists, nor one this mapping"
            f" declares under [[kinds]]: {known}"
        )


def _optional(
    compiler: _Compiler, spec: Mapping[str, Any], key: str, where: str, raw: bool = False
) -> str | None:
    return compiler.value(spec[key], f"{where}.{key}", raw=raw) if key in spec else None


def _under(tokens: Sequence[Token], prefix: Sequence[Token]) -> bool:
    """`tokens` reaches into the current element ([*]) of the list at `prefix`."""
    return tuple(tokens[: len(prefix) + 1]) == (*prefix, None)


def _find(tree: Any, tokens: Sequence[Token]) -> Any:
    node = tree
    for token in tokens:
        if isinstance(token, str) and isinstance(node, dict) and token in node:
            node = node[token]
        elif not isinstance(token, str) and isinstance(node, list) and node:
            node = node[0]
        else:
            return None
    return node


def _parent(compiler: _Compiler, spec: Any, where: str) -> str | None:
    if spec is None:
        return None
    options = spec if isinstance(spec, list) else [spec]
    parts = []
    for n, option in enumerate(_nonempty(options, where)):
        option = _check_keys(option, {"kind", "value"}, f"{where}[{n}]")
        _check_kind(compiler, option.get("kind"), f"{where}[{n}]")
        value = compiler.value(option.get("value"), f"{where}[{n}].value")
        parts.append(f"ir_id({sql.literal(option['kind'])}, {value})")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _detect(spec: Any, where: str) -> tuple[Callable[[Mapping[str, Any]], bool], str]:
    spec = _check_keys(spec, DETECT_KEYS, where)
    keys = [parse_path(k, f"{where}.keys") for k in _as_list(spec.get("keys", []))]
    equals_spec = spec.get("equals", {})
    if not isinstance(equals_spec, dict):
        raise MappingError(f"{where}.equals: a table of JSON path = value")
    equals = {parse_path(k, f"{where}.equals"): v for k, v in equals_spec.items()}
    if not keys and not equals:
        raise MappingError(f"{where}: give `keys` and/or `equals`, or every file would match")
    for key, paths in (("keys", keys), ("equals", list(equals))):
        if any(None in path.tokens for path in paths):
            raise MappingError(f"{where}.{key}: [*] names no single field of a sample record")
    envelope = parse_path(spec["unwrap"], f"{where}.unwrap") if "unwrap" in spec else None

    def detect(record: Mapping[str, Any]) -> bool:
        if envelope is not None and isinstance(_lookup(record, envelope), dict):
            record = _lookup(record, envelope)
        return all(_lookup(record, k) is not _MISSING for k in keys) and all(
            _lookup(record, k) == v for k, v in equals.items()
        )

    if envelope is None:
        return detect, "record"
    path = envelope.literal
    unwrap = f"CASE WHEN json_type(record, {path}) = 'OBJECT' THEN record -> {path} ELSE record END"
    return detect, unwrap


_MISSING = object()


def _lookup(record: Any, path: JsonPath) -> Any:
    node = record
    for token in path.tokens:
        keyed = isinstance(token, str) and isinstance(node, dict) and token in node
        indexed = isinstance(token, int) and isinstance(node, list) and token < len(node)
        if not (keyed or indexed):
            return _MISSING
        node = node[token]
    return node


def _describe(spec: Any) -> str:
    """The vendor fields behind `time`, for reject messages."""
    texts = [s for s in _as_list(spec) if isinstance(s, str)]
    return " / ".join(t.removeprefix("$.") for t in texts) or "time"


def load_mapping(path: Path, kinds: Mapping[str, str] | None = None) -> Parser:
    """The Parser of one mapping file (`kinds` as for `compile_mapping`)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: not valid TOML ({error})") from None
    return compile_mapping(document, str(path), kinds)
