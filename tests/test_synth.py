"""ir.synth: deterministic incidents whose ground truth is what ingest finds in the files."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import ir
from ir.case import Case
from ir.credentials import fingerprint_ids
from ir.synth import MINUTE, SPAN, GroundTruth, _plan, _spread, generate

CLOUDTRAIL_FILE = re.compile(
    r"logs/aws_cloudtrail/AWSLogs/(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_\3\4\5T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz"
)
OKTA_FILE = re.compile(r"logs/okta/system_log_page_\d{6}\.json\.gz")
GITHUB_FILE = re.compile(
    r"logs/github/\d{4}/\d{2}/\d{2}/\d{2}/\d{8}T\d{4}Z_[0-9a-f-]{36}\.json\.gz"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("synth") / "incident"
    return out, generate(out, events=2000, seed=7)


@pytest.fixture(scope="module")
def case(
    sample: tuple[Path, GroundTruth], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Case]:
    out, _ = sample
    with ir.open_case(tmp_path_factory.mktemp("case") / "case.duckdb") as opened:
        reports = opened.ingest(out / "logs")
        assert [r for r in reports if r.error or r.rejected or r.duplicates] == []
        yield opened


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def records(out: Path) -> Iterator[tuple[str, dict]]:
    """Every vendor record under out/logs, read the plain way (not through ir)."""
    for path in sorted((out / "logs").rglob("*.json.gz")):
        body = gzip.decompress(path.read_bytes())
        source = path.relative_to(out / "logs").parts[0]
        if source == "aws_cloudtrail":
            items = orjson.loads(body)["Records"]
        elif source == "okta":
            items = orjson.loads(body)
        else:
            items = [orjson.loads(line) for line in body.splitlines()]
        for item in items:
            yield source, item


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", events=600, seed=11)
    second = generate(tmp_path / "b", events=600, seed=11)
    other = generate(tmp_path / "c", events=600, seed=12)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert first == second
    assert files(tmp_path / "a").keys() != files(tmp_path / "c").keys()
    assert first.scenarios.keys().isdisjoint(other.scenarios.keys())


def test_event_count_is_the_requested_count(sample: tuple[Path, GroundTruth]) -> None:
    out, truth = sample
    by_source = Counter(source for source, _ in records(out))
    assert truth.events == 2000
    assert sum(by_source.values()) == 2000
    assert by_source["aws_cloudtrail"] > by_source["okta"] > 300
    assert by_source["github"] > 300


def test_files_have_the_vendor_delivery_layout(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    names = [name for name in files(out) if name.startswith("logs/")]
    unmatched = [
        n
        for n in names
        if not (CLOUDTRAIL_FILE.fullmatch(n) or OKTA_FILE.fullmatch(n) or GITHUB_FILE.fullmatch(n))
    ]
    assert unmatched == []
    for name, body in files(out).items():
        if name.endswith(".gz"):
            assert body[:4] == b"\x1f\x8b\x08\x00" and body[4:8] == b"\0\0\0\0", (
                name
            )  # no name, no mtime
    assert sorted(p.name for p in out.iterdir()) == [
        ".irignore",
        "ground_truth.json",
        "leaked_github_token.txt",
        "leaked_token.txt",
        "logs",
    ]


def test_records_carry_the_vendor_fields(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    first = {}
    for source, record in records(out):
        first.setdefault(
            (source, record.get("eventName") or record.get("eventType") or record["action"]), record
        )
    assume = first[("aws_cloudtrail", "AssumeRole")]
    assert assume["responseElements"]["credentials"]["accessKeyId"].startswith("ASIA")
    assert {
        "eventVersion",
        "tlsDetails",
        "eventCategory",
        "managementEvent",
        "readOnly",
    } <= assume.keys()
    get_object = first[("aws_cloudtrail", "GetObject")]
    assert get_object["eventCategory"] == "Data" and get_object["userAgent"].startswith("[")
    token = first[("okta", "system.api_token.create")]
    assert token["target"][0]["type"] == "Token" and token["target"][0]["id"].startswith("00T")
    sso = first[("okta", "user.authentication.sso")]
    assert {"uuid", "published", "securityContext", "request", "debugContext"} <= sso.keys()
    assert sso["client"]["geographicalContext"]["geolocation"].keys() == {"lat", "lon"}
    clone = first[("github", "git.clone")]
    assert clone["transport_protocol_name"] == "http" and isinstance(clone["@timestamp"], int)
    api = first[("github", "api.request")]
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", api["hashed_token"]) and api["status_code"] in (
        200,
        201,
        404,
    )


def test_ground_truth_is_consistent(sample: tuple[Path, GroundTruth]) -> None:
    out, truth = sample
    assert GroundTruth.load(out / "ground_truth.json") == truth
    assert re.fullmatch(r"2026-09-04T14:[0-5]\d:00Z", truth.leaked_at)
    for root, scenario in truth.scenarios.items():
        assert scenario.credentials[root].parent is None
        issued = Counter(e.credential for e in scenario.events if e.relation == "issued")
        revoked = {e.credential for e in scenario.events if e.relation == "revoked"}
        for credential, info in scenario.credentials.items():
            assert info.parent is None or info.parent in scenario.credentials
            assert issued[credential] == (0 if credential == root else 1)
            assert info.revoked == (credential in revoked)
        assert {e.credential for e in scenario.events} == scenario.credentials.keys()
        assert {e.source_event_id for e in scenario.events}.isdisjoint(scenario.decoy_event_ids)
        assert scenario.attacker_ips and scenario.decoy_event_ids


def test_the_story_of_each_leak(sample: tuple[Path, GroundTruth]) -> None:
    _, truth = sample
    aws, okta, github = truth.scenarios.values()
    lineage = sorted(
        (c.split(":")[1][:4], i.relation_to_parent or "", i.revoked)
        for c, i in aws.credentials.items()
    )
    assert lineage == [
        ("AKIA", "", True),  # the leaked key
        ("AKIA", "CreateAccessKey", True),  # the backdoor
        ("ASIA", "AssumeRole", False),
        ("ASIA", "AssumeRole", False),
        ("ASIA", "AssumeRole", False),
    ]
    backdoor = next(
        c for c, i in aws.credentials.items() if i.relation_to_parent == "CreateAccessKey"
    )
    assert aws.credentials[backdoor].parent.startswith("aws_access_key:ASIA")
    late = Counter(
        (e.credential.split(":")[1][:4], e.relation) for e in aws.events if e.after_revocation
    )
    assert late == {("AKIA", "used"): 3}  # the leaked key, refused three times
    outliving = Counter(
        (e.credential.split(":")[1][:4], e.relation)
        for e in aws.events
        if e.after_ancestor_revocation
    )
    # the session key still works after its parent died; the backdoor once more before its delete
    assert outliving == {("ASIA", "used"): 3, ("AKIA", "used"): 1}
    assert len(aws.decoy_event_ids) == 6
    assert [(i.relation_to_parent, i.revoked) for i in okta.credentials.values()] == [
        (None, False),
        ("system.api_token.create", True),
    ]
    assert next(iter(github.credentials.values())).revoked
    assert [(e.relation, e.after_revocation) for e in github.events][-2:] == [
        ("revoked", False),
        ("used", True),
    ]
    assert aws.attacker_ips[0] == okta.attacker_ips[0] == github.attacker_ips[0] == "203.0.113.66"


def test_raw_secrets_are_only_in_the_token_files(sample: tuple[Path, GroundTruth]) -> None:
    out, truth = sample
    aws_file = (out / "leaked_token.txt").read_text()
    github_secret = (out / "leaked_github_token.txt").read_text().strip()
    aws_secret = re.search(r"aws_secret_access_key = (\S{40})\n", aws_file).group(1)
    assert aws_file.startswith("[ci-deployer]\naws_access_key_id = AKIA")
    assert re.fullmatch(r"ghp_[A-Za-z0-9]{36}", github_secret)
    for name, body in files(out).items():
        if name.startswith("leaked_"):
            continue
        text = gzip.decompress(body) if name.endswith(".gz") else body
        assert aws_secret.encode() not in text and github_secret.encode() not in text, name
        assert b"ghp_" not in text and b"aws_secret_access_key" not in text, name
    roots = list(truth.scenarios)
    assert fingerprint_ids(aws_file) == [roots[0]]
    assert fingerprint_ids(github_secret) == [roots[2]]


def test_ingest_finds_exactly_the_ground_truth(
    sample: tuple[Path, GroundTruth], case: Case
) -> None:
    _, truth = sample
    assert case.sql("SELECT count(*) AS n FROM events")["n"][0] == truth.events
    assert case.sql("SELECT count(*) AS n FROM rejects")["n"][0] == 0
    for scenario in truth.scenarios.values():
        credentials = list(scenario.credentials)
        found = case.connection.execute(
            """SELECT e.source, e.source_event_id, r.credential, r.relation, e.outcome
               FROM credential_refs r JOIN events e USING (event_key)
               WHERE r.credential IN (SELECT unnest(?))""",
            [credentials],
        ).fetchall()
        expected = {
            (e.source, e.source_event_id, e.credential, e.relation) for e in scenario.events
        }
        assert {row[:4] for row in found} == expected
        assert len(found) == len(scenario.events)
        late = {e.source_event_id for e in scenario.events if e.after_revocation}
        assert {row[1] for row in found if row[4] == "failure"} <= late | {
            e.source_event_id for e in scenario.events if not e.after_revocation
        }
        parents = case.connection.execute(
            """SELECT credential, parent, via FROM credential_refs
               WHERE relation = 'issued' AND credential IN (SELECT unnest(?))""",
            [credentials],
        ).fetchall()
        assert {c: (p, v) for c, p, v in parents} == {
            c: (i.parent, i.relation_to_parent) for c, i in scenario.credentials.items() if i.parent
        }
        decoys = case.connection.execute(
            """SELECT e.source_event_id, list(r.credential) FROM events e
               LEFT JOIN credential_refs r USING (event_key)
               WHERE e.source_event_id IN (SELECT unnest(?)) GROUP BY ALL""",
            [scenario.decoy_event_ids],
        ).fetchall()
        assert len(decoys) == len(scenario.decoy_event_ids)
        assert all(set(refs).isdisjoint(credentials) for _, refs in decoys)


def test_failed_uses_after_revocation_are_failures(
    sample: tuple[Path, GroundTruth], case: Case
) -> None:
    _, truth = sample
    late = [
        e.source_event_id for s in truth.scenarios.values() for e in s.events if e.after_revocation
    ]
    outcomes = case.connection.execute(
        "SELECT error, count(*) FROM events WHERE source_event_id IN (SELECT unnest(?)) GROUP BY ALL ORDER BY 1",
        [late],
    ).fetchall()
    assert outcomes == [("HTTP 401", 1), ("InvalidClientTokenId", 3)]


def test_output_folder_must_be_empty(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    with pytest.raises(FileExistsError, match="empty folder"):
        generate(out, events=10)


def test_large_runs_use_five_minute_files() -> None:
    plan = list(_plan(10_000_000, 0))
    assert plan[0][1] == 5 * MINUTE and len(plan) == SPAN // (5 * MINUTE)
    assert sum(sum(counts.values()) for _, _, counts in plan) == 10_000_000
    small = list(_plan(1_600, 0))
    assert small[0][1] == 720 * MINUTE and sum(c["okta"] for _, _, c in small) == 400
    assert _spread(10, [1.0, 1.0, 2.0]) == [2, 3, 5]


def test_sample_logs_are_the_seed_7_incident(sample: tuple[Path, GroundTruth]) -> None:
    """sample_logs/ is generate(seed=7, events=2000); regenerate it when the generator changes."""
    out, _ = sample
    committed = Path(__file__).resolve().parent.parent / "sample_logs"

    def contents(root: Path) -> dict[str, bytes]:
        return {k: gzip.decompress(v) if k.endswith(".gz") else v for k, v in files(root).items()}

    assert contents(committed) == contents(out)


def test_cli_writes_the_incident_and_lists_its_roots(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ir.cli import app

    out = tmp_path / "incident"
    result = CliRunner().invoke(
        app, ["synth", str(out), "--events", "400", "--seed", "3", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    listed = orjson.loads(result.stdout)
    truth = GroundTruth.load(out / "ground_truth.json")
    assert [row["root"] for row in listed] == list(truth.scenarios)
    assert [row["event_rows"] for row in listed] == [
        len(s.events) for s in truth.scenarios.values()
    ]
    again = CliRunner().invoke(app, ["synth", str(out), "--events", "400"])
    assert again.exit_code == 1 and "empty folder" in again.output
