"""External oracles (tshark, capinfos, tcpdump): skipped where missing, required in CI; and a
capturer (tcpdump or tshark) run inside a test's namespace."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time

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


class Capturer:
    """tcpdump or tshark running in a namespace until stopped; started when it says so."""

    def __init__(self, ns: str, argv: list[str], ready: str) -> None:
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if ready in line:
                time.sleep(0.3)  # the ring is armed a moment after the message
                return
        self.stop()
        pytest.fail(f"{argv[0]} did not start: {''.join(seen)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
