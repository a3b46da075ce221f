"""Stream health per socket, fed from the capture layer's batch path: one call per batch.

What is followed without being asked (as `listen --decode` does): probe, RTP and MPEG-TS streams
(raw or inside RTP) and the mDNS/SSDP sanity checks; a user sequence field and A/B arbitration
when the user sets them for a socket. The trackers are udpscope.health's (numpy), imported only
when tracking starts (`Capture.track_streams`), never when this module is imported.

Cost: a batch none of whose datagrams can start a tracked stream -- no RTP version 2 first byte,
no TS sync byte, no probe magic -- is passed over after one C-level pass over the first bytes
(`bytes(map(...))` and `translate`), so a unicast flood of anything else costs a few
microseconds a batch, not the ~0.6 µs a datagram that handing it to the trackers would. This
shortcut is off where it could hide something: with a sequence field (any payload counts), on
the discovery ports, and once this socket sent an mDNS/SSDP query (its unicast replies count).
A tracker that raises stops tracking for that socket (the error is kept and shown), never the
capture.
"""

from __future__ import annotations

import contextlib
import operator
from typing import TYPE_CHECKING, Any

from udpscope.probe import MAGIC

if TYPE_CHECKING:
    from udpscope import dgram
    from udpscope.capture.entries import SocketEntry
    from udpscope.health import Finding, HealthBook, Limits, SeqSpec, StreamHealth, TsStats

__all__ = ["SocketStreams"]

# First bytes a tracked stream's datagram may start with: RTP version 2 (0x80-0xBF, RTCP too),
# the TS sync byte, the probe magic's first byte.
_MAY_START = bytes(range(0x80, 0xC0)) + b"\x47" + MAGIC[:1]
_FIRST = operator.itemgetter(0)
# The discovery ports whose traffic the sanity checks read (health.discovery).
_DISCOVERY_PORTS = frozenset((5353, 1900))


def may_hold_streams(payloads: tuple[bytes, ...]) -> bool:
    """Whether any payload starts with a byte a tracked stream can start with (True for an
    empty payload: it is left to the trackers). One C-level pass, no per-datagram Python."""
    if not payloads or b"" in payloads:
        return True
    firsts = bytes(map(_FIRST, payloads))
    return len(firsts.translate(None, _MAY_START)) < len(firsts)


class SocketStreams:
    """The streams one socket receives: its HealthBook and how it was set up.

    `seq` (a udpscope.health SeqSpec) reads a sequence number from every payload; `arbitrate`
    merges every stream's sequence field into one A/B line (needs `seq`). `kernel_drops_base`
    is the socket's drop counter when tracking started (None: the first value read). Raises ValueError for `arbitrate`
    without `seq`.
    """

    def __init__(self, *, seq: SeqSpec | None = None, arbitrate: bool = False,
                 kernel_drops_base: int | None = 0, limits: Limits | None = None) -> None:
        from udpscope.health import HealthBook

        self.seq = seq
        self.arbitrate = arbitrate
        self.book: HealthBook = HealthBook(rtp=True, mpegts=True, seq=seq, arbitrate=arbitrate,
                                           discovery=True, limits=limits,
                                           kernel_drops_base=kernel_drops_base)
        self.local: tuple[str, int] | None = None
        self.passed_over = 0   # datagrams of batches that could hold no tracked stream
        self.error: str | None = None   # why tracking stopped, if it did
        self._queried = False  # this socket sent an mDNS/SSDP query: replies must be seen

    # ---- the batch path ----------------------------------------------------------------------

    def feed(self, entry: SocketEntry, batch: dgram.Batch, now: float) -> None:
        """One received batch of `entry`'s socket, received at `now` (its datagrams' kernel
        times are used when the batch has them)."""
        if self.error is not None:
            return
        local = self.local
        if local is None:
            local = entry.local()
            if local is None:
                return
            self.local = local
            self.book.local = _endpoint(local)
        if (self.seq is None and not self._queried and local[1] not in _DISCOVERY_PORTS
                and not may_hold_streams(batch.payloads)):
            self.passed_over += len(batch.payloads)
            return
        drops = None
        with contextlib.suppress(Exception):
            drops = entry.sock.get_kernel_drops()
        try:
            self.book.feed_batch(batch, local, now, kernel_drops=drops)
        except Exception as exc:  # a tracker bug must not take the receive path down
            self.error = f"{type(exc).__name__}: {exc}"

    def sent(self, payload: bytes, port: int | None, now: float) -> None:
        """A datagram this socket sent: mDNS/SSDP queries then wait for unicast replies."""
        discovery = self.book.discovery
        if discovery is None or port is None or self.error is not None:
            return
        before = discovery.mdns.queries_sent + discovery.ssdp.queries_sent
        discovery.sent(payload, port, now)
        if discovery.mdns.queries_sent + discovery.ssdp.queries_sent != before:
            self._queried = True

    # ---- reading (on a timer) ----------------------------------------------------------------

    def streams(self) -> list[StreamHealth]:
        """A snapshot of every followed stream (empty after a tracker error)."""
        if self.error is not None:
            return []
        try:
            return self.book.streams()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return []

    def findings(self, now: float) -> list[Finding]:
        """mDNS/SSDP findings for this socket (raw text: sanitise before showing)."""
        if self.error is not None:
            return []
        return self.book.findings(now)

    def ts_stats(self, source: str | None, destination: str | None) -> TsStats | None:
        """Per-PID MPEG-TS statistics of the stream from `source` to `destination`."""
        if source is None or destination is None or self.error is not None:
            return None
        return self.book.ts_stats(source, destination)

    @property
    def untracked(self) -> int:
        """Datagrams of streams past the book's bounds (counted, not followed)."""
        return self.book.untracked

    def settings(self) -> dict[str, Any]:
        """What is followed, for a view: the sequence field as given, arbitration."""
        return {"seq": self.seq.text() if self.seq is not None else None,
                "arbitrate": self.arbitrate}


def _endpoint(where: tuple[str, int]) -> str:
    from udpscope.health import endpoint_text

    return endpoint_text(*where)
