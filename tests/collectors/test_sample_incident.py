"""Done when: the sample incident collected from the providers' APIs through `ir collect`
traces exactly as the same records ingested from files.

The local servers (and moto's S3) are seeded with the sample incident's records: the
CloudTrail files and Salesforce's EventLogFile CSVs as they are, the Okta, GitHub and
Google records as the APIs list them, and Entra's sign-ins and directory audits as Graph
serves them (the sample holds their Azure Monitor export, whose `properties` are the
Graph records). The file case ingests those same records from files; the Graph activity
and M365 audit logs, which no collector fetches, come from the sample's files in both.
Every root of the ground truth then traces to the same document, event for event; only
the evidence pointers (file, record, file SHA-256) differ: a collected page is another
file than an export.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ir
from ir.cli import app
from tests.aws_moto import client
from tests.servers.base import FakeApi
from tests.servers.fixtures import settings

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs"
LOGS = SAMPLE / "logs"
ROOTS = list(json.loads((SAMPLE / "ground_truth.json").read_text())["scenarios"])
WINDOW = ["--since", "2026-08-25T00:00:00Z", "--until", "2026-09-15T00:00:00Z"]
NOT_COLLECTED = ["graph_activity", "m365_ual"]
runner = CliRunner()


def records(folder: str, key: str | None = None) -> list[dict[str, Any]]:
    """Every record of the sample's files under `folder` (arrays, wrappers or NDJSON)."""
    found: list[dict[str, Any]] = []
    for path in sorted((LOGS / folder).rglob("*.json*")):
        text = (
            gzip.decompress(path.read_bytes()).decode()
            if path.suffix == ".gz"
            else path.read_text()
        )
        try:
            document = json.loads(text)
        except json.JSONDecodeError:  # NDJSON
            found += [json.loads(line) for line in text.splitlines() if line.strip()]
            continue
        found += document if isinstance(document, list) else document[key or ""]
    return found


def graph(folder: str) -> list[dict[str, Any]]:
    return [r["properties"] for r in records(folder, "records")]


def seed(request: pytest.FixtureRequest, aws_env: str) -> dict[str, FakeApi]:
    apis: dict[str, FakeApi] = {
        name: request.getfixturevalue(f"{name}_api")
        for name in ("okta", "github", "entra", "google", "salesforce")
    }
    for api in apis.values():
        api.page_size = 40
    apis["okta"].logs = records("okta")  # type: ignore[attr-defined]
    apis["github"].audit = {"corp-eng": records("github")}  # type: ignore[attr-defined]
    apis["entra"].sign_ins = graph("entra_signin")  # type: ignore[attr-defined]
    apis["entra"].directory_audits = graph("entra_audit")  # type: ignore[attr-defined]
    apis["google"].activities = [  # type: ignore[attr-defined]
        a
        for app in ("drive", "login", "token")
        for a in records(f"google_workspace/{app}", "items")
    ]
    salesforce: Any = apis["salesforce"]
    salesforce.objects["EventLogFile"], salesforce.blobs = [], {}
    for csv in sorted((LOGS / "salesforce").rglob("*.csv")):
        salesforce.add_log_file(csv.stem, csv.parent.name, csv.read_bytes())
    s3 = client("s3")
    s3.create_bucket(Bucket="corp-trail")
    for path in sorted((LOGS / "aws_cloudtrail").rglob("*.json.gz")):
        key = path.relative_to(LOGS / "aws_cloudtrail").as_posix()
        s3.put_object(Bucket="corp-trail", Key=key, Body=path.read_bytes())
    return apis


def file_case(tmp_path: Path) -> Path:
    """The same records as files: the sample's own, Entra's as Graph pages."""
    folder = tmp_path / "files"
    for name in ("entra_signin", "entra_audit"):
        target = folder / name / "graph.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps({"value": graph(name)}))
    path = tmp_path / "files.duckdb"
    with ir.open_case(path) as case:
        kept = [p for p in sorted(LOGS.iterdir()) if p.name not in ("entra_signin", "entra_audit")]
        case.ingest(*kept, folder)
    return path


def ir_json(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_collected_incident_traces_as_the_same_records_from_files(
    request: pytest.FixtureRequest,
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apis = seed(request, aws_env)
    for api in apis.values():
        for name, value in settings(api).items():
            monkeypatch.setenv(name, value)
    collected = str(tmp_path / "collected.duckdb")
    out = str(tmp_path / "evidence")
    commands = [
        ["aws", "--s3", "s3://corp-trail/AWSLogs/"],
        ["okta"],
        ["github", "--org", "corp-eng"],
        ["entra"],
        ["google"],
        ["salesforce"],
    ]
    reports = [
        r
        for c in commands
        for r in ir_json(
            "collect", *c, *WINDOW, "--out", out, "--case", collected, "--format", "json"
        )
    ]
    assert all(r["rejected"] == 0 and not r["skipped"] for r in reports)
    not_collected = [str(LOGS / name) for name in NOT_COLLECTED]
    assert runner.invoke(app, ["ingest", *not_collected, "--case", collected]).exit_code == 0
    from_files = str(file_case(tmp_path))

    count = "SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"
    assert ir_json("sql", count, "--case", collected, "--format", "json") == ir_json(
        "sql", count, "--case", from_files, "--format", "json"
    )
    for root in ROOTS:
        traced = [
            ir_json("trace", root, "--case", c, "--format", "json") for c in (collected, from_files)
        ]
        for document in traced:
            for event in document["events"]:  # the file and its hash: another file
                del event["evidence"], event["evidence_sha256"]
        assert traced[0] == traced[1], root
        assert len(traced[0]["events"]) > 3
