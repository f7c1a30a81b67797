"""Google Workspace: Admin SDK Reports activities, and the same events shared to Cloud Logging.

Verified against the Reports API reference (activities.list: `{kind
"admin#reports#activities", items [...]}`; the OAuth Token Audit appendix,
developers.google.com/admin-sdk/reports/v1/appendix/activity/token), Google
Cloud's "Samples for Google Workspace Login Audit" and public Cloud Logging
records of Workspace events, and the shared conformance samples (FIELD_NOTES §8):
- An activity is `{kind "admin#reports#activity", id {time, uniqueQualifier,
  applicationName, customerId}, actor {email, profileId, callerType,
  applicationInfo {oauthClientId}}, ipAddress, ownerDomain, events}`.
  `uniqueQualifier` and `profileId` are numbers in some records, strings in
  others. `events` is the API's array, or ONE object in Elastic's split
  records: each event is one ir event, the first keeping `uniqueQualifier`,
  the n-th `<uniqueQualifier>#<n>` (contract §2).
- An event is `{type, name, parameters [{name, value | intValue | boolValue |
  multiValue | multiMessageValue}]}`; `intValue` is a string in the API, a
  number in Elastic's records.
- Cloud Logging (Workspace data shared with Google Cloud): a LogEntry whose
  `protoPayload.metadata` is a `ccc_hosted_reporting.ActivityProto`:
  `activityId {timeUsec, uniqQualifier}`, `event [{eventType, eventName,
  parameter [{name, value, intValue, boolValue, multiStrValue}]}]`; the actor
  is `authenticationInfo.principalEmail`, the IP `requestMetadata.callerIp`.
  Parameter names are taken to be the Reports API's (not seen for `token`).
- Token events (`applicationName` token): `authorize` (access granted),
  `activity` (an API call with the grant: `api_name`, `method_name`),
  `revoke`, `request`, `deny`; `client_id` is "Client ID to which access has
  been granted / revoked", `app_name`, `scope`.
Credentials (contract §1): `google_oauth_client` = `client_id` (or
`actor.applicationInfo.oauthClientId` on other applications' events), used;
`google_oauth_grant` = `<client_id>/<actor email>`: `authorize` issues it
(parent: the client), `activity` and app-made events use it, `revoke` revokes
it. The Reports API logs no login session id: login events carry no credential.
The grant's scopes are the `authorize` event's `scope` (a `multiValue` list; Cloud
Logging `multiStrValue`).
Resources: Drive `doc_id` named by `doc_title` (`google_drive_file`); the OAuth app of a
token event, `client_id` named by `app_name` (`google_oauth_app`: authorize, request and
deny are auth); the user an admin event acts on, `USER_EMAIL` (`google_user`). Access
otherwise by the shared rule over the event name (view, download: read; edit: write;
GRANT_ADMIN_PRIVILEGE, CHANGE_USER_PASSWORD: admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource, explode_sql

PARAMETER = {
    "name": "VARCHAR",
    "value": "VARCHAR",
    "intValue": "VARCHAR",
    "boolValue": "VARCHAR",
    "multiValue": ["VARCHAR"],
    "multiStrValue": ["VARCHAR"],
}
# One struct for both event shapes: the API's (type, name, parameters) and
# Cloud Logging's (eventType, eventName, parameter).
EVENT = {
    "type": "VARCHAR",
    "name": "VARCHAR",
    "parameters": [PARAMETER],
    "eventType": "VARCHAR",
    "eventName": "VARCHAR",
    "parameter": [PARAMETER],
    "status": {"success": "VARCHAR"},
}


def parameter(name: str) -> str:
    """The value of the event's parameter `name` (either shape), NULL when absent."""
    found = (
        "list_filter(coalesce(element.parameters, element.parameter), "
        f"lambda p: p.name = {sql.literal(name)})[1]"
    )
    return f"ir_blank(coalesce(({found}).value, ({found}).intValue))"


def parameter_list(name: str) -> str:
    """The list value of the event's parameter `name` (either shape), NULL when absent."""
    found = (
        "list_filter(coalesce(element.parameters, element.parameter), "
        f"lambda p: p.name = {sql.literal(name)})[1]"
    )
    return f"coalesce(({found}).multiValue, ({found}).multiStrValue)"


NAME = "coalesce(element.name, element.eventName)"
APPLICATION = "coalesce(r.id.applicationName, 'token')"
ACTOR_EMAIL = (
    "coalesce(ir_blank(r.actor.email), ir_blank(r.protoPayload.authenticationInfo.principalEmail))"
)
CLIENT = parameter("client_id")
TOKEN_EVENT = (
    f"{APPLICATION} = 'token' AND {NAME} IN ('authorize', 'activity', 'revoke', 'request', 'deny')"
)
GRANT = f"{CLIENT} || '/' || {ACTOR_EMAIL}"
APP_CLIENT = "ir_blank(r.actor.applicationInfo.oauthClientId)"
FAILED = f"({NAME} IN ('login_failure', 'deny') OR lower(element.status.success) = 'false')"
RESOURCES = (
    Resource("google_drive_file", parameter("doc_id"), name=parameter("doc_title")),
    Resource(
        "google_oauth_app",
        CLIENT,
        name=parameter("app_name"),
        access=f"CASE WHEN {NAME} IN ('authorize', 'request', 'deny') THEN 'auth' END",
        when=f"{TOKEN_EVENT} AND {NAME} <> 'activity'",
    ),
    Resource("google_user", parameter("USER_EMAIL"), when=f"{APPLICATION} = 'admin'"),
)


def detect(record: Mapping[str, Any]) -> bool:
    if record.get("kind") == "admin#reports#activity":
        return True
    payload = record.get("protoPayload")
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    return isinstance(metadata, dict) and str(metadata.get("@type", "")).endswith(
        "ccc_hosted_reporting.ActivityProto"
    )


PARSER = Parser(
    name="google_workspace",
    detect=detect,
    time_field="id.time / timestamp",
    fields={
        "id": {
            "time": "VARCHAR",
            "uniqueQualifier": "VARCHAR",
            "applicationName": "VARCHAR",
            "customerId": "VARCHAR",
        },
        "actor": {
            "email": "VARCHAR",
            "profileId": "VARCHAR",
            "applicationInfo": {"oauthClientId": "VARCHAR"},
        },
        "ipAddress": "VARCHAR",
        "insertId": "VARCHAR",
        "timestamp": "VARCHAR",
        "logName": "VARCHAR",
        "protoPayload": {
            "authenticationInfo": {"principalEmail": "VARCHAR"},
            "requestMetadata": {"callerIp": "VARCHAR", "callerSuppliedUserAgent": "VARCHAR"},
            "metadata": {"activityId": {"timeUsec": "VARCHAR", "uniqQualifier": "VARCHAR"}},
        },
    },
    explode=f"coalesce({explode_sql(('events',), EVENT)},"
    f" {explode_sql(('protoPayload', 'metadata', 'event'), EVENT)})",
    event={
        "source_event_id": "coalesce(ir_blank(r.id.uniqueQualifier),"
        " ir_blank(r.protoPayload.metadata.activityId.uniqQualifier))",
        "time": "coalesce(ir_time(r.id.time), ir_time(r.timestamp),"
        " ir_time(r.protoPayload.metadata.activityId.timeUsec))",
        "action": NAME,
        "outcome": f"CASE WHEN {FAILED} THEN 'failure' ELSE 'success' END",
        "error": f"CASE WHEN {FAILED} THEN coalesce({parameter('login_failure_type')}, {NAME}) END",
        "actor": f"coalesce({ACTOR_EMAIL}, ir_blank(r.actor.profileId))",
        "tenant": "coalesce(ir_blank(r.id.customerId),"
        " nullif(regexp_extract(r.logName, '^organizations/([^/]+)', 1), ''))",
        "client_ip": "coalesce(ir_blank(r.ipAddress), ir_blank(r.protoPayload.requestMetadata.callerIp))",
        "user_agent": "ir_blank(r.protoPayload.requestMetadata.callerSuppliedUserAgent)",
    },
    credentials=(
        CredentialRef(
            "google_oauth_client", "used", value=CLIENT, when=TOKEN_EVENT, principal=ACTOR_EMAIL
        ),
        CredentialRef(
            "google_oauth_grant",
            "issued",
            value=GRANT,
            when=f"{TOKEN_EVENT} AND {NAME} = 'authorize'",
            parent=f"ir_id('google_oauth_client', {CLIENT})",
            via=NAME,
            principal=ACTOR_EMAIL,
            scopes=parameter_list("scope"),
        ),
        CredentialRef(
            "google_oauth_grant",
            "used",
            value=GRANT,
            when=f"{TOKEN_EVENT} AND {NAME} = 'activity'",
            principal=ACTOR_EMAIL,
        ),
        CredentialRef(
            "google_oauth_grant",
            "revoked",
            value=GRANT,
            when=f"{TOKEN_EVENT} AND {NAME} = 'revoke'",
            via=NAME,
            principal=ACTOR_EMAIL,
        ),
        # Another application's event made by an OAuth app on the user's behalf.
        CredentialRef("google_oauth_client", "used", value=APP_CLIENT, principal=ACTOR_EMAIL),
        CredentialRef(
            "google_oauth_grant",
            "used",
            value=f"{APP_CLIENT} || '/' || {ACTOR_EMAIL}",
            principal=ACTOR_EMAIL,
        ),
    ),
    resources=RESOURCES,
)
