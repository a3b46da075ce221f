"""Running `python -m udpscope ...` as a real subprocess: bounded, through pipes, without
PYTHONUNBUFFERED (so a missing flush shows up as a line that never arrives)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "udpscope"]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def netns_prefix(ns: str | None) -> list[str]:
    return ["ip", "netns", "exec", ns] if ns else []


def run_cli(*args: str | bytes, input: bytes | None = None, timeout: float = 30,
            ns: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*netns_prefix(ns), *CLI, *args], input=input, capture_output=True,
                          timeout=timeout, env=cli_env(), cwd=REPO, check=False)


class Proc:
    """A running CLI process whose stdout lines are collected by a thread as they arrive."""

    def __init__(self, args: Sequence[str], *, ns: str | None = None, cmd: Sequence[str] | None = None,
                 reader: bool = True) -> None:
        self.popen = subprocess.Popen([*netns_prefix(ns), *(cmd or CLI), *args],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=cli_env(), cwd=REPO)
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.seen: list[bytes] = []
        self._stderr = b""
        self._err_thread = threading.Thread(target=self._read_err, daemon=True)
        self._err_thread.start()
        if reader:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            self.lines.put(raw)
        self.lines.put(None)

    def _read_err(self) -> None:
        assert self.popen.stderr is not None
        self._stderr = self.popen.stderr.read()

    def raw_line(self, timeout: float = 10) -> bytes:
        """The next stdout line (with its newline); fails if none arrives in time."""
        try:
            raw = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s; stderr so far: {self._stderr!r}") from None
        if raw is None:
            self.lines.put(None)
            raise AssertionError(f"stdout closed (exit {self.popen.poll()}); stderr: {self.stderr()!r}")
        self.seen.append(raw)
        return raw

    def line(self, timeout: float = 10) -> str:
        return self.raw_line(timeout).decode("utf-8").rstrip("\n")

    def json(self, timeout: float = 10) -> dict:
        return json.loads(self.line(timeout))

    def rest(self, timeout: float = 10) -> list[str]:
        """All remaining stdout lines up to EOF."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"stdout still open after {timeout} s; lines so far: {out!r}"
                                     f"; stderr: {self._stderr!r}") from None
            if raw is None:
                self.lines.put(None)
                return out
            self.seen.append(raw)
            out.append(raw.decode("utf-8").rstrip("\n"))

    def wait(self, timeout: float = 10) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"process still running after {timeout} s") from None

    def stderr(self, timeout: float = 5) -> str:
        self._err_thread.join(timeout)
        return self._stderr.decode("utf-8", "replace")

    def signal(self, sig: int = signal.SIGINT) -> None:
        self.popen.send_signal(sig)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


_LISTENING_TEXT = re.compile(r"^listening on (?:\[(?P<v6>[^\]]+)\]|(?P<v4>[^:]+)):(?P<port>\d+) \((?P<family>IPv[46])\)$")


def listening_port(line: str) -> int:
    """The port from a `listening` line, text or jsonl."""
    if line.startswith("{"):
        obj = json.loads(line)
        assert obj["event"] == "listening", line
        return obj["port"]
    m = _LISTENING_TEXT.match(line)
    assert m, f"not a listening line: {line!r}"
    return int(m.group("port"))
