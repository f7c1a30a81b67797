"""The trace on hand-built incidents: exact credential and event sets, edge cases."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pandas as pd
import pytest

import ir
from tests import vendor_records as v

LEAKED = "AKIALEAKEDEXAMPLE001"
OTHER = "AKIAOTHEREXAMPLE0002"
ATTACKER = "203.0.113.66"
CI = "198.51.100.10"


def ingest(tmp_path: Path, files: dict[str, list[dict]], cloudtrail: bool = True) -> ir.Case:
    for name, records in files.items():
        if name.startswith("ct"):
            v.write_cloudtrail(tmp_path / "logs" / f"{name}.json", records)
        else:
            v.write_ndjson(tmp_path / "logs" / f"{name}.ndjson", records)
    case = ir.open_case(tmp_path / "case.duckdb")
    reports = case.ingest(tmp_path / "logs")
    assert all(r.error is None and r.rejected == 0 for r in reports), reports
    return case


def rows(trace: ir.Trace) -> set[tuple[str, str, str]]:
    return set(
        zip(
            trace.events["source_event_id"],
            trace.events["credential"],
            trace.events["relation"],
            strict=True,
        )
    )


@pytest.fixture
def chain(tmp_path: Path) -> ir.Case:
    """Leaked key -> AssumeRole -> CreateAccessKey backdoor, with decoys around it."""
    return ingest(
        tmp_path,
        {
            "ct1": [
                v.cloudtrail("e01", "2026-09-01T10:00:00Z", "ListBuckets", LEAKED, ip=CI),
                v.cloudtrail(
                    "e02", "2026-09-03T10:00:00Z", "GetCallerIdentity", LEAKED, ip=ATTACKER
                ),
                v.assume_role(
                    "e03", "2026-09-03T10:01:00Z", LEAKED, "ASIAATTACKER00000001", ip=ATTACKER
                ),
                # decoy: another principal assumes the same role at the same second
                v.assume_role(
                    "d01", "2026-09-03T10:01:00Z", OTHER, "ASIADECOY00000000001", user="alice"
                ),
                # decoy: the attacker IP with someone else's key
                v.cloudtrail(
                    "d02", "2026-09-03T10:02:00Z", "ListBuckets", OTHER, ip=ATTACKER, user="alice"
                ),
            ],
            "ct2": [
                v.create_access_key(
                    "e04",
                    "2026-09-03T10:05:00Z",
                    "ASIAATTACKER00000001",
                    "AKIABACKDOOR00000001",
                    "backup-svc",
                    ip=ATTACKER,
                ),
                v.cloudtrail(
                    "e05",
                    "2026-09-03T11:00:00Z",
                    "ListUsers",
                    "AKIABACKDOOR00000001",
                    ip="192.0.2.99",
                    user="backup-svc",
                ),
                v.cloudtrail(
                    "e06",
                    "2026-09-03T11:01:00Z",
                    "GetUser",
                    "AKIABACKDOOR00000001",
                    ip="192.0.2.99",
                    user="backup-svc",
                    error="AccessDenied",
                ),
                # decoy: an admin acting on ci-deployer with the admin's own key
                v.cloudtrail(
                    "d03",
                    "2026-09-03T12:00:00Z",
                    "ListAccessKeys",
                    OTHER,
                    user="alice",
                    request={"userName": "ci-deployer"},
                ),
            ],
        },
    )


def test_closure_and_exact_events(chain: ir.Case) -> None:
    trace = chain.trace(f"aws_access_key:{LEAKED}")
    creds = trace.credentials.set_index("id")
    assert list(creds.index) == [
        f"aws_access_key:{LEAKED}",
        "aws_access_key:ASIAATTACKER00000001",
        "aws_access_key:AKIABACKDOOR00000001",
    ]
    assert creds.loc["aws_access_key:ASIAATTACKER00000001", "parent"] == f"aws_access_key:{LEAKED}"
    assert creds.loc["aws_access_key:ASIAATTACKER00000001", "relation_to_parent"] == "AssumeRole"
    assert (
        creds.loc["aws_access_key:AKIABACKDOOR00000001", "relation_to_parent"] == "CreateAccessKey"
    )
    assert creds.loc["aws_access_key:AKIABACKDOOR00000001", "principal"] == "backup-svc"
    assert rows(trace) == {
        ("e01", f"aws_access_key:{LEAKED}", "used"),
        ("e02", f"aws_access_key:{LEAKED}", "used"),
        ("e03", f"aws_access_key:{LEAKED}", "used"),
        ("e03", "aws_access_key:ASIAATTACKER00000001", "issued"),
        ("e04", "aws_access_key:ASIAATTACKER00000001", "used"),
        ("e04", "aws_access_key:AKIABACKDOOR00000001", "issued"),
        ("e05", "aws_access_key:AKIABACKDOOR00000001", "used"),
        ("e06", "aws_access_key:AKIABACKDOOR00000001", "used"),
    }
    assert trace.events["time"].is_monotonic_increasing
    failure = trace.events[trace.events["source_event_id"] == "e06"].iloc[0]
    assert (failure["outcome"], failure["error"]) == ("failure", "AccessDenied")
    assert failure["evidence"].endswith("ct2.json#3")


def test_places_new_against_exposure(chain: ir.Case) -> None:
    trace = chain.trace(f"aws_access_key:{LEAKED}", leaked_at="2026-09-02T00:00:00Z")
    places = trace.places.set_index("client_ip")
    assert bool(places.loc[CI, "new"]) is False
    assert bool(places.loc[ATTACKER, "new"]) is True
    assert bool(places.loc["192.0.2.99", "new"]) is True
    assert places.loc[ATTACKER, "events"] == 3  # e02, e03, e04; the AssumeRole counts once
    assert places.loc["192.0.2.99", "first_seen"].isoformat() == "2026-09-03T11:00:00+00:00"


def test_default_exposure_is_24h_after_first_use(chain: ir.Case) -> None:
    trace = chain.trace(f"aws_access_key:{LEAKED}")
    assert trace.leaked_at.isoformat() == "2026-09-02T10:00:00+00:00"


def test_ancestors_are_context_outside_the_closure(chain: ir.Case) -> None:
    trace = chain.trace("aws_access_key:AKIABACKDOOR00000001")
    assert list(trace.credentials["id"]) == ["aws_access_key:AKIABACKDOOR00000001"]
    assert set(zip(trace.ancestors["id"], trace.ancestors["parent"], strict=True)) == {
        ("aws_access_key:AKIABACKDOOR00000001", "aws_access_key:ASIAATTACKER00000001"),
        ("aws_access_key:ASIAATTACKER00000001", f"aws_access_key:{LEAKED}"),
    }
    assert {"e04", "e05", "e06"} == set(trace.events["source_event_id"])


def test_a_derived_credential_alone_is_exposed_with_its_lineage(chain: ir.Case) -> None:
    """The attacker's session key traced on its own: exposure is its lineage root's, assumed."""
    trace = chain.trace("aws_access_key:ASIAATTACKER00000001")
    assert trace.leaked_at.isoformat() == "2026-09-02T10:00:00+00:00"
    assert trace.leaked_at_assumed is True
    assert trace.exposure_basis == (
        f"assumed: 24 h after the first recorded use of aws_access_key:{LEAKED}"
        " at 2026-09-01T10:00:00Z, which the traced credentials derive from"
    )
    assert set(trace.places.loc[trace.places["new"], "client_ip"]) == {ATTACKER, "192.0.2.99"}
    document = trace.to_json()
    assert (document["leaked_at_assumed"], document["exposure_basis"]) == (
        True,
        trace.exposure_basis,
    )
    given = chain.trace("aws_access_key:ASIAATTACKER00000001", leaked_at="2026-09-03T00:00:00Z")
    assert (given.leaked_at_assumed, given.exposure_basis) == (False, "given")


def test_a_derived_credential_alone_outlives_its_revoked_ancestor(tmp_path: Path) -> None:
    """The ancestors above the traced root count: revoked there, uses after it are flagged."""
    session = "ASIAORPHAN0000000001"
    case = ingest(
        tmp_path,
        {
            "ct": [
                v.cloudtrail("u1", "2026-09-01T00:00:00Z", "ListBuckets", LEAKED, ip=CI),
                v.assume_role("i1", "2026-09-03T00:00:00Z", LEAKED, session, ip=ATTACKER),
                v.cloudtrail("s1", "2026-09-03T00:10:00Z", "ListBuckets", session, ip=ATTACKER),
                v.update_access_key(
                    "r1", "2026-09-03T01:00:00Z", OTHER, LEAKED, "Inactive", user="alice"
                ),
                v.cloudtrail("s2", "2026-09-03T02:00:00Z", "GetObject", session, ip=ATTACKER),
            ]
        },
    )
    trace = case.trace(f"aws_access_key:{session}")
    assert list(trace.credentials["id"]) == [f"aws_access_key:{session}"]
    row = trace.credentials.iloc[0]
    assert row["revoked_ancestor"] == f"aws_access_key:{LEAKED}"
    assert row["revoked_ancestor_at"].isoformat() == "2026-09-03T01:00:00+00:00"
    late = trace.events.set_index(["source_event_id", "relation"])["after_ancestor_revocation"]
    assert late.to_dict() == {("i1", "issued"): False, ("s1", "used"): False, ("s2", "used"): True}
    ancestor = trace.ancestors.iloc[0]
    assert (ancestor["id"], ancestor["parent"], ancestor["relation_to_parent"]) == (
        f"aws_access_key:{session}",
        f"aws_access_key:{LEAKED}",
        "AssumeRole",
    )
    assert ancestor["parent_revoked_at"].isoformat() == "2026-09-03T01:00:00+00:00"
    assert ancestor["parent_first_seen"].isoformat() == "2026-09-01T00:00:00+00:00"
    assert trace.leaked_at.isoformat() == "2026-09-02T00:00:00+00:00"
    assert bool(trace.places.set_index("client_ip").loc[ATTACKER, "new"]) is True


def test_several_roots_each_lead_their_own_lineage(chain: ir.Case) -> None:
    """Unrelated roots are each a root; a given id that derives from another stays its child."""
    trace = chain.trace(
        f"aws_access_key:{OTHER}",
        "aws_access_key:AKIABACKDOOR00000001",
        f"aws_access_key:{LEAKED}",
    )
    parents = dict(zip(trace.credentials["id"], trace.credentials["parent"], strict=True))
    assert {c: p if isinstance(p, str) else None for c, p in parents.items()} == {
        f"aws_access_key:{OTHER}": None,
        f"aws_access_key:{LEAKED}": None,
        "aws_access_key:ASIADECOY00000000001": f"aws_access_key:{OTHER}",
        "aws_access_key:ASIAATTACKER00000001": f"aws_access_key:{LEAKED}",
        "aws_access_key:AKIABACKDOOR00000001": "aws_access_key:ASIAATTACKER00000001",
    }
    assert trace.root == f"aws_access_key:{OTHER}"
    assert trace.ancestors.empty  # what issued the backdoor is traced already


def test_revoked_then_reactivated(tmp_path: Path) -> None:
    key = f"aws_access_key:{LEAKED}"
    case = ingest(
        tmp_path,
        {
            "ct": [
                v.cloudtrail("u1", "2026-09-01T00:00:00Z", "ListBuckets", LEAKED),
                v.update_access_key(
                    "r1", "2026-09-02T00:00:00Z", OTHER, LEAKED, "Inactive", user="alice"
                ),
                v.cloudtrail(
                    "u2",
                    "2026-09-02T01:00:00Z",
                    "ListBuckets",
                    LEAKED,
                    ip=ATTACKER,
                    error="InvalidClientTokenId",
                ),
                v.update_access_key(
                    "a1", "2026-09-03T00:00:00Z", OTHER, LEAKED, "Active", user="alice"
                ),
                v.cloudtrail("u3", "2026-09-03T01:00:00Z", "ListBuckets", LEAKED),
            ]
        },
    )
    trace = case.trace(key)
    flagged = dict(
        zip(
            trace.events["source_event_id"] + "/" + trace.events["relation"],
            trace.events["after_revocation"],
            strict=True,
        )
    )
    assert flagged == {
        "u1/used": False,
        "r1/revoked": False,
        "u2/used": True,
        "a1/issued": False,
        "u3/used": False,
    }
    assert pd.isna(trace.credentials.loc[0, "revoked_at"])
    # the admin's key is not traced: it only acted on the leaked key
    assert "aws_access_key:" + OTHER not in set(trace.credentials["id"])


def test_revoked_at_is_the_last_revocation(tmp_path: Path) -> None:
    case = ingest(
        tmp_path,
        {
            "ct": [
                v.cloudtrail("u1", "2026-09-01T00:00:00Z", "ListBuckets", LEAKED),
                v.update_access_key(
                    "r1", "2026-09-02T00:00:00Z", OTHER, LEAKED, "Inactive", user="alice"
                ),
                # a failed revocation does not count
                v.update_access_key(
                    "r2",
                    "2026-09-01T12:00:00Z",
                    OTHER,
                    LEAKED,
                    "Inactive",
                    user="alice",
                    error="AccessDenied",
                ),
            ]
        },
    )
    trace = case.trace(f"aws_access_key:{LEAKED}")
    assert trace.credentials.loc[0, "revoked_at"].isoformat() == "2026-09-02T00:00:00+00:00"


def test_issued_by_two_parents(tmp_path: Path) -> None:
    shared = "ASIASHARED0000000001"
    case = ingest(
        tmp_path,
        {
            "ct": [
                v.assume_role("p1", "2026-09-01T00:00:00Z", LEAKED, shared),
                v.assume_role("p2", "2026-09-01T00:05:00Z", OTHER, shared, user="alice"),
                v.cloudtrail("s1", "2026-09-01T01:00:00Z", "ListBuckets", shared),
            ]
        },
    )
    for parent, event in ((LEAKED, "p1"), (OTHER, "p2")):
        trace = case.trace(f"aws_access_key:{parent}")
        child = trace.credentials.set_index("id").loc[f"aws_access_key:{shared}"]
        assert child["parent"] == f"aws_access_key:{parent}"
        assert {
            (event, f"aws_access_key:{shared}", "issued"),
            ("s1", f"aws_access_key:{shared}", "used"),
        } <= rows(trace)
        other_event = {"p1", "p2"} - {event}
        # the other parent's issuance still names the traced child, so it is in the trace
        assert other_event <= set(trace.events["source_event_id"])


def test_cycle_terminates(tmp_path: Path) -> None:
    case = ingest(
        tmp_path,
        {
            "okta": [
                v.okta("o1", "2026-09-01T00:00:00Z", "user.session.start", "S1", root_session="S2"),
                v.okta("o2", "2026-09-01T00:01:00Z", "user.session.start", "S2", root_session="S1"),
                v.okta("o3", "2026-09-01T00:02:00Z", "user.account.update_profile", "S1"),
            ]
        },
    )
    trace = case.trace("okta_session:S1")
    assert set(trace.credentials["id"]) == {"okta_session:S1", "okta_session:S2"}
    assert set(trace.events["source_event_id"]) == {"o1", "o2", "o3"}


def test_okta_session_mints_api_token_used_elsewhere(tmp_path: Path) -> None:
    token_target = [
        {
            "id": "00Tattacker000000001",
            "type": "Token",
            "alternateId": "unknown",
            "displayName": "ci",
        }
    ]
    case = ingest(
        tmp_path,
        {
            "okta": [
                v.okta("s1", "2026-09-01T00:00:00Z", "user.session.start", "SESSION1"),
                v.okta(
                    "s2",
                    "2026-09-02T00:00:00Z",
                    "system.api_token.create",
                    "SESSION1",
                    ip=ATTACKER,
                    targets=token_target,
                ),
                v.okta(
                    "s3",
                    "2026-09-02T01:00:00Z",
                    "user.lifecycle.create",
                    None,
                    ip="192.0.2.200",
                    api_token="00Tattacker000000001",
                ),
                v.okta(
                    "s4",
                    "2026-09-02T02:00:00Z",
                    "system.api_token.revoke",
                    "ADMIN1",
                    actor="admin@corp.example",
                    targets=token_target,
                ),
                v.okta(
                    "s5",
                    "2026-09-02T03:00:00Z",
                    "user.lifecycle.create",
                    None,
                    ip="192.0.2.200",
                    api_token="00Tattacker000000001",
                ),
                # decoy: carol's other session
                v.okta("d1", "2026-09-02T00:00:00Z", "user.session.start", "SESSION2"),
            ]
        },
    )
    trace = case.trace("okta_session:SESSION1")
    token = "okta_api_token:00Tattacker000000001"
    assert rows(trace) == {
        ("s1", "okta_session:SESSION1", "used"),
        ("s2", "okta_session:SESSION1", "used"),
        ("s2", token, "issued"),
        ("s3", token, "used"),
        ("s4", token, "revoked"),
        ("s5", token, "used"),
    }
    creds = trace.credentials.set_index("id")
    assert creds.loc[token, "parent"] == "okta_session:SESSION1"
    assert creds.loc[token, "revoked_at"].isoformat() == "2026-09-02T02:00:00+00:00"
    after = trace.events.set_index("source_event_id")["after_revocation"]
    assert (bool(after["s3"]), bool(after["s5"])) == (False, True)


def test_token_trace_never_keeps_the_secret(tmp_path: Path) -> None:
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    hashed = base64.b64encode(hashlib.sha256(secret.encode()).digest()).decode()
    case = ingest(tmp_path, {"gh": [v.github("g1", 1788000000000, "git.clone", hashed)]})
    trace = case.trace(token=secret)
    assert trace.query == [f"github_token:{hashed}"]
    assert rows(trace) == {("g1", f"github_token:{hashed}", "used")}
    case.close()
    assert secret.encode() not in (tmp_path / "case.duckdb").read_bytes()
    assert secret not in str(trace.to_json())


def test_unknown_id_finds_nothing(chain: ir.Case) -> None:
    trace = chain.trace("aws_access_key:AKIANOTINTHECASE0001")
    assert not trace.found
    assert trace.places.empty and list(trace.credentials["id"]) == [
        "aws_access_key:AKIANOTINTHECASE0001"
    ]


def test_unknown_kind_message_does_not_echo_the_value(chain: ir.Case) -> None:
    with pytest.raises(ValueError, match="kind 'slackbot' is unknown") as error:
        chain.trace("slackbot:xoxb-secret-value")
    assert "xoxb-secret-value" not in str(error.value)


MICROSOFT = ("entra_signin", "entra_audit", "m365_ual", "graph_activity")
HIJACKED = "entra_session:a8c3f1e2-6b4d-4c9a-9e7f-1d2c3b4a5e61"


def test_user_wide_revocation_ends_the_users_sessions(tmp_path: Path) -> None:
    """The Microsoft fixtures: alice's sessions die at the StsRefreshTokenValidFrom update."""
    fixtures = Path(__file__).parent / "fixtures"
    case = ir.open_case(tmp_path / "case.duckdb")
    case.ingest(
        *[
            p
            for s in MICROSOFT
            for p in sorted((fixtures / s).iterdir())
            if not p.name.endswith(".jsonl")
        ]
    )
    trace = case.trace(HIJACKED)
    creds = trace.credentials.set_index("id")
    revoked = "2026-09-02T16:10:44+00:00"
    assert creds.loc[HIJACKED, "revoked_at"].isoformat() == revoked
    assert creds.loc["entra_uti:kXq3Vb9tR0-2nYwLc7ZdBA", "revoked_at"].isoformat() == revoked
    # the secrets the attacker added are not ended by revoking alice: remaining exposure
    app_credentials = creds[creds["kind"] == "entra_app_credential"]
    assert len(app_credentials) == 3 and app_credentials["revoked_at"].isna().all()
    late = trace.events[trace.events["after_revocation"]]
    assert set(zip(late["source"], late["action"], late["credential"], strict=True)) == {
        ("graph_activity", "GET /v1.0/me/messages", HIJACKED),
        ("graph_activity", "GET /v1.0/me/messages", "entra_uti:kXq3Vb9tR0-2nYwLc7ZdBA"),
    }
    user_wide = trace.events[trace.events["via"].fillna("").str.endswith("(user-wide)")]
    assert set(user_wide["action"]) == {
        "Update StsRefreshTokenValidFrom Timestamp",
        "Change user password",
    }
    assert set(user_wide["credential"]) == {HIJACKED} | {
        c
        for c in creds.index
        if c.startswith("entra_uti:") and creds.loc[c, "principal"] == "alice@corp.example"
    }
