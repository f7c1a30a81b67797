"""The hunt on hand-built records, one signal at a time: exact findings, reasons, scores."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

import ir
from ir import hunt as hunting
from ir.cli import app
from ir.errors import IrError, UsageError
from tests import vendor_records as v

KEY = "AKIAHUNTEXAMPLE00001"
OTHER_KEY = "AKIAHUNTEXAMPLE00002"
ADMIN_KEY = "AKIAHUNTADMIN0000001"
SESSION_KEY = "ASIAHUNTEXAMPLE00001"
BACKDOOR = "AKIAHUNTBACKDOOR0001"
CORP = "198.51.100.10"
HOME = "100.64.7.20"
ATTACKER = "203.0.113.66"
DEPLOYER = f"arn:aws:iam::{v.ACCOUNT}:user/ci-deployer"
SCHEMAS = json.loads((Path(__file__).parent / "contract" / "schemas.json").read_text())
WEIGHTS = hunting.load_weights()


def ingest(tmp_path: Path, files: dict[str, list[dict[str, Any]]]) -> ir.Case:
    """Vendor records as delivered (`ct*` CloudTrail files, the rest NDJSON) in a new case."""
    for name, records in files.items():
        if name.startswith("ct"):
            v.write_cloudtrail(tmp_path / "logs" / f"{name}.json", records)
        else:
            v.write_ndjson(tmp_path / "logs" / f"{name}.ndjson", records)
    case = ir.open_case(tmp_path / "case.duckdb")
    reports = case.ingest(tmp_path / "logs")
    assert all(r.error is None and r.rejected == 0 for r in reports), reports
    return case


def reasons(findings: pd.DataFrame) -> dict[str, list[tuple[str, str, str, float]]]:
    """Per finding: (signal, detail, event, weight) of each reason, strongest first."""
    return {
        row.credential: [(r["signal"], r["detail"], r["event"], r["weight"]) for r in row.reasons]
        for row in findings.itertuples()
    }


def at(time: str) -> pd.Timestamp:
    return pd.Timestamp(time)


def okta(uuid: str, time: str, session: str, ip: str, asn: int, **fields: Any) -> dict[str, Any]:
    record = v.okta(uuid, time, "user.authentication.sso", session, ip=ip, **fields)
    record["securityContext"]["asNumber"] = asn
    return record


# --- new_network ---------------------------------------------------------------------


def leaked_key_records(error: str | None = None) -> list[dict[str, Any]]:
    return [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        v.cloudtrail("e2", "2026-09-01T01:00:00Z", "DescribeInstances", KEY, ip="198.51.100.77"),
        v.cloudtrail(
            "e3", "2026-09-02T00:00:00Z", "DescribeInstances", KEY, ip=ATTACKER, error=error
        ),
    ]


def test_new_network_is_one_neither_the_key_nor_its_user_used(tmp_path: Path) -> None:
    """Another address of the same /24 is no news; the attacker's /24 is."""
    with ingest(tmp_path, {"ct": leaked_key_records()}) as case:
        findings = case.hunt()
    assert findings.columns.tolist() == hunting.FINDING_COLUMNS
    assert findings["credential"].tolist() == [f"aws_access_key:{KEY}"]
    finding = findings.iloc[0]
    assert (finding["kind"], finding["principal"], finding["score"]) == (
        "aws_access_key",
        DEPLOYER,
        0.6,
    )
    assert finding["derived"] == []
    assert finding["first_suspicious_use"] == at("2026-09-02T00:00:00Z")
    assert finding["reasons"] == [
        {
            "signal": "new_network",
            "detail": "203.0.113.0/24",
            "event": "aws_cloudtrail:e3",
            "credential": f"aws_access_key:{KEY}",
            "time": "2026-09-02T00:00:00Z",
            "weight": 0.6,
        }
    ]


def test_a_failed_attempt_weighs_less(tmp_path: Path) -> None:
    with ingest(tmp_path, {"ct": leaked_key_records(error="AccessDenied")}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"aws_access_key:{KEY}": [("new_network", "203.0.113.0/24", "aws_cloudtrail:e3", 0.3)]
    }
    assert findings["score"].tolist() == [WEIGHTS.signals["new_network"].weight * WEIGHTS.failure]


def test_success_after_a_failed_attempt_weighs_fully_from_the_first_attempt(
    tmp_path: Path,
) -> None:
    """A network is known once used successfully: the attempt and the success are both
    news; the success is the stronger event, the attempt when suspicion starts."""
    records = [
        *leaked_key_records(error="AccessDenied"),
        v.cloudtrail("e4", "2026-09-02T00:05:00Z", "DescribeInstances", KEY, ip=ATTACKER),
        v.cloudtrail("e5", "2026-09-02T00:06:00Z", "DescribeInstances", KEY, ip=ATTACKER),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"aws_access_key:{KEY}": [("new_network", "203.0.113.0/24", "aws_cloudtrail:e4", 0.6)]
    }
    assert findings["first_suspicious_use"].tolist() == [at("2026-09-02T00:00:00Z")]


def test_the_principal_baseline_and_a_credentials_first_use(tmp_path: Path) -> None:
    """The user used the attacker's network with another key first: the leaked key's use
    from there is not new. That other key's own first use, from a network new to its
    user, counts at the first-use factor."""
    records = [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        v.cloudtrail("e2", "2026-09-01T12:00:00Z", "DescribeInstances", OTHER_KEY, ip=ATTACKER),
        v.cloudtrail("e3", "2026-09-02T00:00:00Z", "DescribeInstances", KEY, ip=ATTACKER),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"aws_access_key:{OTHER_KEY}": [
            ("new_network", "203.0.113.0/24 (first use)", "aws_cloudtrail:e2", 0.3)
        ]
    }


def test_the_first_use_of_an_owner_is_its_baseline(tmp_path: Path) -> None:
    """Nothing to judge by: a principal's first network is where it starts, not news."""
    records = [v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=ATTACKER)]
    with ingest(tmp_path, {"ct": records}) as case:
        assert case.hunt().empty


@pytest.mark.parametrize(
    ("others", "found"),
    [
        ([("bob", None), ("dave", None)], False),  # three principals share it: the org's
        ([("bob", None)], True),  # two are not "many" (3 here)
        ([("bob", None), ("dave", "AccessDenied")], True),  # a failed attempt is no share
    ],
)
def test_a_network_many_principals_use_is_the_organisations(
    tmp_path: Path, others: list[tuple[str, str | None]], found: bool
) -> None:
    records = leaked_key_records()
    for index, (user, error) in enumerate(others):
        key = f"AKIAHUNTOTHERUSER{index:03d}"
        records.append(
            v.cloudtrail(
                f"o{index}",
                "2026-09-05T00:00:00Z",
                "DescribeInstances",
                key,
                ip="203.0.113.9",
                user=user,
                error=error,
            )
        )
    weights = dataclasses.replace(WEIGHTS, org_principals=3)
    with ingest(tmp_path, {"ct": records}) as case:
        findings = hunting.hunt(case.connection, weights=weights)
    assert (f"aws_access_key:{KEY}" in set(findings["credential"])) is found


def test_an_asn_where_logged_is_the_network(tmp_path: Path) -> None:
    """Okta logs the ASN: another /24 of the same ASN is the same network; a new ASN shows
    with its /24 (contract §10's detail)."""
    session = "102HUNTSESSION0000001"
    records = [
        okta("o1", "2026-09-01T09:00:00.000Z", session, CORP, 7018),
        okta("o2", "2026-09-01T10:00:00.000Z", session, "198.51.101.20", 7018),
        okta("o3", "2026-09-01T11:00:00.000Z", session, ATTACKER, 14061),
    ]
    with ingest(tmp_path, {"okta": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"okta_session:{session}": [("new_network", "203.0.113.0/24, AS14061", "okta:o3", 0.6)]
    }


def test_ipv6_networks_are_48s(tmp_path: Path) -> None:
    records = [
        v.cloudtrail(
            "e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip="2001:db8:abcd:1::5"
        ),
        v.cloudtrail(
            "e2", "2026-09-01T01:00:00Z", "DescribeInstances", KEY, ip="2001:db8:abcd:ff::9"
        ),
        v.cloudtrail("e3", "2026-09-02T00:00:00Z", "DescribeInstances", KEY, ip="2001:db8:beef::1"),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"aws_access_key:{KEY}": [("new_network", "2001:db8:beef::/48", "aws_cloudtrail:e3", 0.6)]
    }


# --- new_user_agent --------------------------------------------------------------------


def test_new_user_agent_is_a_new_client_not_a_new_version(tmp_path: Path) -> None:
    """Same network throughout: a newer aws-cli and S3's bracketed form are the same
    client; python-requests is not."""
    agents = ["aws-cli/2.15.0", "aws-cli/2.17.1", "[aws-cli/2.15.0]"]
    records = [
        v.cloudtrail(f"e{i}", f"2026-09-0{i + 1}T00:00:00Z", "DescribeInstances", KEY, ip=CORP)
        for i in range(4)
    ]
    for record, agent in zip(records, [*agents, "python-requests/2.32.3"], strict=True):
        record["userAgent"] = agent
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"aws_access_key:{KEY}": [
            ("new_user_agent", "python-requests/2.32.3", "aws_cloudtrail:e3", 0.2)
        ]
    }
    assert findings["score"].tolist() == [0.2]


# --- concurrent_networks ----------------------------------------------------------------


def test_one_session_from_two_networks_within_minutes(tmp_path: Path) -> None:
    """carol starts on both networks at once (her baseline); a later session used from
    both four minutes apart is one session in two hands; half an hour apart is not."""
    start = "2026-09-01T08:00:00.000Z"
    records = [
        okta("b1", start, "102HUNTBASELINE000001", CORP, 7018),
        okta("b2", start, "102HUNTBASELINE000002", HOME, 7922),
        okta("s1", "2026-09-02T09:00:00.000Z", "102HUNTREPLAYED000001", CORP, 7018),
        okta("s2", "2026-09-02T09:04:00.000Z", "102HUNTREPLAYED000001", HOME, 7922),
        okta("t1", "2026-09-03T09:00:00.000Z", "102HUNTCOMMUTED000001", CORP, 7018),
        okta("t2", "2026-09-03T09:30:00.000Z", "102HUNTCOMMUTED000001", HOME, 7922),
    ]
    with ingest(tmp_path, {"okta": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        "okta_session:102HUNTREPLAYED000001": [
            (
                "concurrent_networks",
                "198.51.100.0/24, AS7018 then 100.64.7.0/24, AS7922",
                "okta:s2",
                0.5,
            )
        ]
    }


# --- after_revocation -------------------------------------------------------------------


@pytest.mark.parametrize(("error", "weight"), [(None, 0.5), ("InvalidClientTokenId", 0.25)])
def test_use_after_revocation(tmp_path: Path, error: str | None, weight: float) -> None:
    records = [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        v.update_access_key(
            "r1", "2026-09-02T00:00:00Z", ADMIN_KEY, KEY, "Inactive", ip=CORP, user="alice"
        ),
        v.cloudtrail("e2", "2026-09-03T00:00:00Z", "DescribeInstances", KEY, ip=CORP, error=error),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"aws_access_key:{KEY}": [
            ("after_revocation", "revoked 2026-09-02T00:00:00Z", "aws_cloudtrail:e2", weight)
        ]
    }


def test_use_after_the_users_sessions_were_cleared(tmp_path: Path) -> None:
    """Okta's user.session.clear ends every session carol held then."""
    session = "102HUNTSESSION0000001"
    carol = {"id": "00u1", "type": "User", "alternateId": "carol@corp.example"}
    clear = v.okta(
        "c1",
        "2026-09-02T00:00:00.000Z",
        "user.session.clear",
        "102HUNTADMINSESSION01",
        ip=CORP,
        actor="dave@corp.example",
        targets=[carol],
    )
    records = [
        okta("o1", "2026-09-01T09:00:00.000Z", session, CORP, 7018),
        clear,
        okta("o2", "2026-09-03T09:00:00.000Z", session, CORP, 7018),
    ]
    with ingest(tmp_path, {"okta": records}) as case:
        findings = case.hunt()
    assert reasons(findings) == {
        f"okta_session:{session}": [
            ("after_revocation", "revoked 2026-09-02T00:00:00Z", "okta:o2", 0.5)
        ]
    }


# --- sensitive_from_new_network --------------------------------------------------------


def test_a_sensitive_action_from_a_new_network_counts_once_per_network(tmp_path: Path) -> None:
    """CreateUser and GetSecretValue (the impact catalogue) from the attacker's network are one
    piece of evidence, at the first of them; the same actions from the office are none."""
    records = [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "CreateUser", KEY, ip=CORP),
        v.cloudtrail("e2", "2026-09-02T00:00:00Z", "DescribeInstances", KEY, ip=ATTACKER),
        v.cloudtrail("e3", "2026-09-02T00:05:00Z", "CreateUser", KEY, ip=ATTACKER),
        v.cloudtrail("e4", "2026-09-02T00:06:00Z", "GetSecretValue", KEY, ip=ATTACKER),
        v.cloudtrail("e5", "2026-09-03T00:00:00Z", "GetSecretValue", KEY, ip=CORP),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings)[f"aws_access_key:{KEY}"] == [
        ("new_network", "203.0.113.0/24", "aws_cloudtrail:e2", 0.6),
        (
            "sensitive_from_new_network",
            "CreateUser (persistence, T1136.003) from 203.0.113.0/24",
            "aws_cloudtrail:e3",
            0.5,
        ),
    ]
    assert findings["score"].tolist() == [round(1 - (1 - 0.6) * (1 - 0.5), 3)]


def test_a_failed_sensitive_attempt_from_a_new_network_counts_half(tmp_path: Path) -> None:
    records = [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        v.cloudtrail(
            "e2", "2026-09-02T00:00:00Z", "StopLogging", KEY, ip=ATTACKER, error="AccessDenied"
        ),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert reasons(findings)[f"aws_access_key:{KEY}"] == [
        ("new_network", "203.0.113.0/24", "aws_cloudtrail:e2", 0.3),
        (
            "sensitive_from_new_network",
            "StopLogging (defense_evasion, T1562.008) from 203.0.113.0/24",
            "aws_cloudtrail:e2",
            0.25,
        ),
    ]


# --- derived_from_new_network and lineages ----------------------------------------------


def attack_records() -> list[dict[str, Any]]:
    """The leaked key from the attacker's network: a role session, a backdoor key."""
    return [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        v.cloudtrail("e2", "2026-09-02T00:00:00Z", "GetCallerIdentity", KEY, ip=ATTACKER),
        v.assume_role("e3", "2026-09-02T00:01:00Z", KEY, SESSION_KEY, ip=ATTACKER),
        v.create_access_key(
            "e4", "2026-09-02T00:02:00Z", SESSION_KEY, BACKDOOR, "backup-svc", ip=ATTACKER
        ),
        v.cloudtrail(
            "e5",
            "2026-09-02T05:00:00Z",
            "DescribeRegions",
            BACKDOOR,
            ip="198.18.9.41",
            user="backup-svc",
        ),
    ]


def test_a_lineage_is_one_finding_named_by_its_top_suspicious_credential(tmp_path: Path) -> None:
    """The AssumeRole session minted from the attacker's network and the backdoor key made
    with it are the leaked key's finding, listed as derived, not findings of their own."""
    with ingest(tmp_path, {"ct": attack_records()}) as case:
        findings = case.hunt()
        assert findings["credential"].tolist() == [f"aws_access_key:{KEY}"]
        finding = findings.iloc[0]
        assert finding["derived"] == [
            f"aws_access_key:{SESSION_KEY}",
            f"aws_access_key:{BACKDOOR}",
        ]
        assert reasons(findings)[finding["credential"]] == [
            ("new_network", "203.0.113.0/24", "aws_cloudtrail:e2", 0.6),
            (
                "derived_from_new_network",
                f"minted by aws_access_key:{KEY} (AssumeRole) from 203.0.113.0/24",
                "aws_cloudtrail:e3",
                0.4,
            ),
        ]
        assert finding["score"] == round(1 - (1 - 0.6) * (1 - 0.4), 3)
        # the id the hunt names is the one the trace takes next
        trace = case.trace(finding["credential"])
    assert set(trace.credentials["id"]) == {finding["credential"], *finding["derived"]}


def test_a_child_that_turned_suspicious_under_a_quiet_parent_is_its_own_finding(
    tmp_path: Path,
) -> None:
    role = f"arn:aws:sts::{v.ACCOUNT}:assumed-role/Admin/e2"
    session = v.cloudtrail("e3", "2026-09-01T00:10:00Z", "ListRoles", SESSION_KEY, ip=CORP)
    replayed = v.cloudtrail("e4", "2026-09-01T02:00:00Z", "ListRoles", SESSION_KEY, ip=ATTACKER)
    for record in (session, replayed):
        record["userIdentity"] = {**record["userIdentity"], "type": "AssumedRole", "arn": role}
    records = [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        v.assume_role("e2", "2026-09-01T00:05:00Z", KEY, SESSION_KEY, ip=CORP),
        session,
        replayed,
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        findings = case.hunt()
    assert findings["credential"].tolist() == [f"aws_access_key:{SESSION_KEY}"]
    assert findings["derived"].tolist() == [[]]


# --- the window, the limit, the weights --------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until", "found"),
    [
        (None, None, True),
        ("2026-09-01T12:00:00Z", None, True),  # the baseline before --since still counts
        ("2026-09-03T00:00:00Z", None, False),  # the evidence is before the window
        (None, "2026-09-02T00:00:00Z", False),  # the attacker's use is not in the case yet
    ],
)
def test_since_and_until(tmp_path: Path, since: str | None, until: str | None, found: bool) -> None:
    with ingest(tmp_path, {"ct": leaked_key_records()}) as case:
        assert (not case.hunt(since=since, until=until).empty) is found


def test_top_keeps_the_highest_scores(tmp_path: Path) -> None:
    records = [
        *attack_records(),
        v.cloudtrail(
            "x1", "2026-09-01T00:00:00Z", "DescribeInstances", OTHER_KEY, ip=CORP, user="bob"
        ),
        v.cloudtrail(
            "x2", "2026-09-02T00:00:00Z", "DescribeInstances", OTHER_KEY, ip=ATTACKER, user="bob"
        ),
    ]
    with ingest(tmp_path, {"ct": records}) as case:
        every = case.hunt()
        top = case.hunt(top=1)
        with pytest.raises(UsageError, match="--top"):
            case.hunt(top=0)
        with pytest.raises(UsageError, match="--since"):
            case.hunt(since="2026-09-03", until="2026-09-02")
    assert every["credential"].tolist() == [f"aws_access_key:{KEY}", f"aws_access_key:{OTHER_KEY}"]
    assert every["score"].tolist() == [0.76, 0.6]
    assert top["credential"].tolist() == [f"aws_access_key:{KEY}"]


def test_every_weight_has_its_reason_and_the_file_is_checked() -> None:
    assert set(WEIGHTS.signals) == set(hunting.SIGNALS)
    assert all(s.why and 0 < s.weight < 1 for s in WEIGHTS.signals.values())
    assert WEIGHTS.unscored() == []  # sensitive_from_new_network is scored from the catalogue
    text = (Path(hunting.__file__).parent / hunting.WEIGHTS_FILE).read_text()
    without_a_reason = text.replace(
        '[outcome]\nfailure = 0.5\nwhy = """', '[outcome]\nfailure = 0.5\nnot = """'
    )
    assert without_a_reason != text
    with pytest.raises(IrError, match="why"):
        hunting.load_weights(without_a_reason)
    with pytest.raises(IrError, match="new_network weight"):
        hunting.load_weights(text.replace("weight = 0.6", "weight = 1.5"))


# --- the command -------------------------------------------------------------------------

runner = CliRunner()


def test_the_command_json_follows_the_contract(tmp_path: Path) -> None:
    ingest(tmp_path, {"ct": attack_records()}).close()
    case = str(tmp_path / "case.duckdb")
    result = runner.invoke(app, ["hunt", "--case", case, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMAS["hunt"])
    assert [f["credential"] for f in document["findings"]] == [f"aws_access_key:{KEY}"]
    assert document["findings"][0]["first_suspicious_use"] == "2026-09-02T00:00:00Z"
    assert all(s["scored"] and s["weight"] for s in document["signals"])
    assert {s["signal"] for s in document["signals"]} == set(hunting.SIGNALS)


def test_the_command_table_and_csv(tmp_path: Path) -> None:
    ingest(tmp_path, {"ct": attack_records()}).close()
    case = str(tmp_path / "case.duckdb")
    table = runner.invoke(app, ["hunt", "--case", case])
    assert table.exit_code == 0, table.stderr
    assert f"aws_access_key:{KEY}" in table.stdout
    assert "new_network 0.6: 203.0.113.0/24" in table.stdout
    assert "not scored" not in table.stdout
    csv = runner.invoke(app, ["hunt", "--case", case, "--format", "csv", "--top", "1"])
    assert csv.exit_code == 0, csv.stderr
    header, row = csv.stdout.splitlines()
    assert header == ",".join(hunting.FINDING_COLUMNS)
    assert row.startswith(f"aws_access_key:{KEY},aws_access_key,{DEPLOYER},0.76,")
    assert csv.stderr == ""
    bad = runner.invoke(app, ["hunt", "--case", case, "--since", "yesterday-ish"])
    assert bad.exit_code == 2
    assert "not a time" in bad.stderr


def test_log_text_in_reasons_cannot_act_on_the_terminal(tmp_path: Path) -> None:
    """A user agent is attacker-written: the table shows its controls, JSON keeps it as data."""
    hostile = "curl/8 \x1b[2J\x1b[31mALL CLEAR\x1b[0m \u202egpj.exe"
    records = [
        v.cloudtrail("e1", "2026-09-01T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
        {
            **v.cloudtrail("e2", "2026-09-02T00:00:00Z", "DescribeInstances", KEY, ip=CORP),
            "userAgent": hostile,
        },
    ]
    ingest(tmp_path, {"ct": records}).close()
    case = str(tmp_path / "case.duckdb")
    table = runner.invoke(app, ["hunt", "--case", case])
    assert table.exit_code == 0
    assert "\x1b" not in table.stdout and "\u202e" not in table.stdout
    assert "\\x1b[2J\\x1b[31mALL CLEAR" in table.stdout
    document = json.loads(runner.invoke(app, ["hunt", "--case", case, "-f", "json"]).stdout)
    assert document["findings"][0]["reasons"][0]["detail"] == hostile
