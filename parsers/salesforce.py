"""Salesforce: EventLogFile CSVs, SOQL pages of sObjects, real-time event monitoring JSON.

Verified against the Salesforce Object Reference / Platform Events Developer
Guide field lists (LoginEvent, ApiEvent, ApiEventStream, LogoutEvent: EventDate,
EventIdentifier, LoginKey, SessionKey, ConnectedAppId, Username, UserId,
SourceIp, Status, Browser, CountryIso, Operation), the EventLogFile field
lists, elastic/beats' CometD input test (`{"data": {"payload": {…}, "event":
{"replayId": …}}, "channel": "/event/LoginEventStream"}`) and the shared
conformance samples (FIELD_NOTES §10):
- EventLogFile rows (the CSV as downloaded: quoted UPPER_SNAKE header, every
  value a string, empty = not logged): EVENT_TYPE, TIMESTAMP
  (`yyyyMMddHHmmss.SSS`, GMT, variable fraction), TIMESTAMP_DERIVED (ISO `Z`),
  REQUEST_ID (shared by a transaction's rows), ORGANIZATION_ID, USER_ID (15)
  / USER_ID_DERIVED (18), USER_NAME, CLIENT_IP, SOURCE_IP, LOGIN_KEY,
  SESSION_KEY, CONNECTED_APP_ID (RestApi, API, ApiTotalUsage), LOGIN_STATUS
  (`LOGIN_NO_ERROR` on success), REQUEST_STATUS (S/F/A/U/R/N or the word),
  STATUS_CODE, BROWSER_TYPE. Id: `<EVENT_TYPE>:<REQUEST_ID>:<TIMESTAMP>`.
- sObjects (SOQL `{"records": […]}` or one per line) carry `attributes {type,
  url}` and `Id`: LoginHistory (LoginTime, UserId, SourceIp, Status, Browser,
  CountryIso), SetupAuditTrail (CreatedDate `…+0000`, Action, CreatedById,
  CreatedBy.Username), event objects (EventIdentifier, EventDate, …).
  Id: EventIdentifier, else Id.
- Streamed events arrive as the CometD message above; the payload is the event.
- The Pub/Sub API, Event Monitoring streams and third-party collectors also deliver
  event objects as plain PascalCase JSON without `attributes` (times with `Z` or
  `+0000`): recognised by `EventIdentifier` + `EventDate`, or LoginHistory's
  `LoginTime` + `UserId`. Their type is then read from their fields: LoginEvent's
  `LoginType` / `LoginHistoryId` (field lists of the LoginEvent and LoginHistory
  references), LoginHistory's `LoginTime`.
Credentials (contract §1): `salesforce_connected_app` = CONNECTED_APP_ID's
first 15 characters; `salesforce_login` = LOGIN_KEY; `salesforce_session` =
SESSION_KEY where not empty, parent = the login of the same row. The first row
(in file order) that carries an app and a login makes the app the login's
parent (`issued`, via `oauth`), the first row carrying a login and a session
makes the login the session's parent (`issued`); later rows use them. A
successful Login row / LoginEvent issues its login key; Logout rows /
LogoutEvent revoke the session.
Resources: the objects an API call worked on, EventLogFile `ENTITY_NAME` (API,
ApiTotalUsage) or `ENTITY_TYPE` (BulkApi), and an ApiEvent's `QueriedEntities`
(comma-separated) as `salesforce_object`, access by `METHOD_NAME` (query, retrieve: read)
or the event type; a report run or exported, `REPORT_ID` (`salesforce_report`, read); a
login, the org signed in to (`salesforce_org:<ORGANIZATION_ID>`, auth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parsers.base import CredentialRef, Parser, Resource

APP = "left(coalesce(ir_blank(r.CONNECTED_APP_ID), ir_blank(r.ConnectedAppId)), 15)"
LOGIN = "coalesce(ir_blank(r.LOGIN_KEY), ir_blank(r.LoginKey))"
SESSION = "coalesce(ir_blank(r.SESSION_KEY), ir_blank(r.SessionKey))"
USER = (
    "coalesce(ir_blank(r.USER_NAME), ir_blank(r.Username), ir_blank(r.CreatedBy.Username),"
    " ir_blank(r.USER_ID_DERIVED), ir_blank(r.USER_ID), ir_blank(r.UserId),"
    " ir_blank(r.CreatedById))"
)
# The channel of a streamed event names its type (/event/LoginEventStream).
CHANNEL = "nullif(regexp_extract(record ->> '$.channel', '^/event/(\\w+)$', 1), '')"
# An event object delivered without `attributes` or channel, typed by its own fields.
SHAPE = (
    "CASE WHEN r.EventIdentifier IS NOT NULL AND coalesce(r.LoginType, r.LoginHistoryId) IS NOT NULL"
    " THEN 'LoginEvent' WHEN r.LoginTime IS NOT NULL THEN 'LoginHistory' END"
)
EVENT_TYPE = f"coalesce(ir_blank(r.EVENT_TYPE), ir_blank(r.attributes.type), {CHANNEL}, {SHAPE})"
FAILED = (
    "coalesce(coalesce(r.LOGIN_STATUS, 'LOGIN_NO_ERROR') <> 'LOGIN_NO_ERROR'"
    " OR upper(left(r.REQUEST_STATUS, 1)) IN ('F', 'A')"
    " OR try_cast(r.STATUS_CODE AS INTEGER) >= 400"
    " OR coalesce(r.Status, 'Success') NOT IN ('Success', 'SUCCESS'), FALSE)"
)
IS_LOGIN = (
    f"({EVENT_TYPE} IN ('Login', 'LoginAs', 'LoginEvent', 'LoginEventStream') AND NOT {FAILED})"
)
IS_LOGOUT = f"{EVENT_TYPE} IN ('Logout', 'LogoutEvent', 'LogoutEventStream')"
# Evidence order inside the batch: the first row naming a pair carries the derivation.
FIRST = "row_number() OVER (PARTITION BY {key} ORDER BY position) = 1"
APP_FIRST = f"({APP} IS NOT NULL AND {FIRST.format(key=f'{LOGIN}, {APP}')})"
SESSION_FIRST = f"({LOGIN} IS NOT NULL AND {FIRST.format(key=f'{SESSION}, {LOGIN}')})"


METHOD_ACCESS = "CASE WHEN ir_blank(r.METHOD_NAME) IS NOT NULL THEN ir_access(r.METHOD_NAME) END"
RESOURCES = (
    Resource(
        "salesforce_object",
        "coalesce(ir_blank(r.ENTITY_NAME), ir_blank(r.ENTITY_TYPE))",
        access=METHOD_ACCESS,
    ),
    Resource(
        "salesforce_object",
        "trim(item)",
        access="'read'",
        each="string_split(r.QueriedEntities, ',')",
    ),
    Resource("salesforce_report", "r.REPORT_ID", access="'read'"),
    Resource("salesforce_org", "r.ORGANIZATION_ID", access="'auth'", when=IS_LOGIN),
)


def detect(record: Mapping[str, Any]) -> bool:
    if "EVENT_TYPE" in record and ("TIMESTAMP" in record or "TIMESTAMP_DERIVED" in record):
        return True
    attributes = record.get("attributes")
    if isinstance(attributes, dict) and "type" in attributes and "url" in attributes:
        return True
    data = record.get("data")
    if isinstance(data, dict) and isinstance(data.get("payload"), dict) and "event" in data:
        return True
    return _plain_event(record)


def _plain_event(record: Mapping[str, Any]) -> bool:
    """An event object without `attributes` (Pub/Sub API, streams, collectors)."""
    if "EventIdentifier" in record and "EventDate" in record:
        return True
    return "LoginTime" in record and "UserId" in record and "LoginType" in record


PARSER = Parser(
    name="salesforce",
    detect=detect,
    unwrap="CASE WHEN json_type(record, '$.data.payload') = 'OBJECT'"
    " THEN record -> '$.data.payload' ELSE record END",
    time_field="TIMESTAMP_DERIVED / TIMESTAMP / EventDate / LoginTime / CreatedDate",
    positional=True,
    fields={
        **{
            column: "VARCHAR"
            for column in (
                "EVENT_TYPE",
                "TIMESTAMP",
                "TIMESTAMP_DERIVED",
                "REQUEST_ID",
                "ORGANIZATION_ID",
                "USER_ID",
                "USER_ID_DERIVED",
                "USER_NAME",
                "CLIENT_IP",
                "SOURCE_IP",
                "LOGIN_KEY",
                "SESSION_KEY",
                "CONNECTED_APP_ID",
                "LOGIN_STATUS",
                "REQUEST_STATUS",
                "STATUS_CODE",
                "BROWSER_TYPE",
                "Id",
                "EventIdentifier",
                "EventDate",
                "LoginTime",
                "CreatedDate",
                "Action",
                "Operation",
                "Status",
                "Username",
                "UserId",
                "CreatedById",
                "SourceIp",
                "Browser",
                "CountryIso",
                "LoginKey",
                "SessionKey",
                "ConnectedAppId",
                "ENTITY_NAME",
                "ENTITY_TYPE",
                "METHOD_NAME",
                "REPORT_ID",
                "QueriedEntities",
                "LoginType",
                "LoginHistoryId",
            )
        },
        "attributes": {"type": "VARCHAR"},
        "CreatedBy": {"Username": "VARCHAR"},
    },
    event={
        "source_event_id": "coalesce(r.EVENT_TYPE || ':' || r.REQUEST_ID || ':' || r.TIMESTAMP,"
        " ir_blank(r.EventIdentifier), ir_blank(r.Id))",
        "time": "coalesce(ir_time(r.TIMESTAMP_DERIVED), ir_time(r.TIMESTAMP), ir_time(r.EventDate),"
        " ir_time(r.LoginTime), ir_time(r.CreatedDate))",
        "action": f"coalesce(ir_blank(r.Action), ir_blank(r.Operation), {EVENT_TYPE})",
        "outcome": f"CASE WHEN {FAILED} THEN 'failure' ELSE 'success' END",
        "error": f"CASE WHEN {FAILED} THEN coalesce(nullif(r.LOGIN_STATUS, 'LOGIN_NO_ERROR'),"
        " ir_blank(r.Status), ir_blank(r.STATUS_CODE), r.REQUEST_STATUS) END",
        "actor": USER,
        "tenant": "ir_blank(r.ORGANIZATION_ID)",
        "client_ip": "coalesce(ir_blank(r.CLIENT_IP), ir_blank(r.SOURCE_IP), ir_blank(r.SourceIp))",
        "user_agent": "coalesce(ir_blank(r.BROWSER_TYPE), ir_blank(r.Browser))",
        "country": "ir_blank(r.CountryIso)",
    },
    credentials=(
        CredentialRef("salesforce_connected_app", "used", value=APP, principal=USER),
        CredentialRef(
            "salesforce_login",
            "issued",
            value=LOGIN,
            when=f"{APP_FIRST} AND NOT {FAILED}",
            parent=f"ir_id('salesforce_connected_app', {APP})",
            via="'oauth'",
            principal=USER,
        ),
        CredentialRef(
            "salesforce_login",
            "issued",
            value=LOGIN,
            when=f"{IS_LOGIN} AND NOT {APP_FIRST}",
            via=EVENT_TYPE,
            principal=USER,
        ),
        CredentialRef(
            "salesforce_login",
            "used",
            value=LOGIN,
            when=f"NOT {IS_LOGIN} AND NOT ({APP_FIRST} AND NOT {FAILED})",
            principal=USER,
        ),
        CredentialRef(
            "salesforce_session",
            "issued",
            value=SESSION,
            when=SESSION_FIRST,
            parent=f"ir_id('salesforce_login', {LOGIN})",
            via="'LOGIN_KEY'",
            principal=USER,
        ),
        CredentialRef(
            "salesforce_session",
            "used",
            value=SESSION,
            when=f"NOT {SESSION_FIRST} AND NOT {IS_LOGOUT}",
            principal=USER,
        ),
        CredentialRef(
            "salesforce_session",
            "revoked",
            value=SESSION,
            when=IS_LOGOUT,
            via=EVENT_TYPE,
            principal=USER,
        ),
    ),
    resources=RESOURCES,
)
