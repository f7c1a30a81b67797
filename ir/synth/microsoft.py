"""Microsoft Entra ID and Microsoft 365: megan's hijacked session, and a tenant's working day.

Four sources, in the shapes a responder exports them:
- `entra_signin`, `entra_audit`, `graph_activity`: Azure Monitor diagnostic-settings
  records as an Event Hub delivers them, `{"records": [...]}` with the record under
  `properties` (camelCase), saved one gz file per source and delivery window;
- `m365_ual`: the Purview audit search export, CSV `RecordId, CreationDate,
  RecordType, Operation, UserId, AuditData, AssociatedAdminUnits,
  AssociatedAdminUnitsNames` with the record as JSON text in `AuditData`.
Field names follow the parsers' verified lists (parsers/entra_signin.py,
entra_audit.py, graph_activity.py, m365_ual.py) and their fixtures. A sign-in's
`uniqueTokenIdentifier` is the base64url of its request id's bytes, as in the
shared conformance sample; `AppAccessContext` (UAL) and `signInActivityId` /
`c_Sid` (Graph) name the token and session a request was made with.
"""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from ir.synth.core import (
    ATTACKER,
    BROWSERS,
    CLOUD,
    CORP,
    DAY,
    HOUR,
    MINUTE,
    PYTHON_REQUESTS,
    SECOND,
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
    iso_seconds,
    write_gzip,
)
from ir.synth.microsoft_records import (
    AUDIT,
    BAD_PASSWORD,
    BAD_SECRET,
    DESKTOP,
    EXCHANGE,
    FILES,
    GRAPH,
    GRAPH_API,
    GRAPH_APP_CALLS,
    GRAPH_USER_CALLS,
    MFA_REQUIRED,
    OFFICE,
    OFFICE_HOME,
    OUTLOOK,
    OUTLOOK_MOBILE,
    REVOKE_SESSIONS,
    REVOKED_GRANT,
    SECRETS_ACTIVITY,
    SHAREPOINT,
    SIGNIN,
    TEAMS,
    UA_MSAL,
    UA_OUTLOOK_MOBILE,
    UAL,
    UAL_COLUMNS,
    UAL_ROWS_PER_FILE,
    USER_APPS,
    App,
    EntraUser,
    Error,
    ServicePrincipal,
    SignIn,
    Tenant,
    Token,
    _initiator,
    audit_record,
    file_operation,
    graph_record,
    inbox_rule,
    mail_accessed,
    secrets_change,
    sp_signin,
    token_id,
    user_logged_in,
    user_signin,
    user_target,
)

# --- the incident -------------------------------------------------------------------

ENTRA_STORY = (
    "Entra ID session of megan@corp.example hijacked (stolen session cookie and refresh token): "
    "replayed from abroad as non-interactive refresh-token sign-ins whose tokens read mail, "
    "download files and plant an inbox rule (M365 audit log), call Graph and add a client secret "
    "to the payroll-sync application, with which a service principal then signs in from a VPS; "
    "her sessions are revoked (StsRefreshTokenValidFrom), a last replay fails, and the secret "
    "outlives the revocation until an admin removes it."
)


class MicrosoftChapter(Chapter):
    """megan's session replayed across sign-ins, the UAL and Graph; a secret planted with it."""

    def __init__(self, story: Story, rng: random.Random, tenant: Tenant) -> None:
        super().__init__(story, rng)
        self.tenant = tenant

    def user(self, login: str, name: str, place: Place, agent: str) -> EntraUser:
        return EntraUser.create(self.ids, login, name, place, agent)

    def signin(self, ms: int, s: SignIn, decoy: bool = False) -> Token:
        """A user sign-in: uses its session, issues a token (parent: the session)."""
        record, uti = user_signin(self.ids, self.tenant, ms, replace(s, error=None))
        credential = f"entra_uti:{uti}"
        refs: list[Ref] = [(f"entra_session:{s.session}", "used")] if s.session else []
        if s.session:
            self.lineage.mint(credential, f"entra_session:{s.session}", s.via)
        self.lineage.hold(credential, s.user.principal)
        self.emit(SIGNIN, ms, record, [*refs, (credential, "issued")], decoy)
        return Token(uti, s.session, s.app, ms)

    def refused(self, ms: int, s: SignIn, error: Error, decoy: bool = False) -> None:
        """A failed sign-in: it used its session (if it named one) and issued nothing."""
        record, _ = user_signin(self.ids, self.tenant, ms, replace(s, error=error))
        refs: list[Ref] = [(f"entra_session:{s.session}", "used")] if s.session else []
        self.emit(SIGNIN, ms, record, refs, decoy)

    def sp_signin(
        self,
        ms: int,
        sp: ServicePrincipal,
        place: Place,
        error: Error | None = None,
        decoy: bool = False,
    ) -> Token:
        """A service principal signs in with a secret: uses the key, issues a token from it
        (nothing when `error`: the token returned is then never logged)."""
        record, uti = sp_signin(self.ids, self.tenant, ms, sp, place, error)
        key = f"entra_app_credential:{sp.key_id}"
        refs: list[Ref] = [(key, "used")]
        if error is None:
            self.lineage.mint(f"entra_uti:{uti}", key, "ServicePrincipalSignInLogs")
            refs.append((f"entra_uti:{uti}", "issued"))
        self.emit(SIGNIN, ms, record, refs, decoy)
        return Token(uti, None, sp.app, ms)

    def uses(self, token: Token) -> list[Ref]:
        refs: list[Ref] = [(f"entra_uti:{token.uti}", "used")]
        if token.session:
            refs.append((f"entra_session:{token.session}", "used"))
        return refs

    def ual(self, ms: int, record: Record, token: Token, decoy: bool = False) -> None:
        self.emit(UAL, ms, record, self.uses(token), decoy)

    def graph(
        self,
        ms: int,
        place: Place,
        agent: str,
        call: tuple[str, str, int],
        token: Token,
        user: EntraUser | None = None,
        sp: ServicePrincipal | None = None,
        decoy: bool = False,
    ) -> None:
        record = graph_record(self.ids, self.tenant, ms, place, agent, call, token, user, sp)
        self.emit(GRAPH, ms, record, self.uses(token), decoy)

    def audit(
        self,
        ms: int,
        activity: str,
        category: str,
        initiated: Record,
        targets: list[Record],
        agent: str,
        refs: list[Ref],
    ) -> None:
        record = audit_record(
            self.ids, self.tenant, ms, activity, category, initiated, targets, agent
        )
        self.emit(AUDIT, ms, record, refs, False)

    def run(self) -> None:
        ids, leak = self.ids, self.leaked_at
        day = (leak // DAY) * DAY
        megan = self.user("megan", "Megan Ross", CORP.at("198.51.100.26"), DESKTOP)
        session = ids.uuid()
        self.begin(f"entra_session:{session}", ENTRA_STORY, [ATTACKER.ip, VPS.ip])
        self.lineage.hold(self.root, megan.principal)
        payroll = ServicePrincipal(
            App(ids.uuid(), "payroll-sync"),
            ids.uuid(),
            ids.uuid(),
            ids.uuid(),
            CLOUD.at("192.0.2.50"),
        )
        self.workday(megan, session, self.later(day - DAY + 8 * HOUR, 0, 1800), 9)
        self.workday(megan, session, self.later(day + 8 * HOUR, 0, 1800), 4, False)
        self.payroll_job(payroll)
        self.decoys(megan, self.later(leak + 30 * MINUTE, 0, 600))
        backdoor = self.replay(megan, session, payroll, self.later(leak + 2 * HOUR, 0, 600))
        for at in (leak + 4 * HOUR, leak + DAY + HOUR):
            self.backdoor_use(backdoor, self.later(at, 0, 600))
        self.respond(megan, session, payroll, backdoor, self.later(leak + DAY + 4 * HOUR, 0, 600))

    def workday(
        self, user: EntraUser, session: str, ms: int, refreshes: int, sign_in: bool = True
    ) -> None:
        """Sign in at the office, then the apps refresh their tokens through the day."""
        if sign_in:
            s = SignIn(user, user.place, user.agent, OFFICE_HOME, GRAPH_API, session, True)
            token = self.signin(ms, s)
            logged = user_logged_in(
                self.ids, self.tenant, ms + 2 * SECOND, user, user.place, user.agent, session
            )
            self.emit(UAL, ms + 2 * SECOND, logged, [(f"entra_session:{session}", "used")], False)
            self.graph(self.later(ms), user.place, user.agent, GRAPH_USER_CALLS[1], token, user)
        for _ in range(refreshes):
            ms = self.later(ms, 40 * 60, 70 * 60)
            app, resource = self.rng.choice(USER_APPS)
            s = SignIn(
                user, user.place, UA_MSAL, app, resource, session, incoming="primaryRefreshToken"
            )
            token = self.signin(ms, s)
            self.work(user, user.place, user.agent, token, resource, self.later(ms, 20, 300))

    def work(
        self,
        user: EntraUser,
        place: Place,
        agent: str,
        token: Token,
        resource: App,
        ms: int,
        decoy: bool = False,
    ) -> None:
        """What a token is used for, by resource: mail, files, Graph."""
        ids, tenant = self.ids, self.tenant
        if resource == EXCHANGE:
            self.ual(ms, mail_accessed(ids, tenant, ms, user, place.ip, token, False), token, decoy)
        elif resource == SHAREPOINT:
            name = self.rng.choice(FILES)
            record = file_operation(
                ids, tenant, ms, user, place, agent, token, "FileAccessed", name
            )
            self.ual(ms, record, token, decoy)
        else:
            call = self.rng.choice(GRAPH_USER_CALLS[:5])
            self.graph(ms, place, agent, call, token, user, decoy=decoy)

    def replay(
        self, megan: EntraUser, session: str, payroll: ServicePrincipal, ms: int
    ) -> ServicePrincipal:
        """The stolen refresh token redeemed from abroad, one token per resource; a secret planted."""
        ids, tenant = self.ids, self.tenant

        def redeem(at: int, resource: App) -> Token:
            s = SignIn(
                megan, ATTACKER, PYTHON_REQUESTS, OFFICE, resource, session, incoming="refreshToken"
            )
            token = self.signin(at, s)
            return token

        graph = redeem(ms, GRAPH_API)
        for call in (("GET", "/v1.0/me", 200), GRAPH_USER_CALLS[0], GRAPH_APP_CALLS[0]):
            ms = self.later(ms)
            self.graph(ms, ATTACKER, PYTHON_REQUESTS, call, graph, megan)
        mail = redeem(ms + 8 * MINUTE, EXCHANGE)
        ms += 9 * MINUTE
        for _ in range(2):
            ms = self.later(ms)
            self.ual(ms, mail_accessed(ids, tenant, ms, megan, ATTACKER.ip, mail, True), mail)
        ms = self.later(ms, 30, 90)
        self.ual(ms, inbox_rule(ids, tenant, ms, megan, ATTACKER.ip, mail), mail)
        files = redeem(ms + 10 * MINUTE, SHAREPOINT)
        ms += 11 * MINUTE
        for name in FILES[:3]:
            ms = self.later(ms, 10, 60)
            record = file_operation(
                ids, tenant, ms, megan, ATTACKER, PYTHON_REQUESTS, files, "FileDownloaded", name
            )
            self.ual(ms, record, files)
        admin = redeem(ms + 15 * MINUTE, GRAPH_API)
        ms += 16 * MINUTE
        add = ("POST", f"/v1.0/applications/{payroll.object_id}/addPassword", 200)
        self.graph(ms, ATTACKER, PYTHON_REQUESTS, add, admin, megan)
        key = ids.uuid()
        own = (payroll.key_id, "ci-2026")
        target = secrets_change(payroll, [own], [own, (key, "sync")])
        credential = f"entra_app_credential:{key}"
        self.lineage.mint(credential, self.root, SECRETS_ACTIVITY.strip())
        refs = [*self.uses(admin), (credential, "issued")]
        self.audit(
            ms + 2 * SECOND,
            SECRETS_ACTIVITY,
            "ApplicationManagement",
            _initiator(megan, ATTACKER.ip, admin),
            [target],
            PYTHON_REQUESTS,
            refs,
        )
        return ServicePrincipal(payroll.app, payroll.object_id, payroll.sp_id, key, VPS)

    def backdoor_use(self, backdoor: ServicePrincipal, ms: int) -> None:
        """The planted secret signs the app in from a VPS; app-only Graph calls follow."""
        token = self.sp_signin(ms, backdoor, VPS)
        for call in GRAPH_APP_CALLS:
            ms = self.later(ms)
            self.graph(ms, VPS, PYTHON_REQUESTS, call, token, sp=backdoor)

    def payroll_job(self, payroll: ServicePrincipal) -> None:
        """Decoy: the app's own secret, used by its nightly and midday jobs from its own host."""
        ms = self.start + 2 * HOUR
        while ms < self.start + 10 * DAY - HOUR:
            token = self.sp_signin(ms, payroll, payroll.place, decoy=True)
            call = GRAPH_APP_CALLS[0]
            self.graph(self.later(ms), payroll.place, UA_MSAL, call, token, sp=payroll, decoy=True)
            ms = self.later(ms + 12 * HOUR, -20 * 60, 20 * 60)

    def decoys(self, megan: EntraUser, ms: int) -> None:
        """megan's phone session (her other session); the attacker's IP on owen's account."""
        home = home_place(self.rng, 2)
        phone = self.ids.uuid()
        s = SignIn(megan, home, UA_OUTLOOK_MOBILE, OUTLOOK_MOBILE, EXCHANGE, phone, True)
        token = self.signin(ms, s, decoy=True)
        self.work(megan, home, UA_OUTLOOK_MOBILE, token, EXCHANGE, self.later(ms), decoy=True)
        s = SignIn(
            megan, home, UA_OUTLOOK_MOBILE, OUTLOOK_MOBILE, EXCHANGE, phone, incoming="refreshToken"
        )
        token = self.signin(ms + 2 * HOUR, s, decoy=True)
        self.work(
            megan, home, UA_OUTLOOK_MOBILE, token, EXCHANGE, ms + 2 * HOUR + MINUTE, decoy=True
        )
        owen = self.user("owen", "Owen Becker", CORP.at("198.51.100.28"), BROWSERS[0].raw)
        guess = SignIn(owen, ATTACKER, PYTHON_REQUESTS, OFFICE_HOME, GRAPH_API, None, True)
        for minutes in (50, 51):
            self.refused(self.later(ms + minutes * MINUTE), guess, BAD_PASSWORD, decoy=True)
        s = SignIn(owen, ATTACKER, BROWSERS[0].raw, OFFICE_HOME, GRAPH_API, self.ids.uuid(), True)
        token = self.signin(ms + 55 * MINUTE, s, decoy=True)
        self.graph(
            ms + 56 * MINUTE,
            ATTACKER,
            BROWSERS[0].raw,
            ("GET", "/v1.0/me", 200),
            token,
            owen,
            decoy=True,
        )

    def respond(
        self,
        megan: EntraUser,
        session: str,
        payroll: ServicePrincipal,
        backdoor: ServicePrincipal,
        ms: int,
    ) -> None:
        """Revoke megan's sessions; the replay fails, the secret still works until removed."""
        secops = self.user("secops", "Security Operations", CORP.at("198.51.100.29"), DESKTOP)
        old, new = f'["{iso_seconds(self.start - 90 * DAY)}"]', f'["{iso_seconds(ms)}"]'
        target = user_target(megan, "StsRefreshTokensValidFrom", old, new)
        revoked = [(megan.principal, "revoked")]
        self.audit(
            ms,
            REVOKE_SESSIONS,
            "UserManagement",
            _initiator(secops, secops.place.ip),
            [target],
            DESKTOP,
            revoked,
        )
        s = SignIn(
            megan, ATTACKER, PYTHON_REQUESTS, OFFICE, GRAPH_API, session, False, "refreshToken"
        )
        self.refused(self.later(ms + 35 * MINUTE), s, REVOKED_GRANT)
        self.backdoor_use(backdoor, self.later(ms + 50 * MINUTE))
        own = (payroll.key_id, "ci-2026")
        target = secrets_change(payroll, [own, (backdoor.key_id, "sync")], [own])
        removed = [(f"entra_app_credential:{backdoor.key_id}", "revoked")]
        self.audit(
            ms + 2 * HOUR,
            SECRETS_ACTIVITY,
            "ApplicationManagement",
            _initiator(secops, secops.place.ip),
            [target],
            DESKTOP,
            removed,
        )
        self.sp_signin(self.later(ms + 3 * HOUR), backdoor, VPS, error=BAD_SECRET)


# --- background ---------------------------------------------------------------------

BACKGROUND_APPS = ("hr-connector", "backup-agent", "siem-collector")
GROUPS = ("Sales", "Engineering", "Finance", "All Staff")
SUBSTRATE = {
    "app": {
        "appId": "0000000c-0000-0000-c000-000000000000",
        "displayName": "Microsoft App Access Panel",
        "servicePrincipalId": "",
        "servicePrincipalName": None,
    }
}


class MicrosoftHaystack:
    """A tenant's day: sign-ins and token refreshes, mail and files, Graph calls, directory edits.

    Each user keeps a session and its latest token, so UAL and Graph records name
    a session and token that the sign-in logs issued (or that predate the logs).
    """

    def __init__(self, company: Company, rng: random.Random, tenant: Tenant) -> None:
        self.rng = rng
        self.ids = Ids(rng)
        self.tenant = tenant
        self.start = company.start
        self.users = [
            EntraUser.create(self.ids, name, name.replace(".", " ").title(), place, agent.raw)
            for name, place, agent in zip(
                company.names, company.places, company.agents, strict=True
            )
        ]
        self.apps = [
            ServicePrincipal(
                App(self.ids.uuid(), name),
                self.ids.uuid(),
                self.ids.uuid(),
                self.ids.uuid(),
                CLOUD.at(f"192.0.2.{70 + i}"),
            )
            for i, name in enumerate(BACKGROUND_APPS)
        ]
        self.app_tokens: dict[str, Token] = {}
        self.groups = [(self.ids.uuid(), name) for name in GROUPS]

    def record(self, source: str, ms: int) -> Record:
        if source == SIGNIN:
            return self.signin(ms)
        if source == UAL:
            return self.ual(ms)
        if source == GRAPH:
            return self.graph(ms)
        return self.audit(ms)

    def signin(self, ms: int) -> Record:
        rng, ids, tenant = self.rng, self.ids, self.tenant
        roll = rng.random()
        if roll < 0.1:
            app = rng.choice(self.apps)
            record, uti = sp_signin(ids, tenant, ms, app, app.place)
            self.app_tokens[app.app.id] = Token(uti, None, app.app, ms)
            return record
        user = rng.choice(self.users)
        if roll < 0.13:
            error = BAD_PASSWORD if roll < 0.12 else MFA_REQUIRED
            s = SignIn(
                user, user.place, user.agent, OFFICE_HOME, GRAPH_API, None, True, error=error
            )
            return user_signin(ids, tenant, ms, s)[0]
        if user.session is None or roll < 0.22:
            user.session = ids.uuid()
            s = SignIn(user, user.place, user.agent, OFFICE_HOME, GRAPH_API, user.session, True)
        else:
            client, resource = rng.choice(USER_APPS)
            s = SignIn(
                user,
                user.place,
                UA_MSAL,
                client,
                resource,
                user.session,
                incoming="primaryRefreshToken",
            )
        record, uti = user_signin(ids, tenant, ms, s)
        user.token = uti
        user.token_at = ms
        return record

    def token(self, user: EntraUser, ms: int, app: App = OUTLOOK) -> Token:
        """The user's current token; a session and token from before the logs if it has none."""
        if user.session is None or user.token is None:
            user.session = self.ids.uuid()
            user.token = token_id(self.ids.uuid())
            user.token_at = max(self.start, ms - self.rng.randrange(HOUR))
        return Token(user.token, user.session, app, user.token_at)

    def ual(self, ms: int) -> Record:
        rng, ids, tenant = self.rng, self.ids, self.tenant
        user = rng.choice(self.users)
        roll = rng.random()
        if roll < 0.05:
            session = self.token(user, ms).session
            return user_logged_in(ids, tenant, ms, user, user.place, user.agent, str(session))
        if roll < 0.6:
            return mail_accessed(
                ids, tenant, ms, user, user.place.ip, self.token(user, ms), roll < 0.12
            )
        operation = (
            "FileAccessed" if roll < 0.85 else "FileModified" if roll < 0.95 else "FileDownloaded"
        )
        token = self.token(user, ms, OFFICE)
        name = rng.choice(FILES)
        return file_operation(ids, tenant, ms, user, user.place, user.agent, token, operation, name)

    def graph(self, ms: int) -> Record:
        rng = self.rng
        if rng.random() < 0.25:
            app = rng.choice(self.apps)
            token = self.app_tokens.get(app.app.id)
            if token is None:
                token = self.app_tokens[app.app.id] = Token(
                    token_id(self.ids.uuid()), None, app.app, ms
                )
            call = rng.choice(GRAPH_APP_CALLS[:2])
            return graph_record(self.ids, self.tenant, ms, app.place, UA_MSAL, call, token, sp=app)
        user = rng.choice(self.users)
        token = self.token(user, ms, TEAMS)
        call = rng.choice(GRAPH_USER_CALLS)
        return graph_record(self.ids, self.tenant, ms, user.place, user.agent, call, token, user)

    def audit(self, ms: int) -> Record:
        rng, ids = self.rng, self.ids
        user = rng.choice(self.users)
        if rng.random() < 0.5:
            group_id, group = rng.choice(self.groups)
            target: dict[str, Any] = {
                "id": group_id,
                "displayName": group,
                "type": "Group",
                "userPrincipalName": None,
                "groupType": "unifiedGroups",
                "modifiedProperties": [],
            }
            member = user_target(user, "Group.DisplayName", "null", f'"{group}"')
            return audit_record(
                ids,
                self.tenant,
                ms,
                "Add member to group",
                "GroupManagement",
                SUBSTRATE,
                [member, target],
                None,
            )
        target = user_target(user, "LastDirSyncTime", "[]", f'["{iso_seconds(ms)}"]')
        return audit_record(
            ids, self.tenant, ms, "Update user", "UserManagement", SUBSTRATE, [target], None
        )


# --- delivery -----------------------------------------------------------------------


class MicrosoftWriter:
    """Event Hub deliveries of the diagnostic settings, one file per source and delivery window
    (`{"records": [...]}`, as the hub delivers them), and Purview CSV exports of the UAL."""

    def __init__(self, logs: Path, ids: Ids, tenant: Tenant) -> None:
        self.logs = logs
        self.ids = ids
        self.ual_file: io.TextIOWrapper | None = None
        self.ual_rows = 0
        self.ual_files = 0

    def window(self, start: int, records: dict[str, list[Record]]) -> None:
        t = time.gmtime(start // 1000)
        for source in (SIGNIN, AUDIT, GRAPH):
            batch = records.get(source)
            if batch:
                name = f"{time.strftime('%Y%m%dT%H%MZ', t)}_{self.ids.uuid()}.json.gz"
                body = b'{"records":[' + b",".join(orjson.dumps(r) for r in batch) + b"]}"
                write_gzip(self.logs / source / time.strftime("%Y/%m/%d", t) / name, body)
        for record in records.get(UAL, ()):
            self.ual(record)

    def ual(self, record: Record) -> None:
        if self.ual_file is None or self.ual_rows == UAL_ROWS_PER_FILE:
            self.close()
            self.ual_files += 1
            path = self.logs / UAL / f"audit_log_search_export_{self.ual_files:03d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.ual_file = path.open("w", newline="", encoding="utf-8")
            self.ual_writer = csv.writer(self.ual_file)
            self.ual_writer.writerow(UAL_COLUMNS)
        created = record["CreationTime"] + ".0000000Z "
        audit = orjson.dumps(record).decode()
        row = (
            record["Id"],
            created,
            record["RecordType"],
            record["Operation"],
            record["UserId"],
            audit,
            "",
            "",
        )
        self.ual_writer.writerow(row)
        self.ual_rows += 1

    def close(self) -> None:
        if self.ual_file is not None:
            self.ual_file.close()
            self.ual_file = None
            self.ual_rows = 0


VENDOR = Vendor(
    name="microsoft",
    shares={SIGNIN: 0.08, UAL: 0.06, GRAPH: 0.06, AUDIT: 0.01},
    event_ids={
        SIGNIN: lambda record: record["properties"]["id"],
        AUDIT: lambda record: record["properties"]["id"],
        GRAPH: lambda record: record["properties"]["requestId"],
        UAL: lambda record: record["Id"],
    },
    chapter=MicrosoftChapter,
    haystack=MicrosoftHaystack,
    writer=MicrosoftWriter,
    world=lambda rng: Tenant(Ids(rng).uuid()),
)
