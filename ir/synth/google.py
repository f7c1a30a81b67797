"""Google Workspace: the same stolen integration's OAuth grants, and a domain's daily activity.

Admin SDK Reports API `activities.list` pages as a collector saves them,
`logs/google_workspace/<application>/activities_<n>.json.gz`: `{"kind":
"admin#reports#activities", "etag", "items": [...], "nextPageToken"}`, at most 1000
items a page, newest first within it, one event per activity. Fields as the fixtures
(tests/fixtures/google_workspace) and the parser's verified list
(parsers/google_workspace.py): token `authorize` (client_id, app_name, client_type,
scope), `activity` (api_name, method_name, client_id, num_response_bytes as a string
intValue, product_bucket), `revoke`; an app's Drive access names it in
`actor.applicationInfo.oauthClientId`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import orjson

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
    home_place,
    iso_millis,
    write_gzip,
)

SOURCE = "google_workspace"
PAGE_SIZE = 1000  # activities.list maxResults
GMAIL_SCOPES = (
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/userinfo.email",
)
GMAIL_CALLS = (
    ("gmail", "gmail.users.messages.list", "GMAIL"),
    ("gmail", "gmail.users.messages.get", "GMAIL"),
    ("gmail", "gmail.users.threads.list", "GMAIL"),
    ("drive", "drive.files.list", "DRIVE"),
)
CALENDAR_CALLS = (
    ("calendar", "calendar.events.list", "CALENDAR"),
    ("calendar", "calendar.events.insert", "CALENDAR"),
)
DOCS = (
    ("Board deck Q3", "presentation"),
    ("Pipeline 2026", "spreadsheet"),
    ("Customer list", "spreadsheet"),
    ("Pricing notes", "document"),
)


@dataclass(frozen=True)
class Domain:
    customer: str  # customerId, C0…


@dataclass(frozen=True)
class GUser:
    email: str
    profile: str  # profileId, 21 digits
    place: Place


@dataclass(frozen=True)
class Client:
    id: str  # <project number>-<32 chars>.apps.googleusercontent.com
    name: str
    hosts: tuple[Place, ...]

    @property
    def credential(self) -> str:
        return f"google_oauth_client:{self.id}"

    def grant(self, user: GUser) -> str:
        return f"google_oauth_grant:{self.id}/{user.email}"


def client_id(ids: Ids) -> str:
    suffix = "".join(ids.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    return f"{ids.number(12)}-{suffix}.apps.googleusercontent.com"


def activity(
    ids: Ids,
    domain: Domain,
    ms: int,
    application: str,
    user: GUser,
    ip: str | None,
    event: Record,
    app: Client | None = None,
) -> Record:
    """One Reports API activity with one event."""
    actor: Record = {"callerType": "USER", "email": user.email, "profileId": user.profile}
    if app is not None:
        actor["applicationInfo"] = {"oauthClientId": app.id, "applicationName": app.name}
    record: Record = {
        "kind": "admin#reports#activity",
        "id": {
            "time": iso_millis(ms),
            "uniqueQualifier": str(ids.rng.getrandbits(64) - 2**63),
            "applicationName": application,
            "customerId": domain.customer,
        },
        "etag": f'"{ids.b64(27)}/{ids.b64(27)}"',
        "actor": actor,
    }
    if ip is not None:
        record["ipAddress"] = ip
    record["events"] = [event]
    return record


def token_event(name: str, client: Client, *extra: Record) -> Record:
    parameters = [*extra, {"name": "client_id", "value": client.id}]
    parameters.append({"name": "app_name", "value": client.name})
    if name != "revoke":
        parameters.append({"name": "client_type", "value": "WEB"})
    return {"type": "auth", "name": name, "parameters": parameters}


def authorize(client: Client, scopes: tuple[str, ...]) -> Record:
    return token_event("authorize", client, {"name": "scope", "multiValue": list(scopes)})


def api_call(ids: Ids, client: Client, call: tuple[str, str, str], size: int) -> Record:
    api, method, bucket = call
    return token_event(
        "activity",
        client,
        {"name": "api_name", "value": api},
        {"name": "method_name", "value": method},
        {"name": "num_response_bytes", "intValue": str(size)},
        {"name": "product_bucket", "value": bucket},
    )


def drive_event(ids: Ids, name: str, owner: str, doc: tuple[str, str]) -> Record:
    return {
        "type": "access",
        "name": name,
        "parameters": [
            {"name": "primary_event", "boolValue": True},
            {"name": "doc_id", "value": ids.alnum(33)},
            {"name": "doc_title", "value": doc[0]},
            {"name": "doc_type", "value": doc[1]},
            {"name": "owner", "value": owner},
            {"name": "visibility", "value": "private"},
        ],
    }


def login_event(name: str, failure: bool = False) -> Record:
    parameters: list[Record] = [
        {"name": "login_type", "value": "google_password"},
        {"name": "login_challenge_method", "multiValue": ["password"]},
        {"name": "is_suspicious", "boolValue": False},
    ]
    if failure:
        parameters.append({"name": "login_failure_type", "value": "login_failure_invalid_password"})
    return {"type": "login", "name": name, "parameters": parameters}


# --- the incident -------------------------------------------------------------------

GOOGLE_STORY = (
    "OAuth client of the Breeze chat integration (Gmail and Drive read access granted by three "
    "sales users) abused with tokens stolen from the vendor: after days of the vendor's own "
    "calls, the grants read mail and download Drive files from an attacker's host and a VPS, "
    "until an admin revokes them."
)


class GoogleChapter(Chapter):
    """Three users' grants to the integration: authorized, used by the vendor, stolen, revoked."""

    def __init__(self, story: Story, rng: random.Random, domain: Domain) -> None:
        super().__init__(story, rng)
        self.domain = domain

    def user(self, login: str, place: Place) -> GUser:
        return GUser(f"{login}@{DOMAIN}", str(self.ids.number(21)), place)

    def emit_token(
        self,
        ms: int,
        user: GUser,
        ip: str | None,
        event: Record,
        client: Client,
        relation: str = "used",
        decoy: bool = False,
    ) -> None:
        """A token event: uses the client; issues, uses or revokes the user's grant."""
        record = activity(self.ids, self.domain, ms, "token", user, ip, event)
        refs: list[Ref] = [(client.credential, "used"), (client.grant(user), relation)]
        self.emit(SOURCE, ms, record, refs, decoy)

    def run(self) -> None:
        ids, leak = self.ids, self.leaked_at
        breeze = Client(
            client_id(ids), "Breeze Sync", (CLOUD.at("192.0.2.92"), CLOUD.at("192.0.2.93"))
        )
        zoom = Client(client_id(ids), "Zoom for Google Workspace", (CLOUD.at("192.0.2.96"),))
        self.begin(breeze.credential, GOOGLE_STORY, [ATTACKER.ip, VPS.ip])
        users = [
            self.user("nora", CORP.at("198.51.100.34")),
            self.user("theo", home_place(self.rng, 3)),
            self.user("ivy", CORP.at("198.51.100.35")),
        ]
        for index, user in enumerate(users):
            at = self.later(self.start + (index + 1) * 5 * HOUR, 0, 1800)
            self.lineage.mint(breeze.grant(user), breeze.credential, "authorize")
            self.emit_token(
                at, user, user.place.ip, authorize(breeze, GMAIL_SCOPES), breeze, "issued"
            )
            self.zoom(zoom, user, self.later(at + 2 * HOUR, 0, 1800))
        revoke_at = self.later(leak + 3 * DAY, 0, 1800)
        self.vendor_sync(breeze, users, revoke_at)
        self.theft(breeze, users[:2], self.later(leak + 21 * HOUR, 0, 600))
        # Decoy: the attacker's IP guessing another person's password (login events name no token).
        guess = self.user("kai", CORP.at("198.51.100.36"))
        for minutes in (0, 2):
            at = self.later(leak + 20 * HOUR + minutes * MINUTE)
            record = activity(
                ids,
                self.domain,
                at,
                "login",
                guess,
                ATTACKER.ip,
                login_event("login_failure", True),
            )
            self.emit(SOURCE, at, record, [], True)
        for user in users:
            revoke_at = self.later(revoke_at, 5, 30)
            self.emit_token(revoke_at, user, None, token_event("revoke", breeze), breeze, "revoked")

    def vendor_sync(self, client: Client, users: list[GUser], until: int) -> None:
        """The vendor's own backend reads each user's mail once a day, until the revocation."""
        day = 1
        while self.start + day * DAY + 5 * HOUR < until:
            for index, user in enumerate(users):
                at = self.later(self.start + day * DAY + (5 + index) * HOUR, 0, 1800)
                if at >= until:
                    continue
                call = api_call(self.ids, client, GMAIL_CALLS[0], self.rng.randrange(600, 4000))
                self.emit_token(at, user, client.hosts[day % 2].ip, call, client)
            day += 1

    def theft(self, client: Client, users: list[GUser], ms: int) -> None:
        """The stolen grants read mail and download Drive files from the attacker's hosts."""
        for place in (ATTACKER, VPS):
            for user in users:
                for call in GMAIL_CALLS:
                    ms = self.later(ms, 3, 30)
                    event = api_call(self.ids, client, call, self.rng.randrange(20_000, 900_000))
                    self.emit_token(ms, user, place.ip, event, client)
            ms = self.later(ms + 6 * HOUR, 0, 600)
        owner = users[0]
        for doc in DOCS[:2]:
            ms = self.later(ms, 10, 60)
            event = drive_event(self.ids, "download", owner.email, doc)
            record = activity(self.ids, self.domain, ms, "drive", owner, VPS.ip, event, client)
            self.emit(
                SOURCE,
                ms,
                record,
                [(client.credential, "used"), (client.grant(owner), "used")],
                False,
            )

    def zoom(self, zoom: Client, user: GUser, ms: int) -> None:
        """Decoy: the same users grant and use another app, from its own hosts."""
        self.emit_token(ms, user, user.place.ip, authorize(zoom, ()), zoom, "issued", decoy=True)
        call = api_call(self.ids, zoom, CALENDAR_CALLS[0], self.rng.randrange(600, 4000))
        self.emit_token(self.later(ms + HOUR), user, zoom.hosts[0].ip, call, zoom, decoy=True)


# --- background ---------------------------------------------------------------------

BACKGROUND_CLIENTS = ("Slack", "Calendly", "Grammarly")


class GoogleHaystack:
    """A domain's day: logins and logouts, Drive access, third-party apps using their grants."""

    def __init__(self, company: Company, rng: random.Random, domain: Domain) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        self.domain = domain
        self.users = [
            GUser(f"{name}@{DOMAIN}", str(self.ids.number(21)), place)
            for name, place in zip(company.names, company.places, strict=True)
        ]
        self.clients = [
            Client(client_id(self.ids), name, (CLOUD.at(f"192.0.2.{110 + i}"),))
            for i, name in enumerate(BACKGROUND_CLIENTS)
        ]

    def record(self, source: str, ms: int) -> Record:
        rng, ids = self.rng, self.ids
        user = rng.choice(self.users)
        roll = rng.random()
        if roll < 0.3:
            client = rng.choice(self.clients)
            if roll < 0.02:
                return activity(
                    ids,
                    self.domain,
                    ms,
                    "token",
                    user,
                    user.place.ip,
                    authorize(client, GMAIL_SCOPES[:1]),
                )
            call = api_call(ids, client, rng.choice(CALENDAR_CALLS), rng.randrange(300, 9000))
            return activity(ids, self.domain, ms, "token", user, client.hosts[0].ip, call)
        if roll < 0.55:
            name = "login_success" if roll < 0.5 else "logout" if roll < 0.54 else "login_failure"
            event = login_event(name, name == "login_failure")
            return activity(ids, self.domain, ms, "login", user, user.place.ip, event)
        owner = rng.choice(self.users).email
        name = rng.choice(("view", "view", "edit", "download"))
        return activity(
            ids,
            self.domain,
            ms,
            "drive",
            user,
            user.place.ip,
            drive_event(ids, name, owner, rng.choice(DOCS)),
        )


# --- delivery -----------------------------------------------------------------------


class ReportsWriter:
    """activities.list pages per application, as a collector pages through them: 1000 items a
    page, newest first within it, pages numbered in time order (`nextPageToken` on all but the last)."""

    def __init__(self, logs: Path, ids: Ids, domain: Domain) -> None:
        self.folder = logs / SOURCE
        self.ids = ids
        self.pending: dict[str, list[Record]] = {}
        self.pages: dict[str, int] = {}

    def window(self, start: int, records: dict[str, list[Record]]) -> None:
        for record in records.get(SOURCE, ()):
            application = record["id"]["applicationName"]
            items = self.pending.setdefault(application, [])
            items.append(record)
            if len(items) == PAGE_SIZE:
                self.flush(application, last=False)

    def flush(self, application: str, last: bool) -> None:
        items = self.pending.pop(application, [])
        if not items:
            return
        number = self.pages[application] = self.pages.get(application, 0) + 1
        page = {
            "kind": "admin#reports#activities",
            "etag": f'"{self.ids.b64(27)}/{self.ids.b64(27)}"',
            "items": items[::-1],
            "nextPageToken": "" if last else self.ids.alnum(40),
        }
        write_gzip(
            self.folder / application / f"activities_{number:06d}.json.gz", orjson.dumps(page)
        )

    def close(self) -> None:
        for application in sorted(self.pending):
            self.flush(application, last=True)


VENDOR = Vendor(
    name="google",
    shares={SOURCE: 0.04},
    event_ids={SOURCE: lambda record: record["id"]["uniqueQualifier"]},
    chapter=GoogleChapter,
    haystack=GoogleHaystack,
    writer=ReportsWriter,
    world=lambda rng: Domain("C0" + Ids(rng).alnum(7)),
)
