"""The trace against the generator's ground truth: recall and precision both exactly 1.0."""

from __future__ import annotations

from pathlib import Path

import pytest

import ir
from ir.synth import GroundTruth, generate

SEEDS = (1, 7, 42, 2026)


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def incident(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ir.Case, GroundTruth, Path]:
    out = tmp_path_factory.mktemp(f"synth{request.param}")
    truth = generate(out, events=3000, seed=request.param)
    case = ir.open_case(out / "case.duckdb")
    reports = case.ingest(out / "logs")
    assert all(r.error is None and r.rejected == 0 for r in reports)
    yield case, truth, out
    case.close()


ROOT_KINDS = [
    "aws_access_key",
    "okta_session",
    "github_token",
    "entra_session",  # a hijacked Entra session: sign-ins, UAL, Graph, directory audit
    "salesforce_connected_app",  # a stolen integration's token, against Salesforce…
    "google_oauth_client",  # …and Google Workspace
]


def test_every_scenario_traces_exactly(incident: tuple[ir.Case, GroundTruth, Path]) -> None:
    case, truth, _ = incident
    assert [root.split(":")[0] for root in truth.scenarios] == ROOT_KINDS
    for root, scenario in truth.scenarios.items():
        trace = case.trace(root)
        found = set(
            zip(
                trace.events["source"],
                trace.events["source_event_id"],
                trace.events["credential"],
                trace.events["relation"],
                strict=True,
            )
        )
        expected = {
            (e.source, e.source_event_id, e.credential, e.relation) for e in scenario.events
        }
        recall = len(found & expected) / len(expected)
        precision = len(found & expected) / len(found)
        assert (recall, precision) == (1.0, 1.0), (root, expected - found, found - expected)
        assert len(trace.events) == len(scenario.events)
        assert set(trace.events["source_event_id"]).isdisjoint(scenario.decoy_event_ids)
        credentials = trace.credentials.set_index("id")
        assert set(credentials.index) == set(scenario.credentials)
        for credential, info in scenario.credentials.items():
            row = credentials.loc[credential]
            parent = None if info.parent is None else info.parent
            assert (row["parent"] if isinstance(row["parent"], str) else None) == parent, credential
            assert (
                row["relation_to_parent"] if isinstance(row["relation_to_parent"], str) else None
            ) == info.relation_to_parent
            assert (not _missing(row["revoked_at"])) == info.revoked, credential


def test_revocation_flags_match(incident: tuple[ir.Case, GroundTruth, Path]) -> None:
    case, truth, _ = incident
    for root, scenario in truth.scenarios.items():
        events = case.trace(root).events
        key = list(
            zip(events["source_event_id"], events["credential"], events["relation"], strict=True)
        )
        flags = dict(
            zip(
                key,
                zip(events["after_revocation"], events["after_ancestor_revocation"], strict=True),
                strict=True,
            )
        )
        expected = {
            (e.source_event_id, e.credential, e.relation): (
                e.after_revocation,
                e.after_ancestor_revocation,
            )
            for e in scenario.events
        }
        assert {k: (bool(a), bool(b)) for k, (a, b) in flags.items()} == expected, root


def test_token_files_trace_to_their_roots(incident: tuple[ir.Case, GroundTruth, Path]) -> None:
    case, truth, out = incident
    roots = list(truth.scenarios)
    aws = case.trace(token=(out / "leaked_token.txt").read_text())
    github = case.trace(token=(out / "leaked_github_token.txt").read_text())
    assert aws.root in roots and aws.root.startswith("aws_access_key:")
    assert github.root in roots and github.root.startswith("github_token:")


def test_attacker_places_are_new(incident: tuple[ir.Case, GroundTruth, Path]) -> None:
    case, truth, _ = incident
    for root, scenario in truth.scenarios.items():
        trace = case.trace(root, leaked_at=truth.leaked_at)
        new_ips = set(trace.places.loc[trace.places["new"], "client_ip"])
        assert scenario.attacker_ips[0] in new_ips, root
        before = trace.places[trace.places["last_seen"] < trace.leaked_at]
        assert not before["new"].any()


def test_each_derived_credential_alone_keeps_its_lineages_answers(
    incident: tuple[ir.Case, GroundTruth, Path],
) -> None:
    """Traced on its own, a derived credential is exposed when its root was, and its uses
    after its own or an ancestor's revocation are flagged as in the whole lineage's trace."""
    case, truth, _ = incident
    for root, scenario in truth.scenarios.items():
        exposure = case.trace(root).leaked_at
        for credential in scenario.credentials:
            if credential == root:
                continue
            alone = case.trace(credential)
            assert (alone.leaked_at, alone.leaked_at_assumed) == (exposure, True), credential
            assert root in alone.exposure_basis, credential
            events = alone.events[alone.events["credential"] == credential]
            found = {
                (e, r): (bool(a), bool(b))
                for e, r, a, b in zip(
                    events["source_event_id"],
                    events["relation"],
                    events["after_revocation"],
                    events["after_ancestor_revocation"],
                    strict=True,
                )
            }
            expected = {
                (e.source_event_id, e.relation): (e.after_revocation, e.after_ancestor_revocation)
                for e in scenario.events
                if e.credential == credential
            }
            assert found == expected, credential


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(value != value))


def test_user_wide_revocation_rows_match(incident: tuple[ir.Case, GroundTruth, Path]) -> None:
    """Revoking megan's sessions ends her session and every token issued in it before then."""
    case, truth, _ = incident
    root = next(r for r in truth.scenarios if r.startswith("entra_session:"))
    scenario = truth.scenarios[root]
    events = case.trace(root).events
    user_wide = events[events["via"].fillna("").str.endswith("(user-wide)")]
    assert set(zip(user_wide["source_event_id"], user_wide["credential"], strict=True)) == {
        (e.source_event_id, e.credential) for e in scenario.events if e.revoked_by
    }
    assert set(user_wide["action"]) == {"Update StsRefreshTokenValidFrom Timestamp"}
    assert len(user_wide) == sum(
        c.startswith(("entra_session:", "entra_uti:")) and i.revoked
        for c, i in scenario.credentials.items()
    )
