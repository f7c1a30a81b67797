"""Microsoft record shapes: Entra sign-ins, directory audits, Graph activity, the unified audit log.

The builders of ir/synth/microsoft.py's records, one function per record kind, fields
as the parsers' verified lists (parsers/entra_signin.py, entra_audit.py,
graph_activity.py, m365_ual.py) and their fixtures.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass

import orjson

from ir.synth.core import (
    DOMAIN,
    Ids,
    Place,
    Record,
    iso_seconds,
)

SIGNIN, UAL, GRAPH, AUDIT = "entra_signin", "m365_ual", "graph_activity", "entra_audit"
UAL_ROWS_PER_FILE = 50_000  # the Purview export's row limit
UAL_COLUMNS = (
    "RecordId",
    "CreationDate",
    "RecordType",
    "Operation",
    "UserId",
    "AuditData",
    "AssociatedAdminUnits",
    "AssociatedAdminUnitsNames",
)
SECRETS_ACTIVITY = (
    "Update application – Certificates and secrets management "  # sic: en dash, space
)
REVOKE_SESSIONS = "Update StsRefreshTokenValidFrom Timestamp"
MEMBER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"  # the directory role every member holds
Error = tuple[int, str]  # an Entra error code and its failure reason
REVOKED_GRANT = (
    50173,
    "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
    "The user might have changed or reset their password.",
)
BAD_PASSWORD = (50126, "Error validating credentials due to invalid username or password.")
BAD_SECRET = (
    7000215,
    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
    "secret value, not the client secret ID, for a secret added to app.",
)
MFA_REQUIRED = (50074, "Strong Authentication is required.")


@dataclass(frozen=True)
class App:
    id: str
    name: str


# Microsoft's first-party application and resource ids are the same in every tenant.
OFFICE_HOME = App("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome")
OFFICE = App("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office")
OUTLOOK = App("5d661950-3475-41cd-a2c3-d671a3162bc1", "Microsoft Outlook")
OUTLOOK_MOBILE = App("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile")
TEAMS = App("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams")
GRAPH_API = App("00000003-0000-0000-c000-000000000000", "Microsoft Graph")
EXCHANGE = App("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online")
SHAREPOINT = App("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online")
USER_APPS = (
    (OUTLOOK, EXCHANGE),
    (TEAMS, GRAPH_API),
    (OFFICE, SHAREPOINT),
    (OFFICE_HOME, GRAPH_API),
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 Edg/128.0.0.0"
UA_OUTLOOK_MOBILE = "Outlook-iOS/2.0"
UA_MSAL = "Mozilla/5.0 (compatible; MSAL 1.0) PKeyAuth/1.0"
GRAPH_USER_CALLS = (
    ("GET", "/v1.0/me/messages?$top=25&$select=subject,from,receivedDateTime", 200),
    ("GET", "/v1.0/me/events?$top=10", 200),
    ("GET", "/v1.0/me/drive/recent", 200),
    ("GET", "/v1.0/me/joinedTeams", 200),
    ("GET", "/v1.0/me/presence", 200),
    ("POST", "/v1.0/me/sendMail", 202),
    ("GET", "/v1.0/users/{id}/photo/$value", 404),
)
GRAPH_APP_CALLS = (
    ("GET", "/v1.0/users?$select=id,displayName,mail&$top=999", 200),
    ("GET", "/v1.0/groups?$top=100", 200),
    ("GET", "/v1.0/auditLogs/signIns?$top=50", 403),
)
FILES = ("Q3 forecast.xlsx", "Board deck.pptx", "payroll-2026.xlsx", "Vendor contracts.docx")


def azure_time(ms: int, zone: str = "Z") -> str:
    """Azure Monitor's 7-digit fraction: `2026-09-02T08:15:02.4560000Z` (or `+00:00`)."""
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}0000{zone}"
    )


def ual_time(ms: int) -> str:
    """The UAL's `CreationTime`: seconds, no zone (UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))


def token_id(request_id: str) -> str:
    """A sign-in's `uniqueTokenIdentifier`: base64url of its request id's (GUID) bytes."""
    raw = uuid.UUID(request_id).bytes_le
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str = "corp.onmicrosoft.com"

    @property
    def arm(self) -> str:
        return f"/tenants/{self.id}/providers/Microsoft.aadiam"


@dataclass
class EntraUser:
    """A member: its ids in each log, where it works from, its current session and token."""

    upn: str
    name: str
    object_id: str
    puid: str  # UserKey in Exchange records
    place: Place
    agent: str
    session: str | None = None
    token: str | None = None
    token_at: int = 0

    @classmethod
    def create(cls, ids: Ids, login: str, name: str, place: Place, agent: str) -> EntraUser:
        puid = f"1003{ids.rng.getrandbits(48):012X}"
        return cls(f"{login}@{DOMAIN}", name, ids.uuid(), puid, place, agent)

    @property
    def principal(self) -> str:
        return f"entra_user:{self.upn}"


@dataclass(frozen=True)
class ServicePrincipal:
    app: App
    object_id: str  # the application object (audit targets)
    sp_id: str  # the service principal (sign-ins, Graph)
    key_id: str  # its client secret's keyId
    place: Place


def azure_record(
    tenant: Tenant, ms: int, category: str, operation: str, ip: str | None, identity: str
) -> Record:
    """The Azure Monitor envelope of an Entra record (`properties` added by the caller)."""
    return {
        "time": azure_time(ms),
        "resourceId": tenant.arm,
        "operationName": operation,
        "operationVersion": "1.0",
        "category": category,
        "tenantId": tenant.id,
        "resultType": "0",
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": ip,
        "correlationId": "",
        "identity": identity,
        "Level": 4,
    }


def _location(place: Place) -> Record:
    return {
        "city": place.city,
        "state": place.state,
        "countryOrRegion": place.country_code,
        "geoCoordinates": {"altitude": None, "latitude": place.lat, "longitude": place.lon},
    }


def _status(record: Record, error: Error | None) -> Record:
    if error is None:
        return {"errorCode": 0, "failureReason": "Other.", "additionalDetails": None}
    record["resultType"] = str(error[0])
    record["resultDescription"] = error[1]
    return {"errorCode": error[0], "failureReason": error[1], "additionalDetails": None}


@dataclass(frozen=True)
class SignIn:
    """What a user sign-in is about: who, from where, to which app and resource, how."""

    user: EntraUser
    place: Place
    agent: str
    app: App
    resource: App
    session: str | None
    interactive: bool = False
    incoming: str = "none"  # incomingTokenType: refreshToken, primaryRefreshToken, …
    error: Error | None = None

    @property
    def category(self) -> str:
        return "SignInLogs" if self.interactive else "NonInteractiveUserSignInLogs"

    @property
    def via(self) -> str:
        """How parsers/entra_signin.py names the issuance (relation_to_parent)."""
        suffix = f" (incomingTokenType {self.incoming})" if self.incoming != "none" else ""
        return self.category + suffix


def user_signin(ids: Ids, tenant: Tenant, ms: int, s: SignIn) -> tuple[Record, str]:
    """A user sign-in (interactive or not); returns the record and its uniqueTokenIdentifier."""
    request = ids.uuid()
    uti = token_id(request)
    place, user = s.place, s.user
    record = azure_record(tenant, ms, s.category, "Sign-in activity", place.ip, user.name)
    correlation = ids.uuid()
    record["correlationId"] = correlation
    record["location"] = place.country_code
    browser = s.agent.startswith("Mozilla/")
    record["properties"] = {
        "id": request,
        "createdDateTime": azure_time(ms, "+00:00"),
        "userDisplayName": user.name,
        "userPrincipalName": user.upn,
        "userId": user.object_id,
        "appId": s.app.id,
        "appDisplayName": s.app.name,
        "ipAddress": place.ip,
        "clientAppUsed": "Browser" if browser else "Mobile Apps and Desktop clients",
        "userAgent": s.agent,
        "correlationId": correlation,
        "conditionalAccessStatus": "success" if s.interactive else "notApplied",
        "originalRequestId": request,
        "isInteractive": s.interactive,
        "tokenIssuerName": "",
        "tokenIssuerType": "AzureAD",
        "clientCredentialType": "none",
        "processingTimeInMilliseconds": ids.rng.randrange(40, 400),
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes_v2": [],
        "resourceDisplayName": s.resource.name,
        "resourceId": s.resource.id,
        "resourceTenantId": tenant.id,
        "homeTenantId": tenant.id,
        "authenticationRequirement": "multiFactorAuthentication"
        if s.interactive
        else "singleFactorAuthentication",
        "signInIdentifier": user.upn if s.interactive else "",
        "signInEventTypes": ["interactiveUser" if s.interactive else "nonInteractiveUser"],
        "servicePrincipalId": "",
        "servicePrincipalName": "",
        "userType": "Member",
        "autonomousSystemNumber": place.asn,
        "crossTenantAccessType": "none",
        "uniqueTokenIdentifier": uti,
        "incomingTokenType": s.incoming,
        "authenticationProtocol": "none",
        "sessionId": s.session or "",
        "status": _status(record, s.error),
        "deviceDetail": {
            "deviceId": "",
            "displayName": "",
            "operatingSystem": "Windows10" if "Windows" in s.agent else "",
            "browser": "Edge 128.0.0" if browser else "",
            "isCompliant": False,
            "isManaged": False,
            "trustType": "",
        },
        "location": _location(place),
        "appliedConditionalAccessPolicies": [],
        "authenticationProcessingDetails": [],
        "networkLocationDetails": [],
        "authenticationDetails": [],
    }
    return record, uti


def sp_signin(
    ids: Ids,
    tenant: Tenant,
    ms: int,
    sp: ServicePrincipal,
    place: Place,
    error: Error | None = None,
) -> tuple[Record, str]:
    """A service principal's client-credentials sign-in with its secret (`keyId` logged)."""
    request = ids.uuid()
    uti = token_id(request)
    name = sp.app.name
    record = azure_record(
        tenant, ms, "ServicePrincipalSignInLogs", "Sign-in activity", place.ip, name
    )
    correlation = ids.uuid()
    record["correlationId"] = correlation
    record["location"] = place.country_code
    status = _status(record, error)
    status.pop("additionalDetails")
    record["properties"] = {
        "id": request,
        "createdDateTime": azure_time(ms, "+00:00"),
        "appId": sp.app.id,
        "appDisplayName": name,
        "ipAddress": place.ip,
        "correlationId": correlation,
        "servicePrincipalId": sp.sp_id,
        "servicePrincipalName": name,
        "servicePrincipalCredentialKeyId": sp.key_id,
        "servicePrincipalCredentialThumbprint": "",
        "federatedCredentialId": "",
        "clientCredentialType": "clientSecret",
        "resourceDisplayName": GRAPH_API.name,
        "resourceId": GRAPH_API.id,
        "resourceTenantId": tenant.id,
        "status": status,
        "uniqueTokenIdentifier": "" if error else uti,
        "location": _location(place),
        "signInEventTypes": ["servicePrincipal"],
        "conditionalAccessStatus": "notApplied",
        "authenticationProcessingDetails": [],
    }
    return record, uti


@dataclass(frozen=True)
class Token:
    """An access token as resource logs see it: its sign-in (uti), session, app, issue time."""

    uti: str
    session: str | None
    app: App
    issued: int


def graph_record(
    ids: Ids,
    tenant: Tenant,
    ms: int,
    place: Place,
    agent: str,
    call: tuple[str, str, int],
    token: Token,
    user: EntraUser | None = None,
    sp: ServicePrincipal | None = None,
) -> Record:
    """One Graph request as the activity log records it (storage / Event Hub export)."""
    method, path, status = call
    request = ids.uuid()
    took = ids.rng.randrange(20, 900)
    path = path.replace("{id}", user.object_id if user else ids.uuid())
    props: Record = {
        "apiVersion": "v1.0",
        "appId": token.app.id,
        "atContent": "",
        "clientAuthMethod": "0" if user else "1",
        "clientRequestId": request,
        "durationMs": took,
        "identityProvider": f"https://sts.windows.net/{tenant.id}/",
        "ipAddress": place.ip,
        "location": "West Europe",
        "operationId": request,
        "requestId": request,
        "requestMethod": method,
        "requestUri": "https://graph.microsoft.com" + path,
        "responseSizeBytes": ids.rng.randrange(300, 90_000) if status < 300 else 250,
        "responseStatusCode": status,
        "roles": None if user else "User.Read.All Mail.Read",
        "scopes": "Mail.ReadWrite Files.Read.All User.Read" if user else None,
        "servicePrincipalId": sp.sp_id if sp else None,
        "signInActivityId": token.uti,
        "tenantId": tenant.id,
        "timeGenerated": azure_time(ms),
        "tokenIssuedAt": iso_seconds(token.issued),
        "userAgent": agent,
        "userId": user.object_id if user else None,
        "wids": MEMBER_ROLE if user else None,
        "C_DeviceId": "",
    }
    if token.session:
        props["c_Sid"] = token.session
    return {
        "Level": 4,
        "callerIpAddress": place.ip,
        "category": "MicrosoftGraphActivityLogs",
        "correlationId": request,
        "durationMs": took,
        "location": "West Europe",
        "operationName": "Microsoft Graph Activity",
        "operationVersion": "v1.0",
        "properties": props,
        "resourceId": tenant.arm.upper(),
        "resultSignature": str(status),
        "tenantId": tenant.id,
        "time": azure_time(ms),
    }


def _initiator(user: EntraUser, ip: str, token: Token | None = None) -> Record:
    initiated: Record = {
        "user": {
            "id": user.object_id,
            "displayName": None,
            "userPrincipalName": user.upn,
            "ipAddress": ip,
            "userType": None,
            "homeTenantId": None,
            "homeTenantName": None,
        }
    }
    if token is not None:
        initiated["linkableIdentifiers"] = {
            "sessionId": token.session,
            "deviceId": "",
            "tokenDetails": {
                "uniqueTokenIdentifier": token.uti,
                "issuedAtDateTime": iso_seconds(token.issued),
            },
        }
    return initiated


def audit_record(
    ids: Ids,
    tenant: Tenant,
    ms: int,
    activity: str,
    category: str,
    initiated: Record,
    targets: list[Record],
    agent: str | None,
) -> Record:
    """A directory audit record, Azure Monitor export shape."""
    user = initiated.get("user") or {}
    correlation = ids.uuid()
    record = azure_record(tenant, ms, "AuditLogs", activity, user.get("ipAddress"), "")
    record.pop("Level")
    record.pop("resultType")
    record["correlationId"] = correlation
    record["identity"] = "Microsoft Graph" if agent and "python" in agent else "Azure Portal"
    record["level"] = "Informational"
    record["properties"] = {
        "id": f"Directory_{correlation}_{ids.base32(5)}_{ids.number(8)}",
        "category": category,
        "correlationId": correlation,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": azure_time(ms, "+00:00"),
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": initiated,
        "userAgent": None,
        "targetResources": targets,
        "additionalDetails": [{"key": "User-Agent", "value": agent}] if agent else [],
    }
    return record


def key_description(keys: list[tuple[str, str]]) -> str:
    """A `KeyDescription` value: the application's password keys, as JSON text."""
    return orjson.dumps(
        [
            f"[KeyIdentifier={key},KeyType=Password,KeyUsage=Verify,DisplayName={name}]"
            for key, name in keys
        ]
    ).decode()


def secrets_change(
    app: ServicePrincipal, old: list[tuple[str, str]], new: list[tuple[str, str]]
) -> Record:
    """The target of a secrets-management change: the application and its keys before / after."""
    return {
        "id": app.object_id,
        "displayName": app.app.name,
        "type": "Application",
        "userPrincipalName": None,
        "groupType": None,
        "modifiedProperties": [
            {
                "displayName": "KeyDescription",
                "oldValue": key_description(old),
                "newValue": key_description(new),
            },
            {
                "displayName": "Included Updated Properties",
                "oldValue": None,
                "newValue": '"KeyDescription"',
            },
        ],
    }


def user_target(user: EntraUser, prop: str, old: str, new: str) -> Record:
    return {
        "id": user.object_id,
        "displayName": None,
        "type": "User",
        "userPrincipalName": user.upn,
        "groupType": None,
        "modifiedProperties": [
            {"displayName": prop, "oldValue": old, "newValue": new},
            {
                "displayName": "Included Updated Properties",
                "oldValue": None,
                "newValue": f'"{prop}"',
            },
        ],
    }


# --- the unified audit log ----------------------------------------------------------


def ual_record(
    ids: Ids,
    tenant: Tenant,
    ms: int,
    operation: str,
    record_type: int,
    workload: str,
    user: EntraUser,
) -> Record:
    return {
        "CreationTime": ual_time(ms),
        "Id": ids.uuid(),
        "Operation": operation,
        "OrganizationId": tenant.id,
        "RecordType": record_type,
        "UserKey": user.puid,
        "UserType": 0,
        "Version": 1,
        "Workload": workload,
        "UserId": user.upn,
    }


def app_access(token: Token, api: App) -> Record:
    return {
        "IssuedAtTime": ual_time(token.issued),
        "UniqueTokenId": token.uti,
        "ClientAppId": token.app.id,
        "APIId": api.id,
        "AADSessionId": token.session,
    }


def mail_accessed(
    ids: Ids, tenant: Tenant, ms: int, user: EntraUser, ip: str, token: Token, bind: bool
) -> Record:
    """Exchange MailItemsAccessed (RecordType 50, ExchangeItemAggregated)."""
    record = ual_record(ids, tenant, ms, "MailItemsAccessed", 50, "Exchange", user)
    items = [
        {
            "InternetMessageId": f"<{ids.alnum(12)}@{DOMAIN}>",
            "SizeInBytes": ids.rng.randrange(4000, 900_000),
        }
        for _ in range(ids.rng.randrange(1, 6) if bind else 1)
    ]
    record.update(
        {
            "ResultStatus": "Succeeded",
            "ClientIPAddress": ip,
            "ClientInfoString": "Client=REST;Client=RESTSystem;;",
            "ExternalAccess": False,
            "InternalLogonType": 0,
            "LogonType": 0,
            "MailboxGuid": user.object_id,
            "MailboxOwnerUPN": user.upn,
            "OrganizationName": tenant.name,
            "OriginatingServer": "AM0PR01MB1234 (15.20.7918.20)\r\n",
            "AppId": token.app.id,
            "ClientAppId": token.app.id,
            "TokenObjectId": user.object_id,
            "TokenTenantId": tenant.id,
            "AppAccessContext": app_access(token, GRAPH_API),
            "OperationProperties": [
                {"Name": "MailAccessType", "Value": "Bind" if bind else "Sync"},
                {"Name": "IsThrottled", "Value": "False"},
            ],
            "OperationCount": len(items),
            "Folders": [{"Id": ids.alnum(11), "Path": "\\Inbox", "FolderItems": items}],
        }
    )
    return record


def file_operation(
    ids: Ids,
    tenant: Tenant,
    ms: int,
    user: EntraUser,
    place: Place,
    agent: str,
    token: Token,
    operation: str,
    name: str,
) -> Record:
    """SharePoint FileAccessed / FileDownloaded / FileModified (RecordType 6)."""
    record = ual_record(ids, tenant, ms, operation, 6, "SharePoint", user)
    site = "https://corp.sharepoint.com/sites/finance/"
    record.update(
        {
            "ClientIP": place.ip,
            "UserAgent": agent,
            "ObjectId": f"{site}Shared Documents/{name}",
            "ItemType": "File",
            "ListItemUniqueId": ids.uuid(),
            "Site": ids.uuid(),
            "SiteUrl": site,
            "SourceFileExtension": name.rsplit(".", 1)[-1],
            "SourceFileName": name,
            "SourceRelativeUrl": "Shared Documents",
            "EventSource": "SharePoint",
            "AuthenticationType": "OAuth",
            "IsManagedDevice": False,
            "AppAccessContext": {**app_access(token, SHAREPOINT), "CorrelationId": ids.uuid()},
        }
    )
    return record


def inbox_rule(ids: Ids, tenant: Tenant, ms: int, user: EntraUser, ip: str, token: Token) -> Record:
    """Exchange admin New-InboxRule (RecordType 1): the classic business-email-compromise rule."""
    record = ual_record(ids, tenant, ms, "New-InboxRule", 1, "Exchange", user)
    record.update(
        {
            "ResultStatus": "True",
            "ClientIP": f"{ip}:{ids.rng.randrange(20000, 60000)}",
            "ObjectId": f"{DOMAIN}/Users/{user.upn.split('@')[0]}\\.",
            "ExternalAccess": False,
            "OrganizationName": tenant.name,
            "OriginatingServer": "AM0PR01MB1234 (15.20.7918.20)",
            "Parameters": [
                {"Name": "Name", "Value": "."},
                {"Name": "MoveToFolder", "Value": "RSS Subscriptions"},
                {"Name": "SubjectOrBodyContainsWords", "Value": "invoice;payment;wire"},
                {"Name": "StopProcessingRules", "Value": "True"},
            ],
            "SessionId": ids.uuid(),
            "AppAccessContext": app_access(token, EXCHANGE),
        }
    )
    return record


def user_logged_in(
    ids: Ids, tenant: Tenant, ms: int, user: EntraUser, place: Place, agent: str, session: str
) -> Record:
    """AzureActiveDirectoryStsLogon (RecordType 15) UserLoggedIn, the session in DeviceProperties."""
    record = ual_record(ids, tenant, ms, "UserLoggedIn", 15, "AzureActiveDirectory", user)
    record.update(
        {
            "ResultStatus": "Success",
            "ObjectId": OFFICE_HOME.id,
            "ClientIP": place.ip,
            "ActorIpAddress": place.ip,
            "ActorContextId": tenant.id,
            "ApplicationId": OFFICE_HOME.id,
            "AzureActiveDirectoryEventType": 1,
            "InterSystemsId": ids.uuid(),
            "IntraSystemId": ids.uuid(),
            "SupportTicketId": "",
            "TargetContextId": tenant.id,
            "ExtendedProperties": [
                {"Name": "ResultStatusDetail", "Value": "Redirect"},
                {"Name": "UserAgent", "Value": agent},
                {"Name": "RequestType", "Value": "OAuth2:Authorize"},
            ],
            "DeviceProperties": [
                {"Name": "OS", "Value": "Windows 10"},
                {"Name": "BrowserType", "Value": "Edge"},
                {"Name": "IsCompliantAndManaged", "Value": "False"},
                {"Name": "SessionId", "Value": session},
            ],
            "Actor": [{"ID": user.object_id, "Type": 0}, {"ID": user.upn, "Type": 5}],
            "ErrorNumber": "0",
        }
    )
    return record
