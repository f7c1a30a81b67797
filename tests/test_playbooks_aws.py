"""The playbook engine and the AWS connector against a real moto server, through boto3.

The case holds the CloudTrail of a leaked key (ci-deployer's, still used by CI)
that assumed role Admin, whose session created a backdoor key on backup-svc.
Keys and roles outside that lineage exist too and must come out untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pandas as pd
import pytest

import ir
from ir.errors import MissingSetting, UsageError
from ir.playbooks import journal, run
from ir.playbooks.connectors.base import PlanChoices, Step
from ir.playbooks.plan import Plan, make_plan
from ir.providers import aws as aws_provider
from ir.providers.http import Retry
from ir.store import SCHEMA_VERSION
from tests.aws_moto import (
    ACCOUNT,
    ATTACKER_IP,
    ThrottlingProxy,
    World,
    client,
    create_world,
    enforce_iam_after,
    iam_state,
    key_states,
    record,
    stored_key,
    user_arn,
    write_trail,
)

SECRET_ID = "ir/rotated/ci-deployer/access-key"


@pytest.fixture
def world(aws_env: str, tmp_path: Path) -> World:
    return create_world(tmp_path)


def plan_of(world: World, choices: PlanChoices | None = None) -> Plan:
    with ir.open_case(world.case, read_only=True) as case:
        trace = case.trace(world.root)
    return make_plan(trace, choices)


def statuses(outcomes: list[run.Outcome]) -> dict[str, str]:
    return {o.step.id: o.result.status for o in outcomes}


def test_the_plan_rotates_the_workload_key_disables_the_backdoor_and_ends_the_role_sessions(
    world: World,
) -> None:
    plan = plan_of(world)
    steps = [(s.id, s.action, s.target) for s in plan.steps]
    assert steps == [
        ("01-aws-rotate_access_key", "rotate_access_key", f"aws_access_key:{world.leaked}"),
        (
            "02-aws-deactivate_access_key",
            "deactivate_access_key",
            f"aws_access_key:{world.backdoor}",
        ),
        (
            "03-aws-revoke_role_sessions",
            "revoke_role_sessions",
            f"aws_role:arn:aws:iam::{ACCOUNT}:role/Admin",
        ),
    ]
    rotate, backdoor, role = plan.steps
    assert rotate.options == {
        "user_name": "ci-deployer",
        "secret_id": SECRET_ID,
        "delete_old_first": False,
    }
    assert backdoor.options == {"user_name": "backup-svc", "delete": False}
    assert role.credentials == (f"aws_access_key:{world.session}",)
    assert role.request["calls"][1]["params"]["PolicyDocument"] == (
        '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",'
        '"Condition":{"DateLessThan":{"aws:TokenIssueTime":"<time the step runs>"}}}}'
    )
    # Read back as a responder's edited file would be: the same plan.
    assert Plan.from_json(plan.to_json()) == plan


def test_a_key_never_used_before_the_exposure_is_deactivated_not_rotated(
    aws_env: str, tmp_path: Path
) -> None:
    world = create_world(tmp_path)
    with ir.open_case(world.case, read_only=True) as case:
        trace = case.trace(world.root, leaked_at="2000-01-01T00:00:00Z")
    plan = make_plan(trace)
    assert plan.steps[0].action == "deactivate_access_key"
    assert make_plan(trace, PlanChoices(rotate=False)).steps[0].action == "deactivate_access_key"


def test_a_dry_run_lists_the_exact_calls_and_changes_nothing(world: World) -> None:
    plan = plan_of(world)
    before = iam_state()
    outcomes = run.dry_run(plan, journal.finished(world.case, plan))
    assert iam_state() == before
    assert set(statuses(outcomes).values()) == {"would_call"}
    backdoor = outcomes[1].calls
    assert [c.summary() for c in backdoor] == [
        "iam:ListAccessKeys UserName=backup-svc",
        f"iam:UpdateAccessKey UserName=backup-svc AccessKeyId={world.backdoor} Status=Inactive",
    ]
    put = outcomes[2].calls[1]
    assert put.api == "iam:PutRolePolicy" and put.params["RoleName"] == "Admin"
    assert '"aws:TokenIssueTime":"20' in put.params["PolicyDocument"]  # a real time now
    assert journal.read(world.case).empty


def test_execute_contains_the_lineage_and_touches_nothing_outside_it(world: World) -> None:
    plan = plan_of(world)
    before = iam_state()
    outcomes = run.execute(plan, world.case)
    assert statuses(outcomes) == {s.id: "done" for s in plan.steps}
    after = iam_state()
    ci_keys = after["users"]["ci-deployer"]["keys"]
    replacement = stored_key(SECRET_ID)["AccessKeyId"]
    assert ci_keys == {world.leaked: "Inactive", replacement: "Active"}
    assert after["users"]["backup-svc"]["keys"] == {
        world.backup_own: "Active",
        world.backdoor: "Inactive",
    }
    deny = after["roles"]["Admin"]["AWSRevokeOlderSessions"]
    statement = deny["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    cutoff = pd.Timestamp(statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"])
    assert abs(pd.Timestamp.now(tz="UTC") - cutoff) < pd.Timedelta(minutes=2)
    # Outside the lineage: exactly as before.
    assert after["users"]["bystander"] == before["users"]["bystander"]
    assert after["roles"]["Unrelated"] == before["roles"]["Unrelated"] == {}
    entries = journal.read(world.case)
    assert entries["status"].tolist() == ["done", "done", "done"]
    assert entries["ref"].tolist() == [s.id for s in plan.steps]
    assert entries["http_status"].tolist() == [200, 200, 200]
    rotation = entries.iloc[0]
    assert rotation["detail"] == (
        f"created {replacement} for ci-deployer and stored it in secret {SECRET_ID};"
        f" deactivated {world.leaked}"
    )
    assert (
        "secretsmanager:CreateSecret Name=ir/rotated/ci-deployer/access-key" in rotation["request"]
    )
    assert "SecretString=<new access key: id and secret, not shown>" in rotation["request"]


def test_verify_passes_after_execute_and_fails_while_a_key_is_active_again(world: World) -> None:
    plan = plan_of(world)
    run.execute(plan, world.case)
    assert set(statuses(run.verify(plan, world.case)).values()) == {"verified"}
    # Someone re-enables the backdoor: verify must say so.
    client("iam").update_access_key(
        UserName="backup-svc", AccessKeyId=world.backdoor, Status="Active"
    )
    outcomes = run.verify(plan, world.case)
    assert statuses(outcomes)["02-aws-deactivate_access_key"] == "not_verified"
    assert outcomes[1].result.detail.startswith(f"{world.backdoor} of backup-svc is still Active")
    assert [o.failed for o in outcomes] == [False, True, False]


def test_a_rerun_skips_every_finished_step_and_changes_nothing(world: World) -> None:
    plan = plan_of(world)
    run.execute(plan, world.case)
    before = iam_state()
    again = run.execute(plan, world.case)
    assert set(statuses(again).values()) == {"skipped"}
    assert iam_state() == before
    entries = journal.read(world.case)
    assert entries["status"].tolist() == ["done"] * 3 + ["skipped"] * 3
    assert entries["detail"].iloc[3].startswith("finished by an earlier run at 20")
    # A dry run says the same, and a fresh plan's steps find the state already there.
    assert set(statuses(run.dry_run(plan, journal.finished(world.case, plan))).values()) == {
        "skipped"
    }
    fresh = replace(plan_of(world), created="2099-01-01T00:00:00Z")
    fresh = replace(fresh, steps=fresh.steps[:2])
    assert statuses(run.execute(fresh, world.case)) == {
        "01-aws-rotate_access_key": "already_done",
        "02-aws-deactivate_access_key": "already_done",
    }
    assert iam_state() == before


@pytest.fixture
def responder(world: World, aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`become(*actions)`: sign as an IAM user allowed everything but `actions`, with moto
    enforcing IAM from the next request on (its server-mode auth switch)."""

    def become(*deny: str) -> None:
        iam = client("iam")
        iam.create_user(UserName="responder")
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": list(deny), "Resource": "*"},
            ],
        }
        iam.put_user_policy(
            UserName="responder",
            PolicyName="responder",
            PolicyDocument=orjson.dumps(policy).decode(),
        )
        key = iam.create_access_key(UserName="responder")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        enforce_iam_after(aws_env, 0)

    yield become
    enforce_iam_after(aws_env, None)


def test_access_denied_stops_the_run_and_is_journaled_then_the_run_resumes(
    world: World, responder: Any, aws_env: str
) -> None:
    plan = plan_of(world)
    responder("iam:PutRolePolicy")
    outcomes = run.execute(plan, world.case)
    assert statuses(outcomes) == {
        "01-aws-rotate_access_key": "done",
        "02-aws-deactivate_access_key": "done",
        "03-aws-revoke_role_sessions": "failed",
    }
    failed = journal.read(world.case).iloc[-1]
    assert failed["status"] == "failed" and failed["http_status"] == 403
    assert failed["detail"].startswith("aws: iam:PutRolePolicy failed: AccessDenied: ")
    assert failed["detail"].endswith(". The credentials used need the iam:PutRolePolicy permission")
    assert "iam:PutRolePolicy RoleName=Admin" in failed["request"]
    enforce_iam_after(aws_env, None)
    assert "AWSRevokeOlderSessions" not in iam_state()["roles"]["Admin"]
    resumed = run.execute(plan, world.case)
    assert statuses(resumed) == {
        "01-aws-rotate_access_key": "skipped",
        "02-aws-deactivate_access_key": "skipped",
        "03-aws-revoke_role_sessions": "done",
    }
    assert "AWSRevokeOlderSessions" in iam_state()["roles"]["Admin"]


@pytest.mark.aws_managed_policies
def test_a_step_marked_continue_lets_the_run_go_on_past_its_failure(
    world: World, responder: Any
) -> None:
    plan = plan_of(world, PlanChoices(quarantine=True))
    assert plan.steps[-1].action == "quarantine_user"
    assert plan.steps[-1].target == f"aws_user:{user_arn('backup-svc')}"
    steps = list(plan.steps)
    steps[2] = replace(steps[2], on_error="continue")
    plan = replace(plan, steps=tuple(steps))
    responder("iam:PutRolePolicy")
    outcomes = run.execute(plan, world.case)
    assert [o.result.status for o in outcomes] == ["done", "done", "failed", "done"], outcomes[
        3
    ].result
    attached = client("iam").list_attached_user_policies(UserName="backup-svc")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
    ]
    # Without `continue`, nothing after the failure runs.
    steps[2] = replace(steps[2], on_error="stop")
    stopped = run.execute(
        replace(plan, created="2099-01-01T00:00:00Z", steps=tuple(steps)), world.case
    )
    assert [o.result.status for o in stopped] == [
        "already_done",
        "already_done",
        "failed",
        "not_run",
    ]


def test_a_rotation_that_fails_half_way_leaves_no_orphan_key_and_resumes(
    world: World, responder: Any, aws_env: str
) -> None:
    plan = plan_of(world)
    responder("secretsmanager:CreateSecret")
    outcomes = run.execute(plan, world.case)
    assert [o.result.status for o in outcomes] == ["failed", "not_run", "not_run"]
    # moto answers this JSON-protocol service's auth failure in XML, so botocore parses no
    # code: the HTTP status makes it an auth error.
    assert outcomes[0].result.detail == (
        "aws: secretsmanager:CreateSecret failed: HTTP 403: (error body not parsed). The"
        " credentials used need the secretsmanager:CreateSecret permission"
    )
    assert outcomes[0].result.http_status == 403
    enforce_iam_after(aws_env, None)
    # The new key was created, could not be stored, and was deleted again.
    assert key_states("ci-deployer") == {world.leaked: "Active"}
    resumed = run.execute(plan, world.case)
    assert [o.result.status for o in resumed] == ["done", "done", "done"]
    replacement = stored_key(SECRET_ID)["AccessKeyId"]
    assert key_states("ci-deployer") == {world.leaked: "Inactive", replacement: "Active"}


def test_the_two_key_limit_fails_clearly_unless_the_plan_makes_room(world: World) -> None:
    second = client("iam").create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    plan = plan_of(world)
    before = iam_state()
    outcomes = run.execute(plan, world.case)
    assert [o.result.status for o in outcomes] == ["failed", "not_run", "not_run"]
    assert outcomes[0].result.http_status == 409
    assert outcomes[0].result.detail == (
        "aws: iam:CreateAccessKey failed: LimitExceeded: Cannot exceed quota for"
        " AccessKeysPerUser: 2. IAM user ci-deployer already holds 2 access keys, AWS's limit:"
        " set options.delete_old_first to true in step 01-aws-rotate_access_key to deactivate"
        f" and delete {world.leaked} first, or delete the user's other key"
    )
    assert iam_state() == before
    steps = list(plan.steps)
    steps[0] = replace(steps[0], options={**steps[0].options, "delete_old_first": True})
    edited = replace(plan, steps=tuple(steps))
    assert [c.api for c in run.dry_run(edited)[0].calls][3:6] == [
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
        "iam:CreateAccessKey",
    ]
    outcomes = run.execute(edited, world.case)
    assert [o.result.status for o in outcomes] == ["done", "done", "done"]
    replacement = stored_key(SECRET_ID)["AccessKeyId"]
    assert key_states("ci-deployer") == {second: "Active", replacement: "Active"}
    assert outcomes[0].result.detail == (
        f"created {replacement} for ci-deployer and stored it in secret {SECRET_ID};"
        f" deactivated and deleted {world.leaked} to make room"
    )
    assert set(statuses(run.verify(edited, world.case)).values()) == {"verified"}


def test_throttling_is_retried_with_backoff(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM's Throttling (HTTP 400, code Throttling) from a proxy in front of moto."""
    proxy = ThrottlingProxy(os.environ["AWS_ENDPOINT_URL"], "UpdateAccessKey", 2)
    waits: list[float] = []
    monkeypatch.setattr(aws_provider, "SLEEP", waits.append)
    monkeypatch.setattr(aws_provider, "RETRY", Retry(attempts=3, base=0.5))
    plan = plan_of(world)
    client("iam").create_access_key(
        UserName="bystander"
    )  # the responder's own calls are not proxied
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        outcomes = run.execute(replace(plan, steps=plan.steps[1:2]), world.case)
        assert statuses(outcomes) == {"02-aws-deactivate_access_key": "done"}
        assert (proxy.throttled, waits) == (2, [0.5, 1.0])
        proxy.remaining = 10
        again = replace(plan, created="2099-01-01T00:00:00Z", steps=plan.steps[2:3])
        monkeypatch.setattr(proxy, "action", "PutRolePolicy")
        failed = run.execute(again, world.case)
    finally:
        proxy.close()
    assert failed[0].result.status == "failed"
    assert failed[0].result.http_status == 400
    assert failed[0].result.detail == (
        "aws: iam:PutRolePolicy failed: Throttling: Rate exceeded (after 3 attempts)"
    )
    assert waits == [0.5, 1.0, 0.5, 1.0]


def test_a_missing_setting_is_named_before_any_step_runs(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(MissingSetting, match="aws: set AWS_PROFILE or AWS_ACCESS_KEY_ID"):
        run.execute(plan_of(world), world.case)
    assert journal.read(world.case).empty


def test_temporary_keys_of_an_iam_user_get_a_deny_on_the_user(aws_env: str, tmp_path: Path) -> None:
    """GetSessionToken sessions outlive the key that minted them: a user-wide deny."""
    iam = client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    token = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_session_token()
    session = token["Credentials"]["AccessKeyId"]
    when = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=10)).to_pydatetime()
    dev = user_arn("dev")
    trail = [
        record(
            "GetSessionToken",
            key["AccessKeyId"],
            dev,
            ATTACKER_IP,
            when,
            "sts",
            response={"credentials": {"accessKeyId": session}},
        ),
        record("ListBuckets", session, dev, ATTACKER_IP, when, "s3"),
    ]
    write_trail(tmp_path / "t" / "trail.json", trail)
    case = tmp_path / "case.duckdb"
    with ir.open_case(case) as opened:
        opened.ingest(tmp_path / "t")
        # Exposed from the start: no legitimate use, so no rotation.
        trace = opened.trace(f"aws_access_key:{key['AccessKeyId']}", leaked_at="2000-01-01")
    plan = make_plan(trace)
    assert [(s.action, s.target, s.credentials) for s in plan.steps] == [
        (
            "deactivate_access_key",
            f"aws_access_key:{key['AccessKeyId']}",
            (f"aws_access_key:{key['AccessKeyId']}",),
        ),
        ("revoke_user_sessions", f"aws_user:{dev}", (f"aws_access_key:{session}",)),
    ]
    assert [o.result.status for o in run.execute(plan, case)] == ["done", "done"]
    deny = iam.get_user_policy(UserName="dev", PolicyName="AWSRevokeOlderSessions")
    assert deny["PolicyDocument"]["Statement"]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert [o.result.status for o in run.verify(plan, case)] == ["verified", "verified"]


def test_the_containment_frame_says_what_ended_each_credential_and_if_it_was_verified(
    world: World,
) -> None:
    plan = plan_of(world)
    run.execute(plan, world.case)
    run.verify(plan, world.case)
    with ir.open_case(world.case, read_only=True) as case:
        frame = journal.containment(case.connection, world.root)
    rows = frame[["credential", "action", "step", "status", "verified"]].values.tolist()
    assert rows == [
        [
            f"aws_access_key:{world.leaked}",
            "rotate_access_key",
            "01-aws-rotate_access_key",
            "done",
            True,
        ],
        [
            f"aws_access_key:{world.backdoor}",
            "deactivate_access_key",
            "02-aws-deactivate_access_key",
            "done",
            True,
        ],
        [
            f"aws_access_key:{world.session}",
            "revoke_role_sessions",
            "03-aws-revoke_role_sessions",
            "done",
            True,
        ],
    ]
    assert (frame["verified_at"] >= frame["revoked_at"]).all()
    with ir.open_case(world.case, read_only=True) as case:
        assert journal.containment(case.connection, "aws_access_key:AKIAOTHER").empty


def test_the_breach_report_tells_the_containment_from_the_journal(world: World) -> None:
    plan = plan_of(world)
    run.execute(plan, world.case)
    with ir.open_case(world.case, read_only=True) as case:
        before = case.trace(world.root).report(world.case.parent / "before.md").read_text()
    run.verify(plan, world.case)
    with ir.open_case(world.case, read_only=True) as case:
        after = case.trace(world.root).report(world.case.parent / "after.md").read_text()
    section = after.split("## Containment", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| aws")]
    assert [row.split(" | ")[1:3] for row in rows] == [
        ["aws rotate\\_access\\_key", "01-aws-rotate\\_access\\_key"],
        ["aws deactivate\\_access\\_key", "02-aws-deactivate\\_access\\_key"],
        ["aws revoke\\_role\\_sessions", "03-aws-revoke\\_role\\_sessions"],
    ]
    assert all(" | verified 20" in row for row in rows)
    assert "not verified yet" in before and "not verified yet" not in after


def test_a_schema_2_case_gains_the_journal_columns(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    ir.open_case(path).close()
    with duckdb.connect(str(path)) as connection:
        connection.execute("DROP TABLE journal")
        connection.execute(
            "CREATE TABLE journal (time TIMESTAMPTZ NOT NULL, kind VARCHAR NOT NULL,"
            " ref VARCHAR NOT NULL, request VARCHAR, status VARCHAR NOT NULL, detail VARCHAR)"
        )
        connection.execute(
            "INSERT INTO journal VALUES (now(), 'collector', 'page 1', NULL, 'ok', NULL)"
        )
        connection.execute("UPDATE case_meta SET value = '2' WHERE key = 'schema_version'")
    with ir.open_case(path, read_only=True) as case:
        columns = case.sql("SELECT * FROM journal")
        version = case.sql("SELECT value FROM case_meta WHERE key = 'schema_version'")["value"][0]
    assert version == str(SCHEMA_VERSION)
    assert columns.columns.tolist()[-8:] == [
        "plan_root",
        "plan_created",
        "provider",
        "action",
        "target",
        "credentials",
        "http_status",
        "step",
    ]
    assert columns[["kind", "ref", "status"]].values.tolist() == [["collector", "page 1", "ok"]]


def test_a_hand_edited_plan_with_a_bad_step_is_refused_before_any_call(world: World) -> None:
    plan = plan_of(world)
    bad = replace(
        plan, steps=(*plan.steps, Step("aws", "explode", "aws_access_key:AKIAX", "", {}, id="99"))
    )
    before = iam_state()
    with pytest.raises(UsageError, match="aws has no action 'explode'"):
        run.execute(bad, world.case)
    data = plan.to_json()
    data["steps"][0]["options"] = {"secret_id": ""}
    with pytest.raises(UsageError, match=r"needs options\.secret_id"):
        run.execute(Plan.from_json(data), world.case)
    data["steps"][1]["id"] = data["steps"][0]["id"]
    with pytest.raises(UsageError, match="appears twice"):
        Plan.from_json(data)
    assert iam_state() == before and journal.read(world.case).empty
