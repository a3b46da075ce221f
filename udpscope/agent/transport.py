"""Starting an agent through a command template, as a child process speaking on its pipes.

Why templates and no shell: people reach hosts through what they already trust (`ssh -T
{host} udpscope agent`, `kubectl exec -i {host} -- udpscope agent`, `ip netns exec {host} ...`).
The template is split once like a shell would (shlex) and `{host}` is replaced inside each word,
so a host name is always one argument and never shell syntax; a name that an ssh-like program
could take for an option (`-oProxyCommand=...`) is refused up front.

Each child runs in its own session, so a Ctrl-C in the terminal reaches the coordinator only,
which then stops every agent in order (bye, close stdin, SIGTERM, SIGKILL, each bounded). Its
stderr is kept (the last lines, bounded) to say why a host could not be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
from collections import deque
from dataclasses import dataclass

from udpscope.agent.protocol import REPLY_LINE_LIMIT

DEFAULT_TEMPLATE = "ssh -T -o BatchMode=yes {host} udpscope agent"
PLACEHOLDER = "{host}"
STDERR_LINES = 20
_HOST_OK = re.compile(r"[A-Za-z0-9_.:@%/+=\[\]-]+")
MAX_HOST_LEN = 253


class TemplateError(ValueError):
    """A template or host name that cannot start an agent; the message names the problem."""


def parse_template(template: str) -> tuple[str, ...]:
    """The template's words; TemplateError if it cannot be split or names no `{host}`."""
    try:
        words = tuple(shlex.split(template))
    except ValueError as e:
        raise TemplateError(f"cannot split {template!r} into words: {e}") from None
    if not words:
        raise TemplateError("the template is empty")
    if not any(PLACEHOLDER in w for w in words):
        raise TemplateError(f"the template has no {PLACEHOLDER} (where the host name goes)")
    return words


def check_host(name: str) -> str:
    """A host name as given (user@host, a namespace, a pod name...); TemplateError if unsafe."""
    if not name:
        raise TemplateError("empty host name")
    if len(name) > MAX_HOST_LEN:
        raise TemplateError(f"host name longer than {MAX_HOST_LEN} characters")
    if name.startswith("-"):
        raise TemplateError(f"host {name[:40]!r} starts with '-' (it would read as an option)")
    if not _HOST_OK.fullmatch(name):
        raise TemplateError(f"host {name[:40]!r} has a character that is not allowed in a host "
                            "name (letters, digits and . _ - : @ % / + = [ ] are)")
    return name


def command_for(words: tuple[str, ...], host: str) -> tuple[str, ...]:
    """The argv that starts the agent for `host` (one argument per template word)."""
    return tuple(w.replace(PLACEHOLDER, host) for w in words)


@dataclass(frozen=True)
class HostSpec:
    """A host to reach: its name (as shown) and the argv that starts its agent."""

    name: str
    argv: tuple[str, ...]

    @classmethod
    def from_template(cls, name: str, template: str = DEFAULT_TEMPLATE) -> HostSpec:
        """Raises TemplateError for a bad template or host name."""
        return cls(check_host(name), command_for(parse_template(template), name))


class LinkError(Exception):
    """The agent's transport failed (could not start, broke a line limit); message for people."""


class ProcessLink:
    """One agent child process: protocol lines on stdin/stdout, stderr tail kept for errors."""

    def __init__(self, argv: tuple[str, ...], line_limit: int = REPLY_LINE_LIMIT) -> None:
        self.argv = argv
        self.line_limit = line_limit
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_LINES)
        self._stderr_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the child; LinkError if the program cannot be run at all."""
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=self.line_limit)
        except OSError as e:
            raise LinkError(f"cannot run {self.argv[0]!r}: {e.strerror or e}") from None
        self._stderr_task = asyncio.get_running_loop().create_task(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        stream = self.proc.stderr
        while True:
            try:
                raw = await stream.readline()
            except ValueError:          # an endless line: keep its start
                raw = await stream.read(4096)
            except (OSError, asyncio.LimitOverrunError):
                return
            if not raw:
                return
            text = raw.decode("utf-8", "replace").strip()
            if text:
                self.stderr_tail.append(text[:500])

    async def read_line(self) -> bytes | None:
        """The next line from the agent (without the newline), None at end of stream."""
        assert self.proc is not None and self.proc.stdout is not None
        try:
            raw = await self.proc.stdout.readline()
        except (ValueError, asyncio.LimitOverrunError):
            raise LinkError(f"the agent sent a line longer than {self.line_limit} bytes") from None
        except OSError:
            return None
        if not raw:
            return None
        return raw.rstrip(b"\r\n")

    async def write_line(self, data: bytes) -> None:
        """Send one line (with its newline); LinkError when the agent's stdin is gone."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
        except (OSError, RuntimeError) as e:
            raise LinkError(f"the agent's input is closed ({e})") from None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    async def wait(self, timeout: float) -> int | None:
        """The exit status once the child has exited, None if it is still running at `timeout`."""
        if self.proc is None:
            return None
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.proc.wait(), timeout)
        return None

    def last_error(self) -> str | None:
        """The last thing the child wrote to stderr (why ssh or the namespace failed)."""
        return self.stderr_tail[-1] if self.stderr_tail else None

    async def close(self, grace: float) -> int | None:
        """Close stdin (the agent exits by itself), then SIGTERM, then SIGKILL; each step waits
        at most a share of `grace`. Returns the exit status (None if it could not be reaped)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        status = await self.wait(grace * 0.5)
        for signal_it in (proc.terminate, proc.kill):
            if status is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                signal_it()
            status = await self.wait(grace * 0.25)
        if self._stderr_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._stderr_task, 0.2)
        return status
