"""No tracebacks (issue 25): every command, given bad paths and bad values, ends in one
line on stderr and a documented exit status; Ctrl-C during an ingest exits 130 and the
case keeps what was committed.

Bad paths are the ones responders type: a case that does not exist, a folder or a text
file where the case belongs, output onto a folder or under a file, input that is not
there. (The tests run as root, so "unwritable" is a path under a file or in /proc.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ir
from ir.cli import app, playbook
from ir.synth import generate
from tests import vendor_records as v

IR = Path(sys.executable).parent / "ir"
ROOT = "aws_access_key:AKIABADPATH000000001"
INTERRUPTED = "interrupted; the case holds the batches finished so far, re-run to complete"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small case, and every kind of wrong path next to it."""
    folder = tmp_path_factory.mktemp("bad")
    logs = folder / "logs"
    v.write_cloudtrail(
        logs / "ct.json", [v.cloudtrail("e1", "2026-09-01T00:00:00Z", "ListBuckets", ROOT[15:])]
    )
    case = folder / "case.duckdb"
    assert CliRunner().invoke(app, ["ingest", str(logs), "--case", str(case)]).exit_code == 0
    text = folder / "notes.txt"
    text.write_text("not a case\n")
    data = folder / "export.json"  # DuckDB would open it as an in-memory database reading it
    data.write_text('[{"a": 1}]')
    (folder / "full").mkdir()
    (folder / "full" / "x").write_text("x")
    return {
        "case": case,
        "logs": logs,
        "missing": folder / "missing.duckdb",
        "folder": folder / "full",
        "text": text,
        "data": data,
        "under_file": text / "sub" / "out.txt",
        "proc": Path("/proc/ir-cannot-write-here/out"),
        "evidence": logs / "ct.json",
    }


def bad_invocations(w: dict[str, Path]) -> list[tuple[list[str], int, str]]:
    """(arguments, exit status, what the one line must say)."""
    case = ["--case", str(w["case"])]
    read_commands = [
        ["stats"],
        ["rejects"],
        ["credentials"],
        ["hunt"],
        ["coverage"],
        ["sql", "SELECT 1"],
        ["trace", ROOT],
        ["impact", ROOT],
        ["timeline"],
        ["verify-evidence"],
        ["show", "aws_cloudtrail:e1"],
        ["export", "--parquet", str(w["folder"].parent / "new-export")],
        ["playbook", "status"],
        ["playbook", "verify"],
    ]
    runs: list[tuple[list[str], int, str]] = []
    for command in read_commands:
        runs.append(([*command, "--case", str(w["missing"])], 1, "no such case file"))
        runs.append(([*command, "--case", str(w["folder"])], 1, "cannot open the case file"))
        runs.append(([*command, "--case", str(w["text"])], 1, "not a DuckDB database"))
    for command in read_commands:
        runs.append(([*command, "--case", str(w["data"])], 1, "not a DuckDB database"))
    writers = (
        ["ingest", str(w["logs"])],
        ["forget", str(w["evidence"])],
        ["playbook", "plan", ROOT],
    )
    for command in (*writers, ["sources"], ["kinds"]):
        runs.append(([*command, "--case", str(w["folder"])], 1, "cannot open the case file"))
        runs.append(([*command, "--case", str(w["text"])], 1, "not a DuckDB database"))
        runs.append(([*command, "--case", str(w["data"])], 1, "not a DuckDB database"))
    runs.append((["forget", str(w["evidence"]), "--case", str(w["missing"])], 1, "no such case"))
    runs.append((["playbook", "plan", ROOT, "--case", str(w["missing"])], 1, "no such case"))
    runs += [
        (["ingest", str(w["logs"]), "--case", str(w["under_file"])], 1, "cannot open"),
        (["ingest", str(w["folder"].parent / "nothing-here"), *case], 1, "no such file"),
        (["ingest", str(w["logs"]), "--mappings", str(w["folder"] / "nope"), *case], 2, "nope"),
        (["show", f"{w['evidence']}#0", *case], 2, "record numbers start at 1"),
        (["show", f"{w['evidence']}#9", *case], 1, "no such record"),
        (["show", "nowhere.json#1", *case], 3, "no event"),
        (["trace", "--token-file", str(w["folder"] / "nope"), *case], 2, "cannot read"),
        (["trace", "--token-file", str(w["folder"]), *case], 2, "cannot read"),
        (["impact", "--token-file", str(w["folder"] / "nope"), *case], 2, "cannot read"),
        (["trace", "kind:", *case], 2, "the value is empty"),
        (["trace", "aws_access_key:", *case], 2, "nothing after 'aws_access_key:'"),
        (
            ["timeline", "--root", ROOT, "--format", "md", "--out", str(w["folder"]), *case],
            2,
            "a folder",
        ),
        (["timeline", "--out", str(w["under_file"]), *case], 1, "Not a directory"),
        (["timeline", "--out", str(w["proc"]), *case], 1, "No such file or directory"),
        (["timeline", "--since", "2026-09-05", "--until", "2026-09-04", *case], 2, "empty"),
        (["timeline", "--since", "yesterday-ish", *case], 2, "not a time"),
        (["export", "--parquet", str(w["text"]), *case], 1, "a file, not a folder"),
        (["export", "--parquet", str(w["folder"]), *case], 1, "not empty"),
        (["export", "--parquet", str(w["proc"]), *case], 1, "No such file or directory"),
        (["export", "--parquet", str(w["under_file"]), *case], 1, "Not a directory"),
        (["synth", str(w["folder"] / "new"), "--events", "-5"], 2, "greater than or equal"),
        (["synth", str(w["folder"])], 1, "already holds files"),
        (["synth", str(w["text"])], 1, "already holds files"),
        (["sql", "SELECT * FROM no_such_table", *case], 1, "query failed"),
        (["credentials", "--since", "2026-13-45", *case], 2, "not a time"),
        (["trace", "--ip", "not-an-ip", *case], 2, "not an IP address"),
        (["trace", "--actor", "nobody-at-all", *case], 3, "no credential"),
        (["forget", str(w["folder"] / "never-ingested.json"), *case], 3, "no evidence file"),
        (["playbook", "plan", ROOT, *case, "--out", str(w["proc"])], 1, "No such file"),
        (["playbook", "run", str(w["folder"] / "no-plan.json"), *case], 2, "cannot read the plan"),
        (["playbook", "run", str(w["folder"]), *case], 2, "cannot read the plan"),
        (["playbook", "run", str(w["text"]), *case], 2, "not a JSON plan"),
        (["playbook", "verify", str(w["text"]), *case], 2, "not a JSON plan"),
        (["collect", "okta", "--case", str(w["folder"])], 1, "cannot open the case file"),
        (["collect", "okta", "--case", str(w["text"])], 1, "not a DuckDB database"),
        (["collect", "jira", *case], 2, "no collector for 'jira'"),
        (["collect", "okta", "--since", "soon", *case], 2, "not a time"),
        (["collect", "aws", *case], 2, "give --s3 s3://BUCKET"),
        (["collect", "github", *case], 2, "give --org ORG or --enterprise SLUG"),
    ]
    return runs


def test_every_command_with_bad_paths_says_one_line(world: dict[str, Path]) -> None:
    runner = CliRunner()
    commands = set()
    for arguments, status, says in bad_invocations(world):
        result = runner.invoke(app, arguments)
        commands.add(" ".join(arguments[:2]) if arguments[0] == "playbook" else arguments[0])
        shown = " ".join(arguments)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            shown,
            result.exception,
        )
        assert "Traceback" not in result.output, shown
        assert result.exit_code == status, (shown, result.output)
        assert says in " ".join(result.stderr.split()), (shown, result.stderr)
        if status != 2 or arguments[0] != "synth":  # usage errors of typer draw a box
            assert len(result.stderr.strip().splitlines()) == 1, (shown, result.stderr)
    every = {c.name for c in app.registered_commands if c.name} | {
        c.callback.__name__.replace("_", "-")
        for c in app.registered_commands
        if c.name is None and c.callback
    }
    every |= {
        f"playbook {c.name or (c.callback.__name__ if c.callback else '')}"
        for c in playbook.app.registered_commands
    }
    assert every - {"show-record", "playbook"} <= commands | {"show"}, every - commands


def test_trace_json_with_no_match_is_an_empty_document(world: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        app,
        [
            "trace",
            "aws_access_key:AKIANOTHERE000000001",
            "--case",
            str(world["case"]),
            "-f",
            "json",
        ],
    )
    document = json.loads(result.stdout)
    assert result.exit_code == 3
    assert document["query"] == ["aws_access_key:AKIANOTHERE000000001"]
    assert [document[k] for k in ("credentials", "events", "places", "ancestors")] == [[]] * 4
    csv = CliRunner().invoke(
        app,
        ["trace", "aws_access_key:AKIANOTHERE000000001", "--case", str(world["case"]), "-f", "csv"],
    )
    assert csv.exit_code == 3 and csv.stdout.startswith("time,source,source_event_id")
    assert len(csv.stdout.splitlines()) == 1


def test_timeline_out_creates_missing_folders(world: dict[str, Path]) -> None:
    out = world["folder"].parent / "reports" / "day1" / "report.md"
    result = CliRunner().invoke(
        app,
        ["timeline", "--root", ROOT, "-f", "md", "--out", str(out), "--case", str(world["case"])],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Breach report: aws\\_access\\_key:AKIABADPATH000000001")


def test_synth_says_how_many_events_it_wrote(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", str(tmp_path / "incident"), "--events", "10"])
    written = json.loads((tmp_path / "incident" / "ground_truth.json").read_text())["events"]
    assert result.exit_code == 0 and written > 10
    assert f"wrote {written} events, not 10" in " ".join(result.stderr.split())


def test_ctrl_c_during_ingest_exits_130_and_a_rerun_completes(tmp_path: Path) -> None:
    """SIGINT to the real console script while it loads a synthetic incident."""
    truth = generate(tmp_path / "incident", events=40_000, seed=5)
    case = tmp_path / "case.duckdb"
    command = [str(IR), "ingest", str(tmp_path / "incident"), "--case", str(case)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    deadline = time.monotonic() + 60
    while not case.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # the schema is written; the batches are loading
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Query interrupted" not in err
    assert " ".join(err.split()) == f"error: {INTERRUPTED}"
    rerun = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, env=_env(), check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    stats = CliRunner().invoke(app, ["stats", "--case", str(case), "-f", "json"])
    assert sum(row["events"] for row in json.loads(stats.stdout)) == truth.events


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200"}


def test_a_reader_that_closes_the_pipe_early_gets_no_error(world: dict[str, Path]) -> None:
    """`ir … | head`: the reader had enough; ir ends without a line or a traceback."""
    query = "SELECT range AS n FROM range(1000000)"
    command = [str(IR), "sql", query, "-f", "csv", "--case", str(world["case"])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    process.wait(timeout=60)
    assert process.stderr.read().decode() == ""


def test_a_data_file_given_as_the_case_is_refused_not_read_in_memory(tmp_path: Path) -> None:
    """DuckDB would open an existing JSON/CSV file as an in-memory database that reads it:
    an ingest there would write nowhere. The case refuses it and leaves it as it was."""
    data = tmp_path / "export.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(ir.store.CaseError, match="not a DuckDB database"):
        ir.open_case(data)
    assert data.read_text() == "a,b\n1,2\n"
