"""Auth0 tenant logs: Management API `/api/v2/logs` arrays, log-stream deliveries, NDJSON.

Verified against auth0/auth0-log-schemas (`schemas/log-types/*.schema.json`:
`s` successful login with `details.session_id`, `sertft` refresh token exchange
with `details.refresh_token.session_id` and `details.access_token_jti`, `srrt`
refresh token revocation with `details.credential_id` required), Auth0's log
event type code list, and the shared conformance sample (FIELD_NOTES §13):
- A log-stream event is `{log_id, data {…}}`, `data.log_id` repeating it; the
  Management API returns the `data` objects themselves (`log_id`, `_id` in
  older exports). Re-deliveries of one log repeat it byte for byte.
- `date` is ISO `Z` with ms; `type` is the event code (`s`, `f`, `seacft`,
  `sertft`, `srrt`, `slo`, …): `f…` codes are failures, `s…` successes;
  `description` says why on failures. `user_id` (`auth0|<hex>`), `user_name`,
  `client_id`, `client_name`, `ip`, `user_agent`, `hostname`, `tenant_name`,
  `location_info.country_code`.
Credentials:
- `auth0_session` = `details.session_id` (or the refresh token's
  `details.refresh_token.session_id`): `s` issues it, `slo` revokes it, other
  events with it use it.
- `auth0_refresh_token` = `details.credential_id` of `srrt` / `ferrt`: revoked
  (the logs name no refresh token id when one is issued or exchanged).
- `jwt_id` = `details.access_token_jti` of a successful token exchange: issued,
  parent = its session, so a leaked access token (a JWT) traces by its `jti`.
Resources: the application (`client_id`, named by `client_name`) a login or token
exchange was for, `auth0_app`, access auth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource

SESSION = "coalesce(ir_blank(r.details.session_id), ir_blank(r.details.refresh_token.session_id))"
USER = "coalesce(ir_blank(r.user_id), ir_blank(r.user_name))"
FAILED = (
    "(starts_with(r.type, 'f') OR ends_with(r.type, '_failed')"
    " OR r.type IN ('limit_wc', 'limit_sul', 'limit_mu', 'pwd_leak', 'api_limit'))"
)
SUCCEEDED = f"(NOT {FAILED} AND (starts_with(r.type, 's') OR contains(r.type, '_succe')))"


# Log event codes of logins and token exchanges, successful and failed (Auth0's list).
SIGN_INS = (
    "s", "f", "fp", "fu", "seacft", "feacft", "seccft", "feccft", "sertft", "fertft",
    "sepft", "fepft", "ssa", "fsa", "scoa", "fcoa", "sens", "fens", "sede", "fede",
)  # fmt: skip
APP = Resource(
    "auth0_app",
    "r.client_id",
    name="r.client_name",
    access="'auth'",
    when=f"r.type IN ({sql.literals(SIGN_INS)})",
)


def detect(record: Mapping[str, Any]) -> bool:
    if "log_id" in record and isinstance(record.get("data"), dict):
        return True
    return ("log_id" in record or "_id" in record) and "date" in record and "type" in record


PARSER = Parser(
    name="auth0",
    detect=detect,
    unwrap="CASE WHEN json_type(record, '$.data') = 'OBJECT' AND json_exists(record, '$.log_id')"
    " THEN record -> '$.data' ELSE record END",
    time_field="date",
    fields={
        "log_id": "VARCHAR",
        "_id": "VARCHAR",
        "date": "VARCHAR",
        "type": "VARCHAR",
        "description": "VARCHAR",
        "client_id": "VARCHAR",
        "client_name": "VARCHAR",
        "ip": "VARCHAR",
        "user_agent": "VARCHAR",
        "hostname": "VARCHAR",
        "tenant_name": "VARCHAR",
        "user_id": "VARCHAR",
        "user_name": "VARCHAR",
        "location_info": {"country_code": "VARCHAR"},
        "details": {
            "session_id": "VARCHAR",
            "refresh_token": {"session_id": "VARCHAR"},
            "access_token_jti": "VARCHAR",
            "credential_id": "VARCHAR",
        },
    },
    event={
        "source_event_id": "coalesce(ir_blank(r.log_id), ir_blank(r._id))",
        "time": "ir_time(r.date)",
        "action": "r.type",
        "outcome": f"CASE WHEN {FAILED} THEN 'failure' WHEN {SUCCEEDED} THEN 'success'"
        " ELSE 'unknown' END",
        "error": f"CASE WHEN {FAILED} THEN coalesce(ir_blank(r.description), r.type) END",
        "actor": f"coalesce({USER}, ir_blank(r.client_id))",
        "tenant": "coalesce(ir_blank(r.tenant_name), ir_blank(r.hostname))",
        "client_ip": "ir_blank(r.ip)",
        "user_agent": "ir_blank(r.user_agent)",
        "country": "ir_blank(r.location_info.country_code)",
    },
    credentials=(
        CredentialRef(
            "auth0_session",
            "issued",
            value=SESSION,
            when="r.type = 's'",
            via="r.type",
            principal=USER,
        ),
        CredentialRef(
            "auth0_session",
            "revoked",
            value=SESSION,
            when="r.type = 'slo'",
            via="r.type",
            principal=USER,
        ),
        CredentialRef(
            "auth0_session",
            "used",
            value=SESSION,
            when="r.type NOT IN ('s', 'slo')",
            principal=USER,
        ),
        CredentialRef(
            "auth0_refresh_token",
            "revoked",
            value="r.details.credential_id",
            when="r.type IN ('srrt', 'ferrt')",
            via="r.type",
            principal=USER,
        ),
        CredentialRef(
            "jwt_id",
            "issued",
            value="r.details.access_token_jti",
            when=SUCCEEDED,
            parent=f"ir_id('auth0_session', {SESSION})",
            via="r.type",
            principal=f"coalesce({USER}, ir_blank(r.client_id))",
        ),
    ),
    resources=(APP,),
)
