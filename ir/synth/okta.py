"""Okta System Log: carol's hijacked session, and a workforce signing in to its apps.

LogEvent records as `/api/v1/logs` returns them (JSON array pages of up to 1000),
with `authenticationContext.externalSessionId`, `Token` targets and
`transaction.detail.requestApiTokenId`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import orjson

from ir.synth.core import (
    ATTACKER,
    BROWSERS,
    CLOUD,
    CORP,
    DAY,
    DOMAIN,
    HOUR,
    MINUTE,
    PHONE,
    PROXY,
    Agent,
    Chapter,
    Company,
    Ids,
    Place,
    Record,
    Ref,
    Story,
    Touch,
    Vendor,
    home_place,
    iso_millis,
    write_gzip,
)

SOURCE = "okta"
PAGE_SIZE = 1000  # the System Log API's largest `limit`

OKTA_SDK = Agent(
    "okta-sdk-python/2.9.5 python/3.11.6 Linux/6.1.0-18-amd64", "Linux", "UNKNOWN", "Unknown"
)
OKTA_WORKFLOWS = Agent("Okta-Integrations", "Unknown", "UNKNOWN", "Unknown")

# fmt: off
DISPLAY = {
    "user.session.start": "User login to Okta",
    "user.session.end": "User logout from Okta",
    "user.authentication.sso": "User single sign on to app",
    "user.authentication.auth_via_mfa": "Authentication of user via MFA",
    "user.authentication.verify": "Verify user identity",
    "policy.evaluate_sign_on": "Evaluation of sign-on policy",
    "user.session.access_admin_app": "User accessing Okta admin app",
    "user.session.clear": "Clear user session",
    "system.api_token.create": "Create API token",
    "system.api_token.revoke": "Revoke API token",
    "user.lifecycle.create": "Create Okta user",
    "user.lifecycle.activate": "Activate Okta user",
    "user.account.update_profile": "Update user profile for Okta",
    "user.account.privilege.grant": "Grant user privilege",
    "group.user_membership.add": "Add user to group membership",
    "application.user_membership.add": "Add user to application membership",
}
REQUEST_URI = {
    "user.session.start": "/idp/idx/identify",
    "user.authentication.auth_via_mfa": "/idp/idx/challenge/answer",
    "user.authentication.verify": "/idp/idx/identify",
    "policy.evaluate_sign_on": "/idp/idx/introspect",
    "user.session.end": "/login/signout",
    "user.session.access_admin_app": "/admin/sso/callback",
    "user.session.clear": "/api/v1/users/sessions",
    "system.api_token.create": "/api/internal/tokens",
    "system.api_token.revoke": "/api/internal/tokens",
    "user.lifecycle.create": "/api/v1/users",
    "user.account.update_profile": "/api/v1/users",
}
API_PATHS = {"user": "/api/v1/users", "group": "/api/v1/groups", "application": "/api/v1/apps"}
OKTA_APPS = (
    ("amazon_aws", "AWS Account Federation"), ("slack", "Slack"),
    ("githubcloud", "GitHub Enterprise Cloud - Organization"), ("google", "Google Workspace"),
    ("zoomus", "Zoom"), ("jira_onprem", "Jira"), ("salesforce", "Salesforce.com"),
    ("workday", "Workday"),
)
# fmt: on


@dataclass
class OktaUser:
    id: str
    login: str
    name: str
    place: Place
    agent: Agent
    session: str | None = None

    @cached_property
    def actor(self) -> Record:
        return {
            "id": self.id,
            "type": "User",
            "alternateId": self.login,
            "displayName": self.name,
            "detailEntry": None,
        }

    def scene(self, session: str | None) -> OktaScene:
        return OktaScene(self, self.place, self.agent, session)


@dataclass(frozen=True)
class OktaScene:
    """Who acts, from where, with which browser, in which session (or with which API token)."""

    user: OktaUser
    place: Place
    agent: Agent
    session: str | None
    api_token: str | None = None


def okta_target(kind: str, target_id: str, name: str, alternate: str = "unknown") -> Record:
    detail = {"signOnModeType": "SAML_2_0"} if kind == "AppInstance" else None
    return {
        "id": target_id,
        "type": kind,
        "alternateId": alternate,
        "displayName": name,
        "detailEntry": detail,
    }


def okta_event(
    ids: Ids,
    ms: int,
    event_type: str,
    scene: OktaScene,
    targets: list[Record] | None = None,
    result: str = "SUCCESS",
    reason: str | None = None,
) -> Record:
    """One System Log LogEvent (an `/api/v1/logs` element)."""
    request_id = ids.alnum(27)
    if scene.api_token:
        uri = API_PATHS[event_type.split(".")[0]]
    else:
        uri = REQUEST_URI.get(event_type, "/app/sso/saml")
    context: Record = {
        "authenticationProvider": None,
        "credentialProvider": None,
        "credentialType": None,
        "issuer": None,
        "interface": None,
        "authenticationStep": 0,
        "externalSessionId": scene.session or "unknown",
    }
    if scene.session:
        context["rootSessionId"] = scene.session
    place, agent = scene.place, scene.agent
    return {
        "actor": scene.user.actor,
        "client": {
            "userAgent": agent.okta,
            "zone": "null",
            "geographicalContext": place.okta_geo,
            "ipAddress": place.ip,
            "device": agent.device,
            "id": None,
        },
        "device": None,
        "authenticationContext": context,
        "displayMessage": DISPLAY.get(event_type, event_type),
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": iso_millis(ms),
        "securityContext": place.okta_security,
        "severity": "INFO" if result in ("SUCCESS", "ALLOW") else "WARN",
        "debugContext": {
            "debugData": {
                "requestId": request_id,
                "requestUri": uri,
                "url": uri + "?",
                "threatSuspected": "false",
            }
        },
        "legacyEventType": None,
        "transaction": {
            "type": "WEB",
            "id": request_id,
            "detail": {"requestApiTokenId": scene.api_token} if scene.api_token else {},
        },
        "uuid": ids.uuid(),
        "version": "0",
        "request": {"ipChain": place.okta_ip_chain},
        "target": targets,
    }


# --- the incident -------------------------------------------------------------------

OKTA_STORY = (
    "Okta session of carol@corp.example replayed from abroad (stolen session cookie): admin "
    "console, a new user and an API token created in the session, the token used from a third "
    "network until an admin revokes it."
)
# ir's resource types of Okta targets, and how the incident's events treat them (the
# shared rule of parsers.base; sign-ins are auth).
TARGET_TYPES = {
    "AppInstance": "okta_app",
    "User": "okta_user",
    "UserGroup": "okta_group",
    "Token": "okta_api_token",
}
ACCESS = {
    "user.session.access_admin_app": "read",
    "user.lifecycle.create": "write",
    "user.lifecycle.activate": "write",
    "system.api_token.create": "admin",
    "system.api_token.revoke": "admin",
    "user.authentication.sso": "auth",
    "group.user_membership.add": "admin",
    "user.account.privilege.grant": "admin",
    "application.user_membership.add": "admin",
}
OKTA_ADMIN_APP = okta_target("AppInstance", "0oa1a2b3c4d5e6f7g8h9", "Okta Admin Console")


class OktaChapter(Chapter):
    """carol's Okta session replayed from abroad: an API token minted in it, then revoked."""

    def __init__(self, story: Story, rng: random.Random, world: None) -> None:
        super().__init__(story, rng)

    def okta(
        self,
        ms: int,
        scene: OktaScene,
        event_type: str,
        targets: list[Record] | None = None,
        refs: Sequence[Ref] = (),
        decoy: bool = False,
        **outcome: str,
    ) -> None:
        record = okta_event(self.ids, ms, event_type, scene, targets, **outcome)
        used = [("okta_session:" + scene.session, "used")] if scene.session else []
        if scene.api_token:
            used.append(("okta_api_token:" + scene.api_token, "used"))
        attacker = self.by_attacker(scene.place.ip)
        acted_on: list[Touch] = [
            (TARGET_TYPES[t["type"]], t["id"], ACCESS.get(event_type), attacker)
            for t in targets or ()
            if t["type"] in TARGET_TYPES
        ]
        self.emit("okta", ms, record, used + list(refs), decoy, acted_on)

    def okta_user(self, login: str, name: str, place: Place, agent: Agent) -> OktaUser:
        return OktaUser(self.ids.okta_id("00u"), f"{login}@{DOMAIN}", name, place, agent)

    def run(self) -> None:
        ids = self.ids
        carol = self.okta_user("carol", "Carol Diaz", CORP.at("198.51.100.24"), BROWSERS[0])
        apps = [okta_target("AppInstance", ids.okta_id("0oa"), label) for _, label in OKTA_APPS[:4]]
        office = carol.scene(ids.okta_session())
        self.begin("okta_session:" + str(office.session), OKTA_STORY, [ATTACKER.ip, PROXY.ip])
        self.lineage.hold("okta_session:" + str(office.session), "okta_user:" + carol.login)
        day = (self.leaked_at // DAY) * DAY
        self.okta_workdays(office, day - DAY + 15 * HOUR + 50 * MINUTE, apps)
        self.okta_decoys(carol, day + DAY + HOUR, apps[1])
        # The replay: same cookie and browser string, another country and network.
        replay = replace(office, place=ATTACKER)
        t = day + DAY + 3 * HOUR + 10 * MINUTE
        self.okta(t, replay, "user.session.access_admin_app", [OKTA_ADMIN_APP])
        planted = self.okta_user("svc-sync", "svc sync", ATTACKER, carol.agent).actor
        t = self.later(t, 40, 120)
        self.okta(t, replay, "user.lifecycle.create", [planted])
        token = ids.okta_id("00T")
        token_ref = "okta_api_token:" + token
        token_target = [okta_target("Token", token, "okta-sync")]
        self.lineage.mint(token_ref, self.root, "system.api_token.create")
        t = self.later(t, 30, 90)
        self.okta(t, replay, "system.api_token.create", token_target, [(token_ref, "issued")])
        self.okta(self.later(t, 60, 200), replay, "user.authentication.sso", [apps[0]])
        api = OktaScene(carol, PROXY, OKTA_SDK, None, token)
        self.okta_token_use(api, t + 40 * MINUTE, planted, apps[0])
        # The response: an admin, in their own session, revokes the token, clears carol's sessions.
        dave = self.okta_user("dave", "Dave Okoro", CORP.at("198.51.100.27"), BROWSERS[1])
        own = dave.scene(ids.okta_session())
        t = day + DAY + 9 * HOUR
        self.okta(t, own, "user.session.start")
        t = self.later(t, 60, 240)
        self.okta(t, own, "system.api_token.revoke", token_target, [(token_ref, "revoked")])
        clear = [("okta_user:" + carol.login, "revoked")]
        self.okta(self.later(t, 20, 60), own, "user.session.clear", [carol.actor], clear)

    def okta_workdays(self, scene: OktaScene, ms: int, apps: list[Record]) -> None:
        """Carol signs in at the office and keeps the session for two working days."""
        steps = (
            "policy.evaluate_sign_on",
            "user.authentication.auth_via_mfa",
            "user.session.start",
        )
        for event_type in steps:
            ms = self.later(ms, 2, 9)
            self.okta(
                ms, scene, event_type, result="ALLOW" if "policy" in event_type else "SUCCESS"
            )
        for minutes in (5, 70, 185, 24 * 60 + 30, 24 * 60 + 200, 24 * 60 + 330):
            at = self.later(ms + minutes * MINUTE)
            self.okta(at, scene, "user.authentication.sso", [self.rng.choice(apps)])

    def okta_decoys(self, carol: OktaUser, ms: int, app: Record) -> None:
        """Carol's other session (her phone, at home); the attacker's IP on another user."""
        phone = OktaScene(carol, home_place(self.rng, 0), PHONE, self.ids.okta_session())
        self.okta(self.later(ms, 20, 300), phone, "user.session.start", decoy=True)
        for minutes in (10, 25):
            self.okta(ms + minutes * MINUTE, phone, "user.authentication.sso", [app], decoy=True)
        guess = self.okta_user("erin", "Erin Walsh", ATTACKER, BROWSERS[2]).scene(None)
        for minutes in (110, 111):
            at = self.later(ms + minutes * MINUTE)
            self.okta(
                at,
                guess,
                "user.session.start",
                decoy=True,
                result="FAILURE",
                reason="INVALID_CREDENTIALS",
            )

    def okta_token_use(self, scene: OktaScene, ms: int, planted: Record, app: Record) -> None:
        """The new API token makes the planted user an admin, from a third network."""
        admins = okta_target("UserGroup", self.ids.okta_id("00g"), "Okta Administrators")
        for event_type, targets in (
            ("user.lifecycle.activate", [planted]),
            ("group.user_membership.add", [planted, admins]),
            ("user.account.privilege.grant", [planted]),
            ("application.user_membership.add", [planted, app]),
        ):
            ms = self.later(ms, 3, 30)
            self.okta(ms, scene, event_type, targets)


# --- background ---------------------------------------------------------------------


class OktaHaystack:
    """A workforce signing in and out, using SSO apps; provisioning with API tokens."""

    def __init__(self, company: Company, rng: random.Random, world: None) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        self.okta_users = [
            OktaUser(self.ids.okta_id("00u"), f"{n}@{DOMAIN}", n.replace(".", " ").title(), p, a)
            for n, p, a in zip(company.names, company.places, company.agents, strict=True)
        ]
        self.okta_apps = [
            okta_target("AppInstance", self.ids.okta_id("0oa"), label) for _, label in OKTA_APPS
        ]
        self.okta_tokens = [self.ids.okta_id("00T") for _ in range(3)]
        groups = ("Engineering", "Sales", "Contractors", "On-call")
        self.okta_groups = [okta_target("UserGroup", self.ids.okta_id("00g"), g) for g in groups]

    def record(self, source: str, ms: int) -> Record:
        return self.okta(ms)

    def okta(self, ms: int) -> Record:
        rng, ids = self.rng, self.ids
        roll = rng.random()
        if roll < 0.06:
            return self.okta_automation(ms)
        user = rng.choice(self.okta_users)
        if user.session is None or roll < 0.15:
            if rng.random() < 0.04:
                failed = user.scene(None)
                return okta_event(
                    ids,
                    ms,
                    "user.session.start",
                    failed,
                    result="FAILURE",
                    reason="INVALID_CREDENTIALS",
                )
            user.session = ids.okta_session(rng.choice(("102", "idx")))
            return okta_event(ids, ms, "user.session.start", user.scene(user.session))
        scene = user.scene(user.session)
        if roll < 0.2:
            user.session = None
            return okta_event(ids, ms, "user.session.end", scene)
        if roll < 0.3:
            event_type = rng.choice(
                (
                    "user.authentication.auth_via_mfa",
                    "policy.evaluate_sign_on",
                    "user.authentication.verify",
                )
            )
            return okta_event(
                ids,
                ms,
                event_type,
                scene,
                result="ALLOW" if event_type.startswith("policy") else "SUCCESS",
            )
        if roll < 0.32:
            return okta_event(ids, ms, "user.account.update_profile", scene, [user.actor])
        return okta_event(ids, ms, "user.authentication.sso", scene, [rng.choice(self.okta_apps)])

    def okta_automation(self, ms: int) -> Record:
        """Provisioning integrations acting with their API tokens."""
        rng = self.rng
        scene = OktaScene(
            self.okta_users[0],
            CLOUD.at("192.0.2.40"),
            OKTA_WORKFLOWS,
            None,
            rng.choice(self.okta_tokens),
        )
        event_type = rng.choice(
            ("user.account.update_profile", "group.user_membership.add", "user.lifecycle.activate")
        )
        targets = [rng.choice(self.okta_users).actor]
        if event_type.startswith("group"):
            targets.append(rng.choice(self.okta_groups))
        return okta_event(self.ids, ms, event_type, scene, targets)


class OktaWriter:
    """`/api/v1/logs` pages: JSON arrays of PAGE_SIZE records, numbered in order."""

    def __init__(self, logs: Path, ids: Ids, world: None) -> None:
        self.folder = logs / SOURCE
        self.page: list[bytes] = []
        self.pages = 0

    def window(self, start: int, records: dict[str, list[Record]]) -> None:
        for record in records.get(SOURCE, ()):
            self.page.append(orjson.dumps(record))
            if len(self.page) == PAGE_SIZE:
                self.close()

    def close(self) -> None:
        if self.page:
            self.pages += 1
            body = b"[" + b",".join(self.page) + b"]"
            write_gzip(self.folder / f"system_log_page_{self.pages:06d}.json.gz", body)
            self.page = []


VENDOR = Vendor(
    name="okta",
    shares={SOURCE: 0.15},
    event_ids={SOURCE: lambda record: record["uuid"]},
    chapter=OktaChapter,
    haystack=OktaHaystack,
    writer=OktaWriter,
    shared_generators=True,
)
