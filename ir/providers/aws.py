"""AWS: boto3 clients from the standard settings, and AWS errors as ProviderError.

Shared by the playbook connector and the CloudTrail collector. The endpoint
comes from `AWS_ENDPOINT_URL` (tests point it at a moto server), credentials
from the standard boto3 chain (contract §6). botocore's own retries are off:
throttling surfaces as a transient ProviderError and the caller's loop backs
off, the same way for every provider.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
)

from ir.errors import MissingSetting
from ir.providers.base import ProviderError

if TYPE_CHECKING:
    from botocore.client import BaseClient

PROVIDER = "aws"
DEFAULT_REGION = "us-east-1"
# AWS error codes worth retrying: throttling and the service's own trouble.
# Everything else (AccessDenied, NoSuchEntity, LimitExceeded, ...) is terminal.
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServiceError",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# What an error is when its body did not parse (botocore then gives the status as its code).
_STATUS_CODES = {400: "BadRequest", 403: "AccessDenied", 404: "NotFound", 429: "Throttling"}
CREDENTIAL_SETTINGS = ["AWS_PROFILE", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"]
_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10, read_timeout=30
)


def region() -> str:
    """The region for regional services (Secrets Manager, STS): the standard settings, else us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def client(service: str) -> BaseClient:
    """A boto3 client of `service` on the standard chain, at `AWS_ENDPOINT_URL` when set."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=region(),
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        config=_CONFIG,
    )


def check_credentials() -> None:
    """Raise MissingSetting when the boto3 chain finds no credentials at all."""
    if boto3.session.Session().get_credentials() is None:
        raise MissingSetting(PROVIDER, CREDENTIAL_SETTINGS, "the boto3 credential chain found none")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def provider_error(error: BotoCoreError | ClientError, call: str) -> ProviderError:
    """An AWS failure as a ProviderError naming the call, AWS's code and message, and
    whether it is transient. AWS error messages name resources, never secrets."""
    if isinstance(error, NoCredentialsError):
        return ProviderError(
            PROVIDER, f"{call}: no credentials (set {' or '.join(CREDENTIAL_SETTINGS)})"
        )
    if isinstance(error, ParamValidationError):
        # botocore's text quotes the values, which may include a secret.
        return ProviderError(PROVIDER, f"{call}: invalid parameters (values not shown)")
    if not isinstance(error, ClientError):
        # Connection trouble: the endpoint did not answer; retrying may help.
        return ProviderError(PROVIDER, f"{call}: {error}", transient=True)
    code = error_code(error)
    meta: dict[str, Any] = error.response.get("ResponseMetadata", {})
    message = error.response.get("Error", {}).get("Message", "")
    status = meta.get("HTTPStatusCode")
    if code.isdigit():  # botocore could not parse the body: the HTTP status is all we know
        code, message = _STATUS_CODES.get(int(code), f"HTTP{code}"), "(unparsed error body)"
    return ProviderError(
        PROVIDER,
        f"{call} failed: {code}: {message}".rstrip(": "),
        http_status=status,
        code=code,
        transient=code in TRANSIENT_CODES or (isinstance(status, int) and status >= 500),
    )
