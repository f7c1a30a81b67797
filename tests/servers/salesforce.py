"""A local Salesforce REST API: OAuth revoke, UserLogin freeze, AuthSession delete, SOQL, LogFile.

Behaviour (revocation-apis.md §7, §8): a bad token → 401
`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`;
`POST /services/oauth2/revoke` → 200 with an empty body, and 400
`{"error":"invalid_token"}` for a token that is revoked or unknown; DELETE of an
ended `AuthSession` → 404 `ENTITY_IS_DELETED`, of an unknown one 404 `NOT_FOUND`;
PATCH of `UserLogin` → 204. SOQL (a small subset: `SELECT … FROM Object
[WHERE Field op 'value' AND …]`) pages with `nextRecordsUrl` and `done`;
`EventLogFile` rows are seeded from the fixtures' CSV files (`add_log_file` adds more),
served raw at
`…/sobjects/EventLogFile/{Id}/LogFile`.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from tests.servers.base import FakeApi, Reply, Request, instant, route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = r"/services/data/v(\d+\.\d)"
TERM = re.compile(r"(\w+)\s*(=|>=|<=|<|>)\s*('([^']*)'|\S+)")


def sf_error(code: str, message: str) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code, "fields": []}]


def log_file_row(file_id: str, event_type: str, day: str, size: int) -> dict[str, Any]:
    """An EventLogFile row as a SOQL query returns it."""
    return {
        "attributes": {
            "type": "EventLogFile",
            "url": f"/services/data/v60.0/sobjects/EventLogFile/{file_id}",
        },
        "Id": file_id,
        "EventType": event_type,
        "LogDate": f"{day}T00:00:00.000+0000",
        "Interval": "Daily",
        "Sequence": 0,
        "LogFileLength": float(size),
    }


def event_log_files() -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    rows, blobs = [], {}
    for n, name in enumerate(("eventlogfile-login.csv", "eventlogfile-restapi.csv"), start=1):
        event_type = "Login" if "login" in name else "RestApi"
        file_id = f"0AT5j00000000{n:02d}AAA"
        blobs[file_id] = (FIXTURES / "salesforce" / name).read_bytes()
        rows.append(log_file_row(file_id, event_type, "2026-01-01", len(blobs[file_id])))
    return rows, blobs


class SalesforceApi(FakeApi):
    def __init__(self, access_tokens: set[str]) -> None:
        super().__init__()
        self.access_tokens = access_tokens
        self.revocable: set[str] = set()  # refresh tokens and OauthToken.DeleteTokens
        self.objects: dict[str, list[dict[str, Any]]] = {
            "UserLogin": [],
            "AuthSession": [],
            "OauthToken": [],
            "LoginHistory": [],
        }
        self.deleted: set[str] = set()
        rows, self.blobs = event_log_files()
        self.objects["EventLogFile"] = rows
        self._locators: dict[str, list[dict[str, Any]]] = {}
        self._serial = itertools.count(1)

    def add_log_file(self, event_type: str, day: str, blob: bytes) -> str:
        """Serve `blob` as the EventLogFile of `event_type` on `day`; its Id."""
        file_id = f"0AT5j{len(self.blobs) + 1:010d}AAA"
        self.blobs[file_id] = blob
        self.objects["EventLogFile"].append(log_file_row(file_id, event_type, day, len(blob)))
        return file_id

    def authenticate(self, request: Request) -> Reply | None:
        if self.bearer(request) not in self.access_tokens:
            return Reply(401, sf_error("INVALID_SESSION_ID", "Session expired or invalid"))
        return None

    def not_found(self, request: Request) -> Reply:
        return Reply(404, sf_error("NOT_FOUND", "The requested resource does not exist"))

    def record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        return next((r for r in self.objects.get(sobject, []) if r["Id"] == record_id), None)

    @route("POST", "/services/oauth2/revoke", public=True)
    def revoke(self, request: Request) -> Reply:
        token = request.form().get("token", "")
        if token in self.access_tokens:
            self.access_tokens.discard(token)
        elif token in self.revocable:
            self.revocable.discard(token)
            self.objects["OauthToken"] = [
                t for t in self.objects["OauthToken"] if t["DeleteToken"] != token
            ]
        else:
            return Reply(400, {"error": "invalid_token", "error_description": "invalid token"})
        return Reply(200, None, {"Content-Type": "text/html"})

    @route("PATCH", DATA + "/sobjects/UserLogin/([^/]+)")
    def patch_user_login(self, request: Request, version: str, record_id: str) -> Reply:
        record = self.record("UserLogin", record_id)
        if record is None:
            return self.not_found(request)
        record.update(request.json())
        return Reply(204)

    @route("DELETE", DATA + "/sobjects/AuthSession/([^/]+)")
    def delete_session(self, request: Request, version: str, record_id: str) -> Reply:
        if record_id in self.deleted:
            return Reply(404, sf_error("ENTITY_IS_DELETED", "entity is deleted"))
        if self.record("AuthSession", record_id) is None:
            return self.not_found(request)
        self.objects["AuthSession"] = [
            r for r in self.objects["AuthSession"] if r["Id"] != record_id
        ]
        self.deleted.add(record_id)
        return Reply(204)

    @route("GET", DATA + "/sobjects/EventLogFile/([^/]+)/LogFile")
    def log_file(self, request: Request, version: str, record_id: str) -> Reply:
        blob = self.blobs.get(record_id)
        if blob is None:
            return self.not_found(request)
        return Reply(200, blob, {"Content-Type": "application/octetstream"})

    @route("GET", DATA + "/query")
    def query(self, request: Request, version: str) -> Reply:
        soql = request.arg("q") or ""
        match = re.match(r"SELECT .+? FROM (\w+)(?: WHERE (.+?))?(?: ORDER BY .+)?$", soql)
        if match is None or match.group(1) not in self.objects:
            return Reply(400, sf_error("MALFORMED_QUERY", f"unexpected query: {soql[:40]}"))
        rows = [r for r in self.objects[match.group(1)] if self.matches(r, match.group(2))]
        return self.query_page(version, rows, None)

    @route("GET", DATA + "/query/([^/]+)")
    def query_more(self, request: Request, version: str, locator: str) -> Reply:
        name, _, cursor = locator.partition("-")
        rows = self._locators.get(name)
        return (
            self.not_found(request)
            if rows is None
            else self.query_page(version, rows, cursor, name)
        )

    def query_page(
        self, version: str, rows: list[dict[str, Any]], cursor: str | None, name: str | None = None
    ) -> Reply:
        page, following = self.paginate(rows, cursor)
        body: dict[str, Any] = {"totalSize": len(rows), "done": following is None, "records": page}
        if following:
            name = name or f"01g5j000000Loc{next(self._serial)}"
            self._locators[name] = rows
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{name}-{following}"
        return Reply(200, body)

    def matches(self, row: dict[str, Any], where: str | None) -> bool:
        for field, op, literal, quoted in TERM.findall(where or ""):
            value, wanted = row.get(field), quoted if literal.startswith("'") else literal
            if op == "=" and str(value) != wanted:
                return False
            if op != "=" and not self.compare(str(value), op, wanted):
                return False
        return True

    @staticmethod
    def compare(value: str, op: str, wanted: str) -> bool:
        left, right = instant(value), instant(wanted)
        return {">=": left >= right, "<=": left <= right, "<": left < right, ">": left > right}[op]
