"""Microsoft 365 Unified Audit Log: Purview CSV export, Management Activity API, cmdlet output.

Every shape carries the same UAL record (the common schema plus service fields):
- the Purview audit search export, CSV with the columns `RecordId, CreationDate,
  RecordType, Operation, UserId, AuditData, AssociatedAdminUnits,
  AssociatedAdminUnitsNames`, the record being the JSON text in `AuditData` (quotes
  doubled); `CreationDate` is locale-formatted (`9/20/2023 4:05:03 AM` or ISO with a
  trailing space), so time is read from the record's own `CreationTime`;
- `Search-UnifiedAuditLog` output saved as JSON (objects with an `AuditData` string);
- the Management Activity API content blobs (JSON arrays of records) and raw NDJSON.
The `AuditData` string is unwrapped here; an `AuditData` that is not valid JSON is a
reject, never a guess.

Verified (Office 365 Management Activity API schema, Purview "Detailed properties
in the audit log", public Purview exports and third-party parsers of them, the
shared conformance samples): `Id` (GUID), `CreationTime` (ISO 8601 without zone,
UTC), `Operation`, `RecordType` (integer, a string in some exports), `Workload`,
`UserId`, `UserKey`, `OrganizationId` (tenant GUID), `ResultStatus` (Succeeded,
Success, Failed, PartiallySucceeded, …), `ClientIP` / `ClientIPAddress` /
`ActorIpAddress` (sometimes with `:port` or `[v6]:port`), `UserAgent` (SharePoint),
`ClientInfoString` (Exchange), `ExtendedProperties` and `DeviceProperties` Name/Value
lists on Entra logon records, `TokenObjectId`, and `AppAccessContext.{AADSessionId,
UniqueTokenId, IssuedAtTime, ClientAppId, APIId}` (Exchange MailItemsAccessed and
others). `DeviceProperties` `SessionId` on UserLoggedIn records is seen in a
third-party test fixture only.

A record without `ResultStatus` (most SharePoint and OneDrive activity) records an
operation that took place, so it counts as success.

Resources: `MailboxOwnerUPN` (`m365_mailbox`), each `Folders[].Path` of a
MailItemsAccessed record (`m365_mail_folder:<mailbox>:<path>`), SharePoint / OneDrive
`ObjectId` (the file's URL) named by `SourceFileName` (`sharepoint_file`), the
application an Entra logon (UserLoggedIn, UserLoginFailed) signed in to (`ObjectId`,
`entra_app`, auth), any other
`ObjectId` (an Exchange cmdlet's target, a directory object: `m365_object`). Access:
`*Access` operations (AttachmentAccess) read, else the shared rule over `Operation`
(MailItemsAccessed and FileDownloaded read, ModifyFolderPermissions admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ir import sql
from parsers.base import CredentialRef, Parser, Resource

NAME_VALUE = [{"Name": "VARCHAR", "Value": "VARCHAR"}]
FAILED = ("failed", "failure", "false")
SESSION = (
    "coalesce(ir_blank(r.AppAccessContext.AADSessionId),"
    " ir_blank(list_filter(r.DeviceProperties, lambda p: p.Name = 'SessionId')[1].Value))"
)
PRINCIPAL = "coalesce(ir_blank(r.UserId), ir_blank(r.TokenObjectId), ir_blank(r.UserKey))"
CLIENT = "coalesce(ir_blank(r.ClientIP), ir_blank(r.ClientIPAddress), ir_blank(r.ActorIpAddress))"
# `[2001:db8::1]:443` -> 2001:db8::1, `192.0.2.1:50123` -> 192.0.2.1; bare addresses as they are.
CLIENT_IP = (
    f"CASE WHEN regexp_full_match({CLIENT}, '\\[(.+)\\](:\\d+)?')"
    f" THEN regexp_extract({CLIENT}, '\\[(.+)\\]', 1)"
    f" WHEN regexp_full_match({CLIENT}, '\\d{{1,3}}(\\.\\d{{1,3}}){{3}}:\\d+')"
    f" THEN split_part({CLIENT}, ':', 1) ELSE {CLIENT} END"
)
STATUS = "lower(ir_blank(r.ResultStatus))"
ACCESS = "CASE WHEN ends_with(r.Operation, 'Access') THEN 'read' END"
MAILBOX = "ir_blank(r.MailboxOwnerUPN)"
FILE = "r.Workload IN ('SharePoint', 'OneDrive') AND ir_blank(r.SourceFileName) IS NOT NULL"
# Entra logons in the UAL name the application signed in to as their ObjectId.
LOGON = "r.Workload = 'AzureActiveDirectory' AND r.Operation IN ('UserLoggedIn', 'UserLoginFailed')"
# Where an inbox rule (New-InboxRule, Set-InboxRule) or a mailbox (Set-Mailbox) sends mail
# out: the cmdlet's forwarding parameters, each value as logged (one or several addresses).
FORWARDING = (
    "ForwardTo",
    "ForwardAsAttachmentTo",
    "RedirectTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
)
FORWARDED = (
    f"list_filter(r.Parameters, lambda p: p.Name IN ({sql.literals(FORWARDING)})"
    " AND ir_blank(p.Value) IS NOT NULL)"
)
RESOURCES = (
    Resource("m365_mailbox", MAILBOX, access=ACCESS),
    Resource("m365_forwarding_address", "item.Value", access="'write'", each=FORWARDED),
    Resource(
        "m365_mail_folder",
        f"{MAILBOX} || ':' || ir_blank(item.Path)",
        name="item.Path",
        access=ACCESS,
        each="r.Folders",
    ),
    Resource("sharepoint_file", "r.ObjectId", name="r.SourceFileName", access=ACCESS, when=FILE),
    Resource("entra_app", "r.ObjectId", access="'auth'", when=LOGON),
    Resource(
        "m365_object",
        "r.ObjectId",
        access=ACCESS,
        when=f"NOT coalesce({FILE}, FALSE) AND NOT coalesce({LOGON}, FALSE)",
    ),
)


def detect(record: Mapping[str, Any]) -> bool:
    if isinstance(record.get("AuditData"), str):
        return True
    return (
        "CreationTime" in record
        and "Operation" in record
        and ("Workload" in record or "RecordType" in record)
    )


PARSER = Parser(
    name="m365_ual",
    detect=detect,
    envelope="AuditData",
    time_field="CreationTime",
    fields={
        "Id": "VARCHAR",
        "CreationTime": "VARCHAR",
        "Operation": "VARCHAR",
        "Workload": "VARCHAR",
        "ResultStatus": "VARCHAR",
        "LogonError": "VARCHAR",
        "UserId": "VARCHAR",
        "UserKey": "VARCHAR",
        "TokenObjectId": "VARCHAR",
        "OrganizationId": "VARCHAR",
        "ClientIP": "VARCHAR",
        "ClientIPAddress": "VARCHAR",
        "ActorIpAddress": "VARCHAR",
        "UserAgent": "VARCHAR",
        "ClientInfoString": "VARCHAR",
        "ExtendedProperties": NAME_VALUE,
        "DeviceProperties": NAME_VALUE,
        "Parameters": NAME_VALUE,
        "AppAccessContext": {"AADSessionId": "VARCHAR", "UniqueTokenId": "VARCHAR"},
        "ObjectId": "VARCHAR",
        "SourceFileName": "VARCHAR",
        "MailboxOwnerUPN": "VARCHAR",
        "Folders": [{"Path": "VARCHAR"}],
    },
    event={
        "source_event_id": "r.Id",
        "time": "ir_time(r.CreationTime)",
        "action": "r.Operation",
        "outcome": f"CASE WHEN {STATUS} IN ({sql.literals(FAILED)}) THEN 'failure' ELSE 'success' END",
        "error": f"CASE WHEN {STATUS} IN ({sql.literals(FAILED)}) THEN coalesce(ir_blank(r.LogonError),"
        " r.ResultStatus) END",
        "actor": PRINCIPAL,
        "tenant": "ir_blank(r.OrganizationId)",
        "client_ip": CLIENT_IP,
        "user_agent": "coalesce(ir_blank(r.UserAgent),"
        " ir_blank(list_filter(r.ExtendedProperties, lambda p: p.Name = 'UserAgent')[1].Value),"
        " ir_blank(r.ClientInfoString))",
    },
    credentials=(
        CredentialRef("entra_session", "used", value=SESSION, principal=PRINCIPAL),
        CredentialRef(
            "entra_uti", "used", value="r.AppAccessContext.UniqueTokenId", principal=PRINCIPAL
        ),
    ),
    resources=RESOURCES,
)
