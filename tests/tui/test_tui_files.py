"""The TUI on a capture file (`udpscope open`) and on a workspace (`--workspace`): the file's
datagrams in the log, detail and stats as if just arrived; read-only sockets that say so once
instead of failing per key; files written by `listen --write` and by tcpdump (inside a test
namespace) shown as they were; the workspace's sockets bound with their options and a responder
that answers."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from datetime import UTC
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests.cli.clitools import Proc, run_cli
from tests.files import pcapgen as g
from tests.files.tools import Capturer, require_tool
from tests.netns import inside
from tests.tui.tui_helpers import ROOT, composer_built, make_app, rendered_log_lines, wait_for
from udpscope.capture import Capture
from udpscope.cli.open_file import load
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.screens.detail import PacketDetail
from udpscope.tui.widgets.socket_list import SocketList
from udpscope.workspace import parse_workspace

T0 = 1_764_000_000.5


def capture_file(tmp_path: Path) -> Path:
    frames = [
        (T0, g.ethernet(g.ipv4("192.0.2.1", "239.1.2.3", g.udp(4000, 5004, b"hello file")), 0x0800)),
        (T0 + 1, g.ethernet(g.ipv4("192.0.2.2", "192.0.2.9", b"\0" * 20, proto=6), 0x0800)),
        (T0 + 2, g.ethernet(g.ipv6("2001:db8::1", "2001:db8::2",
                                   g.udp(4001, 6000, b"\x1b]0;title\x07six")), 0x86DD)),
    ]
    path = tmp_path / "f.pcap"
    path.write_bytes(g.pcap(frames, 1))
    return path


def file_app(capture: Capture, note: str | None, name: str) -> UdpscopeApp:
    return UdpscopeApp(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"],
                       theme="udpscope-dark", notice=note, title=f"{name} (read-only)")


def messages(app: UdpscopeApp) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.mark.parametrize("size", [(80, 24), (130, 36)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_open_shows_the_file_as_received_records(tmp_path: Path, size: tuple[int, int]) -> None:
    capture, note = load(str(capture_file(tmp_path)), None)
    assert note is not None and "1 not UDP" in note
    app = file_app(capture, note, "f.pcap")
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: any("hello file" in line for line in rendered_log_lines(app)),
                       what="the file's datagram in the log", pilot=pilot)
        records = [r for r in capture.ring if r.kind == "rx"]
        assert [(r.address, r.port, r.destination, r.payload, r.time) for r in records] == [
            ("192.0.2.1", 4000, "239.1.2.3", b"hello file", T0),
            ("2001:db8::1", 4001, "2001:db8::2", b"\x1b]0;title\x07six", T0 + 2)]
        lines = rendered_log_lines(app)
        assert not any("\x1b" in line or "\x07" in line for line in lines)
        assert any("\\e]0;title" in line for line in lines)  # shown escaped, never executed
        assert ("239.1.2.3", "192.0.2.1") in capture.groups  # stats see the multicast stream
        assert app.selected_socket is not None
        assert "read-only" in app.sub_title
        # Where the datagrams come from is on screen even without the title bar (below 30 rows).
        sockets = app.screen.query_one(SocketList)
        assert "f.pcap (read-only)" in str(sockets.border_title)
        assert "read-only" in [str(cell) for cell in sockets.get_row_at(0)]
        # Socket operations on the file refuse with one plain warning, not an error per press.
        entry = app.selected_entry()
        assert entry is not None and entry.state == "file"
        before = len(messages(app))
        for key in ("b", "b", "c", "d", "x", "r"):
            await pilot.press(key)
        await pilot.pause()
        warnings = messages(app)[before:]
        assert len(warnings) == 5, warnings  # the second "b" within seconds is not repeated
        assert all("read-only" in w and "f.pcap" in w for w in warnings)
        assert any("cannot bind" in w for w in warnings) and any("answer" in w for w in warnings)
        assert capture.error_count == 0 and entry.state == "file" and app.is_running
        # The options pane says what the socket is instead of offering controls that fail.
        await pilot.press("2")
        await wait_for(lambda: "read-only" in str(
            app.screen.query_one("#opt-title", Static).render()), what="options say read-only", pilot=pilot)
        # The composer does not pretend to send from it.
        await pilot.press("3")
        await wait_for(lambda: app.screen.query("#send"), what="composer", pilot=pilot)
        await pilot.press("ctrl+s")
        assert "read-only" in str(app.screen.query_one("#send-result", Static).render())
        assert entry.tx_datagrams == 0
        # Detail and stats work on it as on live traffic.
        await pilot.press("escape", "home", "enter")  # out of the field, back to the log
        await wait_for(lambda: isinstance(app.screen, PacketDetail), what="detail", pilot=pilot)
        assert isinstance(app.screen, PacketDetail) and app.screen.record.payload == b"hello file"
        await pilot.press("escape", "5")
        await wait_for(lambda: app.current_mode == "stats", what="stats", pilot=pilot)
        await pilot.pause(0.3)
        table = app.screen.query_one("#sock-stats", DataTable)
        assert "read-only" in [str(cell) for cell in table.get_row_at(0)]


def test_open_rejects_bad_ring_options_and_a_missing_terminal(tmp_path: Path) -> None:
    path = str(capture_file(tmp_path))
    res = run_cli("open", path, "--ring-memory", "1k")
    assert res.returncode == 2 and "--ring-memory" in res.stderr.decode().splitlines()[-1]
    res = run_cli("open", path)  # stdin/stdout are pipes here
    assert res.returncode == 2 and "needs a terminal" in res.stderr.decode()
    res = run_cli("open", str(tmp_path / "missing.pcap"))
    assert res.returncode == 2 and "argument FILE" in res.stderr.decode().splitlines()[-1]


def test_a_small_ring_keeps_the_newest_and_says_so(tmp_path: Path) -> None:
    frames = [(T0 + i, g.ethernet(g.ipv4("192.0.2.1", "192.0.2.2", g.udp(4000, 5000, b"%d" % i)),
                                  0x0800)) for i in range(1500)]
    path = tmp_path / "many.pcap"
    path.write_bytes(g.pcap(frames, 1))
    capture, note = load(str(path), 1000, 64 << 20)
    assert len(capture.ring) == 1000 and capture.ring[0].payload == b"500"
    assert note is not None and "500 rows did not fit" in note and "--ring-size" in note


async def test_a_pcapng_from_listen_write_shows_received_and_sent(tmp_path: Path) -> None:
    path = tmp_path / "listen.pcapng"
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--write", str(path),
               "--respond", "text:ping=>text:pong", "--timeout", "30"]) as p, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        port = p.json()["port"]
        peer.settimeout(5)
        for i in range(3):
            peer.sendto(b"ping %d" % i, ("127.0.0.1", port))
            assert peer.recv(100) == b"pong"
        reported = []
        while len(reported) < 3:
            event = p.json()
            if event.get("event") == "message":
                reported.append(event)
        p.signal(signal.SIGTERM)
        assert p.wait() == 0
    capture, note = load(str(path), None)
    assert note is None
    app = file_app(capture, note, path.name)
    async with app.run_test(size=(100, 30)) as pilot:
        await composer_built(pilot)
        await wait_for(lambda: sum("pong" in line for line in rendered_log_lines(app)) == 3,
                       what="the replies in the log", pilot=pilot)
        rows = [(r.kind, r.payload) for r in capture.ring if r.kind in ("rx", "tx")]
        assert rows == [("rx", b"ping 0"), ("tx", b"pong"), ("rx", b"ping 1"), ("tx", b"pong"),
                        ("rx", b"ping 2"), ("tx", b"pong")]
        received = [r for r in capture.ring if r.kind == "rx"]
        assert [r.time for r in received] == pytest.approx([e["timestamp"] for e in reported],
                                                            abs=1e-6)
        assert {r.interface for r in received} == {"lo"}
        assert all(" tx " in line for line in rendered_log_lines(app) if "pong" in line)


PORT = 47420


@pytest.mark.netns
@pytest.mark.parametrize("iface", ["lo", "any"])
async def test_a_tcpdump_capture_from_a_namespace_opens(netns: str, tmp_path: Path, iface: str) -> None:
    tcpdump = require_tool("tcpdump")
    path = tmp_path / f"{iface}.pcap"
    dump = Capturer(netns, [tcpdump, "-i", iface, "--immediate-mode", "-U", "-n", "-w", str(path),
                             "udp port 47420"], "listening on")
    payloads = [b"first", b"second \x00 with a NUL", b"third"]
    try:
        with inside(netns):
            rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tx = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            tx4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with rx, tx, tx4:
            rx.bind(("127.0.0.1", PORT))
            for payload in payloads[:2]:
                tx4.sendto(payload, ("127.0.0.1", PORT))
            tx.sendto(payloads[2], ("::1", PORT))  # nobody listens on ::1: still captured
            time.sleep(0.2)
    finally:
        dump.stop()
    capture, note = load(str(path), None)
    app = file_app(capture, note, path.name)
    async with app.run_test(size=(80, 24)) as pilot:
        await composer_built(pilot)
        await wait_for(lambda: any("third" in line for line in rendered_log_lines(app)),
                       what="the capture in the log", pilot=pilot)
        rows = [(r.payload, r.port is not None, r.destination) for r in capture.ring if r.kind == "rx"]
        assert rows == [(payloads[0], True, "127.0.0.1"), (payloads[1], True, "127.0.0.1"),
                        (payloads[2], True, "::1")]
        assert [e.type for e in capture.entries()] == ["udp4", "udp6"]
        assert any("second \\x00 with a NUL" in line for line in rendered_log_lines(app))


async def test_workspace_opens_sockets_with_options_and_responders() -> None:
    ws = parse_workspace('[[socket]]\nbind = "127.0.0.1:0"\nttl = 11\n'
                         'respond = ["*=>text:auto"]\n\n'
                         '[[payload]]\nname = "p"\ntext = "x"\n')
    app = make_app(workspace=ws)
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for(lambda: app.capture.sockets and
                       app.capture.sockets[1].state == "bound",
                       what="workspace socket bound", pilot=pilot)
        entry = app.capture.sockets[1]
        assert entry.sock.get_ttl() == 11 and app.selected_socket == entry.id
        assert entry.isolated  # like the app's own sockets: only the groups it joins
        session = app.workspace_session
        assert session is not None and [p.name for p in session.payloads] == ["p"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.settimeout(5)
            peer.sendto(b"q", ("127.0.0.1", entry.local()[1]))
            reply = asyncio.get_running_loop().run_in_executor(None, peer.recv, 100)
            await wait_for(reply.done, what="reply", pilot=pilot)
            assert reply.result() == b"auto"
        await wait_for(lambda: entry.tx_datagrams == 1, what="reply logged as sent", pilot=pilot)
        assert session.responders[entry.id].replies == 1
        await composer_built(pilot)

