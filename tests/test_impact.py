"""Impact (contract §9): the catalogue file, its rule forms, and the answer on real cases."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

import ir
from ir import impact as impacting
from ir.errors import IrError
from parsers.registry import SOURCES
from tests import vendor_records as v
from tests.conftest import REPO, ROOT, SAMPLE, open_sample

SCHEMAS = json.loads((Path(__file__).parent / "contract" / "schemas.json").read_text())
IR = REPO / ".venv" / "bin" / "ir"
OKTA_ROOT = "okta_session:102hZRgCcFl742wO50iahAImd"
ENTRA_ROOT = "entra_session:d9d016e1-56a6-449c-a1ef-c6d76183a272"
# Issue 21, item 3: the (source, action) rows the catalogue must hold at least, each as the
# vendor spells it in events.action (checked against the vendors' pages and the samples).
REQUIRED = {
    "aws_cloudtrail": {
        "CreateAccessKey", "CreateUser", "CreateLoginProfile", "UpdateLoginProfile",
        "AttachUserPolicy", "AttachRolePolicy", "PutUserPolicy", "PutRolePolicy", "CreateRole",
        "UpdateAssumeRolePolicy", "StopLogging", "DeleteTrail", "PutEventSelectors",
        "GetSecretValue", "GetParametersByPath", "ConsoleLogin", "GetFederationToken",
    },
    "okta": {
        "system.api_token.create", "user.lifecycle.create", "group.user_membership.add",
        "user.account.update_password", "user.mfa.factor.deactivate",
        "application.user_membership.add", "policy.lifecycle.deactivate",
    },
    "github": {
        "personal_access_token.access_granted", "oauth_authorization.create",
        "public_key.create", "repo.download_zip", "git.clone", "protected_branch.destroy",
    },
    "entra_audit": {
        "Add service principal credentials", "Consent to application", "Add member to role",
        "Update application – Certificates and secrets management",
    },
    "m365_ual": {
        "New-InboxRule", "Set-InboxRule", "MailItemsAccessed", "FileDownloaded",
        "FileSyncDownloadedFull",
    },
    "google_workspace": {"authorize", "ASSIGN_ROLE"},
    "slack": {"app_installed", "app_scopes_expanded"},
    "salesforce": {"BulkApi", "BulkApi2", "RestApi"},
    "k8s_audit": {"get secrets", "list secrets", "create clusterrolebindings"},
}  # fmt: skip
ROW = """
[[action]]
source = "aws_cloudtrail"
action = "GetObject"
category = "exfiltration"
technique = "T1530"
reason = "objects read"
url = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html"
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ir.Case]:
    """The sample incident, read-only, so the `ir` binary can read it meanwhile."""
    path = tmp_path_factory.mktemp("sample") / "case.duckdb"
    open_sample(path).close()
    with ir.open_case(path, read_only=True) as case:
        yield case


def sensitive_rows(answer: impacting.Impact) -> list[tuple[str, str, str, str | None, str]]:
    frame = answer.sensitive
    return list(
        zip(
            frame["action"],
            frame["category"],
            frame["technique"],
            [None if pd.isna(target) else target for target in frame["target"]],
            frame["outcome"],
            strict=True,
        )
    )


# --- the catalogue -------------------------------------------------------------------


def test_the_catalogue_file_is_valid_and_holds_every_required_action() -> None:
    rules = impacting.load_catalogue()
    for rule in rules:
        assert rule.source in SOURCES
        assert rule.category in impacting.CATEGORIES
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", rule.technique), rule
        assert rule.reason and rule.url.startswith("https://"), rule
        assert (rule.action is None) != (rule.pattern is None), rule
    held = {(r.source, r.action) for r in rules}
    missing = {(s, a) for s, actions in REQUIRED.items() for a in actions} - held
    assert missing == set()
    assert set(impacting.CATEGORIES) == set(
        SCHEMAS["impact"]["properties"]["sensitive"]["items"]["properties"]["category"]["enum"]
    )


def test_bulk_and_conditional_rows_are_declared_in_the_file() -> None:
    rules = {(r.source, r.action, r.category): r for r in impacting.load_catalogue()}
    clone = rules[("github", "git.clone", "exfiltration")]
    assert (clone.bulk_count, clone.bulk_minutes, clone.bulk_distinct) == (5, 60, "github_repo")
    mail = rules[("m365_ual", "MailItemsAccessed", "exfiltration")]
    assert (mail.bulk_count, mail.bulk_minutes, mail.bulk_distinct) == (25, 60, None)
    forward = rules[("m365_ual", "New-InboxRule", "exfiltration")]
    assert (forward.technique, forward.resource_type) == ("T1114.003", "m365_forwarding_address")
    hiding = rules[("m365_ual", "New-InboxRule", "defense_evasion")]
    assert (hiding.technique, hiding.resource_type, hiding.bulk_count) == ("T1564.008", None, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('source = "aws_cloudtrail"', 'source = "cloudtrail"'), "unknown source 'cloudtrail'"),
        (('category = "exfiltration"', 'category = "collection"'), "category must be one of"),
        (('technique = "T1530"', 'technique = "T1530.1"'), "is no ATT&CK id"),
        (('technique = "T1530"', 'technique = "1530"'), "is no ATT&CK id"),
        (('reason = "objects read"', 'reason = " "'), "reason is missing"),
        (('url = "https://docs', 'url = "http://docs'), "url must be an https://"),
        (('action = "GetObject"', 'action = "GetObject"\npattern = "Get.*"'), "one of the two"),
        (('action = "GetObject"', 'pattern = "Get(("'), "no regular expression"),
        (('action = "GetObject"', 'action = "GetObject"\nseverity = 3'), "unknown keys severity"),
    ],
)
def test_the_loader_names_the_row_and_what_is_wrong(change: tuple[str, str], message: str) -> None:
    with pytest.raises(IrError, match=re.escape(message)) as raised:
        impacting.load_catalogue(ROW.replace(*change))
    assert "[[action]] #1" in str(raised.value) or "not TOML" in str(raised.value)


def test_a_bulk_row_needs_a_count_and_a_window() -> None:
    text = ROW + "\n[action.bulk]\ncount = 0\nminutes = 60\n"
    with pytest.raises(IrError, match="bulk needs count and minutes"):
        impacting.load_catalogue(text)


# --- rule forms, on cases made through the real ingest path --------------------------


def _cloudtrail_case(tmp_path: Path, records: list[dict[str, Any]]) -> ir.Case:
    v.write_cloudtrail(tmp_path / "logs" / "ct.json", records)
    case = ir.open_case(tmp_path / "case.duckdb")
    assert all(r.rejected == 0 for r in case.ingest(tmp_path / "logs"))
    return case


def _reads(key: str, count: int, start_minute: int, step: int = 2) -> list[dict[str, Any]]:
    return [
        v.cloudtrail(
            f"read-{key}-{start_minute}-{n}",
            f"2026-09-04T10:{start_minute + step * n:02d}:00Z",
            "GetObject",
            key,
            ip="203.0.113.66",
        )
        for n in range(count)
    ]


def test_a_bulk_rule_lists_every_event_of_a_burst_and_nothing_short_of_it(tmp_path: Path) -> None:
    key = "AKIAIMPACTBULK000001"
    # 3 reads 10:00 to 10:04 (a burst under a rule of 3 in 10 minutes), then 2 far apart.
    records = _reads(key, 3, 0) + _reads(key, 2, 30, step=20)
    rules = impacting.load_catalogue(ROW + "\n[action.bulk]\ncount = 3\nminutes = 10\n")
    with _cloudtrail_case(tmp_path, records) as case:
        answer = impacting.impact(case.connection, case.trace(f"aws_access_key:{key}"), rules)
    assert list(answer.sensitive["source_event_id"]) == [f"read-{key}-0-{n}" for n in range(3)]
    assert set(answer.sensitive["category"]) == {"exfiltration"}


def test_a_plain_rule_lists_every_traced_use_failures_included(tmp_path: Path) -> None:
    key = "AKIAIMPACTPLAIN00001"
    denied = v.cloudtrail("denied", "2026-09-04T11:00:00Z", "GetObject", key, error="AccessDenied")
    with _cloudtrail_case(tmp_path, [*_reads(key, 2, 0), denied]) as case:
        answer = impacting.impact(
            case.connection, case.trace(f"aws_access_key:{key}"), impacting.load_catalogue(ROW)
        )
    assert list(
        zip(answer.sensitive["source_event_id"], answer.sensitive["outcome"], strict=True)
    ) == [
        (f"read-{key}-0-0", "success"),
        (f"read-{key}-0-1", "success"),
        ("denied", "failure"),
    ]


def test_only_uses_of_a_traced_credential_count_not_an_admin_revoking_it(tmp_path: Path) -> None:
    """The admin who deletes the backdoor key appears in the trace (it revoked a traced
    credential), but acted with a credential of their own: no sensitive row of theirs."""
    key, backdoor, admin = "AKIAIMPACTLEAKED0001", "AKIAIMPACTBACKDOOR01", "AKIAIMPACTADMIN00001"
    records = [
        v.create_access_key("mint", "2026-09-04T10:00:00Z", key, backdoor, "backup-svc"),
        v.cloudtrail(
            "delete",
            "2026-09-04T12:00:00Z",
            "DeleteAccessKey",
            admin,
            user="admin",
            request={"accessKeyId": backdoor, "userName": "backup-svc"},
        ),
        v.cloudtrail("users", "2026-09-04T12:05:00Z", "ListUsers", admin, user="admin"),
    ]
    with _cloudtrail_case(tmp_path, records) as case:
        traced = case.trace(f"aws_access_key:{key}")
        assert "delete" in set(traced.events["source_event_id"])
        answer = traced.impact()
    assert sensitive_rows(answer) == [
        ("CreateAccessKey", "persistence", "T1098.001", f"aws_access_key:{backdoor}", "success")
    ]


def _inbox_rule(uuid: str, minute: int, parameters: list[dict[str, str]]) -> dict[str, Any]:
    """A New-InboxRule record of the Management Activity API, in a hijacked Entra session."""
    return {
        "CreationTime": f"2026-09-04T16:{minute:02d}:00",
        "Id": uuid,
        "Operation": "New-InboxRule",
        "OrganizationId": "4c9fa4ca-d72d-43f5-97e9-71b9c356cbe5",
        "RecordType": 1,
        "UserId": "megan@corp.example",
        "Workload": "Exchange",
        "ResultStatus": "True",
        "ClientIP": "203.0.113.66:44197",
        "ObjectId": "corp.example/Users/megan\\rule",
        "Parameters": [{"Name": "Name", "Value": "."}, *parameters],
        "AppAccessContext": {"AADSessionId": "5e551011-0000-4000-8000-000000000001"},
    }


def test_an_inbox_rule_that_forwards_is_exfiltration_as_well(tmp_path: Path) -> None:
    """The condition form: every inbox rule may hide mail (T1564.008); one that forwards it
    to an address (the rule's ForwardTo, RedirectTo…) also moves it out (T1114.003)."""
    records = [
        _inbox_rule("rule-hides", 1, [{"Name": "MoveToFolder", "Value": "RSS Subscriptions"}]),
        _inbox_rule("rule-forwards", 2, [{"Name": "ForwardTo", "Value": "drop@mail.example.net"}]),
    ]
    v.write_ndjson(tmp_path / "logs" / "ual.ndjson", records)
    with ir.open_case(tmp_path / "case.duckdb") as case:
        assert all(r.rejected == 0 for r in case.ingest(tmp_path / "logs"))
        answer = case.impact(
            "entra_session:5e551011-0000-4000-8000-000000000001", leaked_at="2026-09-04T00:00:00Z"
        )
    assert list(
        zip(answer.sensitive["source_event_id"], answer.sensitive["technique"], strict=True)
    ) == [
        ("rule-hides", "T1564.008"),
        ("rule-forwards", "T1564.008"),
        ("rule-forwards", "T1114.003"),
    ]
    forwarded = answer.resources[answer.resources["type"] == "m365_forwarding_address"]
    assert forwarded[["id", "access", "from_new_place"]].values.tolist() == [
        ["drop@mail.example.net", "write", True]
    ]


# --- the sample incident --------------------------------------------------------------


def resource_rows(answer: impacting.Impact, new: bool) -> list[tuple[Any, ...]]:
    """(source, type, id, access, actions, events) of the resources from new places (or not)."""
    frame = answer.resources[answer.resources["from_new_place"] == new]
    return [
        (r.source, r.type, r.id, r.access, tuple(r.actions), r.events) for r in frame.itertuples()
    ]


def test_sample_aws_key_what_it_touched_could_do_and_created(sample: ir.Case) -> None:
    """The attacker's reads (from new places) apart from the CI workload's own writes."""
    answer = sample.impact(token=(SAMPLE / "leaked_token.txt").read_text())
    assert answer.root == ROOT
    s3 = "aws_cloudtrail", "aws_s3_object"
    read = [
        "corp-analytics-exports/builds/2026/315783.parquet",
        "corp-analytics-exports/curated/2026/873070.json",
        "corp-analytics-exports/exports/2024/851184.json",
        "corp-backups/tmp/2024/942199.parquet",
        "corp-backups/tmp/2025/277614.tar.gz",
        "corp-customer-uploads/raw/2025/640097.parquet",
        "corp-data-lake-prod/builds/2025/055967.json",
        "corp-data-lake-prod/curated/2025/169061.parquet",
        "corp-data-lake-prod/curated/2025/567834.tar.gz",
        "corp-data-lake-prod/exports/2026/261366.tar.gz",
        "corp-data-lake-prod/raw/2025/750330.parquet",
        "corp-data-lake-prod/raw/2025/984140.parquet",
        "corp-data-lake-prod/raw/2026/652418.tar.gz",
        "corp-data-lake-prod/tmp/2024/409711.csv.gz",
        "corp-logs-archive/raw/2024/676276.csv.gz",
    ]
    aws = "aws_cloudtrail"
    assert resource_rows(answer, new=True) == [
        (aws, "aws_iam_access_key", "AKIAU3JLW42SYGMXHT24", "admin", ("CreateAccessKey",), 1),
        (aws, "aws_iam_role", "Admin", "auth", ("AssumeRole",), 2),
        (aws, "aws_iam_role", "DataReader", "auth", ("AssumeRole",), 1),
        (aws, "aws_iam_user", "backup-svc", "admin", ("CreateAccessKey", "ListAccessKeys"), 2),
        (aws, "aws_s3_bucket", "corp-analytics-exports", "read", ("GetObject",), 3),
        (aws, "aws_s3_bucket", "corp-backups", "read", ("GetObject", "ListObjects"), 3),
        (aws, "aws_s3_bucket", "corp-customer-uploads", "read", ("GetObject",), 1),
        (aws, "aws_s3_bucket", "corp-data-lake-prod", "read", ("GetObject",), 8),
        (aws, "aws_s3_bucket", "corp-logs-archive", "read", ("GetObject",), 1),
        *[(*s3, key, "read", ("GetObject",), 1) for key in read],
        (aws, "aws_secret", "prod/db/master", "read", ("GetSecretValue",), 1),
        (aws, "aws_secret", "prod/sendgrid", "read", ("GetSecretValue",), 1),
    ]
    workload = resource_rows(answer, new=False)
    assert workload[0] == (aws, "aws_s3_bucket", "corp-ci-artifacts", "write", ("PutObject",), 25)
    assert {(t, a, e) for _, t, _, a, _, e in workload[1:]} == {("aws_s3_object", "write", 1)}
    assert len(workload) == 26
    assert answer.scopes.values.tolist() == [
        ["aws_access_key:ASIAERVTE74C7DYOALCC", aws, ["arn:aws:iam::534439589175:role/Admin"]],
        ["aws_access_key:ASIAJ7WJ56WCSIXWLK2O", aws, ["arn:aws:iam::534439589175:role/DataReader"]],
        ["aws_access_key:ASIARNVY25WXUF5VAB46", aws, ["arn:aws:iam::534439589175:role/Admin"]],
    ]
    backdoor = "aws_access_key:AKIAU3JLW42SYGMXHT24"
    assert sensitive_rows(answer) == [
        ("ListBuckets", "discovery", "T1619", None, "success"),
        ("ListUsers", "discovery", "T1087.004", None, "failure"),
        (
            "GetSecretValue",
            "credential_access",
            "T1555.006",
            "aws_secret:prod/stripe/api",
            "failure",
        ),
        ("ListUsers", "discovery", "T1087.004", None, "success"),
        ("ListRoles", "discovery", "T1087.004", None, "success"),
        ("ListAccessKeys", "discovery", "T1087.004", "aws_iam_user:backup-svc", "success"),
        ("CreateAccessKey", "persistence", "T1098.001", backdoor, "success"),
        ("ListBuckets", "discovery", "T1619", None, "success"),
        ("ListBuckets", "discovery", "T1619", None, "success"),
        ("ListSecrets", "discovery", "T1555.006", None, "success"),
        (
            "GetSecretValue",
            "credential_access",
            "T1555.006",
            "aws_secret:prod/db/master",
            "success",
        ),
        ("GetSecretValue", "credential_access", "T1555.006", "aws_secret:prod/sendgrid", "success"),
        ("ListBuckets", "discovery", "T1619", None, "failure"),
        ("ListBuckets", "discovery", "T1619", None, "success"),
    ]
    assert answer.sensitive["from_new_place"].all()


def test_sample_okta_session_a_user_and_a_token_created_and_privileges_given(
    sample: ir.Case,
) -> None:
    answer = sample.impact(OKTA_ROOT)
    token = "okta_api_token:00TE6Dc5gQFkHzR152mo"
    user = "okta_user:00uEzh2HcfVNMCH7Xxdo"
    assert _with_credential(answer) == [
        ("user.lifecycle.create", "persistence", "T1136.003", user, "success", OKTA_ROOT),
        ("system.api_token.create", "persistence", "T1098.001", token, "success", OKTA_ROOT),
        (
            "group.user_membership.add",
            "privilege",
            "T1098.003",
            "okta_group:00ga0QylGMmPo2z3ue2R",
            "success",
            token,
        ),
        ("user.account.privilege.grant", "privilege", "T1098.003", user, "success", token),
        (
            "application.user_membership.add",
            "privilege",
            "T1098",
            "okta_app:0oaQe0ORSg04tO5tVW5Q",
            "success",
            token,
        ),
    ]
    touched = {
        (r.type, r.id, r.name, r.access, r.from_new_place) for r in answer.resources.itertuples()
    }
    assert touched == {
        ("okta_api_token", "00TE6Dc5gQFkHzR152mo", "okta-sync", "admin", True),
        ("okta_group", "00ga0QylGMmPo2z3ue2R", "Okta Administrators", "admin", True),
        ("okta_app", "0oa1a2b3c4d5e6f7g8h9", "Okta Admin Console", "read", True),
        ("okta_app", "0oaQe0ORSg04tO5tVW5Q", "AWS Account Federation", "admin", True),
        ("okta_user", "00uEzh2HcfVNMCH7Xxdo", "svc-sync@corp.example", "admin", True),
        (
            "okta_app",
            "0oaFopiQz11sAsVYo2pN",
            "GitHub Enterprise Cloud - Organization",
            "auth",
            False,
        ),
    }
    assert answer.scopes.empty


def _with_credential(answer: impacting.Impact) -> list[tuple[Any, ...]]:
    frame = answer.sensitive
    return [
        (*row, credential)
        for row, credential in zip(sensitive_rows(answer), frame["credential"], strict=True)
    ]


def test_sample_entra_session_hides_mail_downloads_files_and_adds_app_secrets(
    sample: ir.Case,
) -> None:
    answer = sample.impact(ENTRA_ROOT)
    files = "sharepoint_file:https://corp.sharepoint.com/sites/finance/Shared Documents/"
    app = "5dba8cc4-a670-40f5-a3fb-58f578428580"
    assert sensitive_rows(answer) == [
        (
            "New-InboxRule",
            "defense_evasion",
            "T1564.008",
            "m365_object:corp.example/Users/megan\\.",
            "success",
        ),
        ("FileDownloaded", "exfiltration", "T1530", files + "Q3 forecast.xlsx", "success"),
        ("FileDownloaded", "exfiltration", "T1530", files + "Board deck.pptx", "success"),
        ("FileDownloaded", "exfiltration", "T1530", files + "payroll-2026.xlsx", "success"),
        (
            f"POST /v1.0/applications/{app}/addPassword",
            "persistence",
            "T1098.001",
            f"graph_resource:applications/{app}/addPassword",
            "success",
        ),
        (
            "Update application – Certificates and secrets management",
            "persistence",
            "T1098.001",
            "entra_app_credential:cae9b47d-fe6c-42b0-9ee6-6eab137ce72c",
            "success",
        ),
    ]
    new = {(r[1], r[2]) for r in resource_rows(answer, new=True)}
    assert {
        ("m365_mailbox", "megan@corp.example"),
        ("entra_app", app),
        ("sharepoint_file", files.split(":", 1)[1] + "payroll-2026.xlsx"),
    } <= new
    assert ("sharepoint_file", files.split(":", 1)[1] + "Vendor contracts.docx") not in new
    graph = answer.scopes[answer.scopes["source"] == "graph_activity"]
    assert {tuple(s) for s in graph["scopes"]} == {
        ("Files.Read.All", "Mail.ReadWrite", "User.Read"),
        ("Mail.Read", "User.Read.All"),
    }


def test_sample_github_token_many_repositories_cloned(sample: ir.Case) -> None:
    """The bulk rule: the attacker's 12 clones of 12 repositories within minutes are
    exfiltration; the CI's clones of its one repository are not."""
    answer = sample.impact(token=(SAMPLE / "leaked_github_token.txt").read_text())
    clones = answer.sensitive
    assert set(zip(clones["action"], clones["category"], clones["technique"], strict=True)) == {
        ("git.clone", "exfiltration", "T1213.003")
    }
    assert len(clones) == 12 and clones["from_new_place"].all()
    assert clones["target"].nunique() == 12
    assert "github_repo:corp-eng/deploy-config" in set(clones["target"])
    assert answer.scopes.values.tolist() == [
        [
            "github_token:kZ1jcZU2dh1UXZtsK0SVFhjzWxHrrnt4fcDSj24i8M8=",
            "github",
            ["read:org", "repo", "workflow"],
        ]
    ]


# --- the contract, through the ir binary ---------------------------------------------


def _ir(*args: str, case: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IR), *args, "--case", str(case)], capture_output=True, text=True, timeout=300
    )


def test_json_is_contract_9_and_the_raw_token_appears_nowhere(sample: ir.Case) -> None:
    secret = (SAMPLE / "leaked_token.txt").read_text()
    raw = [line.split("=", 1)[1].strip() for line in secret.splitlines() if "secret" in line]
    done = _ir("impact", "--token-file", str(SAMPLE / "leaked_token.txt"), "--format", "json",
               case=sample.path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMAS["impact"])
    assert set(document) == {"query", "root", "resources", "scopes", "sensitive"}
    assert document["root"] == ROOT
    contract_row = {
        "time",
        "source",
        "source_event_id",
        "action",
        "category",
        "technique",
        "target",
    }
    assert all(contract_row <= set(row) for row in document["sensitive"])
    assert raw and all(r not in done.stdout + done.stderr for r in raw)
    table = _ir("impact", "--token-file", str(SAMPLE / "leaked_token.txt"), case=sample.path)
    assert table.returncode == 0 and "CreateAccessKey" in table.stdout
    assert all(r not in table.stdout + table.stderr for r in raw)


def test_nothing_traced_exits_3_with_the_document_still_printed(sample: ir.Case) -> None:
    done = _ir("impact", "aws_access_key:AKIANOTHINGHERE00000", "--format", "json",
               case=sample.path)  # fmt: skip
    assert done.returncode == 3
    document = json.loads(done.stdout)
    assert (document["resources"], document["scopes"], document["sensitive"]) == ([], [], [])
    assert "no event" in done.stderr
    table = _ir("impact", "aws_access_key:AKIANOTHINGHERE00000", case=sample.path)
    assert table.returncode == 3 and table.stdout == ""


def test_a_notebook_shows_the_impact_as_escaped_tables(sample: ir.Case) -> None:
    shown = sample.impact(OKTA_ROOT)._repr_html_()
    assert "<h4>Impact of <code>okta_session:102hZRgCcFl742wO50iahAImd</code></h4>" in shown
    assert shown.count("<table") == 3 and "system.api_token.create" in shown
    nothing = sample.impact("aws_access_key:AKIANOTHINGHERE00000")._repr_html_()
    assert "No event in the case references aws_access_key:AKIANOTHINGHERE00000" in nothing
