"""Concurrent responders and damaged case files, with real `ir` processes.

DuckDB allows one writing process and, while it writes, no readers. So a second
`ir` (ingest or trace) waits for the lock with one line on stderr saying why,
up to IR_LOCK_TIMEOUT seconds, and then works or names the holder. A case of an
older schema is migrated in one transaction; a newer one, a damaged one, or a
DuckDB file that is no case is refused in one line, never with a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import ir
import ir.store
from ir.store import CaseError, Migration
from tests import vendor_records as v

IR = str(Path(sys.executable).parent / "ir")
HOLD = """
import sys, ir
case = ir.open_case(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
case.close()
"""
KEY = "AKIACONCURRENT000001"


def trail(folder: Path, name: str, count: int, prefix: str) -> Path:
    """A CloudTrail NDJSON file of `count` calls made with KEY."""
    return v.write_ndjson(
        folder / name,
        [
            v.cloudtrail(
                f"{prefix}-{n}",
                f"2026-09-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "GetObject",
                KEY,
            )
            for n in range(count)
        ],
    )


def ir_process(*args: str, timeout: str = "30") -> subprocess.Popen[str]:
    env = {**os.environ, "IR_LOCK_TIMEOUT": timeout}
    return subprocess.Popen(
        [IR, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def await_line(process: subprocess.Popen[str], text: str) -> str:
    """Block until the process writes a stderr line holding `text` (no sleeping on a guess:
    a loaded machine may take seconds to start Python)."""
    assert process.stderr
    seen = []
    while line := process.stderr.readline():
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"no {text!r} on stderr: {''.join(seen)!r}")


class Holder:
    """Another process holding the case open for writing, as a running ingest does."""

    def __init__(self, case: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(case)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout and self.process.stdout.readline().strip() == "holding"

    def release(self) -> None:
        assert self.process.stdin
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.wait(timeout=30) == 0


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_second_ingest_waits_for_the_lock_says_why_and_lands(tmp_path: Path) -> None:
    case = tmp_path / "case.duckdb"
    ir.open_case(case).close()
    holder = Holder(case)
    ingest = ir_process("ingest", str(trail(tmp_path, "a.ndjson", 50, "a")), "--case", str(case))
    waiting = await_line(ingest, "waiting up to 30 s")
    assert ingest.poll() is None  # still waiting
    holder.release()
    status, _, rest = finish(ingest)
    err = waiting + rest
    assert status == 0, err
    assert f"another process (PID {holder.process.pid}) is writing the case" in err
    assert "waiting up to 30 s" in err
    with ir.open_case(case, read_only=True) as opened:
        assert opened.sql("SELECT count(*) AS n FROM events")["n"][0] == 50


def test_trace_during_a_write_names_the_holder_when_it_gives_up(tmp_path: Path) -> None:
    case = tmp_path / "case.duckdb"
    with ir.open_case(case) as opened:
        opened.ingest(trail(tmp_path, "a.ndjson", 5, "a"))
    holder = Holder(case)
    try:
        started = time.monotonic()
        status, out, err = finish(ir_process("trace", KEY, "--case", str(case), timeout="1"))
        assert status == 1 and out == "" and time.monotonic() - started < 20
        line = one_line_error(err.replace("waiting up to 1 s for it to finish…\n", "…"))
        assert f"another process (PID {holder.process.pid}) still holds the case file" in line
        assert "waited 1 s" in line and "IR_LOCK_TIMEOUT" in line
        tracing = ir_process("trace", KEY, "--case", str(case), "-f", "json")
        waiting = await_line(tracing, "waiting up to 30 s")
    finally:
        holder.release()
    status, out, err = finish(tracing)
    assert status == 0 and "waiting up to 30 s" in waiting, err
    assert len(json.loads(out)["events"]) == 5


def test_two_ingests_at_once_both_land(tmp_path: Path) -> None:
    case = tmp_path / "case.duckdb"
    first = ir_process("ingest", str(trail(tmp_path, "a.ndjson", 20000, "a")), "--case", str(case))
    time.sleep(0.3)
    second = ir_process("ingest", str(trail(tmp_path, "b.ndjson", 300, "b")), "--case", str(case))
    results = [finish(first), finish(second)]
    assert [status for status, _, _ in results] == [0, 0], results
    with ir.open_case(case, read_only=True) as opened:
        files = opened.sql("SELECT path, loaded FROM evidence_files ORDER BY path")
        events = opened.sql("SELECT count(*) AS n FROM events")["n"][0]
    assert [(Path(p).name, n) for p, n in files.values.tolist()] == [
        ("a.ndjson", 20000),
        ("b.ndjson", 300),
    ]
    assert events == 20300


def assert_whole_files(case: Path) -> None:
    """Each file in the case holds all its events; a case killed before its schema was
    committed holds nothing yet."""
    with ir.open_case(case) as opened:
        files = opened.sql(
            """SELECT f.loaded, (SELECT count(*) FROM events e WHERE e.file_id = f.file_id)
               AS events FROM evidence_files f"""
        )
    assert files["loaded"].tolist() == files["events"].tolist()
    assert set(files["loaded"]) <= {20000}


def test_an_ingest_killed_midway_leaves_a_case_that_opens_and_completes(tmp_path: Path) -> None:
    """All or nothing per batch: a kill -9 at any moment never leaves half a file in the
    case, and ingesting again completes it. Three layouts are three batches, so some
    kills land between them."""
    logs = tmp_path / "logs"
    trail(tmp_path, "all.ndjson", 60000, "t")
    records = [json.loads(line) for line in (tmp_path / "all.ndjson").read_text().splitlines()]
    v.write_ndjson(logs / "a.ndjson", records[:20000])
    (logs / "b.json").write_text(json.dumps(records[20000:40000]))
    v.write_cloudtrail(logs / "c.json", records[40000:])
    for delay in (0.8, 1.6, 2.4):
        case = tmp_path / f"killed-{delay}.duckdb"
        ingest = ir_process("ingest", str(logs), "--case", str(case))
        time.sleep(delay)
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(timeout=30)
        assert_whole_files(case)
        status, _, err = finish(ir_process("ingest", str(logs), "--case", str(case)))
        assert status == 0, err
        with ir.open_case(case, read_only=True) as opened:
            assert opened.sql("SELECT count(*) AS n FROM events")["n"][0] == 60000


# --- schema versions ----------------------------------------------------------------------


@pytest.fixture
def v1_case(tmp_path: Path) -> Path:
    case = tmp_path / "case.duckdb"
    with ir.open_case(case) as opened:
        opened.ingest(trail(tmp_path, "a.ndjson", 3, "a"))
    return case


def schema_version(case: Path) -> str:
    with duckdb.connect(str(case), read_only=True) as connection:
        row = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'")
        return str(row.fetchone()[0])  # type: ignore[index]


NOW = ir.store.SCHEMA_VERSION


def test_an_older_case_is_migrated_even_when_opened_read_only(
    v1_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = Migration(
        NOW + 1, "analyst notes per file", "ALTER TABLE evidence_files ADD COLUMN note VARCHAR"
    )
    monkeypatch.setattr(ir.store, "SCHEMA_VERSION", NOW + 1)
    monkeypatch.setattr(ir.store, "MIGRATIONS", (*ir.store.MIGRATIONS, step))
    with ir.open_case(v1_case, read_only=True) as opened:
        rows = opened.sql("SELECT note, loaded FROM evidence_files").values.tolist()
    assert rows == [[None, 3]] and schema_version(v1_case) == str(NOW + 1)
    with ir.open_case(v1_case) as opened:  # no second run of the step
        assert opened.sql("SELECT count(*) AS n FROM events")["n"][0] == 3


def test_a_schema_1_case_gains_the_trace_indexes(v1_case: Path) -> None:
    with duckdb.connect(str(v1_case)) as connection:
        for index in INDEXES:
            connection.execute(f"DROP INDEX {index}")
        connection.execute("UPDATE case_meta SET value = '1' WHERE key = 'schema_version'")
    with ir.open_case(v1_case, read_only=True) as opened:
        names = opened.sql("SELECT index_name FROM duckdb_indexes() ORDER BY 1")["index_name"]
        assert names.tolist() == sorted(INDEXES)
        assert opened.trace("aws_access_key:AKIAAAAAAAAAAAAAAAAA").events.empty
    assert schema_version(v1_case) == str(NOW)


INDEXES = [
    "credential_refs_credential",
    "credential_refs_credential_lower",
    "credential_refs_parent",
    "event_resources_event_key",  # schema 7
    "events_client_ip",
    "events_event_key",
]


def test_a_failed_migration_leaves_the_case_unchanged(
    v1_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = (
        Migration(NOW + 1, "add a column", "ALTER TABLE events ADD COLUMN extra INTEGER"),
        Migration(NOW + 2, "a broken step", "UPDATE no_such_table SET x = 1"),
    )
    monkeypatch.setattr(ir.store, "SCHEMA_VERSION", NOW + 2)
    monkeypatch.setattr(ir.store, "MIGRATIONS", (*ir.store.MIGRATIONS, *steps))
    with pytest.raises(
        CaseError,
        match=rf"from schema {NOW} to {NOW + 2} \(step {NOW + 2}, a broken step: .*\);"
        r" the file is unchanged",
    ):
        ir.open_case(v1_case)
    assert schema_version(v1_case) == str(NOW)
    with duckdb.connect(str(v1_case), read_only=True) as connection:
        columns = connection.execute("SELECT * FROM events LIMIT 0").description
    assert "extra" not in [c[0] for c in columns]
    monkeypatch.setattr(ir.store, "MIGRATIONS", steps[1:])
    with pytest.raises(
        CaseError, match=rf"schema {NOW} is too old .* no migration to schema {NOW + 1}"
    ):
        ir.open_case(v1_case)


def test_newer_damaged_and_foreign_case_files_are_refused_in_one_line(
    v1_case: Path, tmp_path: Path
) -> None:
    whole = v1_case.read_bytes()
    cases = {
        "random.duckdb": os.urandom(len(whole)),
        "truncated.duckdb": whole[:16384],
        "empty.duckdb": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    flipped = bytearray(whole)
    flipped[12388:12452] = os.urandom(64)  # inside the first data block
    (tmp_path / "flipped.duckdb").write_bytes(bytes(flipped))
    with duckdb.connect(str(tmp_path / "foreign.duckdb")) as connection:
        connection.execute("CREATE TABLE sales (id INTEGER)")
    newer = tmp_path / "newer.duckdb"
    newer.write_bytes(whole)
    with duckdb.connect(str(newer)) as connection:
        connection.execute("UPDATE case_meta SET value = '99' WHERE key = 'schema_version'")
    expected = {
        "random.duckdb": "the case file is damaged or not a DuckDB database",
        "truncated.duckdb": "the case file is damaged or not a DuckDB database",
        "empty.duckdb": "the case file is damaged or not a DuckDB database",
        "flipped.duckdb": "the case file is damaged or not a DuckDB database",
        "foreign.duckdb": "a DuckDB database but not an ir case",
        "newer.duckdb": f"case schema 99 is newer than this ir ({NOW}); upgrade ir",
    }
    for name, message in expected.items():
        for command in (["stats"], ["trace", KEY], ["ingest", str(tmp_path / "a.ndjson")]):
            status, out, err = finish(ir_process(*command, "--case", str(tmp_path / name)))
            line = one_line_error(err)
            assert status == 1 and out == "", (name, command, err)
            assert line.startswith(f"error: {tmp_path / name}: ") and message in line, line
