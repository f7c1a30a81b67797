"""AWS CloudTrail: the leaked access key of ci-deployer, and an account's everyday API calls.

Vendor shapes follow the shared conformance samples and public records:
CloudTrail `{"Records": [...]}` files named
`<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz` with
`tlsDetails`, `eventCategory`, `managementEvent`; S3 data events bracket the user
agent.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from ir.synth.core import (
    ATTACKER,
    BACKDOOR_HOST,
    CLOUD,
    CORP,
    DAY,
    HOUR,
    MINUTE,
    MONTHS,
    SECOND,
    SPAN,
    VPS,
    Agent,
    Chapter,
    Company,
    Ids,
    Place,
    Record,
    Story,
    Touch,
    Vendor,
    iso_seconds,
    write_gzip,
)

UA_CI = (
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.15.0-1064-aws md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144"
)
UA_ATTACKER = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/distrib#kali.2024 md/prompt#off"
)
UA_BACKDOOR = (
    "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#6.1.0-13-cloud-amd64 md/arch#x86_64 "
    "lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57"
)
UA_ADMIN = (
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.11.9 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off"
)
AWS_AGENTS = (
    UA_ADMIN,
    "aws-cli/2.16.4 md/awscrt#0.19.19 ua/2.0 os/macos#23.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off",
    "aws-cli/2.15.57 md/awscrt#0.19.19 ua/2.0 os/linux#6.8.0-40-generic md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off",
    "Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.64.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.4 ua/2.1 os/macos lang/go#1.22.6 md/GOOS#darwin md/GOARCH#arm64 api/iam#1.34.3",
)  # fmt: skip
UA_LAMBDA = (
    "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.34.34"
)
UA_JAVA = (
    "aws-sdk-java/2.25.60 Linux/5.10.217-205.860.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS "
    "Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy"
)
UA_GO = "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.3 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1"

SOURCE = "aws_cloudtrail"


@dataclass
class AwsEnv:
    """One AWS account's resources, shared by the incident and the background."""

    account: str
    buckets: tuple[str, ...] = (
        "corp-data-lake-prod",
        "corp-ci-artifacts",
        "corp-backups",
        "corp-logs-archive",
        "corp-analytics-exports",
        "corp-customer-uploads",
    )
    prefixes: tuple[str, ...] = ("raw", "curated", "exports", "builds", "snapshots", "tmp")
    users: tuple[str, ...] = ("ci-deployer", "backup-svc", "analytics-etl", "terraform")
    roles: dict[str, str] = field(default_factory=dict)  # role name -> AROA id
    secrets: tuple[str, ...] = ("prod/db/master", "prod/stripe/api", "prod/sendgrid", "staging/db")
    parameters: tuple[str, ...] = ("/app/prod/db_host", "/app/prod/feature_flags", "/ci/deploy_env")
    functions: tuple[str, ...] = (
        "image-resizer",
        "invoice-export",
        "slack-notifier",
        "etl-trigger",
    )
    tables: tuple[str, ...] = ("orders", "sessions", "feature-flags", "audit-events")
    stacks: tuple[str, ...] = ("web-prod", "worker-prod", "network-base", "data-platform")
    clusters: tuple[str, ...] = ("prod", "staging")
    services: tuple[str, ...] = ("web", "worker", "scheduler")
    aliases: tuple[str, ...] = ("alias/app-prod", "alias/backups", "alias/secrets")

    @property
    def role_names(self) -> list[str]:
        return list(self.roles)

    @classmethod
    def create(cls, ids: Ids) -> AwsEnv:
        roles = ("Admin", "DataReader", "web-app", "batch-worker", "lambda-exec", "deploy")
        env = cls(account=str(ids.number(12)))
        env.roles = {name: ids.aws_unique_id("AROA") for name in roles}
        return env

    def role_arn(self, role: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{role}"

    def object_key(self, rng: random.Random) -> str:
        ext = rng.choice(("json", "parquet", "csv.gz", "tar.gz"))
        return f"{rng.choice(self.prefixes)}/{rng.randrange(2024, 2027)}/{rng.randrange(10**6):06d}.{ext}"


@dataclass
class AwsActor:
    """A CloudTrail caller: the userIdentity it logs, where it calls from, with what."""

    identity: Record
    ip: str
    ua: str
    region: str = "us-east-1"
    role: str | None = None  # role sessions that services renew
    session: str | None = None

    @property
    def key(self) -> str | None:
        return self.identity.get("accessKeyId")


Build = Callable[[random.Random, AwsEnv], Record | None]


def _no_request(rng: random.Random, env: AwsEnv) -> Record | None:
    return None


@dataclass(frozen=True)
class AwsAction:
    service: str
    name: str
    read_only: bool
    scope: str  # where CloudTrail logs it: "global" (us-east-1), "data" event, or "region"
    build: Build = _no_request

    @property
    def source(self) -> str:
        return f"{self.service}.amazonaws.com"

    @property
    def data(self) -> bool:
        return self.scope == "data"


def s3_object(bucket: str, key: str) -> Record:
    return {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "key": key}


def _s3_object(rng: random.Random, env: AwsEnv) -> Record:
    return s3_object(rng.choice(env.buckets), env.object_key(rng))


def _s3_list(rng: random.Random, env: AwsEnv) -> Record:
    bucket = rng.choice(env.buckets)
    return {
        "list-type": "2",
        "bucketName": bucket,
        "encoding-type": "url",
        "prefix": f"{rng.choice(env.prefixes)}/",
        "Host": f"{bucket}.s3.amazonaws.com",
    }


def _pick(attribute: str, key: str, **extra: Any) -> Build:
    return lambda rng, env: {key: rng.choice(getattr(env, attribute)), **extra}


def _fixed(request: Record) -> Build:
    return lambda rng, env: request


def _invoke(rng: random.Random, env: AwsEnv) -> Record:
    name = rng.choice(env.functions)
    return {"functionName": f"arn:aws:lambda:us-east-1:{env.account}:function:{name}"}


def _log_stream(rng: random.Random, env: AwsEnv) -> Record:
    name = rng.choice(env.functions)
    stream = f"2026/09/0{rng.randrange(1, 10)}/[$LATEST]{rng.getrandbits(128):032x}"
    return {"logGroupName": f"/aws/lambda/{name}", "logStreamName": stream}


def _ecs(rng: random.Random, env: AwsEnv) -> Record:
    return {"cluster": rng.choice(env.clusters), "services": [rng.choice(env.services)]}


def _deploy(rng: random.Random, env: AwsEnv) -> Record:
    return {"cluster": "prod", "service": rng.choice(env.services), "forceNewDeployment": True}


def _catalog(*actions: AwsAction) -> dict[str, AwsAction]:
    return {action.name: action for action in actions}


# fmt: off
ACTIONS = _catalog(
    AwsAction("sts", "GetCallerIdentity", True, "global"),
    AwsAction("sts", "AssumeRole", True, "global"),
    AwsAction("s3", "ListBuckets", True, "global", _fixed({"Host": "s3.amazonaws.com"})),
    AwsAction("s3", "GetObject", True, "data", _s3_object),
    AwsAction("s3", "HeadObject", True, "data", _s3_object),
    AwsAction("s3", "PutObject", False, "data", _s3_object),
    AwsAction("s3", "ListObjects", True, "data", _s3_list),
    AwsAction("ec2", "DescribeInstances", True, "region", _fixed({"instancesSet": {}, "filterSet": {}})),
    AwsAction("ec2", "DescribeSecurityGroups", True, "region", _fixed({"securityGroupSet": {}, "filterSet": {}})),
    AwsAction("iam", "ListUsers", True, "global"),
    AwsAction("iam", "ListRoles", True, "global"),
    AwsAction("iam", "GetUser", True, "global", _pick("users", "userName")),
    AwsAction("iam", "ListAccessKeys", True, "global", _pick("users", "userName")),
    AwsAction("iam", "GetRole", True, "global", _pick("role_names", "roleName")),
    AwsAction("iam", "CreateAccessKey", False, "global"),
    AwsAction("iam", "UpdateAccessKey", False, "global"),
    AwsAction("iam", "DeleteAccessKey", False, "global"),
    AwsAction("kms", "Decrypt", True, "region", _fixed({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"})),
    AwsAction("kms", "GenerateDataKey", True, "region", _pick("aliases", "keyId", keySpec="AES_256")),
    AwsAction("secretsmanager", "GetSecretValue", True, "region", _pick("secrets", "secretId")),
    AwsAction("secretsmanager", "ListSecrets", True, "region"),
    AwsAction("ssm", "GetParameter", True, "region", _pick("parameters", "name", withDecryption=True)),
    AwsAction("lambda", "Invoke", False, "data", _invoke),
    AwsAction("dynamodb", "DescribeTable", True, "region", _pick("tables", "tableName")),
    AwsAction("logs", "CreateLogStream", False, "region", _log_stream),
    AwsAction("cloudformation", "DescribeStacks", True, "region", _pick("stacks", "stackName")),
    AwsAction("ecr", "GetAuthorizationToken", True, "region"),
    AwsAction("ecs", "DescribeServices", True, "region", _ecs),
    AwsAction("ecs", "UpdateService", False, "region", _deploy),
)
BACKGROUND_MIX = (
    ("GetObject", 18), ("Decrypt", 12), ("PutObject", 8), ("ListObjects", 6), ("HeadObject", 6),
    ("DescribeInstances", 6), ("GetParameter", 6), ("Invoke", 6), ("GenerateDataKey", 5),
    ("GetSecretValue", 4), ("DescribeTable", 4), ("CreateLogStream", 4), ("GetCallerIdentity", 3),
    ("ListBuckets", 2), ("DescribeSecurityGroups", 2), ("DescribeStacks", 2),
    ("GetAuthorizationToken", 2), ("DescribeServices", 2), ("GetRole", 1), ("ListRoles", 1),
)
# fmt: on
ACCESS_DENIED = "AccessDenied"
INVALID_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.")


def iam_user(env: AwsEnv, name: str, unique_id: str, key: str | None) -> Record:
    identity: Record = {
        "type": "IAMUser",
        "principalId": unique_id,
        "arn": f"arn:aws:iam::{env.account}:user/{name}",
        "accountId": env.account,
    }
    if key is not None:
        identity["accessKeyId"] = key
    identity["userName"] = name
    return identity


def role_session(
    env: AwsEnv, role: str, session: str, key: str, created: int, ec2: bool = False
) -> Record:
    role_id = env.roles[role]
    context: Record = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": env.role_arn(role),
            "accountId": env.account,
            "userName": role,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": iso_seconds(created), "mfaAuthenticated": "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{env.account}:assumed-role/{role}/{session}",
        "accountId": env.account,
        "accessKeyId": key,
        "sessionContext": context,
    }


def _error_message(actor: AwsActor, action: AwsAction, code: str) -> str:
    if action.data and action.service == "s3":
        return "Access Denied"
    arn = actor.identity.get("arn", "")
    permission = f"{action.service}:{action.name}"
    return f"User: {arn} is not authorized to perform: {permission} because no identity-based policy allows the {permission} action"


def ct_record(
    ids: Ids,
    env: AwsEnv,
    ms: int,
    actor: AwsActor,
    action: AwsAction,
    request: Record | None,
    response: Record | None = None,
    error: str | tuple[str, str] | None = None,
    resources: list[Record] | None = None,
) -> Record:
    """One CloudTrail record, keys in the order CloudTrail writes them."""
    region = actor.region if action.scope == "region" else "us-east-1"
    s3_data = action.data and action.service == "s3"
    record: Record = {
        "eventVersion": "1.11" if not action.data else "1.10",
        "userIdentity": actor.identity,
        "eventTime": iso_seconds(ms),
        "eventSource": action.source,
        "eventName": action.name,
        "awsRegion": region,
        "sourceIPAddress": actor.ip,
        "userAgent": f"[{actor.ua}]" if s3_data else actor.ua,
    }
    if error is not None:
        code, message = (
            error if isinstance(error, tuple) else (error, _error_message(actor, action, error))
        )
        record["errorCode"] = code
        record["errorMessage"] = message
    record["requestParameters"] = request
    record["responseElements"] = None if error is not None else response
    if s3_data:
        record["additionalEventData"] = {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": ids.b64(76),
            "bytesTransferredOut": ids.rng.randrange(200, 5_000_000),
        }
        resources = _s3_resources(env, request or {})
    record["requestID"] = ids.base32(16) if s3_data else ids.uuid()
    record["eventID"] = ids.uuid()
    record["readOnly"] = action.read_only
    if resources:
        record["resources"] = resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = not action.data
    record["recipientAccountId"] = env.account
    record["eventCategory"] = "Data" if action.data else "Management"
    host = (request or {}).get("Host") if s3_data else None
    record["tlsDetails"] = {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": host or _endpoint(action, region),
    }
    return record


def _endpoint(action: AwsAction, region: str) -> str:
    if action.service in ("iam", "sts", "s3"):
        return f"{action.service}.amazonaws.com"
    return f"{action.service}.{region}.amazonaws.com"


def _s3_resources(env: AwsEnv, request: Record) -> list[Record]:
    bucket = request.get("bucketName", "")
    resources: list[Record] = []
    if "key" in request:
        resources.append(
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{request['key']}"}
        )
    resources.append(
        {"accountId": env.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
    )
    return resources


def assume_role_record(
    ids: Ids, env: AwsEnv, ms: int, caller: AwsActor, role: str, session: str, duration: int
) -> tuple[Record, str]:
    """AssumeRole as CloudTrail logs it; returns the record and the ASIA key it issued."""
    key = ids.aws_key("ASIA")
    request = {
        "roleArn": env.role_arn(role),
        "roleSessionName": session,
        "durationSeconds": duration,
    }
    response = {
        "credentials": {
            "accessKeyId": key,
            "sessionToken": ids.session_token(),
            "expiration": aws_date(ms + duration * SECOND),
        },
        "assumedRoleUser": {
            "assumedRoleId": f"{env.roles[role]}:{session}",
            "arn": f"arn:aws:sts::{env.account}:assumed-role/{role}/{session}",
        },
    }
    resources = [{"accountId": env.account, "type": "AWS::IAM::Role", "ARN": env.role_arn(role)}]
    record = ct_record(
        ids, env, ms, caller, ACTIONS["AssumeRole"], request, response, resources=resources
    )
    return record, key


def create_access_key_record(
    ids: Ids, env: AwsEnv, ms: int, caller: AwsActor, user: str
) -> tuple[Record, str]:
    key = ids.aws_key("AKIA")
    response = {
        "accessKey": {
            "userName": user,
            "accessKeyId": key,
            "status": "Active",
            "createDate": aws_date(ms),
        }
    }
    record = ct_record(
        ids, env, ms, caller, ACTIONS["CreateAccessKey"], {"userName": user}, response
    )
    return record, key


def console_login_record(
    ids: Ids, env: AwsEnv, ms: int, user: Record, place: Place, agent: Agent
) -> Record:
    return {
        "eventVersion": "1.09",
        "userIdentity": user,
        "eventTime": iso_seconds(ms),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": place.ip,
        "userAgent": agent.raw,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1",
            "MobileVersion": "No",
            "MFAUsed": "Yes",
        },
        "eventID": ids.uuid(),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": env.account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "signin.aws.amazon.com",
        },
    }


def aws_date(ms: int) -> str:
    """CloudTrail's `expiration` / `createDate` form: 'Sep 5, 2026 3:52:00 PM'."""
    t = time.gmtime(ms // 1000)
    hour = t.tm_hour % 12 or 12
    half = "AM" if t.tm_hour < 12 else "PM"
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday}, {t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {half}"


# --- the incident -------------------------------------------------------------------

# The request fields that name what a call acted on, and ir's type for each.
REQUEST_RESOURCES = (
    ("secretId", "aws_secret"),
    ("userName", "aws_iam_user"),
    ("accessKeyId", "aws_iam_access_key"),
)
ADMIN_CALLS = ("CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey")


def touched(action: AwsAction, request: Record | None, attacker: bool) -> list[Touch]:
    """What a call of the incident acted on, as its record names it (ground truth)."""
    body = request or {}
    access = "admin" if action.name in ADMIN_CALLS else "read" if action.read_only else "write"
    found: list[Touch] = []
    if action.service == "s3" and "bucketName" in body:
        bucket = body["bucketName"]
        found.append(("aws_s3_bucket", bucket, access, attacker))
        if "key" in body:
            found.append(("aws_s3_object", f"{bucket}/{body['key']}", access, attacker))
    found += [(kind, body[key], access, attacker) for key, kind in REQUEST_RESOURCES if key in body]
    if "roleArn" in body:
        found.append(("aws_iam_role", body["roleArn"].rsplit("/", 1)[-1], "auth", attacker))
    return found


def ak(key: str | None) -> str:
    return f"aws_access_key:{key}"


AWS_STORY = (
    "Long-term access key of IAM user ci-deployer leaked from CI; the attacker probes, assumes "
    "the Admin role, plants a backdoor key on backup-svc and chains into DataReader; an admin "
    "deactivates the key and deletes the backdoor, while a 12-hour session key outlives its parent."
)


class AwsChapter(Chapter):
    """The leaked long-term key of ci-deployer: CI use, the attack, decoys, the response."""

    def __init__(self, story: Story, rng: random.Random, env: AwsEnv) -> None:
        super().__init__(story, rng)
        self.env = env
        self.aws_key = self.ids.aws_key("AKIA")
        self.aws_secret = self.ids.b64(40)
        credentials = (
            f"aws_access_key_id = {self.aws_key}\naws_secret_access_key = {self.aws_secret}"
        )
        story.secrets["leaked_token.txt"] = f"[ci-deployer]\n{credentials}\n"

    def iam(
        self, name: str, ip: str, ua: str, key: str = "", region: str = "us-east-1"
    ) -> AwsActor:
        """An IAM user calling with its long-term key (a fresh one unless given)."""
        identity = iam_user(
            self.env, name, self.ids.aws_unique_id("AIDA"), key or self.ids.aws_key("AKIA")
        )
        return AwsActor(identity, ip, ua, region)

    def aws(
        self,
        ms: int,
        actor: AwsActor,
        name: str,
        request: Record | bool | None = True,
        error: str | tuple[str, str] | None = None,
        decoy: bool = False,
        revokes: str | None = None,
    ) -> None:
        action = ACTIONS[name]
        body = action.build(self.rng, self.env) if request is True else request
        record = ct_record(self.ids, self.env, ms, actor, action, body or None, error=error)
        refs = [(ak(actor.key), "used")]
        if revokes:
            refs.append((ak(revokes), "revoked"))
        acted_on = touched(action, record["requestParameters"], self.by_attacker(actor.ip))
        self.emit("aws_cloudtrail", ms, record, refs, decoy, acted_on)

    def calls(self, ms: int, actor: AwsActor, names: Sequence[str], **options: Any) -> int:
        for name in names:
            ms = self.later(ms)
            self.aws(ms, actor, name, **options)
        return ms

    def minted(
        self, ms: int, caller: AwsActor, record: Record, key: str, via: str, decoy: bool
    ) -> None:
        self.lineage.mint(ak(key), ak(caller.key), via)
        attacker = self.by_attacker(caller.ip)
        acted_on = touched(ACTIONS[via], record["requestParameters"], attacker)
        if via == "CreateAccessKey":
            acted_on.append(("aws_iam_access_key", key, "admin", attacker))
        refs = [(ak(caller.key), "used"), (ak(key), "issued")]
        self.emit("aws_cloudtrail", ms, record, refs, decoy, acted_on)

    def assume_role(
        self, ms: int, caller: AwsActor, role: str, duration: int = 3600, decoy: bool = False
    ) -> AwsActor:
        session = f"botocore-session-{ms // 1000}" if not decoy else "bob.ops"
        record, key = assume_role_record(self.ids, self.env, ms, caller, role, session, duration)
        self.minted(ms, caller, record, key, "AssumeRole", decoy)
        return replace(caller, identity=role_session(self.env, role, session, key, ms))

    def create_access_key(self, ms: int, caller: AwsActor, user: str) -> str:
        record, key = create_access_key_record(self.ids, self.env, ms, caller, user)
        self.minted(ms, caller, record, key, "CreateAccessKey", False)
        return key

    def ci_runs(self, ci: AwsActor, begin: int, end: int) -> None:
        """The legitimate deploy pipeline: every ~6 hours, from one CI egress IP."""
        ms = begin
        while ms < end - 5 * MINUTE:
            self.calls(ms, ci, ("GetCallerIdentity", "GetAuthorizationToken"))
            artifact = s3_object("corp-ci-artifacts", f"builds/{ms // 1000}.tar.gz")
            self.aws(self.later(ms, 50, 70), ci, "PutObject", artifact)
            self.aws(self.later(ms, 90, 120), ci, "UpdateService")
            ms += 6 * HOUR + self.rng.randrange(-10, 10) * MINUTE

    def run(self) -> None:
        env, leak = self.env, self.leaked_at
        self.begin(ak(self.aws_key), AWS_STORY, [ATTACKER.ip, VPS.ip, BACKDOOR_HOST.ip])
        ci = self.iam("ci-deployer", CLOUD.ip, UA_CI, self.aws_key)
        attacker = replace(ci, ip=ATTACKER.ip, ua=UA_ATTACKER)
        from_vps = replace(attacker, ip=VPS.ip, region="eu-west-3")
        revoke_at = leak + 2 * DAY + 10 * HOUR
        self.ci_runs(ci, self.start + 25 * MINUTE, revoke_at)
        # First use from the attacker: recon, object reads, two denials, then Admin.
        t = self.calls(leak + 65 * MINUTE, attacker, ("GetCallerIdentity", "ListBuckets"))
        t = self.calls(t, attacker, ("ListObjects", "GetObject", "GetObject", "GetObject"))
        t = self.calls(t, attacker, ("ListUsers", "GetSecretValue"), error=ACCESS_DENIED)
        t += 4 * MINUTE
        admin = self.assume_role(t, attacker, "Admin")
        # Decoy: someone else assumes the same role in the same second, with their own key.
        bob = self.iam("bob.ops", "198.51.100.31", AWS_AGENTS[1])
        other = self.assume_role(t, bob, "Admin", decoy=True)
        self.aws(self.later(t, 30, 50), other, "ListRoles", decoy=True)
        t = self.calls(t, admin, ("ListUsers", "ListRoles", "ListAccessKeys"))
        backdoor = self.create_access_key(self.later(t), admin, "backup-svc")
        t = self.later(t, 60, 90)
        reader = self.assume_role(t, admin, "DataReader")
        for _ in range(5):
            t = self.later(t)
            self.aws(
                t, reader, "GetObject", s3_object("corp-data-lake-prod", env.object_key(self.rng))
            )
        # Decoy: the attacker's IP with someone else's credential.
        etl = self.iam("analytics-etl", ATTACKER.ip, UA_ATTACKER)
        self.calls(leak + 5 * HOUR, etl, ("ListBuckets", "GetObject"), decoy=True)
        # The leaked key again, from a VPS the next day; the backdoor key from another host.
        recon = ("ListBuckets", "GetObject", "GetObject", "GetObject", "DescribeInstances")
        self.calls(leak + 20 * HOUR, from_vps, recon)
        backup = self.iam("backup-svc", BACKDOOR_HOST.ip, UA_BACKDOOR, backdoor, "eu-central-1")
        self.calls(leak + 26 * HOUR, backup, ("GetCallerIdentity", *recon[:2], *recon[-2:]))
        # A 12-hour Admin session shortly before the response.
        t = leak + 2 * DAY + 8 * HOUR
        persistent = self.assume_role(t, from_vps, "Admin", duration=43200)
        self.calls(t, persistent, ("ListSecrets", "GetSecretValue", "GetSecretValue"))
        self.respond(revoke_at, ci, backdoor)
        # After revocation: the key fails, the session key still works, the backdoor fails.
        self.calls(revoke_at + 25 * MINUTE, from_vps, recon[:1], error=INVALID_TOKEN)
        self.calls(revoke_at + 26 * MINUTE, from_vps, ("GetCallerIdentity",), error=INVALID_TOKEN)
        self.calls(revoke_at + 40 * MINUTE, persistent, recon[:3])
        self.calls(revoke_at + 2 * HOUR, backup, ("GetCallerIdentity",), error=INVALID_TOKEN)

    def respond(self, ms: int, ci: AwsActor, backdoor: str) -> None:
        """An admin, with their own key, looks at ci-deployer, rotates it, removes the backdoor."""
        admin = self.iam("alice.admin", CORP.ip, UA_ADMIN)
        look = ("ListAccessKeys", "GetUser")
        t = self.calls(ms, admin, look, request={"userName": "ci-deployer"}, decoy=True)
        deactivate = {"accessKeyId": self.aws_key, "status": "Inactive", "userName": "ci-deployer"}
        t = self.later(t)
        self.aws(t, admin, "UpdateAccessKey", deactivate, revokes=self.aws_key)
        t = self.calls(t, admin, ("ListAccessKeys",), request={"userName": "backup-svc"})
        t = self.later(t)
        delete = {"userName": "backup-svc", "accessKeyId": backdoor}
        self.aws(t, admin, "DeleteAccessKey", delete, revokes=backdoor)
        new_key = self.create_access_key(self.later(t, 60, 120), admin, "ci-deployer")
        rotated = replace(ci, identity={**ci.identity, "accessKeyId": new_key})
        self.ci_runs(rotated, ms + HOUR, self.start + SPAN - HOUR)


# --- background ---------------------------------------------------------------------


class AwsHaystack:
    """An account's everyday API calls: people, services, and role sessions they renew."""

    def __init__(self, company: Company, rng: random.Random, env: AwsEnv) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        self.env = env
        self.start = company.start
        self.people = [
            self.iam_person(i, name, company.places[i]) for i, name in enumerate(company.names)
        ]
        self.aws_roles = [self.role_workload(index) for index in range(24)]
        self.aws_callers = self.people + self.aws_services() + self.aws_roles
        self.consoles = list(zip(self.people, company.places, company.agents, strict=True))
        self.mix = [ACTIONS[name] for name, weight in BACKGROUND_MIX for _ in range(weight)]

    def record(self, source: str, ms: int) -> Record:
        return self.cloudtrail(ms)

    def iam_person(self, index: int, name: str, place: Place) -> AwsActor:
        identity = iam_user(
            self.env, name, self.ids.aws_unique_id("AIDA"), self.ids.aws_key("AKIA")
        )
        region = ("us-east-1", "us-west-2", "eu-west-1")[index % 3]
        return AwsActor(identity, place.ip, AWS_AGENTS[index % len(AWS_AGENTS)], region)

    def aws_services(self) -> list[AwsActor]:
        services = (("terraform", UA_GO), ("analytics-etl", UA_JAVA), ("metrics-exporter", UA_GO))
        return [
            AwsActor(
                iam_user(self.env, name, self.ids.aws_unique_id("AIDA"), self.ids.aws_key("AKIA")),
                f"192.0.2.{20 + i}",
                ua,
            )
            for i, (name, ua) in enumerate(services)
        ]

    def role_workload(self, index: int) -> AwsActor:
        """An EC2 instance profile or Lambda execution role session."""
        role = ("web-app", "batch-worker", "lambda-exec")[index % 3]
        on_lambda = role == "lambda-exec"
        session = (
            self.env.functions[index % 4] if on_lambda else f"i-0{self.rng.getrandbits(64):016x}"
        )
        identity = role_session(
            self.env, role, session, self.ids.aws_key("ASIA"), self.start, ec2=not on_lambda
        )
        region = ("us-east-1", "us-west-2")[index % 2]
        return AwsActor(
            identity,
            f"192.0.2.{100 + index}",
            UA_LAMBDA if on_lambda else UA_JAVA,
            region,
            role,
            session,
        )

    def cloudtrail(self, ms: int) -> Record:
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            actor, place, agent = rng.choice(self.consoles)
            user = {k: v for k, v in actor.identity.items() if k != "accessKeyId"}
            return console_login_record(self.ids, self.env, ms, user, place, agent)
        if roll < 0.04:
            return self.renew_role(ms)
        actor = rng.choice(self.aws_callers)
        action = rng.choice(self.mix)
        error = ACCESS_DENIED if roll > 0.985 else None
        return ct_record(
            self.ids, self.env, ms, actor, action, action.build(rng, self.env), error=error
        )

    def renew_role(self, ms: int) -> Record:
        """A service assumes its role again: a fresh ASIA key for that workload."""
        actor = self.rng.choice(self.aws_roles)
        role, session = str(actor.role), str(actor.session)
        invoker = "lambda.amazonaws.com" if role == "lambda-exec" else "ec2.amazonaws.com"
        service = AwsActor({"type": "AWSService", "invokedBy": invoker}, invoker, invoker)
        record, key = assume_role_record(self.ids, self.env, ms, service, role, session, 3600)
        actor.identity = role_session(
            self.env, role, session, key, ms, ec2=invoker.startswith("ec2")
        )
        return record


class CloudTrailWriter:
    """S3 delivery: one `{"Records": [...]}` file per region and delivery window."""

    def __init__(self, logs: Path, ids: Ids, env: AwsEnv) -> None:
        self.folder = logs / "aws_cloudtrail" / "AWSLogs" / env.account / "CloudTrail"
        self.account = env.account
        self.ids = ids

    def window(self, start: int, records: dict[str, list[Record]]) -> None:
        regions: dict[str, list[Record]] = defaultdict(list)
        for record in records.get(SOURCE, ()):
            regions[record["awsRegion"]].append(record)
        t = time.gmtime(start // 1000)
        stamp = time.strftime("%Y%m%dT%H%MZ", t)
        for region in sorted(regions):
            name = f"{self.account}_CloudTrail_{region}_{stamp}_{self.ids.alnum(16)}.json.gz"
            body = b'{"Records":[' + b",".join(orjson.dumps(r) for r in regions[region]) + b"]}"
            write_gzip(self.folder / region / time.strftime("%Y/%m/%d", t) / name, body)

    def close(self) -> None:
        pass


VENDOR = Vendor(
    name="aws",
    shares={SOURCE: 0.40},
    event_ids={SOURCE: lambda record: record["eventID"]},
    chapter=AwsChapter,
    haystack=AwsHaystack,
    writer=CloudTrailWriter,
    world=lambda rng: AwsEnv.create(Ids(rng)),
    shared_generators=True,
)
