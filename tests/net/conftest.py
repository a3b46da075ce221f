"""Fixtures for the net tests: the namespace topologies from tests/netns.py.

The repo root goes on sys.path so `tests.netns` imports however pytest was started.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.netns import looped_ns, netns, netns_factory, veth_pair  # noqa: E402, F401
from tests.snooping import lab  # noqa: E402, F401
