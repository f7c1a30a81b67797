"""`ir playbook` end to end across providers, as a responder runs it: the real `ir` binary,
a real case of the sample incident, the local GitHub, Okta and Graph servers. Done when
(issue 19): the plan for the sample incident's GitHub token, Okta session and Entra
session names the right revocations and nothing of the decoys, `--execute` performs
them, a re-run is a no-op, and verify passes.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.servers.entra import EntraApi
from tests.servers.fixtures import (  # noqa: F401  (pytest fixtures)
    ENTRA_SECRET,
    OKTA_TOKEN,
    entra_api,
    github_api,
    okta_api,
    settings,
)
from tests.servers.github import GitHubApi
from tests.servers.okta import OktaApi
from tests.servers.sample import CAROL, LEAKED_KEY, MEGAN, MINTED, seed_entra, seed_okta

IR = str(Path(sys.executable).parent / "ir")
SAMPLE_LOGS = Path(__file__).resolve().parents[1] / "sample_logs"
RAW_FILE = SAMPLE_LOGS / "leaked_github_token.txt"
RAW = RAW_FILE.read_text().strip()

GITHUB_ROOT = "github_token:kZ1jcZU2dh1UXZtsK0SVFhjzWxHrrnt4fcDSj24i8M8="
OKTA_ROOT = "okta_session:102hZRgCcFl742wO50iahAImd"
ENTRA_ROOT = "entra_session:d9d016e1-56a6-449c-a1ef-c6d76183a272"
OTHER_ROOTS = [
    "AKIAB4QWZLKKE2GRC3WO",
    "0H47Q000000Zmj6",
    "526517594216-refu3llrfspzp2p9eg0iqdvmny5y7vug",
]
DECOYS = ["00Tdecoy", "102daveDecoy", "102carolOtherDevice", "00u7decoy", "decoy", "legit-key"]

PLANNED = [
    ("01-github-revoke_token", "github", "revoke_token", GITHUB_ROOT),
    ("02-okta-revoke_api_token", "okta", "revoke_api_token", f"okta_api_token:{MINTED}"),
    ("03-okta-revoke_session", "okta", "revoke_session", OKTA_ROOT),
    ("04-okta-clear_user_sessions", "okta", "clear_user_sessions", "okta_user:carol@corp.example"),
    (
        "05-entra-revoke_sign_in_sessions",
        "entra",
        "revoke_sign_in_sessions",
        "entra_user:megan@corp.example",
    ),
    (
        "06-entra-remove_app_secret",
        "entra",
        "remove_app_secret",
        f"entra_app_credential:{LEAKED_KEY}",
    ),
]
STEP_IDS = [p[0] for p in PLANNED]


def ir(*args: str | Path, case: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IR, *map(str, args), "--case", str(case)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def servers(
    github_api: GitHubApi,  # noqa: F811
    okta_api: OktaApi,  # noqa: F811
    entra_api: EntraApi,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[GitHubApi, OktaApi, EntraApi]:
    """The three servers seeded with the sample incident's objects and decoys beside them."""
    for api in (github_api, okta_api, entra_api):
        for name, value in settings(api).items():
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)  # the revocation API needs none
    monkeypatch.delenv("GH_TOKEN", raising=False)
    github_api.live.add(RAW)
    seed_okta(okta_api)
    seed_entra(entra_api)
    return github_api, okta_api, entra_api


def state(github: GitHubApi, okta: OktaApi, entra: EntraApi) -> dict[str, object]:
    """Every server's revocable state, copied."""
    return copy.deepcopy(
        {
            "github_live": sorted(github.live),
            "github_reported": list(github.reported),
            "okta_tokens": okta.api_tokens,
            "okta_sessions": okta.sessions,
            "okta_users": okta.users,
            "okta_cleared": list(okta.cleared),
            "entra_users": entra.users,
            "entra_apps": entra.applications,
        }
    )


def changes(github: GitHubApi, okta: OktaApi, entra: EntraApi) -> list[str]:
    """The state-changing requests the servers received (token requests excluded)."""
    return [
        f"{r.method} {r.path}"
        for api in (github, okta, entra)
        for r in api.requests
        if r.method != "GET" and not r.path.endswith("/oauth2/v2.0/token")
    ]


def test_sample_incident_plan_dry_run_execute_rerun_verify_from_the_cli(
    servers: tuple[GitHubApi, OktaApi, EntraApi], tmp_path: Path
) -> None:
    github, okta, entra = servers
    case = tmp_path / "case.duckdb"
    plan_file = tmp_path / "plan.json"
    outputs = []

    ingested = ir("ingest", SAMPLE_LOGS, case=case)
    assert ingested.returncode == 0, ingested.stderr

    # Plan: exactly the revocations of the three roots' lineages, nothing of the decoys.
    planned = ir(
        "playbook",
        "plan",
        GITHUB_ROOT,
        OKTA_ROOT,
        ENTRA_ROOT,
        "--out",
        plan_file,
        "--format",
        "json",
        case=case,
    )
    outputs.append(planned)
    assert planned.returncode == 0, planned.stderr
    assert "wrote" in planned.stderr and "6 steps" in planned.stderr
    text = plan_file.read_text()
    plan = orjson.loads(text)
    assert plan["root"] == GITHUB_ROOT
    assert [(s["id"], s["provider"], s["action"], s["target"]) for s in plan["steps"]] == PLANNED
    assert [s["id"] for s in orjson.loads(planned.stdout)] == STEP_IDS
    assert plan["steps"][3]["request"]["params"] == {
        "user": "carol@corp.example",
        "oauthTokens": "true",
    }
    assert OKTA_ROOT in plan["steps"][3]["credentials"]
    assert ENTRA_ROOT in plan["steps"][4]["credentials"]
    for absent in [*OTHER_ROOTS, *DECOYS, "aws", "salesforce", "google", "slack"]:
        assert f'"{absent}' not in text and f":{absent}" not in text, absent
    assert RAW not in text
    assert github.requests == okta.requests == entra.requests == []  # planning calls nothing

    # Dry run: the calls it would make, none made.
    before = state(*servers)
    dry = ir("playbook", "run", plan_file, "--format", "json", case=case)
    outputs.append(dry)
    assert dry.returncode == 0, dry.stderr
    would = orjson.loads(dry.stdout)
    assert [(o["step"], o["status"]) for o in would] == [(i, "would_call") for i in STEP_IDS]
    assert [o["calls"][-1]["api"] for o in would] == [
        "POST /credentials/revoke",
        f"DELETE /api/v1/api-tokens/{MINTED}",
        f"DELETE /api/v1/sessions/{OKTA_ROOT.split(':')[1]}",
        "DELETE /api/v1/users/{userId}/sessions",
        "POST /v1.0/users/megan@corp.example/revokeSignInSessions",
        "POST /v1.0/applications/{id}/removePassword",
    ]
    table = ir("playbook", "run", plan_file, case=case)
    outputs.append(table)
    assert table.returncode == 0, table.stderr
    assert f"/api/v1/api-tokens/{MINTED}" in table.stdout
    assert github.requests == okta.requests == entra.requests == []
    assert state(*servers) == before

    # Execute: each revocation performed on its server, decoys untouched.
    executed = ir(
        "playbook",
        "run",
        plan_file,
        "--execute",
        "--token-file",
        RAW_FILE,
        "--format",
        "json",
        case=case,
    )
    outputs.append(executed)
    assert executed.returncode == 0, executed.stderr
    done = orjson.loads(executed.stdout)
    assert [(o["step"], o["status"]) for o in done] == [(i, "done") for i in STEP_IDS]
    assert github.reported == [RAW] and RAW not in github.live
    assert set(okta.api_tokens) == {"00Tdecoy"}
    assert set(okta.sessions) == {"102daveDecoy"}
    assert okta.cleared == [(CAROL, "true")]
    assert {u: okta.users[u]["status"] for u in okta.users} == {
        CAROL: "ACTIVE",
        "00u7decoy": "ACTIVE",
    }
    megan, lee = entra.users[MEGAN], entra.users["decoy"]
    assert megan["signInSessionsValidFromDateTime"] > "2026-09-05"
    assert megan["accountEnabled"] is True  # no --quarantine: not disabled
    assert lee == before["entra_users"]["decoy"]  # type: ignore[index]
    assert [p["keyId"] for p in entra.applications["app-payroll"]["passwordCredentials"]] == [
        "legit-key"
    ]
    revocations = changes(*servers)
    assert revocations == [
        "POST /credentials/revoke",
        f"DELETE /api/v1/api-tokens/{MINTED}",
        f"DELETE /api/v1/sessions/{OKTA_ROOT.split(':')[1]}",
        f"DELETE /api/v1/users/{CAROL}/sessions",
        "POST /v1.0/users/megan@corp.example/revokeSignInSessions",
        "POST /v1.0/applications/app-payroll/removePassword",
    ]

    # Re-run: the journal skips every step; no new call changes anything.
    after = state(*servers)
    rerun = ir(
        "playbook",
        "run",
        plan_file,
        "--execute",
        "--token-file",
        RAW_FILE,
        "--format",
        "json",
        case=case,
    )
    outputs.append(rerun)
    assert rerun.returncode == 0, rerun.stderr
    assert [(o["step"], o["status"]) for o in orjson.loads(rerun.stdout)] == [
        (i, "skipped") for i in STEP_IDS
    ]
    assert state(*servers) == after
    assert changes(*servers) == revocations

    # Verify: every step holds on its server.
    verified = ir("playbook", "verify", "--token-file", RAW_FILE, "--format", "json", case=case)
    outputs.append(verified)
    assert verified.returncode == 0, verified.stderr
    assert [(o["step"], o["status"]) for o in orjson.loads(verified.stdout)] == [
        (i, "verified") for i in STEP_IDS
    ]
    assert changes(*servers) == revocations  # verifying revokes nothing

    status = ir("playbook", "status", "--format", "json", case=case)
    outputs.append(status)
    assert status.returncode == 0, status.stderr
    journal = orjson.loads(status.stdout)
    assert [(r["ref"], r["status"]) for r in journal] == [
        (i, done_as) for done_as in ("done", "skipped", "verified") for i in STEP_IDS
    ]
    assert journal[4]["credentials"] == plan["steps"][4]["credentials"]  # all 19 of them
    assert len(journal[4]["credentials"]) == 19 and journal[0]["credentials"] == [GITHUB_ROOT]

    # No secret in anything ir printed or wrote.
    secrets = [RAW, OKTA_TOKEN, ENTRA_SECRET, *entra.issued]
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    for output in outputs:
        for secret in secrets:
            assert secret not in output.stdout + output.stderr
    for blob in written:
        assert RAW.encode() not in blob and OKTA_TOKEN.encode() not in blob
