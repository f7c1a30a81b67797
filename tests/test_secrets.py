"""Raw secrets live only in memory: never in the case, an output, an export, an error.

One test feeds a GitHub PAT, a JWT and an AWS credentials file in every way `ir`
accepts a token (`--token-file FILE`, `--token-file -`, the timeline's
`--token-file`, `case.trace(token=…)` in a notebook), drives the error paths
after the token was read (a missing case, a bad time, a token pasted where a
file name belongs, a file that is not UTF-8, an uncaught exception's traceback),
and then searches every byte the runs wrote (the case file and its WAL, stdout
and stderr, exports, the temp and home folders they were given) for the secret
and for any 12-character piece of it. The case is also searched with SQL, since
DuckDB compresses the strings it stores.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ir.cli import app
from tests import vendor_records as v

IR = str(Path(sys.executable).parent / "ir")
FIXTURES = Path(__file__).parent / "fixtures"
WINDOW = 12  # no run may write this many consecutive characters of a secret

PAT = "ghp_" + "R8kQ2vLx7TzW4nYp9sJd3Fh6Mb1Ce5Ga0UoI"
UTI, SID = "sEcReTuTi-NoT-tHe-SeCrEt-Aa", "0b7c9e1a-4f2d-4c8b-9a6e-3d5f7a9c1e24"


def _b64(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = ".".join(
    [
        _b64({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
        _b64({"aud": "00000003-0000-0000-c000-000000000000", "uti": UTI, "sid": SID}),
        "Zm9yZ2VkLXNpZ25hdHVyZS1ub3QtY2hlY2tlZC1ieS1pcl9zZWNyZXRfcGFydF8xMjM0NTY3ODkw",
    ]
)
AWS_KEY_ID = "AKIASECRETSTEST00001"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzExAmPlEkY"
AWS_FILE = f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n"
GCP_KEY_ID = "8f2c4e6a1b3d5f7091a2b3c4d5e6f7a8b9c0d1e2"  # in the gcp_audit fixture's logs
GCP_PRIVATE_KEY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDsEcReTkEyNoTrEaL0123"
GCP_KEY = json.dumps(
    {
        "type": "service_account",
        "project_id": "prod-123",
        "private_key_id": GCP_KEY_ID,
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{GCP_PRIVATE_KEY}\n-----END PRIVATE KEY-----\n",
        "client_email": "deploy@prod-123.iam.gserviceaccount.com",
        "client_id": "104958372615203948571",
        "token_uri": "https://oauth2.googleapis.com/token",
    },
    indent=2,
)
GCP_KEY_B64 = base64.b64encode(GCP_KEY.encode()).decode()
# name -> (what the token file holds, the secret parts that must never be written)
TOKENS = {
    "pat": (PAT, [PAT]),
    "jwt": (JWT, [JWT]),
    "aws": (AWS_FILE, [AWS_SECRET]),
    "gcp": (GCP_KEY, [GCP_PRIVATE_KEY]),
    "gcp_b64": (GCP_KEY_B64, [GCP_KEY_B64, GCP_PRIVATE_KEY]),
}
NOTEBOOK = """
import sys, ir
token = open(sys.argv[2]).read()
with ir.open_case(sys.argv[1], read_only=True) as case:
    trace = case.trace(token=token)
    open(sys.argv[3], "w").write(__import__("json").dumps(trace.to_json()))
    case.trace(token=token, leaked_at="not a time")  # raises: the traceback is checked
"""


def logs(folder: Path) -> Path:
    """A GitHub event with the PAT's hash, an Entra sign-in of the JWT, an AWS call, and
    a GCP service-account key's life (created, used, disabled)."""
    hashed = base64.b64encode(hashlib.sha256(PAT.encode()).digest()).decode()
    v.write_ndjson(folder / "github.ndjson", [v.github("g1", 1788000000000, "git.clone", hashed)])
    sign_in = json.loads((FIXTURES / "entra_signin" / "graph-page.json").read_text())["value"][0]
    sign_in.update(id="si-secret-1", sessionId=SID, uniqueTokenIdentifier=UTI)
    (folder / "signins.json").write_text(json.dumps({"value": [sign_in]}))
    v.write_cloudtrail(
        folder / "ct.json", [v.cloudtrail("c1", "2026-09-01T00:00:00Z", "ListBuckets", AWS_KEY_ID)]
    )
    gcp = (FIXTURES / "gcp_audit" / "key-lifecycle.ndjson").read_text()
    (folder / "gcp.ndjson").write_text(gcp)
    return folder


class Runs:
    """`ir` runs whose temp, home and working folders are under `root`: in this process
    (CliRunner; an uncaught exception's traceback counts as output), or as a real process."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.env = {**os.environ}
        for name in ("TMPDIR", "HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
            (root / name.lower()).mkdir()
            self.env[name] = str(root / name.lower())
            monkeypatch.setenv(name, self.env[name])
        monkeypatch.setattr(tempfile, "tempdir", None)
        self.work = root / "work"
        self.work.mkdir()
        monkeypatch.chdir(self.work)
        self.outputs: list[str] = []

    def __call__(self, *args: str, stdin: str | None = None) -> int:
        result = CliRunner().invoke(app, list(args), input=stdin)
        self.outputs += [result.stdout, result.stderr]
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.outputs.append("".join(traceback.format_exception(result.exception)))
        return result.exit_code

    def process(self, *command: str, stdin: str | None = None) -> int:
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, env=self.env, cwd=self.work
        )
        self.outputs += [result.stdout, result.stderr]
        return result.returncode


def written(root: Path, skip: Path) -> list[tuple[str, bytes]]:
    return [
        (str(path), path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_relative_to(skip)
    ]


def pieces(secret: str) -> set[str]:
    return {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


def case_text(case: Path) -> dict[str, str]:
    """Every text column of the case, its values joined: (table.column) -> text."""
    with duckdb.connect(str(case), read_only=True) as connection:
        columns = connection.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE data_type = 'VARCHAR' AND NOT internal"
        ).fetchall()
        return {
            f"{table}.{column}": str(
                (
                    connection.execute(
                        f'SELECT string_agg("{column}", chr(10)) FROM "{table}"'
                    ).fetchone()
                    or ("",)
                )[0]
            )
            for table, column in columns
        }


def test_a_token_given_every_way_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = Runs(tmp_path, monkeypatch)
    secrets = tmp_path / "secrets"  # the responder's own token files: the only copies
    secrets.mkdir()
    case = str(runs.work / "case.duckdb")
    assert runs("ingest", str(logs(tmp_path / "logs")), "--case", case) == 0
    statuses = []
    for name, (content, _) in TOKENS.items():
        token_file = secrets / name
        token_file.write_text(content)
        for fmt in ("table", "json", "csv"):
            statuses.append(
                runs("trace", "--token-file", str(token_file), "--case", case, "-f", fmt)
            )
            statuses.append(
                runs("trace", "--token-file", "-", "--case", case, "-f", fmt, stdin=content)
            )
        for fmt in ("csv", "jsonl", "md", "html"):
            out = str(runs.work / f"timeline-{name}.{fmt}")
            statuses.append(
                runs(
                    "timeline",
                    "--token-file",
                    str(token_file),
                    "--case",
                    case,
                    "-f",
                    fmt,
                    "--out",
                    out,
                )
            )
        # A real process reading stdin; a notebook whose exception escapes after the trace.
        statuses.append(
            runs.process(IR, "trace", "--token-file", "-", "--case", case, stdin=content)
        )
        notebook_out = str(runs.work / f"notebook-{name}.json")
        statuses.append(
            runs.process(sys.executable, "-c", NOTEBOOK, case, str(token_file), notebook_out)
        )
        # Error paths after the token was read.
        statuses.append(runs("trace", "--token-file", str(token_file), "--case", "missing.duckdb"))
        statuses.append(
            runs("trace", "--token-file", str(token_file), "--case", case, "--leaked-at", "x")
        )
        statuses.append(runs("trace", "--token-file", content.strip(), "--case", case))  # pasted
        statuses.append(runs("trace", content.strip(), "--case", case))  # pasted as an id
        bad_bytes = secrets / f"{name}-latin1"
        bad_bytes.write_bytes(content.encode() + b"\xff\xfe")
        statuses.append(runs("trace", "--token-file", str(bad_bytes), "--case", case))
    expected_one_token = [0] * 6 + [0] * 4 + [0, 1] + [1, 2, 2, 2, 2]
    assert statuses == expected_one_token * len(TOKENS)
    assert json.loads((runs.work / "notebook-pat.json").read_text())["credentials"]
    assert sum("Traceback" in text for text in runs.outputs) == len(TOKENS)  # the notebooks'

    files = written(tmp_path, skip=secrets)
    assert any(path.endswith("case.duckdb") for path, _ in files)
    columns = case_text(Path(case))
    assert f"entra_uti:{UTI}" in columns["credential_refs.credential"]  # the search sees data
    for _name, (_content, parts) in TOKENS.items():
        for piece in {p for secret in parts for p in pieces(secret)}:
            assert [path for path, data in files if piece.encode() in data] == [], piece
            assert [text for text in runs.outputs if piece in text] == [], piece
            assert [c for c, text in columns.items() if piece in text] == [], piece


@pytest.mark.parametrize("name", TOKENS)
def test_each_token_is_traced_by_the_identifiers_its_logs_carry(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search above is not vacuous: each token finds the events of its identifiers."""
    runs = Runs(tmp_path, monkeypatch)
    case = str(runs.work / "case.duckdb")
    runs("ingest", str(logs(tmp_path / "logs")), "--case", case)
    content = TOKENS[name][0]
    assert runs("trace", "--token-file", "-", "--case", case, "-f", "json", stdin=content) == 0
    roots = {
        "pat": "github_token:",
        "jwt": f"entra_uti:{UTI}",
        "aws": f"aws_access_key:{AWS_KEY_ID}",
        "gcp": f"gcp_sa_key:{GCP_KEY_ID}",
        "gcp_b64": f"gcp_sa_key:{GCP_KEY_ID}",
    }
    assert json.loads(runs.outputs[-2])["root"].startswith(roots[name])


# Secrets whose vendors log nothing derived from them -> what the refusal must point to.
UNLOGGED = {
    "slack": ("xoxb-2615165431-2615165433-" + "Qz8vRk2LmN4pXw7TbY1sJd9F", "slack_app_install"),
    "slack_user": (
        "xoxp-2615165431-2615165433-2615165435-" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "--actor",
    ),
    "okta": ("00" + "QCjAl4MlV-WPXM8bT3vR7kL2pZ9sN1qY6wE0uHdF", "okta_api_token:00T"),
    "okta_header": (
        "SSWS 00" + "b7Xk2mQ9rT4vL8pN3sW6yZ1cF5hJ0dG-aE_uRiOo",
        "GET /api/v1/api-tokens",
    ),
    "salesforce": (
        "00D5g000004ABCD!AQ8AQJ3x7Lk2Mn9Pq4Rs6Tu8Vw0Xy1Za3Bc5De7Fg9Hi2Jk4Lm6No8Pq.0Rs2Tu4Vw",
        "salesforce_session",
    ),
}


def test_a_secret_its_vendor_never_logs_is_refused_with_what_to_trace_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack, Okta API and Salesforce session secrets: recognised, never reduced to a guess,
    the responder told what to trace instead (exit 2), and never written anywhere."""
    runs = Runs(tmp_path, monkeypatch)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    case = str(runs.work / "case.duckdb")
    assert runs("ingest", str(logs(tmp_path / "logs")), "--case", case) == 0
    for name, (secret, pointer) in UNLOGGED.items():
        token_file = secrets / name
        token_file.write_text(secret + "\n")
        seen = len(runs.outputs)
        statuses = [
            runs("trace", "--token-file", str(token_file), "--case", case, "-f", "json"),
            runs("trace", "--token-file", "-", "--case", case, stdin=secret),
            runs("timeline", "--token-file", str(token_file), "--case", case, "-f", "md"),
            runs("playbook", "plan", "--token-file", str(token_file), "--case", case),
            runs.process(IR, "trace", "--token-file", "-", "--case", case, stdin=secret),
        ]
        assert statuses == [2] * 5, (name, runs.outputs[seen:])
        said = [" ".join(text.split()) for text in runs.outputs[seen:] if text]
        assert len(said) == 5 and all("(not shown here)" in text for text in said), said
        assert all(pointer in text for text in said), (name, said)
    files = written(tmp_path, skip=secrets)
    columns = case_text(Path(case))
    for secret, _ in UNLOGGED.values():
        for piece in pieces(secret.removeprefix("SSWS ")):
            assert [path for path, data in files if piece.encode() in data] == [], piece
            assert [text for text in runs.outputs if piece in text] == [], piece
            assert [c for c, text in columns.items() if piece in text] == [], piece
