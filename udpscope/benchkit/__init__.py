"""The machinery behind `udpscope bench`: workers, peers and the process plumbing that runs them.

Why a package of its own: a benchmark that users run on their machines must need nothing but the
wheel (no compiler, no Node), must never leave a flood running, and must keep each measured
process apart (fresh interpreter, pinned CPU) so the numbers mean something. Every peer here is
bounded in time and count and refuses any destination but 127.0.0.1 / ::1.

Only `udpscope.cli.bench` imports this package (an import contract checks it). The side-by-side
comparison with Node and C and the TUI under a flood are a developer harness in the source
checkout (`bench/`), built on the scenario interface in `scenario.py`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

LOOPBACK = ("127.0.0.1", "::1")


def finish(name: str, measure: Callable[[], dict[str, Any]]) -> int:
    """Run a worker's measurement and print its JSON result line; returns the exit status.

    Any failure becomes one stderr line, which the bench reports as this run's error.
    """
    try:
        result = measure()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0
