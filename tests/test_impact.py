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
    assert (forward.technique, forward.resource_type) == ("T1114.003", "email_address")
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


# --- the sample incident --------------------------------------------------------------


def test_sample_aws_key_sensitive_actions(sample: ir.Case) -> None:
    answer = sample.impact(token=(SAMPLE / "leaked_token.txt").read_text())
    assert answer.root == ROOT
    assert sensitive_rows(answer) == [
        ("ListBuckets", "discovery", "T1619", None, "success"),
        ("ListUsers", "discovery", "T1087.004", None, "failure"),
        ("GetSecretValue", "credential_access", "T1555.006", None, "failure"),
        ("ListUsers", "discovery", "T1087.004", None, "success"),
        ("ListRoles", "discovery", "T1087.004", None, "success"),
        ("ListAccessKeys", "discovery", "T1087.004", None, "success"),
        (
            "CreateAccessKey",
            "persistence",
            "T1098.001",
            "aws_access_key:AKIAU3JLW42SYGMXHT24",
            "success",
        ),
        ("ListBuckets", "discovery", "T1619", None, "success"),
        ("ListBuckets", "discovery", "T1619", None, "success"),
        ("ListSecrets", "discovery", "T1555.006", None, "success"),
        ("GetSecretValue", "credential_access", "T1555.006", None, "success"),
        ("GetSecretValue", "credential_access", "T1555.006", None, "success"),
        ("ListBuckets", "discovery", "T1619", None, "failure"),
        ("ListBuckets", "discovery", "T1619", None, "success"),
    ]
    assert answer.sensitive["from_new_place"].all()


def test_sample_okta_session_persistence_and_privilege(sample: ir.Case) -> None:
    answer = sample.impact(OKTA_ROOT)
    token = "okta_api_token:00TE6Dc5gQFkHzR152mo"
    assert [(a, c, t, cr) for a, c, t, _, _, cr in _with_credential(answer)] == [
        ("user.lifecycle.create", "persistence", "T1136.003", OKTA_ROOT),
        ("system.api_token.create", "persistence", "T1098.001", OKTA_ROOT),
        ("group.user_membership.add", "privilege", "T1098.003", token),
        ("user.account.privilege.grant", "privilege", "T1098.003", token),
        ("application.user_membership.add", "privilege", "T1098", token),
    ]
    assert answer.sensitive["target"].iloc[1] == token


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
    assert [(a, c, t, o) for a, c, t, _, o in sensitive_rows(answer)] == [
        ("New-InboxRule", "defense_evasion", "T1564.008", "success"),
        ("FileDownloaded", "exfiltration", "T1530", "success"),
        ("FileDownloaded", "exfiltration", "T1530", "success"),
        ("FileDownloaded", "exfiltration", "T1530", "success"),
        (
            "POST /v1.0/applications/5dba8cc4-a670-40f5-a3fb-58f578428580/addPassword",
            "persistence",
            "T1098.001",
            "success",
        ),
        (
            "Update application – Certificates and secrets management",
            "persistence",
            "T1098.001",
            "success",
        ),
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
