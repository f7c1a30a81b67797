"""GitHub REST client: the credential revocation API, org token and deploy-key calls, the audit log.

Settings (contract §6): `GITHUB_TOKEN` (or `GH_TOKEN`); base `IR_GITHUB_API_URL`,
default `https://api.github.com` (GHES: `https://HOST/api/v3`). Every call sends
`Accept: application/vnd.github+json` and `X-GitHub-Api-Version: 2022-11-28`
with `Authorization: Bearer <token>` — except `POST /credentials/revoke`, which on
github.com answers 403 to any authenticated request and so is sent without one
(no token setting is needed for it).

Verified against GitHub's documentation (2026-12):
- Rate limits: primary → 403 or 429 with `x-ratelimit-remaining: 0`, wait until
  `x-ratelimit-reset` (UTC epoch seconds); secondary → 403 or 429 with a message
  naming the secondary rate limit: honour `retry-after` when present, else the
  reset header when remaining is 0, else wait at least one minute and back off
  exponentially (https://docs.github.com/en/enterprise-cloud@latest/rest/overview/troubleshooting,
  https://raw.githubusercontent.com/github/docs/main/content/rest/using-the-rest-api/rate-limits-for-the-rest-api.md).
  A 403 without any of those signals is a permission error and is not retried.
- Errors are `{"message", "documentation_url"}`; a bad token → 401 "Bad credentials",
  none on a protected endpoint → 401 "Requires authentication"; a missing scope → 403
  with the scope in the message (https://pinecone-forest.com/oauth2-v0.0.4/Handling-Errors.html,
  a quoted API transcript); GitHub answers 404, not 403, for private resources a
  request is not allowed to see (troubleshooting page above).
- Pagination: `Link: <…>; rel="next"` (same page).
- `/credentials/revoke`: body `{"credentials": [...]}` (≤ 1000), 202 Accepted,
  "any authenticated requests will return a 403" (revocation-apis.md §2,
  https://docs.github.com/en/enterprise-cloud@latest/rest/credentials/revoke).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from ir.providers.http import (
    AuthError,
    Page,
    PageRequest,
    ProviderClient,
    Secret,
    Settings,
    by_link_header,
    json_or_none,
    page_request,
    retry_after,
)

DEFAULT_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MAX_REVOKE_BATCH = 1000
SECONDARY_MINIMUM_WAIT = 60.0
VERSION_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


class GitHubClient(ProviderClient):
    """GitHub's REST API with the token from `GITHUB_TOKEN`/`GH_TOKEN` (optional for revocation)."""

    provider = "github"
    credential_settings = "GITHUB_TOKEN (or GH_TOKEN)"

    def __init__(self, base_url: str, token: Secret | None, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._token = token

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, need_token: bool = True, **kw: Any
    ) -> GitHubClient:
        """The client the settings describe; `need_token=False` for the revocation API alone."""
        settings = Settings(cls.provider, env)
        base = settings.url("IR_GITHUB_API_URL", default=DEFAULT_URL)
        token = settings.secret("GITHUB_TOKEN", "GH_TOKEN") if need_token else None
        settings.check()
        return cls(base, token, **kw)

    def auth_headers(self) -> dict[str, str]:
        headers = dict(VERSION_HEADERS)
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return headers

    def secrets(self) -> list[Secret]:
        return [self._token] if self._token is not None else []

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str]:
        body = json_or_none(response)
        message = body.get("message") if isinstance(body, dict) else None
        return None, str(message or response.reason_phrase)

    def is_rate_limited(self, response: httpx.Response, code: str | None, detail: str) -> bool:
        if response.status_code not in (403, 429):
            return False
        return (
            response.status_code == 429
            or "retry-after" in response.headers
            or response.headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in detail.lower()
        )

    def rate_limit_wait(self, response: httpx.Response, code: str | None) -> float | None:
        wait = retry_after(response)
        if wait is not None:
            return wait
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset")
            if reset is not None:
                return max(0.0, float(reset) - self.clock())
        return SECONDARY_MINIMUM_WAIT

    # revocation ----------------------------------------------------------------------------

    def revoke_credentials(self, tokens: Sequence[Secret]) -> int:
        """Report leaked tokens to GitHub's credential revocation API; returns the HTTP status (202).

        No `Authorization` header is sent (github.com refuses authenticated calls
        here). The raw tokens are redacted from any error.
        """
        if not tokens or len(tokens) > MAX_REVOKE_BATCH:
            raise ValueError(f"between 1 and {MAX_REVOKE_BATCH} tokens per call, got {len(tokens)}")
        response = self.request(
            "POST",
            "/credentials/revoke",
            json={"credentials": [token.reveal() for token in tokens]},
            headers=VERSION_HEADERS,
            authenticate=False,
            secrets=tokens,
        )
        return response.status_code

    def token_is_live(self, token: Secret) -> bool:
        """Whether GitHub still accepts `token` (`GET /user` with it: 200 live, 401 dead)."""
        try:
            self.request(
                "GET",
                "/user",
                headers={**VERSION_HEADERS, "Authorization": f"Bearer {token.reveal()}"},
                authenticate=False,
                secrets=[token],
            )
        except AuthError as exc:
            if exc.status == 401:
                return False
            raise
        return True

    def revoke_org_pat(self, org: str, pat_id: int) -> None:
        """Revoke a fine-grained PAT's access to `org` (GitHub App installation token, 204)."""
        self.request(
            "POST",
            f"/orgs/{org}/personal-access-tokens/{pat_id}",
            json={"action": "revoke"},
            permission='the organization permission "Personal access tokens" (write)',
        )

    def org_pats(self, org: str, per_page: int = 100) -> Iterator[dict[str, Any]]:
        """The fine-grained PATs with access to `org`."""
        start = page_request(f"/orgs/{org}/personal-access-tokens", {"per_page": per_page})
        yield from self.records(
            start, by_link_header(), permission='organization permission "Personal access tokens"'
        )

    def delete_deploy_key(self, owner: str, repo: str, key_id: int) -> None:
        """Delete a deploy key (204; a second call is 404 → `Gone`)."""
        self.request(
            "DELETE",
            f"/repos/{owner}/{repo}/keys/{key_id}",
            permission='the repository permission "Administration" (write)',
        )

    def deploy_key(self, owner: str, repo: str, key_id: int) -> dict[str, Any]:
        """One deploy key (`Gone` once deleted)."""
        response = self.request("GET", f"/repos/{owner}/{repo}/keys/{key_id}")
        return dict(response.json())

    # audit log -----------------------------------------------------------------------------

    def audit_log_pages(
        self,
        *,
        org: str | None = None,
        enterprise: str | None = None,
        phrase: str | None = None,
        per_page: int = 100,
        order: str | None = None,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Pages of `/orgs/{org}/audit-log` or `/enterprises/{slug}/audit-log` (`include=all`);
        from `resume` (a journaled next-page request) when given."""
        if (org is None) == (enterprise is None):
            raise ValueError("give exactly one of org or enterprise")
        path = f"/orgs/{org}/audit-log" if org else f"/enterprises/{enterprise}/audit-log"
        params = {"phrase": phrase, "include": "all", "per_page": per_page, "order": order}
        start = resume or page_request(path, params)
        return self.pages(start, by_link_header(), permission="read:audit_log")
