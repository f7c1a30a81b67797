"""What a parser declares, and the SQL it compiles to.

A source is data: the JSON fields it reads (a `json_transform` structure, so each
record is parsed once), one SQL expression per event column over that struct
`r`, and the credential references it yields. `Parser.select_sql` turns that
into one SELECT that DuckDB runs over a whole batch of records; no Python runs
per record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import orjson
import pyarrow as pa

from ir import sql
from ir.credentials import Kind

Relation = Literal["used", "issued", "revoked"]
Structure = Mapping[str, Any]
ACCESS = ("read", "write", "admin", "auth")

# Event columns a parser maps; `source_event_id` may be NULL (the record's
# canonical hash stands in), `time` is required (a record without it is rejected).
EVENT_COLUMNS = (
    "source_event_id",
    "time",
    "action",
    "outcome",
    "error",
    "actor",
    "tenant",
    "client_ip",
    "user_agent",
    "country",
    "asn",
)

# The content hash of a record: the first 16 hex digits (64 bits) of the SHA-256 of its
# vendor record (envelope unwrapped) as JSON text, minified as DuckDB's json() writes it
# (no whitespace, members in the record's order, \u escapes decoded, numbers rewritten).
# Stable across DuckDB releases and computable elsewhere (Spark: left(sha2(text, 256), 16));
# it tells a re-delivery from another record under the same vendor id and names the
# latter `<id>#<content hash>`. Taken inside the mapping SELECT, never per record in Python.
CONTENT_HASH_SQL = "left(sha256(vendor_record), 16)"
# Cases made before that hashed the same text with DuckDB's hash() (ir.store keeps those
# rows as `duckdb:<hex>`); ingest and evidence checks ask for it beside the new one while
# a case holds such rows.
LEGACY_HASH_SQL = "hash(vendor_record)"

# How an action treated what it acted on (contract §9), one rule for every source: the
# action's words (CamelCase, dots, underscores, spaces and slashes split them) hold a
# verb. A changing verb over an object of access control (policy, role, key, token,
# member…) is `admin`; another changing verb `write`; a looking verb `read`; sign-ins
# and token grants `auth`. A parser passes `access` itself where the action says it
# otherwise (a sign-in names no verb). NULL: no known verb.
AUTH_WORDS = (
    "login", "logon", "logged", "signin", "sign", "authenticate", "authentication", "authorize",
    "sso", "assume",
)  # fmt: skip
READ_WORDS = (
    "get", "list", "describe", "head", "lookup", "search", "select", "scan", "query", "read",
    "view", "viewed", "watch", "download", "downloaded", "clone", "fetch", "export", "exported",
    "preview", "previewed", "access", "accessed", "decrypt", "retrieve",
    "show", "open", "opened", "print", "sync", "report", "receive", "encrypt", "verify",
)  # fmt: skip
WRITE_WORDS = (
    "create", "created", "put", "post", "patch", "delete", "deleted", "destroy", "update",
    "updated", "modify", "modified", "set", "add", "added", "remove", "removed", "attach",
    "detach", "upload", "uploaded", "insert", "write", "edit", "change", "changed", "rename",
    "renamed", "move", "moved", "restore", "restored", "replace", "import", "tag", "untag",
    "enable", "enabled", "disable", "disabled", "activate", "deactivate", "suspend",
    "unsuspend", "reset", "revoke", "revoked", "grant", "granted", "invite", "invited",
    "install", "installed", "uninstall", "uninstalled", "run", "start", "stop", "terminate",
    "reboot", "invoke", "push", "merge", "transfer", "archive", "unarchive", "lock", "unlock",
    "new", "upsert", "undelete", "regenerate", "rotate", "assign", "unassign", "share",
    "shared", "send", "sent", "apply", "approve", "register", "unregister", "upgrade",
    "publish", "expand", "expanded", "copy", "generate", "mint", "exchange", "consent",
)  # fmt: skip
ADMIN_WORDS = (
    "policy", "policies", "role", "roles", "rolebinding", "rolebindings", "clusterrole",
    "clusterrolebinding", "clusterrolebindings", "clusterroles", "permission", "permissions",
    "acl", "member", "members", "membership", "privilege", "privileges", "admin", "mfa",
    "factor", "password", "loginprofile", "login", "accesskey", "key", "keys", "token",
    "tokens", "credential", "credentials", "secret", "certificate", "certificates", "consent",
    "grant", "oauth", "trail", "logging", "serviceaccount", "serviceaccounts", "iam",
    "delegation", "assignment", "owner", "owners", "scope", "scopes",
)  # fmt: skip


def _words_sql(action: str) -> str:
    """The lower-case words of an action name: GetObject, user.lifecycle.create, get secrets."""
    split = f"regexp_replace(CAST({action} AS VARCHAR), '([a-z0-9])([A-Z])', '\\1 \\2', 'g')"
    return f"list_filter(regexp_split_to_array(lower({split}), '[^a-z0-9]+'), lambda w: w <> '')"


ACCESS_MACROS = (
    f"""CREATE OR REPLACE TEMP MACRO ir_access_of(words) AS (
        CASE
          WHEN list_has_any(words, [{sql.literals(AUTH_WORDS)}])
               AND NOT list_has_any(words, [{sql.literals(WRITE_WORDS)}]) THEN 'auth'
          WHEN list_has_any(words, [{sql.literals(WRITE_WORDS)}])
               AND list_has_any(words, [{sql.literals(ADMIN_WORDS)}]) THEN 'admin'
          WHEN list_has_any(words, [{sql.literals(WRITE_WORDS)}]) THEN 'write'
          WHEN list_has_any(words, [{sql.literals(READ_WORDS)}]) THEN 'read'
        END)""",
    f"CREATE OR REPLACE TEMP MACRO ir_access(action) AS ir_access_of({_words_sql('action')})",
)

# SQL macros every parser may use; `register_sql` creates them on a connection.
SQL_MACROS = (
    # '' and whitespace-only are "not logged", never a value.
    "CREATE OR REPLACE TEMP MACRO ir_blank(v) AS nullif(trim(CAST(v AS VARCHAR)), '')",
    "CREATE OR REPLACE TEMP MACRO ir_id(kind, v) AS "
    "CASE WHEN ir_blank(v) IS NOT NULL THEN kind || ':' || CAST(v AS VARCHAR) END",
    # Vendors write time as ISO 8601 (any offset or none = UTC, up to 9 digits),
    # epoch seconds / ms / µs, compact ISO (20131102T010628Z), Salesforce
    # yyyyMMddHHmmss.SSS, or CloudTrail's 'Oct 2, 2019 11:12:29 PM'.
    """CREATE OR REPLACE TEMP MACRO ir_time(v) AS (
        CASE
          WHEN ir_blank(v) IS NULL THEN NULL
          WHEN regexp_full_match(trim(CAST(v AS VARCHAR)), '\\d{9,10}(\\.\\d+)?')
            THEN to_timestamp(CAST(trim(CAST(v AS VARCHAR)) AS DOUBLE))
          WHEN regexp_full_match(trim(CAST(v AS VARCHAR)), '\\d{12,13}')
            THEN make_timestamptz(CAST(trim(CAST(v AS VARCHAR)) AS BIGINT) * 1000)
          WHEN regexp_full_match(trim(CAST(v AS VARCHAR)), '\\d{15,16}')
            THEN make_timestamptz(CAST(trim(CAST(v AS VARCHAR)) AS BIGINT))
          ELSE coalesce(
            try_cast(trim(CAST(v AS VARCHAR)) AS TIMESTAMPTZ),
            CAST(try_strptime(trim(CAST(v AS VARCHAR)),
              ['%Y%m%dT%H%M%SZ', '%Y%m%d%H%M%S.%g', '%Y%m%d%H%M%S', '%b %-d, %Y %I:%M:%S %p'])
              AS TIMESTAMPTZ))
        END)""",
    *ACCESS_MACROS,
    # A member of a JSON object whatever the case of its name, for fields that pipelines
    # re-case (`callerIP`, `principalid`): `name` in lower case, `spelled` the member as the
    # parser's fields read it. Only a record without that spelling is searched, and only one
    # whose text holds the name in some case is parsed again.
    """CREATE OR REPLACE TEMP MACRO ir_member(record, path, name, spelled) AS CASE
        WHEN spelled IS NULL AND regexp_matches(CAST(record AS VARCHAR), '(?i)"' || name || '"')
        THEN json_extract(record, path) ->> ('$."' || list_filter(
            json_keys(json_extract(record, path)), lambda k: lower(k) = name)[1] || '"') END""",
)


def register_sql(connection: duckdb.DuckDBPyConnection) -> None:
    """The macros and the one function parser SQL calls, on this connection (safe to repeat):
    ingest and evidence checks run parser SQL; nothing else needs them."""
    for macro in SQL_MACROS:
        connection.execute(macro)
    known = connection.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'ir_canonical_sha256'"
    ).fetchall()
    if not known[0][0]:
        connection.create_function(  # type: ignore[call-overload]  # the stubs know no arrow UDFs
            "ir_canonical_sha256", _canonical_sha256, ["VARCHAR"], "VARCHAR", type="arrow"
        )


def _canonical_sha256(records: pa.Array) -> pa.Array:
    """SHA-256 of canonical JSON (sorted keys, no whitespace): ids for records without one.

    A Python UDF, but it only runs for records whose vendor gives no id.
    """
    return pa.array(
        [None if text is None else _canonical_digest(text) for text in records.to_pylist()],
        type=pa.string(),
    )


def _canonical_digest(text: str) -> str:
    """A record orjson cannot round-trip (nested deeper than it recurses, a number beyond
    a double) is hashed as DuckDB minified it: still one stable id for the same record."""
    try:
        canonical = orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONDecodeError, TypeError):
        canonical = text.encode()
    return hashlib.sha256(canonical).hexdigest()


def _listed(present: str, struct: str, each: str | None) -> str:
    """A SQL list of zero or more structs for one record: one when `present` holds, or one
    per element `item` of the list `each` for which it holds."""
    if each is None:
        return f"CASE WHEN {present} THEN [{struct}] ELSE [] END"
    return (
        f"list_transform(list_filter(coalesce({each}, []), lambda item: {present}),"
        f" lambda item: {struct})"
    )


@dataclass(frozen=True)
class CredentialRef:
    """One credential reference a record may carry.

    Every string is a SQL expression over the transformed record `r` (and over
    `item` when `each` names a list to walk, e.g. Okta targets).
    """

    kind: str
    relation: Relation
    value: str
    when: str = "TRUE"
    parent: str | None = None  # SQL giving the parent's canonical id
    via: str | None = None
    principal: str | None = None
    each: str | None = None
    # SQL giving when an issued credential stops working, where the vendor logs it
    # (CloudTrail's `responseElements.credentials.expiration`); a TIMESTAMPTZ.
    expires_at: str | None = None
    # SQL giving the scopes / permissions the credential carried as logged (GitHub
    # `token_scopes`, Graph `scopes` / `roles`, OAuth grant scopes, an assumed role's ARN):
    # a list of text (VARCHAR[]), NULL or empty when the record says none.
    scopes: str | None = None

    def struct_sql(self) -> str:
        fields = {
            "credential": f"{sql.literal(self.kind + ':')} || CAST(({self.value}) AS VARCHAR)",
            "kind": sql.literal(self.kind),
            "relation": sql.literal(self.relation),
            "parent": self.parent or "NULL",
            "via": self.via or "NULL",
            "principal": self.principal or "NULL",
        }
        body = ", ".join(f"'{k}': CAST(({v}) AS VARCHAR)" for k, v in fields.items())
        return (
            "{" + body + f", 'expires_at': CAST(({self.expires_at or 'NULL'}) AS TIMESTAMPTZ),"
            f" 'scopes': CAST(({self.scopes or 'NULL'}) AS VARCHAR[])}}"
        )

    def present_sql(self) -> str:
        return f"(ir_blank({self.value}) IS NOT NULL AND ({self.when}))"

    def list_sql(self) -> str:
        """A SQL list of zero or more ref structs for one record."""
        return _listed(self.present_sql(), self.struct_sql(), self.each)


RESOURCE_STRUCT = "STRUCT(type VARCHAR, id VARCHAR, name VARCHAR, access VARCHAR)"


def split_scopes(text: str) -> str:
    """SQL: the scopes in a text as vendors log them (space- or comma-separated) as a list;
    NULL when not logged."""
    return (
        f"CASE WHEN ir_blank({text}) IS NOT NULL THEN list_filter(regexp_split_to_array("
        f"trim(CAST({text} AS VARCHAR)), '[\\s,]+'), lambda s: s <> '') END"
    )


@dataclass(frozen=True)
class Resource:
    """One object a record says its event acted on (contract §9: `event_resources`).

    `type` is a name, `<vendor>_<thing>` (`aws_s3_object`, `github_repo`, `okta_app`), or,
    when `types` lists the names it can give, a SQL expression choosing one (Okta's
    target types). Every other string is a SQL expression over the transformed record
    `r` (and `item` when `each` names a list to walk). `access` gives read | write |
    admin | auth, or NULL for the shared rule (ACCESS_MACROS) over the event's action,
    which ingest applies once per distinct action of a batch (ir.ingest) rather than
    once per resource.
    """

    type: str
    id: str
    name: str | None = None
    access: str | None = None
    when: str = "TRUE"
    each: str | None = None
    types: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The types this declaration can give."""
        return self.types or (self.type,)

    def struct_sql(self) -> str:
        fields = {
            "type": self.type if self.types else sql.literal(self.type),
            "id": self.id,
            "name": self.name or "NULL",
            "access": self.access or "NULL",
        }
        return "{" + ", ".join(f"'{k}': CAST(({v}) AS VARCHAR)" for k, v in fields.items()) + "}"

    def present_sql(self) -> str:
        present = f"ir_blank({self.id}) IS NOT NULL AND ({self.when})"
        return f"({present} AND ({self.type}) IS NOT NULL)" if self.types else f"({present})"

    def list_sql(self) -> str:
        """A SQL list of zero or more resource structs for one record."""
        return _listed(self.present_sql(), self.struct_sql(), self.each)


def resources_sql(resources: Sequence[Resource]) -> str:
    """SQL: the list of resource structs of one record. Those without `each` go in one list
    (a struct or NULL each, NULLs dropped): a record names a few of the many a parser
    declares, and one list costs less than a list per declaration."""
    if not resources:
        return f"CAST([] AS {RESOURCE_STRUCT}[])"
    single = [r for r in resources if r.each is None]
    lists = [r.list_sql() for r in resources if r.each is not None]
    if single:
        cases = ", ".join(f"CASE WHEN {r.present_sql()} THEN {r.struct_sql()} END" for r in single)
        lists.insert(0, f"list_filter([{cases}], lambda x: x IS NOT NULL)")
    return lists[0] if len(lists) == 1 else f"flatten([{', '.join(lists)}])"


@dataclass(frozen=True)
class Parser:
    """A log source: its name (= `--source` = `events.source`), how to spot it, how to map it."""

    name: str
    detect: Callable[[Mapping[str, Any]], bool]
    fields: Structure
    event: Mapping[str, str]
    credentials: tuple[CredentialRef, ...] = ()
    # The objects its events act on (contract §9), in the same SELECT as events and refs.
    resources: tuple[Resource, ...] = ()
    # SQL over the `record` JSON giving the vendor record, for per-record
    # envelopes (an API wrapper around the real event); NULL when the envelope
    # holds no valid record. Content hashes are taken over the vendor record,
    # minified, so a re-delivery in another layout or envelope is a duplicate:
    # extract it with `->` or json(), which minify, never as raw text.
    unwrap: str = "record"
    # A top-level key whose value — a JSON string or object — is the vendor record
    # (CloudTrail Event history's `CloudTrailEvent`, the Purview export's
    # `AuditData`). Read in the same parse as `fields`: records without it cost
    # nothing extra, records with it are parsed once more.
    envelope: str | None = None
    # Names of the vendor fields behind `time`, for reject messages.
    time_field: str = "time"
    # SQL giving a LIST when one record holds several events (a Google activity's
    # `events`): each element is one event, bound as `element` in the event and
    # credential expressions. The n-th event (n >= 2) is `<id>#<n>`; an empty or
    # NULL list still yields one event (or one reject) with `element` NULL.
    explode: str | None = None
    # True when a window in the mapping reorders rows (e.g. one ordered by `position`,
    # the record's place in its batch): the mapped rows are sorted back into evidence order.
    positional: bool = False
    # Credential kinds this source adds to ir's (ir.credentials.KINDS): `ir kinds` lists them.
    kinds: tuple[Kind, ...] = ()

    def __post_init__(self) -> None:
        missing = {"source_event_id", "time", "outcome"} - set(self.event)
        unknown = set(self.event) - set(EVENT_COLUMNS)
        if missing or unknown:
            raise ValueError(
                f"parser {self.name}: missing {missing or '-'}, unknown {unknown or '-'}"
            )

    @property
    def resource_types(self) -> tuple[str, ...]:
        """The resource types this source emits, each once (`ir kinds`)."""
        return tuple(dict.fromkeys(name for resource in self.resources for name in resource.names))

    def select_sql(self, records: str, legacy_hash: bool = False, minified: bool = True) -> str:
        """SELECT mapping `records(file, position, record, reason)` to event rows, refs and
        resources.

        `record` is minified JSON (ir.formats), so its hash is the content hash;
        `position` is the record's place in its batch (evidence order), kept on its rows.
        `legacy_hash`: fill `legacy_hash` with the hash older cases kept (LEGACY_HASH_SQL).
        `minified=False`: records as the file holds them, minified here only when they are
        the vendor record (no envelope): an enveloped record is not written twice.
        """
        structure = dict(self.fields)
        if self.envelope:  # as text: a string's content, or an object's own JSON, unescaped once
            structure[self.envelope] = "VARCHAR"
        transform = sql.structure(structure)
        columns = ",\n  ".join(self._column_sql(c) for c in EVENT_COLUMNS)
        refs = ", ".join(ref.list_sql() for ref in self.credentials)
        resources = resources_sql(self.resources)
        wrapped = (
            f"ir_first_r.{sql.identifier(self.envelope)}" if self.envelope else "NULL::VARCHAR"
        )
        legacy = LEGACY_HASH_SQL if legacy_hash else "NULL::UBIGINT"
        parsed = f"""
  SELECT *, {CONTENT_HASH_SQL} AS content_hash, {legacy} AS legacy_hash,
         CASE WHEN ir_wrapped IS NULL THEN ir_first_r ELSE json_transform(vendor_record, {transform}) END AS r
  FROM (
    SELECT *, CASE WHEN ir_wrapped IS NULL THEN {"ir_unwrapped" if minified else "json(ir_unwrapped)"}
                   WHEN json_valid(ir_wrapped) THEN json(ir_wrapped) END AS vendor_record
    FROM (
      SELECT *, {wrapped} AS ir_wrapped
      FROM (SELECT *, json_transform(ir_unwrapped, {transform}) AS ir_first_r
            FROM (SELECT *, {self.unwrap} AS ir_unwrapped FROM ({records})))))"""
        # The reason is worked out only for records that failed: a second look at
        # the JSON costs nothing on the good ones.
        return f"""
SELECT file, position, part_no, content_hash, legacy_hash,
  coalesce(reason, CASE
    WHEN record IS NULL THEN 'not valid JSON'
    WHEN vendor_record IS NULL THEN 'the record inside its envelope is not valid JSON'
    WHEN time IS NULL AND json_type(vendor_record) <> 'OBJECT'
      THEN 'not a JSON object (' || lower(json_type(vendor_record)) || ')'
  END) AS invalid_reason,
  {", ".join(EVENT_COLUMNS)}, refs, resources
FROM (
SELECT file, position, part_no, content_hash, legacy_hash, record, reason, vendor_record,
  {columns},
  flatten([{refs}]) AS refs,
  {resources} AS resources
FROM ({self._parts_sql(parsed)}))"""

    def _parts_sql(self, parsed: str) -> str:
        """One row per event: the record itself, or each element of `explode`."""
        if self.explode is None:
            return f"SELECT *, 1 AS part_no FROM ({parsed})"
        return f"""
  SELECT *, unnest(ir_parts) AS element, generate_subscripts(ir_parts, 1) AS part_no
  FROM (SELECT *, CASE WHEN len(ir_listed) > 0 THEN ir_listed ELSE [NULL] END AS ir_parts
        FROM (SELECT *, {self.explode} AS ir_listed FROM ({parsed})))"""

    def _column_sql(self, column: str) -> str:
        expression = self.event.get(column, "NULL")
        if column == "time":
            return f"CAST(({expression}) AS TIMESTAMPTZ) AS time"
        if column == "source_event_id":
            # No vendor id: the record's canonical hash, stable across re-exports (contract §2).
            # The n-th event of an exploded record (n >= 2) is `<id>#<n>` (contract §2).
            return (
                f"CASE WHEN ir_blank({expression}) IS NOT NULL THEN CAST(({expression}) AS VARCHAR)"
                " WHEN record IS NOT NULL THEN 'sha256:' || ir_canonical_sha256(vendor_record)"
                " END || CASE WHEN part_no > 1 THEN '#' || part_no ELSE '' END AS source_event_id"
            )
        return f"CAST(({expression}) AS VARCHAR) AS {column}"


def any_case(path: Sequence[str], name: str) -> str:
    """SQL for the member `name` of the object at `path`: as spelled in the parser's fields
    (struct `r`), else in whatever case the record spells it (a pipeline's `callerIP`).
    Blank is missing, as `ir_blank` says."""
    spelled = "r." + ".".join(sql.identifier(part) for part in (*path, name))
    path_text = sql.json_path_literal(path)
    anyhow = f"ir_member(vendor_record, {path_text}, {sql.literal(name.lower())}, {spelled})"
    return f"coalesce(ir_blank({spelled}), ir_blank({anyhow}))"


def explode_sql(path: Sequence[sql.PathToken], element: Structure) -> str:
    """The list at `path` of the vendor record, each element read as `element`; one object
    there counts as a one-element list (Google's Elastic export writes one event so)."""
    at = sql.json_path_literal(path)
    return (
        f"CASE json_type(vendor_record, {at})"
        f" WHEN 'ARRAY' THEN json_transform(vendor_record -> {at}, {sql.structure([element])})"
        f" WHEN 'OBJECT' THEN [json_transform(vendor_record -> {at}, {sql.structure(element)})] END"
    )
