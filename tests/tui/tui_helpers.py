"""Shared helpers for the TUI tests: a deterministic app factory and bounded waits."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from udpscope.capture import Capture
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.mc_sources import MulticastSources
from udpscope.tui.widgets.message_log import MessageLog

ROOT = Path(__file__).resolve().parents[2]
FROZEN = 1764000000.25  # 2025-11-24 16:00:00.250 UTC
SIZE = (130, 36)
# Fixed loopback ports for what snapshots render (high, unlikely to clash).
PORT_A = 47311
PORT_B = 47312


def frozen() -> float:
    return FROZEN


def _net_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


# The host's namespace: init's, or (where /proc/1 can't be read) the one these helpers were first
# imported in — test collection, before any test moves a thread into a namespace of its own.
HOST_NET_NS = _net_ns("/proc/1/ns/net") or _net_ns("/proc/thread-self/ns/net")


def in_own_namespace() -> bool:
    """True when the calling thread is in a network namespace other than the host's."""
    here = _net_ns("/proc/thread-self/ns/net")
    return here is not None and HOST_NET_NS is not None and here != HOST_NET_NS


class HostObserver:
    """Stands in for the querier observer outside a test's own namespace: pane 6 would
    otherwise join 224.0.0.22 / ff02::16 on the machine's interfaces (and send reports)."""

    report_joins: list[tuple[str, str]] = []

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def snapshot(self) -> list:  # type: ignore[type-arg]
        return []

    def status(self, family: str):  # type: ignore[no-untyped-def]
        from udpscope.net.querier import FamilyStatus

        return FamilyStatus("IPv6" if family == "IPv6" else "IPv4", "unsupported",
                            "tests listen for queriers only in a namespace of their own")


def safe_observer():  # type: ignore[no-untyped-def]
    """The real observer inside a test's namespace, a silent stand-in on the host."""
    if in_own_namespace():
        from udpscope.net.querier import QuerierObserver

        return QuerierObserver()
    return HostObserver()


def make_app(**kwargs) -> UdpscopeApp:  # type: ignore[no-untyped-def]
    capture = Capture(ring_size=kwargs.pop("ring_size", 10_000), clock=frozen, monotonic=frozen)
    kwargs.setdefault("theme", "udpscope-dark")
    kwargs.setdefault("multicast_sources", MulticastSources(observer=safe_observer))
    return UdpscopeApp(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"], **kwargs)


async def wait_for(pilot: Pilot, cond: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    """Let the app run until ``cond()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await pilot.pause(0.02)


def no_blink(app: UdpscopeApp) -> None:
    for inp in app.screen.query(Input):
        inp.cursor_blink = False


def log_of(app: UdpscopeApp) -> MessageLog:
    return app.screen.query_one(MessageLog)


def rendered_log_lines(app: UdpscopeApp) -> list[str]:
    log = log_of(app)
    return [log.render_line(y).text for y in range(log.scrollable_content_region.height)]


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    """Focus an input, clear it and type ``text`` key by key (as a user would)."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    widget.value = ""
    for ch in text:
        await pilot.press(ch)


def burst(app: UdpscopeApp, data: str) -> int:
    """Post the keys a terminal sends for ``data`` all at once, as one read would deliver them.

    The same parser as the terminal driver turns ``data`` into key events; none is handled
    before the last is posted (unlike `pilot.press`, which waits after every key). Escape is
    not allowed here: alone it needs the parser's timeout.
    """
    from textual._xterm_parser import XTermParser  # the driver's own parser

    assert "\x1b" not in data or "\x1b[" in data, "a lone escape needs its own read"
    parser = XTermParser()
    events = [*parser.feed(data), *parser.feed("")]
    for event in events:
        event.set_sender(app)
        app.post_message(event)
    return len(events)


def udp_receiver() -> socket.socket:
    """A plain loopback socket the app sends to (what the datagram really was, byte for byte)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


async def receive(pilot: Pilot, sock: socket.socket, timeout: float = 5.0) -> bytes:
    """The next datagram on ``sock``, letting the app run meanwhile; fails after ``timeout``."""
    got: list[bytes] = []

    def ready() -> bool:
        try:
            got.append(sock.recv(70000))
        except BlockingIOError:
            return False
        return True

    await wait_for(pilot, ready, timeout, what="a datagram at the receiver")
    return got[0]
