"""`make bench`: ingest and trace timings against baselines measured in the same run, same files.

Data comes from `ir synth` (all sources, real export shapes). Each measurement
runs in its own process so its peak RSS is its own. Baselines on the CloudTrail
files: DuckDB's typed `read_json` of the fields the parser maps (columns given),
DuckDB's auto-detected `read_json`, `read_json_objects` + `json_transform` (the
engine's own reading, no mapping), an orjson loop, and pandas `json_normalize`
(on a slice, scaled). Issue 27's measures: the whole-case timeline export against
DuckDB's COPY of the events table, CloudTrail Event history (LookupEvents JSON-L,
written from the incident's records) against DuckDB's read of the same fields, the
busiest root's trace as JSON, and start-up against the bare interpreter. The content hash (SHA-256 of each minified record) is priced
by ingesting the same CloudTrail files with DuckDB's hash() in its place. The trace
is compared with a plain DuckDB lookup of the root's own events, and `ir impact` (which
traces first) with the trace of the same root, in the same run.

    python benchmarks/run.py --events 1000000 [--events 10000000] [--out bench_out]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CLOUDTRAIL_FIELDS = (
    "STRUCT(eventID VARCHAR, eventTime VARCHAR, eventName VARCHAR, eventSource VARCHAR,"
    " errorCode VARCHAR, errorMessage VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR,"
    " recipientAccountId VARCHAR,"
    " userIdentity STRUCT(type VARCHAR, arn VARCHAR, principalId VARCHAR, accountId VARCHAR,"
    " accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR),"
    " requestParameters STRUCT(accessKeyId VARCHAR, status VARCHAR, userName VARCHAR),"
    " responseElements STRUCT(ConsoleLogin VARCHAR, credentials STRUCT(accessKeyId VARCHAR),"
    " accessKey STRUCT(accessKeyId VARCHAR, userName VARCHAR)))[]"
)
PANDAS_SLICE_FILES = 20
LOOKUP_RECORDS = 100_000  # Event history lines at most (issue 27 measures 100k)
DATE_IN_PATH = re.compile(r"(20\d\d)[/-]?(\d\d)[/-]?(\d\d)")


def cloudtrail_glob(data: Path) -> str:
    return str(data / "logs" / "aws_cloudtrail" / "**" / "*.json.gz")


def cloudtrail_files(data: Path) -> list[Path]:
    return sorted((data / "logs" / "aws_cloudtrail").rglob("*.json.gz"))


# --- measurements (each runs in a child process) ---------------------------------


def typed_read(data: Path) -> int:
    import duckdb

    # records = true: with the default records = 'auto' DuckDB 2.0.1 takes ~5x as long
    # on these files; the baseline is the engine at its best.
    query = (
        "SELECT count(*) FROM (SELECT unnest(Records) AS r FROM read_json(?, records = true, "
        f"columns = {{'Records': '{CLOUDTRAIL_FIELDS}'}}, maximum_object_size = 67108864))"
    )
    return int(duckdb.connect().execute(query, [cloudtrail_glob(data)]).fetchone()[0])


def auto_read(data: Path) -> int:
    import duckdb

    query = "SELECT count(*) FROM (SELECT unnest(Records) FROM read_json(?, maximum_object_size = 67108864))"
    return int(duckdb.connect().execute(query, [cloudtrail_glob(data)]).fetchone()[0])


def objects_transform(data: Path) -> int:
    """DuckDB's own JSON reading of every field the CloudTrail parser maps, without mapping."""
    import duckdb

    from parsers import registry

    structure = json.dumps(registry.get("aws_cloudtrail").fields)
    query = f"""
        SELECT count(json_transform(rec, '{structure}').eventID)
        FROM (SELECT unnest(json_extract(json, '$.Records[*]')) AS rec
              FROM read_json_objects(?, format = 'auto', maximum_object_size = 67108864))
    """
    return int(duckdb.connect().execute(query, [cloudtrail_glob(data)]).fetchone()[0])


def orjson_loop(data: Path) -> int:
    import orjson

    count = 0
    for path in cloudtrail_files(data):
        with gzip.open(path, "rb") as handle:
            for record in orjson.loads(handle.read())["Records"]:
                identity = record.get("userIdentity") or {}
                _ = (
                    record.get("eventID"),
                    record.get("eventTime"),
                    record.get("eventName"),
                    record.get("sourceIPAddress"),
                    identity.get("accessKeyId"),
                    identity.get("arn"),
                )
                count += 1
    return count


def pandas_normalize(data: Path) -> int:
    """On the first files only (pandas is slow); the runner scales by record share."""
    import pandas as pd

    count = 0
    for path in cloudtrail_files(data)[:PANDAS_SLICE_FILES]:
        with gzip.open(path, "rb") as handle:
            count += len(pd.json_normalize(json.loads(handle.read())["Records"]))
    return count


def ir_ingest_cloudtrail(data: Path) -> int:
    return _ingest(data / "cloudtrail.duckdb", data / "logs" / "aws_cloudtrail")


def ir_ingest_cloudtrail_duckdb_hash(data: Path) -> int:
    """The same ingest with DuckDB's hash() as the content hash (what it was before SHA-256):
    the baseline that prices the digest."""
    from parsers import base

    base.CONTENT_HASH_SQL = "CAST(hash(vendor_record) AS VARCHAR)"
    return _ingest(data / "cloudtrail-hash.duckdb", data / "logs" / "aws_cloudtrail")


def content_hash_only(data: Path) -> dict[str, float]:
    """The digest alone over the CloudTrail records as ingest hashes them (minified), against
    DuckDB's hash(): medians of 5, the records already in memory."""
    import duckdb

    from parsers import base

    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE records AS SELECT json(unnest(json_extract(json, '$.Records[*]'))) AS"
        " vendor_record FROM read_json_objects(?, format = 'auto', maximum_object_size = 67108864)",
        [cloudtrail_glob(data)],
    )
    timings = {}
    for name, expression in (("sha256", base.CONTENT_HASH_SQL), ("hash", base.LEGACY_HASH_SQL)):
        query = f"SELECT min({expression}) FROM records"
        timings[name] = statistics.median(
            _timed_runs(lambda q=query: connection.execute(q).fetchall())
        )
    ((megabytes,),) = connection.execute(
        "SELECT sum(strlen(CAST(vendor_record AS VARCHAR))) / 1e6 FROM records"
    ).fetchall()
    return timings | {"megabytes": float(megabytes)}


def ir_ingest_all(data: Path) -> int:
    """Every file but the last day's: the case the day is then added to."""
    earlier, _ = split_last_day(data)
    return _ingest(data / "case.duckdb", *earlier)


def ir_ingest_day_into_case(data: Path) -> int:
    _, day = split_last_day(data)
    return _ingest(data / "case.duckdb", *day)


def ir_ingest_day_alone(data: Path) -> int:
    _, day = split_last_day(data)
    return _ingest(data / "day.duckdb", *day)


def ir_reingest_all(data: Path) -> int:
    return _ingest(data / "case.duckdb", data / "logs")


def _ingest(case_path: Path, *paths: Path) -> int:
    import ir

    with ir.open_case(case_path) as case:
        reports = case.ingest(*paths)
    return sum(r.loaded for r in reports)


def split_last_day(data: Path) -> tuple[list[Path], list[Path]]:
    """(the other files, the files of the last day named in a path): the incremental step.

    Sources that page by number rather than by date (Okta, Workspace, the UAL export)
    stay in the other files.
    """
    dated = {}
    for path in sorted(p for p in (data / "logs").rglob("*") if p.is_file()):
        found = DATE_IN_PATH.search(str(path.relative_to(data)))
        dated[path] = "".join(found.groups()) if found else None
    last = max(day for day in dated.values() if day)
    return [p for p, d in dated.items() if d != last], [p for p, d in dated.items() if d == last]


def trace_root(data: Path) -> dict[str, Any]:
    """Every scenario root of the incident, each traced 5 times: the slowest root's median."""
    import ir

    roots = sorted(json.loads((data / "ground_truth.json").read_text())["scenarios"])
    with ir.open_case(data / "case.duckdb", read_only=True) as case:
        medians = {
            root: statistics.median(_timed_runs(lambda r=root: case.trace(r))) for root in roots
        }
        slowest = max(medians, key=medians.__getitem__)
        lookup = _timed_runs(
            lambda: case.connection.execute(
                "SELECT e.* FROM credential_refs c JOIN events e USING (event_key) WHERE c.credential = ?",
                [slowest],
            ).fetchall()
        )
        result = case.trace(slowest)
        impacts = {root: _impact_timings(case, root) for root in roots}
    heaviest = max(impacts, key=lambda root: impacts[root]["impact_seconds"])
    return {
        "root": slowest,
        "roots": len(roots),
        "trace_seconds": medians[slowest],
        "lookup_seconds": statistics.median(lookup),
        "traced_events": len(result.events),
        "traced_credentials": len(result.credentials),
        "impact": {"root": heaviest, "trace_seconds": medians[heaviest], **impacts[heaviest]},
    }


def _impact_timings(case: Any, root: str) -> dict[str, Any]:
    """`ir impact` of a root (its trace included), median of 5, and the impact's own SQL on
    the trace already made; with what it found."""
    from ir import impact

    traced = case.trace(root)
    own = statistics.median(_timed_runs(lambda: impact.impact(case.connection, traced)))
    whole = statistics.median(_timed_runs(lambda: case.impact(root)))
    answer = case.impact(root)
    return {
        "impact_seconds": whole,
        "own_seconds": own,
        "resources": len(answer.resources),
        "sensitive": len(answer.sensitive),
    }


def hunt_case(data: Path) -> dict[str, Any]:
    """`ir hunt` over the whole case, 3 times: every lineage ranked, no id given."""
    import ir

    with ir.open_case(data / "case.duckdb", read_only=True) as case:
        seconds = statistics.median(_timed_runs(case.hunt, runs=3))
        findings = case.hunt()
        events = int(case.sql("SELECT count(*) AS n FROM events")["n"].iloc[0])
    return {"hunt_seconds": seconds, "findings": len(findings), "events": events}


def coverage_cost(data: Path) -> dict[str, Any]:
    """`ir coverage` on the case (median of 5), and what coverage adds to each root's trace:
    the median of its own work (`of_trace` + `blind_after` on the trace's credentials and
    events) against the median trace without it (the trace, which includes it, less it)."""
    import ir
    from ir import coverage

    roots = sorted(json.loads((data / "ground_truth.json").read_text())["scenarios"])
    added = {}
    with ir.open_case(data / "case.duckdb", read_only=True) as case:
        whole = statistics.median(_timed_runs(case.coverage))
        for root in roots:
            traced = case.trace(root)
            own = statistics.median(
                _timed_runs(
                    lambda t=traced: coverage.blind_after(
                        t.credentials, coverage.of_trace(case.connection, t.credentials, t.events)
                    )
                )
            )
            total = statistics.median(_timed_runs(lambda r=root: case.trace(r)))
            added[root] = {"trace_seconds": total, "coverage_seconds": own}
    return {"coverage_seconds": whole, "roots": added}


def coverage_rows(result: dict[str, Any], events: int) -> list[dict[str, Any]]:
    """The coverage lines of the results table: `ir coverage`, and the trace's added time
    for the slowest root (what the trace row shows) and for the root it weighs most on."""
    roots = result["roots"]
    share = {
        root: r["coverage_seconds"] / (r["trace_seconds"] - r["coverage_seconds"])
        for root, r in roots.items()
    }
    slowest = max(roots, key=lambda root: roots[root]["trace_seconds"])
    heaviest = max(share, key=share.__getitem__)
    return [
        {
            "events": events,
            "measure": "ir coverage s (median of 5)",
            "value": round(result["coverage_seconds"], 3),
            "ratio": "",
        },
        {
            "events": events,
            "measure": "trace coverage s (slowest root, median of 5)",
            "value": round(roots[slowest]["coverage_seconds"], 4),
            "ratio": f"+{100 * share[slowest]:.1f}% on its trace; at most +{100 * share[heaviest]:.1f}%"
            f" ({heaviest.split(':')[0]}, trace {roots[heaviest]['trace_seconds']:.3f}s)",
        },
    ]


def timeline_export(data: Path) -> dict[str, Any]:
    """`ir timeline --format csv` of the whole case, streamed to a file (ir.timeline)."""
    import ir
    from ir import timeline

    target = data / "timeline.csv"
    with (
        ir.open_case(data / "case.duckdb", read_only=True) as case,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        rows = timeline.of_case(case.connection).write(out, "csv")
    return {"rows": rows, "megabytes": (data / "timeline.csv").stat().st_size / 1e6}


def copy_events_csv(data: Path) -> int:
    """The baseline: DuckDB writing the events table as CSV in time order, nothing built."""
    import duckdb

    connection = duckdb.connect(str(data / "case.duckdb"), read_only=True)
    target = str(data / "events.csv")
    connection.execute(f"COPY (SELECT * FROM events ORDER BY time) TO '{target}' (HEADER)")
    return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


def lookup_events_file(data: Path) -> Path:
    """CloudTrail Event history as `aws cloudtrail lookup-events` gives it, one event per
    line (JSON-L): the record as a JSON string in `CloudTrailEvent`, `EventTime` with a
    space. Up to LOOKUP_RECORDS lines from the incident's CloudTrail records."""
    path = data / "lookup_events.jsonl"
    if path.exists():
        return path
    wanted = LOOKUP_RECORDS
    with path.open("w") as out:
        for file in cloudtrail_files(data):
            with gzip.open(file, "rb") as handle:
                for record in json.loads(handle.read())["Records"]:
                    identity = record.get("userIdentity") or {}
                    line = {
                        "EventId": record["eventID"],
                        "EventName": record["eventName"],
                        "ReadOnly": "true",
                        "AccessKeyId": identity.get("accessKeyId", ""),
                        "EventTime": record["eventTime"].replace("T", " ").replace("Z", "+00:00"),
                        "EventSource": record["eventSource"],
                        "Username": identity.get("userName", ""),
                        "Resources": [],
                        "CloudTrailEvent": json.dumps(record),
                    }
                    out.write(json.dumps(line) + "\n")
                    wanted -= 1
                    if not wanted:
                        return path
    return path


def ir_ingest_lookup_events(data: Path) -> int:
    return _ingest(data / "lookup.duckdb", lookup_events_file(data))


def read_lookup_events(data: Path) -> int:
    """DuckDB's read of the same file's fields, three of them out of the embedded string."""
    import duckdb

    query = """
        SELECT count(EventId), count(EventTime),
               count(json_extract_string(CloudTrailEvent, '$.eventName')),
               count(json_extract_string(CloudTrailEvent, '$.sourceIPAddress')),
               count(json_extract_string(CloudTrailEvent, '$.userIdentity.accessKeyId'))
        FROM read_json(?, format = 'newline_delimited', columns = {'EventId': 'VARCHAR',
             'EventTime': 'VARCHAR', 'CloudTrailEvent': 'VARCHAR'})"""
    return int(duckdb.connect().execute(query, [str(lookup_events_file(data))]).fetchone()[0])


def trace_busiest(data: Path) -> dict[str, Any]:
    """The credential with the most events traced, as `ir trace --format json` does (the
    trace and its document), median of 3; beside a plain lookup of its own events."""
    import ir
    from ir import render

    with ir.open_case(data / "case.duckdb", read_only=True) as case:
        ((root, refs),) = case.connection.execute(
            "SELECT credential, count(*) FROM credential_refs GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        ).fetchall()
        runs = _timed_runs(lambda: render.to_json(case.trace(root).to_json()), runs=3)
        lookup = _timed_runs(
            lambda: case.connection.execute(
                "SELECT e.* FROM credential_refs c JOIN events e USING (event_key) WHERE c.credential = ?",
                [root],
            ).fetchall(),
            runs=3,
        )
        result = case.trace(root)
    return {
        "root": root,
        "root_refs": refs,
        "seconds": statistics.median(runs),
        "lookup_seconds": statistics.median(lookup),
        "traced_events": len(result.events),
        "traced_credentials": len(result.credentials),
    }


def start_up(data: Path) -> dict[str, float]:
    """Wall time of `ir --help` and `ir trace --help` (median of 5, each a fresh process),
    beside the interpreter's own start and an `import pandas`."""
    ir_command = [sys.executable, "-c", "from ir.cli import app; app()"]
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "import_pandas": [sys.executable, "-c", "import pandas"],
        "help": [*ir_command, "--help"],
        "trace_help": [*ir_command, "trace", "--help"],
    }
    return {
        name: statistics.median(
            _timed_runs(lambda c=command: subprocess.run(c, capture_output=True, check=True))
        )
        for name, command in commands.items()
    }


def _timed_runs(work: Callable[[], object], runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


MEASUREMENTS: dict[str, Callable[[Path], Any]] = {
    "duckdb_typed_read_json": typed_read,
    "duckdb_auto_read_json": auto_read,
    "duckdb_read_json_objects": objects_transform,
    "orjson_loop": orjson_loop,
    "pandas_json_normalize_slice": pandas_normalize,
    "ir_ingest_cloudtrail": ir_ingest_cloudtrail,
    "ir_ingest_cloudtrail_duckdb_hash": ir_ingest_cloudtrail_duckdb_hash,
    "content_hash_only": content_hash_only,
    "ir_ingest_all_sources": ir_ingest_all,
    "ir_ingest_day_into_case": ir_ingest_day_into_case,
    "ir_ingest_day_alone": ir_ingest_day_alone,
    "ir_reingest_all_sources": ir_reingest_all,
    "ir_trace": trace_root,
    "ir_hunt": hunt_case,
    "ir_coverage": coverage_cost,
    "ir_timeline_case_csv": timeline_export,
    "duckdb_copy_events_csv": copy_events_csv,
    "ir_ingest_lookup_events": ir_ingest_lookup_events,
    "duckdb_read_lookup_events": read_lookup_events,
    "ir_trace_busiest": trace_busiest,
    "start_up": start_up,
}


def child(name: str, data: Path) -> None:
    start = time.perf_counter()
    result = MEASUREMENTS[name](data)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"name": name, "seconds": seconds, "result": result, "peak_rss_mb": peak_kib / 1024}
        )
    )


def measure(name: str, data: Path) -> dict[str, Any]:
    """One measurement in a fresh process; a baseline that fails says why instead of a time."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", name, "--data", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        reason = next((line for line in completed.stderr.splitlines() if "Error" in line), "failed")
        return {"name": name, "seconds": float("nan"), "result": None, "error": reason[:160]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the runner ----------------------------------------------------------------------


def prepare(out: Path, events: int, seed: int) -> Path:
    from ir.synth import generate

    data = out / f"synth-{events}-{seed}"
    marker = data / "ground_truth.json"
    if not marker.exists():
        shutil.rmtree(data, ignore_errors=True)
        start = time.perf_counter()
        generate(data, events=events, seed=seed)
        print(
            f"generated {events:,} events in {time.perf_counter() - start:.1f}s -> {data}",
            file=sys.stderr,
        )
    for case_file in data.glob("*.duckdb*"):
        case_file.unlink()
    return data


def run_size(out: Path, events: int, seed: int) -> list[dict[str, Any]]:
    data = prepare(out, events, seed)
    results = {name: measure(name, data) for name in MEASUREMENTS}
    seconds = {name: r["seconds"] for name, r in results.items()}
    records = results["duckdb_read_json_objects"]["result"]
    pandas = results["pandas_json_normalize_slice"]
    pandas_scaled = pandas["seconds"] * records / max(pandas["result"] or 1, 1)
    duckdb_reads = [
        seconds[n] for n in results if n.startswith("duckdb_") and not results[n].get("error")
    ]
    ingest = seconds["ir_ingest_cloudtrail"]
    hashed = seconds["ir_ingest_cloudtrail_duckdb_hash"]
    digest = results["content_hash_only"]["result"]
    everything = results["ir_ingest_all_sources"]
    day = results["ir_ingest_day_into_case"]
    alone = results["ir_ingest_day_alone"]
    loaded = everything["result"] + day["result"]
    gz_bytes = sum(p.stat().st_size for p in (data / "logs").rglob("*") if p.is_file())
    case_bytes = (data / "case.duckdb").stat().st_size
    traced = results["ir_trace"]["result"]

    def row(measure: str, value: Any, ratio: str = "") -> dict[str, Any]:
        return {"events": events, "measure": measure, "value": value, "ratio": ratio}

    baselines = (
        "duckdb_typed_read_json",
        "duckdb_auto_read_json",
        "duckdb_read_json_objects",
        "orjson_loop",
    )
    return [
        row("CloudTrail records", records),
        *[row(f"{n} s", results[n].get("error") or round(seconds[n], 2)) for n in baselines],
        row("pandas json_normalize s (scaled from a slice)", round(pandas_scaled, 2)),
        row(
            "ir ingest CloudTrail s",
            round(ingest, 2),
            f"{ingest / seconds['duckdb_typed_read_json']:.2f}x DuckDB typed read, "
            f"{ingest / min(duckdb_reads):.2f}x fastest DuckDB read, "
            f"{ingest / seconds['orjson_loop']:.1f}x the orjson loop (6 fields, no load),"
            f" {pandas_scaled / ingest:.1f}x faster than pandas",
        ),
        row(
            "ir ingest CloudTrail with DuckDB hash() as content hash s",
            round(hashed, 2),
            f"SHA-256 ingest {ingest - hashed:+.2f}s ({(ingest - hashed) / hashed:+.1%});"
            " single runs, within run-to-run noise at small sizes",
        ),
        row(
            "content hash alone s: SHA-256 (hash() baseline)",
            round(digest["sha256"], 3),
            f"{digest['sha256'] / ingest:.1%} of the CloudTrail ingest; DuckDB hash()"
            f" {digest['hash']:.3f}s ({digest['sha256'] / digest['hash']:.1f}x);"
            f" {digest['megabytes']:.0f} MB of minified records, median of 5",
        ),
        row(
            "ir ingest all sources s (all files: the case, then its last day)",
            round(everything["seconds"] + day["seconds"], 2),
            f"{loaded:,} events, {loaded / (everything['seconds'] + day['seconds']):,.0f} events/s,"
            f" peak RSS {max(everything['peak_rss_mb'], day['peak_rss_mb']):.0f} MB",
        ),
        row(
            "ir add the last day to the case s",
            round(day["seconds"], 2),
            f"{day['seconds'] / alone['seconds']:.2f}x the same {day['result']:,} events into an"
            f" empty case ({alone['seconds']:.2f}s); the case held {everything['result']:,}",
        ),
        row("ir re-ingest (skipped by hash) s", round(seconds["ir_reingest_all_sources"], 2)),
        row(
            "case size / gz input",
            f"{case_bytes / 1e6:.0f} MB / {gz_bytes / 1e6:.0f} MB",
            f"{case_bytes / gz_bytes:.2f}x",
        ),
        row(
            f"ir trace s (median of 5; slowest of {traced['roots']} roots: {traced['root'].split(':')[0]})",
            round(traced["trace_seconds"], 3),
            f"{traced['trace_seconds'] / traced['lookup_seconds']:.1f}x a plain lookup of the root's events "
            f"({traced['lookup_seconds']:.3f}s); {traced['traced_credentials']} credentials, {traced['traced_events']} rows",
        ),
        impact_row(traced, row),
        hunt_row(results["ir_hunt"]["result"], traced, row),
        *coverage_rows(results["ir_coverage"]["result"], events),
        *issue_27_rows(results, row),
    ]


def issue_27_rows(results: dict[str, Any], row: Callable[..., Any]) -> list[Any]:
    """Timeline export, Event history ingest, a busy root's trace, start-up: each beside
    its same-run baseline (the 10M ingest ratio is the CloudTrail ingest row above)."""
    timeline, copy = results["ir_timeline_case_csv"], results["duckdb_copy_events_csv"]
    rows = timeline["result"]["rows"]
    lookup, read = results["ir_ingest_lookup_events"], results["duckdb_read_lookup_events"]
    busy = results["ir_trace_busiest"]["result"]
    start = results["start_up"]["result"]
    return [
        row(
            "ir timeline --format csv, whole case s",
            round(timeline["seconds"], 2),
            f"{rows:,} rows ({timeline['result']['megabytes']:.0f} MB), "
            f"{timeline['seconds'] / rows * 1e5:.2f}s per 100k rows (target < 0.5),"
            f" peak RSS {timeline['peak_rss_mb']:.0f} MB (target < 1 GB at 10M);"
            f" {timeline['seconds'] / copy['seconds']:.1f}x DuckDB COPY of the events table"
            f" in time order ({copy['seconds']:.2f}s, RSS {copy['peak_rss_mb']:.0f} MB)",
        ),
        row(
            f"ir ingest CloudTrail Event history JSON-L s ({lookup['result']:,} records)",
            round(lookup["seconds"], 2),
            f"{lookup['seconds'] / read['seconds']:.1f}x DuckDB's read of its fields, three out"
            f" of the embedded string ({read['seconds']:.2f}s; target within 3x)",
        ),
        row(
            f"ir trace --format json, busiest root s (median of 3; {busy['root'].split(':')[0]})",
            round(busy["seconds"], 3),
            f"{busy['traced_events']:,} rows, {busy['traced_credentials']} credentials,"
            f" {busy['root_refs']:,} refs of its own; {busy['seconds'] / busy['lookup_seconds']:.0f}x"
            f" a plain lookup of its events ({busy['lookup_seconds']:.3f}s); target < 1 s at 26k",
        ),
        row(
            "ir --help s (median of 5)",
            round(start["help"], 3),
            f"ir trace --help {start['trace_help']:.3f}s; the interpreter alone"
            f" {start['python']:.3f}s, import pandas {start['import_pandas']:.3f}s; target < 0.3 s",
        ),
    ]


def impact_row(traced: dict[str, Any], row: Callable[..., Any]) -> Any:
    """`ir impact` beside `ir trace`, same run: the root whose impact takes longest."""
    measured = traced["impact"]
    return row(
        f"ir impact s (median of 5; slowest of {traced['roots']} roots:"
        f" {measured['root'].split(':')[0]})",
        round(measured["impact_seconds"], 3),
        f"{measured['impact_seconds'] / measured['trace_seconds']:.2f}x its ir trace"
        f" ({measured['trace_seconds']:.3f}s); the impact's own SQL {measured['own_seconds']:.3f}s;"
        f" {measured['resources']} resources, {measured['sensitive']} sensitive rows",
    )


def hunt_row(hunted: dict[str, Any], traced: dict[str, Any], row: Callable[..., Any]) -> Any:
    """The hunt beside the trace: the whole case judged against one lineage followed."""
    return row(
        f"ir hunt s (median of 3; every lineage of {hunted['events']:,} events ranked)",
        round(hunted["hunt_seconds"], 2),
        f"{hunted['findings']} findings; {hunted['hunt_seconds'] / traced['trace_seconds']:.0f}x"
        f" one ir trace ({traced['trace_seconds']:.3f}s)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, action="append", help="case sizes (repeatable)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data)
        return
    rows: list[dict[str, Any]] = []
    for events in args.events or [1_000_000]:
        rows.extend(run_size(args.out, events, args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    print("| events | measure | value | ratio |\n|---:|---|---:|---|")
    for row in rows:
        print(f"| {row['events']:,} | {row['measure']} | {row['value']} | {row['ratio']} |")


if __name__ == "__main__":
    main()
