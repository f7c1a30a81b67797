"""Google Cloud Audit Logs: LogEntry JSON (`gcloud logging read` arrays), NDJSON sink files.

Verified against the Cloud Logging LogEntry and `google.cloud.audit.AuditLog`
references (AuthenticationInfo: `principalEmail`, `principalSubject` "for third
party identity callers", `serviceAccountKeyName` "the name of the service
account key used to create or exchange credentials …
//iam.googleapis.com/projects/{PROJECT_ID}/serviceAccounts/{ACCOUNT}/keys/{key}",
`serviceAccountDelegationInfo[]` {firstPartyPrincipal {principalEmail},
principalSubject}), the IAM API's ServiceAccountKey resource
(`projects/{PROJECT}/serviceAccounts/{ACCOUNT}/keys/{KEY}`) and the shared
conformance samples (FIELD_NOTES §11):
- `insertId` identifies the entry; `timestamp` is ISO `Z` with 3, 6 or 9
  fractional digits; `logName` is `projects/<p>/logs/cloudaudit.googleapis.com%2F…`.
- `protoPayload`: `serviceName`, `methodName`, `resourceName`, `status {code,
  message}` (absent or code 0 = success), `requestMetadata {callerIp,
  callerSuppliedUserAgent}`, `request` / `response` with `@type`.
- iamcredentials `GenerateAccessToken` has only `principalSubject` (workload
  identity federation) and names the target account in `request.name`.
- Workspace events shared to Cloud Logging (`metadata` ActivityProto) belong to
  google_workspace, GKE's `k8s.io` entries to k8s_audit.
- Pipelines touch the record on the way: some rename `@type` (`at_sign_type`), some
  re-case keys within one file (`callerIP`, `principalemail`). An entry is still an
  audit log by its `logName` (`…/logs/cloudaudit.googleapis.com%2F…`) and its
  `protoPayload`; the caller, its key, address and agent are read whatever their case.
Credentials:
- `gcp_sa_key` = the key id, the last segment of the key's resource name: the
  other segments vary between events for one key (`projects/-` or the project,
  the account's email or its numeric id), the key id does not, and it is what
  the console and `gcloud iam service-accounts keys list` show. Used by any call
  authenticated with it (`serviceAccountKeyName`); CreateServiceAccountKey /
  UploadServiceAccountKey issue it (`response.name`; parent: the caller's key),
  EnableServiceAccountKey re-issues it, Disable / DeleteServiceAccountKey
  revoke it (`request.name`, else `resourceName`).
- `gcp_sa_impersonation` = `<caller>/<service account email>` stands for the
  short-lived credentials iamcredentials mints (GenerateAccessToken,
  GenerateIdToken, SignJwt, SignBlob): issued there (parent: the caller's key),
  used by calls whose `serviceAccountDelegationInfo` names the caller as the
  delegating principal of that service account.
Resources: `protoPayload.resourceName` as `gcp_resource` (a project, a service account,
a key, a bucket object: the name the API was called on), access by the shared rule over
`methodName` (CreateServiceAccountKey, SetIamPolicy: admin; storage.objects.get: read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource, any_case

AUDIT_LOG = "google.cloud.audit.AuditLog"
MINTING = ("GenerateAccessToken", "GenerateIdToken", "SignJwt", "SignBlob")
KEY_CREATION = ("CreateServiceAccountKey", "UploadServiceAccountKey")
KEY_REMOVAL = ("DisableServiceAccountKey", "DeleteServiceAccountKey")
AUTH = "r.protoPayload.authenticationInfo"
AUTH_PATH = ("protoPayload", "authenticationInfo")
REQUEST_METADATA = ("protoPayload", "requestMetadata")
EMAIL = any_case(AUTH_PATH, "principalEmail")
CALLER = f"coalesce({EMAIL}, {any_case(AUTH_PATH, 'principalSubject')})"
KEY_NAME = any_case(AUTH_PATH, "serviceAccountKeyName")
AUDIT_LOG_NAMES = ("cloudaudit.googleapis.com%2f", "cloudaudit.googleapis.com/")
METHOD = "regexp_extract(r.protoPayload.methodName, '[^.]+$')"
SUCCEEDED = "coalesce(try_cast(r.protoPayload.status.code AS INTEGER), 0) = 0"
TARGET_NAME = (
    "coalesce(ir_blank(r.protoPayload.request.name), ir_blank(r.protoPayload.resourceName))"
)


def key_id(name: str) -> str:
    return f"nullif(regexp_extract({name}, '/keys/([^/]+)$', 1), '')"


def key_account(name: str) -> str:
    return f"nullif(regexp_extract({name}, '/serviceAccounts/([^/]+)/keys/', 1), '')"


CALLER_KEY = f"ir_id('gcp_sa_key', {key_id(KEY_NAME)})"
IMPERSONATED = f"nullif(regexp_extract({TARGET_NAME}, '/serviceAccounts/([^/]+)$', 1), '')"


def is_audit_entry(record: Mapping[str, Any]) -> bool:
    """A Cloud Audit Log entry: its payload's type says so, or (type renamed by a pipeline)
    its log's name does."""
    payload = record.get("protoPayload")
    if not isinstance(payload, dict):
        return False
    if _type(payload).endswith(AUDIT_LOG):
        return True
    return any(name in str(record.get("logName", "")).lower() for name in AUDIT_LOG_NAMES)


def _type(message: Mapping[str, Any]) -> str:
    """A protobuf message's `@type`, or what a pipeline renamed it to."""
    return str(message.get("@type", message.get("at_sign_type", "")))


def detect(record: Mapping[str, Any]) -> bool:
    if not is_audit_entry(record):
        return False
    payload = record["protoPayload"]
    metadata = payload.get("metadata")
    workspace = isinstance(metadata, dict) and "ActivityProto" in _type(metadata)
    return payload.get("serviceName") != "k8s.io" and not workspace


PARSER = Parser(
    name="gcp_audit",
    detect=detect,
    time_field="timestamp",
    fields={
        "insertId": "VARCHAR",
        "timestamp": "VARCHAR",
        "logName": "VARCHAR",
        "resource": {"labels": {"project_id": "VARCHAR"}},
        "protoPayload": {
            "serviceName": "VARCHAR",
            "methodName": "VARCHAR",
            "resourceName": "VARCHAR",
            "status": {"code": "VARCHAR", "message": "VARCHAR"},
            "authenticationInfo": {
                "principalEmail": "VARCHAR",
                "principalSubject": "VARCHAR",
                "serviceAccountKeyName": "VARCHAR",
                "serviceAccountDelegationInfo": [
                    {
                        "firstPartyPrincipal": {"principalEmail": "VARCHAR"},
                        "principalSubject": "VARCHAR",
                    }
                ],
            },
            "requestMetadata": {"callerIp": "VARCHAR", "callerSuppliedUserAgent": "VARCHAR"},
            "request": {"name": "VARCHAR"},
            "response": {"name": "VARCHAR"},
        },
    },
    event={
        "source_event_id": "r.insertId",
        "time": "ir_time(r.timestamp)",
        "action": "r.protoPayload.methodName",
        "outcome": f"CASE WHEN {SUCCEEDED} THEN 'success' ELSE 'failure' END",
        "error": f"CASE WHEN NOT {SUCCEEDED} THEN coalesce(ir_blank(r.protoPayload.status.message),"
        " 'status ' || r.protoPayload.status.code) END",
        "actor": CALLER,
        "tenant": "coalesce(ir_blank(r.resource.labels.project_id),"
        " nullif(regexp_extract(r.logName, '^projects/([^/]+)/', 1), ''))",
        "client_ip": any_case(REQUEST_METADATA, "callerIp"),
        "user_agent": any_case(REQUEST_METADATA, "callerSuppliedUserAgent"),
    },
    credentials=(
        CredentialRef(
            "gcp_sa_key",
            "used",
            value=key_id(KEY_NAME),
            principal=CALLER,
        ),
        CredentialRef(
            "gcp_sa_key",
            "issued",
            value=key_id("r.protoPayload.response.name"),
            when=f"{METHOD} IN ({sql.literals(KEY_CREATION)}) AND {SUCCEEDED}",
            parent=CALLER_KEY,
            via="r.protoPayload.methodName",
            principal=key_account("r.protoPayload.response.name"),
        ),
        CredentialRef(
            "gcp_sa_key",
            "issued",
            value=key_id(TARGET_NAME),
            when=f"{METHOD} = 'EnableServiceAccountKey' AND {SUCCEEDED}",
            via="r.protoPayload.methodName",
            principal=key_account(TARGET_NAME),
        ),
        CredentialRef(
            "gcp_sa_key",
            "revoked",
            value=key_id(TARGET_NAME),
            when=f"{METHOD} IN ({sql.literals(KEY_REMOVAL)})",
            via="r.protoPayload.methodName",
            principal=key_account(TARGET_NAME),
        ),
        CredentialRef(
            "gcp_sa_impersonation",
            "issued",
            value=f"{CALLER} || '/' || {IMPERSONATED}",
            when=f"r.protoPayload.serviceName = 'iamcredentials.googleapis.com'"
            f" AND {METHOD} IN ({sql.literals(MINTING)}) AND {SUCCEEDED}",
            parent=CALLER_KEY,
            via="r.protoPayload.methodName",
            principal=IMPERSONATED,
        ),
        CredentialRef(
            "gcp_sa_impersonation",
            "used",
            value=f"coalesce(ir_blank(item.firstPartyPrincipal.principalEmail),"
            f" ir_blank(item.principalSubject)) || '/' || {EMAIL}",
            each=f"{AUTH}.serviceAccountDelegationInfo",
            principal=EMAIL,
        ),
    ),
    resources=(Resource("gcp_resource", "r.protoPayload.resourceName"),),
)
