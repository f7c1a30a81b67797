"""Microsoft Graph activity logs: Azure Monitor exports (storage / Event Hub), Log Analytics.

One record per Graph API request:
- diagnostic-settings exports, `{"records": [...]}` or NDJSON, with `category`
  "MicrosoftGraphActivityLogs", `time`, `tenantId`, `callerIpAddress` at the top and
  the request under `properties.*` (camelCase);
- Log Analytics `MicrosoftGraphActivityLogs` rows (PascalCase, JSON or portal CSV;
  `TenantId` is the workspace, the tenant is `AadTenantId`).

Verified (azure-reference-other `microsoftgraphactivitylogs-include.md`, Learn table
reference, the shared conformance sample): `properties.requestId` (the request),
`requestMethod`, `requestUri`, `responseStatusCode`, `ipAddress`, `userAgent`,
`userId` (null for app-only calls), `servicePrincipalId`, `appId`, `tenantId`,
`timeGenerated`, `signInActivityId` (the token's sign-in: its `uniqueTokenIdentifier`),
`tokenIssuedAt`, `scopes` / `roles`; the session (`sid` claim) as `c_Sid` in the
sample (`C_Sid` in contract §1; `sessionId` / `SessionId` where exported); Log
Analytics `RequestId`, `TimeGenerated`, `IPAddress`, `UserAgent`, `UserId`,
`ServicePrincipalId`, `AppId`, `RequestMethod`, `RequestUri`, `ResponseStatusCode`,
`SignInActivityId`, `AadTenantId`. Graph activity logs carry no user principal name:
the principal is the user object id (the service principal for app-only calls).

Resources: the request's path (`requestUri` without host, API version and query;
`graph_resource:users/<id>/messages`); GET and HEAD read, other methods by the shared rule
over the action (method and path). Scopes: the token's delegated `scopes` and
application `roles` (space-separated strings in the sample; Log Analytics `Scopes` /
`Roles`), on its `entra_uti` ref.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers._microsoft import column, log_time
from parsers.base import CredentialRef, Parser, Resource, split_scopes

CATEGORY = "MicrosoftGraphActivityLogs"
# Log Analytics rows: PascalCase columns, no Azure Monitor `properties`.
LOG_ANALYTICS = "(r.properties IS NULL)"
# Exports spell the session in several ways (see the module notes); one parse finds them all.
SESSION_PATHS = [
    f"$.{path}"
    for path in (
        "properties.sessionId",
        "properties.c_Sid",
        "properties.C_Sid",
        "properties.SessionId",
        "SessionId",
        "C_Sid",
        "c_Sid",
    )
]


def field(path: str, name: str) -> str:
    return f"coalesce(ir_blank(r.properties.{path}), {column(name, LOG_ANALYTICS)})"


USER_ID = field("userId", "UserId")
PRINCIPAL = f"coalesce({USER_ID}, {field('servicePrincipalId', 'ServicePrincipalId')},"
PRINCIPAL += f" {field('appId', 'AppId')})"
STATUS = f"try_cast(coalesce({field('responseStatusCode', 'ResponseStatusCode')},"
STATUS += " ir_blank(r.resultSignature)) AS INTEGER)"
URI = field("requestUri", "RequestUri")
METHOD = f"upper({field('requestMethod', 'RequestMethod')})"
PATH = (
    f"nullif(regexp_replace(regexp_extract({URI},"
    " '^(?:[a-zA-Z]+://[^/]+)?/*(?:v1\\.0|beta)?/+([^?]*)', 1), '/+', '/', 'g'), '')"
)
SCOPES = (
    f"list_concat(coalesce({split_scopes(field('scopes', 'Scopes'))}, []),"
    f" coalesce({split_scopes(field('roles', 'Roles'))}, []))"
)
RESOURCES = (
    Resource(
        "graph_resource",
        PATH,
        access=f"CASE WHEN {METHOD} IN ('GET', 'HEAD') THEN 'read' END",
    ),
)
SESSION = (
    f"ir_blank(list_filter(json_extract_string(vendor_record, [{sql.literals(SESSION_PATHS)}]),"
    " lambda v: ir_blank(v) IS NOT NULL)[1])"
)


def detect(record: Mapping[str, Any]) -> bool:
    if isinstance(record.get("properties"), dict):
        return record.get("category") == CATEGORY
    return record.get("Type") == CATEGORY or (
        "RequestUri" in record and "SignInActivityId" in record
    )


PARSER = Parser(
    name="graph_activity",
    detect=detect,
    time_field="time / properties.timeGenerated / TimeGenerated",
    fields={
        "time": "VARCHAR",
        "tenantId": "VARCHAR",
        "callerIpAddress": "VARCHAR",
        "resultSignature": "VARCHAR",
        "properties": {
            "requestId": "VARCHAR",
            "timeGenerated": "VARCHAR",
            "requestMethod": "VARCHAR",
            "requestUri": "VARCHAR",
            "responseStatusCode": "VARCHAR",
            "ipAddress": "VARCHAR",
            "userAgent": "VARCHAR",
            "userId": "VARCHAR",
            "servicePrincipalId": "VARCHAR",
            "appId": "VARCHAR",
            "tenantId": "VARCHAR",
            "signInActivityId": "VARCHAR",
            "scopes": "VARCHAR",
            "roles": "VARCHAR",
        },
    },
    event={
        "source_event_id": field("requestId", "RequestId"),
        "time": "coalesce(ir_time(r.time), ir_time(r.properties.timeGenerated),"
        f" {log_time('TimeGenerated', log_analytics=LOG_ANALYTICS)})",
        # Method and path: the query string ($select, $filter, …) stays in the evidence.
        "action": f"concat_ws(' ', upper({field('requestMethod', 'RequestMethod')}),"
        f" regexp_extract({URI}, '^(?:[a-zA-Z]+://[^/]+)?([^?]*)', 1))",
        "outcome": f"CASE WHEN {STATUS} IS NULL THEN 'unknown' WHEN {STATUS} >= 400"
        " THEN 'failure' ELSE 'success' END",
        "error": f"CASE WHEN {STATUS} >= 400 THEN 'HTTP ' || {STATUS} END",
        "actor": PRINCIPAL,
        "tenant": f"coalesce(ir_blank(r.tenantId), ir_blank(r.properties.tenantId),"
        f" {column('AadTenantId', LOG_ANALYTICS)}, {column('AADTenantId', LOG_ANALYTICS)})",
        "client_ip": f"coalesce({field('ipAddress', 'IPAddress')}, ir_blank(r.callerIpAddress))",
        "user_agent": field("userAgent", "UserAgent"),
    },
    credentials=(
        CredentialRef("entra_session", "used", value=SESSION, principal=PRINCIPAL),
        CredentialRef(
            "entra_uti",
            "used",
            value=field("signInActivityId", "SignInActivityId"),
            principal=PRINCIPAL,
            scopes=f"nullif({SCOPES}, [])",
        ),
    ),
    resources=RESOURCES,
)
