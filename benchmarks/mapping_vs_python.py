"""A source defined by a mapping file runs as fast as the same source written in Python.

Times `ir ingest` of the same Slack audit entries twice per round, once with the
built-in parser (parsers/slack.py) and once with parsers/mappings/slack.toml
renamed `slack_mapped` in a `--mappings` folder, each into a fresh case; and the
mapping SELECT alone (reader + parser SQL, `count(*)`) for both. Rounds
alternate the order; the medians are printed as JSON.

    python benchmarks/mapping_vs_python.py --entries 1000000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import ir
import parsers
from ir.formats import Layout, reader_sql
from parsers import registry
from parsers.base import register_sql
from parsers.toml import load_mapping

MAPPING = Path(parsers.__file__).parent / "mappings" / "slack.toml"
ACTIONS = (
    ["file_downloaded"] * 12
    + ["user_channel_join", "user_login", "user_logout", "app_installed", "user_login_failed"]
    + ["user_session_reset_by_admin", "app_uninstalled"]
)
FILES = 8


def write_entries(folder: Path, entries: int, seed: int = 7) -> list[Path]:
    """NDJSON files of Audit Logs API entries in the real shape (FIELD_NOTES §9)."""
    rng = random.Random(seed)
    paths = [folder / f"slack-{n:02d}.ndjson" for n in range(FILES)]
    handles = [path.open("w") for path in paths]
    for n in range(entries):
        user = f"W{rng.randrange(10**8):08d}"
        entry = {
            "id": f"{n:08x}-1c2d-4e5f-8a9b-{rng.randrange(16**12):012x}",
            "date_create": 1767225600 + n,
            "action": rng.choice(ACTIONS),
            "actor": {
                "type": "user",
                "user": {"id": user, "name": "u", "email": f"{user}@corp.example"},
            },
            "entity": {"type": "app", "app": {"id": f"A{rng.randrange(10**6):06d}", "name": "app"}},
            "context": {
                "location": {
                    "type": "workspace",
                    "id": "T0AA11BB2",
                    "name": "Corp",
                    "domain": "corp",
                },
                "ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
                "ip_address": f"203.0.113.{rng.randrange(256)}",
                "session_id": rng.randrange(10**12),
            },
        }
        handles[n % FILES].write(json.dumps(entry) + "\n")
    for handle in handles:
        handle.close()
    return paths


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def ingest(folder: Path, logs: list[Path], source: str, mappings: list[Path]) -> int:
    case_path = folder / f"{source}-{time.monotonic_ns()}.duckdb"
    with ir.open_case(case_path) as case:
        reports = case.ingest(*logs, source=source, mappings=mappings)
    case_path.unlink()
    return sum(r.loaded for r in reports)


def select_only(folder: Path, logs: list[Path], parser: parsers.base.Parser) -> int:
    with ir.open_case(folder / f"select-{time.monotonic_ns()}.duckdb") as case:
        register_sql(case.connection)
        read = reader_sql(Layout("objects"), [str(p) for p in logs])
        records = f"SELECT file, row_number() OVER () AS position, record, reason FROM ({read})"
        query = f"SELECT count(*), count(source_event_id), sum(len(refs)) FROM ({parser.select_sql(records)})"
        return int(case.connection.execute(query).fetchall()[0][0])


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--entries", type=int, default=1_000_000)
    options.add_argument("--rounds", type=int, default=3)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        logs = write_entries(folder, args.entries)
        mappings = folder / "mappings"
        mappings.mkdir()
        text = MAPPING.read_text().replace('source = "slack"', 'source = "slack_mapped"')
        (mappings / "slack_mapped.toml").write_text(text)
        mapped, python = load_mapping(mappings / "slack_mapped.toml"), registry.get("slack")
        runs: dict[str, list[float]] = {
            k: [] for k in ("python", "mapping", "python_sql", "mapping_sql")
        }
        for round_no in range(args.rounds):
            order = ["python", "mapping"] if round_no % 2 == 0 else ["mapping", "python"]
            for kind in order:
                source, folders = (
                    ("slack", []) if kind == "python" else ("slack_mapped", [mappings])
                )
                runs[kind].append(timed(lambda s=source, f=folders: ingest(folder, logs, s, f)))
                parser = python if kind == "python" else mapped
                runs[f"{kind}_sql"].append(timed(lambda p=parser: select_only(folder, logs, p)))
        medians = {k: round(statistics.median(v), 3) for k, v in runs.items()}
        medians["entries"] = args.entries
        medians["ingest_ratio_mapping_over_python"] = round(
            medians["mapping"] / medians["python"], 3
        )
        medians["sql_ratio_mapping_over_python"] = round(
            medians["mapping_sql"] / medians["python_sql"], 3
        )
        print(json.dumps(medians, indent=2))


if __name__ == "__main__":
    main()
