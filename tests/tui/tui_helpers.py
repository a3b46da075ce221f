"""Shared helpers for the TUI tests: a deterministic app factory and bounded waits."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from udpscope.capture import Capture
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.widgets.message_log import MessageLog

ROOT = Path(__file__).resolve().parents[2]
FROZEN = 1764000000.25  # 2025-11-24 16:00:00.250 UTC
SIZE = (130, 36)
# Fixed loopback ports for what snapshots render (high, unlikely to clash).
PORT_A = 47311
PORT_B = 47312


def frozen() -> float:
    return FROZEN


def make_app(**kwargs) -> UdpscopeApp:  # type: ignore[no-untyped-def]
    capture = Capture(ring_size=kwargs.pop("ring_size", 10_000), clock=frozen, monotonic=frozen)
    kwargs.setdefault("theme", "udpscope-dark")
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


async def composer_built(pilot: Pilot) -> None:
    """Wait until the composer (built just after start-up) is there: a test that ends before it
    would stop the app while it is being mounted."""
    await wait_for(pilot, lambda: pilot.app.main_screen.query("#payload-kind"), what="composer")
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
    await wait_for(pilot, lambda: widget.value == text, what=f"{text!r} pasted")
