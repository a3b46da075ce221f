"""The app on a pseudo-terminal as users run it (PtyApp), the port it bound, fd counts.

Why a real pty: the headless Textual pilot never shows what bytes reach a terminal. Here the app
runs as the user runs it (`python -m udpscope`), and everything it writes is kept byte for byte,
so a payload that slipped through as a control sequence is visible in the capture.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path

from tests.waiting import wait_notified

ROOT = Path(__file__).resolve().parents[2]

# What Textual itself writes: SGR, cursor positioning, DEC private modes (set/reset/query) and the
# kitty keyboard protocol push/pop. Anything else starting with ESC did not come from Textual.
CSI = re.compile(rb"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]")
TEXTUAL_CSI = re.compile(
    rb"\x1b\[(?:[0-9;]*m|[0-9]+;[0-9]+H|\?[0-9]+[hl]|\?[0-9]+\$p|>[0-9]+u|<u)\Z"
)
# Textual sets the mouse pointer shape with OSC 22.
TEXTUAL_OSC = re.compile(rb"\x1b\]22;[a-z-]*\x07")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def strip_csi(data: bytes) -> bytes:
    """The terminal output without CSI sequences: text runs of one row become contiguous."""
    return CSI.sub(b"", data)


class PtyApp:
    """`python -m udpscope ARGS` on a pty of the given size; its output is read continuously."""

    def __init__(self, args: list[str], columns: int = 160, lines: int = 45,
                 limits: dict[int, int] | None = None, netns: str | None = None) -> None:
        self.args = args
        self.netns = netns  # run inside this network namespace (`ip netns exec`)
        self.limits = limits or {}  # resource.RLIMIT_* -> value, set in the child before exec
        self.columns = columns
        self.lines = lines
        self.output = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._stop = False
        self.proc: subprocess.Popen[bytes] | None = None
        self._master = -1
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.lines, self.columns, 0, 0))
        env = dict(os.environ)
        env.update(TERM="xterm-256color", COLUMNS=str(self.columns), LINES=str(self.lines))
        for name in ("TEXTUAL", "TEXTUAL_DRIVER", "NO_COLOR"):
            env.pop(name, None)
        try:
            self.proc = subprocess.Popen(
                [*(["ip", "netns", "exec", self.netns] if self.netns else []),
                 sys.executable, "-m", "udpscope", *self.args],
                stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                start_new_session=True, close_fds=True, preexec_fn=self._set_limits,
            )
        finally:
            os.close(slave)
        self._master = master
        self._thread = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._thread.start()

    def _set_limits(self) -> None:
        import resource

        for which, value in self.limits.items():
            resource.setrlimit(which, (value, value))

    def _read(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: the child closed its side
                data = b""
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self.output.extend(data)
                self._cond.notify_all()

    def snapshot(self) -> bytes:
        with self._cond:
            return bytes(self.output)

    def wait_for(self, cond: Callable[[bytes], bool], timeout: float, what: str) -> None:
        """Wait (bounded) until `cond(all output so far)` holds; woken by every read."""

        def failure() -> str:
            tail = strip_csi(bytes(self.output[-3000:]))
            return f"{what} (eof={self._eof}); last output: {tail!r}"

        wait_notified(self._cond, lambda: cond(bytes(self.output)) or self._eof, timeout,
                      what=failure)
        if not cond(bytes(self.output)):
            raise AssertionError(f"the app's output ended before {failure()}")

    def wait_text(self, text: str | bytes, timeout: float = 15.0, *, after: int = 0) -> None:
        """Wait until `text` is on screen (in the CSI-stripped output written after `after`)."""
        needle = text.encode() if isinstance(text, str) else text
        self.wait_for(lambda out: needle in strip_csi(out[after:]), timeout, repr(text))

    def bound_port(self, host: str = "127.0.0.1", timeout: float = 30.0) -> int:
        """The port the app's socket got (it was started with port 0), from its listening row."""
        shown = f"[{host}]" if ":" in host else host
        row = re.compile(rb"listening " + re.escape(shown.encode()) + rb":(\d+)(?!\d|\xe2\x80\xa6)")
        self.wait_for(lambda out: row.search(strip_csi(out)) is not None, timeout,
                      f"the listening row of {shown}")
        found = row.search(strip_csi(self.snapshot()))
        assert found is not None
        return int(found.group(1))

    def write(self, data: bytes) -> None:
        os.write(self._master, data)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        rc = self.proc.wait(timeout)
        # Let the reader drain what the child wrote before it exited.
        wait_notified(self._cond, lambda: self._eof, 5, what="the end of the app's output")
        return rc

    def close(self) -> None:
        """Stop our child (by its own pid, if still running) and the reader thread."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._stop = True
        if self._thread is not None:
            self._thread.join(5)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
