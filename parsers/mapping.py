"""Log sources defined without Python: a TOML mapping file compiled into a `Parser`.

A responder who meets a log `ir` does not know writes a mapping: how to
recognise a record, the JSON path of each event column, the credential
references a record carries. `load` compiles it into the same declarative
`Parser` a module writes (the `json_transform` structure is derived from the
paths), so the same one-SELECT-per-batch SQL runs. `ir ingest --mappings DIR`,
`$IR_MAPPINGS` (folders separated by the OS path separator) or
`~/.config/ir/mappings/` (under `$XDG_CONFIG_HOME` when set) hold the files;
their sources are detected after the built-in ones.

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
    kind = "okta_session"                  # a kind listed by `ir kinds`
    relation = "used"                      # used | issued | revoked
    value = "$.session.id"
    # when, parent = { kind, value }, via, principal, each = "$.targets" are optional

A value is a JSON path (`$.a.b`, `$.a["dotted.key"]`, `$.list[0]` its first
element, `$.list[*].x` the current element inside `each` / `explode`), any other
string as a literal, a list (the first that is logged), or a table: `path` with
optional `null_if`, `map` + `default`, `regex` (first group), `left` (first n
characters); `join` (+ `sep`); `const`; `when` + `then` + `else`. A condition is
a table with `path` (or `value`) and one test (`equals`, `in`, `not_in`,
`present`, `starts_with`, `ends_with`, `differs_from`; `ignore_case`), or
`all` / `any` (lists) / `not`; a list of conditions means all of them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import parsers
from ir.credentials import KIND_NAMES
from parsers.base import EVENT_COLUMNS, CredentialRef, Parser

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 ships no TOML reader
    import tomli as tomllib

TOP_LEVEL = {"source", "detect", "event", "credentials", "explode", "time_field"}
DETECT_KEYS = {"keys", "equals", "unwrap"}
CREDENTIAL_KEYS = {"kind", "relation", "value", "when", "parent", "via", "principal", "each"}
RELATIONS = ("used", "issued", "revoked")
TESTS = ("equals", "in", "not_in", "present", "starts_with", "ends_with", "differs_from")
VALUE_FORMS = ("path", "join", "const", "when")
VALUE_OPTIONS = {"null_if", "map", "default", "regex", "left", "ignore_case", "sep", "then", "else"}
USER_CONFIG = Path("ir") / "mappings"
_TOKEN = re.compile(r'\.([A-Za-z_@][\w@$-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\*|\d+)\]')


class MappingError(ValueError):
    """A mapping file that cannot be compiled; the message names the file and the key."""


Token = str | int | None  # a key, an index into a list, None = the current element ([*])


@dataclass(frozen=True)
class JsonPath:
    text: str
    tokens: tuple[Token, ...]

    @property
    def duckdb(self) -> str:
        """The path in DuckDB's JSON path syntax (for `->`, json_type)."""
        parts = []
        for token in self.tokens:
            if isinstance(token, int):
                parts.append(f"[{token}]")
            elif token is None:
                parts.append("[*]")
            else:
                parts.append('."' + token.replace('"', '\\"') + '"')
        return "$" + "".join(parts)


def parse_path(text: str, where: str) -> JsonPath:
    if not text.startswith("$"):
        raise MappingError(f"{where}: '{text}' is not a JSON path (start it with $)")
    tokens: list[Token] = []
    position = 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise MappingError(
                f"{where}: cannot read the JSON path '{text}' at '{text[position:]}'"
            )
        key, quoted, index = match.groups()
        if key is not None:
            tokens.append(key)
        elif quoted is not None:
            tokens.append(quoted.replace('\\"', '"'))
        else:
            tokens.append(None if index == "*" else int(index))
        position = match.end()
    if not tokens:
        raise MappingError(f"{where}: '{text}' names the whole record, not a field")
    return JsonPath(text, tuple(tokens))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class _Scope:
    """Where a path's current-element (`[*]`) refers: the `each` list or the exploded one."""

    prefix: tuple[Token, ...]
    variable: str


@dataclass
class _Compiler:
    origin: str
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
        sql = variable
        for token in tokens:
            sql += f"[{token + 1}]" if isinstance(token, int) else f".{_ident(str(token))}"
        return sql

    # --- values ---------------------------------------------------------------------------

    def value(self, spec: Any, where: str, raw: bool = False) -> str:
        """SQL for a value spec: VARCHAR, NULL when not logged."""
        if isinstance(spec, int | float):  # bool is an int too
            return _literal(spec)
        if isinstance(spec, str):
            if spec.startswith("$"):
                sql = self.path_sql(parse_path(spec, where), where)
                return sql if raw else f"ir_blank({sql})"
            return _literal(spec)
        if isinstance(spec, list):
            if not spec:
                raise MappingError(f"{where}: an empty list names no value")
            parts = [self.value(item, f"{where}[{n}]") for n, item in enumerate(spec)]
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
            return _literal(spec["const"])
        if form == "join":
            parts = [self.value(item, f"{where}.join[{n}]") for n, item in enumerate(spec["join"])]
            return f" || {_literal(spec.get('sep', ''))} || ".join(parts)
        if form == "when":
            then = self.value(spec.get("then"), f"{where}.then") if "then" in spec else "NULL"
            otherwise = self.value(spec["else"], f"{where}.else") if "else" in spec else "NULL"
            return f"CASE WHEN {self.condition(spec['when'], f'{where}.when')} THEN {then} ELSE {otherwise} END"
        return self._refine(self.value(spec["path"], f"{where}.path"), spec, where)

    def _refine(self, sql: str, spec: Mapping[str, Any], where: str) -> str:
        if "null_if" in spec:
            blanks = ", ".join(_literal(v) for v in _as_list(spec["null_if"]))
            sql = f"CASE WHEN {sql} IN ({blanks}) THEN NULL ELSE {sql} END"
        if "regex" in spec:
            sql = f"nullif(regexp_extract({sql}, {_literal(spec['regex'])}, 1), '')"
        if "left" in spec:
            if not isinstance(spec["left"], int) or spec["left"] < 1:
                raise MappingError(f"{where}.left: a positive number of characters")
            sql = f"left({sql}, {spec['left']})"
        if "map" in spec:
            if not isinstance(spec["map"], dict):
                raise MappingError(f"{where}.map: a table of logged value = mapped value")
            fold = "upper" if spec.get("ignore_case") else ""
            cases = " ".join(
                f"WHEN {_literal(k.upper() if fold else k)} THEN {_literal(v)}"
                for k, v in spec["map"].items()
            )
            default = (
                self.value(spec["default"], f"{where}.default") if "default" in spec else "NULL"
            )
            sql = f"CASE {fold}({sql}) {cases} ELSE {default} END"
        elif "default" in spec:
            sql = f"coalesce({sql}, {self.value(spec['default'], f'{where}.default')})"
        return sql

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
                items = _as_list(spec[combinator])
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
            return _literal(str(value).lower() if fold else value)

        if test == "present":
            return f"({subject} IS {'NOT ' if operand else ''}NULL)"
        if test == "differs_from":
            other = self.value(operand, f"{where}.differs_from")
            return f"({subject} IS DISTINCT FROM {f'lower({other})' if fold else other})"
        if test == "equals":
            return f"({subject} = {literal(operand)})"
        if test in ("in", "not_in"):
            listed = ", ".join(literal(v) for v in _as_list(operand))
            if test == "in":
                return f"({subject} IN ({listed}))"
            return f"coalesce({subject} NOT IN ({listed}), TRUE)"
        function = test  # starts_with | ends_with
        return (
            "("
            + " OR ".join(f"{function}({subject}, {literal(v)})" for v in _as_list(operand))
            + ")"
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_keys(table: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(table, dict):
        raise MappingError(f"{where}: expected a table")
    unknown = set(table) - allowed
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(allowed))}"
        )
    return table


def compile_mapping(document: Mapping[str, Any], origin: str) -> Parser:
    """The Parser a mapping document describes; `origin` names it in errors."""
    _check_keys(document, TOP_LEVEL, origin)
    name = document.get("source")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise MappingError(f'{origin}: source = "<name>" (lower case, digits, _) is required')
    compiler = _Compiler(origin)
    if "explode" in document:
        compiler.explode = parse_path(document["explode"], f"{origin}: explode")
        if None in compiler.explode.tokens:
            raise MappingError(f"{origin}: explode names the list itself, without [*]")
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
        for n, spec in enumerate(document.get("credentials", []))
    )
    detect, unwrap = _detect(document.get("detect"), f"{origin}: [detect]")
    explode = None
    if compiler.explode is not None:
        explode = _explode_sql(compiler.explode, compiler.element or {"ir_none": "VARCHAR"})
    return Parser(
        name=name,
        detect=detect,
        fields=compiler.structure,
        event=event,
        credentials=credentials,
        unwrap=unwrap,
        time_field=str(document.get("time_field") or _describe(event_spec["time"])),
        explode=explode,
    )


def _time(compiler: _Compiler, spec: Any, where: str) -> str:
    """`ir_time` of the first alternative that holds a time (a blank one does not)."""
    if not isinstance(spec, list):
        return f"ir_time({compiler.value(spec, where, raw=isinstance(spec, str))})"
    parts = [
        f"ir_time({compiler.value(item, f'{where}[{n}]', raw=isinstance(item, str))})"
        for n, item in enumerate(spec)
    ]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _credential(compiler: _Compiler, spec: Any, where: str) -> CredentialRef:
    spec = _check_keys(spec, CREDENTIAL_KEYS, where)
    kind, relation = spec.get("kind"), spec.get("relation")
    if kind not in KIND_NAMES:
        known = ", ".join(sorted(KIND_NAMES))
        raise MappingError(f"{where}: kind '{kind}' is not one `ir kinds` lists: {known}")
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
            when=compiler.condition(spec["when"], f"{where}.when") if "when" in spec else "TRUE",
            parent=_parent(compiler, spec.get("parent"), f"{where}.parent"),
            via=_optional(compiler, spec, "via", where, raw=True),
            principal=_optional(compiler, spec, "principal", where),
        )
    finally:
        compiler.scope = None
    if each is None:
        return ref
    tree, variable, relative = compiler.locate(each.tokens)
    if None in relative:
        raise MappingError(f"{where}.each: name the list itself, without [*]")
    if _find(tree, relative) is None:  # no element field is read: only the list matters
        compiler.declare((*each.tokens, 0), f"{where}.each")
    return replace(ref, each=compiler._access(variable, relative))


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
    for n, option in enumerate(options):
        option = _check_keys(option, {"kind", "value"}, f"{where}[{n}]")
        if option.get("kind") not in KIND_NAMES:
            raise MappingError(f"{where}[{n}]: kind '{option.get('kind')}' is not a known kind")
        value = compiler.value(option.get("value"), f"{where}[{n}].value")
        parts.append(f"ir_id({_literal(option['kind'])}, {value})")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _explode_sql(path: JsonPath, element: Mapping[str, Any]) -> str:
    """The list at `path` (one object there counts as a one-element list), typed."""
    import orjson

    one = orjson.dumps(element).decode().replace("'", "''")
    json_path = _literal(path.duckdb)
    return (
        f"CASE json_type(vendor_record, {json_path})"
        f" WHEN 'ARRAY' THEN json_transform(vendor_record -> {json_path}, '[{one}]')"
        f" WHEN 'OBJECT' THEN [json_transform(vendor_record -> {json_path}, '{one}')] END"
    )


def _detect(spec: Any, where: str) -> tuple[Callable[[Mapping[str, Any]], bool], str]:
    spec = _check_keys(spec, DETECT_KEYS, where)
    keys = [parse_path(k, f"{where}.keys") for k in _as_list(spec.get("keys", []))]
    equals = {parse_path(k, f"{where}.equals"): v for k, v in dict(spec.get("equals", {})).items()}
    if not keys and not equals:
        raise MappingError(f"{where}: give `keys` and/or `equals`, or every file would match")
    envelope = parse_path(spec["unwrap"], f"{where}.unwrap") if "unwrap" in spec else None

    def detect(record: Mapping[str, Any]) -> bool:
        if envelope is not None and isinstance(_lookup(record, envelope), dict):
            record = _lookup(record, envelope)
        return all(_lookup(record, k) is not _MISSING for k in keys) and all(
            _lookup(record, k) == v for k, v in equals.items()
        )

    if envelope is None:
        return detect, "record"
    json_path = _literal(envelope.duckdb)
    unwrap = f"CASE WHEN json_type(record, {json_path}) = 'OBJECT' THEN record -> {json_path} ELSE record END"
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


# --- files and folders ---------------------------------------------------------------------


def load(path: Path) -> Parser:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: not valid TOML ({error})") from None
    return compile_mapping(document, str(path))


def user_dirs() -> list[Path]:
    """`$IR_MAPPINGS` (set: only it; empty: none), else the user config folder when it exists."""
    configured = os.environ.get("IR_MAPPINGS")
    if configured is not None:
        return [Path(p) for p in configured.split(os.pathsep) if p]
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    folder = base / USER_CONFIG
    return [folder] if folder.is_dir() else []


def load_dirs(dirs: Iterable[Path]) -> tuple[Parser, ...]:
    """Every `*.toml` of the folders, in name order; a name may be used once."""
    loaded: dict[str, tuple[Parser, Path]] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise MappingError(f"{folder}: no such mappings folder")
        for path in sorted(folder.glob("*.toml")):
            parser = load(path)
            if parser.name in parsers.SOURCES:
                raise MappingError(
                    f"{path}: source '{parser.name}' is built in; give the mapping another name"
                )
            if parser.name in loaded:
                raise MappingError(
                    f"{path}: source '{parser.name}' is also defined in {loaded[parser.name][1]}"
                )
            loaded[parser.name] = (parser, path)
    return tuple(parser for parser, _ in loaded.values())


def registry(mappings: Iterable[str | Path] = ()) -> tuple[Parser, ...]:
    """Every source for one ingest, in detection order: built-ins, then mapped ones
    (the given folders, then the user's)."""
    folders = [Path(p) for p in mappings] + user_dirs()
    return parsers.all_parsers() + load_dirs(dict.fromkeys(folders))
