"""ir.synth: deterministic incidents whose ground truth is what ingest finds in the files."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import ir
from ir.case import Case
from ir.credentials import fingerprint_ids
from ir.synth import MINUTE, SPAN, GroundTruth, Scenario, _plan, _spread, generate
from ir.synth.salesforce import id18

CLOUDTRAIL_FILE = re.compile(
    r"logs/aws_cloudtrail/AWSLogs/(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_\3\4\5T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz"
)
OKTA_FILE = re.compile(r"logs/okta/system_log_page_\d{6}\.json\.gz")
GITHUB_FILE = re.compile(
    r"logs/github/\d{4}/\d{2}/\d{2}/\d{2}/\d{8}T\d{4}Z_[0-9a-f-]{36}\.json\.gz"
)
EVENT_HUB_FILE = re.compile(
    r"logs/(entra_signin|entra_audit|graph_activity)/(\d{4})/(\d{2})/(\d{2})/"
    r"\2\3\4T\d{4}Z_[0-9a-f-]{36}\.json\.gz"
)
PURVIEW_FILE = re.compile(r"logs/m365_ual/audit_log_search_export_\d{3}\.csv")
EVENT_LOG_FILE = re.compile(
    r"logs/salesforce/EventLogFile/\d{4}-\d{2}-\d{2}/(Login|Logout|RestApi)\.csv"
)
REPORTS_FILE = re.compile(r"logs/google_workspace/(token|login|drive)/activities_\d{6}\.json\.gz")
LAYOUTS = (
    CLOUDTRAIL_FILE,
    OKTA_FILE,
    GITHUB_FILE,
    EVENT_HUB_FILE,
    PURVIEW_FILE,
    EVENT_LOG_FILE,
    REPORTS_FILE,
)
PURVIEW_HEADER = (
    "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,"
    "AssociatedAdminUnitsNames"
)
RAW_SECRET = re.compile(
    rb"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\."  # a JWT (access token, id token, Graph bearer)
    rb"|[\w.-]{3}\dQ~[\w.~-]{30}"  # an Entra client secret value
    rb"|ya29\.|1//0[\w-]{20}"  # Google access and refresh tokens
    rb"|00D\w{12,15}![\w.]{20}"  # a Salesforce access token (session id)
    rb"|secretText|refresh_token|access_token"
)
SECRET_SHAPES = (  # made-up values in each shape RAW_SECRET must catch
    b"eyJ0eXAiOiJKV1QiLCJub25jZSI6.eyJhdWQiOiJodHRwczovL2dyYXBo.sig",
    b"Zx48Q~Tq2mVb7Rc1Lk9Ty3Df4nQ8xW2pVb7Rc1L",
    b"ya29.a0AfB_byC1",
    b"1//0gLq3Vb9tR0-2nYwLc7ZdBAxyz",
    b"00D5j000000VI3n!AQ4AQFakeSessionTokenValue12345",
)
SOURCES = {
    "aws_cloudtrail",
    "okta",
    "github",
    "entra_signin",
    "entra_audit",
    "graph_activity",
    "m365_ual",
    "salesforce",
    "google_workspace",
}


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
        # every file is recognised as the source whose folder holds it
        folders = {Path(r.file).relative_to(out / "logs").parts[0] for r in reports}
        assert folders == SOURCES
        assert all(Path(r.file).relative_to(out / "logs").parts[0] == r.source for r in reports)
        yield opened


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def records(out: Path) -> Iterator[tuple[str, dict]]:
    """Every vendor record under out/logs, read the plain way (not through ir)."""
    for path in sorted((out / "logs").rglob("*.*")):
        source = path.relative_to(out / "logs").parts[0]
        if path.suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
            if source == "m365_ual":
                rows = [orjson.loads(row["AuditData"]) for row in rows]
            yield from ((source, row) for row in rows)
            continue
        body = gzip.decompress(path.read_bytes())
        if source == "github":
            items = [orjson.loads(line) for line in body.splitlines()]
        else:
            page = orjson.loads(body)
            if isinstance(page, list):  # okta
                items = page
            else:
                items = page.get("Records") or page.get("records") or page["items"]
        yield from ((source, item) for item in items)


def action(source: str, record: dict) -> str:
    """What a record did, wherever its vendor says it."""
    if source in ("entra_signin", "entra_audit", "graph_activity"):
        properties = record["properties"]
        return record["category"] + ":" + properties.get("activityDisplayName", "").strip()
    if source == "google_workspace":
        return record["id"]["applicationName"] + ":" + record["events"][0]["name"]
    return (
        record.get("eventName")
        or record.get("eventType")
        or record.get("action")
        or record.get("Operation")
        or record["EVENT_TYPE"]
    )


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", events=600, seed=11)
    second = generate(tmp_path / "b", events=600, seed=11)
    other = generate(tmp_path / "c", events=600, seed=12)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert first == second
    assert files(tmp_path / "a").keys() != files(tmp_path / "c").keys()
    assert first.scenarios.keys().isdisjoint(other.scenarios.keys())


def test_a_vendor_draws_from_its_own_generators(tmp_path: Path) -> None:
    """Adding a vendor leaves the earlier incidents as they were: the roots stay the same."""
    truth = generate(tmp_path / "a", events=600, seed=7)
    assert list(truth.scenarios)[:3] == [
        "aws_access_key:AKIAB4QWZLKKE2GRC3WO",
        "okta_session:102hZRgCcFl742wO50iahAImd",
        "github_token:kZ1jcZU2dh1UXZtsK0SVFhjzWxHrrnt4fcDSj24i8M8=",
    ]
    assert [root.split(":")[0] for root in truth.scenarios][3:] == [
        "entra_session",
        "salesforce_connected_app",
        "google_oauth_client",
    ]


def test_event_count_is_the_requested_count(sample: tuple[Path, GroundTruth]) -> None:
    out, truth = sample
    by_source = Counter(source for source, _ in records(out))
    assert truth.events == 2000
    assert sum(by_source.values()) == 2000
    assert by_source.keys() == SOURCES
    assert by_source["aws_cloudtrail"] > by_source["github"] > by_source["okta"] > 200
    assert min(by_source.values()) == by_source["entra_audit"] > 10
    assert all(by_source[s] > 90 for s in SOURCES - {"entra_audit"})


def test_files_have_the_vendor_delivery_layout(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    names = [name for name in files(out) if name.startswith("logs/")]
    assert [n for n in names if not any(layout.fullmatch(n) for layout in LAYOUTS)] == []
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
    purview = next(n for n in names if PURVIEW_FILE.fullmatch(n))
    assert (out / purview).read_text().splitlines()[0] == PURVIEW_HEADER
    rest = next(n for n in names if n.endswith("RestApi.csv"))
    header = (out / rest).read_text().splitlines()[0]
    assert header.startswith('"EVENT_TYPE","TIMESTAMP","REQUEST_ID","ORGANIZATION_ID"')
    assert '"CONNECTED_APP_ID","CLIENT_IP"' in header


def test_records_carry_the_vendor_fields(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    first = {}
    for source, record in records(out):
        first.setdefault((source, action(source, record)), record)
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


def test_microsoft_records_carry_the_vendor_fields(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    first = {}
    for source, record in records(out):
        first.setdefault((source, action(source, record)), record)
    refresh = first[("entra_signin", "NonInteractiveUserSignInLogs:")]
    props = refresh["properties"]
    assert refresh["resultType"] == "0" and refresh["time"].endswith("0000Z")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00", props["createdDateTime"])
    assert props["isInteractive"] is False and props["incomingTokenType"] != "none"
    # the token id is the base64url of the sign-in's request id, as Entra writes it
    raw = base64.urlsafe_b64decode(props["uniqueTokenIdentifier"] + "==")
    assert uuid.UUID(bytes_le=raw) == uuid.UUID(props["id"])
    assert uuid.UUID(props["sessionId"]).version == 4
    secret = first[("entra_signin", "ServicePrincipalSignInLogs:")]["properties"]
    assert secret["clientCredentialType"] == "clientSecret"
    assert uuid.UUID(secret["servicePrincipalCredentialKeyId"])
    mail = first[("m365_ual", "MailItemsAccessed")]
    assert mail["RecordType"] == 50 and re.fullmatch(r"[\d\-T:]{19}", mail["CreationTime"])
    assert mail["AppAccessContext"].keys() >= {"AADSessionId", "UniqueTokenId", "IssuedAtTime"}
    assert first[("m365_ual", "New-InboxRule")]["RecordType"] == 1
    assert first[("m365_ual", "FileDownloaded")]["RecordType"] == 6
    logged = first[("m365_ual", "UserLoggedIn")]
    assert {"Name": "SessionId", "Value": logged["DeviceProperties"][-1]["Value"]} in logged[
        "DeviceProperties"
    ]
    graph = first[("graph_activity", "MicrosoftGraphActivityLogs:")]
    assert graph["properties"].keys() >= {"requestId", "signInActivityId", "tokenIssuedAt"}
    assert graph["resultSignature"] == str(graph["properties"]["responseStatusCode"])
    planted = first[
        ("entra_audit", "AuditLogs:Update application – Certificates and secrets management")
    ]
    change = planted["properties"]["targetResources"][0]["modifiedProperties"][0]
    assert change["displayName"] == "KeyDescription"
    assert len(orjson.loads(change["newValue"])) == len(orjson.loads(change["oldValue"])) + 1
    assert planted["properties"]["initiatedBy"]["linkableIdentifiers"]["sessionId"]
    revoke = first[("entra_audit", "AuditLogs:Update StsRefreshTokenValidFrom Timestamp")]
    assert revoke["properties"]["targetResources"][0]["userPrincipalName"] == "megan@corp.example"


def test_saas_records_carry_the_vendor_fields(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    first = {}
    for source, record in records(out):
        first.setdefault((source, action(source, record)), record)
    rest = first[("salesforce", "RestApi")]
    assert rest["CONNECTED_APP_ID"] == id18(rest["CONNECTED_APP_ID"][:15])
    assert rest["USER_ID_DERIVED"] == id18(rest["USER_ID"]) and len(rest["USER_ID"]) == 15
    assert re.fullmatch(r"\d{14}(\.\d{1,3})?", rest["TIMESTAMP"])
    assert rest["TIMESTAMP_DERIVED"].endswith("Z") and rest["LOGIN_KEY"] and rest["SESSION_KEY"]
    assert id18("0H47Q000000Xy2a") == "0H47Q000000Xy2aSAC"  # the fixture's own pair
    assert id18("0055j000000utlP") == "0055j000000utlPAAQ"
    login = first[("salesforce", "Login")]
    assert login["LOGIN_STATUS"] in ("LOGIN_NO_ERROR", "LOGIN_ERROR_INVALID_PASSWORD")
    authorize = first[("google_workspace", "token:authorize")]
    names = [p["name"] for p in authorize["events"][0]["parameters"]]
    assert names == ["scope", "client_id", "app_name", "client_type"]
    assert authorize["kind"] == "admin#reports#activity"
    assert re.fullmatch(r"-?\d+", authorize["id"]["uniqueQualifier"])
    used = first[("google_workspace", "token:activity")]["events"][0]["parameters"]
    assert {"name": "num_response_bytes", "intValue": used[2]["intValue"]} in used
    by_app = first[("google_workspace", "drive:download")]
    page = sorted((out / "logs/google_workspace/token").iterdir())[0]
    items = orjson.loads(gzip.decompress(page.read_bytes()))["items"]
    times = [item["id"]["time"] for item in items]
    assert times == sorted(times, reverse=True)  # the API's order: newest first
    assert by_app["events"][0]["type"] == "access"


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
    aws, okta, github = list(truth.scenarios.values())[:3]
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
    # carol's session ends when an admin clears her sessions (user.session.clear)
    assert [(i.relation_to_parent, i.revoked) for i in okta.credentials.values()] == [
        (None, True),
        ("system.api_token.create", True),
    ]
    assert next(iter(github.credentials.values())).revoked
    assert [(e.relation, e.after_revocation) for e in github.events][-2:] == [
        ("revoked", False),
        ("used", True),
    ]
    assert aws.attacker_ips[0] == okta.attacker_ips[0] == github.attacker_ips[0] == "203.0.113.66"


def kinds(scenario: Scenario, **flags: bool) -> Counter:
    """(kind, relation) of the event rows whose flags (after_revocation, …) are all set."""
    return Counter(
        (e.credential.split(":")[0], e.relation)
        for e in scenario.events
        if all(getattr(e, flag) == value for flag, value in flags.items())
    )


def test_the_story_of_the_hijacked_entra_session(sample: tuple[Path, GroundTruth]) -> None:
    _, truth = sample
    entra = truth.scenarios[list(truth.scenarios)[3]]
    lineage = Counter(
        (c.split(":")[0], i.relation_to_parent, i.revoked) for c, i in entra.credentials.items()
    )
    assert lineage == {
        ("entra_session", None, True): 1,  # the root, ended by the user-wide revocation
        ("entra_uti", "SignInLogs", True): 1,
        (
            "entra_uti",
            "NonInteractiveUserSignInLogs (incomingTokenType primaryRefreshToken)",
            True,
        ): 13,
        ("entra_uti", "NonInteractiveUserSignInLogs (incomingTokenType refreshToken)", True): 4,
        (
            "entra_app_credential",
            "Update application – Certificates and secrets management",
            True,
        ): 1,
        ("entra_uti", "ServicePrincipalSignInLogs", False): 3,  # the service principal's tokens
    }
    secret = next(c for c in entra.credentials if c.startswith("entra_app_credential:"))
    assert entra.credentials[secret].parent == list(truth.scenarios)[3]
    user_wide = {e.revoked_by for e in entra.events if e.revoked_by}
    assert user_wide == {"entra_user:megan@corp.example"}
    assert kinds(entra, relation="revoked") == {
        ("entra_session", "revoked"): 1,
        ("entra_uti", "revoked"): 18,
        ("entra_app_credential", "revoked"): 1,
    }
    # the replay after the revocation fails; so does the removed secret
    assert kinds(entra, after_revocation=True) == {
        ("entra_session", "used"): 1,
        ("entra_app_credential", "used"): 1,
    }
    # the planted secret and its token outlive the session that planted it
    assert kinds(entra, after_ancestor_revocation=True) == {
        ("entra_app_credential", "used"): 2,
        ("entra_uti", "used"): 3,
    }
    assert Counter(e.source for e in entra.events).keys() == {
        "entra_signin",
        "entra_audit",
        "m365_ual",
        "graph_activity",
    }
    assert entra.attacker_ips == ["203.0.113.66", "198.18.7.23"]


def test_the_story_of_the_stolen_integration(sample: tuple[Path, GroundTruth]) -> None:
    _, truth = sample
    salesforce, google = list(truth.scenarios.values())[4:]
    lineage = Counter(
        (c.split(":")[0], i.relation_to_parent, i.revoked)
        for c, i in salesforce.credentials.items()
    )
    assert lineage == {
        ("salesforce_connected_app", None, False): 1,
        ("salesforce_login", "oauth", False): 12,  # ten daily polls, two exports
        ("salesforce_session", "LOGIN_KEY", False): 12,
    }
    assert kinds(salesforce) == {
        ("salesforce_connected_app", "used"): 40,
        ("salesforce_login", "issued"): 12,
        ("salesforce_login", "used"): 28,
        ("salesforce_session", "issued"): 12,
        ("salesforce_session", "used"): 28,
    }
    assert [(i.relation_to_parent, i.revoked) for i in google.credentials.values()] == [
        (None, False),
        ("authorize", True),
        ("authorize", True),
        ("authorize", True),
    ]
    assert kinds(google, relation="revoked") == {("google_oauth_grant", "revoked"): 3}
    assert not any(e.after_revocation for e in google.events)
    assert salesforce.description.startswith("OAuth token of the Breeze chat integration")
    assert google.attacker_ips == salesforce.attacker_ips == ["203.0.113.66", "198.18.7.23"]


def test_raw_secrets_are_only_in_the_token_files(sample: tuple[Path, GroundTruth]) -> None:
    out, truth = sample
    aws_file = (out / "leaked_token.txt").read_text()
    github_secret = (out / "leaked_github_token.txt").read_text().strip()
    aws_secret = re.search(r"aws_secret_access_key = (\S{40})\n", aws_file).group(1)
    assert aws_file.startswith("[ci-deployer]\naws_access_key_id = AKIA")
    assert re.fullmatch(r"ghp_[A-Za-z0-9]{36}", github_secret)
    assert all(RAW_SECRET.search(shape) for shape in SECRET_SHAPES)
    for name, body in files(out).items():
        if name.startswith("leaked_"):
            continue
        text = gzip.decompress(body) if name.endswith(".gz") else body
        assert aws_secret.encode() not in text and github_secret.encode() not in text, name
        assert b"ghp_" not in text and b"aws_secret_access_key" not in text, name
        # nor any other vendor's secret: bearer JWTs, Entra client secret values, Google and
        # Salesforce OAuth tokens; logs name them by ids (uti, keyId, client_id, LOGIN_KEY)
        assert RAW_SECRET.search(text) is None, (name, RAW_SECRET.search(text))
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
        # a user-wide revocation names the user, not each credential it ends (the trace adds those)
        own = [e for e in scenario.events if e.revoked_by is None]
        expected = {(e.source, e.source_event_id, e.credential, e.relation) for e in own}
        assert {row[:4] for row in found} == expected
        assert len(found) == len(own)
        user_wide = {(e.source, e.source_event_id, e.revoked_by) for e in scenario.events} - {
            (e.source, e.source_event_id, None) for e in own
        }
        principals = case.connection.execute(
            """SELECT e.source, e.source_event_id, r.credential FROM credential_refs r
               JOIN events e USING (event_key) WHERE r.relation = 'revoked'
               AND r.credential IN (SELECT unnest(?))""",
            [sorted({p for _, _, p in user_wide})],
        ).fetchall()
        assert set(principals) == user_wide
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
    assert [(error.split(":")[0], count) for error, count in outcomes] == [
        ("50173", 1),  # Entra: the grant was revoked (StsRefreshTokenValidFrom)
        ("7000215", 1),  # Entra: invalid client secret (the planted secret, removed)
        ("HTTP 401", 1),
        ("InvalidClientTokenId", 3),
    ]


def test_output_folder_must_be_empty(sample: tuple[Path, GroundTruth]) -> None:
    out, _ = sample
    with pytest.raises(FileExistsError, match="empty folder"):
        generate(out, events=10)


def test_large_runs_use_five_minute_files() -> None:
    plan = list(_plan(10_000_000, 0))
    assert plan[0][1] == 5 * MINUTE and len(plan) == SPAN // (5 * MINUTE)
    assert sum(sum(counts.values()) for _, _, counts in plan) == 10_000_000
    small = list(_plan(1_600, 0))
    assert small[0][1] == 720 * MINUTE and sum(c["okta"] for _, _, c in small) == 240
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
