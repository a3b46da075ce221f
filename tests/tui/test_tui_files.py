"""The TUI on a capture file (`udpscope open`) and on a workspace (`--workspace`): the file's
datagrams in the log and detail as if just arrived, read-only sockets that refuse politely; the
workspace's sockets bound with their options and a responder that answers."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC
from pathlib import Path

from tests.files import pcapgen as g
from tests.tui.tui_helpers import ROOT, make_app, rendered_log_lines
from tests.waiting import wait_for
from udpscope.cli.open_file import load
from udpscope.tui.app import UdpscopeApp
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


async def test_open_shows_the_file_as_received_records(tmp_path: Path) -> None:
    capture, note = load(str(capture_file(tmp_path)), None)
    assert note is not None and "1 not UDP" in note
    app = UdpscopeApp(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"],
                      theme="udpscope-dark", notice=note, title="f.pcap (read-only)")
    async with app.run_test(size=(130, 36)) as pilot:
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
        # Socket operations on the file refuse with a logged error, and the app stays up.
        entry = app.selected_entry()
        assert entry is not None and entry.state == "file"
        app.action_disconnect_socket()
        await wait_for(lambda: capture.error_count == 1, what="read-only error", pilot=pilot)
        assert capture.errors_since(0)[0].code == "ERR_READ_ONLY"
        assert app.is_running


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
