"""The one collection loop every provider shares, and the shapes a provider module fills in.

A collector (one module per provider) names its streams — Okta's System Log, Entra's
sign-ins and directory audits, one Google application, a CloudTrail bucket — and
each stream knows its endpoint, its window parameters, its pagination and its rate-limit
signals (through its provider client). Everything else happens here, once:

fetch a piece (a page, or an object) → write its bytes to `--out` exactly as received
(no re-encoding; a name already holding other bytes gets the SHA-256 in its name) →
journal where to resume → next piece → ingest what was written through the normal
ingest path (`ir.ingest`, the stream's source) → record in `evidence_files` the request
that fetched each file (URL without secrets), when, and the HTTP status.

Resumable: each piece's cursor is journaled in the case (`journal`, kind `collector`);
a run stopped by Ctrl-C, a network failure or a 5xx after retries resumes at the
cursor of the last piece written, with the window it had. Idempotent: a finished
window fetched again yields the same bytes (files already in the case are skipped by
hash) or the same events (duplicates by vendor id), so it loads nothing new. A
401/403 stops at once, naming the setting and the permission; what was written is
ingested. Secrets live only in the provider clients: they never reach a URL recorded
here, a file name, the journal or a message.
"""

from __future__ import annotations

import hashlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import orjson

from ir.errors import IrError
from ir.ingest import FileReport, ingest
from ir.providers.http import (
    AuthError,
    Page,
    PageRequest,
    ProviderError,
    Secret,
    Sleep,
    TransientError,
    redact,
)
from ir.store import Store

KIND = "collector"
AfterLoad = Callable[[duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class Window:
    """The time window of a collection: [since, until), UTC; `until` is always set (the
    time the run started when not given), so every listing is bounded."""

    since: datetime | None
    until: datetime

    @property
    def label(self) -> str:
        """A folder name for the window's files: `20260901T000000Z-20260905T000000Z`."""
        start = stamp(self.since) if self.since else "start"
        return f"{start}-{stamp(self.until)}"

    def to_json(self) -> list[str | None]:
        return [iso(self.since) if self.since else None, iso(self.until)]

    @classmethod
    def from_json(cls, data: list[str | None]) -> Window:
        since, until = data
        return cls(parse_iso(since) if since else None, parse_iso(str(until)))


def iso(moment: datetime) -> str:
    """`2026-09-04T14:05:00Z`: what the vendors' time parameters take."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def before(moment: datetime) -> datetime:
    """The last whole second before `moment`: the inclusive end of [since, until) for APIs
    whose end bound is inclusive and whose times are whole seconds."""
    return moment - timedelta(seconds=1)


@dataclass(frozen=True)
class Piece:
    """One page or object as the provider sent it, and where the stream goes on from."""

    body: bytes
    name: str  # file name (or relative path) inside the stream's folder
    request: str  # what fetched it: the URL without secrets, or s3://bucket/key
    status: int  # HTTP status
    records: int  # records the page holds, for progress (0 where not counted)
    cursor: dict[str, Any] | None  # where to resume after it; None when the stream is done


class Stream(ABC):
    """One listing of one provider: its name, parser, permission, and how to fetch it."""

    name: str  # journal and folder name: `logs`, `signIns`, `login`, …
    source: str  # the parser its files are ingested with (contract §2)
    permission: str  # what the vendor requires to read it, named when it refuses

    def folder(self, window: Window) -> Path:
        """Where its files go inside `--out/<provider>/`."""
        return Path(self.name) / window.label

    @abstractmethod
    def fetch(self, window: Window, resume: dict[str, Any] | None) -> Iterator[Piece]:
        """Every piece of the window, from `resume` (a journaled cursor) when given."""

    def skipped(self) -> list[str]:
        """What the listing saw and left out, with why (S3: digests, other files)."""
        return []


class Collector(ABC):
    """A provider: its settings (read by the concrete class) and its streams."""

    provider: ClassVar[str]

    @abstractmethod
    def streams(self) -> list[Stream]:
        """The streams to collect, in order."""

    def options(self) -> str:
        """The options that tell one collection of this provider from another (an org, a
        bucket): part of the journal key, so a run resumes only its own cursor."""
        return ""

    @abstractmethod
    def close(self) -> None:
        """Release the provider clients."""


@dataclass(frozen=True)
class Progress:
    """What the loop reports as it goes (the face draws it; the library prints nothing)."""

    provider: str
    stream: str
    pages: int = 0
    records: int = 0
    waiting: float | None = None  # seconds the provider asked us to wait, while waiting
    note: str | None = None


Report = Callable[[Progress], None]


@dataclass
class StreamResult:
    """One stream of a run: how much came, what was left out, where it resumed from."""

    provider: str
    stream: str
    source: str
    window: Window
    pages: int = 0
    records: int = 0
    resumed: bool = False
    skipped: list[str] = field(default_factory=list)
    reports: list[FileReport] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        """A summary row: stream, window, pages, records, loaded, duplicates, rejected."""
        return {
            "provider": self.provider,
            "stream": self.stream,
            "source": self.source,
            "since": self.window.to_json()[0],
            "until": self.window.to_json()[1],
            "pages": self.pages,
            "records": self.records,
            "files": len(self.reports),
            "loaded": sum(r.loaded for r in self.reports),
            "duplicates": sum(r.duplicates for r in self.reports),
            "rejected": sum(r.rejected for r in self.reports),
            "resumed": self.resumed,
            "skipped": len(self.skipped),
        }


@dataclass
class Collection:
    """What `collect` did: per stream, and every file ingested (contract §8, the per-file
    list of `ir ingest --format json`)."""

    streams: list[StreamResult] = field(default_factory=list)

    @property
    def reports(self) -> list[FileReport]:
        return [r for s in self.streams for r in s.reports]


class CollectionFailed(IrError):
    """The provider refused or failed; what was written before is ingested (`collection`)."""

    def __init__(self, message: str, collection: Collection) -> None:
        super().__init__(message)
        self.collection = collection


def collect(
    store: Store,
    collector: Collector,
    *,
    since: datetime | None,
    until: datetime | None,
    out: Path,
    key: str,
    report: Report | None = None,
    after_load: AfterLoad | None = None,
) -> Collection:
    """Collect every stream of `collector` for [since, until) into `out/<provider>/` and
    the case. `key` names the command as typed (`since=7d until=-`): an unfinished run
    with the same key resumes with its window and cursor; a finished one starts again."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    window = Window(since, until or now)
    collection = Collection()
    for stream in collector.streams():
        ref = f"{collector.provider}/{stream.name} {collector.options()} {key}".strip()
        result, failure = _collect_stream(
            store, collector.provider, stream, ref, window, out, report, after_load
        )
        collection.streams.append(result)
        if failure is not None:
            raise CollectionFailed(failure, collection)
    return collection


def _collect_stream(
    store: Store,
    provider: str,
    stream: Stream,
    ref: str,
    window: Window,
    out: Path,
    report: Report | None,
    after_load: AfterLoad | None,
) -> tuple[StreamResult, str | None]:
    """One stream from its journaled cursor (or the start) to its end; the failure that
    stopped it, if any, with what was written ingested either way."""
    connection = store.connection
    state = _unfinished(connection, ref)
    if state is not None:
        window = Window.from_json(state["window"])
    result = StreamResult(provider, stream.name, stream.source, window, resumed=state is not None)
    folder = out / provider / stream.folder(window)
    written = _written(connection, ref) if state is not None else []
    failure: str | None = None
    try:
        for piece in stream.fetch(window, state["cursor"] if state else None):
            path = write_evidence(folder / piece.name, piece.body)
            written.append(path)
            _record_piece(connection, provider, stream, ref, window, piece, path)
            result.pages += 1
            result.records += piece.records
            if report:
                report(Progress(provider, stream.name, result.pages, result.records))
    except AuthError as error:
        failure = f"{error} (collecting {stream.name} needs {stream.permission})"
    except TransientError as error:
        failure = f"{error}; run the same command again to resume from the last page written"
    except ProviderError as error:
        failure = str(error)
    except KeyboardInterrupt:
        _load(store, stream, written, after_load)
        raise
    result.skipped = stream.skipped()
    result.reports = _load(store, stream, written, after_load)
    if failure is not None:
        kept = f"; the {len(written)} files already written are ingested" if written else ""
        _journal(connection, provider, stream, ref, window, "failed", detail=failure)
        return result, failure + kept
    _journal(connection, provider, stream, ref, window, "done", detail=f"{result.pages} pages")
    return result, None


def write_evidence(path: Path, body: bytes) -> Path:
    """Write `body` at `path` byte for byte (atomically); the same bytes already there are
    kept as they are, other bytes there get a new name with their SHA-256's first 12 hex
    digits, so evidence is never overwritten."""
    if path.exists():
        if path.read_bytes() == body:
            return path
        digest = hashlib.sha256(body).hexdigest()[:12]
        stem, dot, suffixes = path.name.partition(".")
        path = path.with_name(f"{stem}-{digest}{dot}{suffixes}")
        if path.exists():
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(body)
    os.replace(partial, path)
    return path


def _load(
    store: Store, stream: Stream, written: list[Path], after_load: AfterLoad | None
) -> list[FileReport]:
    """Ingest the files of the run with the stream's parser, then say which request
    fetched each (a file the case held already keeps what it had)."""
    if not written:
        return []
    unique = list(dict.fromkeys(written))
    reports = ingest(store, unique, source=stream.source, after_load=after_load)
    store.connection.execute(
        """
        UPDATE evidence_files e SET request = j.request, fetched_at = j.fetched_at,
               http_status = j.http_status
        FROM (SELECT target AS path, arg_max(request, time) AS request, max(time) AS fetched_at,
                     arg_max(journal.http_status, time) AS http_status
              FROM journal WHERE kind = ? AND status = 'page' GROUP BY target) j
        WHERE e.path = j.path AND e.request IS NULL
        """,
        [KIND],
    )
    return reports


def _record_piece(
    connection: duckdb.DuckDBPyConnection,
    provider: str,
    stream: Stream,
    ref: str,
    window: Window,
    piece: Piece,
    path: Path,
) -> None:
    _journal(
        connection,
        provider,
        stream,
        ref,
        window,
        "page",
        cursor=piece.cursor,
        request=piece.request,
        target=str(path.absolute()),
        http_status=piece.status,
    )


def _journal(
    connection: duckdb.DuckDBPyConnection,
    provider: str,
    stream: Stream,
    ref: str,
    window: Window,
    status: str,
    *,
    cursor: dict[str, Any] | None = None,
    request: str | None = None,
    detail: str | None = None,
    target: str | None = None,
    http_status: int | None = None,
) -> None:
    """One journal row: `request` what fetched the piece, `step` the window and the cursor
    after it (never a secret: cursors are the vendors' page tokens and next links, whose
    credentials travel in headers), `target` the file written."""
    state = orjson.dumps({"window": window.to_json(), "cursor": cursor}).decode()
    connection.execute(
        """
        INSERT INTO journal (time, kind, ref, request, status, detail, provider, action,
                             target, http_status, step)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            datetime.now(timezone.utc),
            KIND,
            ref,
            request,
            status,
            detail,
            provider,
            stream.name,
            target,
            http_status,
            state,
        ],
    )


# The journal rows of the last run with a key, after its last `done` (rowid: insertion order).
_SINCE_DONE = """
FROM journal WHERE kind = ? AND ref = ?
  AND rowid > coalesce((SELECT max(rowid) FROM journal
                        WHERE kind = ? AND ref = ? AND status = 'done'), -1)
"""


def _unfinished(connection: duckdb.DuckDBPyConnection, ref: str) -> dict[str, Any] | None:
    """The state of the last run with this key when it did not finish: its window, and the
    cursor after its last piece (None: start the window again)."""
    rows = connection.execute(
        f"SELECT status, step {_SINCE_DONE} ORDER BY rowid", [KIND, ref, KIND, ref]
    ).fetchall()
    if not rows:
        return None
    pages = [orjson.loads(step) for status, step in rows if status == "page"]
    if pages and pages[-1]["cursor"] is None:
        return None  # its last piece ended the listing: only the closing row is missing
    state: dict[str, Any] = pages[-1] if pages else orjson.loads(rows[-1][1])
    return state


def _written(connection: duckdb.DuckDBPyConnection, ref: str) -> list[Path]:
    """The files the unfinished run with this key wrote, to ingest with the rest."""
    rows = connection.execute(
        f"SELECT target {_SINCE_DONE} AND status = 'page' ORDER BY rowid", [KIND, ref, KIND, ref]
    ).fetchall()
    return [Path(target) for (target,) in rows]


# --- helpers the provider modules share --------------------------------------------------


class PagedStream(Stream):
    """A listing that a provider client pages (Link header, a URL or a token in the body):
    each page is one piece, written as `page-00001.json`, …; the cursor is the next
    page's request."""

    def __init__(
        self,
        name: str,
        source: str,
        permission: str,
        pages: Callable[[Window, PageRequest | None], Iterator[Page]],
        secrets: Callable[[], Iterable[Secret]],
    ) -> None:
        self.name, self.source, self.permission = name, source, permission
        self._pages = pages
        self._secrets = secrets

    def fetch(self, window: Window, resume: dict[str, Any] | None) -> Iterator[Piece]:
        number = int(resume["number"]) if resume else 1
        start = PageRequest.from_json(resume["next"]) if resume else None
        for page in self._pages(window, start):
            following = {"next": page.next.to_json(), "number": number + 1} if page.next else None
            yield Piece(
                body=page.response.content,
                name=f"page-{number:05d}.json",
                request=redact(str(page.response.request.url), list(self._secrets())),
                status=page.response.status_code,
                records=len(page.items),
                cursor=following,
            )
            number += 1


def telling_sleep(provider: str, report: Report | None, sleep: Sleep = time.sleep) -> Sleep:
    """A `sleep` for provider clients that first reports the wait (a rate limit or a
    backoff), so the responder sees why nothing moves."""

    def wait(seconds: float) -> None:
        if report:
            report(Progress(provider, "", waiting=seconds, note="waiting for the provider"))
        sleep(seconds)

    return wait
