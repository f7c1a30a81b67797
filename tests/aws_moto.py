"""A real moto server for the AWS playbook tests, and the leaked-key world seeded in it.

`moto_server` runs as a subprocess on a free loopback port (a real HTTP server,
SigV4 and IAM's XML errors included); each test resets it and points the
standard AWS settings at it. The world is made the way an attacker would:
the leaked key assumes a role through STS, the session creates a backdoor key
on another user through IAM; the CloudTrail records written for the case carry
the ids moto handed out, so the plan's targets are the server's real keys.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import httpx
import orjson
import pytest

import ir

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
TRUST = orjson.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
).decode()
LEGIT_IP, ATTACKER_IP = "192.0.2.10", "203.0.113.66"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "aws_managed_policies: the moto server holds AWS's managed policies (slower to reset)",
    )


def start_moto(managed_policies: bool) -> Iterator[str]:
    """Run moto_server on a free loopback port until the session ends; yield its URL."""
    port = free_port()
    binary = Path(sys.executable).parent / "moto_server"
    # AWS-managed policies (the quarantine policy is one) are in every real account; moto
    # loads its ~1,000 on every reset when asked, so only the tests that need them pay.
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": str(managed_policies).lower()}
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    yield from start_moto(managed_policies=False)


@pytest.fixture(scope="session")
def moto_server_managed() -> Iterator[str]:
    yield from start_moto(managed_policies=True)


@pytest.fixture
def aws_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto (no state, no IAM enforcement) behind the standard AWS settings."""
    managed = request.node.get_closest_marker("aws_managed_policies") is not None
    server = str(request.getfixturevalue("moto_server_managed" if managed else "moto_server"))
    httpx.post(f"{server}/moto-api/reset").raise_for_status()
    enforce_iam_after(server, None)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_IAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIARESPONDERTESTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "responder-dummy-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return server


def enforce_iam_after(server: str, requests: int | None) -> None:
    """moto's IAM enforcement (server mode): check every request after `requests` more;
    None turns it off."""
    count = "inf" if requests is None else str(requests)
    httpx.post(f"{server}/moto-api/reset-auth", content=count).raise_for_status()


def client(
    service: str, key: str | None = None, secret: str | None = None, token: str | None = None
) -> Any:
    """A boto3 client on the moto server, as the responder or with the given keys."""
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id=key or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=token,
    )


@dataclass
class World:
    """The leaked-key incident as it stands in moto, and its CloudTrail in a case."""

    case: Path
    trail: Path
    leaked: str  # ci-deployer's key, leaked; its CI workload still uses it
    session: str  # ASIA… of role Admin, assumed with the leaked key
    backdoor: str  # created by the session on backup-svc
    backup_own: str  # backup-svc's own key: outside the lineage
    bystander: str  # another user's key, in the case but not in the lineage
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> str:
        return f"aws_access_key:{self.leaked}"


def create_world(tmp_path: Path, extra_records: list[dict[str, Any]] | None = None) -> World:
    iam = client("iam")
    for user in ("ci-deployer", "backup-svc", "bystander"):
        iam.create_user(UserName=user)
    for role in ("Admin", "Unrelated"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    leaked = iam.create_access_key(UserName="ci-deployer")["AccessKey"]
    backup_own = iam.create_access_key(UserName="backup-svc")["AccessKey"]
    bystander = iam.create_access_key(UserName="bystander")["AccessKey"]
    # The attacker, with the leaked key: AssumeRole, then a backdoor key on backup-svc.
    sts = client("sts", leaked["AccessKeyId"], leaked["SecretAccessKey"])
    assumed = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Admin", RoleSessionName="botocore-session-1"
    )
    creds = assumed["Credentials"]
    attacker = client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    backdoor = attacker.create_access_key(UserName="backup-svc")["AccessKey"]
    world = World(
        case=tmp_path / "case.duckdb",
        trail=tmp_path / "trail" / "cloudtrail.json",
        leaked=leaked["AccessKeyId"],
        session=creds["AccessKeyId"],
        backdoor=backdoor["AccessKeyId"],
        backup_own=backup_own["AccessKeyId"],
        bystander=bystander["AccessKeyId"],
        secrets={
            "leaked": leaked["SecretAccessKey"],
            "backdoor": backdoor["SecretAccessKey"],
        },
    )
    records = incident_records(world, assumed["AssumedRoleUser"]["Arn"]) + (extra_records or [])
    write_trail(world.trail, records)
    with ir.open_case(world.case) as case:
        case.ingest(world.trail)
    return world


def incident_records(world: World, session_arn: str) -> list[dict[str, Any]]:
    """The CloudTrail of the incident: CI use for two days, then the attacker."""
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    ci = user_arn("ci-deployer")
    records = [
        record("GetCallerIdentity", world.leaked, ci, LEGIT_IP, start + timedelta(hours=h), "sts")
        for h in (0, 6, 12, 30)
    ]
    attack = start + timedelta(days=2)
    records += [
        record("ListBuckets", world.leaked, ci, ATTACKER_IP, attack, "s3"),
        record(
            "AssumeRole",
            world.leaked,
            ci,
            ATTACKER_IP,
            attack + timedelta(minutes=1),
            "sts",
            response={
                "credentials": {"accessKeyId": world.session},
                "assumedRoleUser": {"arn": session_arn},
            },
        ),
        record(
            "CreateAccessKey",
            world.session,
            session_arn,
            ATTACKER_IP,
            attack + timedelta(minutes=2),
            request={"userName": "backup-svc"},
            response={"accessKey": {"accessKeyId": world.backdoor, "userName": "backup-svc"}},
        ),
        record(
            "ListBuckets",
            world.backdoor,
            user_arn("backup-svc"),
            ATTACKER_IP,
            attack + timedelta(minutes=5),
            "s3",
        ),
        record("ListBuckets", world.bystander, user_arn("bystander"), LEGIT_IP, attack, "s3"),
        record("ListBuckets", world.backup_own, user_arn("backup-svc"), LEGIT_IP, attack, "s3"),
    ]
    return records


def user_arn(user: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{user}"


def record(
    name: str,
    key: str,
    arn: str,
    ip: str,
    when: datetime,
    service: str = "iam",
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One CloudTrail record as AWS delivers it (the fields the parser reads and more)."""
    assumed = ":assumed-role/" in arn
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole" if assumed else "IAMUser",
            "principalId": f"AIDA{uuid.uuid4().hex[:16].upper()}",
            "arn": arn,
            "accountId": ACCOUNT,
            "accessKeyId": key,
            **({} if assumed else {"userName": arn.rsplit("/", 1)[-1]}),
        },
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": name.startswith(("Get", "List")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }


def write_trail(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps({"Records": records}))


def iam_state() -> dict[str, Any]:
    """Everything a playbook could change: every user's keys, inline and attached
    policies, every role's inline policies, every secret with its versions."""
    iam, secrets = client("iam"), client("secretsmanager")
    users = {}
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        users[name] = {
            "keys": key_states(name),
            "inline": {
                policy: iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"]
                for policy in iam.list_user_policies(UserName=name)["PolicyNames"]
            },
            "attached": sorted(
                p["PolicyArn"]
                for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
            ),
        }
    roles = {
        role["RoleName"]: {
            policy: iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)[
                "PolicyDocument"
            ]
            for policy in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        }
        for role in iam.list_roles()["Roles"]
    }
    stored = {
        s["Name"]: sorted(s.get("SecretVersionsToStages", {}))
        for s in secrets.list_secrets()["SecretList"]
    }
    return {"users": users, "roles": roles, "secrets": stored}


def key_states(user: str) -> dict[str, str]:
    listed = client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in listed}


def stored_key(secret_id: str) -> dict[str, str]:
    value = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return dict(orjson.loads(value))


class ThrottlingProxy:
    """A loopback HTTP proxy in front of moto that answers the first `count` requests of
    an IAM action the way IAM throttles: HTTP 400, XML error code `Throttling`."""

    def __init__(self, upstream: str, action: str, count: int) -> None:
        self.upstream, self.action, self.remaining = upstream, action, count
        self.throttled = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
                if action == proxy.action and proxy.remaining > 0:
                    proxy.remaining -= 1
                    proxy.throttled += 1
                    self._send(400, THROTTLED, {"Content-Type": "text/xml"})
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.post(f"{proxy.upstream}{self.path}", content=body, headers=headers)
                kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type",)}
                self._send(answer.status_code, answer.content, kept)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


THROTTLED = (
    b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"
)
