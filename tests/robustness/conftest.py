"""Robustness tests (issue 5): the real app on a pseudo-terminal, lifecycle properties, soaks.

Only loopback is used. The soak tests carry the `soak` marker (excluded by default; run them with
`-m soak`, duration from UDPSCOPE_SOAK_SECONDS).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
