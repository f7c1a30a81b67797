"""AWS: boto3 clients from the standard settings, one call loop, AWS errors as the shared family.

Shared by the playbook connector and the CloudTrail collector. The endpoint
comes from `AWS_ENDPOINT_URL` (tests point it at a moto server), credentials
from the standard boto3 chain (contract §6). botocore's own retries are off so
that AWS is retried like every other provider: `call` retries throttling and
AWS's own trouble with the HTTP base's schedule (`Retry`), and raises the
typed errors of `ir.providers.base` (AuthError names the IAM permission the
credentials lack; Gone is NoSuchEntity and its kin; Rejected is any other
refusal, LimitExceeded included).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
)

from ir.errors import MissingSetting
from ir.providers.base import (
    AuthError,
    Gone,
    ProviderError,
    RateLimited,
    Rejected,
    TransientError,
)
from ir.providers.http import Retry, Sleep

if TYPE_CHECKING:
    from botocore.client import BaseClient

PROVIDER = "aws"
DEFAULT_REGION = "us-east-1"
CREDENTIAL_SETTINGS = ["AWS_PROFILE", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"]
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
SERVER_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServiceError",
        "InternalServiceErrorException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthFailure",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
    }
)
GONE_CODES = frozenset({"NoSuchEntity", "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket"})
# Retry schedule and sleep of `call`; tests replace them so they do not wait.
RETRY = Retry()
SLEEP: Sleep = time.sleep
_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10, read_timeout=30
)


def region() -> str:
    """The region for regional services (Secrets Manager, STS): the standard settings, else us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def client(service: str) -> BaseClient:
    """A boto3 client of `service` on the standard chain, at `AWS_ENDPOINT_URL` when set."""
    return boto3.session.Session().client(
        service,
        region_name=region(),
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        config=_CONFIG,
    )


def check_credentials() -> None:
    """Raise MissingSetting when the boto3 chain finds no credentials at all."""
    if boto3.session.Session().get_credentials() is None:
        raise MissingSetting(PROVIDER, CREDENTIAL_SETTINGS, "the boto3 credential chain found none")


def call(
    boto: BaseClient,
    api: str,
    params: Mapping[str, Any],
    permission: str | None = None,
    sleep: Sleep | None = None,
) -> dict[str, Any]:
    """`api` (`iam:UpdateAccessKey`) with `params`, transient failures retried with backoff.
    `permission`: the IAM action an AccessDenied names, where it is not the API's own name
    (ListObjectsV2 is authorised by `s3:ListBucket`); `sleep` waits between attempts
    (default SLEEP; collectors pass one that tells the responder)."""
    method = getattr(boto, xform_name(api.split(":", 1)[1]))
    attempt = 0
    while True:
        try:
            return dict(method(**params))
        except (ClientError, BotoCoreError) as error:
            failure = provider_error(error, api, permission)
        attempt += 1
        if not isinstance(failure, TransientError) or attempt >= RETRY.attempts:
            if attempt > 1:
                failure.args = (f"{failure.args[0]} (after {attempt} attempts)",)
            raise failure
        wait = failure.wait if isinstance(failure, RateLimited) else None
        (sleep or SLEEP)(RETRY.backoff(attempt - 1) if wait is None else wait)


def provider_error(
    error: BotoCoreError | ClientError, api: str, permission: str | None = None
) -> ProviderError:
    """An AWS failure as the shared error family, naming the call and AWS's code and message.
    AWS error messages name resources and principals, never secrets; botocore's parameter
    errors quote values, so theirs are not shown."""
    if isinstance(error, NoCredentialsError):
        return AuthError(
            PROVIDER, f"{api}: no credentials (set {' or '.join(CREDENTIAL_SETTINGS)})"
        )
    if isinstance(error, ParamValidationError):
        return Rejected(PROVIDER, f"{api}: invalid parameters (values not shown)")
    if not isinstance(error, ClientError):
        return TransientError(PROVIDER, f"{api} failed: {type(error).__name__}")
    code = str(error.response.get("Error", {}).get("Code", ""))
    message = str(error.response.get("Error", {}).get("Message", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code.isdigit() or not code:  # botocore could not parse the body: the status is all
        code, message = f"HTTP {status}", "(error body not parsed)"
    text = f"{api} failed: {code}: {message}"
    kind = _kind(code, status if isinstance(status, int) else 0)
    if kind is AuthError:
        text += f". The credentials used need the {permission or api} permission"
    return kind(PROVIDER, text, status=status, code=code)


def _kind(code: str, status: int) -> type[ProviderError]:
    if code in THROTTLING_CODES or status == 429:
        return RateLimited
    if code in SERVER_CODES or status >= 500:
        return TransientError
    if code in AUTH_CODES or status in (401, 403):
        return AuthError
    if code in GONE_CODES or status == 404:
        return Gone
    return Rejected
