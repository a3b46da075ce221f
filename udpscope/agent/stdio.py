"""`udpscope agent` over stdin/stdout: the agent's only door is the transport that started it.

No listening port: the coordinator reaches an agent through ssh, `kubectl exec -i` or `ip netns
exec`, and the agent lives exactly as long as that transport. End of stdin (the coordinator
left, the connection dropped), `bye`, SIGTERM, SIGINT or SIGHUP all end it the same way: jobs
stop, sockets close (which leaves every group), and the process exits 0.

The protocol owns the real stdout: at start fd 1 is pointed at stderr, so a stray print or a
library warning can never corrupt a protocol line. stdin is read by a thread with plain
`os.read` (no buffered reader whose lock could hang interpreter shutdown), in bounded lines,
handed to the loop through a bounded queue (a peer that floods waits; memory does not grow).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from udpscope.agent import protocol as p
from udpscope.agent.agent import Agent

_QUEUE = 64


class _TooLong(bytes):
    """Marks a line that was cut at the length limit (its text is the first part)."""


def read_lines(fd: int, put: Callable[[bytes | None], None],
               limit: int = p.MAX_LINE_BYTES) -> None:
    """Split what arrives on `fd` into lines of at most `limit` bytes and `put` each; a longer
    line is put once as `_TooLong` and the rest of it skipped. None at the end (EOF)."""
    pending = b""
    skipping = False
    while True:
        try:
            chunk = os.read(fd, 65536)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            if pending and not skipping:
                put(pending)
            put(None)
            return
        pending += chunk
        while True:
            nl = pending.find(b"\n")
            if nl < 0:
                if len(pending) > limit:
                    if not skipping:
                        put(_TooLong(pending[:limit]))
                    skipping = True
                    pending = b""
                break
            line, pending = pending[:nl], pending[nl + 1:]
            if skipping:
                skipping = False
                continue
            if len(line) > limit:
                put(_TooLong(line[:limit]))
                continue
            put(line)


class LineWriter:
    """Protocol lines to the coordinator; notices when it is gone."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.broken = False

    def __call__(self, message: dict[str, Any]) -> None:
        if self.broken:
            return
        try:
            self.stream.write(p.encode(message))
            self.stream.flush()
        except (OSError, ValueError):
            self.broken = True


async def serve(agent: Agent, fd: int, writer: LineWriter) -> int:
    """Run `agent` on lines from `fd` until EOF, bye, a signal, or a vanished coordinator."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUE)
    stop = asyncio.Event()

    def put(line: bytes | None) -> None:
        # Blocks the reader thread while the queue is full; gives up if the loop is gone.
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(queue.put(line), loop).result()

    threading.Thread(target=read_lines, args=(fd, put), name="agent-stdin", daemon=True).start()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    writer(agent.hello())
    stopper = loop.create_task(stop.wait())
    try:
        while not (agent.bye_requested or writer.broken or stop.is_set()):
            getter = loop.create_task(queue.get())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            line = getter.result()
            if line is None:
                break
            if isinstance(line, _TooLong):
                writer(p.error_reply(p.ProtocolError(
                    "bad-line", f"line longer than {p.MAX_LINE_BYTES} bytes (skipped)")))
                continue
            await agent.handle_line(line)
    finally:
        stopper.cancel()
        agent.close()
        for sig in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    return 0


def main() -> int:
    """`udpscope agent`: serve the protocol on stdin/stdout; the exit status (0)."""
    from udpscope import dgram

    out_fd = os.dup(1)
    with contextlib.suppress(OSError):
        os.dup2(2, 1)   # stray prints go to stderr; the protocol keeps the real stdout
    stream = os.fdopen(out_fd, "wb")
    writer = LineWriter(stream)
    agent = Agent(writer)
    try:
        return int(dgram.run(serve(agent, 0, writer)) or 0)
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.close()
