"""`listen --write` and `listen --respond`: the capture file and the responder beside the output.

Kept apart from listen.py so the output loop stays readable. The capture file is fed from the
`message` listener (exactly the datagrams `listen` reports, no more after `--count`; replies
as they are handed to the kernel) and flushed once per received batch (a `call_soon` after the engine's drain step), so a kill after any batch
loses nothing already reported; closing flushes the rest. A write failure (disk full) is an
error that ends `listen` with exit status 1, never a silent gap in the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import time
from collections.abc import Callable
from typing import Any

from udpscope.addresses import is_multicast
from udpscope.files.pcapng_writer import PcapngWriter
from udpscope.respond import Responder, RuleError, parse_rule
from udpscope.textsafe import safe_text

__all__ = ["ListenExtras", "open_capture_writer", "rule_arg"]


def rule_arg(text: str) -> Any:
    """argparse type for --respond: the parsed rule, or the reason it is wrong."""
    try:
        return parse_rule(text)
    except RuleError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def open_capture_writer(path: str, parser: argparse.ArgumentParser) -> PcapngWriter:
    """Create the --write file (a regular file, truncated) or exit 2 naming --write."""
    shown = safe_text(path, limit=200)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        parser.error(f"argument --write: cannot create {shown}: {e.strerror or e}")
    except ValueError as e:
        parser.error(f"argument --write: cannot create {shown}: {safe_text(str(e))}")
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            parser.error(f"argument --write: {shown} is not a regular file (a pcapng file "
                         "is written as it goes; give a file name)")
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        stream = os.fdopen(fd, "wb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
    writer = PcapngWriter(stream)
    try:
        writer.flush()
    except OSError as e:
        stream.close()
        parser.error(f"argument --write: cannot write {shown}: {e.strerror or e}")
    return writer


class ListenExtras:
    """The capture file and the responder of one `listen` run."""

    def __init__(self, writer: PcapngWriter | None, responder: Responder | None,
                 path: str | None, fail: Callable[[BaseException], None],
                 stop: Callable[[], None],
                 show_sent: Callable[[bytes, str, str, int, float], bool]) -> None:
        self.writer = writer
        self.responder = responder
        self.path = path
        self._fail = fail
        self._stop = stop
        self._show_sent = show_sent
        self._flush_scheduled = False
        self._local: tuple[str, int] = ("0.0.0.0", 0)
        self._loop = asyncio.get_running_loop()

    def listening(self, sock: Any) -> None:
        info = sock.address()
        self._local = (info.address, info.port)

    def received(self, sock: Any, msg: bytes, rinfo: Any, now: float) -> None:
        """A datagram `listen` just reported: into the file; answered if a rule matches."""
        if self.writer is not None:
            self.writer.add_received(msg, rinfo, self._local, now)
            self._schedule_flush()
        if self.responder is not None:
            reply = self.responder.reply_for(msg)
            if reply is not None:
                self._reply(sock, reply, rinfo)

    def _reply(self, sock: Any, reply: bytes, rinfo: Any) -> None:
        responder = self.responder
        assert responder is not None
        address, port, family, interface = rinfo.address, rinfo.port, rinfo.family, rinfo.interface
        source = self._local[0]
        if source in ("0.0.0.0", "::") and rinfo.destination and not is_multicast(rinfo.destination):
            source = rinfo.destination  # the kernel answers from the address that was asked

        def done(err: BaseException | None, nbytes: int | None = None) -> None:
            if err is not None:
                responder.reply_errors += 1
                responder.last_error = err
                return
            responder.replies += 1
            if not self._show_sent(reply, address, family, port, time.time()):
                self._stop()

        try:
            sock.send(reply, port, address, done)
        except Exception as err:  # closed under us
            done(err)
            return
        if self.writer is not None:
            # Written when handed to the kernel, not when its callback comes back (a loop turn
            # or two later, after datagrams that arrived meanwhile): the file keeps the order.
            self.writer.add(reply, source, self._local[1], address, port, time.time(), interface,
                            sent=True)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if self.writer is None or self.writer.closed:
            return
        try:
            self.writer.flush()
        except OSError as e:
            self._write_failed(e)

    def _write_failed(self, e: OSError) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.closed = True
        self._fail(OSError(e.errno, f"cannot write {safe_text(self.path or '', limit=200)}: "
                                    f"{e.strerror or e}"))
        self._stop()

    def close(self) -> dict[str, int]:
        """Flush and close the file; the keys the close event gains (replies, replies_dropped)."""
        if self.writer is not None:
            try:
                self.writer.close()
            except OSError as e:
                self._write_failed(e)
        if self.responder is None:
            return {}
        return {"replies": self.responder.replies,
                "replies_dropped": self.responder.replies_dropped}
