"""Playbook connectors: one module per provider, all speaking `base.Connector`.

The registry is data: provider name (as in a plan step's `provider`) -> the
module implementing it, imported only when a plan or run needs it (so an Okta
run never pays for boto3). Adding a provider is one module and one line here.
"""

from __future__ import annotations

import importlib
from typing import cast

from ir.errors import UsageError
from ir.playbooks.connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "aws": "ir.playbooks.connectors.aws",
    "github": "ir.playbooks.connectors.github",
    "okta": "ir.playbooks.connectors.okta",
    "entra": "ir.playbooks.connectors.entra",
    "google": "ir.playbooks.connectors.google",
    "slack": "ir.playbooks.connectors.slack",
    "salesforce": "ir.playbooks.connectors.salesforce",
}


def connector(provider: str) -> Connector:
    """The connector module of `provider`; an unknown name is a usage error listing the known."""
    module = CONNECTORS.get(provider)
    if module is None:
        raise UsageError(
            f"provider {provider!r} has no connector; known: {', '.join(sorted(CONNECTORS))}"
        )
    return cast(Connector, importlib.import_module(module))
