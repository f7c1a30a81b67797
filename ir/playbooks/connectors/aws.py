"""AWS connector: end a traced key lineage in IAM (contract §6, revocation-apis.md §1).

Actions, each idempotent (it reads the state first and changes only what differs):

- `deactivate_access_key` (`aws_access_key:AKIA…`): UpdateAccessKey Inactive; with
  `options.delete` also DeleteAccessKey. Keys the attacker made land here.
- `rotate_access_key` (`aws_access_key:AKIA…`): for a leaked key a legitimate
  workload still uses: CreateAccessKey, the new key into the Secrets Manager
  secret `options.secret_id`, then UpdateAccessKey Inactive on the old one.
  Two keys per user at most: with `options.delete_old_first` the old key is
  deactivated and deleted to make room, otherwise the step fails saying so.
- `revoke_role_sessions` (`aws_role:<role arn>`): the console's "Revoke active
  sessions": inline policy AWSRevokeOlderSessions denying everything to
  sessions issued before the step runs (or `options.issued_before`).
- `revoke_user_sessions` (`aws_user:<user arn>`): the same deny on an IAM user,
  for GetSessionToken / GetFederationToken sessions (deactivating the user's
  key does not end them).
- `quarantine_user` (`aws_user:<user arn>`, only when asked): attach AWS's
  compromised-key quarantine policy.

Every IAM call names the user (`options.user_name`, else GetAccessKeyLastUsed's
UserName): without it IAM acts on the caller's own keys. Keys and roles outside
the traced lineage are never touched: every step names its target. The new
secret access key goes to Secrets Manager and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
import pandas as pd

from ir import render
from ir.credentials import split_id
from ir.errors import UsageError
from ir.playbooks.connectors.base import (
    ALREADY_DONE,
    DONE,
    NOT_VERIFIED,
    VERIFIED,
    Call,
    PlanChoices,
    Secrets,
    Step,
    StepResult,
)
from ir.providers import aws
from ir.providers.base import Gone, ProviderError, Rejected

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from ir.trace import Trace

PROVIDER = "aws"
REVOKE_POLICY = "AWSRevokeOlderSessions"
# AWS's managed quarantine policies: V2 (2021), V3 (2024), V4 (2026). moto knows V2 and V3.
QUARANTINE_POLICY = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
WHEN_RUN = "<time the step runs>"
NOT_SHOWN = "<new access key: id and secret, not shown>"

_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/")
_IAM_USER = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):user/(?:.*/)?([^/]+)$")
_FEDERATED_USER = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):federated-user/")


def check_settings() -> None:
    aws.check_credentials()


# --- plan -------------------------------------------------------------------------


def plan(trace: Trace, choices: PlanChoices) -> list[Step]:
    """Keys first (rotate or deactivate, parents before children), then the sessions of
    every role and user the lineage holds, then quarantine when chosen."""
    keys = trace.credentials[trace.credentials["kind"] == "aws_access_key"]
    if keys.empty:
        return []
    legitimate = _used_from_known_places(trace)
    accounts = _accounts(trace)
    principals = dict(zip(keys["id"], keys["principal"], strict=True))
    key_steps: list[Step] = []
    sessions: dict[str, list[tuple[str, pd.Timestamp]]] = {}
    for row in keys.itertuples(index=False):
        key_id = split_id(row.id)[1]
        owner = _session_owner(row, principals)
        if key_id.startswith("ASIA") or owner is not None:
            if owner is not None:
                sessions.setdefault(owner, []).append((row.id, row.first_seen))
            continue
        user = _user_name(row.principal)
        rotate = choices.rotate and pd.isna(row.parent) and row.id in legitimate
        key_steps.append(_key_step(row, user, rotate))
    session_steps = [_session_step(owner, held) for owner, held in sessions.items()]
    steps = key_steps + session_steps
    if choices.quarantine:
        steps += _quarantine_steps(key_steps, accounts)
    return [replace(step, request=_request(step)) for step in steps]


def _used_from_known_places(trace: Trace) -> set[str]:
    """Credentials used from a place that is not new: where the workload ran before exposure."""
    known = trace.places[~trace.places["new"].astype(bool)]
    return {credential for held in known["credentials"] for credential in held}


def _accounts(trace: Trace) -> dict[str, str]:
    """Each credential's AWS account, as its events' tenant says."""
    events = trace.events.dropna(subset=["tenant"])
    return {str(k): str(v) for k, v in events.groupby("credential")["tenant"].first().items()}


def _session_owner(row: Any, principals: Mapping[str, Any]) -> str | None:
    """`aws_role:<arn>` / `aws_user:<arn>` whose sessions a temporary key is, else None."""
    principal = row.principal if isinstance(row.principal, str) else ""
    role = _ASSUMED_ROLE.match(principal)
    if role:
        partition, account, name = role.groups()
        return f"aws_role:arn:{partition}:iam::{account}:role/{name}"
    if row.relation_to_parent in ("GetSessionToken", "GetFederationToken") or (
        _FEDERATED_USER.match(principal) and isinstance(row.parent, str)
    ):
        # The session is the calling IAM user's: its parent key's user.
        parent = principals.get(row.parent, "") if isinstance(row.parent, str) else ""
        user = _IAM_USER.match(parent if isinstance(parent, str) else "") or _IAM_USER.match(
            principal
        )
        return f"aws_user:{user.group(0)}" if user else None
    return None


def _user_name(principal: Any) -> str | None:
    """The IAM user name in a principal (`arn:…:user/path/name` or a bare name as logged)."""
    if not isinstance(principal, str) or not principal:
        return None
    user = _IAM_USER.match(principal)
    if user:
        return user.group(3)
    return None if principal.startswith("arn:") else principal


def _key_step(row: Any, user: str | None, rotate: bool) -> Step:
    whose = f"of IAM user {user}" if user else "(its user is resolved when the step runs)"
    if rotate:
        secret = f"ir/rotated/{_safe(user or split_id(row.id)[1])}/access-key"
        return Step(
            provider=PROVIDER,
            action="rotate_access_key",
            target=row.id,
            reason=f"leaked long-term key {whose}, also used from places seen before the"
            " exposure: a legitimate workload still needs a key. Create its replacement, store"
            f" it in the Secrets Manager secret {secret} (point the workload there), then"
            " deactivate the leaked key. Change the action to deactivate_access_key if"
            " nothing legitimate uses it.",
            request={},
            options={"user_name": user, "secret_id": secret, "delete_old_first": False},
            credentials=(row.id,),
        )
    made_by = (
        f"created by {row.relation_to_parent} with {row.parent}, inside the traced lineage:"
        " the attacker's key"
        if isinstance(row.parent, str)
        else "leaked long-term key, not seen in use before the exposure"
    )
    revoked = (
        f"; logged as revoked at {render.iso(row.revoked_at)}, the step confirms it"
        if not pd.isna(row.revoked_at)
        else ""
    )
    return Step(
        provider=PROVIDER,
        action="deactivate_access_key",
        target=row.id,
        reason=f"{made_by} {whose}{revoked}. Set options.delete to also delete it"
        " (deleting loses its last-used record).",
        request={},
        options={"user_name": user, "delete": False},
        credentials=(row.id,),
    )


def _safe(name: str) -> str:
    """A Secrets Manager name part: letters, digits and /_+=.@- only."""
    return re.sub(r"[^\w/+=.@-]", "-", name)


def _session_step(owner: str, held: list[tuple[str, pd.Timestamp]]) -> Step:
    kind, arn = owner.split(":", 1)
    name = arn.rsplit("/", 1)[-1]
    newest = max((t for _, t in held if not pd.isna(t)), default=None)
    ids = tuple(credential for credential, _ in held)
    if kind == "aws_role":
        action = "revoke_role_sessions"
        effect = (
            f"{len(ids)} traced session(s) of role {name}. Denies everything to every session"
            " of the role issued before the step runs, legitimate ones too (the console's"
            " Revoke active sessions)"
        )
    else:
        action = "revoke_user_sessions"
        effect = (
            f"{len(ids)} traced GetSessionToken/GetFederationToken session(s) of IAM user"
            f" {name}: they outlive the user's deactivated key. Denies everything to the"
            " user's sessions issued before the step runs (its long-term keys are unaffected)"
        )
    return Step(
        provider=PROVIDER,
        action=action,
        target=owner,
        reason=f"{effect}: {', '.join(ids)}",
        request={},
        options={"issued_before": None, "newest_session": render.iso(newest)},
        credentials=ids,
    )


def _quarantine_steps(key_steps: list[Step], accounts: Mapping[str, str]) -> list[Step]:
    """One per user whose key is deactivated (not rotated: that user's workload goes on)."""
    users: dict[str, str] = {}
    for step in key_steps:
        user = step.options.get("user_name")
        if step.action == "deactivate_access_key" and user:
            account = accounts.get(step.target)
            users.setdefault(user, f"arn:aws:iam::{account}:user/{user}" if account else user)
    return [
        Step(
            provider=PROVIDER,
            action="quarantine_user",
            target=f"aws_user:{arn}",
            reason=f"IAM user {user} held a traced key: attach AWS's compromised-key quarantine"
            " policy (denies creating keys, users, roles, instances …) until it is cleaned up",
            request={},
            options={"user_name": user, "policy_arn": QUARANTINE_POLICY},
        )
        for user, arn in users.items()
    ]


def _request(step: Step) -> dict[str, Any]:
    """The plan's `request`: the calls the step makes, the cut-off time left to the run."""
    return {"calls": [call.to_json() for call in _action(step).calls(step, WHEN_RUN)]}


# --- the calls ---------------------------------------------------------------------
# One constructor per IAM / Secrets Manager call: the dry run lists them, `execute`
# makes them, so what a dry run shows is what a run sends.


def _list_keys(user: str) -> Call:
    return Call("iam:ListAccessKeys", {"UserName": user})


def _last_used(key: str) -> Call:
    return Call("iam:GetAccessKeyLastUsed", {"AccessKeyId": key})


def _deactivate_key(user: str, key: str) -> Call:
    return Call("iam:UpdateAccessKey", {"UserName": user, "AccessKeyId": key, "Status": "Inactive"})


def _delete_key(user: str, key: str) -> Call:
    return Call("iam:DeleteAccessKey", {"UserName": user, "AccessKeyId": key})


def _create_key(user: str) -> Call:
    return Call("iam:CreateAccessKey", {"UserName": user})


def _read_secret(secret: str) -> Call:
    return Call("secretsmanager:GetSecretValue", {"SecretId": secret})


def _create_secret(secret: str, user: str, key: str) -> Call:
    description = f"Access key of IAM user {user} replacing leaked {key} (ir playbook)"
    return Call("secretsmanager:CreateSecret", {"Name": secret, "Description": description})


def _put_secret(secret: str) -> Call:
    return Call("secretsmanager:PutSecretValue", {"SecretId": secret})


def _attached(user: str) -> Call:
    return Call("iam:ListAttachedUserPolicies", {"UserName": user})


def _attach(user: str, policy: str) -> Call:
    return Call("iam:AttachUserPolicy", {"UserName": user, "PolicyArn": policy})


def _when(call: Call, when: str) -> Call:
    return replace(call, when=when)


def _shown_secret(call: Call) -> Call:
    """A call that sends the new key, as shown: the secret's place, never its value."""
    return replace(call, params={**call.params, "SecretString": NOT_SHOWN})


def calls(step: Step) -> list[Call]:
    return _action(step).calls(step, _cutoff(step))


def _cutoff(step: Step) -> str:
    """The aws:TokenIssueTime cut-off: options.issued_before, else now (UTC)."""
    chosen = step.options.get("issued_before")
    if chosen:
        return str(render.iso(pd.Timestamp(chosen)))
    # Rounded up to the second: a session issued earlier in this very second is denied too.
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_id(step: Step) -> str:
    kind, value = split_id(step.target)
    if kind != "aws_access_key":
        raise UsageError(f"step {step.id}: {step.action} needs an aws_access_key target")
    return value


def _find_user(step: Step) -> list[Call]:
    if step.options.get("user_name"):
        return []
    return [_when(_last_used(_key_id(step)), "the plan names no user (options.user_name)")]


def _planned_user(step: Step) -> str:
    return str(step.options.get("user_name") or "<UserName from GetAccessKeyLastUsed>")


def _deactivate_plan(step: Step, _cutoff: str) -> list[Call]:
    key, user = _key_id(step), _planned_user(step)
    delete = [_when(_delete_key(user, key), "the key exists")] if step.options.get("delete") else []
    return [
        *_find_user(step),
        _list_keys(user),
        _when(_deactivate_key(user, key), "the key is Active"),
        *delete,
    ]


def _rotate_plan(step: Step, _cutoff: str) -> list[Call]:
    key, user, secret = _key_id(step), _planned_user(step), _secret_id(step)
    missing = "the secret holds no Active key of the user but the leaked one"
    full = "CreateAccessKey failed with LimitExceeded (options.delete_old_first)"
    make_room = (
        [
            _when(_deactivate_key(user, key), full),
            _when(_delete_key(user, key), full),
            _when(_create_key(user), full),
        ]
        if step.options.get("delete_old_first")
        else []
    )
    return [
        *_find_user(step),
        _list_keys(user),
        _when(_read_secret(secret), "the secret exists"),
        _when(_create_key(user), missing),
        *make_room,
        _when(_shown_secret(_create_secret(secret, user, key)), f"{missing}; a new secret"),
        _when(_shown_secret(_put_secret(secret)), f"{missing}; the secret exists"),
        _when(_delete_key(user, "<the new key>"), "storing the new key failed (undo)"),
        _when(_deactivate_key(user, key), "the leaked key is Active"),
    ]


def _secret_id(step: Step) -> str:
    secret = step.options.get("secret_id")
    if not isinstance(secret, str) or not secret:
        raise UsageError(
            f"step {step.id}: rotate_access_key needs options.secret_id, the Secrets Manager"
            " secret that receives the new key"
        )
    return secret


def _deny_document(cutoff: str) -> str:
    """The console's AWSRevokeOlderSessions document (revocation-apis.md §1), exactly."""
    return orjson.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}},
            },
        }
    ).decode()


@dataclass(frozen=True)
class _Holder:
    """Where a session deny goes: a role or a user (same document, other IAM calls)."""

    noun: str  # Role | User

    def name(self, step: Step) -> str:
        kind, arn = step.target.split(":", 1)
        if kind != f"aws_{self.noun.lower()}":
            raise UsageError(
                f"step {step.id}: {step.action} needs an aws_{self.noun.lower()} target"
            )
        return arn.rsplit("/", 1)[-1]

    def read(self, step: Step) -> Call:
        return Call(
            f"iam:Get{self.noun}Policy",
            {f"{self.noun}Name": self.name(step), "PolicyName": REVOKE_POLICY},
        )

    def write(self, step: Step, cutoff: str) -> Call:
        return Call(
            f"iam:Put{self.noun}Policy",
            {
                f"{self.noun}Name": self.name(step),
                "PolicyName": REVOKE_POLICY,
                "PolicyDocument": _deny_document(cutoff),
            },
        )

    def plan(self, step: Step, cutoff: str) -> list[Call]:
        later = "no AWSRevokeOlderSessions policy with this cut-off or a later one"
        return [self.read(step), _when(self.write(step, cutoff), later)]


_ROLE, _USER = _Holder("Role"), _Holder("User")


def _quarantine_plan(step: Step, _cutoff: str) -> list[Call]:
    user = _quarantine_user(step)
    return [
        _attached(user),
        _when(_attach(user, _quarantine_arn(step)), "the policy is not attached"),
    ]


def _quarantine_user(step: Step) -> str:
    return str(step.options.get("user_name") or _USER.name(step))


def _quarantine_arn(step: Step) -> str:
    return str(step.options.get("policy_arn") or QUARANTINE_POLICY)


# --- execute and verify --------------------------------------------------------------


class _Session:
    """One step's clients and the calls it made, for the journal (never a secret)."""

    def __init__(self) -> None:
        self._clients: dict[str, BaseClient] = {}
        self.made: list[str] = []
        self.http_status: int | None = None

    def run(self, call: Call, **secret: str) -> dict[str, Any]:
        """Make `call`; `secret` parameters are sent but shown as NOT_SHOWN."""
        service = call.api.split(":", 1)[0]
        if service not in self._clients:
            self._clients[service] = aws.client(service)
        self.made.append((_shown_secret(call) if secret else call).summary())
        response = aws.call(self._clients[service], call.api, {**call.params, **secret})
        self.http_status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return response

    def result(self, status: str, detail: str) -> StepResult:
        return StepResult(status, detail, self.http_status, "; ".join(self.made))


def execute(step: Step, secrets: Secrets) -> StepResult:
    del secrets  # AWS revocation needs no raw token: the boto3 chain signs
    session = _Session()
    return _action(step).execute(step, session)


def verify(step: Step, secrets: Secrets) -> StepResult:
    del secrets
    session = _Session()
    return _action(step).verify(step, session)


def _resolve_user(session: _Session, step: Step) -> str:
    """The key's IAM user: the plan's, else GetAccessKeyLastUsed's UserName."""
    user = step.options.get("user_name")
    if user:
        return str(user)
    key = _key_id(step)
    try:
        return str(session.run(_last_used(key))["UserName"])
    except Gone as error:
        raise Gone(
            PROVIDER,
            f"{key}: IAM knows no such key in this account (deleted, or another account's);"
            f" set options.user_name of step {step.id} to check a deleted key",
            status=error.status,
            code=error.code,
        ) from None


def _keys(session: _Session, user: str) -> dict[str, str]:
    """The user's access keys and their status (a user holds at most two)."""
    listed = session.run(_list_keys(user))["AccessKeyMetadata"]
    return {str(k["AccessKeyId"]): str(k["Status"]) for k in listed}


def _deactivate(step: Step, session: _Session) -> StepResult:
    key = _key_id(step)
    user = _resolve_user(session, step)
    status = _keys(session, user).get(key)
    if status is None:
        return session.result(ALREADY_DONE, f"{key} of {user} no longer exists")
    changed = []
    if status == "Active":
        session.run(_deactivate_key(user, key))
        changed.append("deactivated")
    if step.options.get("delete"):
        session.run(_delete_key(user, key))
        changed.append("deleted")
    if not changed:
        return session.result(ALREADY_DONE, f"{key} of {user} was already Inactive")
    return session.result(DONE, f"{key} of {user} {' and '.join(changed)}")


def _verify_key(step: Step, session: _Session) -> StepResult:
    key = _key_id(step)
    user = _resolve_user(session, step)
    status = _keys(session, user).get(key)
    if status is None:
        return session.result(VERIFIED, f"{key} of {user} no longer exists")
    used = session.run(_last_used(key)).get("AccessKeyLastUsed", {}).get("LastUsedDate")
    last = f"; last used {render.iso(used)}" if used else "; never used"
    if status == "Active":
        return session.result(NOT_VERIFIED, f"{key} of {user} is still Active{last}")
    return session.result(VERIFIED, f"{key} of {user} is {status}{last}")


def _rotate(step: Step, session: _Session) -> StepResult:
    old, secret = _key_id(step), _secret_id(step)
    user = _resolve_user(session, step)
    keys = _keys(session, user)
    replacement = _stored_replacement(session, secret, keys, old)
    done = []
    if replacement is None:
        replacement, old_deleted = _replace(step, session, user, old, secret)
        done.append(f"created {replacement} for {user} and stored it in secret {secret}")
        if old_deleted:
            done.append(f"deactivated and deleted {old} to make room")
            keys.pop(old, None)
    if keys.get(old) == "Active":
        session.run(_deactivate_key(user, old))
        done.append(f"deactivated {old}")
    if not done:
        return session.result(
            ALREADY_DONE, f"{replacement} in secret {secret} replaces {old}, which is not Active"
        )
    return session.result(DONE, "; ".join(done))


def _stored_replacement(
    session: _Session, secret: str, keys: Mapping[str, str], old: str
) -> str | None:
    """The key id a previous run stored in the secret, if it is an Active key of the user."""
    try:
        value = session.run(_read_secret(secret)).get("SecretString")
    except Gone:
        return None
    try:
        stored = orjson.loads(value or "{}").get("AccessKeyId")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    del value
    return stored if stored != old and keys.get(str(stored)) == "Active" else None


def _replace(step: Step, session: _Session, user: str, old: str, secret: str) -> tuple[str, bool]:
    """Create the new key and store it; (its id, whether the old key was deleted for room)."""
    old_deleted = False
    try:
        created = session.run(_create_key(user))["AccessKey"]
    except ProviderError as error:
        if error.code != "LimitExceeded":
            raise
        if not step.options.get("delete_old_first"):
            raise _full(step, error, user, old) from None
        session.run(_deactivate_key(user, old))
        session.run(_delete_key(user, old))
        old_deleted = True
        created = session.run(_create_key(user))["AccessKey"]
    new_id = str(created["AccessKeyId"])
    value = orjson.dumps(
        {"AccessKeyId": new_id, "SecretAccessKey": created["SecretAccessKey"]}
    ).decode()
    del created
    try:
        _store(session, secret, value, user, old)
    except ProviderError:
        session.run(_delete_key(user, new_id))  # nobody could ever use it: undo
        raise
    finally:
        del value
    return new_id, old_deleted


def _full(step: Step, error: ProviderError, user: str, old: str) -> Rejected:
    return Rejected(
        PROVIDER,
        f"{error.args[0].removeprefix('aws: ')}. IAM user {user} already holds 2 access keys,"
        f" AWS's limit: set options.delete_old_first to true in step {step.id} to deactivate"
        f" and delete {old} first, or delete the user's other key",
        status=error.status,
        code=error.code,
    )


def _store(session: _Session, secret: str, value: str, user: str, old: str) -> None:
    try:
        session.run(_create_secret(secret, user, old), SecretString=value)
    except ProviderError as error:
        if error.code != "ResourceExistsException":
            raise
        session.run(_put_secret(secret), SecretString=value)


def _verify_rotation(step: Step, session: _Session) -> StepResult:
    old, secret = _key_id(step), _secret_id(step)
    user = _resolve_user(session, step)
    keys = _keys(session, user)
    replacement = _stored_replacement(session, secret, keys, old)
    problems = []
    if keys.get(old) == "Active":
        problems.append(f"{old} of {user} is still Active")
    if replacement is None:
        problems.append(f"secret {secret} holds no Active key of {user}")
    if problems:
        return session.result(NOT_VERIFIED, "; ".join(problems))
    state = keys.get(old, "deleted")
    return session.result(VERIFIED, f"{old} is {state}; {replacement} in secret {secret} is Active")


def _deny_cutoff(session: _Session, holder: _Holder, step: Step) -> pd.Timestamp | None:
    """The cut-off of the holder's AWSRevokeOlderSessions policy, if it has one."""
    try:
        document = session.run(holder.read(step))["PolicyDocument"]
    except Gone:
        return None
    if isinstance(document, str):
        document = orjson.loads(unquote(document))
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        cutoff = statement.get("Condition", {}).get("DateLessThan", {}).get("aws:TokenIssueTime")
        if statement.get("Effect") == "Deny" and statement.get("Action") == "*" and cutoff:
            return pd.Timestamp(cutoff)
    return None


def _revoker(holder: _Holder) -> Callable[[Step, _Session], StepResult]:
    def revoke(step: Step, session: _Session) -> StepResult:
        cutoff = _cutoff(step)
        current = _deny_cutoff(session, holder, step)
        what = f"{holder.noun.lower()} {holder.name(step)}"
        if current is not None and current >= pd.Timestamp(cutoff):
            return session.result(
                ALREADY_DONE, f"{what} already denies sessions issued before {render.iso(current)}"
            )
        session.run(holder.write(step, cutoff))
        return session.result(DONE, f"{what}: sessions issued before {cutoff} denied everything")

    return revoke


def _session_verifier(holder: _Holder) -> Callable[[Step, _Session], StepResult]:
    def check(step: Step, session: _Session) -> StepResult:
        current = _deny_cutoff(session, holder, step)
        what = f"{holder.noun.lower()} {holder.name(step)}"
        if current is None:
            return session.result(NOT_VERIFIED, f"{what} has no {REVOKE_POLICY} deny policy")
        newest = step.options.get("newest_session")
        if newest and current <= pd.Timestamp(newest):
            return session.result(
                NOT_VERIFIED,
                f"{what}: the deny's cut-off {render.iso(current)} is not after the newest"
                f" traced session ({newest})",
            )
        return session.result(
            VERIFIED, f"{what}: sessions issued before {render.iso(current)} are denied"
        )

    return check


def _quarantined(session: _Session, step: Step) -> bool:
    user = _quarantine_user(step)
    attached = session.run(_attached(user))["AttachedPolicies"]
    return any(p["PolicyArn"] == _quarantine_arn(step) for p in attached)


def _quarantine(step: Step, session: _Session) -> StepResult:
    user, policy = _quarantine_user(step), _quarantine_arn(step)
    if _quarantined(session, step):
        return session.result(ALREADY_DONE, f"{policy} was already attached to {user}")
    session.run(_attach(user, policy))
    return session.result(DONE, f"{policy} attached to {user}")


def _verify_quarantine(step: Step, session: _Session) -> StepResult:
    user, policy = _quarantine_user(step), _quarantine_arn(step)
    if _quarantined(session, step):
        return session.result(VERIFIED, f"{policy} is attached to {user}")
    return session.result(NOT_VERIFIED, f"{policy} is not attached to {user}")


@dataclass(frozen=True)
class _Action:
    calls: Callable[[Step, str], list[Call]]
    execute: Callable[[Step, _Session], StepResult]
    verify: Callable[[Step, _Session], StepResult]


_ACTIONS: dict[str, _Action] = {
    "deactivate_access_key": _Action(_deactivate_plan, _deactivate, _verify_key),
    "rotate_access_key": _Action(_rotate_plan, _rotate, _verify_rotation),
    "revoke_role_sessions": _Action(_ROLE.plan, _revoker(_ROLE), _session_verifier(_ROLE)),
    "revoke_user_sessions": _Action(_USER.plan, _revoker(_USER), _session_verifier(_USER)),
    "quarantine_user": _Action(_quarantine_plan, _quarantine, _verify_quarantine),
}


def _action(step: Step) -> _Action:
    action = _ACTIONS.get(step.action)
    if action is None:
        raise UsageError(
            f"step {step.id}: aws has no action {step.action!r}; known: {', '.join(_ACTIONS)}"
        )
    return action
