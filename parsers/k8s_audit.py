"""Kubernetes audit logs: API server Events (NDJSON, EventList), GKE and AKS deliveries.

Verified against the `audit.k8s.io/v1` Event type, the API server's
authentication constants (k8s.io/apiserver `serviceaccount/util.go`:
`CredentialIDForJTI` writes `JTI=<jti>` into the user's extra under
`authentication.kubernetes.io/credential-id`; the TokenRequest handler records
`authentication.kubernetes.io/issued-credential-id` as an audit annotation,
kubernetes/kubernetes#123098, KEP-4193), and the shared conformance sample
(FIELD_NOTES §12):
- Event: `auditID` (NOT unique across records: one per request, repeated per
  stage, and repeated outright in test exports), `stage`, `verb`, `requestURI`,
  `user {username, groups, extra}`, `sourceIPs[]`, `userAgent`, `objectRef
  {resource, subresource, namespace, name}`, `responseStatus {code, reason,
  message}`, `requestReceivedTimestamp` (µs, `Z`), `annotations`
  (`authorization.k8s.io/decision` allow | forbid).
- GKE: a Cloud Logging LogEntry, `protoPayload.serviceName` "k8s.io",
  `methodName` (io.k8s.…), the username in `authenticationInfo.principalEmail`,
  the cluster in `resource.labels.cluster_name`; id `insertId` (the entry has
  no auditID).
- AKS: an Azure diagnostic record (`category` kube-audit / kube-audit-admin)
  holding the Event in `properties.log`, as an object or as a JSON string; the
  Event is what is parsed (and hashed), the cluster's `resourceId` is the tenant.
Credentials: `k8s_token` = the service account token's JTI. Requests record it
as `JTI=<jti>` in `user.extra["authentication.kubernetes.io/credential-id"]`
(used); a TokenRequest (`create serviceaccounts/token`) records the new token's
in `annotations["authentication.kubernetes.io/issued-credential-id"]` (issued,
parent = the caller's token, principal = the service account, via names the
bound pod where the request object is logged). Other credential ids (x509
certificates) name no k8s_token. A raw service account JWT's `jti` claim maps to
the same id (`ir trace --token-file`).
Resources: `objectRef` as `k8s_<kind>` for the kinds a responder asks about (secret,
configmap, serviceaccount, pod, role, rolebinding, clusterrole, clusterrolebinding,
deployment, namespace, node; other kinds `k8s_object`), id `<namespace>/<name>`
(`<namespace>/*` for a list or watch of them all; no namespace for cluster-wide ones),
access by the shared rule over the verb and resource (get secrets: read; create
clusterrolebindings: admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource

CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
ISSUED_ID = "authentication.kubernetes.io/issued-credential-id"
DECISION = "authorization.k8s.io/decision"
AKS_CATEGORIES = ("kube-audit", "kube-audit-admin")


def jti(value: str) -> str:
    return f"CASE WHEN starts_with({value}, 'JTI=') THEN nullif(substr({value}, 5), '') END"


CALLER_JTI = jti(
    f"list_filter(r.user.extra.\"{CREDENTIAL_ID}\", lambda c: starts_with(c, 'JTI='))[1]"
)
CODE = "try_cast(r.responseStatus.code AS INTEGER)"
GKE_CODE = "try_cast(r.protoPayload.status.code AS INTEGER)"
FAILED = (
    f"coalesce({CODE} >= 400 OR r.annotations.\"{DECISION}\" = 'forbid'"
    f" OR r.labels.\"{DECISION}\" = 'forbid' OR {GKE_CODE} <> 0, FALSE)"
)
KNOWN = f"({CODE} IS NOT NULL OR r.protoPayload.serviceName IS NOT NULL)"
TOKEN_REQUEST = (
    "r.verb = 'create' AND r.objectRef.resource = 'serviceaccounts'"
    " AND r.objectRef.subresource = 'token'"
)
SERVICE_ACCOUNT = "'system:serviceaccount:' || r.objectRef.namespace || ':' || r.objectRef.name"
BOUND_POD = "r.requestObject.spec.boundObjectRef"


KINDS = (
    "secret", "configmap", "serviceaccount", "pod", "role", "rolebinding", "clusterrole",
    "clusterrolebinding", "deployment", "namespace", "node",
)  # fmt: skip
OBJECT = Resource(
    "CASE r.objectRef.resource "
    + " ".join(
        f"WHEN {sql.literal(kind + 's')} THEN {sql.literal('k8s_' + kind)}" for kind in KINDS
    )
    + " ELSE 'k8s_object' END",
    "CASE WHEN ir_blank(r.objectRef.resource) IS NOT NULL THEN"
    " coalesce(ir_blank(r.objectRef.namespace) || '/', '') || coalesce(ir_blank(r.objectRef.name), '*')"
    " || CASE WHEN r.objectRef.resource NOT IN"
    f" ({sql.literals(kind + 's' for kind in KINDS)})"
    " THEN ' (' || r.objectRef.resource || ')' ELSE '' END END",
    types=(*(f"k8s_{kind}" for kind in KINDS), "k8s_object"),
)


def detect(record: Mapping[str, Any]) -> bool:
    if "auditID" in record and "verb" in record:
        return True
    if record.get("category") in AKS_CATEGORIES and isinstance(record.get("properties"), dict):
        return True
    payload = record.get("protoPayload")
    return isinstance(payload, dict) and payload.get("serviceName") == "k8s.io"


PARSER = Parser(
    name="k8s_audit",
    detect=detect,
    unwrap="CASE json_type(record, '$.properties.log')"
    " WHEN 'OBJECT' THEN record -> '$.properties.log'"
    " WHEN 'VARCHAR' THEN CASE WHEN json_valid(record ->> '$.properties.log')"
    " THEN json(record ->> '$.properties.log') END"
    " ELSE record END",
    time_field="requestReceivedTimestamp / stageTimestamp / timestamp",
    fields={
        "auditID": "VARCHAR",
        "stage": "VARCHAR",
        "verb": "VARCHAR",
        "requestURI": "VARCHAR",
        "user": {"username": "VARCHAR", "extra": {CREDENTIAL_ID: ["VARCHAR"]}},
        "sourceIPs": ["VARCHAR"],
        "userAgent": "VARCHAR",
        "objectRef": {
            "resource": "VARCHAR",
            "subresource": "VARCHAR",
            "namespace": "VARCHAR",
            "name": "VARCHAR",
        },
        "responseStatus": {"code": "VARCHAR", "reason": "VARCHAR", "message": "VARCHAR"},
        "requestObject": {"spec": {"boundObjectRef": {"kind": "VARCHAR", "name": "VARCHAR"}}},
        "requestReceivedTimestamp": "VARCHAR",
        "stageTimestamp": "VARCHAR",
        "annotations": {DECISION: "VARCHAR", ISSUED_ID: "VARCHAR"},
        "insertId": "VARCHAR",
        "timestamp": "VARCHAR",
        "labels": {DECISION: "VARCHAR"},
        "resource": {"labels": {"cluster_name": "VARCHAR"}},
        "protoPayload": {
            "serviceName": "VARCHAR",
            "methodName": "VARCHAR",
            "authenticationInfo": {"principalEmail": "VARCHAR"},
            "requestMetadata": {"callerIp": "VARCHAR", "callerSuppliedUserAgent": "VARCHAR"},
            "status": {"code": "VARCHAR", "message": "VARCHAR"},
        },
    },
    event={
        "source_event_id": "coalesce(ir_blank(r.auditID), ir_blank(r.insertId))",
        "time": "coalesce(ir_time(r.requestReceivedTimestamp), ir_time(r.stageTimestamp),"
        " ir_time(r.timestamp))",
        "action": "coalesce(r.verb || ' ' || r.objectRef.resource"
        " || coalesce('/' || r.objectRef.subresource, ''), r.verb, r.protoPayload.methodName)",
        "outcome": f"CASE WHEN {FAILED} THEN 'failure' WHEN {KNOWN} THEN 'success'"
        " ELSE 'unknown' END",
        "error": f"CASE WHEN {FAILED} THEN coalesce(ir_blank(r.responseStatus.reason),"
        " ir_blank(r.responseStatus.message), ir_blank(r.protoPayload.status.message),"
        f" 'HTTP ' || r.responseStatus.code, 'forbidden') END",
        "actor": "coalesce(ir_blank(r.user.username),"
        " ir_blank(r.protoPayload.authenticationInfo.principalEmail))",
        "tenant": "coalesce(ir_blank(r.resource.labels.cluster_name), record ->> '$.resourceId')",
        "client_ip": "coalesce(ir_blank(r.sourceIPs[1]),"
        " ir_blank(r.protoPayload.requestMetadata.callerIp))",
        "user_agent": "coalesce(ir_blank(r.userAgent),"
        " ir_blank(r.protoPayload.requestMetadata.callerSuppliedUserAgent))",
    },
    credentials=(
        CredentialRef(
            "k8s_token",
            "used",
            value=jti("item"),
            each=f'r.user.extra."{CREDENTIAL_ID}"',
            principal="ir_blank(r.user.username)",
        ),
        CredentialRef(
            "k8s_token",
            "issued",
            value=jti(f'r.annotations."{ISSUED_ID}"'),
            when=f"{TOKEN_REQUEST} AND NOT {FAILED}",
            parent=f"ir_id('k8s_token', {CALLER_JTI})",
            via=f"'TokenRequest' || coalesce(' for ' || lower({BOUND_POD}.kind) || ' '"
            f" || {BOUND_POD}.name, '')",
            principal=SERVICE_ACCOUNT,
        ),
    ),
    resources=(OBJECT,),
)
