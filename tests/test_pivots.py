"""Pivots (issue 25): every credential of the case, those a user held, those used from an
address or network — listed (`ir credentials`, `case.credentials()`) and traced
(`ir trace --actor`, `--ip`); `ir --version`, `-h` and exit statuses in every help."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ir
from ir.cli import app, playbook
from tests import vendor_records as v

CI_KEY = "AKIACIDEPLOYER000001"
ALICE_KEY = "AKIAALICEEXAMPLE0001"
SESSION = "ASIAATTACKERSESSION1"
ATTACKER = "203.0.113.66"
runner = CliRunner()


@pytest.fixture
def case(tmp_path: Path) -> str:
    """ci-deployer's key used from CI, then from the attacker to assume a role; alice's key
    from her laptop revokes ci-deployer's key; the session is used from the attacker's /24."""
    records = [
        v.cloudtrail("c1", "2026-09-01T00:00:00Z", "ListBuckets", CI_KEY, ip="192.0.2.10"),
        v.assume_role("c2", "2026-09-03T10:00:00Z", CI_KEY, SESSION, ip=ATTACKER),
        v.cloudtrail("s1", "2026-09-03T10:05:00Z", "ListUsers", SESSION, ip="203.0.113.70"),
        v.update_access_key(
            "a1",
            "2026-09-04T00:00:00Z",
            ALICE_KEY,
            CI_KEY,
            "Inactive",
            user="alice",
            ip="198.51.100.20",
        ),
    ]
    session_arn = "arn:aws:sts::111122223333:assumed-role/Admin/c2"
    records[2]["userIdentity"].update(type="AssumedRole", arn=session_arn, userName=None)
    v.write_cloudtrail(tmp_path / "logs" / "ct.json", records)
    path = str(tmp_path / "case.duckdb")
    assert runner.invoke(app, ["ingest", str(tmp_path / "logs"), "--case", path]).exit_code == 0
    return path


def invoke(*arguments: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_credentials_lists_every_credential_with_its_state(case: str) -> None:
    status, out, _ = invoke("credentials", "--case", case, "-f", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert status == 0 and list(rows) == [
        f"aws_access_key:{CI_KEY}",
        f"aws_access_key:{SESSION}",
        f"aws_access_key:{ALICE_KEY}",
    ]
    ci = rows[f"aws_access_key:{CI_KEY}"]
    assert (ci["principal"], ci["events"], ci["places"], ci["revoked_at"]) == (
        "arn:aws:iam::111122223333:user/ci-deployer",
        3,  # used twice, revoked once
        3,
        "2026-09-04T00:00:00Z",
    )
    session = rows[f"aws_access_key:{SESSION}"]
    assert (session["expires_at"], session["expired"], session["revoked_at"]) == (
        "2026-10-02T23:12:29Z",
        True,
        None,
    )
    with ir.open_case(case, read_only=True) as opened:
        frame = opened.credentials(principal="ALICE")
    assert frame["id"].tolist() == [f"aws_access_key:{ALICE_KEY}"]


def test_credentials_filters(case: str) -> None:
    def ids(*options: str) -> list[str]:
        status, out, _ = invoke("credentials", "--case", case, "-f", "json", *options)
        assert status == 0
        return [row["id"] for row in json.loads(out)]

    assert ids("--kind", "github_token") == []
    assert ids("--principal", "assumed-role/Admin") == [f"aws_access_key:{SESSION}"]
    assert ids("--since", "2026-09-03T12:00:00Z") == [
        f"aws_access_key:{CI_KEY}",
        f"aws_access_key:{ALICE_KEY}",
    ]
    status, _, err = invoke("credentials", "--case", case, "--since", "someday")
    assert status == 2 and "not a time" in err


def test_trace_actor_traces_what_the_user_held(case: str) -> None:
    status, out, _ = invoke("trace", "--actor", "ci-deployer", "--case", case, "-f", "json")
    document = json.loads(out)
    assert status == 0 and document["query"] == [f"aws_access_key:{CI_KEY}"]
    assert [c["id"] for c in document["credentials"]] == [
        f"aws_access_key:{CI_KEY}",
        f"aws_access_key:{SESSION}",
    ]
    status, out, _ = invoke("trace", "--actor", "ALICE", "--case", case, "-f", "json")
    assert status == 0 and json.loads(out)["query"] == [f"aws_access_key:{ALICE_KEY}"]
    status, _, err = invoke("trace", "--actor", "mallory", "--case", case)
    assert status == 3 and "no credential" in err and "mallory" in err


def test_trace_ip_traces_what_was_used_from_an_address_or_network(case: str) -> None:
    status, out, _ = invoke("trace", "--ip", ATTACKER, "--case", case, "-f", "json")
    assert status == 0 and json.loads(out)["query"] == [f"aws_access_key:{CI_KEY}"]
    status, out, _ = invoke("trace", "--ip", "203.0.113.0/24", "--case", case, "-f", "json")
    document = json.loads(out)
    assert document["query"] == [f"aws_access_key:{CI_KEY}", f"aws_access_key:{SESSION}"]
    parents = {c["id"]: c["parent"] for c in document["credentials"]}
    assert parents[f"aws_access_key:{SESSION}"] == f"aws_access_key:{CI_KEY}"  # one lineage
    with ir.open_case(case, read_only=True) as opened:
        trace = opened.trace(ip="198.51.100.0/24")
    assert trace.query == [f"aws_access_key:{ALICE_KEY}"]
    assert invoke("trace", "--ip", "10.9.9.0/24", "--case", case)[0] == 3
    status, _, err = invoke("trace", "--ip", "300.1.1.1", "--case", case)
    assert status == 2 and "not an IP address or network" in err


def test_timeline_takes_the_same_pivots(case: str, tmp_path: Path) -> None:
    """`ir timeline --ip` / `--actor`: the rows of the same union the trace follows."""
    out = tmp_path / "attacker.jsonl"
    status, _, _ = invoke(
        "timeline", "--ip", "203.0.113.0/24", "-f", "jsonl", "--out", str(out), "--case", case
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert status == 0 and [r["source_event_id"] for r in rows] == ["c1", "c2", "s1", "a1"]
    assert rows[2]["credential"] == f"aws_access_key:{SESSION}"
    status, text, _ = invoke("timeline", "--actor", "alice", "-f", "csv", "--case", case)
    assert status == 0 and [line.split(",")[5] for line in text.splitlines()[1:]] == ["a1"]
    status, report_text, _ = invoke(
        "timeline", "--actor", "ci-deployer", "-f", "md", "--case", case
    )
    assert status == 0 and f"aws\\_access\\_key:{SESSION}" in report_text
    status, _, err = invoke("timeline", "--actor", "mallory", "--case", case)
    assert status == 3 and "mallory" in err
    status, _, err = invoke("timeline", "-f", "md", "--case", case)
    assert status == 2 and "--actor or --ip" in err


def test_version_and_short_help_everywhere() -> None:
    """Every command and playbook subcommand: -h, no <bool> noise, the exit statuses."""
    status, out, _ = invoke("--version")
    assert (status, out) == (0, f"ir {metadata.version('ir')}\n")
    commands = [
        [(c.name or (c.callback.__name__ if c.callback else "")).replace("show_record", "show")]
        for c in app.registered_commands
    ]
    commands += [
        ["playbook", c.name or (c.callback.__name__ if c.callback else "")]
        for c in playbook.app.registered_commands
    ]
    assert ["credentials"] in commands and ["forget"] in commands
    assert ["playbook", "verify"] in commands
    for command in [*commands, []]:
        status, out, _ = invoke(*command, "-h")
        text = " ".join(out.split())
        assert status == 0, command
        assert "<bool>" not in out, command
        if command:
            assert "Exit status: 0 done; 1 error" in text and "3 nothing found" in text, command


def test_the_readme_cites_only_the_repo() -> None:
    """Users read the README without the design folder: no section of a contract or design
    file outside the repository is cited, and every repo path it names exists."""
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    for outside in ("contract §", "contract.md", "revocation-apis", "architecture.md", "../"):
        assert outside not in readme, outside
    named = set(re.findall(r"`((?:ir|parsers|tests|notebooks|sample_logs)/[\w./-]+)`", readme))
    assert "ir/schema.sql" in named
    assert sorted(p for p in named if not (root / p.rstrip("/")).exists()) == []
