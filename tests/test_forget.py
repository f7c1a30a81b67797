"""Undoing an ingest (issue 25): files no source matched stay named in the case (`ir stats`,
`ir rejects`), `ir ingest --force FILE` re-maps a file already in the case and `ir forget
FILE` takes it out — each with every row it brought, in every table keyed by its events
or by the file, journaled (kind `case`), and safe to run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

import ir
from ir import store
from ir.cli import app
from tests import vendor_records as v

runner = CliRunner()
KEY = "AKIAFORGETEXAMPLE001"
OTHER = "AKIAKEEPEXAMPLE00001"
MAPPING = """
source = "acme_idp"
[detect]
keys = ["$.activityId"]
[event]
source_event_id = "$.activityId"
time = "$.at"
[[kinds]]
name = "acme_session"
vendor = "Acme"
value = "session id as logged"
[[credentials]]
kind = "acme_session"
relation = "used"
value = "$.{field}"
"""
ACME = [
    {"activityId": "a-1", "at": "2026-09-01T00:00:00Z", "session": "s-1", "sid": "real-1"},
    {"activityId": "a-2", "at": "2026-09-01T01:00:00Z", "session": "s-1", "sid": "real-2"},
]
PER_FILE_TABLES = ["events", "credential_refs", "event_hours", "rejects", "event_resources"]


def invoke(*arguments: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(arguments), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Two CloudTrail files (one to forget, one to keep), a file no source knows."""
    folder = tmp_path / "logs"
    v.write_cloudtrail(
        folder / "forget.json",
        [
            v.cloudtrail("f1", "2026-09-01T00:00:00Z", "ListBuckets", KEY),
            v.cloudtrail("f2", "2026-09-01T02:00:00Z", "GetObject", KEY),
        ],
    )
    v.write_cloudtrail(
        folder / "keep.json", [v.cloudtrail("k1", "2026-09-02T00:00:00Z", "ListUsers", OTHER)]
    )
    (folder / "mystery.json").write_text(json.dumps([{"what": "not a vendor record"}]))
    return folder


def rows_per_table(case: str) -> dict[str, int]:
    """Rows of each per-file table, and of `notes` (a table of a user's, keyed by event)."""
    with duckdb.connect(case, read_only=True) as connection:
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            if table in tables
            else 0
            for table in [*PER_FILE_TABLES, "evidence_files", "unloaded_files", "notes"]
        }


def journal(case: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(case, read_only=True) as connection:
        return connection.execute(
            "SELECT kind, action, ref, request, status, detail, target FROM journal ORDER BY time"
        ).fetchall()


def test_a_file_no_source_matched_stays_named_in_stats_and_rejects(
    logs: Path, tmp_path: Path
) -> None:
    case = str(tmp_path / "case.duckdb")
    status, _, err = invoke("ingest", str(logs), "--case", case)
    assert status == 1 and "use --source NAME, or --mappings FOLDER" in one_line(err)
    # Later, the terminal long scrolled: stats and rejects still name it.
    status, out, _ = invoke("stats", "--case", case, "-f", "json")
    stats = {row["source"]: row for row in json.loads(out)}
    assert status == 0 and list(stats) == ["aws_cloudtrail", "unrecognised"]
    assert (stats["unrecognised"]["files"], stats["unrecognised"]["files_not_loaded"]) == (0, 1)
    assert (stats["aws_cloudtrail"]["files"], stats["aws_cloudtrail"]["events"]) == (2, 3)
    status, out, _ = invoke("rejects", "--case", case, "-f", "json")
    (reject,) = json.loads(out)
    assert reject["file"] == str((logs / "mystery.json").absolute())
    assert reject["record_no"] is None and reject["source"] is None
    assert "--source NAME, or --mappings FOLDER" in reject["reason"]
    # Ingested again unchanged, it stays one row; loaded at last (a mapping), it leaves.
    assert invoke("ingest", str(logs), "--case", case)[0] == 1
    assert rows_per_table(case)["unloaded_files"] == 1
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "what.toml").write_text(
        'source = "what_log"\n[detect]\nkeys = ["$.what"]\n[event]\ntime = "$.when"\n'
    )
    status, _, _ = invoke(
        "ingest", str(logs / "mystery.json"), "--mappings", str(mappings), "--case", case
    )
    assert status == 1  # its one record has no time: read as what_log, nothing loaded
    stats = {
        row["source"]: row for row in json.loads(invoke("stats", "--case", case, "-f", "json")[1])
    }
    assert "unrecognised" not in stats
    assert (stats["what_log"]["files"], stats["what_log"]["rejected"]) == (1, 1)


def test_ingest_force_re_maps_a_file_and_replaces_every_row_of_it(tmp_path: Path) -> None:
    """A mapping read the wrong field: --force with the fixed one replaces the file's
    events and credential refs (and rejects, hours, resources, any table keyed by its
    events), in one transaction, journaled; the other files' rows stay."""
    logs = tmp_path / "acme.ndjson"
    v.write_ndjson(logs, ACME)
    wrong, fixed = tmp_path / "wrong", tmp_path / "fixed"
    for folder, field in ((wrong, "session"), (fixed, "sid")):
        folder.mkdir()
        (folder / "acme.toml").write_text(MAPPING.format(field=field))
    other = v.write_cloudtrail(
        tmp_path / "ct.json", [v.cloudtrail("k1", "2026-09-02T00:00:00Z", "ListUsers", OTHER)]
    )
    case = str(tmp_path / "case.duckdb")
    assert invoke("ingest", str(logs), str(other), "--mappings", str(wrong), "--case", case)[0] == 0
    with ir.open_case(case) as opened:
        opened.sql("CREATE TABLE notes (event_key BIGINT, note VARCHAR)")
        opened.sql("INSERT INTO notes SELECT event_key, 'seen' FROM events")
        opened.sql(
            "INSERT INTO event_resources SELECT event_key, 'bucket', 'b', NULL, 'read' FROM events"
        )
    before = rows_per_table(case)
    assert before["notes"] == 3 and before["event_resources"] == 3

    for run in (1, 2):  # safe to re-run: the same rows, one more journal entry
        status, out, _ = invoke(
            "ingest", str(logs), "--force", "--mappings", str(fixed), "--case", case, "-f", "json"
        )
        (report,) = json.loads(out)
        assert status == 0 and (report["loaded"], report["skipped"]) == (2, False)
        assert report["replaced"] == (
            "2 events, 2 credential_refs, 2 event_hours, 2 event_resources, 2 notes (acme_idp)"
            if run == 1
            else "2 events, 2 credential_refs, 2 event_hours (acme_idp)"
        )
        with ir.open_case(case, read_only=True) as opened:
            refs = opened.sql("SELECT credential FROM credential_refs ORDER BY 1")["credential"]
            files = opened.sql(
                "SELECT source, count(*) AS n FROM evidence_files GROUP BY 1 ORDER BY 1"
            )
        assert refs.tolist() == [
            "acme_session:real-1",
            "acme_session:real-2",
            f"aws_access_key:{OTHER}",
        ]
        assert files.values.tolist() == [["acme_idp", 1], ["aws_cloudtrail", 1]]
        after = rows_per_table(case)
        assert (after["events"], after["notes"], after["event_resources"]) == (3, 1, 1)
    entries = journal(case)
    assert [(e[0], e[1], e[2], e[3], e[4]) for e in entries] == [
        ("case", "reingest", str(logs.absolute()), "ir ingest --force (read as acme_idp)", "done")
    ] * 2
    assert entries[0][6].startswith("sha256:") and "2 events" in entries[0][5]
    traced = invoke("trace", "acme_session:real-1", "--case", case, "-f", "json")
    assert traced[0] == 0 and len(json.loads(traced[1])["events"]) == 1
    assert invoke("trace", "acme_session:s-1", "--case", case)[0] == 3  # the wrong id is gone


def test_ingest_force_with_the_right_source_after_a_wrong_one(logs: Path, tmp_path: Path) -> None:
    """Read as Okta every record is rejected (exit 1); --force as CloudTrail loads them and
    takes the rejects out; a --force of a file not in the case is a plain ingest."""
    case = str(tmp_path / "case.duckdb")
    target = str(logs / "forget.json")
    status, _, err = invoke("ingest", target, "--source", "okta", "--case", case)
    assert status == 1 and "none of its 2 records could be loaded" in one_line(err)
    assert rows_per_table(case)["rejects"] == 2
    status, out, _ = invoke("ingest", target, "--force", "--case", case)
    assert status == 0 and "1 files read again (--force)" in one_line(out)
    assert "replaced 2 rejects (okta)" in one_line(out)
    counts = rows_per_table(case)
    assert (counts["events"], counts["rejects"], counts["evidence_files"]) == (2, 0, 1)
    status, out, _ = invoke(
        "ingest", str(logs / "keep.json"), "--force", "--case", case, "-f", "json"
    )
    assert status == 0 and "replaced" not in json.loads(out)[0]
    assert [e[1] for e in journal(case)] == ["reingest"]


def test_forget_takes_a_file_and_its_rows_out_and_is_safe_to_repeat(
    logs: Path, tmp_path: Path
) -> None:
    case = str(tmp_path / "case.duckdb")
    invoke("ingest", str(logs / "keep.json"), "--case", case)
    empty = rows_per_table(case) | {"notes": 0}
    invoke("ingest", str(logs), "--case", case)
    with ir.open_case(case) as opened:
        opened.sql("CREATE TABLE notes (event_key BIGINT, note VARCHAR)")
        opened.sql("INSERT INTO notes SELECT event_key, 'x' FROM events WHERE file_id = 2")
    status, out, _ = invoke("forget", str(logs / "forget.json"), "--case", case, "-f", "json")
    (forgotten,) = json.loads(out)
    assert status == 0 and forgotten["file"] == str((logs / "forget.json").absolute())
    assert (forgotten["events"], forgotten["credential_refs"], forgotten["event_hours"]) == (
        2,
        2,
        2,
    )
    assert rows_per_table(case) == empty | {"unloaded_files": 1}
    status, out, _ = invoke("forget", str(logs / "forget.json"), "--case", case)
    assert status == 0 and "already forgotten" in one_line(out)
    status, _, err = invoke("forget", str(tmp_path / "never.json"), "--case", case)
    assert status == 3 and "no evidence file in the case has that path or content" in one_line(err)
    # The file no source matched, by its content's SHA-256; then the whole folder.
    with duckdb.connect(case, read_only=True) as connection:
        ((sha256,),) = connection.execute("SELECT sha256 FROM unloaded_files").fetchall()
    assert invoke("forget", sha256, "--case", case)[0] == 0
    assert invoke("forget", str(logs), "--case", case)[0] == 0
    assert rows_per_table(case) == {table: 0 for table in empty}
    actions = [(e[0], e[1], Path(e[2]).name) for e in journal(case)]
    assert actions == [
        ("case", "forget", "forget.json"),
        ("case", "forget", "mystery.json"),
        ("case", "forget", "keep.json"),
    ]
    status, out, _ = invoke("coverage", "--case", case, "-f", "json")
    assert status == 0 and json.loads(out) == []  # what the case can see was worked out again


def test_forget_names_later_files_that_counted_its_events_as_duplicates(
    logs: Path, tmp_path: Path
) -> None:
    """The same events delivered twice: forgetting the first copy says which file holds the
    other; --force on that file loads them again."""
    case = str(tmp_path / "case.duckdb")
    again = tmp_path / "again.ndjson"
    v.write_ndjson(again, [v.cloudtrail("f1", "2026-09-01T00:00:00Z", "ListBuckets", KEY)])
    invoke("ingest", str(logs / "forget.json"), str(again), "--case", case)
    status, _, err = invoke("forget", str(logs / "forget.json"), "--case", case)
    assert status == 0 and f"{again.absolute()}: counted duplicates at ingest" in one_line(err)
    assert rows_per_table(case)["events"] == 0
    invoke("ingest", str(again), "--force", "--case", case)
    assert rows_per_table(case)["events"] == 1


def test_forget_in_a_notebook_returns_what_left(logs: Path, tmp_path: Path) -> None:
    with ir.open_case(tmp_path / "case.duckdb") as case:
        case.ingest(logs)
        (removed,) = case.forget(logs / "keep.json")
        assert (removed.source, removed.rows["events"], removed.already) == (
            "aws_cloudtrail",
            1,
            None,
        )
        assert case.sql("SELECT count(*) AS n FROM events")["n"][0] == 2
        with pytest.raises(ir.errors.NotFound):
            case.forget(tmp_path / "nothing.json")


def test_a_case_of_schema_6_gains_the_unloaded_files_table(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    with ir.open_case(path):
        pass
    with duckdb.connect(str(path)) as connection:
        connection.execute("DROP TABLE unloaded_files")
        connection.execute("UPDATE case_meta SET value = '6' WHERE key = 'schema_version'")
    status, _, _ = invoke("ingest", str(logs), "--case", str(path))
    assert status == 1
    with duckdb.connect(str(path), read_only=True) as connection:
        version = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'")
        assert version.fetchall() == [(str(store.SCHEMA_VERSION),)]
        assert connection.execute("SELECT count(*) FROM unloaded_files").fetchall() == [(1,)]
