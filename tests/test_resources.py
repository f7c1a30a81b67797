"""What each event acted on (contract §9, issue 21): `event_resources` filled by every
parser's `resources` declaration in the same pass as its events, and the scopes a
credential carried in `credential_refs.scopes`.

Exact sets per source on hand-built records (the vendor's shape, the fields it logs)
and on the real conformance samples; the shared access rule; an old case migrating.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import ir
from ir import store
from ir.case import Case
from tests import vendor_records as v

CONFORMANCE = Path(__file__).resolve().parent / "conformance"
Found = set[tuple[str, str, str, str | None]]


def found(case: Case, source_event_id: str | None = None) -> Found:
    """(action, type, id, access) of the case's resources, or of one event's."""
    where = "" if source_event_id is None else "WHERE e.source_event_id = ?"
    rows = case.connection.execute(
        "SELECT e.action, r.type, r.id, r.access FROM event_resources r"
        f" JOIN events e USING (event_key) {where}",
        [] if source_event_id is None else [source_event_id],
    ).fetchall()
    return {tuple(row) for row in rows}  # type: ignore[misc]


def ingest(case: Case, path: Path, records: list[dict[str, Any]]) -> Case:
    v.write_ndjson(path, records)
    (report,) = case.ingest(path)
    assert report.error is None and report.rejected == 0
    return case


# --- AWS CloudTrail -------------------------------------------------------------------


def s3(event_id: str, name: str, bucket: str, key: str | None, read_only: bool) -> dict[str, Any]:
    request: dict[str, Any] = {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com"}
    record = v.cloudtrail(event_id, "2026-09-01T10:00:00Z", name, "AKIAEXAMPLE0000001")
    listed = [{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    if key is not None:
        request["key"] = key
        listed.insert(0, {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"})
    record.update(
        eventSource="s3.amazonaws.com",
        requestParameters=request,
        readOnly=read_only,
        resources=listed,
    )
    return record


def test_cloudtrail_resources(case: Case, tmp_path: Path) -> None:
    key = "AKIAEXAMPLE0000001"
    secret = v.cloudtrail("sm", "2026-09-01T10:01:00Z", "GetSecretValue", key)
    secret.update(eventSource="secretsmanager.amazonaws.com", readOnly=True)
    secret["requestParameters"] = {"secretId": "prod/db/master"}
    decrypt = v.cloudtrail("kms", "2026-09-01T10:02:00Z", "GenerateDataKey", key)
    decrypt.update(eventSource="kms.amazonaws.com", readOnly=True)
    decrypt["requestParameters"] = {"keyId": "alias/app-prod", "keySpec": "AES_256"}
    policy = v.cloudtrail("pol", "2026-09-01T10:03:00Z", "AttachRolePolicy", key)
    policy["requestParameters"] = {
        "roleName": "Admin",
        "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
    }
    stop = v.cloudtrail("ec2", "2026-09-01T10:04:00Z", "StopInstances", key)
    stop.update(eventSource="ec2.amazonaws.com")
    stop["requestParameters"] = {
        "instancesSet": {"items": [{"instanceId": "i-0abc"}, {"instanceId": "i-0def"}]},
        "force": False,
    }
    ssm_name = v.cloudtrail("name", "2026-09-01T10:05:00Z", "CreateUser", key)
    ssm_name["requestParameters"] = {"userName": "backup-admin", "name": "not-a-parameter"}
    records = [
        s3("get", "GetObject", "corp-data", "raw/2026/1.json", True),
        s3("list", "ListObjects", "corp-data", None, True),
        s3("put", "PutObject", "corp-ci", "builds/1.tar.gz", False),
        secret,
        decrypt,
        policy,
        stop,
        ssm_name,
        v.assume_role("ar", "2026-09-01T10:06:00Z", key, "ASIAEXAMPLE0000002"),
        v.create_access_key("ck", "2026-09-01T10:07:00Z", key, "AKIABACKDOOR000001", "backup-svc"),
    ]
    v.write_cloudtrail(tmp_path / "ct.json", records)
    case.ingest(tmp_path / "ct.json")
    assert found(case) == {
        ("GetObject", "aws_s3_object", "corp-data/raw/2026/1.json", "read"),
        ("GetObject", "aws_s3_bucket", "corp-data", "read"),
        ("ListObjects", "aws_s3_bucket", "corp-data", "read"),
        ("PutObject", "aws_s3_object", "corp-ci/builds/1.tar.gz", "write"),
        ("PutObject", "aws_s3_bucket", "corp-ci", "write"),
        ("GetSecretValue", "aws_secret", "prod/db/master", "read"),
        ("GenerateDataKey", "aws_kms_key", "alias/app-prod", "read"),
        ("AttachRolePolicy", "aws_iam_role", "Admin", "admin"),
        (
            "AttachRolePolicy",
            "aws_iam_policy",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "admin",
        ),
        ("StopInstances", "aws_ec2_instance", "i-0abc", "write"),
        ("StopInstances", "aws_ec2_instance", "i-0def", "write"),
        # `name` names an SSM parameter only in SSM's calls
        ("CreateUser", "aws_iam_user", "backup-admin", "write"),
        ("AssumeRole", "aws_iam_role", "Admin", "auth"),
        ("CreateAccessKey", "aws_iam_user", "backup-svc", "admin"),
        ("CreateAccessKey", "aws_iam_access_key", "AKIABACKDOOR000001", "admin"),
    }
    scopes = case.sql("SELECT credential, scopes FROM credential_refs WHERE relation = 'issued'")
    by_credential = {row.credential: row.scopes for row in scopes.itertuples()}
    assert list(by_credential["aws_access_key:ASIAEXAMPLE0000002"]) == [
        f"arn:aws:iam::{v.ACCOUNT}:role/Admin"
    ]
    assert by_credential["aws_access_key:AKIABACKDOOR000001"] is pd.NA


def test_cloudtrail_conformance_resources(case: Case) -> None:
    """The real samples: AssumeRole's roleArn and resources[] (whose ARNs name another
    account and, in the second record, another role: test data), ConsoleLogin, and
    UpdateAccessKey."""
    case.ingest(CONFORMANCE / "aws_cloudtrail")
    assert found(case) == {
        ("AssumeRole", "aws_iam_role", "JohnRole2", "auth"),
        ("AssumeRole", "aws_iam_role", "SAMLTestRoleShibboleth", "auth"),
        ("ConsoleLogin", "aws_console", "111122223333", "auth"),
        ("ConsoleLogin", "aws_console", "123456789012", "auth"),
        ("UpdateAccessKey", "aws_iam_access_key", "EXAMPLE_KEY_ID", "admin"),
        ("UpdateAccessKey", "aws_iam_user", "Bob", "admin"),
    }
    issued = case.sql("SELECT DISTINCT scopes FROM credential_refs WHERE relation = 'issued'")
    assert [list(s) for s in issued["scopes"]] == [["arn:aws:iam::111111111111:role/JohnRole2"]]


# --- the shared access rule -----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "access"),
    [
        ("GetObject", "read"),
        ("ListAttachedRolePolicies", "read"),
        ("PutObject", "write"),
        ("DeleteObject", "write"),
        ("PutRolePolicy", "admin"),
        ("CreateLoginProfile", "admin"),
        ("ConsoleLogin", "auth"),
        ("AssumeRoleWithSAML", "auth"),
        ("system.api_token.create", "admin"),
        ("group.user_membership.add", "admin"),
        ("user.lifecycle.create", "write"),
        ("user.authentication.sso", "auth"),
        ("git.clone", "read"),
        ("repo.download_zip", "read"),
        ("public_key.create", "admin"),
        ("get secrets", "read"),
        ("create clusterrolebindings", "admin"),
        ("FileDownloaded", "read"),
        ("MailItemsAccessed", "read"),
        ("New-InboxRule", "write"),
        ("Add-MailboxPermission", "admin"),
        ("google.iam.admin.v1.CreateServiceAccountKey", "admin"),
        ("storage.objects.get", "read"),
        ("file_downloaded", "read"),
        ("user_login", "auth"),
        ("api.request", None),
        (None, None),
    ],
)
def test_the_shared_access_rule(action: str | None, access: str | None) -> None:
    from parsers.base import register_sql

    connection = duckdb.connect()
    register_sql(connection)
    assert connection.execute("SELECT ir_access(?)", [action]).fetchall() == [(access,)]


# --- an old case ------------------------------------------------------------------------


def test_a_schema_6_case_migrates_and_fills_resources(tmp_path: Path) -> None:
    """A case made before schema 7 (no scopes column, no event_resources) with events in
    it: migrated in place, its events kept, and what is ingested next has resources."""
    path = tmp_path / "case.duckdb"
    schema = files("ir").joinpath("schema.sql").read_text()
    older = re.sub(r",(\s+--[^\n]*)?\n\s+scopes\s+VARCHAR\[\][^\n]*", r"\1", schema)
    older = re.sub(r"CREATE TABLE IF NOT EXISTS event_resources \([^;]*\);", "", older)
    older = re.sub(r"CREATE INDEX IF NOT EXISTS event_resources_event_key[^;]*;", "", older)
    assert "    scopes " not in older and "event_resources (" not in older
    with duckdb.connect(str(path)) as connection:
        connection.execute(older)
        connection.execute("INSERT INTO case_meta VALUES ('schema_version', '6')")
        connection.execute(
            "INSERT INTO events VALUES (1, 'okta', 'old-1', '2026-01-01T00:00:00Z', 'x',"
            " 'success', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 'abc')"
        )
        connection.execute(
            "INSERT INTO credential_refs VALUES (1, 'okta_session:s', 'okta_session', 'used',"
            " NULL, NULL, NULL, NULL)"
        )
    with ir.open_case(path) as case:
        case.ingest(CONFORMANCE / "aws_cloudtrail" / "elastic-assume-role.log")
        old = case.sql("SELECT scopes FROM credential_refs WHERE event_key = 1")["scopes"]
        assert old.isna().all()
        assert ("AssumeRole", "aws_iam_role", "JohnRole2", "auth") in found(case)
        assert case.sql("SELECT count(*) AS n FROM events")["n"][0] == 3
        indexes = case.sql("SELECT index_name FROM duckdb_indexes()")["index_name"].tolist()
    assert "event_resources_event_key" in indexes
    with duckdb.connect(str(path), read_only=True) as connection:
        row = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'")
        assert row.fetchall() == [(str(store.SCHEMA_VERSION),)]
