"""The playbook journal: every executed or verified step, recorded in the case.

A row says when, which plan (root and creation time) and step, the provider,
action and target, the calls made (a summary without secrets), the outcome and
the provider's detail. Writes are short: the case is opened read-write for
one entry in one transaction and closed again, so the DuckDB file lock is
never held while a provider is called. Every open of the case by a playbook
goes through `open_case_file`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pandas as pd

from ir import sql
from ir.playbooks.connectors.base import FINISHED, NOT_VERIFIED, VERIFIED, Step, StepResult
from ir.store import Store, open_store

if TYPE_CHECKING:
    from ir.playbooks.plan import Plan

KIND = "playbook"
COLUMNS = [
    "time",
    "plan_root",
    "plan_created",
    "ref",
    "provider",
    "action",
    "target",
    "credentials",
    "request",
    "status",
    "http_status",
    "detail",
    "step",
]
CONTAINMENT_COLUMNS = [
    "credential",
    "target",
    "provider",
    "action",
    "step",
    "plan_root",
    "plan_created",
    "revoked_at",
    "status",
    "detail",
    "verified",
    "verified_at",
    "verify_detail",
]
_INSERT = f"""
INSERT INTO journal (kind, {", ".join(COLUMNS)})
VALUES ('{KIND}', {", ".join("?" for _ in COLUMNS)})
"""
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM journal WHERE kind = {sql.literal(KIND)}"


def open_case_file(path: Path, read_only: bool = False) -> Store:
    """The one way playbooks open the case file."""
    return open_store(path, read_only=read_only)


def record(path: Path, plan: Plan, step: Step, result: StepResult) -> None:
    """Append one entry in its own short write (open, insert, commit, close)."""
    values = [
        datetime.now(timezone.utc),
        plan.root,
        plan.created,
        step.id,
        step.provider,
        step.action,
        step.target,
        list(step.credentials),
        result.request,
        result.status,
        result.http_status,
        result.detail,
        orjson.dumps(step.to_json()).decode(),
    ]
    with open_case_file(path) as store:
        store.connection.execute("BEGIN TRANSACTION")
        store.connection.execute(_INSERT, values)
        store.connection.execute("COMMIT")


def entries(connection: duckdb.DuckDBPyConnection, root: str | None = None) -> pd.DataFrame:
    """The playbook journal in time order, of one plan root or all."""
    sql = _SELECT + (" AND plan_root = ?" if root else "") + " ORDER BY time, ref"
    frame = connection.execute(sql, [root] if root else []).fetchdf()
    # The list column comes back as numpy arrays: as lists, JSON and CSV output can show
    # them (an array of several ids cannot be made a scalar cell; one of one id would be).
    frame["credentials"] = frame["credentials"].map(
        lambda ids: [] if ids is None else [str(i) for i in ids]
    )
    return frame


def read(path: Path, root: str | None = None) -> pd.DataFrame:
    """`entries` of the case file at `path` (opened read-only, then closed)."""
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    with open_case_file(path, read_only=True) as store:
        return entries(store.connection, root)


def finished(path: Path, plan: Plan) -> dict[str, pd.Timestamp]:
    """`finished_on` the case file at `path` (opened read-only, then closed); none when the
    case does not exist yet."""
    if not path.exists():
        return {}
    with open_case_file(path, read_only=True) as store:
        return finished_on(store.connection, plan)


def finished_on(connection: duckdb.DuckDBPyConnection, plan: Plan) -> dict[str, pd.Timestamp]:
    """Steps of `plan` that an earlier run finished (done or already done): id -> when."""
    journal = entries(connection, plan.root)
    done = journal[(journal["plan_created"] == plan.created) & journal["status"].isin(FINISHED)]
    return {str(ref): time for ref, time in done.groupby("ref")["time"].min().items()}


def finished_steps(path: Path, root: str | None = None) -> list[tuple[str, str, list[Any]]]:
    """Every plan (root, created) with the steps that a run finished, as journaled (JSON),
    in the order they first finished: what `verify` re-checks when given no plan."""
    journal = read(path, root)
    done = journal[journal["status"].isin(FINISHED) & journal["step"].notna()]
    done = done.sort_values("time").drop_duplicates(["plan_root", "plan_created", "ref"])
    plans: dict[tuple[str, str], list[Any]] = {}
    for entry in done.itertuples(index=False):
        plans.setdefault((entry.plan_root, entry.plan_created), []).append(orjson.loads(entry.step))
    return [(root_, created, steps) for (root_, created), steps in plans.items()]


def containment(connection: duckdb.DuckDBPyConnection, root: str | None = None) -> pd.DataFrame:
    """Per credential (or target, for steps that end no traced credential): what ended it,
    when, by which step, and whether the last verification after that found it ended.

    For the breach report's Containment section.
    """
    journal = entries(connection, root)
    revoked = journal[journal["status"].isin(FINISHED)]
    if revoked.empty:
        return pd.DataFrame(columns=CONTAINMENT_COLUMNS)
    first = revoked.sort_values("time").drop_duplicates(["plan_root", "plan_created", "ref"])
    checks = journal[journal["status"].isin([VERIFIED, NOT_VERIFIED])]
    rows = []
    for entry in first.itertuples(index=False):
        check = _last_check(checks, entry)
        for credential in list(entry.credentials) or [None]:
            rows.append(
                {
                    "credential": credential,
                    "target": entry.target,
                    "provider": entry.provider,
                    "action": entry.action,
                    "step": entry.ref,
                    "plan_root": entry.plan_root,
                    "plan_created": entry.plan_created,
                    "revoked_at": entry.time,
                    "status": entry.status,
                    "detail": entry.detail,
                    "verified": None if check is None else check.status == VERIFIED,
                    "verified_at": None if check is None else check.time,
                    "verify_detail": None if check is None else check.detail,
                }
            )
    return pd.DataFrame(rows, columns=CONTAINMENT_COLUMNS)


def _last_check(checks: pd.DataFrame, entry: Any) -> Any:
    """The latest verification of the same plan step after it was executed."""
    same = checks[
        (checks["plan_root"] == entry.plan_root)
        & (checks["plan_created"] == entry.plan_created)
        & (checks["ref"] == entry.ref)
        & (checks["time"] >= entry.time)
    ]
    return None if same.empty else next(same.sort_values("time").tail(1).itertuples(index=False))
