"""Shared helpers for the TUI tests: a deterministic app factory, typing, bursts, a receiver.

Waits go through `tests.waiting.wait_for(..., pilot=pilot)`."""

from __future__ import annotations

import inspect
import os
import re
import socket
from datetime import UTC
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.tui.app import SLOW_EVERY, UdpscopeApp
from udpscope.tui.mc_sources import MulticastSources
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.message_log import MessageLog

ROOT = Path(__file__).resolve().parents[2]
FROZEN = 1764000000.25  # 2025-11-24 16:00:00.250 UTC
SIZE = (130, 36)
# What snapshots show for the ports the sockets really bound (port 0), in socket order.
SHOWN_PORTS = (47311, 47312)


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


class SnapshotApp(UdpscopeApp):
    """The app as snapshots take it: sockets bind port 0, the picture shows fixed ports.

    Why: a fixed port is free only until another process takes it (47312 once was, under
    load, and three snapshots failed), and a port-0 bind gets a different port each run. So
    the sockets bind port 0 and, once they are bound, `pin_ports()` records which real port
    each socket got; the screenshot then shows socket #1's port as 47311, #2's as 47312.
    Only a real port right after an address (`127.0.0.1:<port>`, `239.1.1.1:<port>` for a
    datagram's destination, `[::1]:<port>`) is replaced, digit for digit (the kernel's
    ephemeral ports have five digits, like the shown ones, so no column moves): a port the app
    got wrong, or an endpoint it failed to show, still differs from the stored picture.
    Everything else in the picture is what the app drew.
    """

    # Textual reads a relative CSS_PATH next to the subclass's module: point at the app's own.
    CSS_PATH = str(Path(inspect.getfile(UdpscopeApp)).with_name(str(UdpscopeApp.CSS_PATH)))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.shown_ports: dict[int, int] = {}

    def pin_ports(self) -> None:
        """Record the real port of each bound socket (in socket order) and what it shows as."""
        real = [local[1] for entry in self.capture.entries() if (local := entry.local())]
        for port, shown in zip(real, SHOWN_PORTS, strict=False):
            if len(str(port)) != len(str(shown)):
                pytest.skip(f"the kernel gave port {port}: the stored pictures need five-digit "
                            "ephemeral ports (see net.ipv4.ip_local_port_range)")
            self.shown_ports[port] = shown

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        svg = super().export_screenshot(title=title, simplify=simplify)
        if not self.shown_ports:
            return svg
        # One pass, so a real port that equals another socket's shown port is not mapped twice.
        ports = "|".join(map(str, self.shown_ports))
        return re.sub(rf"(?:(?<=\d:)|(?<=\]:))({ports})(?!\d)",
                      lambda m: str(self.shown_ports[int(m.group(1))]), svg)


def make_app(app_class: type[UdpscopeApp] = UdpscopeApp, **kwargs) -> UdpscopeApp:  # type: ignore[no-untyped-def]
    """The app with frozen clocks, UTC, the shipped themes only, pane 6 listening for queriers
    only inside a test's own namespace (and `app_class`'s extras)."""
    capture = Capture(ring_size=kwargs.pop("ring_size", 10_000), clock=frozen, monotonic=frozen)
    kwargs.setdefault("theme", "udpscope-dark")
    kwargs.setdefault("multicast_sources", MulticastSources(observer=safe_observer))
    return app_class(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"], **kwargs)


async def refresh_ticks(pilot: Pilot, n: int = SLOW_EVERY + 1) -> None:
    """Let the app's refresh timer run `n` more times (counted, not slept; the default includes
    a slow refresh of tables and status): for asserting that a refresh did NOT change
    something, after the thing that could have changed it was awaited."""
    app = pilot.app
    start = app._ticks
    await wait_for(lambda: app._ticks >= start + n, 10, what=f"{n} refresh ticks", pilot=pilot)


def field_message(app: UdpscopeApp, selector: str) -> str:
    """The text of the form message `selector` if it is shown, else ""."""
    widget = app.screen.query_one(selector, FieldMessage)
    return str(widget.render()) if widget.has_class("-visible") else ""


def no_blink(app: UdpscopeApp) -> None:
    """Stop every input's cursor blinking, on the screens beneath a dialog too (they are in the
    picture, and a blink phase caught mid-way made the saved-payload snapshot differ per run)."""
    for screen in app.screen_stack:
        for inp in screen.query(Input):
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

    await wait_for(ready, timeout, what="a datagram at the receiver", pilot=pilot)
    return got[0]


async def composer_built(pilot: Pilot) -> None:
    """Wait until the composer (built just after start-up) is there: a test that ends before it
    would stop the app while it is being mounted."""
    await wait_for(lambda: pilot.app.main_screen.query("#payload-kind"), what="composer", pilot=pilot)
    await pilot.pause()


async def paste_into(pilot: Pilot, selector: str, text: str) -> None:
    """Focus an input, clear it and paste ``text`` into it (one Paste event, as a terminal's
    bracketed paste delivers it): for long values such as paths, where typing key by key
    only makes a test slow."""
    from textual import events

    widget = pilot.app.screen.query_one(selector, Input)
    pilot.app.screen.set_focus(widget)
    await pilot.pause()
    widget.value = ""
    pilot.app.post_message(events.Paste(text))
    await wait_for(lambda: widget.value == text, what=f"{text!r} pasted", pilot=pilot)
