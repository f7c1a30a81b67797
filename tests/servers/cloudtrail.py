"""A local CloudTrail `LookupEvents` (moto 5.2 serves S3 but not this call), spoken in the
AWS JSON 1.1 protocol so that boto3 reaches it through `AWS_ENDPOINT_URL` unchanged.

Behaviour (the LookupEvents API reference): `POST /` with `X-Amz-Target:
…CloudTrail_20131101.LookupEvents` and a JSON body; `StartTime`/`EndTime` (epoch
seconds) keep events "after or at" and "before or at" them; newest first;
`MaxResults` 1-50 (default 50), `NextToken` to page, refused unless sent with the same
parameters as the call that gave it. Each event carries the CloudTrail record as a JSON
string in `CloudTrailEvent`. A request signed with an unknown access key → 400
`UnrecognizedClientException`; a key without `cloudtrail:LookupEvents` → 400
`AccessDeniedException`; throttling → 400 `ThrottlingException` ("Rate exceeded").
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.servers.base import FakeApi, Reply, Request, instant, route

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")
JSON_11 = {"Content-Type": "application/x-amz-json-1.1"}


def aws_error(kind: str, message: str) -> Reply:
    return Reply(400, {"__type": kind, "message": message}, JSON_11)


class CloudTrailApi(FakeApi):
    page_size = 50

    def __init__(self, keys: dict[str, bool], records: list[dict[str, Any]]) -> None:
        super().__init__()
        self.keys = keys  # access key id -> whether it may call cloudtrail:LookupEvents
        self.records = sorted(records, key=lambda r: instant(r["eventTime"]), reverse=True)
        self._tokens: dict[str, str] = {}  # NextToken -> the parameters it belongs to

    def key(self, request: Request) -> str | None:
        found = CREDENTIAL.search(request.authorization or "")
        return found.group(1) if found else None

    def authenticate(self, request: Request) -> Reply | None:
        if self.key(request) not in self.keys:
            return aws_error(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        return None

    def rate_limited(self, retry_after: float = 1) -> Reply:
        return aws_error("ThrottlingException", "Rate exceeded")

    @route("POST", "/")
    def call(self, request: Request) -> Reply:
        if request.headers.get("x-amz-target") != TARGET:
            return aws_error("UnknownOperationException", "unknown operation")
        if not self.keys[self.key(request) or ""]:
            return aws_error(
                "AccessDeniedException",
                f"User: arn:aws:iam::123456789012:user/responder is not authorized to perform:"
                f" cloudtrail:LookupEvents with key {self.key(request)}",
            )
        return self.lookup(request.json() or {})

    def lookup(self, body: dict[str, Any]) -> Reply:
        params = json.dumps({k: body.get(k) for k in ("StartTime", "EndTime", "MaxResults")})
        token = body.get("NextToken")
        if token is not None and self._tokens.get(token) != params:
            return aws_error("InvalidNextTokenException", "Invalid NextToken")
        start, end = body.get("StartTime"), body.get("EndTime")
        chosen = [
            r
            for r in self.records
            if (start is None or _epoch(r) >= start) and (end is None or _epoch(r) <= end)
        ]
        size = int(body.get("MaxResults") or 50)
        page, following = self.paginate(chosen, token, min(size, 50))
        answer: dict[str, Any] = {"Events": [_event(r) for r in page]}
        if following:
            self._tokens[following] = params
            answer["NextToken"] = following
        return Reply(200, answer, JSON_11)


def _epoch(record: dict[str, Any]) -> float:
    return instant(record["eventTime"]).timestamp()


def _event(record: dict[str, Any]) -> dict[str, Any]:
    identity = record.get("userIdentity") or {}
    return {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record.get("readOnly", False)).lower(),
        "AccessKeyId": identity.get("accessKeyId"),
        "EventTime": _epoch(record),
        "EventSource": record.get("eventSource"),
        "Username": identity.get("userName") or str(identity.get("arn", "")).rsplit("/", 1)[-1],
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }
