"""GitHub organization / enterprise audit log: streaming NDJSON, REST API arrays, UI exports.

Verified against GitHub Docs ("Identifying audit log events performed by an
access token", the audit-log event lists in github/docs `src/audit-logs/data`,
the REST `audit-log-event` schema) and the shared conformance samples:
- `hashed_token` is "the SHA-256 hash of the token used for authentication",
  standard base64 with padding; `token_id` and `programmatic_access_type` sit
  beside it. Test exports carry placeholders that are not base64: no format is
  enforced.
- `@timestamp` (when it happened) and `created_at` (when recorded) are epoch
  milliseconds; older REST records have only `created_at`.
- `_document_id` identifies streamed and REST events; legacy records have none
  and get the canonical-JSON hash (contract §2).
- `actor_ip` appears only where IP disclosure is enabled;
  `actor_location.country_code` is the country.
- Token lifecycle (user security log and enterprise streams):
  `oauth_access.create|regenerate`, `oauth_authorization.create`,
  `personal_access_token.create|credential_regenerated` create a token;
  `oauth_access.destroy`, `oauth_authorization.destroy`,
  `personal_access_token.destroy|credential_revoked` remove it. GitHub's docs
  do not say whether `hashed_token` on those events is the created token or
  the one used; GitHub's own event model writes the token record itself, so
  here it is taken as the created / removed token.
Resources: `repo` (legacy and REST records) or `repository` (streamed git events,
`git.clone`) is the repository, `github_repo:<org>/<repo>`; `user` the account an
action was taken on (`org.add_member`, blank on git events), `github_user`. Access:
the shared rule over the action; `api.request` by its `request_method`.
Scopes: `token_scopes` (comma-separated, as in the samples) on the token's refs.
`programmatic_access_type` names how the token was made (not what it may do): it stays
in the evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource, split_scopes

CREATING = (
    "oauth_access.create",
    "oauth_access.regenerate",
    "oauth_authorization.create",
    "personal_access_token.create",
    "personal_access_token.credential_regenerated",
)
REMOVING = (
    "oauth_access.destroy",
    "oauth_authorization.destroy",
    "personal_access_token.destroy",
    "personal_access_token.credential_revoked",
)
# A create that failed (HTTP status >= 400) minted nothing; a failed destroy stays a reference.
SUCCEEDED = "coalesce(try_cast(r.status_code AS INTEGER), 0) < 400"
SCOPES = split_scopes("r.token_scopes")
ACCESS = "CASE WHEN r.action = 'api.request' THEN ir_access(r.request_method) END"
RESOURCES = (
    Resource("github_repo", "coalesce(ir_blank(r.repo), ir_blank(r.repository))", access=ACCESS),
    Resource("github_user", "r.user", access=ACCESS),
)


def detect(record: Mapping[str, Any]) -> bool:
    has_time = "@timestamp" in record or "created_at" in record
    return (
        isinstance(record.get("action"), str)
        and has_time
        and ("actor" in record or "_document_id" in record)
    )


PARSER = Parser(
    name="github",
    detect=detect,
    time_field="@timestamp / created_at",
    fields={
        "_document_id": "VARCHAR",
        "@timestamp": "VARCHAR",
        "created_at": "VARCHAR",
        "action": "VARCHAR",
        "actor": "VARCHAR",
        "org": "VARCHAR",
        "business": "VARCHAR",
        "actor_ip": "VARCHAR",
        "user_agent": "VARCHAR",
        "status_code": "VARCHAR",
        "hashed_token": "VARCHAR",
        "token_scopes": "VARCHAR",
        "repo": "VARCHAR",
        "repository": "VARCHAR",
        "user": "VARCHAR",
        "request_method": "VARCHAR",
        "actor_location": {"country_code": "VARCHAR"},
    },
    event={
        "source_event_id": "r._document_id",
        "time": 'coalesce(ir_time(r."@timestamp"), ir_time(r.created_at))',
        "action": "r.action",
        "outcome": "CASE WHEN try_cast(r.status_code AS INTEGER) >= 400 THEN 'failure' ELSE 'success' END",
        "error": "CASE WHEN try_cast(r.status_code AS INTEGER) >= 400 THEN 'HTTP ' || r.status_code END",
        "actor": "ir_blank(r.actor)",
        "tenant": "coalesce(ir_blank(r.org), ir_blank(r.business))",
        "client_ip": "ir_blank(r.actor_ip)",
        "user_agent": "ir_blank(r.user_agent)",
        "country": "ir_blank(r.actor_location.country_code)",
    },
    credentials=(
        CredentialRef(
            "github_token",
            "used",
            value="r.hashed_token",
            when=f"r.action NOT IN ({sql.literals(CREATING + REMOVING)})",
            principal="ir_blank(r.actor)",
            scopes=SCOPES,
        ),
        CredentialRef(
            "github_token",
            "issued",
            value="r.hashed_token",
            when=f"r.action IN ({sql.literals(CREATING)}) AND {SUCCEEDED}",
            via="r.action",
            principal="ir_blank(r.actor)",
            scopes=SCOPES,
        ),
        CredentialRef(
            "github_token",
            "revoked",
            value="r.hashed_token",
            when=f"r.action IN ({sql.literals(REMOVING)})",
            via="r.action",
            principal="ir_blank(r.actor)",
            scopes=SCOPES,
        ),
    ),
    resources=RESOURCES,
)
