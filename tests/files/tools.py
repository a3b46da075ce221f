"""External oracles (tshark, capinfos, tcpdump): skipped where missing, required in CI."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("UDPSCOPE_REQUIRE_NETNS") == "1":  # CI installs the oracles
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def tshark_fields(path: str, *fields: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    """One row per frame, the fields as tshark prints them (tab-separated)."""
    tshark = require_tool("tshark")
    res = subprocess.run([tshark, "-r", path, "-T", "fields", "-E", "occurrence=f", *extra,
                          *(arg for f in fields for arg in ("-e", f))],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    return [line.split("\t") for line in res.stdout.splitlines()]


def capinfos(path: str) -> dict[str, str]:
    tool = require_tool("capinfos")
    res = subprocess.run([tool, "-M", "-T", path], capture_output=True, text=True,
                         timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    header, row = res.stdout.splitlines()[:2]
    return dict(zip(header.split("\t"), row.split("\t"), strict=False))
