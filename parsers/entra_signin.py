"""Entra ID sign-in logs: Graph API pages, Azure Monitor exports, Log Analytics exports.

One sign-in is one event whatever the shape; the shapes only move and rename fields:
- Graph API `GET /auditLogs/signIns` (v1.0 and beta): `{"value": [signIn, ...]}` pages
  (`@odata.nextLink` is paging, not a record); camelCase fields at the top level.
- Azure Monitor diagnostic settings (storage blobs, Event Hub): `{"records": [...]}` or
  NDJSON; the signIn fields under `properties.*`, beside `time`, `category`
  (SignInLogs, NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs,
  MicrosoftServicePrincipalSignInLogs, ManagedIdentitySignInLogs), `tenantId`,
  `resultType` (error code as a string, "0" = success), `callerIpAddress`.
- Log Analytics (SigninLogs, AADNonInteractiveUserSignInLogs,
  AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs): PascalCase columns as
  JSON objects or the portal's CSV export, where datetime columns are renamed
  `<Column> [UTC]` with values like `5/25/2023, 4:32:49.469 AM` and dynamic columns
  (`Status`, `LocationDetails`) are JSON text. `TenantId` there is the *workspace*
  id; the Entra tenant is `AADTenantId`. JSON keys are matched case-sensitively, so
  PascalCase columns are read with `json_extract_string` beside the camelCase struct.

Verified (microsoft-graph-docs `api-reference/beta/resources/signin.md`;
azure-reference-other `azure-monitor-ref/tables/includes/signinlogs-include.md`,
`aadnoninteractiveusersigninlogs-include.md`; Learn AADServicePrincipalSignInLogs;
the shared conformance samples): `id`, `createdDateTime`, `userPrincipalName`,
`userId`, `appId`, `ipAddress`, `userAgent`, `status.errorCode` /
`status.failureReason`, `location.countryOrRegion`, `autonomousSystemNumber`,
`sessionId` ("identifier of the session that was generated during the sign-in"),
`uniqueTokenIdentifier` (base64 request id tracking the issued token),
`incomingTokenType`, `signInEventTypes`, `isInteractive`, `servicePrincipalId`,
`servicePrincipalName`, `servicePrincipalCredentialKeyId` (the key credential the
service principal authenticated with), `federatedCredentialId`, `resourceTenantId`,
`homeTenantId`; Log Analytics `Id`, `CreatedDateTime`, `TimeGenerated`, `IPAddress`,
`UserPrincipalName`, `UserId`, `ResultType`, `ResultDescription`, `UniqueTokenIdentifier`,
`LocationDetails`, `Location` (2-letter country), `AutonomousSystemNumber`, `Category`,
`AADTenantId`, `ServicePrincipalCredentialKeyId`, `FederatedCredentialId`. `SessionId`
and `IncomingTokenType` as Log Analytics columns are seen in public KQL, not in the
table reference.

A sign-in uses its session and issues its token (parent = the session, or for a
service principal the key credential it used); a failed sign-in issued nothing.
`incomingTokenType` (a refresh token or PRT redeemed) is kept in the issued ref's
`via`, after the sign-in category.

Resources (access auth): the application signed in to, `entra_app:<appId>` named by
`appDisplayName`, and the resource it asked a token for, `entra_app:<resourceId>` named
by `resourceDisplayName` (`properties.resourceId` in Azure Monitor records, whose
top-level `resourceId` is the ARM path of the tenant, not an app; Log Analytics
`ResourceIdentity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers._microsoft import column, dynamic, field, log_time
from parsers.base import CredentialRef, Parser, Resource

CATEGORIES = (
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "MicrosoftServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
)
# Log Analytics table (`Type`) and Graph `signInEventTypes` -> the Azure Monitor category.
TABLES = {
    "SigninLogs": "SignInLogs",
    "AADNonInteractiveUserSignInLogs": "NonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs": "ServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs": "ManagedIdentitySignInLogs",
}
EVENT_TYPES = {
    "interactiveUser": "SignInLogs",
    "nonInteractiveUser": "NonInteractiveUserSignInLogs",
    "servicePrincipal": "ServicePrincipalSignInLogs",
    "managedIdentity": "ManagedIdentitySignInLogs",
}


def mapped(expression: str, mapping: Mapping[str, str]) -> str:
    cases = " ".join(
        f"WHEN {sql.literal(key)} THEN {sql.literal(value)}" for key, value in mapping.items()
    )
    return f"(CASE {expression} {cases} END)"


SIGN_IN = {
    "id": "VARCHAR",
    "createdDateTime": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "userId": "VARCHAR",
    "appId": "VARCHAR",
    "appDisplayName": "VARCHAR",
    "resourceId": "VARCHAR",
    "resourceDisplayName": "VARCHAR",
    "ipAddress": "VARCHAR",
    "userAgent": "VARCHAR",
    "sessionId": "VARCHAR",
    "uniqueTokenIdentifier": "VARCHAR",
    "incomingTokenType": "VARCHAR",
    "isInteractive": "VARCHAR",
    "signInEventTypes": ["VARCHAR"],
    "servicePrincipalId": "VARCHAR",
    "servicePrincipalName": "VARCHAR",
    "servicePrincipalCredentialKeyId": "VARCHAR",
    "federatedCredentialId": "VARCHAR",
    "resourceTenantId": "VARCHAR",
    "homeTenantId": "VARCHAR",
    "autonomousSystemNumber": "VARCHAR",
    "status": {"errorCode": "VARCHAR", "failureReason": "VARCHAR"},
    "location": {"countryOrRegion": "VARCHAR"},
}

UPN = field("userPrincipalName", "UserPrincipalName")
USER_ID = field("userId", "UserId")
SP_ID = field("servicePrincipalId", "ServicePrincipalId")
SP_NAME = (
    f"coalesce({field('servicePrincipalName', 'ServicePrincipalName')},"
    f" {field('appDisplayName', 'AppDisplayName')})"
)
APP_ID = field("appId", "AppId")
SESSION = field("sessionId", "SessionId")
TOKEN = field("uniqueTokenIdentifier", "UniqueTokenIdentifier")
TOKEN_TYPE = field("incomingTokenType", "IncomingTokenType")
KEY_ID = field("servicePrincipalCredentialKeyId", "ServicePrincipalCredentialKeyId")
FEDERATED_ID = field("federatedCredentialId", "FederatedCredentialId")
PRINCIPAL = f"coalesce({UPN}, {USER_ID}, {SP_NAME}, {SP_ID}, {APP_ID})"
CODE = (
    "coalesce(ir_blank(r.properties.status.errorCode), ir_blank(r.status.errorCode),"
    f" ir_blank(r.resultType), {column('ResultType')}, {dynamic('Status', 'errorCode')})"
)
REASON = (
    "coalesce(ir_blank(r.properties.status.failureReason), ir_blank(r.status.failureReason),"
    f" ir_blank(r.resultDescription), {column('ResultDescription')},"
    f" {dynamic('Status', 'failureReason')})"
)
SUCCEEDED = f"lower({CODE}) IN ('0', 'success')"
FAILED = f"({CODE} IS NOT NULL AND NOT {SUCCEEDED})"
APP_NAME = field("appDisplayName", "AppDisplayName")
# Graph pages: the resource app at the top; Azure Monitor: under properties (the top-level
# resourceId there is the tenant's ARM path).
RESOURCE_ID = (
    "coalesce(ir_blank(r.properties.resourceId),"
    f" CASE WHEN r.properties IS NULL THEN ir_blank(r.resourceId) END, {column('ResourceIdentity')})"
)
RESOURCES = (
    Resource("entra_app", APP_ID, name=APP_NAME, access="'auth'"),
    Resource(
        "entra_app",
        RESOURCE_ID,
        name=field("resourceDisplayName", "ResourceDisplayName"),
        access="'auth'",
    ),
)
INTERACTIVE = field("isInteractive", "IsInteractive")
EVENT_TYPE = "coalesce(r.properties.signInEventTypes, r.signInEventTypes)[1]"
BY_INTERACTIVE = {"true": "SignInLogs", "false": "NonInteractiveUserSignInLogs"}
# The Azure Monitor category; Graph pages say it in signInEventTypes (beta) or isInteractive.
CATEGORY = (
    f"coalesce(ir_blank(r.category), {column('Category')}, {mapped(column('Type'), TABLES)},"
    f" {mapped(EVENT_TYPE, EVENT_TYPES)}, {mapped(f'lower({INTERACTIVE})', BY_INTERACTIVE)},"
    " 'Sign-in activity')"
)
VIA = (
    f"{CATEGORY} || CASE WHEN lower({TOKEN_TYPE}) <> 'none'"
    f" THEN ' (incomingTokenType ' || {TOKEN_TYPE} || ')' ELSE '' END"
)


def detect(record: Mapping[str, Any]) -> bool:
    if isinstance(record.get("properties"), dict):
        return record.get("category") in CATEGORIES
    if record.get("Type") in TABLES or record.get("Category") in CATEGORIES:
        return True
    if record.get("OperationName") == "Sign-in activity":
        return True
    return (
        "createdDateTime" in record
        and "appId" in record
        and ("ipAddress" in record or "status" in record)
    )


PARSER = Parser(
    name="entra_signin",
    detect=detect,
    time_field="createdDateTime / time / CreatedDateTime / TimeGenerated",
    fields={
        **SIGN_IN,
        "properties": SIGN_IN,
        "time": "VARCHAR",
        "category": "VARCHAR",
        "tenantId": "VARCHAR",
        "resultType": "VARCHAR",
        "resultDescription": "VARCHAR",
        "callerIpAddress": "VARCHAR",
    },
    event={
        "source_event_id": field("id", "Id"),
        "time": "coalesce(ir_time(r.properties.createdDateTime), ir_time(r.createdDateTime),"
        f" ir_time(r.time), {log_time('CreatedDateTime', 'TimeGenerated')})",
        "action": CATEGORY,
        "outcome": f"CASE WHEN {CODE} IS NULL THEN 'unknown' WHEN {SUCCEEDED} THEN 'success'"
        " ELSE 'failure' END",
        "error": f"CASE WHEN {FAILED} THEN concat_ws(': ', {CODE}, {REASON}) END",
        "actor": PRINCIPAL,
        "tenant": f"coalesce(ir_blank(r.tenantId), {column('AADTenantId')},"
        f" {field('resourceTenantId', 'ResourceTenantId')},"
        f" {field('homeTenantId', 'HomeTenantId')})",
        "client_ip": f"coalesce({field('ipAddress', 'IPAddress')}, ir_blank(r.callerIpAddress))",
        "user_agent": field("userAgent", "UserAgent"),
        "country": f"coalesce(ir_blank(r.properties.location.countryOrRegion),"
        f" ir_blank(r.location.countryOrRegion), {dynamic('LocationDetails', 'countryOrRegion')},"
        f" {column('Location')})",
        "asn": field("autonomousSystemNumber", "AutonomousSystemNumber"),
    },
    credentials=(
        CredentialRef("entra_session", "used", value=SESSION, principal=PRINCIPAL),
        CredentialRef(
            "entra_uti",
            "issued",
            value=TOKEN,
            when=f"NOT {FAILED}",
            parent=f"coalesce(ir_id('entra_session', {SESSION}),"
            f" ir_id('entra_app_credential', {KEY_ID}),"
            f" ir_id('entra_app_credential', {FEDERATED_ID}))",
            via=VIA,
            principal=PRINCIPAL,
        ),
        CredentialRef("entra_app_credential", "used", value=KEY_ID, principal=PRINCIPAL),
        CredentialRef("entra_app_credential", "used", value=FEDERATED_ID, principal=PRINCIPAL),
    ),
    resources=RESOURCES,
)
