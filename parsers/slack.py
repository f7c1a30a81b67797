"""Slack Enterprise Grid audit logs: Audit Logs API pages (`{"entries": [...]}`), NDJSON entries.

Verified against Slack's Audit Logs API reference (docs.slack.dev
`reference/audit-logs-api/methods-actions-reference`), the action catalogue in
slackapi/java-slack-sdk `com/slack/api/audit/Actions.java`, Panther's Slack
audit rules (app_installed entries with `entity.app.{id,name,scopes}`) and the
shared conformance sample (FIELD_NOTES §9):
- `id` identifies the entry (UUID-like, not always valid hex); `date_create`
  is epoch seconds, an integer (Panther's fixtures write `2021-06-08 22:16:15`).
- `actor` is `{type, user {id, name, email, team}}`; `entity` is
  `{type user|file|app|…, user|file|app {…}}`; `context` is
  `{location {type enterprise|workspace, id, name, domain}, ua, ip_address,
  session_id}`; `session_id` is an integer.
- Entries carry no outcome field: failures are their own actions
  (`user_login_failed`, `file_downloaded_blocked`).
Credentials:
- `slack_session` = `context.session_id`, the session the action was taken in
  (contract §1): `user_login` issues it, `user_logout` revokes it (Slack does
  not say so in words; the session is the one logged in / out), every other
  entry uses it; the principal is the actor's user id.
- `user_session_reset_by_admin` / `user_session_invalidated` end every session
  of the entity user: a `revoked` ref to `slack_user:<entity.user.id>`.
- Apps: Slack logs no token id. `slack_app_install` = `<app id>/<location id>`
  stands for the tokens an install grants: `app_installed`,
  `org_app_installed` and `app_scopes_expanded` issue it (parent: the
  installer's session), `app_uninstalled` / `org_app_uninstalled` revoke it; the
  install's scopes are the entity app's `scopes` (Panther's app_installed entries).
Resources: the `entity` by its `type`: user (`slack_user`), file (`slack_file`), app
(`slack_app`), channel (`slack_channel`), workspace (`slack_workspace`), id and `name`;
access by the shared rule over the action (file_downloaded read, user_login auth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource

LOGIN = "user_login"
LOGOUT = "user_logout"
USER_RESETS = ("user_session_reset_by_admin", "user_session_invalidated")
APP_GRANTS = ("app_installed", "org_app_installed", "app_scopes_expanded")
APP_REMOVALS = ("app_uninstalled", "org_app_uninstalled")
SESSION = "r.context.session_id"
ACTOR_ID = "ir_blank(r.actor.user.id)"
APP_INSTALL = (
    "CASE WHEN ir_blank(r.context.location.id) IS NOT NULL"
    " THEN ir_blank(r.entity.app.id) || '/' || r.context.location.id END"
)
FAILED = "(ends_with(r.action, '_failed') OR ends_with(r.action, '_blocked'))"
ENTITIES = ("user", "file", "app", "channel", "workspace")
RESOURCES = tuple(
    Resource(
        f"slack_{entity}",
        f"r.entity.{entity}.id",
        name=f"r.entity.{entity}.name",
        when=f"r.entity.type = {sql.literal(entity)}",
    )
    for entity in ENTITIES
)


def detect(record: Mapping[str, Any]) -> bool:
    return "date_create" in record and "action" in record and "actor" in record


PARSER = Parser(
    name="slack",
    detect=detect,
    time_field="date_create",
    fields={
        "id": "VARCHAR",
        "date_create": "VARCHAR",
        "action": "VARCHAR",
        "actor": {"type": "VARCHAR", "user": {"id": "VARCHAR", "email": "VARCHAR"}},
        "entity": {
            "type": "VARCHAR",
            **{entity: {"id": "VARCHAR", "name": "VARCHAR"} for entity in ENTITIES},
            "app": {"id": "VARCHAR", "name": "VARCHAR", "scopes": ["VARCHAR"]},
        },
        "context": {
            "location": {"id": "VARCHAR"},
            "ua": "VARCHAR",
            "ip_address": "VARCHAR",
            "session_id": "VARCHAR",
        },
    },
    event={
        "source_event_id": "r.id",
        "time": "ir_time(r.date_create)",
        "action": "r.action",
        "outcome": f"CASE WHEN {FAILED} THEN 'failure' ELSE 'success' END",
        "error": f"CASE WHEN {FAILED} THEN r.action END",
        "actor": f"coalesce(ir_blank(r.actor.user.email), {ACTOR_ID})",
        "tenant": "ir_blank(r.context.location.id)",
        "client_ip": "ir_blank(r.context.ip_address)",
        "user_agent": "ir_blank(r.context.ua)",
    },
    credentials=(
        CredentialRef(
            "slack_session",
            "used",
            value=SESSION,
            when=f"r.action NOT IN ('{LOGIN}', '{LOGOUT}')",
            principal=ACTOR_ID,
        ),
        CredentialRef(
            "slack_session",
            "issued",
            value=SESSION,
            when=f"r.action = '{LOGIN}'",
            via="r.action",
            principal=ACTOR_ID,
        ),
        CredentialRef(
            "slack_session",
            "revoked",
            value=SESSION,
            when=f"r.action = '{LOGOUT}'",
            via="r.action",
            principal=ACTOR_ID,
        ),
        CredentialRef(
            "slack_user",
            "revoked",
            value="r.entity.user.id",
            when=f"r.action IN ({sql.literals(USER_RESETS)})",
            via="r.action",
        ),
        CredentialRef(
            "slack_app_install",
            "issued",
            value=APP_INSTALL,
            when=f"r.action IN ({sql.literals(APP_GRANTS)})",
            parent=f"ir_id('slack_session', {SESSION})",
            via="r.action",
            principal="ir_blank(r.entity.app.id)",
            scopes="r.entity.app.scopes",
        ),
        CredentialRef(
            "slack_app_install",
            "revoked",
            value=APP_INSTALL,
            when=f"r.action IN ({sql.literals(APP_REMOVALS)})",
            via="r.action",
            principal="ir_blank(r.entity.app.id)",
        ),
    ),
    resources=RESOURCES,
)
