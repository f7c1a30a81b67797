"""Salesforce Event Monitoring: a chat integration's stolen OAuth token, and an org's daily use.

EventLogFile CSVs as downloaded (the `LogFile` of each EventLogFile record): one file
per event type and day, `logs/salesforce/EventLogFile/<YYYY-MM-DD>/<EventType>.csv`,
a quoted header of UPPER_SNAKE columns, every value quoted, rows in time order.
Columns as the fixtures (tests/fixtures/salesforce) and the parser's verified list
(parsers/salesforce.py): `TIMESTAMP` is `yyyyMMddHHmmss.SSS` with trailing zeros
dropped, `USER_ID` 15 characters and `USER_ID_DERIVED` 18 (Salesforce's checksum
suffix), `CONNECTED_APP_ID` 18. A row with a `CONNECTED_APP_ID` and a `LOGIN_KEY`
ties the login to the connected app; each OAuth token refresh is a new login,
whose rows stay in one day's RestApi file (the parser issues a login at its first
row in a file).
"""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass
from pathlib import Path

from ir.synth.core import (
    ATTACKER,
    CLOUD,
    CORP,
    DAY,
    DOMAIN,
    HOUR,
    MINUTE,
    VPS,
    Chapter,
    Company,
    Ids,
    Place,
    Record,
    Ref,
    Story,
    Vendor,
    iso_millis,
)

SOURCE = "salesforce"
LOGIN_COLUMNS = (
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "USER_NAME",
    "CLIENT_IP", "SOURCE_IP", "LOGIN_KEY", "SESSION_KEY", "LOGIN_STATUS", "REQUEST_STATUS",
    "BROWSER_TYPE", "URI", "API_TYPE", "API_VERSION", "TIMESTAMP_DERIVED", "USER_ID_DERIVED",
)  # fmt: skip
LOGOUT_COLUMNS = (
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "CLIENT_IP",
    "LOGIN_KEY", "SESSION_KEY", "USER_TYPE", "APP_TYPE", "BROWSER_TYPE", "PLATFORM_TYPE",
    "API_TYPE", "API_VERSION", "TIMESTAMP_DERIVED", "USER_ID_DERIVED",
)  # fmt: skip
REST_COLUMNS = (
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "RUN_TIME",
    "CPU_TIME", "URI", "SESSION_KEY", "LOGIN_KEY", "USER_TYPE", "REQUEST_STATUS",
    "DB_TOTAL_TIME", "ENTITY_NAME", "METHOD", "MEDIA_TYPE", "STATUS_CODE", "USER_AGENT",
    "ROWS_PROCESSED", "REQUEST_SIZE", "RESPONSE_SIZE", "CONNECTED_APP_ID", "CLIENT_IP",
    "API_FAMILY", "API_VERSION", "API_RESOURCE", "TIMESTAMP_DERIVED", "USER_ID_DERIVED",
    "URI_ID_DERIVED",
)  # fmt: skip
COLUMNS = {"Login": LOGIN_COLUMNS, "Logout": LOGOUT_COLUMNS, "RestApi": REST_COLUMNS}
API = "/services/data/v60.0"
BROWSER_CODES = ("13128000", "11130000", "14017000")  # Logout BROWSER_TYPE: Chrome, Firefox, Safari
CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
Call = tuple[str, str, str, int]  # method, resource, entity, rows returned
# What an integration polls, and what an attacker exports.
POLLS = (
    ("GET", "/query", "Lead", 40),
    ("GET", "/query", "Contact", 25),
    ("POST", "/sobjects/Task", "Task", 1),
    ("GET", "/sobjects/Account/describe", "Account", 0),
)
EXPORT = (
    ("GET", "/sobjects", "", 0),
    ("GET", "/query", "Account", 2000),
    ("GET", "/query", "Contact", 2000),
    ("GET", "/query", "Case", 2000),
    ("GET", "/query", "User", 312),
    ("GET", "/query", "Opportunity", 2000),
    ("POST", "/sobjects/User", "User", 0),
    ("GET", "/query", "Case", 2000),
)


def id18(id15: str) -> str:
    """Salesforce's case-safe 18-character id: a checksum of each 5-character block's capitals."""
    suffix = ""
    for block in range(3):
        chunk = id15[block * 5 : block * 5 + 5]
        bits = sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")
        suffix += CHECKSUM[bits]
    return id15 + suffix


def sf_timestamp(ms: int) -> str:
    """EventLogFile TIMESTAMP: `20260904101500.118`, trailing zeros of the fraction dropped."""
    base = time.strftime("%Y%m%d%H%M%S", time.gmtime(ms // 1000))
    fraction = f"{ms % 1000:03d}".rstrip("0")
    return f"{base}.{fraction}" if fraction else base


@dataclass(frozen=True)
class Org:
    id: str  # ORGANIZATION_ID, 15 characters


@dataclass(frozen=True)
class SfUser:
    id: str  # USER_ID, 15 characters
    name: str
    place: Place
    agent: str

    @property
    def id18(self) -> str:
        return id18(self.id)


@dataclass(frozen=True)
class ConnectedApp:
    id: str  # 18 characters, as CONNECTED_APP_ID logs it
    name: str
    user: SfUser  # the integration user its tokens act as
    places: tuple[Place, ...]

    @property
    def credential(self) -> str:
        return f"salesforce_connected_app:{self.id[:15]}"


@dataclass(frozen=True)
class Login:
    """One OAuth login of an app (a token refresh): its key and session key, where from."""

    app: ConnectedApp
    key: str
    session: str
    place: Place
    agent: str


def sf_id(ids: Ids, prefix: str, pod: str = "5j") -> str:
    return f"{prefix}{pod}{'0' * 6}{ids.alnum(15 - len(prefix) - len(pod) - 6)}"


def rest_row(ids: Ids, org: Org, ms: int, login: Login, call: Call, status: int = 200) -> Record:
    """A RestApi row made with an app's login: CONNECTED_APP_ID + LOGIN_KEY + SESSION_KEY."""
    method, resource, entity, rows = call
    ok = status < 400
    response = rows * ids.rng.randrange(300, 700) if ok else 154
    uri = API + resource
    return {
        "EVENT_TYPE": "RestApi",
        "TIMESTAMP": sf_timestamp(ms),
        "REQUEST_ID": ids.alnum(22),
        "ORGANIZATION_ID": org.id,
        "USER_ID": login.app.user.id,
        "RUN_TIME": str(ids.rng.randrange(5, 60) + rows // 20),
        "CPU_TIME": str(ids.rng.randrange(1, 20)),
        "URI": uri,
        "SESSION_KEY": login.session,
        "LOGIN_KEY": login.key,
        "USER_TYPE": "Standard",
        "REQUEST_STATUS": "" if ok else "F",
        "DB_TOTAL_TIME": str(ids.rng.randrange(1, 40) * 1_000_000),
        "ENTITY_NAME": entity,
        "METHOD": method,
        "MEDIA_TYPE": "application/json",
        "STATUS_CODE": str(status),
        "USER_AGENT": login.agent,
        "ROWS_PROCESSED": str(rows if ok else 0),
        "REQUEST_SIZE": "311" if method == "POST" else "0",
        "RESPONSE_SIZE": str(response),
        "CONNECTED_APP_ID": login.app.id,
        "CLIENT_IP": login.place.ip,
        "API_FAMILY": "REST",
        "API_VERSION": "60.0",
        "API_RESOURCE": resource,
        "TIMESTAMP_DERIVED": iso_millis(ms),
        "USER_ID_DERIVED": login.app.user.id18,
        "URI_ID_DERIVED": "",
    }


def login_row(
    ids: Ids, org: Org, ms: int, user: SfUser, place: Place, key: str, failure: str = ""
) -> Record:
    """A UI login (Login event type): issues its LOGIN_KEY, or fails with a LOGIN_STATUS."""
    return {
        "EVENT_TYPE": "Login",
        "TIMESTAMP": sf_timestamp(ms),
        "REQUEST_ID": ids.alnum(22),
        "ORGANIZATION_ID": org.id,
        "USER_ID": user.id,
        "USER_NAME": user.name,
        "CLIENT_IP": place.ip,
        "SOURCE_IP": place.ip,
        "LOGIN_KEY": "" if failure else key,
        "SESSION_KEY": "",
        "LOGIN_STATUS": failure or "LOGIN_NO_ERROR",
        "REQUEST_STATUS": "Failure" if failure else "Success",
        "BROWSER_TYPE": user.agent,
        "URI": "/index.jsp",
        "API_TYPE": "f",
        "API_VERSION": "9998.0",
        "TIMESTAMP_DERIVED": iso_millis(ms),
        "USER_ID_DERIVED": user.id18,
    }


def logout_row(ids: Ids, org: Org, ms: int, user: SfUser, key: str, session: str) -> Record:
    return {
        "EVENT_TYPE": "Logout",
        "TIMESTAMP": sf_timestamp(ms),
        "REQUEST_ID": ids.alnum(22),
        "ORGANIZATION_ID": org.id,
        "USER_ID": user.id,
        "CLIENT_IP": user.place.ip,
        "LOGIN_KEY": key,
        "SESSION_KEY": session,
        "USER_TYPE": "Standard",
        "APP_TYPE": "1007",
        "BROWSER_TYPE": ids.rng.choice(BROWSER_CODES),
        "PLATFORM_TYPE": "2003",
        "API_TYPE": "",
        "API_VERSION": "",
        "TIMESTAMP_DERIVED": iso_millis(ms),
        "USER_ID_DERIVED": user.id18,
    }


# --- the incident -------------------------------------------------------------------

SALESFORCE_STORY = (
    "OAuth token of the Breeze chat integration's Salesforce connected app stolen from the "
    "vendor (Salesloft-Drift-like): after days of the integration's own polling from the vendor's "
    "hosts, each token refresh a new login and session of its integration user, the token is "
    "redeemed from an attacker's host and a VPS to export Accounts, Contacts, Cases, Users and "
    "Opportunities through the REST API."
)
UA_BREEZE = "Breeze-Sync/3.4 (+https://breeze.example/integrations)"
UA_EXPORT = "python-requests/2.31.0"
BREEZE_HOSTS = (CLOUD.at("192.0.2.90"), CLOUD.at("192.0.2.91"))


class SalesforceChapter(Chapter):
    """The integration's connected app: its daily polls, the attacker's exports, decoys."""

    def __init__(self, story: Story, rng: random.Random, org: Org) -> None:
        super().__init__(story, rng)
        self.org = org

    def user(self, login: str, place: Place, agent: str) -> SfUser:
        return SfUser(sf_id(self.ids, "005"), f"{login}@{DOMAIN}", place, agent)

    def app(self, name: str, user: SfUser, places: tuple[Place, ...]) -> ConnectedApp:
        return ConnectedApp(id18(sf_id(self.ids, "0H4", "7Q")), name, user, places)

    def session(
        self,
        app: ConnectedApp,
        ms: int,
        place: Place,
        agent: str,
        calls: list[tuple[Call, int]],
        decoy: bool = False,
    ) -> None:
        """One token refresh and its calls: the first row issues the login and its session."""
        login = Login(app, self.ids.alnum(16), self.ids.b64(16), place, agent)
        login_id = f"salesforce_login:{login.key}"
        session_id = f"salesforce_session:{login.session}"
        self.lineage.mint(login_id, app.credential, "oauth")
        self.lineage.mint(session_id, login_id, "LOGIN_KEY")
        for index, (call, status) in enumerate(calls):
            ms = self.later(ms, 2, 40)
            record = rest_row(self.ids, self.org, ms, login, call, status)
            first = index == 0
            refs: list[Ref] = [
                (app.credential, "used"),
                (login_id, "issued" if first else "used"),
                (session_id, "issued" if first else "used"),
            ]
            self.emit(SOURCE, ms, record, refs, decoy)

    def run(self) -> None:
        leak, day = self.leaked_at, (self.leaked_at // DAY) * DAY
        integration = self.user("breeze.integration", BREEZE_HOSTS[0], UA_BREEZE)
        breeze = self.app("Breeze for Salesforce", integration, BREEZE_HOSTS)
        self.begin(breeze.credential, SALESFORCE_STORY, [ATTACKER.ip, VPS.ip])
        other_user = self.user("dataloader.integration", CLOUD.at("192.0.2.95"), "Dataloader/60.0")
        other = self.app("Dataloader Bulk", other_user, (other_user.place,))
        for d in range(10):
            at = self.start + d * DAY + 6 * HOUR
            place = breeze.places[d % 2]
            self.session(breeze, self.later(at, 0, 3600), place, UA_BREEZE, self.polls())
            if d in (3, 4):  # decoy: another connected app, busy around the same time
                self.session(
                    other,
                    self.later(day + (d - 3) * DAY + 20 * HOUR, 0, 1800),
                    other.places[0],
                    other_user.agent,
                    self.polls(),
                    decoy=True,
                )
        export = [(call, 403 if call[1] == "/sobjects/User" else 200) for call in EXPORT]
        self.session(breeze, self.later(leak + 20 * HOUR, 0, 600), ATTACKER, UA_EXPORT, export)
        later_export = [(call, 200) for call in EXPORT[2:4]]
        self.session(breeze, self.later(leak + 44 * HOUR, 0, 600), VPS, UA_EXPORT, later_export)
        # Decoy: the attacker's IP against a person's password (no login key: it failed).
        victim = self.user("dana", CORP.at("198.51.100.23"), "curl/8.5.0")
        for minutes in (0, 1):
            ms = self.later(leak + 19 * HOUR + minutes * MINUTE)
            record = login_row(
                self.ids, self.org, ms, victim, ATTACKER, "", "LOGIN_ERROR_INVALID_PASSWORD"
            )
            self.emit(SOURCE, ms, record, [], True)

    def polls(self) -> list[tuple[Call, int]]:
        return [(call, 200) for call in self.rng.sample(POLLS, 3)]


# --- background ---------------------------------------------------------------------

BACKGROUND_APPS = ("Outlook Integration", "Slack for Salesforce", "Marketing Sync")


class SalesforceHaystack:
    """People logging in and out of Salesforce; other integrations polling its REST API."""

    def __init__(self, company: Company, rng: random.Random, org: Org) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        self.org = org
        people = list(zip(company.names, company.places, company.agents, strict=True))
        self.users = [
            SfUser(sf_id(self.ids, "005"), f"{name}@{DOMAIN}", place, agent.raw)
            for name, place, agent in people[: max(5, len(people) // 3)]
        ]
        self.sessions: dict[str, tuple[str, str]] = {}  # user id -> (login key, session key)
        self.apps: list[ConnectedApp] = []
        for i, name in enumerate(BACKGROUND_APPS):
            place = CLOUD.at(f"192.0.2.{100 + i}")
            user = SfUser(
                sf_id(self.ids, "005"), f"{name.lower().replace(' ', '.')}@{DOMAIN}", place, ""
            )
            self.apps.append(ConnectedApp(id18(sf_id(self.ids, "0H4", "7Q")), name, user, (place,)))
        self.logins: dict[str, tuple[Login, int]] = {}  # app id -> its current login, since

    def record(self, source: str, ms: int) -> Record:
        roll = self.rng.random()
        if roll < 0.55:
            return self.integration(ms)
        user = self.rng.choice(self.users)
        keys = self.sessions.pop(user.id, None)
        if keys is not None and roll < 0.7:
            return logout_row(self.ids, self.org, ms, user, *keys)
        if roll > 0.97:
            return login_row(
                self.ids, self.org, ms, user, user.place, "", "LOGIN_ERROR_INVALID_PASSWORD"
            )
        key = self.ids.alnum(16)
        self.sessions[user.id] = (key, self.ids.b64(16))
        return login_row(self.ids, self.org, ms, user, user.place, key)

    def integration(self, ms: int) -> Record:
        app = self.rng.choice(self.apps)
        current = self.logins.get(app.id)
        if current is None or ms - current[1] > 2 * HOUR:
            login = Login(app, self.ids.alnum(16), self.ids.b64(16), app.places[0], "")
            current = self.logins[app.id] = (login, ms)
        call = self.rng.choice(POLLS)
        return rest_row(self.ids, self.org, ms, current[0], call)


# --- delivery -----------------------------------------------------------------------


class EventLogFileWriter:
    """One CSV per event type and day, rows appended in time order, closed when the day is over."""

    def __init__(self, logs: Path, ids: Ids, org: Org) -> None:
        self.folder = logs / SOURCE / "EventLogFile"
        self.open: dict[tuple[str, str], tuple[io.TextIOWrapper, csv.DictWriter[str]]] = {}

    def window(self, start: int, records: dict[str, list[Record]]) -> None:
        today = time.strftime("%Y-%m-%d", time.gmtime(start // 1000))
        for key in [k for k in self.open if k[0] < today]:
            self.open.pop(key)[0].close()
        for record in records.get(SOURCE, ()):
            day = record["TIMESTAMP_DERIVED"][:10]
            kind = record["EVENT_TYPE"]
            handle = self.open.get((day, kind))
            if handle is None:
                path = self.folder / day / f"{kind}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                stream = path.open("w", newline="", encoding="utf-8")
                writer = csv.DictWriter(
                    stream, COLUMNS[kind], quoting=csv.QUOTE_ALL, lineterminator="\n"
                )
                writer.writeheader()
                handle = self.open[(day, kind)] = (stream, writer)
            handle[1].writerow(record)

    def close(self) -> None:
        for stream, _ in self.open.values():
            stream.close()
        self.open.clear()


VENDOR = Vendor(
    name="salesforce",
    shares={SOURCE: 0.05},
    event_ids={
        SOURCE: lambda r: f"{r['EVENT_TYPE']}:{r['REQUEST_ID']}:{r['TIMESTAMP']}",
    },
    chapter=SalesforceChapter,
    haystack=SalesforceHaystack,
    writer=EventLogFileWriter,
    world=lambda rng: Org(sf_id(Ids(rng), "00D")),
)
