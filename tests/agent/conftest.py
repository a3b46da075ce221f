"""Fixtures for the agent and matrix tests: the repo root on sys.path (for tests.*) and the
namespace factory from tests/netns.py."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.netns import netns_factory  # noqa: E402, F401
