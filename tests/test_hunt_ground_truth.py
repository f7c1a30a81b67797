"""The hunt against the synthetic incidents: every leak found, named by its root, above
everything the organisation does from its own networks, decoys and all."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ir
from ir import hunt as hunting
from ir.places import define_network_macros
from ir.synth import GroundTruth, generate
from tests import vendor_records as v

SEEDS = (7, 42)
ORG_PREFIX = "198.51.100"  # the synthetic company's office /24, on AT&T (AS7018)
ORG_ASN = 7018
_NETWORKS = """
SELECT DISTINCT unnest([ir_network(e.client_ip, NULL), ir_network(NULL, e.asn)]) AS network
FROM events e {join} WHERE {where}
"""


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def incident(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ir.Case, GroundTruth, pd.DataFrame]]:
    out = tmp_path_factory.mktemp(f"hunt{request.param}")
    truth = generate(out, events=3000, seed=request.param)
    with ir.open_case(out / "case.duckdb") as case:
        assert all(r.error is None and r.rejected == 0 for r in case.ingest(out / "logs"))
        define_network_macros(case.connection)
        yield case, truth, case.hunt()


def networks(case: ir.Case, where: str, parameter: list[str], by_credential: bool) -> set[str]:
    """The networks (/24, /48, ASN) of the events of these credentials, or of these IPs."""
    join = "JOIN credential_refs r USING (event_key)" if by_credential else ""
    rows = case.sql(_NETWORKS.format(join=join, where=where), [parameter])
    return set(rows["network"].dropna())


def attacker_networks(case: ir.Case, truth: GroundTruth) -> set[str]:
    ips = sorted({ip for scenario in truth.scenarios.values() for ip in scenario.attacker_ips})
    return networks(case, "e.client_ip IN (SELECT unnest(?::VARCHAR[]))", ips, False)


def lineage_networks(case: ir.Case, credentials: list[str]) -> set[str]:
    return networks(case, "r.credential IN (SELECT unnest(?::VARCHAR[]))", credentials, True)


def test_every_leak_is_a_finding_named_by_its_root(
    incident: tuple[ir.Case, GroundTruth, pd.DataFrame],
) -> None:
    """The root `ir trace` takes next, everything derived from it listed, nothing
    suspicious before the leak, no reason resting on a decoy event."""
    _, truth, findings = incident
    leaked_at = pd.Timestamp(truth.leaked_at)
    for root, scenario in truth.scenarios.items():
        rows = findings[findings["credential"] == root]
        assert len(rows) == 1, root
        finding = rows.iloc[0]
        assert set(finding["derived"]) == set(scenario.credentials) - {root}
        assert finding["first_suspicious_use"] >= leaked_at, root
        events = {reason["event"].split(":", 1)[1] for reason in finding["reasons"]}
        assert events.isdisjoint(scenario.decoy_event_ids), root
    derived = {c for d in findings["derived"] for c in d}
    assert derived.isdisjoint(findings["credential"])  # a derived credential is no finding


def test_leaks_rank_above_every_lineage_used_only_from_the_organisations_networks(
    incident: tuple[ir.Case, GroundTruth, pd.DataFrame],
) -> None:
    case, truth, findings = incident
    decoys = [d for s in truth.scenarios.values() for d in s.decoy_event_ids]
    present = case.sql(
        "SELECT count(*) AS n FROM events WHERE source_event_id IN (SELECT unnest(?::VARCHAR[]))",
        [decoys],
    )
    assert int(present["n"].iloc[0]) == len(set(decoys)) > 0  # the decoys are in the case
    attacker = attacker_networks(case, truth)
    leaked = findings[findings["credential"].isin(truth.scenarios)]
    others = findings[~findings["credential"].isin(truth.scenarios)]
    own = [
        row.score
        for row in others.itertuples()
        if not lineage_networks(case, [row.credential, *row.derived]) & attacker
    ]
    assert own, "the comparison needs lineages used only from the organisation's networks"
    assert leaked["score"].min() > max(own)
    assert findings["score"].is_monotonic_decreasing


# --- background activity from the organisation's own networks never pushes a leak down ---


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth, dict[str, Any]]:
    """A small incident's case file, its hunt, and who the background can act as."""
    out = tmp_path_factory.mktemp("background")
    truth = generate(out, events=1500, seed=7)
    with ir.open_case(out / "case.duckdb") as case:
        assert all(r.error is None and r.rejected == 0 for r in case.ingest(out / "logs"))
        define_network_macros(case.connection)
        counts = case.sql(
            "SELECT network, count(DISTINCT r.principal) AS principals"
            " FROM (SELECT event_key, unnest([ir_network(client_ip, NULL), ir_network(NULL, asn)])"
            " AS network FROM events WHERE outcome <> 'failure') JOIN credential_refs r"
            " USING (event_key) WHERE r.relation = 'used' GROUP BY network"
        ).set_index("network")["principals"]
        org = hunting.load_weights().org_principals
        # the background's networks are the organisation's in the case it is added to
        assert counts[f"{ORG_PREFIX}.0/24"] >= org and counts[f"AS{ORG_ASN}"] >= org
        roots = list(truth.scenarios)
        principals = case.sql(
            "SELECT credential, any_value(principal) AS principal FROM credential_refs"
            " WHERE credential IN (SELECT unnest(?::VARCHAR[])) AND relation = 'used'"
            " GROUP BY credential",
            [roots],
        ).set_index("credential")["principal"]
        people = case.sql(
            "SELECT DISTINCT principal FROM credential_refs WHERE kind = 'okta_session'"
        )["principal"]
        actors = {
            "aws": principals[next(r for r in roots if r.startswith("aws_access_key:"))],
            "okta": principals[next(r for r in roots if r.startswith("okta_session:"))],
            "github": principals[next(r for r in roots if r.startswith("github_token:"))],
            "people": sorted(people.dropna()),
            "hunt": case.hunt(),
            "uses": root_uses(case, roots),
        }
    return out / "case.duckdb", truth, actors


Background = list[tuple[str, int, int, bool, int]]  # (source, minute, address, leaked, who)
BACKGROUND = st.lists(
    st.tuples(
        st.sampled_from(["aws", "okta", "github"]),
        st.integers(0, 10 * 24 * 60 - 1),  # minute of the ten-day incident
        st.integers(1, 254),  # an address of the office /24
        st.booleans(),  # the leaked credential itself, or another of the organisation
        st.integers(0, 50),  # which other credential and person
    ),
    min_size=1,
    max_size=40,
)


def background_files(
    folder: Path, truth: GroundTruth, actors: dict[str, Any], background: Background
) -> None:
    """Real-shape records of ordinary work from the office: CloudTrail, Okta, GitHub."""
    roots = {root.split(":", 1)[0]: root.split(":", 1)[1] for root in truth.scenarios}
    start = pd.Timestamp("2026-09-01T00:00:00Z")
    trail, okta, github = [], [], []
    for index, (source, minute, address, leaked, who) in enumerate(background):
        time = start + timedelta(minutes=minute)
        ip = f"{ORG_PREFIX}.{address}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ")
        if source == "aws":
            key = roots["aws_access_key"] if leaked else f"AKIABACKGROUND{who:06d}"
            record = v.cloudtrail(f"bg{index}", stamp, "ListBuckets", key, ip=ip, user=f"u{who}")
            if leaked:  # the leaked key's own user, in the incident's account
                arn = actors["aws"]
                record["userIdentity"].update(arn=arn, accountId=arn.split(":")[4])
            trail.append(record)
        elif source == "okta":
            people = actors["people"]
            session = roots["okta_session"] if leaked else f"102BACKGROUND{who:012d}"
            actor = actors["okta"] if leaked else people[who % len(people)]
            record = v.okta(
                f"bg{index}", stamp, "user.authentication.sso", session, ip=ip, actor=actor
            )
            record["securityContext"]["asNumber"] = ORG_ASN
            okta.append(record)
        else:
            token = roots["github_token"] if leaked else f"background{who:05d}="
            actor = actors["github"] if leaked else f"dev{who}"
            milliseconds = int(time.timestamp() * 1000)
            github.append(
                v.github(f"bg{index}", milliseconds, "git.clone", token, actor=actor, ip=ip)
            )
    if trail:
        v.write_cloudtrail(folder / "trail.json", trail)
    for name, records in (("okta", okta), ("github", github)):
        if records:
            v.write_ndjson(folder / f"{name}.ndjson", records)


def root_uses(case: ir.Case, roots: list[str]) -> int:
    used = case.sql(
        "SELECT count(*) AS n FROM credential_refs WHERE relation = 'used'"
        " AND credential IN (SELECT unnest(?::VARCHAR[]))",
        [roots],
    )
    return int(used["n"].iloc[0])


def standing(findings: pd.DataFrame, roots: list[str]) -> dict[str, tuple[float, int]]:
    """Per leaked root: its score, and how many other findings score as high or higher."""
    others = findings.loc[~findings["credential"].isin(roots), "score"]
    scores = dict(zip(findings["credential"], findings["score"], strict=True))
    return {root: (scores[root], int((others >= scores[root]).sum())) for root in roots}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(background=BACKGROUND)
def test_background_from_the_organisations_networks_never_pushes_a_leak_down(
    template: tuple[Path, GroundTruth, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    background: Background,
) -> None:
    case_file, truth, actors = template
    roots = list(truth.scenarios)
    before = standing(actors["hunt"], roots)
    work = tmp_path_factory.mktemp("more")
    shutil.copy(case_file, work / "case.duckdb")
    background_files(work / "logs", truth, actors, background)
    with ir.open_case(work / "case.duckdb") as case:
        assert all(r.error is None and r.rejected == 0 for r in case.ingest(work / "logs"))
        # the background really is the leaked credentials' too, where drawn so
        assert root_uses(case, roots) == actors["uses"] + sum(
            leaked for *_, leaked, _ in background
        )
        after = standing(case.hunt(), roots)
    for root in roots:
        (score, above), (score_after, above_after) = before[root], after[root]
        assert score_after >= score, root
        assert above_after <= above == 0, root
