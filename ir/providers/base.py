"""One error hierarchy for every provider, HTTP or not.

The classes live in `ir.providers.http` (ProviderError → TransientError → RateLimited;
TerminalError → AuthError, Gone, Rejected). A provider that is not an httpx client
(AWS through boto3) maps its own errors onto these same classes here, so the playbook
engine and the collectors catch one family: transient = retry with backoff,
Gone = already done, AuthError = name the setting or permission, others = stop.
"""

from ir.providers.http import (
    AuthError,
    Gone,
    ProviderError,
    RateLimited,
    Rejected,
    TerminalError,
    TransientError,
)

__all__ = [
    "AuthError",
    "Gone",
    "ProviderError",
    "RateLimited",
    "Rejected",
    "TerminalError",
    "TransientError",
]
