"""AWS CloudTrail → source `aws_cloudtrail`: log files from S3, or Event history.

`--s3 s3://BUCKET[/PREFIX]`: the trail's files as delivered, byte for byte (gz).
ListObjectsV2 with `Delimiter=/` walks the key layout
`AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/` level by level
(`ContinuationToken` pages each level), so years, months and days outside the window
are never listed, let alone downloaded; `CloudTrail-Digest/` (and any other
`CloudTrail-*` folder: Insights) and every object that is not a CloudTrail log file
(`<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`) are left out and
named. A day overlapping the window is collected whole: a file is evidence as a
whole, not cut at the window. The cursor is the last key written (S3 lists keys in
UTF-8 binary order); a resumed run skips every key up to it. Permission:
`s3:ListBucket` and `s3:GetObject` on the bucket (and `kms:Decrypt` for SSE-KMS trails).

`--lookup`: CloudTrail `LookupEvents` (management events of the last 90 days, in the
region of the standard settings), `StartTime`/`EndTime` (both inclusive: the end is
the last second before `until`), `MaxResults=50` (the maximum), `NextToken` paging;
each page is written as the JSON body AWS sent (`{"Events": [{…, "CloudTrailEvent":
"<the record as a JSON string>"}], "NextToken": …}`), which the CloudTrail parser
reads as Event history. Rate limit: two lookups per second per account and region;
`ThrottlingException` is retried with backoff (ir/providers/aws.py). Permission:
`cloudtrail:LookupEvents`.

Verified (2026-12): LookupEvents parameters, 50 per page, 90 days, "two per second,
per account, per Region", NextToken "must be passed in with the same parameters"
(https://docs.amazonaws.cn/goto/WebAPI/cloudtrail-2013-11-01/LookupEvents,
https://rdocumentation.org/packages/paws.management/versions/0.1.4/topics/cloudtrail_lookup_events).
moto (5.2) serves S3 but has no LookupEvents: the tests answer it from a local server
speaking the AWS JSON 1.1 protocol, reached by boto3 through `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.collectors.base import Collector, Piece, Stream, Window, before, iso
from ir.errors import UsageError
from ir.providers import aws
from ir.providers.http import Sleep

if TYPE_CHECKING:
    from botocore.client import BaseClient

LOG_FILE = re.compile(r"\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz")
DATES = re.compile(r"(?:^|/)CloudTrail/[a-z0-9-]+/(\d{4})/(?:(\d{2})/(?:(\d{2})/)?)?$")
S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?")
LOOKUP_PAGE = 50
CREDENTIALS = f"for the credentials of the boto3 chain ({' or '.join(aws.CREDENTIAL_SETTINGS)})"


def parse_s3(uri: str) -> tuple[str, str]:
    """`s3://bucket/prefix` → (bucket, prefix)."""
    match = S3_URI.fullmatch(uri.strip())
    if match is None:
        raise UsageError(f"--s3 {uri!r}: give s3://BUCKET or s3://BUCKET/PREFIX")
    return match.group(1), match.group(2) or ""


def span(year: str, month: str | None, day: str | None) -> tuple[datetime, datetime]:
    """The [start, end) of a year, month or day folder."""
    y, m, d = int(year), int(month or 1), int(day or 1)
    start = datetime(y, m, d, tzinfo=timezone.utc)
    if day:
        end = start + timedelta(days=1)
    elif month:
        end = datetime(y + m // 12, m % 12 + 1, 1, tzinfo=timezone.utc)
    else:
        end = datetime(y + 1, 1, 1, tzinfo=timezone.utc)
    return start, end


class S3Trail(Stream):
    """The CloudTrail log files of one bucket (and prefix) in the window."""

    name = "s3"
    source = "aws_cloudtrail"
    permission = f"s3:ListBucket and s3:GetObject on the bucket, {CREDENTIALS}"

    def __init__(self, bucket: str, prefix: str, sleep: Sleep) -> None:
        self.bucket, self.prefix, self.sleep = bucket, prefix, sleep
        self._skipped: list[str] = []
        self._outside = 0

    def folder(self, window: Window) -> Path:
        return Path("s3") / self.bucket

    def skipped(self) -> list[str]:
        outside = [f"{self._outside} folders outside the window"] if self._outside else []
        return [*self._skipped, *outside]

    def fetch(self, window: Window, resume: dict[str, Any] | None) -> Iterator[Piece]:
        s3 = aws.client("s3")
        after = str(resume["after"]) if resume else ""
        for key in self._walk(s3, self.prefix, window, after):
            body = self._call(s3, "s3:GetObject", {"Bucket": self.bucket, "Key": key})["Body"]
            yield Piece(
                body=body.read(),
                name=key,
                request=f"s3://{self.bucket}/{key}",
                status=200,
                records=0,
                cursor={"after": key},
            )

    def _walk(self, s3: BaseClient, prefix: str, window: Window, after: str) -> Iterator[str]:
        """The log-file keys under `prefix` in key order, pruning by the key layout."""
        for listing in self._listings(s3, prefix):
            for entry in listing.get("Contents", []):
                key = str(entry["Key"])
                if not LOG_FILE.fullmatch(key.rsplit("/", 1)[-1]):
                    self._skipped.append(f"s3://{self.bucket}/{key}: not a CloudTrail log file")
                elif key > after:
                    yield key
            for common in listing.get("CommonPrefixes", []):
                folder = str(common["Prefix"])
                if folder < after and not after.startswith(folder):
                    continue  # a resumed run wrote everything in it already
                if self._wanted(folder, window):
                    yield from self._walk(s3, folder, window, after)

    def _wanted(self, folder: str, window: Window) -> bool:
        name = folder.rstrip("/").rsplit("/", 1)[-1]
        if name.startswith("CloudTrail-"):
            what = "digest files" if name == "CloudTrail-Digest" else "not log files"
            self._skipped.append(f"s3://{self.bucket}/{folder}: {what}")
            return False
        dates = DATES.search(folder)
        if dates is None:
            return True
        start, end = span(*dates.groups())
        inside = end > (window.since or start) and start < window.until
        self._outside += not inside
        return inside

    def _listings(self, s3: BaseClient, prefix: str) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "Delimiter": "/"}
        while True:
            listing = self._call(s3, "s3:ListObjectsV2", params, "s3:ListBucket")
            yield listing
            token = listing.get("NextContinuationToken")
            if not listing.get("IsTruncated") or not token:
                return
            params = {**params, "ContinuationToken": token}

    def _call(
        self, s3: BaseClient, api: str, params: dict[str, Any], permission: str | None = None
    ) -> dict[str, Any]:
        return aws.call(s3, api, params, permission or api, sleep=self.sleep)


class LookupEvents(Stream):
    """CloudTrail Event history of the configured region, page by page as AWS sent it."""

    source = "aws_cloudtrail"
    permission = f"cloudtrail:LookupEvents, {CREDENTIALS}"

    def __init__(self, region: str, sleep: Sleep) -> None:
        self.region, self.sleep = region, sleep
        self.name = f"lookup/{region}"

    def fetch(self, window: Window, resume: dict[str, Any] | None) -> Iterator[Piece]:
        trail = aws.client("cloudtrail")
        received: dict[str, Any] = {}
        trail.meta.events.register(
            "after-call.cloudtrail.LookupEvents",
            lambda http_response, **_: received.update(response=http_response),
        )
        params: dict[str, Any] = {"EndTime": before(window.until), "MaxResults": LOOKUP_PAGE}
        if window.since:
            params["StartTime"] = window.since
        number = int(resume["number"]) if resume else 1
        token = str(resume["token"]) if resume else None
        described = f"{iso(window.since) if window.since else '-'}..{iso(params['EndTime'])}"
        while True:
            sent = {**params, "NextToken": token} if token else params
            result = aws.call(trail, "cloudtrail:LookupEvents", sent, sleep=self.sleep)
            token = result.get("NextToken")
            response = received["response"]
            yield Piece(
                body=bytes(response.content),
                name=f"page-{number:05d}.json",
                request=f"cloudtrail:LookupEvents {self.region} {described} page {number}",
                status=int(response.status_code),
                records=len(result.get("Events", [])),
                cursor={"token": token, "number": number + 1} if token else None,
            )
            if not token:
                return
            number += 1


class AwsCollector(Collector):
    provider = "aws"

    def __init__(self, stream: Stream, option: str) -> None:
        self.stream, self.option = stream, option

    @classmethod
    def from_env(
        cls, *, s3: str | None = None, lookup: bool = False, sleep: Sleep = aws.SLEEP
    ) -> AwsCollector:
        """The standard boto3 chain and `AWS_ENDPOINT_URL` (contract §6)."""
        if (s3 is None) == (not lookup):
            raise UsageError("aws: give --s3 s3://BUCKET[/PREFIX] or --lookup (one of them)")
        aws.check_credentials()
        if s3 is not None:
            bucket, prefix = parse_s3(s3)
            return cls(S3Trail(bucket, prefix, sleep), f"s3=s3://{bucket}/{prefix}")
        region = aws.region()
        return cls(LookupEvents(region, sleep), f"lookup={region}")

    def options(self) -> str:
        return self.option

    def streams(self) -> list[Stream]:
        return [self.stream]

    def close(self) -> None:
        """Nothing held: each stream makes its boto3 client when it fetches."""
