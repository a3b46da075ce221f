"""Namespace fixtures for the acceptance tests (shared with the rest of the suite)."""

from tests.netns import netns_factory  # noqa: F401
