"""Small builders of vendor-shaped records for hand-made edge cases.

Shapes follow the real exports (see the parsers' docstrings); only the fields a
case needs are filled in, the rest as the vendor writes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"


def cloudtrail(
    event_id: str,
    time: str,
    name: str,
    key: str | None,
    ip: str = "198.51.100.10",
    user: str = "ci-deployer",
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": f"AIDA{user.upper().replace('-', '')[:12]}",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "accountId": ACCOUNT,
            "accessKeyId": key,
            "userName": user,
        },
        "eventTime": time,
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = f"{error} for {name}"
    return record


def assume_role(
    event_id: str, time: str, key: str, issued: str, role: str = "Admin", **kw: Any
) -> dict[str, Any]:
    response = {
        "credentials": {
            "accessKeyId": issued,
            "sessionToken": "<redacted>",
            "expiration": "Oct 2, 2026 11:12:29 PM",
        },
        "assumedRoleUser": {
            "assumedRoleId": f"AROAEXAMPLE:{event_id}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{event_id}",
        },
    }
    request = {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "roleSessionName": event_id}
    return cloudtrail(event_id, time, "AssumeRole", key, request=request, response=response, **kw)


def create_access_key(
    event_id: str, time: str, key: str, issued: str, for_user: str, **kw: Any
) -> dict[str, Any]:
    response = {"accessKey": {"accessKeyId": issued, "status": "Active", "userName": for_user}}
    return cloudtrail(
        event_id,
        time,
        "CreateAccessKey",
        key,
        request={"userName": for_user},
        response=response,
        **kw,
    )


def update_access_key(
    event_id: str, time: str, key: str, target: str, status: str, **kw: Any
) -> dict[str, Any]:
    request = {"accessKeyId": target, "status": status, "userName": "ci-deployer"}
    return cloudtrail(event_id, time, "UpdateAccessKey", key, request=request, **kw)


def okta(
    uuid: str,
    time: str,
    event_type: str,
    session: str | None,
    ip: str = "192.0.2.10",
    actor: str = "carol@corp.example",
    root_session: str | None = None,
    api_token: str | None = None,
    targets: list[dict[str, Any]] | None = None,
    result: str = "SUCCESS",
) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "published": time,
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": event_type,
        "actor": {"id": "00u1", "type": "User", "alternateId": actor, "displayName": actor},
        "client": {
            "ipAddress": ip,
            "userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
            "geographicalContext": {"country": "United States"},
        },
        "authenticationContext": {"externalSessionId": session, "rootSessionId": root_session},
        "outcome": {"result": result, "reason": None},
        "target": targets,
        "transaction": {
            "type": "WEB",
            "id": f"tx-{uuid}",
            "detail": {"requestApiTokenId": api_token},
        },
        "securityContext": {"asNumber": 64500, "asOrg": "example"},
    }


def github(
    document_id: str, time_ms: int, action: str, hashed_token: str | None, **fields: Any
) -> dict[str, Any]:
    return {
        "@timestamp": time_ms,
        "created_at": time_ms,
        "_document_id": document_id,
        "action": action,
        "actor": fields.pop("actor", "deploy-bot"),
        "org": "corp",
        "hashed_token": hashed_token,
        "actor_ip": fields.pop("ip", "198.51.100.20"),
        **fields,
    }


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def write_cloudtrail(path: Path, records: list[dict[str, Any]]) -> Path:
    """The S3 delivery shape."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Records": records}))
    return path
