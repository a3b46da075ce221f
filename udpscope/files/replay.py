"""Send a capture's datagrams again, from plain sockets, at the pace they were recorded.

tcpreplay rewrites and injects frames and needs root; most of the time what is wanted is the
conversation's payloads, sent from an ordinary UDP socket (no root, the kernel picks the source)
to where they went or to a test rig, with the original gaps (divided by a speed factor) or as
fast as possible. Timing uses absolute deadlines from the first datagram's time, so lateness
does not accumulate; the last couple of milliseconds are slept with `time.sleep`, which is finer
than the event loop's timer. Time and sleeping are injectable for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from udpscope import dgram
from udpscope.files.capture_file import CapturedDatagram

__all__ = ["ReplayOptions", "ReplayResult", "replay"]

CHUNK = 256  # datagrams handed to the engine per loop turn with --max
FINE_SLEEP = 0.002  # below this, time.sleep instead of the event loop's timer


@dataclass
class ReplayOptions:
    """How to replay: destination override, pace, limits and the sockets' options.

    ``interfaces`` maps "udp4"/"udp6" to the engine's multicast-interface argument (a family
    missing from it keeps the kernel's choice).
    """

    to: tuple[str, int] | None = None
    speed: float = 1.0
    as_fast_as_possible: bool = False
    count: int | None = None
    ttl: int | None = None
    multicast_ttl: int | None = None
    multicast_loopback: bool | None = None
    broadcast: bool = False
    interfaces: dict[str, str] = field(default_factory=dict)


@dataclass
class ReplayResult:
    """What a replay did. ``errors`` holds the first error of each code (at most 5)."""

    sent: int = 0
    bytes: int = 0
    failed: int = 0
    errors: list[BaseException] = field(default_factory=list)
    duration: float = 0.0
    stopped: bool = False

    def note_error(self, err: BaseException) -> bool:
        """Count a failed send; True when it is the first of its code (worth reporting)."""
        self.failed += 1
        code = getattr(err, "code", type(err).__name__)
        if len(self.errors) < 5 and all(getattr(e, "code", type(e).__name__) != code
                                        for e in self.errors):
            self.errors.append(err)
            return True
        return False


class _Sockets:
    """One socket per family, created (and configured) when first needed."""

    def __init__(self, options: ReplayOptions) -> None:
        self.options = options
        self.by_family: dict[str, Any] = {}

    async def get(self, family: str) -> Any:
        sock = self.by_family.get(family)
        if sock is not None:
            return sock
        sock = dgram.create_socket(family)
        sock.on("error", lambda err: None)  # errors are awaited per send
        self.by_family[family] = sock
        await sock.bind_async(0)
        o = self.options
        if o.broadcast:
            sock.set_broadcast(True)
        if o.ttl is not None:
            sock.set_ttl(o.ttl)
        if o.multicast_ttl is not None:
            sock.set_multicast_ttl(o.multicast_ttl)
        if o.multicast_loopback is not None:
            sock.set_multicast_loopback(o.multicast_loopback)
        if family in o.interfaces:
            sock.set_multicast_interface(o.interfaces[family])
        return sock

    def close(self) -> None:
        for sock in self.by_family.values():
            with contextlib.suppress(Exception):
                sock.close()


def _target(datagram: CapturedDatagram, options: ReplayOptions) -> tuple[str, int, str]:
    """(host, port, socket family) for one datagram."""
    if options.to is not None:
        host, port = options.to
    else:
        host, port = datagram.destination, datagram.dport
    return host, port, "udp6" if ":" in host else "udp4"


async def replay(
    datagrams: Iterable[CapturedDatagram],
    options: ReplayOptions,
    *,
    stop: asyncio.Event | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ReplayResult:
    """Send ``datagrams`` as ``options`` say; returns the result (never raises for a send).

    A socket that cannot be created or configured (a bad TTL for this kernel...) raises the
    engine's error. ``on_error`` sees the first send error of each code as it happens.
    """
    result = ReplayResult()
    sockets = _Sockets(options)
    stop = stop or asyncio.Event()
    started = monotonic()
    try:
        if options.as_fast_as_possible:
            await _replay_max(datagrams, options, sockets, result, stop, on_error)
        else:
            await _replay_paced(datagrams, options, sockets, result, stop, on_error, monotonic)
    finally:
        result.duration = monotonic() - started
        result.stopped = stop.is_set()
        sockets.close()
    return result


def _limited(datagrams: Iterable[CapturedDatagram], count: int | None) -> Iterable[CapturedDatagram]:
    if count is None:
        return datagrams
    import itertools

    return itertools.islice(datagrams, count)


async def _replay_paced(datagrams: Iterable[CapturedDatagram], options: ReplayOptions,
                        sockets: _Sockets, result: ReplayResult, stop: asyncio.Event,
                        on_error: Callable[[BaseException], None] | None,
                        monotonic: Callable[[], float]) -> None:
    first: float | None = None
    start = 0.0
    for datagram in _limited(datagrams, options.count):
        if stop.is_set():
            return
        host, port, family = _target(datagram, options)
        sock = await sockets.get(family)
        if first is None:
            first, start = datagram.time, monotonic()
        deadline = start + max(0.0, datagram.time - first) / options.speed
        delay = deadline - monotonic()
        if delay > FINE_SLEEP:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay - FINE_SLEEP / 2)
            if stop.is_set():
                return
        delay = deadline - monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            result.bytes += await sock.send_async(datagram.payload, port, host)
            result.sent += 1
        except Exception as err:
            if result.note_error(err) and on_error is not None:
                on_error(err)


async def _replay_max(datagrams: Iterable[CapturedDatagram], options: ReplayOptions,
                      sockets: _Sockets, result: ReplayResult, stop: asyncio.Event,
                      on_error: Callable[[BaseException], None] | None) -> None:
    loop = asyncio.get_running_loop()
    outcomes: list[tuple[BaseException | None, int | None]] = []
    issued = 0
    done: asyncio.Future[None] | None = None

    def on_sent(err: BaseException | None, n: int | None) -> None:
        outcomes.append((err, n))
        if done is not None and len(outcomes) >= issued and not done.done():
            done.set_result(None)

    async def settle() -> None:
        nonlocal done, issued
        if len(outcomes) < issued:
            done = loop.create_future()
            await done
            done = None
        for err, n in outcomes:
            if err is None:
                result.sent += 1
                result.bytes += n or 0
            elif result.note_error(err) and on_error is not None:
                on_error(err)
        outcomes.clear()
        issued = 0

    for datagram in _limited(datagrams, options.count):
        if stop.is_set():
            break
        host, port, family = _target(datagram, options)
        sock = await sockets.get(family)
        issued += 1
        try:
            sock.send(datagram.payload, port, host, on_sent)
        except Exception as err:  # argument errors: raised, not called back
            issued -= 1
            if result.note_error(err) and on_error is not None:
                on_error(err)
        if issued >= CHUNK:
            await settle()
    await settle()
