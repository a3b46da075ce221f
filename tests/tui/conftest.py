"""Fixtures for the TUI tests: a deterministic app (frozen clocks, UTC, shipped themes only).

Snapshots must not depend on the wall clock, the machine's time zone, the user's theme
directory or ephemeral ports; everything that would leak into the picture is pinned here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.netns import looped_ns, netns, netns_factory, veth_pair  # noqa: E402, F401
