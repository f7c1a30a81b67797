"""Synthetic token-leak incidents across vendors' logs, with their ground truth.

`generate(out, events, seed)` writes the log files a responder receives, in each
vendor's export layout, the leaked secrets, and `ground_truth.json`: which
credentials each leak reaches and which events reference them, per contract §1/§4.

The ground truth is recorded while the files are written: every incident event
carries the credential references it makes and every minted credential names
its parent, so the truth describes what was emitted, not a hand-written list.
Output is streamed per time window (memory is bounded by one window, not by
`events`), and a seed gives byte-identical files (gzip without mtime or name).

A vendor is one module (`VENDORS`, in order): its chapter of the incident, its
background haystack, its writer (ir/synth/core.py: `Vendor`).

`sample_logs/` is `generate(Path("sample_logs"), events=2000, seed=7)` (into an
empty folder; tests check it still matches). Ingest `sample_logs/logs`: the
token files and the ground truth beside it are not logs.

`cuts` leave records out, as a responder's exports do: `BLIND_SPOTS` is a missing
day, a tenant's source never exported and an export that ends before a revocation
(the coverage tests' incident). Everything is generated as without them and only the
delivery skips the cut records, so the rest stays byte for byte the same, and the
ground truth holds what was delivered.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ir.synth import aws, github, google, microsoft, okta, salesforce
from ir.synth.core import (
    DEFAULT_START,
    HOUR,
    MINUTE,
    SPAN,
    Company,
    GroundTruth,
    Ids,
    Item,
    Record,
    Scenario,
    Story,
    TruthCredential,
    TruthEvent,
    TruthResource,
    Vendor,
    Writer,
    epoch_ms,
    iso_seconds,
)

__all__ = [
    "BLIND_SPOTS",
    "MINUTE",
    "SPAN",
    "VENDORS",
    "Cut",
    "GroundTruth",
    "Scenario",
    "TruthCredential",
    "TruthEvent",
    "TruthResource",
    "generate",
]

VENDORS: tuple[Vendor, ...] = (
    aws.VENDOR,
    okta.VENDOR,
    github.VENDOR,
    microsoft.VENDOR,
    salesforce.VENDOR,
    google.VENDOR,
)
SOURCES = tuple(source for vendor in VENDORS for source in vendor.shares)
WINDOW_MINUTES = (5, 10, 15, 30, 60, 120, 240, 360, 720)
RECORDS_PER_FILE = 50  # widen the delivery window until the busiest source's files hold this many


@dataclass(frozen=True)
class Cut:
    """The records of `source` from `start` to `end` (from the incident's first moment)
    that never reach the responder."""

    source: str
    start: timedelta = timedelta(0)
    end: timedelta = timedelta(milliseconds=SPAN)
    why: str = ""

    def drops(self, item: Item, begin: int) -> bool:
        offset = timedelta(milliseconds=item.ms - begin)
        return item.source == self.source and self.start <= offset < self.end


BLIND_SPOTS = (
    Cut(
        "aws_cloudtrail",
        timedelta(days=7),
        timedelta(days=8),
        "a day of CloudTrail never delivered",
    ),
    Cut("graph_activity", why="the tenant's Graph activity logs were never exported"),
    Cut("m365_ual", start=timedelta(days=4), why="the audit log export ends before the revocation"),
)
IRIGNORE = "# Not evidence: the answers and the leaked secrets of this synthetic incident.\nground_truth.json\nleaked_*.txt\n"


def generate(
    out: Path,
    events: int = 2000,
    seed: int = 7,
    start: datetime | None = None,
    cuts: Sequence[Cut] = (),
) -> GroundTruth:
    """Write a synthetic incident of about `events` events under `out`; return its ground truth.

    Layout: `out/logs/<source>/…`, the leaked secrets (`out/leaked_token.txt`, an AWS
    credentials file; `out/leaked_github_token.txt`, a raw PAT), `out/ground_truth.json`,
    and `out/.irignore` so that `ir ingest out` reads only the logs.
    The incident is a fixed part (a few hundred events); background fills the rest.
    """
    out = Path(out)
    logs = out / "logs"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already holds files; generate into an empty folder")
    begin = epoch_ms(start or DEFAULT_START)
    story_rng = random.Random(seed)
    rngs = {v.name: story_rng if v.shared_generators else _own(seed, v, "") for v in VENDORS}
    worlds = {v.name: v.world(rngs[v.name]) for v in VENDORS}
    event_ids = {source: f for v in VENDORS for source, f in v.event_ids.items()}
    story = Story(story_rng, begin, event_ids)
    for chapter in [v.chapter(story, rngs[v.name], worlds[v.name]) for v in VENDORS]:
        chapter.run()
    incident = sorted(story.items, key=lambda item: item.ms)
    rng = random.Random(f"{seed}:background")
    company = Company(rng, 30 + min(2000, int(events**0.5 / 4)), begin)
    haystacks = {}
    writers: list[Writer] = []
    for v in VENDORS:
        own = rng if v.shared_generators else _own(seed, v, "background")
        haystack = v.haystack(company, own, worlds[v.name])
        haystacks.update({source: haystack for source in v.shares})
    for v in VENDORS:
        ids = Ids(rng if v.shared_generators else _own(seed, v, "files"))
        writers.append(v.writer(logs, ids, worlds[v.name]))
    count = 0
    for window_start, length, counts in _plan(max(0, events - len(incident)), begin):
        window = _delivered(_take(incident, window_start + length), cuts, begin)
        for item in window:
            story.lineage.observe(item)
        background = _background_items(rng, haystacks, window_start, length, counts)
        items = sorted(window + _delivered(background, cuts, begin), key=lambda i: i.ms)
        if items:
            count += len(items)
            by_source: dict[str, list[Record]] = defaultdict(list)
            for item in items:
                by_source[item.source].append(item.record)
            for writer in writers:
                writer.window(window_start, by_source)
    for writer in writers:
        writer.close()
    if incident:
        raise RuntimeError(f"{len(incident)} incident events fall outside the generated span")
    for name, secret in story.secrets.items():  # the only places raw secrets exist
        (out / name).write_text(secret)
    (out / ".irignore").write_text(IRIGNORE)
    truth = GroundTruth(seed, count, iso_seconds(story.leaked_at), story.lineage.finish())
    (out / "ground_truth.json").write_bytes(
        orjson.dumps(truth.to_json(), option=orjson.OPT_INDENT_2) + b"\n"
    )
    return truth


def _own(seed: int, vendor: Vendor, part: str) -> random.Random:
    return random.Random(f"{seed}:{vendor.name}:{part}" if part else f"{seed}:{vendor.name}")


def _background_items(
    rng: random.Random, haystacks: dict[str, Any], start: int, length: int, counts: dict[str, int]
) -> list[Item]:
    """One window of background events, built in time order so state stays coherent."""
    stamps = sorted(
        (start + rng.randrange(length), source) for source in SOURCES for _ in range(counts[source])
    )
    return [Item(ms, source, haystacks[source].record(source, ms)) for ms, source in stamps]


def _delivered(items: Iterable[Item], cuts: Sequence[Cut], begin: int) -> list[Item]:
    """The items that no cut leaves out."""
    return [item for item in items if not any(cut.drops(item, begin) for cut in cuts)]


def _take(items: list[Item], before: int) -> Iterator[Item]:
    """Pop the (time-sorted) incident items that fall before `before`."""
    while items and items[0].ms < before:
        yield items.pop(0)


def _activity(ms: int) -> float:
    """Relative activity at a moment: US office hours, quieter nights and weekends."""
    t = time.gmtime(ms // 1000)
    local = (t.tm_hour - 7) % 24
    level = 1.0 if 8 <= local < 18 else 0.45 if 6 <= local < 22 else 0.15
    return level * (0.3 if t.tm_wday >= 5 else 1.0)


def _window_minutes(busiest: int) -> int:
    """The shortest delivery window that still gives the busiest source's files a few dozen records."""
    for minutes in WINDOW_MINUTES:
        if busiest * minutes * MINUTE >= RECORDS_PER_FILE * SPAN:
            return minutes
    return WINDOW_MINUTES[-1]


def _spread(total: int, weights: list[float]) -> list[int]:
    """Exactly `total` events over windows in proportion to weights (cumulative rounding)."""
    counts, running, placed, whole = [], 0.0, 0, sum(weights)
    for weight in weights:
        running += weight
        target = round(total * running / whole)
        counts.append(target - placed)
        placed = target
    return counts


def _plan(background: int, begin: int) -> Iterator[tuple[int, int, dict[str, int]]]:
    """Delivery windows over the span, each with its share of background events per source.

    Each source gets its share, rounded; the last one takes what rounding left.
    """
    shares = {source: share for vendor in VENDORS for source, share in vendor.shares.items()}
    per_source = {source: round(background * share) for source, share in shares.items()}
    last = SOURCES[-1]
    per_source[last] = background - sum(c for s, c in per_source.items() if s != last)
    length = _window_minutes(max(per_source.values())) * MINUTE
    starts = list(range(begin, begin + SPAN, length))
    weights = [sum(_activity(s + h) for h in range(0, length, min(length, HOUR))) for s in starts]
    spread = {source: _spread(count, weights) for source, count in per_source.items()}
    for index, window_start in enumerate(starts):
        yield window_start, length, {source: spread[source][index] for source in SOURCES}
