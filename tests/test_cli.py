"""The command line as users and scripts meet it: formats, exit codes, schemas, secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ir.cli import app
from tests import vendor_records as v

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = json.loads((Path(__file__).parent / "contract" / "schemas.json").read_text())
SHARED_SCHEMAS = REPO.parent / "shared" / "design" / "schemas.json"
SECRET = "ghp_" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
HASHED = base64.b64encode(hashlib.sha256(SECRET.encode()).digest()).decode()

runner = CliRunner()


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    v.write_cloudtrail(
        folder / "ct.json",
        [
            v.cloudtrail("e1", "2026-09-01T00:00:00Z", "ListBuckets", "AKIACLITEST000000001"),
            v.assume_role(
                "e2", "2026-09-01T00:01:00Z", "AKIACLITEST000000001", "ASIACLITEST000000001"
            ),
        ],
    )
    v.write_ndjson(
        folder / "gh.ndjson",
        [
            v.github("g1", 1788000000000, "git.clone", HASHED),
            v.github("g2", 1788000060000, "api.request", HASHED),
        ],
    )
    return folder


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_vendored_schemas_match_the_contract() -> None:
    if not SHARED_SCHEMAS.exists():
        pytest.skip("../shared/design is not beside this checkout")
    assert json.loads(SHARED_SCHEMAS.read_text()) == SCHEMAS


def test_ingest_json_follows_the_contract(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    status, out, _ = run("ingest", str(logs), "--case", case, "--format", "json")
    assert status == 0
    reports = json.loads(out)
    jsonschema.validate(reports, SCHEMAS["ingest"])
    assert [(Path(r["file"]).name, r["source"], r["records"], r["loaded"]) for r in reports] == [
        ("ct.json", "aws_cloudtrail", 2, 2),
        ("gh.ndjson", "github", 2, 2),
    ]
    status, out, _ = run("ingest", str(logs), "--case", case, "--format", "json")
    assert [r["skipped"] for r in json.loads(out)] == [True, True]


def test_ingest_names_the_unreadable_file_and_loads_the_rest(logs: Path, tmp_path: Path) -> None:
    (logs / "notes.txt").write_text("this is not a log\n")
    status, out, err = run(
        "ingest", str(logs), "--case", str(tmp_path / "c.duckdb"), "--format", "json"
    )
    assert status == 1
    assert "notes.txt: the content is neither JSON nor CSV" in " ".join(err.split())
    assert sum(r["loaded"] for r in json.loads(out)) == 4


def test_trace_json_validates_and_exit_3_when_nothing(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    status, out, _ = run("trace", "AKIACLITEST000000001", "--case", case, "--format", "json")
    assert status == 0
    document = json.loads(out)
    jsonschema.validate(document, SCHEMAS["trace"])
    assert document["root"] == "aws_access_key:AKIACLITEST000000001"
    assert [c["id"] for c in document["credentials"]] == [
        "aws_access_key:AKIACLITEST000000001",
        "aws_access_key:ASIACLITEST000000001",
    ]
    status, _, err = run("trace", "aws_access_key:AKIANOTHERE000000001", "--case", case)
    assert status == 3
    assert "no event" in err and "AKIANOTHERE000000001" in err


def test_trace_csv_is_the_event_rows(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    status, out, _ = run(
        "trace", "aws_access_key:AKIACLITEST000000001", "--case", case, "--format", "csv"
    )
    lines = out.strip().splitlines()
    assert status == 0 and lines[0].startswith("time,source,source_event_id,action,actor")
    assert len(lines) == 1 + 3  # e1 used, e2 used + issued


def test_secret_never_leaves_memory(logs: Path, tmp_path: Path) -> None:
    """The raw token, given by file and by stdin, appears in no output and not in the case."""
    case = tmp_path / "c.duckdb"
    token_file = tmp_path / "token.txt"
    token_file.write_text(SECRET + "\n")
    run("ingest", str(logs), "--case", str(case))
    outputs = []
    for fmt in ("table", "json", "csv"):
        outputs.append(
            run("trace", "--token-file", str(token_file), "--case", str(case), "--format", fmt)
        )
        outputs.append(
            run("trace", "--token-file", "-", "--case", str(case), "--format", fmt, stdin=SECRET)
        )
    outputs.append(run("trace", SECRET, "--case", str(case)))  # pasted as an id by mistake
    outputs.append(
        run("trace", "--token-file", "-", "--case", str(case), stdin=SECRET[:-3] + "!!!")
    )
    assert [o[0] for o in outputs] == [0, 0, 0, 0, 0, 0, 2, 3]
    assert f"github_token:{HASHED}" in outputs[2][1]
    for _status, out, err in outputs:
        assert SECRET not in out and SECRET not in err and SECRET[:-3] not in out + err
    assert SECRET.encode() not in case.read_bytes()


def test_unrecognised_token_lists_what_is_recognised(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    status, _, err = run("trace", "--token-file", "-", "--case", case, stdin="hunter2-not-a-token")
    assert status == 2
    assert "GitHub tokens" in err and "hunter2" not in err


def test_sql_is_read_only(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    status, out, _ = run(
        "sql",
        "SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
        "--case",
        case,
        "-f",
        "json",
    )
    assert status == 0 and json.loads(out) == [
        {"source": "aws_cloudtrail", "n": 2},
        {"source": "github", "n": 2},
    ]
    status, _, err = run("sql", "DELETE FROM events", "--case", case)
    assert status == 1 and "read-only" in err


def test_stats_kinds_sources_rejects(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    (logs / "bad.ndjson").write_text(
        json.dumps(v.github("g9", 1788000000000, "git.clone", None)) + "\n{broken\n"
    )
    run("ingest", str(logs), "--case", case)
    stats = json.loads(run("stats", "--case", case, "-f", "json")[1])
    assert [(s["source"], s["events"], s["rejected"]) for s in stats] == [
        ("aws_cloudtrail", 2, 0),
        ("github", 3, 1),
    ]
    kinds = {k["kind"]: k for k in json.loads(run("kinds", "--case", case, "-f", "json")[1])}
    assert (kinds["aws_access_key"]["credentials"], kinds["github_token"]["references"]) == (2, 2)
    sources = json.loads(run("sources", "--case", case, "-f", "json")[1])
    assert [s["source"] for s in sources][:3] == ["aws_cloudtrail", "okta", "github"]
    rejects = json.loads(run("rejects", "--case", case, "-f", "json")[1])
    assert [(Path(r["file"]).name, r["record_no"]) for r in rejects] == [("bad.ndjson", 2)]
    assert rejects[0]["reason"].startswith("not valid JSON")


def test_every_command_has_help_with_an_example_or_summary() -> None:
    commands = ["ingest", "sources", "stats", "rejects", "kinds", "trace", "hunt", "sql"]
    for command in commands:
        status, out, _ = run(command, "--help")
        assert status == 0 and "--case" in out, command
    for command in ("ingest", "trace", "sql"):
        assert "Example: ir " in run(command, "--help")[1]


def test_console_script_runs_in_a_fresh_process(logs: Path, tmp_path: Path) -> None:
    ir_bin = Path(sys.executable).parent / "ir"
    result = subprocess.run(
        [
            str(ir_bin),
            "ingest",
            str(logs),
            "--case",
            str(tmp_path / "c.duckdb"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2
