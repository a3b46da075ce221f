"""`listen`'s stream health and decoding: feeds udpscope.health a batch at a time, decodes
datagrams for --decode, and reports every followed stream at close.

The health book is fed from the engine's `batch` event (one call per received batch, the
kernel's drop counter read once per batch), never per datagram. numpy and the decoders are
imported only once something needs them, so a plain `listen` starts as fast as before.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import time
from typing import TYPE_CHECKING, Any

from udpscope.probe import MAGIC

if TYPE_CHECKING:
    from udpscope.cli.listen_output import Formatter
    from udpscope.health import Finding, HealthBook

__all__ = ["StreamWatch"]


class StreamWatch:
    """What `listen` follows: probes always, RTP/MPEG-TS with --decode, a field with --seq."""

    def __init__(self, ns: argparse.Namespace) -> None:
        self.decode = bool(ns.decode)
        self.seq = ns.seq
        self.arbitrate = bool(ns.arbitrate)
        self.everything = self.decode or self.seq is not None
        self.limit: int | None = ns.count
        self.fed = 0
        self.local: tuple[str, int] = ("0.0.0.0", 0)
        self.book: HealthBook | None = None
        self._decode: Any = None

    def listening(self, address: str, port: int) -> None:
        """The socket is bound: its address names datagrams without a destination."""
        self.local = (address, port)
        if self.everything:
            self._book()

    def _book(self) -> HealthBook:
        if self.book is None:
            from udpscope.health import HealthBook, endpoint_text

            self.book = HealthBook(rtp=self.decode, mpegts=self.decode, seq=self.seq,
                                   arbitrate=self.arbitrate, discovery=self.decode,
                                   local=endpoint_text(*self.local), kernel_drops_base=0)
        return self.book

    def on_batch(self, sock: Any, batch: Any) -> None:
        """One received batch (before its `message` events): count what the output will show."""
        payloads = batch.payloads
        n = len(payloads)
        if self.limit is not None:
            n = min(n, self.limit - self.fed)
        if n <= 0:
            return
        self.fed += n
        if not self.everything and not any(
                map(bytes.startswith, payloads[:n], itertools.repeat(MAGIC))):
            return
        drops = None
        with contextlib.suppress(Exception):
            drops = sock.get_kernel_drops()
        self._book().feed_batch(batch, self.local, time.time(), kernel_drops=drops, limit=n)

    def decoded(self, msg: bytes, rinfo: Any) -> tuple[str, str] | None:
        """(protocol, raw one-line summary) with --decode, else None."""
        if not self.decode:
            return None
        if self._decode is None:
            from udpscope.decode import decode

            self._decode = decode
        d = self._decode(msg, rinfo.port, self.local[1])
        return d.proto, d.summary

    def report(self, fmt: Formatter) -> list[Finding]:
        """Print every followed stream; return the findings for the close event."""
        if self.book is None:
            return []
        if self.book.untracked:
            from udpscope.cli.common import err_line

            n = self.book.untracked
            err_line(f"udpscope listen: note: {n} datagram{'s' if n != 1 else ''} of streams "
                     "past the tracking bounds were counted but not followed")
        for stream in self.book.streams():
            if not fmt.stream(stream):
                return []
        findings = self.book.findings(time.time())
        for finding in findings:
            fmt.finding(finding)
        return findings
