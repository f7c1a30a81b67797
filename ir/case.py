"""The notebook facade: a `Case` wraps the store and delegates, one line a method.

`ir.open_case(path)` opens (or creates) the case file through `ir.store`; every
method here hands the work to the module that owns it (ingest, trace, hunt,
timeline, evidence, contents) and returns DataFrames with tz-aware UTC times. A `Trace`
returned here adds the notebook conveniences (timeline, report, drawing, rich
display) to the analysis result of `ir.trace`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ir import collectors, contents, coverage, display, evidence, graph, pivots, report, timeline
from ir import forget as forgetting
from ir import hunt as hunting
from ir import impact as impacting
from ir import ingest as ingesting
from ir import trace as tracing
from ir.credentials import fingerprint_ids
from ir.errors import NotFound, UsageError
from ir.playbooks import journal, run
from ir.playbooks.connectors.base import PlanChoices
from ir.playbooks.plan import Plan, make_plan
from ir.store import CaseError, Store, open_store
from ir.times import utc

if TYPE_CHECKING:
    import duckdb
    import networkx as nx
    from matplotlib.axes import Axes

__all__ = ["Case", "CaseError", "Impact", "Trace", "open_case"]


@dataclass
class Trace(tracing.Trace):
    """A traced credential lineage (`ir.trace.Trace`) with its notebook conveniences, and
    what the playbook journal says was done to contain it (for the report)."""

    containment: pd.DataFrame | None = field(default=None, repr=False)
    connection: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)

    def impact(self) -> Impact:
        """What this lineage could do and touched (contract §9): resources, scopes, sensitive."""
        return Impact.of(impacting.impact(self._open_connection(), self))

    def _open_connection(self) -> duckdb.DuckDBPyConnection:
        if self.connection is None:
            raise UsageError("this trace holds no case connection: make it with case.trace()")
        return self.connection

    def timeline(
        self, since: str | pd.Timestamp | None = None, until: str | pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """The traced events as a Timesketch-ready timeline, one row per event."""
        return timeline.from_trace(self, since, until)

    def report(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write the breach report (`md` or `html`, from the suffix unless `fmt`)."""
        return report.write(self, Path(path), fmt, self.containment, self.impact())

    def plan(self, rotate: bool = True, quarantine: bool = False) -> Plan:
        """The playbook plan that contains this lineage: review it, edit it, run it."""
        return make_plan(self, PlanChoices(rotate=rotate, quarantine=quarantine))

    def draw(self, ax: Axes | None = None) -> Axes:
        """Draw the lineage graph with matplotlib (inline in a notebook); returns the axes."""
        return display.draw_lineage(self, ax)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: summary, lineage, places, late uses (escaped)."""
        return display.trace_html(self)


@dataclass
class Impact(impacting.Impact):
    """What a lineage could do and touched (`ir.impact.Impact`), shown as a table in Jupyter."""

    @classmethod
    def of(cls, result: impacting.Impact) -> Impact:
        return cls(**{f.name: getattr(result, f.name) for f in fields(result)})

    def _repr_html_(self) -> str:
        """Jupyter's rich display: resources, scopes, sensitive actions (escaped)."""
        return display.impact_html(self)


class Case:
    """An open case file. Use `ir.open_case(path)`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self.store.connection

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def __repr__(self) -> str:
        return f"Case({str(self.path)!r})"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: totals and per-source stats (escaped)."""
        return display.case_html(self.store)

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def sql(self, query: str, parameters: list[Any] | None = None) -> pd.DataFrame:
        """Run a query on the case and return a DataFrame (times tz-aware, UTC)."""
        return self.connection.execute(query, parameters or []).fetchdf()

    def sql_head(self, query: str, limit: int = 1000) -> tuple[pd.DataFrame, int]:
        """The first `limit` rows of a query, and how many rows it gives in all."""
        return contents.head(self.connection, query, limit)

    def ingest(
        self,
        *paths: str | Path,
        source: str | None = None,
        progress: ingesting.Progress | None = None,
        mappings: Iterable[str | Path] = (),
        force: bool = False,
    ) -> list[ingesting.FileReport]:
        """`mappings`: folders of mapping files (sources defined without Python); `force`:
        read files already in the case again, replacing their rows (journaled). What the
        case can see is worked out again when a file was added (`ir.coverage.refresh`)."""
        files = [Path(p) for p in paths]
        return ingesting.ingest(
            self.store,
            files,
            source=source,
            progress=progress,
            mappings=mappings,
            after_load=coverage.refresh,
            force=force,
        )

    def forget(self, *files: str | Path) -> list[forgetting.Removed]:
        """Take evidence files (paths, folders or SHA-256) and every row of theirs out of the
        case, journaled; then work out again what the case can see."""
        return forgetting.forget(self.store, [str(f) for f in files], after=coverage.refresh)

    def collect(
        self,
        provider: str,
        *,
        since: str | None = None,
        until: str | None = None,
        out: str | Path = "evidence",
        options: collectors.Options = collectors.DEFAULT_OPTIONS,
        env: Mapping[str, str] | None = None,
        report: collectors.Report | None = None,
    ) -> collectors.Collection:
        """Pull `provider`'s audit logs for [since, until) into `out/<provider>/` and the
        case (contract §8); settings from `env` (default: the environment)."""
        return collectors.run(
            self.store,
            provider,
            since=since,
            until=until,
            out=out,
            options=options,
            env=os.environ if env is None else env,
            report=report,
            after_load=coverage.refresh,
        )

    def trace(
        self,
        *ids: str,
        token: str | None = None,
        leaked_at: str | pd.Timestamp | None = None,
        actor: str | None = None,
        ip: str | None = None,
    ) -> Trace:
        """Trace credential ids (`kind:value`), a raw `token` by its fingerprint ids, every
        credential an `actor` held and every one used from `ip` (an address or CIDR): the
        union of all of them, each lineage under its own root.

        The raw token stays in this call: only the ids derived from it are kept.
        """
        fingerprints = fingerprint_ids(token) if token is not None else []
        held = self._pivot("actor", actor, pivots.held_by)
        used = self._pivot("ip", ip, pivots.used_from)
        query = list(dict.fromkeys([*ids, *fingerprints, *held, *used]))
        if not query:
            raise UsageError("give at least one credential id, or token=, actor= or ip=")
        roots = pivots.canonical_ids(self.connection, query)
        result = tracing.trace(self.connection, roots, query=query, leaked_at=utc(leaked_at))
        return Trace(
            **{f.name: getattr(result, f.name) for f in fields(result)},
            containment=journal.containment(self.connection, result.root),
            connection=self.connection,
        )

    def impact(
        self, *ids: str, token: str | None = None, leaked_at: str | pd.Timestamp | None = None
    ) -> Impact:
        """What the traced lineage could do and touched (contract §9): `resources`, `scopes`
        and `sensitive` DataFrames over the same closure as `trace` (same arguments)."""
        return self.trace(*ids, token=token, leaked_at=leaked_at).impact()

    def _pivot(
        self,
        name: str,
        value: str | None,
        find: Callable[[duckdb.DuckDBPyConnection, str], list[str]],
    ) -> list[str]:
        """The credentials a pivot finds; NotFound when it was given and finds none."""
        if value is None:
            return []
        found = find(self.connection, value)
        if not found:
            raise NotFound(f"no credential in {self.path} for {name} {value!r}")
        return found

    def credentials(
        self,
        kind: str | None = None,
        principal: str | None = None,
        since: str | pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Every credential of the case: kind, principal, first/last seen, events, places,
        revoked or expired; filtered by kind, a part of the principal, use since a time."""
        return pivots.credentials(self.connection, kind, principal, since)

    def hunt(
        self,
        since: str | pd.Timestamp | None = None,
        until: str | pd.Timestamp | None = None,
        top: int | None = None,
    ) -> pd.DataFrame:
        """Credential lineages ranked by evidence that someone else uses them (contract §10):
        one row per finding, highest score first; its `credential` is what `trace` takes."""
        return hunting.hunt(self.connection, utc(since), utc(until), top)

    def timeline(
        self, since: str | pd.Timestamp | None = None, until: str | pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Every event of the case in [since, until) as a Timesketch-ready timeline."""
        return timeline.from_case(self.connection, since, until)

    def dry_run(self, plan: Plan) -> pd.DataFrame:
        """Every API call `plan` would make, one row each; nothing is called."""
        return run.calls_frame(run.dry_run(plan, journal.finished_on(self.connection, plan)))

    def containment(self, root: str | None = None) -> pd.DataFrame:
        """From the playbook journal: what ended each credential, when, by which step, verified."""
        return journal.containment(self.connection, root)

    def graph(self) -> nx.MultiDiGraph:
        """The whole case's credential lineage (parent -> child, one edge per issuing event)."""
        return graph.case_graph(self.connection)

    def sandbox(self) -> None:
        """No files, network or extensions outside the case for the rest of this connection,
        and no SET can undo it: for running SQL a user typed (`ir sql`)."""
        self.connection.execute("SET enable_external_access = false")
        self.connection.execute("SET lock_configuration = true")

    def verify_evidence(self) -> pd.DataFrame:
        """Re-hash every evidence file: status ok, changed, missing or unreadable."""
        return evidence.verify(self.connection)

    def raw_record(self, event: str | int) -> dict[str, Any]:
        """The vendor record behind an event (`<source>:<source_event_id>`, an event_key, or
        `<file>#<record>`), re-read from its evidence file; EvidenceError if it changed."""
        return evidence.raw_record(self.connection, str(event))

    def stats(self) -> pd.DataFrame:
        """Per source: files, events, credentials, rejects, time span."""
        return contents.stats(self.connection)

    def sources(self) -> pd.DataFrame:
        """Known log sources in detection order, with what the case holds of each."""
        return contents.sources(self.connection)

    def coverage(self) -> pd.DataFrame:
        """Per source and tenant: first and last event, events, files, layouts, gaps, the
        vendor's retention and what the export cannot hold (`ir.coverage`)."""
        return coverage.coverage(self.connection)

    def kinds(self) -> pd.DataFrame:
        """Credential kinds ir knows, with how many of each the case holds."""
        return contents.kinds(self.connection)

    def resource_types(self) -> pd.DataFrame:
        """The resource types each source emits, with how many of each the case holds."""
        return contents.resource_types(self.connection)

    def rejects(self, limit: int = 0) -> pd.DataFrame:
        """Records that could not be loaded: file, record number, reason (limit 0: all)."""
        return contents.rejects(self.connection, limit)


def open_case(
    path: str | Path = "case.duckdb",
    read_only: bool = False,
    *,
    lock_timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Case:
    """Open (or create) a case file (`ir.store.open_store`: lock wait, migration, refusal)."""
    return Case(open_store(path, read_only, lock_timeout=lock_timeout, on_wait=on_wait))
