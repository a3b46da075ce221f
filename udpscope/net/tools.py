"""Running the system's network tools (`ip`, `nft`, `iptables-save`) for the checks: bounded in
time, never raising, with the runner passed in so tests can stand in for the tools."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

__all__ = ["TOOL_TIMEOUT", "Runner", "run_tool"]

TOOL_TIMEOUT = 5.0  # seconds a tool may take before the check goes on without it

Runner = Callable[[list[str]], tuple[int, str, str]]


def run_tool(argv: list[str]) -> tuple[int, str, str]:
    """Run `argv`; returns (exit status, stdout, stderr), 127 and the reason when it cannot run
    or takes longer than TOOL_TIMEOUT."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT,
                             check=False, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, "", str(e)
    return res.returncode, res.stdout, res.stderr
