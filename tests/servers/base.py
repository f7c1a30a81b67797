"""A tiny HTTP server base for the local vendor APIs the tests talk to over a real socket.

Each vendor server (`tests/servers/<vendor>.py`) subclasses `FakeApi`: it lists
its routes, checks credentials the way the vendor does, keeps seeded state the
test can inspect (which sessions or tokens remain), and answers with the
vendor's status codes and bodies. Shared here: the threaded server on a free
loopback port, the request log (to assert what was sent, e.g. that no
`Authorization` header went to GitHub's revocation API) and the bodies served byte for
byte, injected throttling
and failures for the next N requests, and offset pagination over seeded lists.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Reply:
    """What the server answers."""

    status: int = 200
    body: Any = None  # JSON-able, bytes, or None for no body
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


Handler = Callable[..., Reply]


def instant(text: str) -> datetime:
    """An ISO 8601 time as the vendors write it (`Z`, 0-7 fraction digits, `+0000`) → aware datetime."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.strip().replace("Z", "+00:00"))
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def within(moment: str, since: str | None, until: str | None) -> bool:
    """Whether `moment` is in [since, until) — the window filter every listing applies."""
    at = instant(moment)
    return (since is None or at >= instant(since)) and (until is None or at < instant(until))


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    public: bool = False  # no credentials checked (token endpoints, GitHub's revocation API)


def route(method: str, pattern: str, *, public: bool = False) -> Callable[[Handler], Handler]:
    """Mark a `FakeApi` method as the handler of `method` on paths matching `pattern`."""

    def mark(handler: Handler) -> Handler:
        handler.route = (method, pattern, public)  # type: ignore[attr-defined]
        return handler

    return mark


class FakeApi:
    """A vendor API: routes, auth, seeded state, request log, injected throttling."""

    page_size = 2

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.served: list[tuple[Request, int, bytes]] = []  # every answer: status and body
        self._injected: deque[Callable[[Request], Reply]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.routes = [
            Route(m, re.compile(f"^{p}$"), getattr(self, name), public)
            for name in dir(type(self))
            if (marked := getattr(getattr(type(self), name), "route", None)) is not None
            for m, p, public in [marked]
        ]

    # the socket ----------------------------------------------------------------------------

    def start(self) -> FakeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                reply = api.dispatch(request)
                payload = reply.encoded()
                api.served.append((request, reply.status, payload))
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                """Quiet: the request log is `api.requests`."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # dispatch ------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            injected = self._injected.popleft() if self._injected else None
            if injected is not None:
                return injected(request)
            for r in self.routes:
                match = r.pattern.match(request.path)
                if match and r.method == request.method:
                    refused = None if r.public else self.authenticate(request)
                    return refused or r.handler(request, *match.groups())
            return self.not_found(request)

    def authenticate(self, request: Request) -> Reply | None:
        """None when the request carries valid credentials, else the vendor's refusal."""
        return None

    def not_found(self, request: Request) -> Reply:
        return Reply(404, {"message": "Not Found"})

    # injection -----------------------------------------------------------------------------

    def throttle(self, times: int = 1, **kw: Any) -> None:
        """The next `times` requests are refused as rate limited (vendor headers from `kw`)."""
        for _ in range(times):
            self._injected.append(lambda request: self.rate_limited(**kw))

    def rate_limited(self, retry_after: float = 1) -> Reply:
        """The vendor's rate-limit answer (override for its headers and body)."""
        return Reply(429, {"error": "rate limited"}, {"Retry-After": str(retry_after)})

    def fail(self, times: int = 1, status: int = 503) -> None:
        """The next `times` requests fail with a 5xx."""
        for _ in range(times):
            self._injected.append(lambda request: Reply(status, {"error": "unavailable"}))

    # helpers -------------------------------------------------------------------------------

    def paginate(
        self, items: Sequence[Any], cursor: str | None, size: int | None = None
    ) -> tuple[list[Any], str | None]:
        """A page of `items` from the opaque `cursor`, and the cursor of the next page (or None)."""
        start = int(cursor[1:]) if cursor else 0
        size = min(size or self.page_size, self.page_size)
        end = start + size
        return list(items[start:end]), (f"c{end}" if end < len(items) else None)

    def next_url(self, request: Request, **params: str) -> str:
        """This request's absolute URL with `params` replaced (for next links)."""
        query = {**request.query, **{k: [v] for k, v in params.items()}}
        return f"{self.url}{request.path}?{urlencode(query, doseq=True)}"

    def bearer(self, request: Request, scheme: str = "Bearer") -> str | None:
        """The token after `scheme ` in the Authorization header, if that is its form."""
        value = request.authorization or ""
        prefix = f"{scheme} "
        return value[len(prefix) :] if value.startswith(prefix) else None

    def headers_sent(self, name: str) -> Iterator[str | None]:
        """The value of header `name` on every request received, in order."""
        return (r.headers.get(name.lower()) for r in self.requests)
