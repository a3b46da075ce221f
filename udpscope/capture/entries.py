"""Per-socket entries: what the capture layer knows about each socket it watches.

Counters are exact totals since the socket was made, bumped by the capture layer's handlers
(a batch adds its size in one step); rates and kernel drops are refreshed on the tick, never per
datagram. Reading a socket's addresses goes through the engine and never raises here: a closed
or broken socket shows as "no address", not as an exception in a screen refresh.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from udpscope import dgram

if TYPE_CHECKING:
    from udpscope.capture.streams import SocketStreams
    from udpscope.dgram.membership import Membership

__all__ = ["RATE_HISTORY", "SocketEntry"]

RATE_HISTORY = 120  # rate samples kept for the sparkline (one per capture tick)


@dataclass(slots=True)
class SocketEntry:
    """A socket the capture layer watches, with exact counters."""

    id: int
    sock: dgram.Socket
    type: str
    label: str = ""
    rx_datagrams: int = 0
    rx_bytes: int = 0
    tx_datagrams: int = 0
    tx_bytes: int = 0
    tx_errors: int = 0
    evictions: int = 0  # refreshed by Capture.tick() (derived, so the hot path does no work)
    events: int = 0
    cleared: int = 0
    kernel_drops: int = 0
    last_error: str | None = None
    last_error_code: str | None = None
    isolated: bool = False
    rx_rate: float = 0.0
    rx_byte_rate: float = 0.0
    tx_rate: float = 0.0
    rx_history: deque[float] = field(default_factory=lambda: deque(maxlen=RATE_HISTORY))
    streams: SocketStreams | None = None  # stream health, once the capture tracks streams
    # When each membership the socket holds was first seen, in the capture's clock: a snooping
    # switch without a querier prunes a group one membership interval after its join.
    joined_at: dict[Membership, float] = field(default_factory=dict)
    _last_rx: int = 0
    _last_rx_bytes: int = 0
    _last_tx: int = 0

    @property
    def state(self) -> str:
        """The engine socket's state ("unbound", "bound", "connected", "closed", ...)."""
        try:
            return str(self.sock.state)
        except Exception:  # pragma: no cover - defensive: a broken socket must not break the UI
            return "?"

    @property
    def records_made(self) -> int:
        """Records this socket has put in the history: datagrams in and out, failed sends,
        events (evicted and cleared ones included)."""
        return self.rx_datagrams + self.tx_datagrams + self.tx_errors + self.events

    def local(self) -> tuple[str, int] | None:
        """Local (address, port), or None when the OS socket does not exist (or is closed)."""
        try:
            info = self.sock.address()
        except Exception:
            return None
        return (info.address, info.port)

    def peer(self) -> tuple[str, int] | None:
        """Connected peer (address, port), or None."""
        if self.state != "connected":
            return None
        try:
            info = self.sock.remote_address()
        except Exception:
            return None
        return (info.address, info.port)

    def sync_joins(self, now: float) -> None:
        """Note the time of memberships joined since the last call (`now`) and forget the ones
        left; cheap (the engine's own list), so it runs right after a join and on the tick."""
        try:
            held = self.sock.get_memberships()
        except Exception:  # a broken socket must not break the tick
            held = []
        joined = self.joined_at
        if len(held) == len(joined) and all(m in joined for m in held):
            return
        self.joined_at = {m: joined.get(m, now) for m in held}

    def refresh(self, dt: float) -> None:
        """Tick work: read the kernel's drop counter and, `dt` seconds after the last tick
        (0: the first), the rates."""
        if self.state != "closed":
            with contextlib.suppress(Exception):
                self.kernel_drops = int(self.sock.get_kernel_drops())
        if dt > 0:
            self.rx_rate = (self.rx_datagrams - self._last_rx) / dt
            self.rx_byte_rate = (self.rx_bytes - self._last_rx_bytes) / dt
            self.tx_rate = (self.tx_datagrams - self._last_tx) / dt
            self.rx_history.append(self.rx_rate)
        self._last_rx = self.rx_datagrams
        self._last_rx_bytes = self.rx_bytes
        self._last_tx = self.tx_datagrams
