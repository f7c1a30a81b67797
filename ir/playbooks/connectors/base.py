"""The connector protocol: what every provider module of a playbook offers.

A connector is one module per provider (`ir/playbooks/connectors/<provider>.py`)
with the same fixed verbs, so the engine (`ir.playbooks.run`) treats every
provider alike: `plan` turns the credentials of a trace that the provider owns
into steps, `calls` says exactly which API calls a step would make (the dry
run), `execute` makes them, `verify` re-checks that the step took effect, and
`check_settings` names a missing setting before any step runs. Connectors
raise `ProviderError` for what the provider refused; the engine retries the
transient ones with backoff and journals the rest. Nothing here or in a
connector ever holds a raw secret in a value it returns or raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ir.errors import UsageError
from ir.providers.base import ProviderError

if TYPE_CHECKING:
    from ir.trace import Trace

__all__ = [
    "ALREADY_DONE",
    "DONE",
    "FAILED",
    "FINISHED",
    "NOT_VERIFIED",
    "SKIPPED",
    "VERIFIED",
    "WOULD_CALL",
    "Call",
    "Connector",
    "PlanChoices",
    "ProviderError",
    "Secrets",
    "Step",
    "StepResult",
]

# StepResult.status values. A run or a verification produces exactly these.
DONE = "done"  # the call(s) changed the provider's state as the step asks
ALREADY_DONE = "already_done"  # the provider was already in that state (idempotent repeat)
FAILED = "failed"  # the provider refused; detail holds its error (no secret)
WOULD_CALL = "would_call"  # dry run: nothing was called
SKIPPED = "skipped"  # the journal shows the step finished in an earlier run
VERIFIED = "verified"  # verify: the credential no longer works / the state holds
NOT_VERIFIED = "not_verified"  # verify: the credential still works / the state is missing
FINISHED = frozenset({DONE, ALREADY_DONE})

ON_ERROR = ("stop", "continue")


@dataclass(frozen=True)
class Call:
    """One API call a step makes, as the dry run shows it: never a secret in `params`.

    `api` names the call the way the provider's documentation does
    (`iam:UpdateAccessKey`, `DELETE /api/v1/api-tokens/{id}`); `when` says when a
    conditional call is made (empty: always).
    """

    api: str
    params: Mapping[str, Any] = field(default_factory=dict)
    when: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"api": self.api, "params": dict(self.params)}
        if self.when:
            data["when"] = self.when
        return data

    def summary(self) -> str:
        """One line for the journal: the call and its parameters."""
        params = " ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.api} {params}".strip()


@dataclass(frozen=True)
class Step:
    """One step of a plan (contract §6), plus the keys `options`, `on_error`, `credentials`.

    `request` is the API call the step will make, as a responder reads it in
    the plan (the connector derives the calls from `target` and `options` when
    it runs); `options` are the choices a responder may edit (`delete`,
    `secret_id`, …); `on_error` is `stop` (default: the run stops at this
    step's failure) or `continue`; `credentials` are the traced credential ids
    the step ends (its target, or the sessions a principal-wide step ends).
    """

    provider: str
    action: str
    target: str
    reason: str
    request: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    on_error: str = "stop"
    credentials: tuple[str, ...] = ()
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "request": dict(self.request),
            "options": dict(self.options),
            "on_error": self.on_error,
            "credentials": list(self.credentials),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "step") -> Step:
        """A step as read from a (possibly hand-edited) plan; a bad field is a UsageError."""
        if not isinstance(data, Mapping):
            raise UsageError(f"{where}: a step must be a JSON object")
        for name in ("id", "provider", "action", "target"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise UsageError(f"{where}: `{name}` must be a non-empty string")
        for name in ("request", "options"):
            if not isinstance(data.get(name, {}), Mapping):
                raise UsageError(f"{where} {data['id']}: `{name}` must be a JSON object")
        credentials = data.get("credentials", [])
        if not isinstance(credentials, list) or not all(isinstance(c, str) for c in credentials):
            raise UsageError(
                f"{where} {data['id']}: `credentials` must be a list of credential ids"
            )
        on_error = data.get("on_error", "stop")
        if on_error not in ON_ERROR:
            raise UsageError(
                f"{where} {data['id']}: `on_error` must be one of {', '.join(ON_ERROR)}"
            )
        return cls(
            provider=data["provider"],
            action=data["action"],
            target=data["target"],
            reason=str(data.get("reason", "")),
            request=dict(data.get("request", {})),
            options=dict(data.get("options", {})),
            on_error=on_error,
            credentials=tuple(credentials),
            id=data["id"],
        )


@dataclass(frozen=True)
class StepResult:
    """What a step did (or would do, or what verify found). `detail` never holds a secret.

    `http_status` is the provider's last HTTP status, when there was a call;
    `request` summarises the calls actually made (for the journal).
    """

    status: str
    detail: str = ""
    http_status: int | None = None
    request: str = ""


@dataclass(frozen=True)
class PlanChoices:
    """What the responder chose when asking for a plan; connectors read what concerns them.

    `rotate`: give the leaked long-term credentials that a legitimate workload
    still uses a rotation step (replacement into a secret store) rather than a
    plain revocation. `quarantine`: add the provider's quarantine policy for the
    principals whose credentials are revoked, where it has one.
    """

    rotate: bool = True
    quarantine: bool = False


class Secrets(Mapping[str, str]):
    """Raw tokens given at run time (`--token-file`), by the credential id they fingerprint to.

    Some revocation APIs need the raw token (GitHub's credential revocation).
    Its repr shows only the ids, so a log line or traceback cannot leak one.
    """

    def __init__(self, by_id: Mapping[str, str] | None = None) -> None:
        self._by_id = dict(by_id or {})

    def __getitem__(self, credential: str) -> str:
        return self._by_id[credential]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"Secrets(<{len(self._by_id)} hidden: {', '.join(self._by_id)}>)"


class Connector(Protocol):
    """A provider module. `PROVIDER` is its name in plans (`Step.provider`)."""

    PROVIDER: str

    def plan(self, trace: Trace, choices: PlanChoices) -> list[Step]:
        """Steps for the traced credentials this provider owns, in the order to run them
        (ids are assigned by the plan). Credentials it does not own are left alone."""
        ...

    def check_settings(self) -> None:
        """Raise ir.errors.MissingSetting naming what is missing, before any step runs."""
        ...

    def calls(self, step: Step) -> list[Call]:
        """The exact API calls `execute(step)` would make (the dry run); calls nothing."""
        ...

    def execute(self, step: Step, secrets: Secrets) -> StepResult:
        """Make the step's calls; DONE, or ALREADY_DONE when the provider was already there.
        Raises ProviderError when the provider refuses."""
        ...

    def verify(self, step: Step, secrets: Secrets) -> StepResult:
        """Re-read the provider: VERIFIED when the step's effect holds, NOT_VERIFIED (with
        what still works in `detail`) otherwise. Raises ProviderError when it cannot read."""
        ...
