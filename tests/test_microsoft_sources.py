"""Microsoft identity sources together: one session's ids agree across the four parsers.

The fixtures tell one story (tests/fixtures/{entra_signin,entra_audit,m365_ual,
graph_activity}): alice's session a8c3f1e2-…-5e61 is replayed from 203.0.113.77,
used in Exchange, SharePoint, Teams and Graph, and adds a secret to payroll-sync;
her laptop session …-5e62 is the decoy.
"""

from __future__ import annotations

import json
from pathlib import Path

from ir.case import Case
from ir.credentials import KIND_NAMES, normalise_id

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = ("entra_signin", "entra_audit", "m365_ual", "graph_activity")
HIJACKED = "entra_session:a8c3f1e2-6b4d-4c9a-9e7f-1d2c3b4a5e61"
DECOY = "entra_session:a8c3f1e2-6b4d-4c9a-9e7f-1d2c3b4a5e62"
NEW_SECRET = "entra_app_credential:0d4f6a1b-3c5e-4f7a-9b2c-6e8d0f1a3b01"


def _ingest_all(case: Case) -> None:
    evidence = [
        path
        for source in SOURCES
        for path in sorted((FIXTURES / source).iterdir())
        if not path.name.endswith((".expected.jsonl", ".rejects.jsonl"))
    ]
    reports = case.ingest(*evidence)
    assert all(report.error is None for report in reports)


def _sources_using(case: Case, credential: str) -> dict[str, int]:
    rows = case.connection.execute(
        """SELECT e.source, count(*) FROM credential_refs c JOIN events e USING (event_key)
           WHERE c.credential = ? AND c.relation = 'used' GROUP BY e.source""",
        [credential],
    ).fetchall()
    return dict(rows)


def test_hijacked_session_is_used_in_all_four_sources(case: Case) -> None:
    _ingest_all(case)
    assert _sources_using(case, HIJACKED) == {
        "entra_signin": 5,
        "entra_audit": 3,
        "m365_ual": 5,
        "graph_activity": 5,
    }
    assert _sources_using(case, DECOY) == {
        "entra_signin": 2,
        "m365_ual": 3,
        "graph_activity": 2,
    }


def test_lineage_edges_from_the_hijacked_session(case: Case) -> None:
    _ingest_all(case)
    issued = case.connection.execute(
        """SELECT DISTINCT credential, via FROM credential_refs
           WHERE relation = 'issued' AND parent = ? ORDER BY credential, via""",
        [HIJACKED],
    ).fetchall()
    assert issued == [
        (
            "entra_app_credential:0d4f6a1b-3c5e-4f7a-9b2c-6e8d0f1a3b01",
            "Update application – Certificates and secrets management",
        ),
        (
            "entra_app_credential:0d4f6a1b-3c5e-4f7a-9b2c-6e8d0f1a3b04",
            "Update application - Certificates and secrets management",
        ),
        ("entra_app_credential:e4f5a6b7-c8d9-4e0f-8a1b-2c3d4e5f6a01", "Update application"),
        (
            "entra_uti:hJ3kL5mN7bV9cX1zQ3wEAA",
            "NonInteractiveUserSignInLogs (incomingTokenType refreshToken)",
        ),
        ("entra_uti:kXq3Vb9tR0-2nYwLc7ZdAA", "SignInLogs"),
        (
            "entra_uti:kXq3Vb9tR0-2nYwLc7ZdBA",
            "NonInteractiveUserSignInLogs (incomingTokenType refreshToken)",
        ),
        (
            "entra_uti:rT5uV7wX9yZ1aB3cD5eFBA",
            "NonInteractiveUserSignInLogs (incomingTokenType primaryRefreshToken)",
        ),
        (
            "entra_uti:sW2eR4tY6uI8oP0aS2dFAA",
            "NonInteractiveUserSignInLogs (incomingTokenType refreshToken)",
        ),
    ]
    # The secret added from the hijacked session signs the service principal in.
    used = case.connection.execute(
        """SELECT e.source, e.source_event_id, e.client_ip FROM credential_refs c
           JOIN events e USING (event_key) WHERE c.credential = ? AND c.relation = 'used'""",
        [NEW_SECRET],
    ).fetchall()
    assert used == [("entra_signin", "e5f3a7c2-9d4b-4a8e-1c0f-2b3c4d5e6f01", "203.0.113.77")]


def test_user_wide_revocations_name_the_user(case: Case) -> None:
    _ingest_all(case)
    revoked = case.connection.execute(
        """SELECT e.action, c.credential FROM credential_refs c JOIN events e USING (event_key)
           WHERE c.kind = 'entra_user' ORDER BY e.time"""
    ).fetchall()
    assert revoked == [
        ("Update StsRefreshTokenValidFrom Timestamp", "entra_user:alice@corp.example"),
        ("Disable account", "entra_user:bob@corp.example"),
        (
            "Update StsRefreshTokenValidFrom Timestamp",
            "entra_user:2b7e4c1d-0a9f-4e3b-8c6d-5f1a2b3c4d02",
        ),
        ("Change user password", "entra_user:alice@corp.example"),
    ]


def test_one_ual_record_in_two_export_shapes_is_a_duplicate(case: Case, tmp_path: Path) -> None:
    """Purview CSV and Management Activity API JSON deliver the same record: load it once."""
    record = json.loads((FIXTURES / "m365_ual" / "management-api.json").read_text())[1]
    api = tmp_path / "content-blob.json"
    api.write_text(json.dumps([record], indent=2))
    purview = tmp_path / "purview.csv"
    audit_data = json.dumps(record, separators=(",", ":")).replace('"', '""')
    purview.write_text(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n"
        f'{record["Id"]},"{record["CreationTime"]}.0000000Z ",25,MessageSent,'
        f'{record["UserId"]},"{audit_data}"\r\n'
    )
    first, second = case.ingest(api, purview)
    assert (first.loaded, first.duplicates) == (1, 0)
    assert (second.source, second.records, second.loaded, second.duplicates) == (
        "m365_ual",
        1,
        0,
        1,
    )


def test_new_kinds_are_known_ids() -> None:
    assert {"entra_app_credential", "entra_user"} <= KIND_NAMES
    assert normalise_id(NEW_SECRET) == NEW_SECRET
    assert normalise_id("entra_user:alice@corp.example") == "entra_user:alice@corp.example"
