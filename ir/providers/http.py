"""The shared HTTP base of the SaaS provider clients: settings, secrets, retries, errors, pages.

Playbook connectors and collectors talk to the same APIs with the same settings
(contract §6, §8), so each vendor's client is written once on this base and both
build on it. What lives here is what every vendor shares:

- settings read from the environment, every missing one named in one
  `MissingSettings` before any call is made;
- `Secret`, a wrapper whose `repr`/`str` never show the value, and redaction of
  every secret in play from error text (a server may echo what it was sent);
- one request loop: transient failures (429, 5xx, connection errors) are retried
  with the server's wait (Retry-After and the vendors' reset headers) or a capped
  exponential backoff, through an injectable `sleep` so tests do not wait;
  terminal ones raise at once as typed errors that name the setting to fix or
  the permission that is missing;
- pagination: a page is fetched from a `PageRequest` (journaled by collectors to
  resume), and a reader per pagination style finds the records and the next
  request (Link header, a URL in the body, or a token in the body). A next link
  that leaves the configured host is refused: it would carry our credentials
  to another server.

Base URLs are joined as revocation-apis.md §0 says: the base carries no API
version and no trailing slash; the path starts with `/` and carries the version.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import httpx

from ir.errors import IrError, MissingSetting, NotFound

log = logging.getLogger("ir.providers")

Sleep = Callable[[float], None]
Client = TypeVar("Client", bound="ProviderClient")
Clock = Callable[[], float]


class Secret:
    """A token, client secret or key whose value never shows in a repr, log or message."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value, for the one place that must send it (a header or a form field)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """`text` with every secret value replaced by `***`."""
    for secret in secrets:
        value = secret.reveal()
        if value:
            text = text.replace(value, "***")
    return text


# --- errors -----------------------------------------------------------------------------


class ProviderError(IrError):
    """A provider answered with an error (or could not be reached); the message says what to do."""

    def __init__(
        self, provider: str, message: str, *, status: int | None = None, code: str | None = None
    ) -> None:
        self.provider = provider
        self.status = status
        self.code = code
        super().__init__(f"{provider}: {message}")

    def redacted(self, secrets: Sequence[Secret]) -> ProviderError:
        """This error with every secret removed from its message (done before it is raised)."""
        self.args = (redact(str(self.args[0]), secrets),)
        return self


class TransientError(ProviderError):
    """Worth retrying: a 5xx, a connection error, a timeout, throttling."""


class RateLimited(TransientError):
    """The provider asked us to slow down; `wait` is its requested delay in seconds, if it gave one."""

    def __init__(
        self, provider: str, message: str, *, wait: float | None = None, **kw: Any
    ) -> None:
        self.wait = wait
        super().__init__(provider, message, **kw)


class TerminalError(ProviderError):
    """Retrying will not help: fix a setting, a permission or the request."""


class AuthError(TerminalError):
    """401/403 (or Slack's `invalid_auth`/`missing_scope`): the message names the setting or permission."""


class Gone(TerminalError, NotFound):
    """The object does not exist (any more): for a revocation, already done."""


class Rejected(TerminalError):
    """Any other 4xx: the provider refused the request as sent."""


# --- settings ---------------------------------------------------------------------------


class MissingSettings(MissingSetting):
    """One or more required settings are unset; each group lists alternative names."""

    def __init__(self, provider: str, groups: Sequence[Sequence[str]], why: str = "") -> None:
        super().__init__(provider, [name for group in groups for name in group], why)
        self.groups = [tuple(group) for group in groups]
        wanted = ", ".join(" or ".join(group) for group in groups)
        self.args = (f"{provider}: set {wanted}{f' ({why})' if why else ''}",)


class Settings:
    """Reads one provider's settings from an environment, collecting every missing one.

    Call `check()` after reading them all: it raises a single `MissingSettings`
    naming each unset variable, so a responder fixes them in one go.
    """

    def __init__(self, provider: str, env: Mapping[str, str]) -> None:
        self.provider = provider
        self.env = env
        self.missing: list[tuple[str, ...]] = []

    def optional(self, *names: str, default: str | None = None) -> str | None:
        """The first of `names` that is set (and not blank), else `default`."""
        for name in names:
            value = self.env.get(name, "").strip()
            if value:
                return value
        return default

    def required(self, *names: str) -> str:
        """The first of `names` that is set; remembered as missing when none is."""
        value = self.optional(*names)
        if value is None:
            self.missing.append(names)
            return ""
        return value

    def secret(self, *names: str) -> Secret:
        """A required setting holding a secret."""
        return Secret(self.required(*names))

    def url(self, *names: str, default: str | None = None) -> str:
        """A base URL: required when there is no default; trailing slashes dropped (§0)."""
        value = self.optional(*names, default=default)
        if value is None:
            self.missing.append(names)
            return ""
        return value.rstrip("/")

    def check(self, why: str = "") -> None:
        """Raise `MissingSettings` naming every setting that was required and unset."""
        if self.missing:
            raise MissingSettings(self.provider, self.missing, why)


# --- pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """Where one page comes from: a path (or absolute URL) and its query parameters.

    It is all a collector needs to journal to resume an interrupted listing.
    """

    url: str
    params: tuple[tuple[str, str], ...] = ()

    def with_param(self, name: str, value: str) -> PageRequest:
        """The same request with `name` set to `value` (replacing an earlier value)."""
        kept = tuple((k, v) for k, v in self.params if k != name)
        return PageRequest(self.url, (*kept, (name, value)))

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "params": [list(pair) for pair in self.params]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PageRequest:
        return cls(str(data["url"]), tuple((str(k), str(v)) for k, v in data.get("params", [])))


def page_request(path: str, params: Mapping[str, Any] | None = None) -> PageRequest:
    """A first-page request; parameters whose value is None are left out."""
    pairs = tuple((k, str(v)) for k, v in (params or {}).items() if v is not None)
    return PageRequest(path, pairs)


@dataclass(frozen=True)
class Page:
    """One page as received: the raw response (for evidence), its records, and what comes next."""

    request: PageRequest
    response: httpx.Response
    items: list[Any]
    next: PageRequest | None


PageReader = Callable[[PageRequest, httpx.Response], Page]


def _items(body: Any, key: str | None) -> list[Any]:
    found = body if key is None else (body or {}).get(key)
    return list(found or [])


def by_link_header(items_key: str | None = None) -> PageReader:
    """GitHub and Okta: the next page is the `Link: <…>; rel="next"` header."""

    def read(request: PageRequest, response: httpx.Response) -> Page:
        following = response.links.get("next", {}).get("url")
        nxt = PageRequest(following) if following else None
        return Page(request, response, _items(response.json(), items_key), nxt)

    return read


def by_body_url(items_key: str, url_key: str, done_key: str | None = None) -> PageReader:
    """Graph `@odata.nextLink` (absolute) and Salesforce `nextRecordsUrl` (a path, with `done`)."""

    def read(request: PageRequest, response: httpx.Response) -> Page:
        body = response.json()
        following = body.get(url_key)
        if done_key is not None and body.get(done_key, True):
            following = None
        nxt = PageRequest(following) if following else None
        return Page(request, response, _items(body, items_key), nxt)

    return read


def by_body_token(items_key: str, token_path: Sequence[str], param: str) -> PageReader:
    """Google `nextPageToken` → `pageToken`; Slack `response_metadata.next_cursor` → `cursor`."""

    def read(request: PageRequest, response: httpx.Response) -> Page:
        body = response.json()
        token: Any = body
        for key in token_path:
            token = token.get(key) if isinstance(token, dict) else None
        nxt = request.with_param(param, str(token)) if token else None
        return Page(request, response, _items(body, items_key), nxt)

    return read


# --- the client -------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """How often and how long to retry transient failures (capped exponential backoff)."""

    attempts: int = 6
    base: float = 1.0
    cap: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        return float(min(self.cap, self.base * 2**attempt))


def retry_after(response: httpx.Response) -> float | None:
    """The `Retry-After` header as seconds (delta-seconds or an HTTP date), if present."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())


class ProviderClient:
    """One vendor's HTTP client: auth headers, the retry loop, error classification, pages.

    Subclasses set `provider` and `credential_settings` (named in 401 messages)
    and override the hooks: `auth_headers`, `error_detail`, `rate_limit_wait`,
    `classify` (Slack maps its HTTP-200 errors there).
    """

    provider: ClassVar[str]
    credential_settings: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        retry: Retry = Retry(),
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        self.clock = clock
        self.retry = retry
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)

    def __enter__(self: Client) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    # hooks -------------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a call (override)."""
        return {}

    def secrets(self) -> list[Secret]:
        """Every secret this client holds, to redact from error text (override)."""
        return []

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        """The vendor's error code and message from an error response (override)."""
        return None, response.reason_phrase or f"HTTP {response.status_code}"

    def rate_limit_wait(self, response: httpx.Response, code: str | None) -> float | None:
        """Seconds the provider asks us to wait before retrying, or None (override to add headers)."""
        if response.status_code in (429, 503):
            return retry_after(response)
        return None

    def is_rate_limited(self, response: httpx.Response, code: str | None, detail: str) -> bool:
        """Whether an error response is throttling (429 everywhere; vendors add their 403s)."""
        return response.status_code == 429

    def classify(self, response: httpx.Response, permission: str | None) -> ProviderError | None:
        """The error this response means, or None when it succeeded."""
        status = response.status_code
        if status < 400:
            return None
        code, detail = self.error_detail(response)
        where = f"{response.request.method} {response.request.url.path}"
        said = f"{detail} ({code})" if code else detail
        if self.is_rate_limited(response, code, detail):
            wait = self.rate_limit_wait(response, code)
            return RateLimited(
                self.provider, f"{where} rate limited: {said}", wait=wait, status=status, code=code
            )
        if status >= 500:
            return TransientError(
                self.provider, f"{where} failed: {said}", status=status, code=code
            )
        if status == 401:
            return AuthError(
                self.provider, self.unauthenticated(where, said), status=status, code=code
            )
        if status == 403:
            return AuthError(
                self.provider, self.forbidden(where, said, permission), status=status, code=code
            )
        if status in (404, 410):
            return Gone(self.provider, f"{where}: not found: {said}", status=status, code=code)
        return Rejected(self.provider, f"{where} rejected: {said}", status=status, code=code)

    def unauthenticated(self, where: str, said: str) -> str:
        """The 401 message: which setting holds the credential that was refused."""
        return f"{where}: the credential was refused ({said}); check {self.credential_settings}"

    def forbidden(self, where: str, said: str, permission: str | None) -> str:
        """The 403 message: which permission the credential lacks."""
        needs = permission or "the permission this call needs"
        return f"{where}: permission denied ({said}); the credential in {self.credential_settings} needs {needs}"

    # the loop ----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """`path` joined to the base URL (§0); absolute URLs (next links) are taken as they are."""
        if path.startswith(("http://", "https://")):
            return path
        if not path.startswith("/"):
            raise ValueError(f"a provider path starts with '/': {path!r}")
        return self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
        permission: str | None = None,
        secrets: Sequence[Secret] = (),
    ) -> httpx.Response:
        """Send one call, retrying transient failures; raise a typed error for a terminal one.

        `authenticate=False` sends no credentials (GitHub's revocation API forbids
        them); `secrets` lists any extra secret in the body (a leaked token being
        revoked) so it is redacted from error text too.
        """
        url = self.url(path)
        sent_headers = {**(self.auth_headers() if authenticate else {}), **(headers or {})}
        hidden = [*self.secrets(), *secrets]
        for attempt in range(self.retry.attempts):
            outcome = self._attempt(method, url, params, json, data, sent_headers, permission)
            if isinstance(outcome, httpx.Response):
                return outcome
            error = outcome.redacted(hidden)
            if not isinstance(error, TransientError) or attempt == self.retry.attempts - 1:
                raise error
            wait = error.wait if isinstance(error, RateLimited) else None
            wait = self.retry.backoff(attempt) if wait is None else wait
            log.info("%s; retrying in %.1f s", error, wait)
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _attempt(
        self,
        method: str,
        url: str,
        params: Any,
        json: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str],
        permission: str | None,
    ) -> httpx.Response | ProviderError:
        path = httpx.URL(url).path
        try:
            response = self._http.request(
                method, url, params=params, json=json, data=data, headers=headers
            )
        except httpx.TransportError as exc:
            return TransientError(self.provider, f"{method} {path} failed: {type(exc).__name__}")
        log.debug("%s %s %s -> %s", self.provider, method, path, response.status_code)
        return self.classify(response, permission) or response

    def pages(
        self, start: PageRequest, reader: PageReader, *, permission: str | None = None
    ) -> Iterator[Page]:
        """Every page from `start` on, each fetched only when the previous one was consumed."""
        request: PageRequest | None = start
        while request is not None:
            response = self.request(
                "GET", request.url, params=list(request.params) or None, permission=permission
            )
            page = reader(request, response)
            if page.next is not None:
                self._same_host(self.url(request.url), page.next.url)
            yield page
            request = page.next

    def _same_host(self, current: str, following: str) -> None:
        """Refuse a next link to another host: our credentials would go with it."""
        if not following.startswith(("http://", "https://")):
            return
        here, there = httpx.URL(current), httpx.URL(following)
        if (here.scheme, here.host, here.port) != (there.scheme, there.host, there.port):
            raise Rejected(self.provider, f"refusing to follow a next link to {there.host}")

    def records(
        self, start: PageRequest, reader: PageReader, *, permission: str | None = None
    ) -> Iterator[Any]:
        """The records of every page, in order."""
        for page in self.pages(start, reader, permission=permission):
            yield from page.items


def json_or_none(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is empty or not JSON (error pages, proxies)."""
    try:
        return response.json()
    except ValueError:
        return None
