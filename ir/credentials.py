"""Credential kinds, canonical `kind:value` ids, and raw secret -> fingerprint ids.

A leaf module: parsers and the rest of `ir` import it, it imports nothing of
theirs. A raw secret handled here is never put in a return value, an exception
or a log line; only the identifiers that vendor logs carry come out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass

import orjson

from ir.errors import UsageError


@dataclass(frozen=True)
class Kind:
    name: str
    vendor: str
    value: str  # what the value is, as the vendor logs it
    example: str


KINDS: tuple[Kind, ...] = (
    Kind(
        "aws_access_key",
        "AWS",
        "access key id: AKIA… long-term, ASIA… temporary",
        "AKIAIOSFODNN7EXAMPLE",
    ),
    Kind(
        "github_token",
        "GitHub",
        "hashed_token: base64 of the SHA-256 of the raw token",
        "E8Fzcgs3TQXq…=",
    ),
    Kind(
        "okta_session",
        "Okta",
        "authenticationContext.externalSessionId",
        "102nZHzd6OHSfGG51vsoc22gw",
    ),
    Kind(
        "okta_user",
        "Okta",
        "user login (alternateId), else user id: its sessions end together",
        "carol@corp.example",
    ),
    Kind("okta_api_token", "Okta", "API token id (00T…)", "00T94e3cn9kSEO3c51s5"),
    Kind("entra_session", "Microsoft", "sign-in sessionId / AADSessionId / sid claim", "<GUID>"),
    Kind(
        "entra_uti",
        "Microsoft",
        "uniqueTokenIdentifier / UniqueTokenId / signInActivityId",
        "OTMzZjIw…",
    ),
    Kind("entra_app_credential", "Microsoft", "app key / federated credential id", "<GUID>"),
    Kind("entra_user", "Microsoft", "userPrincipalName, else object id", "alice@corp.example"),
    Kind("salesforce_connected_app", "Salesforce", "connected app id, first 15 characters", "0H4…"),
    Kind("salesforce_login", "Salesforce", "LOGIN_KEY / LoginKey", "…"),
    Kind("salesforce_session", "Salesforce", "SESSION_KEY / SessionKey", "…"),
    Kind("google_oauth_client", "Google", "OAuth client_id", "…apps.googleusercontent.com"),
    Kind("google_oauth_grant", "Google", "<client_id>/<actor email>", "…/user@example.com"),
    Kind("slack_session", "Slack", "context.session_id", "913888259765"),
    Kind("slack_user", "Slack", "user id whose sessions an admin reset", "W012J3FEWAU"),
    Kind(
        "slack_app_install",
        "Slack",
        "<app id>/<workspace id>: an install's tokens",
        "A012F34BFEF/T01770N79GB",
    ),
    Kind(
        "gcp_sa_key",
        "Google Cloud",
        "service account key id (serviceAccountKeyName's last segment)",
        "1a2b3c…",
    ),
    Kind(
        "gcp_sa_impersonation",
        "Google Cloud",
        "<caller>/<service account>: its minted tokens",
        "ci@…/deploy@….iam.gserviceaccount.com",
    ),
    Kind("auth0_session", "Auth0", "details.session_id", "k3Xf…"),
    Kind("auth0_refresh_token", "Auth0", "refresh token id (srrt details.credential_id)", "rt_…"),
    Kind("k8s_token", "Kubernetes", "service account token JTI / credential id", "…"),
    Kind("jwt_id", "any", "a JWT's jti claim when no vendor kind claims it", "…"),
)
KIND_NAMES = frozenset(k.name for k in KINDS)

# Revoking a principal ends the credentials of these kinds it held before that
# moment ("revoke sessions", password reset): `<principal kind>:<principal>`
# revoked, matched to credentials whose refs name that principal.
PRINCIPAL_REVOCATIONS: dict[str, tuple[str, ...]] = {
    "entra_user": ("entra_session", "entra_uti"),
    "okta_user": ("okta_session",),
    "slack_user": ("slack_session",),
}

_CANONICAL = re.compile(r"^([a-z0-9_]+):(.+)$", re.DOTALL)
_AWS_KEY_ID = re.compile(r"^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,}$")
_AWS_KEY_LINE = re.compile(r"aws_access_key_id\s*[=:]\s*[\"']?([A-Z0-9]{16,})", re.IGNORECASE)
_GITHUB_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$")

# Secrets whose vendor logs carry nothing derived from them: recognised, so the responder
# hears what to trace instead, and never reduced to a guess.
_SLACK_TOKEN = re.compile(r"^(xox[a-z](?:\.xox[a-z])?-|xapp-)[A-Za-z0-9-]+$")
_OKTA_API_TOKEN = re.compile(r"^(?:SSWS\s+)?00[A-Za-z0-9_-]{40}$")
_SALESFORCE_SESSION = re.compile(r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?![A-Za-z0-9._]+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s_-]+$")

RECOGNISED_SECRETS = (
    "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
    "JWTs carrying uti / sid / jti claims (Entra, Kubernetes, others)",
    "AWS access key ids (AKIA…, ASIA…) or an AWS credentials file",
    "GCP service-account JSON keys (as downloaded, or base64)",
    "Slack xox…/xapp- tokens, Okta API tokens (SSWS 00…) and Salesforce session ids, which"
    " their vendors' logs do not name (ir says what to trace instead)",
)
# What to trace instead of a secret its vendor never logs, and why (vendor facts).
UNLOGGED = {
    "slack": (
        "a Slack token: Slack's audit logs name no token, so it cannot be traced from its"
        " secret. Trace what it acts for instead: the app install of a bot or app token"
        " (`ir credentials --kind slack_app_install`, then `ir trace"
        " slack_app_install:<app id>/<workspace id>`), or the user of a user token"
        " (`ir trace --actor <user>`); revoke it with Slack's auth.revoke"
    ),
    "okta": (
        "an Okta API token: the System Log names an API token by its id (00T…), which the"
        " secret does not contain. Find the id with GET /api/v1/api-tokens (each token's"
        " id, name and owner), or list those the case holds (`ir credentials --kind"
        " okta_api_token`), then `ir trace okta_api_token:00T…`"
    ),
    "salesforce": (
        "a Salesforce session id: Event Monitoring names a session by its SESSION_KEY and"
        " LOGIN_KEY, which the session id does not contain. List the user's sessions"
        " (`ir credentials --kind salesforce_session --principal <user>`) or trace the user"
        " (`ir trace --actor <username>`)"
    ),
}


class UnknownCredential(UsageError):
    """An id or secret that `ir` cannot name; the message never repeats a secret."""


class UnloggedSecret(UnknownCredential):
    """A secret ir recognises whose vendor logs carry no identifier derived from it; the
    message says what to trace instead, and never repeats the secret."""


def canonical(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def split_id(credential: str, kinds: Collection[str] = KIND_NAMES) -> tuple[str, str]:
    """`kind:value` -> (kind, value); a bare AWS key id is accepted as such.

    `kinds`: the kind names accepted; the sources' own kinds join ir's through
    parsers.registry.kinds()."""
    text = credential.strip()
    kind, colon, value = text.partition(":")
    if colon and not value.strip():
        # The part before the colon is shown only when it is a kind: it may be a secret.
        where = f"'{kind}:'" if kind in KIND_NAMES else "the colon"
        raise UnknownCredential(
            f"not a credential id: the value is empty (nothing after {where}); write kind:value"
            f" with kind one of {', '.join(sorted(KIND_NAMES))}"
        )
    match = _CANONICAL.match(text)
    if match and match.group(1) in kinds:
        return match.group(1), match.group(2)
    if _AWS_KEY_ID.match(text):
        return "aws_access_key", text
    known = ", ".join(sorted(kinds))
    # Never echo the value: a responder may paste a raw secret here by mistake.
    shown = f"kind '{match.group(1)}' is unknown" if match else "it has no kind: prefix"
    raise UnknownCredential(
        f"not a credential id ({shown}); write kind:value with kind one of {known}, "
        "or pass a raw token with --token-file"
    )


def normalise_id(credential: str, kinds: Collection[str] = KIND_NAMES) -> str:
    return canonical(*split_id(credential, kinds))


def fingerprint_ids(secret: str) -> list[str]:
    """The credential ids that logs carry for a raw secret, in the order to trace them."""
    text = secret.strip()
    if text.startswith(_GITHUB_PREFIXES):
        digest = hashlib.sha256(text.encode()).digest()
        return [canonical("github_token", base64.b64encode(digest).decode())]
    if _AWS_KEY_ID.match(text):
        return [canonical("aws_access_key", text)]
    aws_lines = _AWS_KEY_LINE.findall(text)
    if aws_lines:
        return [canonical("aws_access_key", key) for key in dict.fromkeys(aws_lines)]
    jwt = _JWT.match(text)
    if jwt:
        ids = _jwt_ids(jwt.group(1))
        if ids:
            return ids
    key_id = _gcp_key_id(text)
    if key_id:
        return [canonical("gcp_sa_key", key_id)]
    _refuse_unlogged(text)
    raise UnknownCredential(
        "the token is not one ir recognises (it is not shown here); recognised: "
        + "; ".join(RECOGNISED_SECRETS)
    )


def _gcp_key_id(text: str) -> str | None:
    """A GCP service-account key file's `private_key_id`: the key id that `gcloud iam
    service-accounts keys create` prints and audit logs end `serviceAccountKeyName` with.
    Read from the JSON as downloaded, or from its base64 (how CI variables hold it)."""
    document = _json_object(text)
    if document is None and _BASE64.match(text):
        try:
            document = _json_object(base64.b64decode(_padded(re.sub(r"\s", "", text))).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
    if document is None or document.get("type") != "service_account":
        return None
    key_id = document.get("private_key_id")
    return key_id if isinstance(key_id, str) and key_id else None


def _json_object(text: str) -> dict[str, object] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _padded(text: str) -> str:
    return text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)


def _refuse_unlogged(text: str) -> None:
    """UnloggedSecret for a Slack, Okta or Salesforce secret: what to trace instead."""
    for vendor, pattern in (
        ("slack", _SLACK_TOKEN),
        ("okta", _OKTA_API_TOKEN),
        ("salesforce", _SALESFORCE_SESSION),
    ):
        if pattern.match(text):
            raise UnloggedSecret(f"the token (not shown here) is {UNLOGGED[vendor]}")


def _jwt_ids(payload_b64: str) -> list[str]:
    """Map a JWT's identifying claims to kinds; read without verifying, on purpose."""
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (binascii.Error, ValueError):
        return []
    if not isinstance(claims, dict):
        return []
    ids: list[str] = []
    if isinstance(claims.get("uti"), str):
        ids.append(canonical("entra_uti", claims["uti"]))
    if isinstance(claims.get("sid"), str):
        ids.append(canonical("entra_session", claims["sid"]))
    if isinstance(claims.get("jti"), str):
        kind = "k8s_token" if "kubernetes.io" in claims else "jwt_id"
        ids.append(canonical(kind, claims["jti"]))
    return ids
