"""Join everywhere: one socket joins a group on every multicast-capable interface, and counts on
which interface the traffic arrives.

"Which interface does the stream come in on?" is quicker answered by joining on all of them
than by reasoning about routes. The session lives in the app, not in a screen, so it keeps
counting while the user looks at the log; it is fed per received batch through the capture
layer's tap (`ArrivalCounter.observe_batch`), never per datagram where a batch is one stream.
The route check (a join on the default interface going elsewhere than the route towards the
source) runs a tool, so it is a separate, blocking step the view runs off the event loop.
No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from udpscope.net.joins import ArrivalCounter, JoinOutcome, join_everywhere, leave_everywhere

if TYPE_CHECKING:
    from udpscope.capture import Capture
    from udpscope.net.checks import Finding
    from udpscope.net.interfaces import Interface
    from udpscope.net.joins import RouteInfo


@dataclass
class EverywhereSession:
    """One group joined on every interface by one socket, and its arrival counts."""

    sock_id: int
    group: str
    source: str | None
    outcomes: list[JoinOutcome]
    counter: ArrivalCounter
    started_at: float                           # the capture's clock
    route_finding: Finding | None = None        # set by `check_route`
    route_checked_for: str | None = None        # the source the route check used
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    @property
    def joined(self) -> list[str]:
        """Interfaces joined now."""
        return [o.interface for o in self.outcomes if o.joined]

    @property
    def already(self) -> list[str]:
        """Interfaces the socket had joined before (the kernel said EADDRINUSE): they count,
        and leaving everywhere keeps them."""
        return [o.interface for o in self.outcomes if already_joined(o)]

    @property
    def failed(self) -> list[JoinOutcome]:
        """Joins that failed for another reason."""
        return [o for o in self.outcomes if not o.joined and not already_joined(o)]

    def source_to_check(self, capture: Capture) -> str | None:
        """The sender whose route should be compared with the default join: the join's source,
        else the busiest sender seen for the group; None when none is known or it was checked."""
        source = self.source
        if source is None:
            streams = [s for s in capture.groups.rows() if s.group == self.group]
            if streams:
                source = max(streams, key=lambda s: s.packets).source
        if source is None or source == self.route_checked_for:
            return None
        return source

    def leave(self, capture: Capture) -> None:
        """Stop counting and drop every membership the session made (errors ignored)."""
        self._stop()
        entry = capture.sockets.get(self.sock_id)
        if entry is not None and entry.state != "closed":
            leave_everywhere(entry.sock, self.group, self.outcomes, source=self.source)
            capture.note_joins(self.sock_id)


def already_joined(outcome: JoinOutcome) -> bool:
    """The join failed only because this socket holds that membership already."""
    return not outcome.joined and outcome.code == "EADDRINUSE"


def start(capture: Capture, sock_id: int, group: str, source: str | None = None,
          interfaces: Sequence[Interface] | None = None) -> EverywhereSession:
    """Join `group` (from `source`) on every candidate interface with socket `sock_id` and start
    counting arrivals per interface. A failed join is an outcome, not an exception.

    Raises:
        KeyError: no such socket.
    """
    entry = capture.sockets[sock_id]
    outcomes = join_everywhere(entry.sock, group, source=source, interfaces=interfaces)
    capture.note_joins(sock_id)
    counter = ArrivalCounter(group)
    stop = capture.tap_batches(sock_id, counter.observe_batch)
    return EverywhereSession(sock_id, counter.group or group, source, outcomes, counter,
                             capture.clock(), _stop=stop)


def check_route(group: str, source: str, route: Callable[[str], RouteInfo]) -> Finding | None:
    """A warning when a join on the default interface would go elsewhere than the route towards
    `source` (blocking: `route` runs `ip route get`)."""
    from udpscope.net.joins import join_route_finding

    return join_route_finding(group, source, route=route)
