"""Request and reply over one agent link: the coordinator's side of the protocol.

One reader task per agent turns its lines into replies (matched by id), events, and — at end
of stream — one clear reason why the agent is gone, built from its exit status and the last
line it wrote to stderr (what ssh, kubectl or `ip netns exec` said). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any, Protocol

from udpscope.agent import protocol as p
from udpscope.agent.transport import LinkError

BANNER_LINES = 50        # lines before the hello that are not protocol (a login banner) skipped
BAD_LINES = 100          # non-protocol lines after the hello before the agent is given up


class Link(Protocol):
    """What the client needs from a transport (ProcessLink is the real one)."""

    async def start(self) -> None: ...
    async def read_line(self) -> bytes | None: ...
    async def write_line(self, data: bytes) -> None: ...
    async def wait(self, timeout: float) -> int | None: ...
    async def close(self, grace: float) -> int | None: ...
    def last_error(self) -> str | None: ...


class AgentError(Exception):
    """The agent answered with an error object, or broke the protocol; message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AgentGone(Exception):
    """The agent's stream ended (it exited, or its transport failed); the message says why."""


class AgentClient:
    """The coordinator's handle on one agent."""

    def __init__(self, link: Link, on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.link = link
        self.on_event = on_event
        self.hello: dict[str, Any] | None = None
        self.gone: str | None = None          # why the agent is gone, once it is
        self.bytes_read = 0
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, timeout: float) -> dict[str, Any]:
        """Wait for the agent's hello (bounded) and check its protocol version.

        Raises AgentGone (it exited first: the reason), AgentError("version-mismatch"), or
        TimeoutError."""
        hello = await asyncio.wait_for(self._read_hello(), timeout)
        version = hello.get("protocol")
        if version != p.PROTOCOL_VERSION:
            raise AgentError("version-mismatch",
                             f"the agent (udpscope {_short(hello.get('udpscope'))}) speaks protocol "
                             f"{_short(version)}, this udpscope speaks {p.PROTOCOL_VERSION}: run "
                             "the same udpscope version on both sides")
        self.hello = hello
        self._reader = asyncio.get_running_loop().create_task(self._read_replies())
        return hello

    async def _read_hello(self) -> dict[str, Any]:
        for _ in range(BANNER_LINES):
            line = await self._read()
            if line is None:
                raise AgentGone(await self._why_gone("the agent did not start"))
            message = _decode(line)
            if message is not None and message.get("type") == "hello":
                return message
        raise AgentError("bad-hello", f"no hello among the first {BANNER_LINES} lines: is the "
                         "command after the host really `udpscope agent`?")

    async def _read(self) -> bytes | None:
        try:
            line = await self.link.read_line()
        except LinkError as e:
            self.gone = str(e)
            return None
        if line is not None:
            self.bytes_read += len(line) + 1
        return line

    async def _why_gone(self, what: str) -> str:
        status = await self.link.wait(1.0)
        said = self.link.last_error()
        parts = [what]
        if status is not None:
            parts.append(f"(exit status {status})")
        reason = " ".join(parts)
        if self.gone:
            reason += f": {self.gone}"
        elif said:
            reason += f": {said}"
        return reason

    async def _read_replies(self) -> None:
        bad = 0
        try:
            while True:
                line = await self._read()
                if line is None:
                    break
                message = _decode(line)
                if message is None:
                    bad += 1
                    if bad > BAD_LINES:
                        self.gone = f"more than {BAD_LINES} lines that are not protocol"
                        break
                    continue
                kind = message.get("type")
                if kind in ("ok", "error"):
                    cid = message.get("id")
                    future = self._waiting.pop(cid, None) if isinstance(cid, int) else None
                    if future is not None and not future.done():
                        future.set_result(message)
                elif kind == "event" and self.on_event is not None:
                    with contextlib.suppress(Exception):
                        self.on_event(message)
        finally:
            reason = await self._why_gone("the agent exited")
            self.gone = reason
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(AgentGone(reason))
            self._waiting.clear()

    async def request(self, cmd: str, timeout: float = 5.0, **args: Any) -> dict[str, Any]:
        """Send one command and wait (at most `timeout`) for its reply's fields.

        Raises AgentError (an error reply: its code and message), AgentGone, TimeoutError."""
        if self.gone is not None:
            raise AgentGone(self.gone)
        cid = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[cid] = future
        try:
            await self.link.write_line(p.encode({"id": cid, "cmd": cmd, **args}))
            reply = await asyncio.wait_for(future, timeout)
        except LinkError as e:
            raise AgentGone(str(e)) from None
        finally:
            self._waiting.pop(cid, None)
        if reply.get("type") == "error":
            raise AgentError(str(reply.get("code")), str(reply.get("message")))
        return reply

    async def close(self, grace: float) -> int | None:
        """Say bye if it still listens, then end the process (bounded by `grace`)."""
        if self.gone is None and self.hello is not None:
            with contextlib.suppress(AgentError, AgentGone, TimeoutError):
                await self.request("bye", timeout=min(1.0, grace * 0.4))
        status = await self.link.close(grace * 0.6)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        return status


def _decode(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _short(value: object) -> str:
    return str(value)[:40]
