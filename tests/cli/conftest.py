"""Fixtures for the CLI tests: the repo root on sys.path (for tests.*), the namespace fixtures."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.netns import netns, netns_factory, veth_pair  # noqa: E402, F401
from tests.snooping import lab  # noqa: E402, F401
