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

Resources (what a call acted on; CloudTrail record contents reference, the `Resource`
type of the CloudTrail API, AWS service API references for the request fields):
- `resources[]` `{ARN, accountId, type}` where CloudTrail lists them (S3 data events:
  `AWS::S3::Object` and `AWS::S3::Bucket`; AssumeRole: `AWS::IAM::Role`); other
  resource types are left to the request fields below.
- `requestParameters`: S3 `bucketName` / `key` (object id `bucket/key`), IAM
  `userName`, `roleName` / `roleArn`, `groupName`, `policyArn`, `accessKeyId`
  (UpdateAccessKey / DeleteAccessKey; CreateAccessKey's in `responseElements.accessKey`),
  Secrets Manager `secretId`, KMS `keyId`, SSM `name` / `path`, Lambda `functionName`,
  DynamoDB `tableName`, CloudTrail `name` (the trail), EC2
  `instancesSet.items[].instanceId` (request, or RunInstances' response).
  IAM users and roles are named by their name (the last ARN segment): calls log the
  name, AssumeRole the ARN; the event's account (`tenant`) tells accounts apart.
- ConsoleLogin signs in to the account's console: `aws_console:<account>`, auth.
Access: `readOnly` true is read (KMS GenerateDataKey too, which the shared rule would
call admin), but for AssumeRole* (auth); otherwise the shared rule over eventName.
Scopes: an AssumeRole key carries its role (`requestParameters.roleArn`).
- Pipelines that re-case keys write `principalid` / `accesskeyid`: the caller's key and
  principal id are read whatever their case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource, any_case

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
INSTANCES = {"items": [{"instanceId": "VARCHAR"}]}
REQUEST = {
    "accessKeyId": "VARCHAR",
    "status": "VARCHAR",
    "userName": "VARCHAR",
    "bucketName": "VARCHAR",
    "key": "VARCHAR",
    "roleName": "VARCHAR",
    "roleArn": "VARCHAR",
    "groupName": "VARCHAR",
    "policyArn": "VARCHAR",
    "secretId": "VARCHAR",
    "keyId": "VARCHAR",
    "name": "VARCHAR",
    "path": "VARCHAR",
    "functionName": "VARCHAR",
    "tableName": "VARCHAR",
    "instancesSet": INSTANCES,
}
# readOnly true is read whatever the name says (AssumeRole* is a sign-in to the role);
# else the shared rule over eventName decides (ingest: NULL here).
ACCESS = (
    "CASE WHEN lower(r.readOnly) = 'true' AND NOT starts_with(r.eventName, 'AssumeRole')"
    " THEN 'read' END"
)
REQUEST_PARAMETERS = "r.requestParameters"
S3_ARN = "nullif(regexp_extract(item.ARN, '^arn:[^:]*:s3:::(.+)$', 1), '')"


def last_segment(arn: str) -> str:
    """An IAM ARN's name (`arn:aws:iam::1:role/path/Admin` -> Admin); a plain name as it is."""
    return f"nullif(regexp_extract({arn}, '([^/:]+)$', 1), '')"


def from_service(service: str, value: str, type_: str) -> Resource:
    """A request field that names a resource only in one service's calls (`name`, `keyId`)."""
    return Resource(
        type_,
        value,
        access=ACCESS,
        when=f"r.eventSource = {sql.literal(service + '.amazonaws.com')}",
    )


# `resources[]` entries by AWS type: ir's type, and the id in the ARN.
LISTED = {
    "AWS::S3::Object": ("aws_s3_object", S3_ARN),
    "AWS::S3::Bucket": ("aws_s3_bucket", S3_ARN),
    "AWS::IAM::Role": ("aws_iam_role", last_segment("item.ARN")),
    "AWS::IAM::User": ("aws_iam_user", last_segment("item.ARN")),
}


def listed() -> Resource:
    """The `resources[]` entries of the types ir names (LISTED), in one walk of the list."""

    def case(index: int) -> str:
        whens = " ".join(
            f"WHEN {sql.literal(aws)} THEN {sql.literal(named[index]) if index == 0 else named[1]}"
            for aws, named in LISTED.items()
        )
        return f"CASE item.type {whens} END"

    return Resource(
        case(0),
        case(1),
        access=ACCESS,
        each="r.resources",
        types=tuple(named[0] for named in LISTED.values()),
    )


def requested(field: str, type_: str, value: str | None = None) -> Resource:
    return Resource(type_, value or f"{REQUEST_PARAMETERS}.{field}", access=ACCESS)


RESOURCES = (
    requested("bucketName", "aws_s3_bucket"),
    requested(
        "key",
        "aws_s3_object",
        f"CASE WHEN ir_blank({REQUEST_PARAMETERS}.bucketName) IS NOT NULL"
        f" THEN {REQUEST_PARAMETERS}.bucketName || '/' || {REQUEST_PARAMETERS}.key END",
    ),
    listed(),
    requested("userName", "aws_iam_user"),
    requested("roleName", "aws_iam_role"),
    requested("roleArn", "aws_iam_role", last_segment(f"{REQUEST_PARAMETERS}.roleArn")),
    requested("groupName", "aws_iam_group"),
    requested("policyArn", "aws_iam_policy"),
    requested("accessKeyId", "aws_iam_access_key"),
    Resource(
        "aws_iam_access_key",
        "r.responseElements.accessKey.accessKeyId",
        access=ACCESS,
        when="r.eventName = 'CreateAccessKey'",
    ),
    requested("secretId", "aws_secret"),
    from_service("kms", f"{REQUEST_PARAMETERS}.keyId", "aws_kms_key"),
    from_service(
        "ssm",
        f"coalesce({REQUEST_PARAMETERS}.name, {REQUEST_PARAMETERS}.path)",
        "aws_ssm_parameter",
    ),
    from_service("lambda", f"{REQUEST_PARAMETERS}.functionName", "aws_lambda_function"),
    from_service("dynamodb", f"{REQUEST_PARAMETERS}.tableName", "aws_dynamodb_table"),
    from_service("cloudtrail", f"{REQUEST_PARAMETERS}.name", "aws_cloudtrail_trail"),
    Resource(
        "aws_ec2_instance",
        "item.instanceId",
        access=ACCESS,
        each=f"list_concat({REQUEST_PARAMETERS}.instancesSet.items,"
        " r.responseElements.instancesSet.items)",
    ),
    Resource(
        "aws_console",
        "coalesce(ir_blank(r.recipientAccountId), ir_blank(r.userIdentity.accountId))",
        access="'auth'",
        when="r.eventName = 'ConsoleLogin'",
    ),
)


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
        "readOnly": "VARCHAR",
        "requestParameters": REQUEST,
        "resources": [{"ARN": "VARCHAR", "type": "VARCHAR"}],
        "responseElements": {
            "instancesSet": INSTANCES,
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
            scopes=f"CASE WHEN ir_blank({REQUEST_PARAMETERS}.roleArn) IS NOT NULL"
            f" THEN [{REQUEST_PARAMETERS}.roleArn] END",
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
    resources=RESOURCES,
)
