"""The local vendor APIs as fixtures for the provider tests."""

from tests.servers.fixtures import *  # noqa: F403  (pytest fixtures)
