"""Entra ID directory audit logs: Graph API pages, Azure Monitor exports, Log Analytics exports.

Same shapes as the sign-in logs (see parsers/entra_signin.py): Graph
`GET /auditLogs/directoryAudits` pages (`{"value": [...]}`), Azure Monitor records
with the directoryAudit under `properties.*` (`category` "AuditLogs", `tenantId`,
lower-case `level` in some exports), and Log Analytics `AuditLogs` rows whose
`InitiatedBy`, `TargetResources` and `AdditionalDetails` are objects or JSON text.

Verified (microsoft-graph-docs `directoryaudit.md`, beta `auditActivityInitiator` /
`linkableIdentifiers` on Learn; azure-reference-other `auditlogs-include.md`; Entra
"audit log categories and activities" reference; the shared conformance sample):
`id`, `activityDateTime`, `activityDisplayName`, `result` (success / failure /
timeout), `resultReason`, `initiatedBy.user.{id,userPrincipalName,ipAddress}`,
`initiatedBy.app.{appId,displayName,servicePrincipalId}`,
`initiatedBy.linkableIdentifiers.{sessionId, tokenDetails.uniqueTokenIdentifier}`
(beta: the session and token of the initiator), `targetResources[].{id,
displayName, type, userPrincipalName, modifiedProperties[].{displayName, oldValue,
newValue}}`, `additionalDetails[]` key/value (`User-Agent`); Log Analytics `Id`,
`ActivityDateTime`, `ActivityDisplayName`, `OperationName`, `Result`,
`ResultReason`, `InitiatedBy`, `TargetResources`, `AdditionalDetails`, `AADTenantId`.

Application credentials: a `KeyDescription` modified property lists the keys of an
application or service principal as `["[KeyIdentifier=<keyId>,KeyType=Password,
KeyUsage=Verify,DisplayName=<name>]", ...]` before (oldValue) and after (newValue)
the change ("Add service principal credentials", "Remove service principal
credentials", "Update application - Certificates and secrets management", written
with a hyphen or an en dash; seen in public audit samples and detection rules).
`FederatedIdentityCredentials` lists federated credentials as JSON with their `Id`
(Stratus Red Team sample). Whatever the activity, keys only in newValue are issued
and keys only in oldValue revoked, as `entra_app_credential:<keyId>`: the same id
a service principal sign-in logs in `servicePrincipalCredentialKeyId`.

User-wide revocations revoke `entra_user:<userPrincipalName>` (object id when the
target has none): "Update StsRefreshTokenValidFrom Timestamp" (what revoking a
user's sessions logs), password resets and changes, "Disable account", "Delete user".
Failed or timed-out activities change nothing and carry no issued / revoked ref.

Resources: each `targetResources[]` entry by its `type` (User, Group, Application,
ServicePrincipal, Role, Device, Policy; other types `entra_object`), id its `id`, named
by its `userPrincipalName` or `displayName`; access by the shared rule over the activity
("Add service principal credentials", "Add member to role": admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers._microsoft import column, dynamic, dynamic_json, field, log_time
from parsers.base import CredentialRef, Parser, Resource

REVOKING_USER = (
    "Update StsRefreshTokenValidFrom Timestamp",
    "Reset password",
    "Reset password (by admin)",
    "Reset password (self-service)",
    "User Password Reset",
    "Change user password",
    "Change password (self-service)",
    "Disable account",
    "Delete user",
)
USER = {"id": "VARCHAR", "userPrincipalName": "VARCHAR", "ipAddress": "VARCHAR"}
APP = {
    "appId": "VARCHAR",
    "displayName": "VARCHAR",
    "servicePrincipalId": "VARCHAR",
    "servicePrincipalName": "VARCHAR",
}
LINKABLE = {"sessionId": "VARCHAR", "tokenDetails": {"uniqueTokenIdentifier": "VARCHAR"}}
TARGET = {
    "id": "VARCHAR",
    "displayName": "VARCHAR",
    "type": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "modifiedProperties": [
        {"displayName": "VARCHAR", "oldValue": "VARCHAR", "newValue": "VARCHAR"}
    ],
}
AUDIT = {
    "id": "VARCHAR",
    "activityDateTime": "VARCHAR",
    "activityDisplayName": "VARCHAR",
    "result": "VARCHAR",
    "resultReason": "VARCHAR",
    "initiatedBy": {"user": USER, "app": APP, "linkableIdentifiers": LINKABLE},
    "targetResources": [TARGET],
    "additionalDetails": [{"key": "VARCHAR", "value": "VARCHAR"}],
}


def initiator(path: str) -> str:
    return (
        f"coalesce(ir_blank(r.properties.initiatedBy.{path}), ir_blank(r.initiatedBy.{path}),"
        f" {dynamic('InitiatedBy', path)})"
    )


def listed(name: str, structure: Any) -> str:
    """A list of the directoryAudit, in whichever shape the record has it."""
    camel = name[0].lower() + name[1:]
    return (
        f"coalesce(r.properties.{camel}, r.{camel},"
        f" json_transform({dynamic_json(name)}, {sql.structure([structure])}))"
    )


ACTION = (
    f"coalesce({field('activityDisplayName', 'ActivityDisplayName')}, {column('OperationName')})"
)
RESULT = f"lower({field('result', 'Result')})"
SUCCEEDED = f"coalesce({RESULT}, 'success') = 'success'"
TARGETS = listed("TargetResources", TARGET)
DETAILS = listed("AdditionalDetails", {"key": "VARCHAR", "value": "VARCHAR"})
ACTOR_UPN = initiator("user.userPrincipalName")
ACTOR = (
    f"coalesce({ACTOR_UPN}, {initiator('user.id')}, {initiator('app.displayName')},"
    f" {initiator('app.servicePrincipalName')}, {initiator('app.appId')},"
    f" {initiator('app.servicePrincipalId')})"
)
SESSION = initiator("linkableIdentifiers.sessionId")
TOKEN = initiator("linkableIdentifiers.tokenDetails.uniqueTokenIdentifier")
KEY_PROPERTIES = ("KeyDescription", "FederatedIdentityCredentials")
KEY_ID = r"""'KeyIdentifier=([^,\]"]+)'"""
FEDERATED_ID = r"""'"Id"\s*:\s*"([^"]+)"'"""


TARGET_TYPES = {
    "user": "entra_user",
    "group": "entra_group",
    "application": "entra_app",
    "serviceprincipal": "entra_service_principal",
    "role": "entra_role",
    "device": "entra_device",
    "policy": "entra_policy",
}
TARGET_RESOURCES = Resource(
    "CASE lower(item.type) "
    + " ".join(f"WHEN {sql.literal(k)} THEN {sql.literal(v)}" for k, v in TARGET_TYPES.items())
    + " ELSE 'entra_object' END",
    "item.id",
    name="coalesce(ir_blank(item.userPrincipalName), ir_blank(item.displayName))",
    each=TARGETS,
    types=(*TARGET_TYPES.values(), "entra_object"),
)


def _key_ids(value: str) -> str:
    """Key ids in a KeyDescription / FederatedIdentityCredentials value (JSON text)."""
    return (
        f"CASE WHEN p.displayName = 'KeyDescription'"
        f" THEN regexp_extract_all(coalesce({value}, ''), {KEY_ID}, 1)"
        f" ELSE regexp_extract_all(coalesce({value}, ''), {FEDERATED_ID}, 1) END"
    )


def changed_keys(appearing: str, disappearing: str) -> str:
    """`{key, owner}` for each key id in `appearing` but not in `disappearing`, per target."""
    return (
        f"flatten(list_transform({TARGETS}, lambda t: flatten(list_transform("
        "list_filter(coalesce(t.modifiedProperties, []),"
        f" lambda p: p.displayName IN ({sql.literals(KEY_PROPERTIES)})),"
        f" lambda p: list_transform(list_filter({_key_ids(appearing)},"
        f" lambda k: NOT list_contains({_key_ids(disappearing)}, k)),"
        " lambda k: {'key': k, 'owner': coalesce(ir_blank(t.displayName), ir_blank(t.id))})))))"
    )


def detect(record: Mapping[str, Any]) -> bool:
    if isinstance(record.get("properties"), dict):
        return record.get("category") == "AuditLogs"
    if record.get("Type") == "AuditLogs":
        return True
    if "ActivityDisplayName" in record and "ActivityDateTime" in record:
        return True
    return "activityDisplayName" in record and "activityDateTime" in record


PARSER = Parser(
    name="entra_audit",
    detect=detect,
    time_field="activityDateTime / time / ActivityDateTime / TimeGenerated",
    fields={
        **AUDIT,
        "properties": AUDIT,
        "time": "VARCHAR",
        "tenantId": "VARCHAR",
        "callerIpAddress": "VARCHAR",
    },
    event={
        "source_event_id": field("id", "Id"),
        "time": "coalesce(ir_time(r.properties.activityDateTime), ir_time(r.activityDateTime),"
        f" ir_time(r.time), {log_time('ActivityDateTime', 'TimeGenerated')})",
        "action": ACTION,
        "outcome": f"CASE WHEN {RESULT} IS NULL THEN 'unknown' WHEN {RESULT} = 'success'"
        " THEN 'success' ELSE 'failure' END",
        "error": f"CASE WHEN NOT {SUCCEEDED} THEN coalesce({field('resultReason', 'ResultReason')},"
        f" {RESULT}) END",
        "actor": ACTOR,
        "tenant": f"coalesce(ir_blank(r.tenantId), {column('AADTenantId')})",
        "client_ip": f"coalesce({initiator('user.ipAddress')}, ir_blank(r.callerIpAddress))",
        "user_agent": f"ir_blank(list_filter({DETAILS}, lambda d: d.key = 'User-Agent')[1].value)",
    },
    credentials=(
        CredentialRef("entra_session", "used", value=SESSION, principal=ACTOR_UPN),
        CredentialRef("entra_uti", "used", value=TOKEN, principal=ACTOR_UPN),
        CredentialRef(
            "entra_app_credential",
            "issued",
            value="item.key",
            each=changed_keys("p.newValue", "p.oldValue"),
            when=SUCCEEDED,
            parent=f"coalesce(ir_id('entra_session', {SESSION}), ir_id('entra_uti', {TOKEN}))",
            via=ACTION,
            principal="item.owner",
        ),
        CredentialRef(
            "entra_app_credential",
            "revoked",
            value="item.key",
            each=changed_keys("p.oldValue", "p.newValue"),
            when=SUCCEEDED,
            via=ACTION,
            principal="item.owner",
        ),
        CredentialRef(
            "entra_user",
            "revoked",
            value="coalesce(ir_blank(item.userPrincipalName), ir_blank(item.id))",
            each=TARGETS,
            when=f"{SUCCEEDED} AND {ACTION} IN ({sql.literals(REVOKING_USER)})"
            " AND coalesce(lower(item.type), 'user') = 'user'",
            via=ACTION,
            principal="coalesce(ir_blank(item.userPrincipalName), ir_blank(item.id))",
        ),
    ),
    resources=(TARGET_RESOURCES,),
)
