"""Okta System Log: `/api/v1/logs` JSON array pages, NDJSON, event hook / log streaming.

Verified against the Okta System Log API LogEvent model, Okta's event type
catalog (okta-developer-docs `data/event-types.json`), okta/customer-detections
`logs/log_fields.csv` and the shared conformance sample:
- `uuid` identifies the event, `published` is ISO 8601 with `Z`, `eventType`
  names the action, `outcome.result` is SUCCESS / FAILURE / ALLOW / DENY /
  CHALLENGE / SKIPPED / UNKNOWN, `outcome.reason` says why.
- `authenticationContext.externalSessionId` is the session; it is the literal
  "unknown" on failed sign-ins (Okta ISV syslog reference), which is no session.
  `authenticationContext.rootSessionId` groups sessions sharing a root session:
  where it differs, the external session derives from it.
- `system.api_token.create` / `.revoke` (catalog) and `.update` (Okta's own
  detections) carry the token as a target of type `Token` whose `id` is the
  token id (00T…).
- `transaction.detail.requestApiTokenId` is the API token that made the request
  (okta-sdk-dotnet LogTransaction); `transaction.detail` may be null or `{}`.
  `rootApiTokenId` sits beside it where logged.
- `user.session.clear` ("Clear user session", Okta's event type catalog) names the
  user as a `User` target (`alternateId` = login): `okta_user:<login>` revoked, which
  ends that user's sessions started before it (the same login as `actor.alternateId`).
- `client.ipAddress`, `client.userAgent.rawUserAgent`,
  `client.geographicalContext.country`, `securityContext.asNumber`.
Resources: every `target[]` of type AppInstance (`okta_app`: the app instance id, its
`displayName` as name), User (`okta_user`: id, `alternateId` = login as name), Group
(`UserGroup`: `okta_group`; Okta's type name, as SIEM parsers of Okta logs match it),
Token (`okta_api_token`), PolicyEntity / PolicyRule (`okta_policy`,
`okta_policy_rule`, as the conformance sample's `policy.evaluate_sign_on` names them). Access: sign-ins
(`user.authentication.*`, `user.session.start`) are auth, else the shared rule over
`eventType`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource

SESSION = "nullif(r.authenticationContext.externalSessionId, 'unknown')"
ROOT_SESSION = "nullif(r.authenticationContext.rootSessionId, 'unknown')"
ACTOR = "coalesce(ir_blank(r.actor.alternateId), ir_blank(r.actor.id))"
TOKEN_TARGET = "item.type = 'Token'"
# A failed or denied create minted nothing; a failed revoke stays a reference (outcome failure).
SUCCEEDED = "coalesce(upper(r.outcome.result), '') NOT IN ('FAILURE', 'DENY')"
TARGET_TYPES = {
    "AppInstance": "okta_app",
    "User": "okta_user",
    "UserGroup": "okta_group",
    "Token": "okta_api_token",
    "PolicyEntity": "okta_policy",
    "PolicyRule": "okta_policy_rule",
}
SIGN_IN = (
    "CASE WHEN starts_with(r.eventType, 'user.authentication.')"
    " OR r.eventType = 'user.session.start' THEN 'auth' END"
)
TARGETS = Resource(
    "CASE item.type "
    + " ".join(f"WHEN {sql.literal(k)} THEN {sql.literal(v)}" for k, v in TARGET_TYPES.items())
    + " END",
    "item.id",
    name="coalesce(ir_blank(CASE WHEN item.type = 'User' THEN item.alternateId END),"
    " ir_blank(item.displayName))",
    access=SIGN_IN,
    each="r.target",
    types=tuple(TARGET_TYPES.values()),
)


def detect(record: Mapping[str, Any]) -> bool:
    return "uuid" in record and "eventType" in record and "published" in record


PARSER = Parser(
    name="okta",
    detect=detect,
    time_field="published",
    fields={
        "uuid": "VARCHAR",
        "published": "VARCHAR",
        "eventType": "VARCHAR",
        "outcome": {"result": "VARCHAR", "reason": "VARCHAR"},
        "actor": {"id": "VARCHAR", "alternateId": "VARCHAR", "type": "VARCHAR"},
        "client": {
            "ipAddress": "VARCHAR",
            "userAgent": {"rawUserAgent": "VARCHAR"},
            "geographicalContext": {"country": "VARCHAR"},
        },
        "securityContext": {"asNumber": "VARCHAR"},
        "authenticationContext": {"externalSessionId": "VARCHAR", "rootSessionId": "VARCHAR"},
        "transaction": {"detail": {"requestApiTokenId": "VARCHAR", "rootApiTokenId": "VARCHAR"}},
        "target": [
            {"id": "VARCHAR", "type": "VARCHAR", "alternateId": "VARCHAR", "displayName": "VARCHAR"}
        ],
    },
    event={
        "source_event_id": "r.uuid",
        "time": "ir_time(r.published)",
        "action": "r.eventType",
        "outcome": "CASE WHEN upper(r.outcome.result) IN ('SUCCESS', 'ALLOW') THEN 'success'"
        " WHEN upper(r.outcome.result) IN ('FAILURE', 'DENY') THEN 'failure' ELSE 'unknown' END",
        "error": "CASE WHEN upper(r.outcome.result) IN ('FAILURE', 'DENY') THEN ir_blank(r.outcome.reason) END",
        "actor": ACTOR,
        "client_ip": "ir_blank(r.client.ipAddress)",
        "user_agent": "ir_blank(r.client.userAgent.rawUserAgent)",
        "country": "ir_blank(r.client.geographicalContext.country)",
        "asn": "ir_blank(r.securityContext.asNumber)",
    },
    credentials=(
        CredentialRef("okta_session", "used", value=SESSION, principal=ACTOR),
        CredentialRef(
            "okta_session",
            "issued",
            value=SESSION,
            when=f"ir_blank({ROOT_SESSION}) IS NOT NULL AND {ROOT_SESSION} <> {SESSION}",
            parent=f"ir_id('okta_session', {ROOT_SESSION})",
            via="'rootSessionId'",
            principal=ACTOR,
        ),
        CredentialRef(
            "okta_api_token",
            "used",
            value="r.transaction.detail.requestApiTokenId",
            principal=ACTOR,
        ),
        CredentialRef(
            "okta_api_token",
            "used",
            value="r.transaction.detail.rootApiTokenId",
            when="r.transaction.detail.rootApiTokenId IS DISTINCT FROM r.transaction.detail.requestApiTokenId",
            principal=ACTOR,
        ),
        CredentialRef(
            "okta_api_token",
            "issued",
            value="item.id",
            each="r.target",
            when=f"{TOKEN_TARGET} AND r.eventType = 'system.api_token.create' AND {SUCCEEDED}",
            parent="coalesce(ir_id('okta_session', "
            + SESSION
            + "), ir_id('okta_api_token', r.transaction.detail.requestApiTokenId))",
            via="r.eventType",
            principal=ACTOR,
        ),
        # Clearing a user's sessions ends every session they held before it.
        CredentialRef(
            "okta_user",
            "revoked",
            value="coalesce(ir_blank(item.alternateId), ir_blank(item.id))",
            each="r.target",
            when="item.type = 'User' AND r.eventType = 'user.session.clear'",
            via="r.eventType",
            principal="coalesce(ir_blank(item.alternateId), ir_blank(item.id))",
        ),
        CredentialRef(
            "okta_api_token",
            "revoked",
            value="item.id",
            each="r.target",
            when=f"{TOKEN_TARGET} AND r.eventType = 'system.api_token.revoke'",
            via="r.eventType",
        ),
    ),
    resources=(TARGETS,),
)
