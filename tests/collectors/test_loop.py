"""The shared collection loop, through Okta's System Log (the simplest listing): every
record once, files byte-identical to what was served, the request behind each file,
resume after an interruption, nothing new on a re-run, waits, refusals, secrets."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from ir import collectors
from ir.case import Case
from ir.errors import MissingSetting, UsageError
from tests.collectors.conftest import Runner, files, served_bodies
from tests.servers.fixtures import OKTA_TOKEN, assert_hidden
from tests.servers.okta import OktaApi, log_events

SINCE, UNTIL = "2026-09-02T00:00:00Z", "2026-09-03T00:00:00Z"
UUIDS = sorted(e["uuid"] for e in log_events())


def okta_events(case: Case) -> list[str]:
    frame = case.sql("SELECT source_event_id FROM events WHERE source = 'okta' ORDER BY 1")
    return list(frame["source_event_id"])


def test_every_record_once_and_each_file_the_bytes_served(
    run: Runner, okta_api: OktaApi, case: Case
) -> None:
    collection = run("okta", okta_api, since=SINCE, until=UNTIL)

    assert okta_events(case) == UUIDS  # six events, three pages of two
    written = files(run.out)
    folder = "okta/logs/20260902T000000Z-20260903T000000Z"
    assert sorted(written) == [f"{folder}/page-0000{n}.json" for n in (1, 2, 3)]
    assert list(written.values()) == served_bodies(okta_api, "/api/v1/logs")
    [stream] = collection.streams
    assert (stream.pages, stream.records, stream.resumed) == (3, 6, False)
    assert [(r.records, r.loaded, r.skipped) for r in collection.reports] == [(2, 2, False)] * 3
    # every request bounded by the window: Okta pages a request without `until` forever
    assert {(r.arg("since"), r.arg("until")) for r in okta_api.requests} == {(SINCE, UNTIL)}
    rows = case.sql(
        "SELECT path, request, http_status, fetched_at FROM evidence_files ORDER BY path"
    )
    assert list(rows["http_status"]) == [200, 200, 200]
    assert rows["request"][0] == (
        f"{okta_api.url}/api/v1/logs?since={SINCE.replace(':', '%3A')}"
        f"&until={UNTIL.replace(':', '%3A')}&limit=1000&sortOrder=ASCENDING"
    )
    assert "after=c2" in rows["request"][1] and rows["fetched_at"].notna().all()
    assert rows["path"][0] == str(run.out.absolute() / folder / "page-00001.json")


def test_the_window_filters_at_the_source(run: Runner, okta_api: OktaApi, case: Case) -> None:
    run("okta", okta_api, since="2026-09-02T09:05:00Z", until="2026-09-02T12:10:00Z")
    in_window = sorted(
        e["uuid"] for e in log_events() if "09:05:00" <= e["published"][11:19] < "12:10:00"
    )
    assert okta_events(case) == in_window and len(in_window) == 2


def test_the_same_window_again_loads_nothing_new(
    run: Runner, okta_api: OktaApi, case: Case
) -> None:
    run("okta", okta_api, since=SINCE, until=UNTIL)
    before = files(run.out)
    again = run("okta", okta_api, since=SINCE, until=UNTIL)
    assert files(run.out) == before  # the same bytes, the same files
    assert [(r.loaded, r.skipped) for r in again.reports] == [(0, True)] * 3
    assert okta_events(case) == UUIDS
    assert not again.streams[0].resumed


@pytest.mark.parametrize("interruption", ["network", "ctrl-c"])
def test_an_interrupted_run_resumes_at_its_last_page(
    run: Runner, okta_api: OktaApi, case: Case, interruption: str
) -> None:
    def stop_after_two(progress: collectors.Progress) -> None:
        if progress.pages == 2:
            if interruption == "ctrl-c":
                raise KeyboardInterrupt
            okta_api.fail(times=6, status=502)  # every retry of page 3 fails

    run.on_page = stop_after_two
    with pytest.raises(
        KeyboardInterrupt if interruption == "ctrl-c" else collectors.CollectionFailed
    ) as stopped:
        run("okta", okta_api, since="100d")  # until: now, as the run started
    first_until = okta_api.requests[0].arg("until")
    if interruption == "network":
        assert "run the same command again to resume" in str(stopped.value)
        assert "the 2 files already written are ingested" in str(stopped.value)
    assert len(okta_events(case)) == 4  # what was written is in the case
    okta_api.requests.clear()
    run.on_page = None

    time.sleep(1.1)  # "now" has moved on: the resumed run keeps its journaled window
    resumed = run("okta", okta_api, since="100d")  # the same command

    [stream] = resumed.streams
    assert stream.resumed and stream.pages == 1
    assert okta_api.requests[0].arg("after") == "c4"  # page 3, not page 1
    assert okta_api.requests[0].arg("until") == first_until
    assert okta_events(case) == UUIDS  # each once
    assert sum(r.duplicates for r in resumed.reports) == 0
    assert len(files(run.out)) == 3


def test_a_5xx_is_retried_with_backoff(run: Runner, okta_api: OktaApi, case: Case) -> None:
    okta_api.fail(times=1, status=503)
    run("okta", okta_api, since=SINCE, until=UNTIL)
    assert run.sleeps == [1.0] and okta_events(case) == UUIDS


def test_a_rate_limit_waits_until_the_reset_and_says_so(
    run: Runner, okta_api: OktaApi, case: Case
) -> None:
    okta_api.throttle(reset=int(time.time()) + 30)
    run("okta", okta_api, since=SINCE, until=UNTIL)
    assert len(run.sleeps) == 1 and 25 <= run.sleeps[0] <= 30
    waits = [p for p in run.progress if p.waiting is not None]
    assert [w.waiting for w in waits] == run.sleeps and waits[0].provider == "okta"
    assert okta_events(case) == UUIDS


def test_a_refused_token_stops_at_once_naming_the_setting_and_permission(
    run: Runner, okta_api: OktaApi, case: Case
) -> None:
    bad = "00aRefusedTokenValue00000000000000000000"
    with pytest.raises(collectors.CollectionFailed) as refused:
        run("okta", okta_api, env={"OKTA_CLIENT_TOKEN": bad}, since=SINCE, until=UNTIL)
    message = str(refused.value)
    assert "OKTA_CLIENT_TOKEN" in message and "okta.logs.read" in message
    assert "E0000011" in message
    assert len(okta_api.requests) == 1  # no retry of a 401
    assert files(run.out) == {} and okta_events(case) == []
    assert_hidden([bad, OKTA_TOKEN], message)


def test_a_permission_lost_mid_way_keeps_what_was_written(
    run: Runner, okta_api: OktaApi, case: Case
) -> None:
    run.on_page = lambda p: okta_api.tokens[OKTA_TOKEN].discard("okta.logs.read")
    with pytest.raises(collectors.CollectionFailed) as refused:
        run("okta", okta_api, since=SINCE, until=UNTIL)
    assert "needs okta.logs.read" in str(refused.value) and "E0000006" in str(refused.value)
    assert len(okta_events(case)) == 2  # page 1 was written and ingested
    assert [r.loaded for r in refused.value.collection.reports] == [2]


def test_no_secret_in_logs_files_case_or_journal(
    run: Runner, okta_api: OktaApi, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    okta_api.fail(times=1)
    run("okta", okta_api, since=SINCE, until=UNTIL)
    tables = ["evidence_files", "journal", "events", "rejects", "case_meta"]
    dumped = [case.sql(f"SELECT * FROM {t}").to_csv() for t in tables]
    written = [body.decode() for body in files(run.out).values()]
    assert_hidden([OKTA_TOKEN], caplog.text, *dumped, *written, *map(repr, run.progress))
    assert case.sql("SELECT count(*) AS n FROM journal WHERE kind = 'collector'")["n"][0] == 4


def test_relative_times_and_a_bad_time_is_a_usage_error(run: Runner, okta_api: OktaApi) -> None:
    with pytest.raises(UsageError, match="not a time: 'yesterday'"):
        run("okta", okta_api, since="yesterday")
    with pytest.raises(UsageError, match="is not before --until"):
        run("okta", okta_api, since="1d", until="2d")
    assert okta_api.requests == []


def test_missing_settings_are_named_before_any_call(run: Runner, tmp_path: Path) -> None:
    with pytest.raises(MissingSetting) as missing:
        run("okta", None, env={})
    assert "IR_OKTA_ORG_URL or OKTA_CLIENT_ORGURL" in str(missing.value)
    assert "OKTA_CLIENT_TOKEN" in str(missing.value)
