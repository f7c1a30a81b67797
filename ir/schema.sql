-- The case file. One DuckDB database per incident; every table is append-only
-- evidence or derived from it. Schema version lives in case_meta; ir/store.py
-- migrates older files forward and refuses newer ones. A table with an `event_key` or
-- a `file_id` column holds rows of those events or evidence files: `ir forget` and
-- `ir ingest --force` remove them with the file (ir/forget.py finds such tables by
-- their columns, so a new per-event or per-file table needs nothing more).

CREATE TABLE IF NOT EXISTS case_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- One row per ingested file. Evidence is referenced, not copied: the SHA-256
-- lets `ir verify-evidence` prove the file is unchanged, and (file_id,
-- record_no) in events points at the exact record inside it.
CREATE TABLE IF NOT EXISTS evidence_files (
    file_id     INTEGER PRIMARY KEY,
    path        VARCHAR NOT NULL,       -- absolute path at ingest time
    sha256      VARCHAR NOT NULL UNIQUE,
    bytes       BIGINT NOT NULL,
    source      VARCHAR NOT NULL,       -- parser name (contract §2)
    layout      VARCHAR NOT NULL,       -- how records sit: objects | array | wrapper:<key> | csv
    records     BIGINT NOT NULL,        -- records read = loaded + duplicates + rejected
    loaded      BIGINT NOT NULL,
    duplicates  BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    -- `ir collect` (contract §8): the request that fetched the file (URL without
    -- secrets, or s3://bucket/key), when, and the HTTP status; NULL for files given.
    request     VARCHAR,
    fetched_at  TIMESTAMPTZ,
    http_status INTEGER
);

-- One row per vendor record (or per event of a multi-event record).
-- (source, source_event_id) is unique; ingest enforces it with an anti-join
-- rather than an index so bulk loads stay fast. A vendor id that repeats with
-- the same content is a re-delivery (a duplicate, not loaded); with different
-- content it is a different record: `<id>#<content hash>`, e.g.
-- `3f5a…b8c0#9e41d0c1b2a3f4e5`.
CREATE TABLE IF NOT EXISTS events (
    event_key       BIGINT NOT NULL,    -- case-local surrogate key, joins credential_refs
    source          VARCHAR NOT NULL,
    source_event_id VARCHAR NOT NULL,
    time            TIMESTAMPTZ NOT NULL,
    action          VARCHAR,
    outcome         VARCHAR NOT NULL,   -- success | failure | unknown
    error           VARCHAR,            -- vendor error code / reason when it failed
    actor           VARCHAR,            -- who acted, as the vendor names them
    tenant          VARCHAR,            -- account / org / tenant the event belongs to
    client_ip       VARCHAR,
    user_agent      VARCHAR,
    country         VARCHAR,            -- as logged by the vendor, never looked up
    asn             VARCHAR,
    file_id         INTEGER NOT NULL,   -- evidence pointer: evidence_files.file_id
    record_no       BIGINT NOT NULL,    -- 1-based record position inside that file
    -- The first 16 hex digits (64 bits) of the SHA-256 of the vendor record (envelope
    -- unwrapped) as JSON text minified by DuckDB's json(): stable across releases and
    -- engines (Spark: left(sha2(text, 256), 16)). Rows loaded before this hash keep
    -- DuckDB's hash() as `duckdb:<hex>` (ir/store.py, STABLE_CONTENT_HASH).
    content_hash    VARCHAR NOT NULL
);

-- Per source, tenant, evidence file and hour: how many events, the first and the last.
-- What the case can see (ir/coverage.py: spans, gaps, blind credentials) is read from
-- here rather than from every event, so a trace's coverage costs a few thousand rows at
-- any case size. Ingest adds a batch's rows with its events (one GROUP BY over the new
-- events); schema 3 built it from the events of older cases.
CREATE TABLE IF NOT EXISTS event_hours (
    source      VARCHAR NOT NULL,
    tenant      VARCHAR,
    file_id     INTEGER NOT NULL,
    hour        TIMESTAMPTZ NOT NULL,    -- the UTC hour the events fall in
    events      BIGINT NOT NULL,
    first_event TIMESTAMPTZ NOT NULL,
    last_event  TIMESTAMPTZ NOT NULL
);

-- The gap rule's answer per source and tenant (ir/coverage.py `refresh`, run after an
-- ingest): `gap` spans in which events were due, the shortest `after` / `before` spans
-- past the logs' ends in which they were, and the `covered` span, first to last event.
-- case_meta `coverage_spans_of` names the last evidence file it has seen; a case ingested
-- since is read by working the rule out again.
CREATE TABLE IF NOT EXISTS coverage_spans (
    source VARCHAR NOT NULL,
    tenant VARCHAR,
    span   VARCHAR NOT NULL,            -- gap | after | before | covered
    start  TIMESTAMPTZ NOT NULL,
    stop   TIMESTAMPTZ NOT NULL,
    usual  BIGINT                       -- gap: the median events of its comparison windows
);

-- Every credential an event mentions. The lineage graph is the `issued` rows:
-- parent -> credential, via the action that minted it.
CREATE TABLE IF NOT EXISTS credential_refs (
    event_key  BIGINT NOT NULL,
    credential VARCHAR NOT NULL,        -- canonical `kind:value` (contract §1)
    kind       VARCHAR NOT NULL,
    relation   VARCHAR NOT NULL,        -- used | issued | revoked
    parent     VARCHAR,                 -- for issued: the credential that minted it
    via        VARCHAR,                 -- for issued: how (AssumeRole, CreateAccessKey, ...)
    principal  VARCHAR,                 -- whom the credential belongs to, as logged
    expires_at TIMESTAMPTZ,             -- for issued: when it stops working, where logged
    scopes     VARCHAR[]                -- what it could do, as logged (token scopes, roles…)
);

-- What an event acted on (impact, contract §9), from each parser's `resources`
-- (parsers/base.py Resource), mapped in the same pass as its events and refs.
CREATE TABLE IF NOT EXISTS event_resources (
    event_key BIGINT NOT NULL,
    type      VARCHAR NOT NULL,         -- <vendor>_<thing>: aws_s3_object, github_repo, …
    id        VARCHAR NOT NULL,
    name      VARCHAR,
    access    VARCHAR                   -- read | write | admin | auth
);

-- Records that could not be mapped. Nothing is dropped silently.
CREATE TABLE IF NOT EXISTS rejects (
    file_id   INTEGER NOT NULL,
    record_no BIGINT NOT NULL,
    source    VARCHAR,
    reason    VARCHAR NOT NULL
);

-- Files ingest read but could not load: no source matched, or DuckDB could not read them
-- (`source` says what they were read as, when a source matched). Kept so `ir stats` and
-- `ir rejects` name them after the terminal scrolled; a later ingest that loads one (with
-- --source or --mappings) or cannot again replaces its row, `ir forget` drops it.
CREATE TABLE IF NOT EXISTS unloaded_files (
    path    VARCHAR NOT NULL,           -- absolute path when last tried
    sha256  VARCHAR NOT NULL,           -- one row per content
    source  VARCHAR,
    reason  VARCHAR NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL
);

-- Playbook and collector steps (contract §6, §8). Never holds a secret.
CREATE TABLE IF NOT EXISTS journal (
    time         TIMESTAMPTZ NOT NULL,
    kind         VARCHAR NOT NULL,      -- playbook | collector | case (ingest --force, forget)
    ref          VARCHAR NOT NULL,      -- plan step id, collector page, or evidence file path
    request      VARCHAR,               -- the calls made, summarised (never a secret)
    status       VARCHAR NOT NULL,      -- playbook: done | already_done | failed | skipped | verified | not_verified
    detail       VARCHAR,               -- what the provider said (its error, when it failed)
    plan_root    VARCHAR,               -- playbook: the plan's root credential …
    plan_created VARCHAR,               -- … and creation time: together they name the plan
    provider     VARCHAR,
    action       VARCHAR,
    target       VARCHAR,               -- credential id or principal (aws_role:<arn>, …)
    credentials  VARCHAR[],             -- the traced credentials the step ends
    http_status  INTEGER,               -- the provider's last HTTP status
    step         VARCHAR                -- the plan step as JSON (contract §6): verify re-reads it
);

-- The trace's lookups: a credential's refs (also by its lower-case id, as user-wide
-- revocations are matched), the children it issued (by parent), their events (by
-- event_key), and who used an IP before (by client_ip). ART indexes turn each into a
-- point lookup, so a trace reads what it returns rather than the case
-- (tests/test_query_plans.py keeps the plans on them). In step with ir/store.py
-- MIGRATIONS (schema 2).
CREATE INDEX IF NOT EXISTS events_event_key ON events (event_key);
CREATE INDEX IF NOT EXISTS events_client_ip ON events (client_ip);
CREATE INDEX IF NOT EXISTS credential_refs_credential ON credential_refs (credential);
CREATE INDEX IF NOT EXISTS credential_refs_credential_lower ON credential_refs (lower(credential));
CREATE INDEX IF NOT EXISTS credential_refs_parent ON credential_refs (parent);
CREATE INDEX IF NOT EXISTS event_resources_event_key ON event_resources (event_key);
