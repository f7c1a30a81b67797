"""The library's error hierarchy: typed errors whose message says what to fix.

Library code raises these and never prints; the CLI maps each class to its exit
status (contract §3: 1 error, 2 usage, 3 nothing found) and notebooks show the
message. A message never holds a raw secret.
"""

from __future__ import annotations


class IrError(Exception):
    """Something ir cannot do; the message names the file, record, argument or setting."""

    exit_code = 1


class UsageError(IrError, ValueError):
    """A bad argument or option: an unknown id form, a time that does not parse."""

    exit_code = 2


class MissingSetting(UsageError):
    """A provider setting (environment variable) a command needs is not set."""

    def __init__(self, provider: str, names: list[str], why: str = "") -> None:
        self.provider = provider
        self.names = names
        wanted = " or ".join(names)
        super().__init__(f"{provider}: set {wanted}{f' ({why})' if why else ''}")


class NotFound(IrError, LookupError):
    """Nothing in the case (or at the provider) matches what was asked for."""

    exit_code = 3
