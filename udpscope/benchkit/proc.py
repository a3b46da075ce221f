"""Child processes for measurements: pinned, in their own session, always reaped.

Why this shape: a flood that outlives the bench is the worst failure a benchmark can have, and a
hung peer must not hang the command. So every child is started in its own session (a Ctrl-C in the
terminal reaches only the bench, which then kills its children by pid), dies with its parent
(PR_SET_PDEATHSIG on Linux), is registered for the `finally` that kills it, and every wait on it is
bounded. The orchestrator itself runs no threads, which keeps `preexec_fn` (used to pin the child
before it execs, so all its threads inherit the CPU) safe.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1


class PeerError(RuntimeError):
    """A child failed, timed out or printed something other than its protocol."""


def pinning_cpus() -> tuple[int, int] | None:
    """Two distinct CPUs this process may run on (receiver, sender), or None."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is None:
        return None
    try:
        cpus = sorted(getter(0))
    except OSError:
        return None
    if len(cpus) < 2:
        return None
    return cpus[0], cpus[1]


def child_setup(cpu: int | None) -> Callable[[], None]:
    """A `preexec_fn`: die with the parent (Linux) and run on `cpu` (when given)."""

    def setup() -> None:
        if sys.platform.startswith("linux"):
            with contextlib.suppress(Exception):
                libc = ctypes.CDLL(None, use_errno=True)
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {cpu})

    return setup


class Child:
    """One child process: line-wise stdout with timeouts, stderr kept in a temp file."""

    def __init__(self, argv: Sequence[str], name: str, cpu: int | None,
                 env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.name = name
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in kill()
        self._buf = b""
        try:
            self.proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err,
                env=env, cwd=cwd, start_new_session=True, close_fds=True,
                preexec_fn=child_setup(cpu),
            )
        except OSError as exc:
            self._err.close()
            raise PeerError(f"{name}: cannot start {argv[0]}: {exc.strerror or exc}") from None
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self, limit: int = 600) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._err.seek(0)
            text = self._err.read().decode("utf-8", "replace").strip()
            return text[-limit:]
        return ""

    def readline(self, timeout: float) -> str:
        """The next stdout line; PeerError on timeout or end of output."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerError(f"{self.name}: no answer within {timeout:.1f} s"
                                + self._why())
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._fd, 65536)
            if not chunk:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(1.0)
                raise PeerError(f"{self.name}: exited (status {self.proc.returncode}) "
                                "before answering" + self._why())
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8", "replace").strip()

    def _why(self) -> str:
        tail = self.stderr_tail()
        return f": {tail}" if tail else ""

    def read_json(self, timeout: float) -> dict[str, Any]:
        """The child's result line (a JSON object); other lines before it are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except ValueError:
                    raise PeerError(f"{self.name}: bad result line {line[:200]!r}") from None
                if not isinstance(value, dict):
                    raise PeerError(f"{self.name}: bad result line {line[:200]!r}")
                return value

    def ready(self, timeout: float) -> list[str]:
        """Wait for `READY ...`; returns its fields after the word."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if line.startswith("READY"):
                return line.split()[1:]

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(f"{self.name}: did not exit within {timeout:.1f} s") from None

    def kill(self) -> None:
        """Kill this child by its own pid (never by name) and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        with contextlib.suppress(OSError):
            self._err.close()


class Children:
    """Every child started for one measurement; `with` kills whatever is left."""

    def __init__(self) -> None:
        self.items: list[Child] = []

    def start(self, argv: Sequence[str], name: str, cpu: int | None,
              env: dict[str, str] | None = None) -> Child:
        child = Child(argv, name, cpu, env=env)
        self.items.append(child)
        return child

    def kill_all(self) -> None:
        for child in reversed(self.items):
            child.kill()
        self.items.clear()

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_all()


def python_argv(module: str, *args: object) -> list[str]:
    """`python -m MODULE ARGS` with this interpreter (MODULE in full, e.g. `udpscope.benchkit.sink`)."""
    return [sys.executable, "-m", module, *map(str, args)]


def child_env(extra: dict[str, str] | None = None,
              pythonpath: Sequence[str] = ()) -> dict[str, str]:
    """This environment for a child, with `pythonpath` entries put first on PYTHONPATH.

    The workers of this package need nothing added (the child runs this interpreter, which
    imports udpscope as the parent does); the developer harness adds its checkout.
    """
    env = dict(os.environ)
    if pythonpath:
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = os.pathsep.join([*pythonpath, *([path] if path else [])])
    env.pop("PYTHONSTARTUP", None)
    if extra:
        env.update(extra)
    return env
