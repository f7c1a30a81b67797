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


def test_trace_says_when_exposure_was_assumed_and_shows_the_ancestors(
    logs: Path, tmp_path: Path
) -> None:
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    status, out, _ = run("trace", "ASIACLITEST000000001", "--case", case, "--format", "json")
    document = json.loads(out)
    assert (status, document["leaked_at"], document["leaked_at_assumed"]) == (
        0,
        "2026-09-02T00:00:00Z",
        True,
    )
    assert document["exposure_basis"] == (
        "assumed: 24 h after the first recorded use of aws_access_key:AKIACLITEST000000001"
        " at 2026-09-01T00:00:00Z, which the traced credentials derive from"
    )
    assert [(a["id"], a["parent"]) for a in document["ancestors"]] == [
        ("aws_access_key:ASIACLITEST000000001", "aws_access_key:AKIACLITEST000000001")
    ]
    status, out, _ = run("trace", "ASIACLITEST000000001", "--case", case)
    text = " ".join(out.split())
    assert status == 0
    assert "exposure 2026-09-02T00:00:00Z (assumed: 24 h after the first recorded use" in text
    assert "set it with --leaked-at" in text
    assert "issued by (ancestors: context, not traced)" in text
    assert "aws_access_key:AKIACLITEST000000001" in text
    status, out, _ = run(
        "trace", "ASIACLITEST000000001", "--case", case, "--leaked-at", "2026-09-01T00:00:30Z"
    )
    assert "exposure 2026-09-01T00:00:30Z (given)" in out


def test_trace_ids_and_token_file_together_trace_every_lineage(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    token_file = tmp_path / "token.txt"
    token_file.write_text(SECRET + "\n")
    run("ingest", str(logs), "--case", case)
    arguments = ("trace", "AKIACLITEST000000001", "--token-file", str(token_file), "--case", case)
    status, out, _ = run(*arguments, "--format", "json")
    document = json.loads(out)
    assert status == 0
    assert document["query"] == ["AKIACLITEST000000001", f"github_token:{HASHED}"]
    assert [(c["id"], c["parent"]) for c in document["credentials"]] == [
        (f"github_token:{HASHED}", None),  # first seen first
        ("aws_access_key:AKIACLITEST000000001", None),
        ("aws_access_key:ASIACLITEST000000001", "aws_access_key:AKIACLITEST000000001"),
    ]
    assert {e["source_event_id"] for e in document["events"]} == {"e1", "e2", "g1", "g2"}
    status, out, _ = run(*arguments)
    tree = out[out.index("2 traced lineages") :].splitlines()[:4]
    assert status == 0 and SECRET not in out
    expected = [
        "2 traced lineages",
        "├── aws_access_key:AKIACLITEST000000001  ",
        "│   └── AssumeRole → aws_access_key:ASIACLITEST000000001  ",
        f"└── github_token:{HASHED}  ",
    ]
    assert [line[: len(start)] for line, start in zip(tree, expected, strict=True)] == expected


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
    commands = ["ingest", "sources", "stats", "rejects", "kinds", "trace", "impact", "hunt", "sql"]
    for command in commands:
        status, out, _ = run(command, "--help")
        assert status == 0 and "--case" in out, command
    for command in ("ingest", "trace", "impact", "sql"):
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


def test_ingest_sums_up_per_source_and_lists_only_files_with_problems(
    logs: Path, tmp_path: Path
) -> None:
    (logs / "notes.txt").write_text("this is not a log\n")
    (logs / "bad.ndjson").write_text(
        json.dumps(v.github("g9", 1788000000000, "git.clone", HASHED)) + "\n{broken\n"
    )
    case = str(tmp_path / "c.duckdb")
    status, out, _ = run("ingest", str(logs), "--case", case)
    lines = [" ".join(line.strip("│ ").split()) for line in out.splitlines()]
    assert status == 1
    assert "aws_cloudtrail │ 1 │ 0 │ 2 │ 2 │ 0 │ 0 │ 0" in lines
    assert "github │ 2 │ 0 │ 4 │ 3 │ 0 │ 1 │ 0" in lines
    assert "unrecognised │ 1 │ 0 │ 0 │ 0 │ 0 │ 0 │ 1" in lines
    assert "2 files with problems" in out
    assert "bad.ndjson" in out and "notes.txt" in out and "ct.json" not in out
    status, out, _ = run("ingest", str(logs), "--case", case, "--verbose")
    assert "ct.json" in out and "already in the case" in out
    assert "aws_cloudtrail" in out.split("ct.json")[1].split("\n")[0]  # its source, known


def test_sql_table_shows_the_first_thousand_rows_and_says_so(logs: Path, tmp_path: Path) -> None:
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(logs), "--case", case)
    result = runner.invoke(app, ["sql", "SELECT range AS n FROM range(2500)", "--case", case])
    cells = [line.strip("│ ") for line in result.stdout.splitlines() if line.startswith("│")]
    assert result.exit_code == 0 and cells[0] == "0" and cells[-1] == "999"
    assert len(cells) == 1000
    assert "showing the first 1,000 of 2,500 rows (1,500 left out)" in " ".join(
        result.stderr.split()
    )
    status, out, _ = run("sql", "SELECT range AS n FROM range(2500)", "--case", case, "-f", "csv")
    assert status == 0 and len(out.splitlines()) == 2501


def test_trace_table_shows_the_top_of_each_part(tmp_path: Path) -> None:
    key = "AKIAMANYEVENTS000001"
    records = [
        v.cloudtrail(f"m{n:03}", f"2026-09-01T{n // 60:02}:{n % 60:02}:00Z", "ListBuckets", key)
        for n in range(80)
    ]
    records.append(v.cloudtrail("late", "2026-09-05T00:00:00Z", "GetObject", key, ip="203.0.113.9"))
    v.write_cloudtrail(tmp_path / "logs" / "ct.json", records)
    case = str(tmp_path / "c.duckdb")
    run("ingest", str(tmp_path / "logs"), "--case", case)
    result = runner.invoke(app, ["trace", key, "--case", case])
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "events from new places or flagged first" in text and "50 of 81" in text
    assert result.stdout.count("ListBuckets") == 49 and "GetObject" in result.stdout
    assert "--format json or csv for all" in result.stderr
    status, out, _ = run("trace", key, "--case", case, "-f", "csv")
    assert status == 0 and len(out.splitlines()) == 1 + 81
