"""What the SaaS connectors share: reading a trace's credentials, building steps, gone-is-done.

Each SaaS connector is a thin module over its `ir.providers` client; the shapes
they all repeat live here so no connector copies another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ir.errors import UsageError
from ir.playbooks.connectors.base import ALREADY_DONE, DONE, Call, Step, StepResult
from ir.providers.http import Gone

if TYPE_CHECKING:
    from ir.trace import Trace


@dataclass(frozen=True)
class Traced:
    """One traced credential, as a connector needs it."""

    id: str
    kind: str
    value: str
    principal: str | None
    last_seen: datetime | None


def traced(trace: Trace, kinds: Iterable[str]) -> list[Traced]:
    """The trace's credentials of `kinds`, in the trace's order (depth, then first seen)."""
    wanted = set(kinds)
    rows: list[dict[str, Any]] = trace.credentials.to_dict("records")
    return [
        Traced(
            id=str(row["id"]),
            kind=str(row["kind"]),
            value=str(row["id"]).split(":", 1)[1],
            principal=_text(row.get("principal")),
            last_seen=_time(row.get("last_seen")),
        )
        for row in rows
        if row["kind"] in wanted
    ]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: Any) -> datetime | None:
    return value.to_pydatetime() if hasattr(value, "to_pydatetime") and value == value else None


def by_principal(credentials: Iterable[Traced]) -> dict[str, list[Traced]]:
    """Credentials grouped by their principal (those without one are left out), in order."""
    groups: dict[str, list[Traced]] = {}
    for credential in credentials:
        if credential.principal:
            groups.setdefault(credential.principal, []).append(credential)
    return groups


def step(
    provider: str,
    action: str,
    target: str,
    reason: str,
    call: Call,
    *,
    credentials: Iterable[str] = (),
    options: Mapping[str, Any] | None = None,
) -> Step:
    """A plan step whose `request` is the call it makes (no secret in it)."""
    return Step(
        provider=provider,
        action=action,
        target=target,
        reason=reason,
        request=call.to_json(),
        options=dict(options or {}),
        credentials=tuple(credentials),
    )


def value_of(step: Step) -> str:
    """The identifier after `kind:` in a step's target."""
    return step.target.split(":", 1)[1]


def gone_is_done(action: Callable[[], object], call: Call) -> StepResult:
    """Run a revocation: DONE, or ALREADY_DONE when the provider says the object is gone."""
    try:
        action()
    except Gone as gone:
        return StepResult(ALREADY_DONE, str(gone), gone.status, call.summary())
    return StepResult(DONE, "", None, call.summary())


def env() -> Mapping[str, str]:
    """The settings the connectors read (contract §6): the process environment."""
    return os.environ


def raw_token(secrets: Mapping[str, str], credential: str) -> str:
    """The raw token a revocation API needs, given at run time; a usage error without it."""
    try:
        return secrets[credential]
    except KeyError:
        raise UsageError(
            f"{credential}: revoking it needs the raw token: pass it with --token-file"
        ) from None
