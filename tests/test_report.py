"""The breach report (contract §5): golden md/html of the sample incident, escaping, a real browser.

The screenshot test opens the HTML in headless Chromium (`make test` installs Debian's
`chromium` when it can) and checks that the plot and the tables are on screen.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

import ir
from ir import report
from ir.case import Case
from ir.trace import Trace
from tests.conftest import ROOT, SAMPLE, check_golden, hostile_file, open_sample, relative

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(document.domain)>'
BUNDLE = re.compile(r'(<script type="text/javascript" id="plotlyjs">).*?(</script>)', re.DOTALL)


class Tags(HTMLParser):
    """Counts start tags and records attribute names: what a browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.update(name for name, _ in attrs)


def parse(text: str) -> Tags:
    parser = Tags()
    parser.feed(text)
    return parser


def without_bundle(text: str) -> str:
    return BUNDLE.sub(r"\1/* plotly.js bundle */\2", text)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    with open_sample(tmp_path_factory.mktemp("sample") / "case.duckdb") as case:
        yield case


@pytest.fixture(scope="module")
def traced(sample: Case) -> Trace:
    return sample.trace(token=(SAMPLE / "leaked_token.txt").read_text())


@pytest.fixture(scope="module")
def html_path(traced: Trace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return traced.report(tmp_path_factory.mktemp("report") / "report.html")


def tables(traced: Trace) -> int:
    """No remaining exposure (expired keys); retention deadlines; one per resource type
    touched; the persistence rows."""
    return 10 + len(report.model(traced, None, traced.impact())["touched"]) + 1


def test_golden_markdown(traced: Trace) -> None:
    check_golden(
        "sample_report.md", relative(report.render_text(traced, "md", None, traced.impact()))
    )


def test_golden_html_without_the_plotly_bundle(html_path: Path) -> None:
    check_golden("sample_report.html", relative(without_bundle(html_path.read_text())))


def test_html_is_self_contained(html_path: Path, traced: Trace) -> None:
    text = html_path.read_text()
    bundle = BUNDLE.search(text)
    assert bundle is not None and len(bundle.group(0)) > 1_000_000  # plotly.js, inline
    tags = parse(text)
    assert "src" not in tags.attributes and "href" not in without_bundle(text).split("<nav>")[0]
    assert tags.tags["script"] == 2  # the bundle and the figure, nothing else
    assert tags.tags["table"] == tables(traced)
    assert f'id="{report.PLOT_ID}"' in text
    assert text.count('id="plotlyjs"') == 1  # plotly.js once, however many figures
    assert '<td class="ip">203.0.113.66</td>' in text  # addresses never break at a dot
    assert ".ip { white-space: nowrap; }" in text


def test_sections_answer_the_nist_questions_in_order(traced: Trace) -> None:
    text = report.render_text(traced, "md")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings == [title for anchor, title, _ in report.SECTIONS if anchor != "plot"]
    for anchor, _, question in report.SECTIONS:
        if anchor != "plot":
            assert f"*NIST SP 800-61 — {report.md_escape(question)}*" in text


def test_summary_facts(traced: Trace) -> None:
    data = report.model(traced)
    summary = dict(data["summary"])
    assert summary["Leaked credential (root)"] == ROOT
    assert summary["First malicious use (first event from a new place)"] == (
        "2026-09-04T15:10:11Z: ci-deployer key AKIAB4QWZLKKE2GRC3WO GetCallerIdentity"
        " from 203.0.113.66"
    )
    assert summary["Exposure time"] == (
        "2026-09-02T00:25:12Z (assumed: 24 h after the first recorded use of"
        f" {ROOT} at 2026-09-01T00:25:12Z)"
    )
    assert summary["Exposure to first malicious use"] == "2 d 14 h"
    assert summary["Credentials in the lineage"] == "5 (the root and 4 derived)"
    assert summary["Places"] == "5 (4 new)"
    assert [(r["credential"], r["revoked_at"], r["dwell"]) for r in data["revocations"]] == [
        (ROOT, "2026-09-07T00:06:21Z", "2 d 8 h"),
        ("aws_access_key:AKIAU3JLW42SYGMXHT24", "2026-09-07T00:07:24Z", "2 d 8 h"),
    ]
    assert [c["depth"] for c in data["lineage"]] == [0, 1, 2, 2, 1]
    assert [r["why"] for r in data["after_revocation"]][2] == (
        f"outlived the revocation of {ROOT} at 2026-09-07T00:06:21Z"
    )
    alice = [p for p in data["places"] if p["client_ip"] == "198.51.100.20"]
    assert alice[0]["new"] == "new (revocations only)"


def test_unrevoked_session_keys_expired_and_are_no_remaining_exposure(traced: Trace) -> None:
    """Issue 25: the ground truth's unrevoked credentials are STS session keys whose
    issuance logged an expiry; they are shown as expired, not as remaining exposure."""
    truth = json.loads((SAMPLE / "ground_truth.json").read_text())["scenarios"][ROOT]
    unrevoked = {c for c, facts in truth["credentials"].items() if not facts["revoked"]}
    data = report.model(traced)
    assert data["remaining"] == []
    status = {c["id"]: c["status"] for c in data["lineage"]}
    assert {c: status[c] for c in unrevoked} == {
        "aws_access_key:ASIARNVY25WXUF5VAB46": "expired 2026-09-04T16:16:07Z",
        "aws_access_key:ASIAJ7WJ56WCSIXWLK2O": "expired 2026-09-04T16:18:24Z",
        "aws_access_key:ASIAERVTE74C7DYOALCC": "expired 2026-09-07T10:05:00Z",
    }
    assert dict(data["summary"])["Credentials never revoked"] == "3 of 5 (3 of them expired)"


def test_exposure_time_as_given(sample: Case) -> None:
    leaked_at = json.loads((SAMPLE / "ground_truth.json").read_text())["leaked_at"]
    summary = dict(report.model(sample.trace(ROOT, leaked_at=leaked_at))["summary"])
    assert summary["Exposure time"] == "2026-09-04T14:05:00Z"
    assert summary["Exposure to first malicious use"] == "1 h 5 min"


def test_the_attackers_session_key_alone(sample: Case) -> None:
    """Issue 25: the session key the attacker minted, traced on its own, is no all-clear."""
    session = "aws_access_key:ASIAERVTE74C7DYOALCC"
    data = report.model(sample.trace(session))
    summary = dict(data["summary"])
    assert summary["Exposure time"] == (
        "2026-09-02T00:25:12Z (assumed: 24 h after the first recorded use of"
        f" {ROOT} at 2026-09-01T00:25:12Z, which the traced credentials derive from)"
    )
    assert summary["First malicious use (first event from a new place)"].startswith(
        "2026-09-06T22:05:10Z: "
    )
    assert "ListSecrets" in summary["First malicious use (first event from a new place)"]
    assert summary["Places"] == "1 (1 new)"
    assert summary["Uses after revocation"] == (
        "0 of a revoked credential, 3 of one whose parent was revoked"
    )
    assert [(r["time"], r["why"]) for r in data["after_revocation"]] == [
        (time, f"outlived the revocation of {ROOT} at 2026-09-07T00:06:21Z")
        for time in ("2026-09-07T00:45:25Z", "2026-09-07T00:45:51Z", "2026-09-07T00:46:05Z")
    ]
    assert [c["status"] for c in data["lineage"]] == ["expired 2026-09-07T10:05:00Z"]
    assert data["remaining"] == []  # it expired, and was not used after that
    assert [(a["id"], a["parent"], a["parent_revoked_at"]) for a in data["ancestors"]] == [
        (session, ROOT, "2026-09-07T00:06:21Z")
    ]


def test_report_format_from_suffix_or_refused(traced: Trace, tmp_path: Path) -> None:
    assert traced.report(tmp_path / "r.md").read_text().startswith("# Breach report: aws\\_")
    assert traced.report(tmp_path / "r.txt", fmt="html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="report format must be one of md, html"):
        traced.report(tmp_path / "r.pdf")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<b>x</b>", "\\<b\\>x\\</b\\>"),
        ("a|b\nc", "a\\|b c"),
        ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
        ("`code` *em* _u_ ~s~ &amp;", "\\`code\\` \\*em\\* \\_u\\_ \\~s\\~ \\&amp;"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_md_escape(text: str, escaped: str) -> None:
    assert report.md_escape(text) == escaped


def hostile_trace(tmp_path: Path) -> Trace:
    """A trace whose user agents and actor ARN carry markup, as an attacker can write them."""
    path = hostile_file(tmp_path)
    document = json.loads(path.read_text())
    document["Records"][0]["userAgent"] = HOSTILE_SCRIPT
    document["Records"][1]["userAgent"] = HOSTILE_IMG
    document["Records"][2]["userIdentity"]["arn"] = f"arn:aws:iam::534439589175:user/{HOSTILE_IMG}"
    path.write_text(json.dumps(document))
    case = ir.open_case(tmp_path / "case.duckdb")
    case.ingest(path)
    return case.trace(ROOT)


def test_html_escapes_everything_from_the_logs(tmp_path: Path) -> None:
    text = report.render_text(hostile_trace(tmp_path), "html")
    assert HOSTILE_SCRIPT not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&#34;&gt;&lt;img src=x onerror=alert(document.domain)&gt;" in text
    tags = parse(text)
    assert tags.tags["script"] == 2 and tags.tags["img"] == 0
    assert not {a for a in tags.attributes if a.startswith("on")}


def test_markdown_escapes_everything_from_the_logs(tmp_path: Path) -> None:
    text = report.render_text(hostile_trace(tmp_path), "md")
    assert re.search(r"(?<!\\)[<>]", text) is None  # every angle bracket is escaped
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert '"\\>\\<img src=x onerror=alert(document.domain)\\>' in text


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def run_browser(browser: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1280,2000",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_browser_shows_the_plot_and_the_tables(
    html_path: Path, tmp_path: Path, traced: Trace
) -> None:
    browser = find_browser()
    if browser is None:
        pytest.skip(
            "no chromium found (tried " + ", ".join(BROWSERS) + "); `make test` installs "
            "Debian's chromium when run as root with apt-get"
        )
    from PIL import Image

    shot = tmp_path / "report.png"
    result = run_browser(browser, tmp_path / "profile", f"--screenshot={shot}", html_path.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (1280, 2000)
        colours = Counter({colour: n for n, colour in pixels.getcolors(maxcolors=1 << 24)})
    total = 1280 * 2000
    assert sum(n for c, n in colours.items() if c != (255, 255, 255)) > total * 0.08, "blank page"
    plot_area = int(report.PLOT_BACKGROUND[1:3], 16), int(report.PLOT_BACKGROUND[3:5], 16)
    plot_area += (int(report.PLOT_BACKGROUND[5:7], 16),)
    assert colours[plot_area] > 150_000, "no plot area on screen"
    dom = run_browser(browser, tmp_path / "profile", "--dump-dom", html_path.as_uri()).stdout
    assert 'class="main-svg"' in dom  # plotly.js ran and drew the figure
    assert "ci-deployer key AKIAB4QWZLKKE2GRC3WO" in dom
    assert parse(dom).tags["table"] == tables(traced)
