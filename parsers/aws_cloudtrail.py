"""AWS CloudTrail: S3 delivery files (`{"Records": [...]}`, gz), NDJSON, Event history.

Verified against the AWS CloudTrail record contents reference and the shared
conformance samples (elastic-assume-role, -console-login, -update-access-key):
- `userIdentity.accessKeyId` is the key the caller signed with (AKIA/ASIA, but
  test exports carry placeholders such as EXAMPLE_KEY_ID: no prefix is required).
- AssumeRole / AssumeRoleWithSAML / AssumeRoleWithWebIdentity / GetSessionToken /
  GetFederationToken return `responseElements.credentials.accessKeyId` (ASIA…);
  the session's principal is `responseElements.assumedRoleUser.arn` or
  `responseElements.federatedUser.arn`.
- Their `responseElements.credentials.expiration` is when the session key stops
  working, in the non-ISO form "Oct 2, 2019 11:12:29 PM" (UTC: eventTime plus
  durationSeconds in the samples); recorded as the issued ref's `expires_at`.
- CreateAccessKey returns `responseElements.accessKey.{accessKeyId,userName}`.
- UpdateAccessKey carries `requestParameters.{accessKeyId,status,userName}`;
  DeleteAccessKey `requestParameters.{accessKeyId,userName}`.
- `errorCode` / `errorMessage` are present only when the call failed; ConsoleLogin
  reports failure in `responseElements.ConsoleLogin = "Failure"` instead.
- `eventTime` is ISO 8601 with `Z`; `recipientAccountId` is the account the event
  was delivered to.
- Event history (LookupEvents, `{"Events": [...]}`) wraps each record as a JSON
  string in `CloudTrailEvent`; it is unwrapped here.
- Pipelines that re-case keys write `principalid` / `accesskeyid`: the caller's key and
  principal id are read whatever their case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, any_case

ISSUING_CALLS = (
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
)
CALLER_KEY_ID = any_case(("userIdentity",), "accessKeyId")
PRINCIPAL_ID = any_case(("userIdentity",), "principalId")
CALLER_KEY = f"ir_id('aws_access_key', {CALLER_KEY_ID})"
# A denied re-activation issued nothing: no issued ref.
SUCCEEDED = "ir_blank(r.errorCode) IS NULL"
IDENTITY = {
    "type": "VARCHAR",
    "arn": "VARCHAR",
    "principalId": "VARCHAR",
    "accountId": "VARCHAR",
    "accessKeyId": "VARCHAR",
    "userName": "VARCHAR",
    "invokedBy": "VARCHAR",
}


def detect(record: Mapping[str, Any]) -> bool:
    if isinstance(record.get("CloudTrailEvent"), str):
        return True
    return "eventVersion" in record and "eventTime" in record and "eventName" in record


PARSER = Parser(
    name="aws_cloudtrail",
    detect=detect,
    envelope="CloudTrailEvent",
    time_field="eventTime",
    fields={
        "eventID": "VARCHAR",
        "eventTime": "VARCHAR",
        "eventName": "VARCHAR",
        "eventSource": "VARCHAR",
        "errorCode": "VARCHAR",
        "errorMessage": "VARCHAR",
        "sourceIPAddress": "VARCHAR",
        "userAgent": "VARCHAR",
        "recipientAccountId": "VARCHAR",
        "userIdentity": IDENTITY,
        "requestParameters": {"accessKeyId": "VARCHAR", "status": "VARCHAR", "userName": "VARCHAR"},
        "responseElements": {
            "ConsoleLogin": "VARCHAR",
            "credentials": {"accessKeyId": "VARCHAR", "expiration": "VARCHAR"},
            "assumedRoleUser": {"arn": "VARCHAR"},
            "federatedUser": {"arn": "VARCHAR"},
            "accessKey": {"accessKeyId": "VARCHAR", "userName": "VARCHAR"},
        },
    },
    event={
        "source_event_id": "r.eventID",
        "time": "ir_time(r.eventTime)",
        "action": "r.eventName",
        "outcome": "CASE WHEN ir_blank(r.errorCode) IS NOT NULL"
        " OR r.responseElements.ConsoleLogin = 'Failure' THEN 'failure' ELSE 'success' END",
        "error": "coalesce(ir_blank(r.errorCode), ir_blank(r.errorMessage))",
        "actor": f"coalesce(ir_blank(r.userIdentity.arn), {PRINCIPAL_ID},"
        " ir_blank(r.userIdentity.userName), ir_blank(r.userIdentity.invokedBy))",
        "tenant": "coalesce(ir_blank(r.recipientAccountId), ir_blank(r.userIdentity.accountId))",
        "client_ip": "ir_blank(r.sourceIPAddress)",
        # S3 data events bracket the agent ("[aws-cli/2.15 …]"); one client, one value.
        "user_agent": "ir_blank(regexp_replace(r.userAgent, '^\\[(.*)\\]$', '\\1'))",
    },
    credentials=(
        CredentialRef(
            "aws_access_key",
            "used",
            value=CALLER_KEY_ID,
            principal=f"coalesce(ir_blank(r.userIdentity.arn), {PRINCIPAL_ID})",
        ),
        CredentialRef(
            "aws_access_key",
            "issued",
            value="r.responseElements.credentials.accessKeyId",
            when=f"r.eventName IN ({sql.literals(ISSUING_CALLS)})",
            parent=CALLER_KEY,
            via="r.eventName",
            principal="coalesce(r.responseElements.assumedRoleUser.arn,"
            " r.responseElements.federatedUser.arn, r.userIdentity.arn)",
            expires_at="ir_time(r.responseElements.credentials.expiration)",
        ),
        CredentialRef(
            "aws_access_key",
            "issued",
            value="r.responseElements.accessKey.accessKeyId",
            when="r.eventName = 'CreateAccessKey'",
            parent=CALLER_KEY,
            via="r.eventName",
            principal="r.responseElements.accessKey.userName",
        ),
        # Re-activation issues the key again; the caller is not its parent.
        CredentialRef(
            "aws_access_key",
            "issued",
            value="r.requestParameters.accessKeyId",
            when="r.eventName = 'UpdateAccessKey' AND r.requestParameters.status = 'Active'"
            f" AND {SUCCEEDED}",
            via="r.eventName",
            principal="r.requestParameters.userName",
        ),
        CredentialRef(
            "aws_access_key",
            "revoked",
            value="r.requestParameters.accessKeyId",
            # A denied attempt stays a reference (outcome failure): responders must see
            # that the key survived it; the trace counts only successful revocations.
            when="(r.eventName = 'UpdateAccessKey' AND r.requestParameters.status = 'Inactive')"
            " OR r.eventName = 'DeleteAccessKey'",
            via="r.eventName",
            principal="r.requestParameters.userName",
        ),
    ),
)
