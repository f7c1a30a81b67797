"""What every provider client shares: the error a provider's refusal becomes."""

from __future__ import annotations

from ir.errors import IrError


class ProviderError(IrError):
    """The provider refused a call. `transient` errors (throttling, 5xx) are worth retrying.

    The message names the call and the provider's error code and text, never a
    secret; `retry_after` is the provider's hint in seconds, when it gave one.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.http_status = http_status
        self.code = code
        self.transient = transient
        self.retry_after = retry_after
        super().__init__(f"{provider}: {message}")
