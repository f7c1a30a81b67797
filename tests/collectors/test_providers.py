"""Each SaaS collector against its local server: the vendor's window parameters and
pagination, every record once, files byte-identical to the bodies served, a refused
credential named with its setting and the permission the vendor requires."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from ir import collectors
from ir.case import Case
from ir.errors import UsageError
from tests.collectors.conftest import Runner, files, served_bodies
from tests.servers.base import FakeApi
from tests.servers.fixtures import (
    ENTRA_SECRET,
    GITHUB_TOKEN,
    SALESFORCE_TOKEN,
    SLACK_TOKEN,
    assert_hidden,
)
from tests.servers.salesforce import FIXTURES

WIDE = {"since": "2025-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}


@dataclass(frozen=True)
class Case_:
    provider: str
    fixture: str  # the server fixture
    listing: str  # part of the listing's path, to find its served bodies
    events: dict[str, int]  # events expected per source
    bad: dict[str, str]  # settings that the server refuses
    names: tuple[str, ...]  # what the refusal must name: setting(s) and permission
    options: collectors.Options = collectors.DEFAULT_OPTIONS
    secrets: tuple[str, ...] = field(default=())


CASES = [
    Case_(
        "github",
        "github_api",
        "/orgs/example-org/audit-log",
        {"github": 4},
        {"GITHUB_TOKEN": "ghp_RefusedTokenValue0000000000000000000"},
        ("GITHUB_TOKEN", "read:audit_log", "Bad credentials"),
        collectors.Options(org="example-org"),
        (GITHUB_TOKEN,),
    ),
    Case_(
        "entra",
        "entra_api",
        "/v1.0/auditLogs/",
        {"entra_signin": 3, "entra_audit": 3},
        {"AZURE_CLIENT_SECRET": "Qq8~RefusedSecretValue.0000000000000"},
        ("AZURE_CLIENT_SECRET", "AuditLog.Read.All", "AADSTS7000215"),
        secrets=(ENTRA_SECRET,),
    ),
    Case_(
        "google",
        "google_api",
        "/admin/reports/v1/activity/",
        {"google_workspace": 4},
        {"IR_GOOGLE_ADMIN_SUBJECT": "eve@corp.example"},
        ("IR_GOOGLE_ADMIN_SUBJECT", "admin.reports.audit.readonly"),
    ),
    Case_(
        "slack",
        "slack_api",
        "/audit/v1/logs",
        {"slack": 7},
        {"SLACK_TOKEN": "xoxp-0000-0000-0000-RefusedTokenValue"},
        ("SLACK_TOKEN", "auditlogs:read", "invalid_auth"),
        secrets=(SLACK_TOKEN,),
    ),
    Case_(
        "salesforce",
        "salesforce_api",
        "/query",
        {"salesforce": 6 + 2},
        {"SALESFORCE_ACCESS_TOKEN": "00D5j000000VI3n!RefusedTokenValue"},
        ("SALESFORCE_ACCESS_TOKEN", "View Event Log Files", "INVALID_SESSION_ID"),
        secrets=(SALESFORCE_TOKEN,),
    ),
]
LOGIN_HISTORY = [
    {
        "attributes": {
            "type": "LoginHistory",
            "url": f"/services/data/v60.0/sobjects/LoginHistory/0Ya{n}",
        },
        "Id": f"0Ya5j00000000{n}AAA",
        "LoginTime": f"2026-01-01T0{n}:00:00.000+0000",
        "UserId": "0055j000000utlP",
        "SourceIp": "198.51.100.23",
        "Status": "Success",
    }
    for n in (1, 2)
]


def started(request: pytest.FixtureRequest, case_: Case_) -> FakeApi:
    api: FakeApi = request.getfixturevalue(case_.fixture)
    if case_.provider == "salesforce":
        api.objects["LoginHistory"] = LOGIN_HISTORY  # type: ignore[attr-defined]
    return api


def per_source(case: Case) -> dict[str, int]:
    frame = case.sql("SELECT source, count(*) AS n FROM events GROUP BY 1")
    return dict(zip(frame["source"], frame["n"].astype(int), strict=True))


@pytest.mark.parametrize("case_", CASES, ids=[c.provider for c in CASES])
def test_every_record_once_and_the_bytes_served(
    request: pytest.FixtureRequest,
    run: Runner,
    case: Case,
    case_: Case_,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api = started(request, case_)
    api.throttle(times=1)  # the vendor's own rate-limit answer, then a 5xx: both waited out
    api.fail(times=1)
    collection = run(case_.provider, api, options=case_.options, **WIDE)
    assert len(run.sleeps) == 2

    assert per_source(case) == case_.events
    assert sum(r.duplicates + r.rejected for r in collection.reports) == 0
    written = list(files(run.out).values())
    listed = served_bodies(api, case_.listing)
    if case_.provider == "salesforce":  # the CSVs are the evidence, the listing finds them
        listed = served_bodies(api, "/LogFile") + served_bodies(api, "/query")[1:]
    assert sorted(written) == sorted(listed) and len(written) == len(collection.reports)
    again = run(case_.provider, api, options=case_.options, **WIDE)
    assert sum(r.loaded for r in again.reports) == 0
    issued = list(getattr(api, "issued", ()))  # Entra's and Google's access tokens
    if case_.provider == "google":  # a line of the service account's private key
        issued.append(json.loads(api.key_path.read_text())["private_key"].splitlines()[1])  # type: ignore[attr-defined]
    journal = case.sql("SELECT * FROM journal").to_csv()
    assert_hidden([*case_.secrets, *issued], caplog.text, journal, *(b.decode() for b in written))


@pytest.mark.parametrize("case_", CASES, ids=[c.provider for c in CASES])
def test_a_refused_credential_names_its_setting_and_the_permission(
    request: pytest.FixtureRequest, run: Runner, case: Case, case_: Case_
) -> None:
    api = started(request, case_)
    with pytest.raises(collectors.CollectionFailed) as refused:
        run(case_.provider, api, env=case_.bad, options=case_.options, **WIDE)
    for name in case_.names:
        assert name in str(refused.value)
    assert files(run.out) == {} and per_source(case) == {}
    refused_secrets = [v for k, v in case_.bad.items() if k != "IR_GOOGLE_ADMIN_SUBJECT"]
    assert_hidden([*refused_secrets, *case_.secrets], str(refused.value))


def test_github_asks_for_the_window_oldest_first_with_git_events(
    run: Runner, github_api: FakeApi, case: Case
) -> None:
    run(
        "github",
        github_api,
        options=collectors.Options(org="example-org"),
        since="2026-08-30T00:00:00Z",
        until="2026-08-31T00:00:00Z",
    )
    first = github_api.requests[0]
    assert first.arg("phrase") == "created:2026-08-30T00:00:00Z..2026-08-30T23:59:59Z"
    assert (first.arg("include"), first.arg("order"), first.arg("per_page")) == (
        "all",
        "asc",
        "100",
    )
    times = case.sql("SELECT time FROM events ORDER BY time")["time"]
    assert len(times) == 2 and times.min().isoformat().startswith("2026-08-30")


def test_github_needs_an_org_or_an_enterprise(run: Runner, github_api: FakeApi) -> None:
    with pytest.raises(UsageError, match="--org ORG or --enterprise SLUG"):
        run("github", github_api)
    with pytest.raises(UsageError, match="not an organization"):
        run("github", github_api, options=collectors.Options(org="../etc"))


def test_entra_gets_its_token_by_a_form_post_and_filters_each_log(
    run: Runner, entra_api: FakeApi, case: Case
) -> None:
    run("entra", entra_api, since="2026-09-02T11:00:00Z", until="2026-09-02T16:12:00Z")
    token, *listings = entra_api.requests
    assert token.method == "POST" and token.path.endswith("/oauth2/v2.0/token")
    assert token.form()["grant_type"] == "client_credentials"
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert [r.arg("$filter") for r in listings] == [
        "createdDateTime ge 2026-09-02T11:00:00Z and createdDateTime lt 2026-09-02T16:12:00Z",
        "activityDateTime ge 2026-09-02T11:00:00Z and activityDateTime lt 2026-09-02T16:12:00Z",
    ]
    assert per_source(case) == {"entra_signin": 2, "entra_audit": 2}


def test_entra_logs_option_chooses_the_streams(run: Runner, entra_api: FakeApi, case: Case) -> None:
    collection = run("entra", entra_api, options=collectors.Options(logs=["audits"]), **WIDE)
    assert [s.stream for s in collection.streams] == ["directoryAudits"]
    with pytest.raises(UsageError, match="--logs takes signins, audits"):
        run("entra", entra_api, options=collectors.Options(logs=["mail"]))


def test_google_pages_each_application_and_keeps_empty_pages(
    run: Runner, google_api: FakeApi, case: Case
) -> None:
    collection = run("google", google_api, **WIDE)
    assert [(s.stream, s.records) for s in collection.streams] == [
        ("login", 0),
        ("token", 3),
        ("admin", 0),
        ("drive", 0),
    ]
    empty = [r for r in collection.reports if r.records == 0]
    assert len(empty) == 3 and all(r.error is None for r in empty)  # evidence of nothing
    assert {r.arg("startTime") for r in google_api.requests if "activity" in r.path} == {
        WIDE["since"]
    }


def test_slack_sends_unix_seconds_with_an_inclusive_latest(
    run: Runner, slack_api: FakeApi, case: Case
) -> None:
    run("slack", slack_api, since="2026-01-01T00:00:00Z", until="2026-01-01T01:00:00Z")
    first = slack_api.requests[0]
    assert (first.arg("oldest"), first.arg("latest")) == ("1767225600", "1767229199")
    assert per_source(case) == {"slack": 2}


def test_salesforce_writes_each_log_file_as_downloaded(
    run: Runner, salesforce_api: FakeApi, case: Case
) -> None:
    salesforce_api.objects["LoginHistory"] = LOGIN_HISTORY  # type: ignore[attr-defined]
    run("salesforce", salesforce_api, since="2026-01-01T00:00:00Z", until="2026-01-02T00:00:00Z")
    written = files(run.out)
    csvs = {
        name.rsplit("/", 1)[-1].split("-")[0]: body
        for name, body in written.items()
        if name.endswith(".csv")
    }
    assert csvs == {
        "Login": (FIXTURES / "salesforce" / "eventlogfile-login.csv").read_bytes(),
        "RestApi": (FIXTURES / "salesforce" / "eventlogfile-restapi.csv").read_bytes(),
    }
    query = [r.arg("q") for r in salesforce_api.requests if r.path.endswith("/query")]
    assert query[0].endswith(
        "WHERE LogDate >= 2026-01-01T00:00:00Z AND LogDate < 2026-01-02T00:00:00Z"
        " ORDER BY LogDate, EventType, Sequence"
    )
    assert "FROM LoginHistory WHERE LoginTime >= 2026-01-01T00:00:00Z" in query[1]
    pages = [json.loads(b) for n, b in written.items() if n.startswith("salesforce/LoginHistory")]
    assert [r["Id"] for p in pages for r in p["records"]] == [r["Id"] for r in LOGIN_HISTORY]


def test_salesforce_refuses_a_listing_row_that_would_name_a_path(
    run: Runner, salesforce_api: Any, case: Case
) -> None:
    salesforce_api.objects["EventLogFile"][0]["EventType"] = "../../etc"
    with pytest.raises(collectors.CollectionFailed, match="unexpected Id or EventType"):
        run("salesforce", salesforce_api, **WIDE)
    assert files(run.out) == {}
