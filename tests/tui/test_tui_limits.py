"""The app near the process's limits, each run in its own process with `resource` limits set
before it starts, bounded in time.

- Open files: with `ulimit -n` 12 or 6 the TUI refuses with a clear message (exit 2, no
  traceback); with 32, new sockets are refused once only the app's reserve is left, and every
  view still opens (its code was imported before the descriptors ran out); ctrl+q exits 0.
- Address space (`ulimit -v`) under a flood: the app keeps answering keys, and ctrl+q exits.
"""

from __future__ import annotations

import re
import resource
import socket
import threading
import time

import pytest

from tests import netns as N
from tests.tui.pty_app import PtyApp, strip_csi

START_TIMEOUT = 30.0


@pytest.fixture
def launch():  # type: ignore[no-untyped-def]
    apps: list[PtyApp] = []

    def start(args: list[str], limits: dict[int, int], netns: str | None = None) -> PtyApp:
        app = PtyApp(args, columns=100, lines=30, limits=limits, netns=netns)
        apps.append(app)
        app.start()
        return app

    yield start
    for app in apps:
        app.close()


def _can_listen_for_queriers() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP).close()
    except OSError:
        return False
    return True


@pytest.fixture
def quiet_netns():  # type: ignore[no-untyped-def]
    """Where pane 6 may open: it listens for queriers, joining 224.0.0.22 / ff02::16 (which
    sends reports) when it can open raw sockets — then only in a namespace of the test's own.
    Without that privilege it sends nothing, and the host's namespace is used (None)."""
    if not _can_listen_for_queriers():
        yield None
        return
    N.require_netns()
    name = N.create_namespace()
    try:
        yield name
    finally:
        N.delete_namespace(name)


@pytest.mark.parametrize("nofile", [12, 6])
def test_too_few_open_files_is_a_clear_refusal(launch, nofile: int) -> None:  # type: ignore[no-untyped-def]
    app = launch([], {resource.RLIMIT_NOFILE: nofile})
    assert app.wait_exit(START_TIMEOUT) == 2
    out = strip_csi(app.snapshot()).decode(errors="replace")
    assert "needs at least" in out and f"only {nofile}" in out and "ulimit -n" in out
    assert "Traceback" not in out


def test_at_32_open_files_sockets_are_refused_and_every_view_still_opens(launch, quiet_netns) -> None:  # type: ignore[no-untyped-def]
    app = launch([], {resource.RLIMIT_NOFILE: 32}, quiet_netns)
    app.wait_text("Live log", START_TIMEOUT)
    refused = b"Too many open files"
    for number in range(1, 31):  # new sockets (n, Enter) until the app refuses one
        mark = len(app.snapshot())
        app.write(b"n")
        app.wait_text("New socket", 15, after=mark)
        mark = len(app.snapshot())
        app.write(b"\r")
        made = re.compile(rb"#%d +ev +listening" % number)
        app.wait_for(lambda out, mark=mark, made=made: made.search(strip_csi(out[mark:]))
                     or refused in strip_csi(out[mark:]), 15, f"socket #{number} or a refusal")
        if refused in strip_csi(app.snapshot()[mark:]):
            break
    app.wait_text(refused, 15)
    for key, shown in ((b"6", "Multicast — interfaces"), (b"5", "Stats"), (b"4", "Live log"),
                       (b"?", "Keys"), (b"\x1b", "Live log")):
        mark = len(app.snapshot())
        app.write(key)
        app.wait_text(shown, 15, after=mark)
    out = strip_csi(app.snapshot()).decode(errors="replace")
    assert "Traceback" not in out and "Errno 24" not in out
    app.write(b"\x11")  # ctrl+q
    assert app.wait_exit(15) == 0


def test_under_an_address_space_limit_a_flood_does_not_take_the_keyboard(launch) -> None:  # type: ignore[no-untyped-def]
    app = launch(["--bind", "127.0.0.1:0"], {resource.RLIMIT_AS: 150_000 * 1024})
    port = app.bound_port(timeout=START_TIMEOUT)
    stop = threading.Event()

    def flood() -> None:
        payload = b"x" * 8000
        deadline = time.monotonic() + 15
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not stop.is_set() and time.monotonic() < deadline:
                for _ in range(64):
                    s.sendto(payload, ("127.0.0.1", port))
                time.sleep(0.0005)

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    try:
        time.sleep(5)  # the flood's length before the keys (load, not synchronisation)
        mark = len(app.snapshot())
        app.write(b"?")
        app.wait_text("Keys", 20, after=mark)  # the keyboard still reaches the app
        mark = len(app.snapshot())
        app.write(b"\x1b")
        app.wait_text("Live log", 20, after=mark)  # back on the main screen
        app.write(b"\x11")  # ctrl+q
        assert app.wait_exit(20) == 0
    finally:
        stop.set()
        sender.join(5)


def test_the_ring_budget_fits_an_address_space_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from udpscope.tui import limits

    monkeypatch.setattr(limits, "address_space_room", lambda: None)
    assert limits.fit_ring_budget(256 << 20) == (256 << 20, None)
    monkeypatch.setattr(limits, "address_space_room", lambda: 96 << 20)
    budget, note = limits.fit_ring_budget(256 << 20)
    assert budget == (96 - 64) // 2 << 20 and note is not None and "ulimit -v" in note
    monkeypatch.setattr(limits, "address_space_room", lambda: 10 << 20)
    assert limits.fit_ring_budget(256 << 20)[0] == limits.RING_FLOOR
