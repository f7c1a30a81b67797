"""What each event acted on (contract §9, issue 21): `event_resources` filled by every
parser's `resources` declaration in the same pass as its events, and the scopes a
credential carried in `credential_refs.scopes`.

Exact sets per source on hand-built records (the vendor's shape, the fields it logs)
and on the real conformance samples; the shared access rule; an old case migrating.
"""

from __future__ import annotations

import json
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
from ir.synth import GroundTruth
from parsers.toml import MappingError, load_mapping
from tests import vendor_records as v
from tests.conftest import SAMPLE, open_sample

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


# --- mapping files --------------------------------------------------------------------

HOSTILE = ["it's", 'say "hi"', "back\\slash", "'); DROP TABLE events; --", "/* x */ -- y"]


def toml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def resource_mapping(h: str) -> str:
    """A mapping whose resources read keys and compare literals holding `h`."""

    def p(*names: str) -> str:
        steps = "".join("[*]" if n == "*" else "[" + json.dumps(n + h) + "]" for n in names)
        return toml_text("$" + steps)

    return f"""
source = "probe_idp"
[detect]
keys = [{p("id")}, {p("when")}]
[event]
source_event_id = {p("id")}
time = {p("when")}
action = {p("verb")}
[[credentials]]
kind = "okta_session"
relation = "used"
value = {p("session")}
scopes = {p("scopes")}
[[credentials]]
kind = "okta_api_token"
relation = "issued"
value = {p("token")}
scopes = {p("granted", "*")}
[[resources]]
type = "probe_app"
id = {p("app", "id")}
name = {p("app", "name")}
access = {{ when = {{ path = {p("verb")}, equals = {toml_text("sign in" + h)} }}, then = "auth", else = "read" }}
[[resources]]
type = "probe_file"
each = {p("files")}
id = {p("files", "*", "id")}
when = {{ path = {p("files", "*", "kind")}, not_in = [{toml_text("skip" + h)}] }}
"""


def probe_record(h: str) -> dict[str, Any]:
    def k(name: str) -> str:
        return name + h

    return {
        k("id"): "e1" + h,
        k("when"): "2026-09-01T10:00:00Z",
        k("verb"): "sign in" + h,
        k("session"): "s" + h,
        k("scopes"): "read:a" + h + " write:b",
        k("token"): "00T" + h,
        k("granted"): ["x" + h, "y"],
        k("app"): {k("id"): "app" + h, k("name"): "App " + h},
        k("files"): [
            {k("id"): "f1" + h, k("kind"): "doc"},
            {k("id"): "f2" + h, k("kind"): "skip" + h},
        ],
    }


@pytest.mark.parametrize("h", HOSTILE)
def test_mapping_resources_read_hostile_text_as_text(
    h: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    monkeypatch.setenv("IR_MAPPINGS", str(folder))  # `ir kinds --resources` lists its types
    (folder / "probe.toml").write_text(resource_mapping(h), encoding="utf-8")
    logs = v.write_ndjson(tmp_path / "logs" / "probe.json", [probe_record(h)])
    with ir.open_case(tmp_path / "case.duckdb") as case:
        (report,) = case.ingest(logs)
        assert (report.source, report.loaded, report.rejected) == ("probe_idp", 1, 0)
        rows = case.connection.execute(
            "SELECT type, id, name, access FROM event_resources ORDER BY type"
        ).fetchall()
        refs = case.sql("SELECT credential, scopes FROM credential_refs ORDER BY credential")
        tables = case.sql("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")
        assert case.resource_types().query("source == 'probe_idp'")["type"].tolist() == [
            "probe_app",
            "probe_file",
        ]
    assert rows == [
        ("probe_app", "app" + h, "App " + h, "auth"),
        ("probe_file", "f1" + h, None, "auth"),  # no access given: the rule over "sign in…"
    ]
    assert [(c, list(s)) for c, s in refs.itertuples(index=False)] == [
        (f"okta_api_token:00T{h}", ["x" + h, "y"]),
        # split at spaces and commas: the hostile text's own spaces split it too
        (f"okta_session:s{h}", [*f"read:a{h}".split(), "write:b"]),
    ]
    assert set(tables["table_name"]) == {  # no table dropped or added by the mapping's text
        "case_meta", "evidence_files", "events", "event_hours", "coverage_spans",
        "credential_refs", "event_resources", "rejects", "journal", "unloaded_files",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ('type = "Probe App"\nid = "$.a"', "type = "),
        ('type = "probe"\nid = "$.a"', "type = "),
        ('type = "probe_app"', "`id` is required"),
        ('type = "probe_app"\nid = "$.a"\naccess = "delete"', "access is one of"),
        ('type = "probe_app"\nid = "$.a"\naccess = { then = "read" }', "`when`, `then`"),
        ('type = "probe_app"\nid = "$.a"\nsize = 3', "unknown key(s) size"),
        ('type = "probe_app"\nid = "$.a[*].b"', "outside `each`"),
    ],
)
def test_mapping_resource_mistakes_name_the_file_and_the_key(
    resource: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "probe.toml"
    path.write_text(
        'source = "probe_idp"\n[detect]\nkeys = ["$.id"]\n[event]\ntime = "$.t"\n'
        f"[[resources]]\n{resource}\n"
    )
    with pytest.raises(MappingError, match=re.escape(message)) as raised:
        load_mapping(path)
    assert str(path) in str(raised.value) and "resources[0]" in str(raised.value)


# --- every source on its real samples ----------------------------------------------------

# Per conformance file: (type, id, access) it must give (a few records' worth), and the
# types it gives at all. Files without resource fields give none.
SAMPLES: dict[str, tuple[set[tuple[str, str, str | None]], set[str]]] = {
    "okta/elastic-okta-system-events-first3.log": (
        {("okta_policy", "00p1abvweGGDW10Ur4x6", "auth")},
        {"okta_policy", "okta_policy_rule"},
    ),
    "github/elastic-audit-json.log": (
        {
            ("github_repo", "redacted/redacted", "read"),
            ("github_repo", "Example-Org/Java", "write"),
        },
        {"github_repo", "github_user"},
    ),
    "entra_signin/elastic-signinlogs-sample.log": (
        {("entra_app", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "auth")},
        {"entra_app"},
    ),
    "entra_audit/elastic-auditlogs-raw.log": (
        {("entra_device", "8a4de8b5-095c-47d0-a96f-a75130c61d53", "write")},
        {"entra_device"},
    ),
    "m365_ual/elastic-exchange-access-event-extracted.log": (
        {
            ("m365_mail_folder", "user@example.com:\\Sent Items", "read"),
            ("m365_mailbox", "user@example.com", "read"),
        },
        {"m365_mail_folder", "m365_mailbox"},
    ),
    "graph_activity/elastic-graphactivitylogs-raw.log": (
        {("graph_resource", "directoryRoles", "read"), ("graph_resource", "devices", "read")},
        {"graph_resource"},
    ),
    "google_workspace/elastic-token.log": (
        {
            (
                "google_oauth_app",
                "923474483785-sqf6uk8vq1rqe853il0g2h4m98ji2fq6.apps.googleusercontent.com",
                "auth",
            )
        },
        {"google_oauth_app"},
    ),
    "slack/elastic-audit.log": (
        {
            ("slack_user", "W123AB456", "auth"),
            ("slack_file", "7edc4c42-f925-47af-979a-22c10e1fefed", "read"),
        },
        {"slack_user", "slack_file"},
    ),
    "salesforce/elastic-login-eventlogfile.log": (
        {("salesforce_org", "00D5j000000VI3n", "auth")},
        {"salesforce_org"},
    ),
    "gcp_audit/elastic-user-entities.log": (
        {("gcp_resource", "projects/test-project", "admin")},
        {"gcp_resource"},
    ),
    "k8s_audit/elastic-audit.log": (
        {("k8s_pod", "default/my-pod", "read")},
        {"k8s_pod", "k8s_object"},
    ),
    "auth0/elastic-token-xchg-success.log": (
        {("auth0_app", "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "auth")},
        {"auth0_app"},
    ),
    "salesforce/elastic-setupaudittrail.log": (set(), set()),
    "google_workspace/elastic-login.log": (set(), set()),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_conformance_sample_resources(name: str, case: Case) -> None:
    expected, types = SAMPLES[name]
    case.ingest(CONFORMANCE / name)
    rows = set(
        case.connection.execute("SELECT DISTINCT type, id, access FROM event_resources").fetchall()
    )
    assert expected <= rows
    assert {row[0] for row in rows} == types


def test_graph_and_github_scopes_as_logged(case: Case) -> None:
    case.ingest(CONFORMANCE / "graph_activity")
    case.ingest(CONFORMANCE / "github" / "elastic-api-request-events.log")
    rows = case.connection.execute(
        "SELECT DISTINCT kind, scopes FROM credential_refs WHERE scopes IS NOT NULL"
    ).fetchall()
    scopes = {(kind, tuple(s)) for kind, s in rows}
    assert ("github_token", ("repo", "read:org")) in scopes
    assert ("entra_uti", ("Organization.Read.All", "User.Read.All")) in scopes  # roles only
    assert {kind for kind, _ in scopes} == {"github_token", "entra_uti"}


# --- the synthetic incident's ground truth ---------------------------------------------

TRUTH_SOURCES = ("aws_cloudtrail", "okta", "github")  # the chapters that record what they touch


def test_the_sample_incident_resources_are_the_ground_truth(tmp_path: Path) -> None:
    """Every object the lineages' events acted on, as ir.synth recorded it while writing
    the records, is what ingest finds: exactly, per event, for the sources whose chapters
    record it (AWS, Okta, GitHub)."""
    truth = GroundTruth.load(SAMPLE / "ground_truth.json")
    with open_sample(tmp_path / "case.duckdb") as case:
        for root, scenario in truth.scenarios.items():
            events = {e.source_event_id for e in scenario.events if e.source in TRUTH_SOURCES}
            expected = {
                (r.source_event_id, r.type, r.id, r.access)
                for r in scenario.resources
                if r.source in TRUTH_SOURCES
            }
            rows = case.connection.execute(
                "SELECT e.source_event_id, r.type, r.id, r.access FROM event_resources r"
                " JOIN events e USING (event_key) WHERE e.source_event_id IN"
                " (SELECT unnest(?::VARCHAR[]))",
                [sorted(events)],
            ).fetchall()
            assert set(rows) == expected, root
            assert bool(expected) == (
                root.split(":")[0] in ("aws_access_key", "okta_session", "github_token")
            )


def test_the_ground_truth_tells_the_attacker_from_the_workload() -> None:
    truth = GroundTruth.load(SAMPLE / "ground_truth.json")
    aws, okta, github = (
        next(s for root, s in truth.scenarios.items() if root.startswith(prefix))
        for prefix in ("aws_access_key", "okta_session", "github_token")
    )

    def of(scenario: Any, type_: str, attacker: bool, access: str) -> set[str]:
        return {
            r.id
            for r in scenario.resources
            if (r.type, r.attacker, r.access) == (type_, attacker, access)
        }

    read = of(aws, "aws_s3_object", True, "read")
    assert len(read) == 15 and all(not o.startswith("corp-ci-artifacts/") for o in read)
    written = of(aws, "aws_s3_object", False, "write")
    assert written and all(o.startswith("corp-ci-artifacts/builds/") for o in written)
    assert of(aws, "aws_iam_user", True, "admin") == {"backup-svc"}  # the backdoor key's user
    assert len(of(aws, "aws_iam_access_key", True, "admin")) == 1
    assert of(aws, "aws_iam_role", True, "auth") == {"Admin", "DataReader"}
    assert len(of(github, "github_repo", True, "read")) == 12  # cloned with the stolen PAT
    assert of(github, "github_repo", False, "read") == {"corp-eng/deploy-config"}
    assert len(of(okta, "okta_api_token", True, "admin")) == 1
    planted = of(okta, "okta_user", True, "write")  # the user created in the stolen session
    assert len(planted) == 1 and planted == of(okta, "okta_user", True, "admin")
    assert of(okta, "okta_app", True, "auth") and of(okta, "okta_app", False, "auth")
