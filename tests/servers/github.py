"""A local GitHub REST API: credential revocation, tokens, org PATs, deploy keys, the audit log.

Behaviour (revocation-apis.md §2, §8): `POST /credentials/revoke` answers 403 to
any request carrying `Authorization`, 422 without a `credentials` list or with
more than 1000, 202 otherwise (and the tokens stop working); a bad token → 401
"Bad credentials", none → 401 "Requires authentication"; a token without the
needed scope → 403 with `X-Accepted-OAuth-Scopes`; unknown objects → 404
"Not Found"; lists page with `Link: <…>; rel="next"`. The audit log takes the `created:A..B` range of
its search `phrase` (both ends inclusive, to the second) and `order` (asc|desc; without it
the seeded order). Throttling answers 403 with
`x-ratelimit-remaining: 0` and `x-ratelimit-reset` (primary) or 429 with
`retry-after` (secondary). The 401/404 message texts are GitHub's as quoted in
API transcripts (see ir/providers/github.py); the 422 text is unverified.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.servers.base import FakeApi, Reply, Request, instant, route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOCS = "https://docs.github.com/rest"


CREATED = re.compile(r"created:(\S+)\.\.(\S+)")


def created(event: dict[str, Any]) -> int:
    """An audit event's time in epoch milliseconds (`@timestamp`, else `created_at`)."""
    return int(event.get("@timestamp") or event["created_at"])


def created_in(event: dict[str, Any], phrase: str) -> bool:
    """The `created:A..B` qualifier of the search phrase: both ends inclusive, `*` open."""
    match = CREATED.search(phrase)
    if match is None:
        return True
    at = created(event)
    low, high = (
        None if end == "*" else int(instant(end).timestamp() * 1000) for end in match.groups()
    )
    return (low is None or at >= low) and (high is None or at <= high + 999)


def audit_events() -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / "github" / "rest-page.json").read_text()))


class GitHubApi(FakeApi):
    def __init__(self, tokens: dict[str, set[str]], live: set[str] | None = None) -> None:
        super().__init__()
        self.tokens = tokens  # API token -> its scopes
        self.live = set(live or ())  # raw tokens GET /user still accepts
        self.reported: list[str] = []  # raw tokens received by /credentials/revoke
        self.audit = {"example-org": audit_events()}
        self.pats: dict[str, dict[int, dict[str, Any]]] = {"example-org": {}}
        self.deploy_keys: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}

    def authenticate(self, request: Request) -> Reply | None:
        token = self.bearer(request) or self.bearer(request, "token")
        if request.authorization is None:
            return Reply(401, {"message": "Requires authentication", "documentation_url": DOCS})
        if token not in self.tokens:
            return Reply(401, {"message": "Bad credentials", "documentation_url": DOCS})
        return None

    def needs(self, request: Request, scope: str) -> Reply | None:
        token = self.bearer(request) or self.bearer(request, "token") or ""
        if scope in self.tokens.get(token, set()):
            return None
        return Reply(
            403,
            {
                "message": "Resource not accessible by personal access token",
                "documentation_url": DOCS,
            },
            {"X-Accepted-OAuth-Scopes": scope},
        )

    def rate_limited(self, retry_after: float | None = None, reset: int | None = None) -> Reply:
        if reset is not None:
            headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
            return Reply(
                403, {"message": "API rate limit exceeded", "documentation_url": DOCS}, headers
            )
        message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        return Reply(429, {"message": message, "documentation_url": DOCS}, headers)

    def linked(self, request: Request, items: list[Any]) -> Reply:
        per_page = int(request.arg("per_page", "30") or 30)
        page, after = self.paginate(items, request.arg("after"), per_page)
        headers = {"Link": f'<{self.next_url(request, after=after)}>; rel="next"'} if after else {}
        return Reply(200, page, headers)

    @route("POST", "/credentials/revoke", public=True)
    def revoke(self, request: Request) -> Reply:
        if request.authorization is not None:
            return Reply(403, {"message": "Forbidden", "documentation_url": DOCS})
        body = request.json()
        credentials = body.get("credentials") if isinstance(body, dict) else None
        if not isinstance(credentials, list) or not credentials or len(credentials) > 1000:
            return Reply(422, {"message": "Validation Failed", "documentation_url": DOCS})
        self.reported.extend(credentials)
        self.live.difference_update(credentials)
        return Reply(202, {})

    @route("GET", "/user", public=True)
    def user(self, request: Request) -> Reply:
        token = self.bearer(request)
        if token in self.live or token in self.tokens:
            return Reply(200, {"login": "octo-dev", "id": 5002})
        return Reply(401, {"message": "Bad credentials", "documentation_url": DOCS})

    @route("GET", "/orgs/([^/]+)/audit-log")
    def audit_log(self, request: Request, org: str) -> Reply:
        refused = self.needs(request, "read:audit_log")
        if refused or org not in self.audit:
            return refused or Reply(404, {"message": "Not Found", "documentation_url": DOCS})
        chosen = [e for e in self.audit[org] if created_in(e, request.arg("phrase") or "")]
        order = request.arg("order")
        ordered = sorted(chosen, key=created, reverse=order == "desc") if order else chosen
        return self.linked(request, ordered)

    @route("GET", "/orgs/([^/]+)/personal-access-tokens")
    def list_pats(self, request: Request, org: str) -> Reply:
        return self.linked(request, list(self.pats.get(org, {}).values()))

    @route("POST", r"/orgs/([^/]+)/personal-access-tokens/(\d+)")
    def revoke_pat(self, request: Request, org: str, pat_id: str) -> Reply:
        if request.json() != {"action": "revoke"}:
            return Reply(422, {"message": "Validation Failed", "documentation_url": DOCS})
        if self.pats.get(org, {}).pop(int(pat_id), None) is None:
            return Reply(404, {"message": "Not Found", "documentation_url": DOCS})
        return Reply(204)

    @route("GET", r"/repos/([^/]+)/([^/]+)/keys/(\d+)")
    def get_key(self, request: Request, owner: str, repo: str, key_id: str) -> Reply:
        key = self.deploy_keys.get((owner, repo), {}).get(int(key_id))
        return (
            Reply(200, key)
            if key
            else Reply(404, {"message": "Not Found", "documentation_url": DOCS})
        )

    @route("DELETE", r"/repos/([^/]+)/([^/]+)/keys/(\d+)")
    def delete_key(self, request: Request, owner: str, repo: str, key_id: str) -> Reply:
        if self.deploy_keys.get((owner, repo), {}).pop(int(key_id), None) is None:
            return Reply(404, {"message": "Not Found", "documentation_url": DOCS})
        return Reply(204)
