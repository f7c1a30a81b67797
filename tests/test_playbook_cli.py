"""`ir playbook` end to end, as a responder runs it: the real `ir` binary, a real case,
a real moto server. Done when (issue 18): from the CloudTrail of a leaked key that
assumed a role and created a backdoor key, one plan disables both keys, ends the
role's sessions, rotates the workload's key into Secrets Manager, and verify passes.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import jsonschema
import orjson
import pytest
from typer.testing import CliRunner

from ir.cli import app
from tests.aws_moto import World, client, create_world, iam_state, key_states, stored_key

IR = str(Path(sys.executable).parent / "ir")
SCHEMAS = orjson.loads((Path(__file__).parent / "contract" / "schemas.json").read_bytes())
SECRET_ID = "ir/rotated/ci-deployer/access-key"


def ir(*args: str | Path, case: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IR, *map(str, args), "--case", str(case)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def world(aws_env: str, tmp_path: Path) -> World:
    return create_world(tmp_path)


def test_plan_dry_run_execute_verify_from_the_cli(world: World, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    outputs = []

    planned = ir(
        "playbook", "plan", world.root, "--out", plan_file, "--format", "json", case=world.case
    )
    outputs.append(planned)
    assert planned.returncode == 0, planned.stderr
    plan = orjson.loads(plan_file.read_bytes())
    jsonschema.validate(plan, SCHEMAS["plan"])
    assert [s["action"] for s in plan["steps"]] == [
        "rotate_access_key",
        "deactivate_access_key",
        "revoke_role_sessions",
    ]
    assert [s["id"] for s in orjson.loads(planned.stdout)] == [s["id"] for s in plan["steps"]]

    before = iam_state()
    dry = ir("playbook", "run", plan_file, "--format", "csv", case=world.case)
    outputs.append(dry)
    assert dry.returncode == 0, dry.stderr
    calls = [row["call"] for row in csv.DictReader(io.StringIO(dry.stdout))]
    assert (
        f"iam:UpdateAccessKey UserName=backup-svc AccessKeyId={world.backdoor} Status=Inactive"
        in calls
    )
    assert any(c.startswith("iam:PutRolePolicy RoleName=Admin") for c in calls)
    table = ir("playbook", "run", plan_file, case=world.case)
    assert table.returncode == 0 and world.backdoor in table.stdout
    assert iam_state() == before

    executed = ir("playbook", "run", plan_file, "--execute", "--format", "json", case=world.case)
    outputs.append(executed)
    assert executed.returncode == 0, executed.stderr
    assert [o["status"] for o in orjson.loads(executed.stdout)] == ["done", "done", "done"]
    replacement = stored_key(SECRET_ID)
    assert key_states("ci-deployer") == {
        world.leaked: "Inactive",
        replacement["AccessKeyId"]: "Active",
    }
    assert key_states("backup-svc")[world.backdoor] == "Inactive"
    assert "AWSRevokeOlderSessions" in iam_state()["roles"]["Admin"]

    verified = ir("playbook", "verify", "--format", "json", case=world.case)
    outputs.append(verified)
    assert verified.returncode == 0, verified.stderr
    assert [o["status"] for o in orjson.loads(verified.stdout)] == ["verified"] * 3

    status = ir("playbook", "status", "--format", "json", case=world.case)
    outputs.append(status)
    rows = orjson.loads(status.stdout)
    assert [(r["ref"], r["status"]) for r in rows] == [
        ("01-aws-rotate_access_key", "done"),
        ("02-aws-deactivate_access_key", "done"),
        ("03-aws-revoke_role_sessions", "done"),
        ("01-aws-rotate_access_key", "verified"),
        ("02-aws-deactivate_access_key", "verified"),
        ("03-aws-revoke_role_sessions", "verified"),
    ]

    # The backdoor comes back to life: verify fails and says which key works.
    client("iam").update_access_key(
        UserName="backup-svc", AccessKeyId=world.backdoor, Status="Active"
    )
    failed = ir("playbook", "verify", plan_file, case=world.case)
    outputs.append(failed)
    assert failed.returncode == 1
    assert (
        f"02-aws-deactivate_access_key not_verified: {world.backdoor} of backup-svc is still Active"
        in " ".join(failed.stderr.split())
    )

    # No secret anywhere ir wrote: not the new key's, not the leaked key's. The case file
    # may compress what it stores, so the journal is also read back as text.
    secrets = [replacement["SecretAccessKey"], world.secrets["leaked"], world.secrets["backdoor"]]
    with duckdb.connect(str(world.case), read_only=True) as connection:
        journal = str(connection.execute("SELECT * FROM journal").fetchall())
    assert "SecretString=<new access key: id and secret, not shown>" in journal
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()] + [journal.encode()]
    printed = [(o.stdout + o.stderr).encode() for o in outputs]
    for secret in secrets:
        for piece in (secret, secret[:16], secret[-16:]):
            assert not any(piece.encode() in blob for blob in written + printed)


def test_running_without_aws_credentials_names_the_settings_and_calls_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_file = tmp_path / "plan.json"
    assert ir("playbook", "plan", world.root, "--out", plan_file, case=world.case).returncode == 0
    before = iam_state()
    responder = {
        name: os.environ.pop(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = ir("playbook", "run", plan_file, "--execute", case=world.case)
    assert result.returncode == 2
    assert "aws: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in result.stderr
    for name, value in responder.items():
        monkeypatch.setenv(name, value)
    assert iam_state() == before
    status = ir("playbook", "status", "--format", "json", case=world.case)
    assert orjson.loads(status.stdout) == []


def test_a_plan_for_an_unknown_credential_is_nothing_found(world: World, tmp_path: Path) -> None:
    result = ir(
        "playbook",
        "plan",
        "aws_access_key:AKIANOTINTHECASE000",
        "--out",
        tmp_path / "p.json",
        case=world.case,
    )
    assert result.returncode == 3
    assert not (tmp_path / "p.json").exists()


def test_every_playbook_command_has_help_with_an_example() -> None:
    for command in ("plan", "run", "status", "verify"):
        result = CliRunner().invoke(app, ["playbook", command, "--help"], terminal_width=200)
        assert result.exit_code == 0, command
        assert "--case" in result.output and "Example: ir playbook " in result.output, command
