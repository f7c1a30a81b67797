"""The sample incident's Okta and Entra objects, with decoys beside them, as the vendors'
APIs would hold them: seeded into the local servers by the connector and CLI tests alike."""

from __future__ import annotations

from tests.servers.entra import EntraApi
from tests.servers.okta import OktaApi

CAROL = "00u7carolcorpexample1"
MINTED = "00TE6Dc5gQFkHzR152mo"
MEGAN = "4f1b2c3d-0000-4000-8000-00000000aaaa"
LEAKED_KEY = "cae9b47d-fe6c-42b0-9ee6-6eab137ce72c"


def seed_okta(api: OktaApi) -> OktaApi:
    """Carol (hijacked session, another device), the minted API token, and Dave's decoys."""
    api.users = {
        CAROL: {"id": CAROL, "status": "ACTIVE", "profile": {"login": "carol@corp.example"}},
        "00u7decoy": {
            "id": "00u7decoy",
            "status": "ACTIVE",
            "profile": {"login": "dave@corp.example"},
        },
    }
    api.sessions = {
        "102hZRgCcFl742wO50iahAImd": {"id": "102hZRgCcFl742wO50iahAImd", "userId": CAROL},
        "102carolOtherDevice": {"id": "102carolOtherDevice", "userId": CAROL},
        "102daveDecoy": {"id": "102daveDecoy", "userId": "00u7decoy"},
    }
    api.api_tokens = {MINTED: {"id": MINTED}, "00Tdecoy": {"id": "00Tdecoy"}}
    return api


def seed_entra(api: EntraApi) -> EntraApi:
    """Megan (hijacked session), the app secret the attacker added, and the decoys."""
    api.users = {
        MEGAN: {
            "id": MEGAN,
            "userPrincipalName": "megan@corp.example",
            "accountEnabled": True,
            "signInSessionsValidFromDateTime": "2026-08-01T00:00:00Z",
        },
        "decoy": {
            "id": "decoy",
            "userPrincipalName": "lee@corp.example",
            "accountEnabled": True,
            "signInSessionsValidFromDateTime": "2026-08-01T00:00:00Z",
        },
    }
    api.applications = {
        "app-payroll": {
            "id": "app-payroll",
            "displayName": "payroll-sync",
            "passwordCredentials": [
                {"keyId": LEAKED_KEY, "displayName": "added by attacker"},
                {"keyId": "legit-key", "displayName": "production"},
            ],
        },
    }
    return api
