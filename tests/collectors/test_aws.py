"""The CloudTrail collector: log files from S3 (moto in server mode, through boto3) and
Event history from LookupEvents (a local AWS JSON 1.1 server: moto has no LookupEvents)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from ir import collectors
from ir.case import Case
from ir.errors import UsageError
from tests.aws_moto import client, enforce_iam_after, record, user_arn
from tests.collectors.conftest import Runner, files, served_bodies
from tests.servers.cloudtrail import CloudTrailApi

ACCOUNT = "123456789012"
TRAIL = f"AWSLogs/{ACCOUNT}/CloudTrail"
KEY = "AKIARESPONDERTESTKEY"
DAY = datetime(2026, 9, 1, 6, tzinfo=timezone.utc)


def trail_file(region: str, when: datetime, count: int) -> tuple[str, bytes, list[str]]:
    """A CloudTrail delivery: its key, its gz bytes, and its records' eventIDs."""
    records = [
        {
            **record(
                "ListBuckets", KEY, user_arn("ci"), "192.0.2.10", when + timedelta(minutes=n), "s3"
            ),
            "awsRegion": region,
        }
        for n in range(count)
    ]
    name = f"{ACCOUNT}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{region[:2]}{when:%d}x.json.gz"
    key = f"{TRAIL}/{region}/{when:%Y/%m/%d}/{name}"
    return key, gzip.compress(orjson.dumps({"Records": records})), [r["eventID"] for r in records]


@pytest.fixture
def bucket(aws_env: str) -> dict[str, Any]:
    """A trail's bucket: three days of logs in two regions, a day either side of the
    window, a digest and a stray file."""
    s3 = client("s3")
    s3.create_bucket(Bucket="org-trail")
    kept = [
        trail_file("us-east-1", DAY, 2),
        trail_file("us-east-1", DAY + timedelta(days=1), 3),
        trail_file("eu-west-1", DAY + timedelta(days=1), 1),
    ]
    outside = [
        trail_file("us-east-1", DAY - timedelta(days=1), 1),
        trail_file("us-east-1", DAY + timedelta(days=2), 1),
    ]
    digest = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/09/01/{ACCOUNT}_CloudTrail-Digest_us-east-1_x.json.gz"
    stray = f"{TRAIL}/us-east-1/2026/09/01/README.txt"
    for key, body, _ in [*kept, *outside, (digest, b"{}", []), (stray, b"notes", [])]:
        s3.put_object(Bucket="org-trail", Key=key, Body=body)
    return {"kept": kept, "digest": digest, "stray": stray}


WINDOW = {"since": "2026-09-01T00:00:00Z", "until": "2026-09-03T00:00:00Z"}


def event_ids(case: Case) -> list[str]:
    frame = case.sql(
        "SELECT source_event_id FROM events WHERE source = 'aws_cloudtrail' ORDER BY 1"
    )
    return list(frame["source_event_id"])


def test_s3_collects_the_log_files_of_the_window_byte_for_byte(
    run: Runner, bucket: dict[str, Any], case: Case
) -> None:
    collection = run("aws", None, options=collectors.Options(s3="s3://org-trail"), **WINDOW)

    kept = bucket["kept"]
    assert files(run.out) == {f"aws/s3/org-trail/{key}": body for key, body, _ in kept}
    assert event_ids(case) == sorted(i for _, _, ids in kept for i in ids)
    [stream] = collection.streams
    assert stream.skipped == [
        f"s3://org-trail/{bucket['digest'].split('us-east-1')[0]}: digest files",
        f"s3://org-trail/{bucket['stray']}: not a CloudTrail log file",
        "2 folders outside the window",
    ]
    requests = case.sql("SELECT request, http_status FROM evidence_files ORDER BY request")
    assert list(requests["request"]) == sorted(f"s3://org-trail/{key}" for key, _, _ in kept)
    again = run("aws", None, options=collectors.Options(s3="s3://org-trail"), **WINDOW)
    assert [r.skipped for r in again.reports] == [True] * 3


def test_s3_resumes_after_the_last_key_written(
    run: Runner, bucket: dict[str, Any], case: Case
) -> None:
    def stop(progress: collectors.Progress) -> None:
        raise KeyboardInterrupt

    run.on_page = stop
    with pytest.raises(KeyboardInterrupt):
        run("aws", None, options=collectors.Options(s3="s3://org-trail/AWSLogs/"), **WINDOW)
    assert len(files(run.out)) == 1 and len(event_ids(case)) == 1  # eu-west-1 comes first
    run.on_page = None
    resumed = run("aws", None, options=collectors.Options(s3="s3://org-trail/AWSLogs/"), **WINDOW)
    assert resumed.streams[0].resumed and resumed.streams[0].pages == 2
    assert event_ids(case) == sorted(i for _, _, ids in bucket["kept"] for i in ids)
    assert sum(r.duplicates for r in resumed.reports) == 0


def test_s3_refused_names_the_permissions(
    run: Runner, bucket: dict[str, Any], aws_env: str, case: Case
) -> None:
    enforce_iam_after(aws_env, 0)  # the responder's key is no IAM user of this account
    try:
        with pytest.raises(collectors.CollectionFailed) as refused:
            run("aws", None, options=collectors.Options(s3="s3://org-trail"), **WINDOW)
    finally:
        enforce_iam_after(aws_env, None)
    message = str(refused.value)
    assert "s3:ListBucket" in message and "AWS_ACCESS_KEY_ID" in message
    assert "responder-dummy-secret" not in message and files(run.out) == {}


def test_aws_needs_s3_or_lookup(run: Runner, aws_env: str) -> None:
    with pytest.raises(UsageError, match="--s3 s3://BUCKET"):
        run("aws", None)
    with pytest.raises(UsageError, match="give s3://BUCKET"):
        run("aws", None, options=collectors.Options(s3="https://example.com/x"))


# --- LookupEvents -------------------------------------------------------------------------


@pytest.fixture
def lookup_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudTrailApi]:
    records = [
        record(
            "GetCallerIdentity", KEY, user_arn("ci"), "192.0.2.10", DAY + timedelta(hours=h), "sts"
        )
        for h in range(5)
    ]
    api = CloudTrailApi({KEY: True}, records)
    api.page_size = 2
    api.start()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", api.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "responder-dummy-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    yield api
    api.stop()


LOOKUP = collectors.Options(lookup=True)


def test_lookup_writes_each_page_as_aws_sent_it_and_the_parser_reads_it(
    run: Runner, lookup_api: CloudTrailApi, case: Case
) -> None:
    collection = run(
        "aws", None, options=LOOKUP, since="2026-09-01T07:00:00Z", until="2026-09-01T10:00:00Z"
    )

    written = files(run.out)
    assert list(written.values()) == served_bodies(lookup_api, "/")
    assert sorted(written) == [
        f"aws/lookup/eu-west-1/20260901T070000Z-20260901T100000Z/page-0000{n}.json" for n in (1, 2)
    ]
    first = orjson.loads(lookup_api.requests[0].body)
    assert (first["StartTime"], first["EndTime"], first["MaxResults"]) == (
        DAY.timestamp() + 3600,
        DAY.timestamp() + 4 * 3600 - 1,  # inclusive end: the last second of the window
        50,
    )
    expected = sorted(
        r["eventID"] for r in lookup_api.records if 7 <= int(r["eventTime"][11:13]) < 10
    )
    assert event_ids(case) == expected and len(expected) == 3
    assert [s.records for s in collection.streams] == [3]
    layouts = case.sql("SELECT DISTINCT layout FROM evidence_files")["layout"]
    assert list(layouts) == ["wrapper:Events"]  # Event history: CloudTrailEvent unwrapped


def test_lookup_waits_out_throttling(run: Runner, lookup_api: CloudTrailApi, case: Case) -> None:
    lookup_api.throttle(times=2)
    run("aws", None, options=LOOKUP, **WINDOW)
    assert run.sleeps == [1.0, 2.0] and len(event_ids(case)) == 5


def test_lookup_denied_names_the_permission(
    run: Runner, lookup_api: CloudTrailApi, case: Case
) -> None:
    lookup_api.keys[KEY] = False
    with pytest.raises(collectors.CollectionFailed) as refused:
        run("aws", None, options=LOOKUP, **WINDOW)
    assert "AccessDeniedException" in str(refused.value)
    assert "cloudtrail:LookupEvents" in str(refused.value)
    assert len(lookup_api.requests) == 1


def test_lookup_next_token_is_resumed_with_its_parameters(
    run: Runner, lookup_api: CloudTrailApi, case: Case
) -> None:
    run.on_page = lambda progress: (_ for _ in ()).throw(KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        run("aws", None, options=LOOKUP, **WINDOW)
    run.on_page = None
    resumed = run("aws", None, options=LOOKUP, **WINDOW)  # a token with other parameters fails
    assert resumed.streams[0].pages == 2 and len(event_ids(case)) == 5
    tokens = [orjson.loads(r.body).get("NextToken") for r in lookup_api.requests]
    assert tokens == [None, "c2", "c4"]  # the resumed run went on from page 2
