"""A workspace brought to life and read back: sockets bound, options as the kernel reports them,
joins (in a namespace of the test's own), responders answering and logged, saved and reopened
the same."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.netns import VethPair, inside
from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.workspace import JoinSpec, load_workspace, parse_workspace, save_workspace
from udpscope.workspace.apply import WorkspaceSession

LOOPBACK = """\
[[socket]]
type = "udp4"
bind = "127.0.0.1:0"
ttl = 7
multicast_ttl = 3
multicast_loopback = false
broadcast = true
respond = ["text:ping=>text:pong"]
respond_limit = 50

[[socket]]
bind = "[::1]:0"
ttl = 9
multicast_loopback = true

[[payload]]
name = "hello"
to = "127.0.0.1:5000"
text = "hello"
"""


def kernel_options(sock) -> tuple:
    return (sock.get_ttl(), sock.get_multicast_ttl(), sock.get_multicast_loopback(),
            sock.get_broadcast())


async def test_open_snapshot_save_and_reopen(tmp_path: Path) -> None:
    ws = parse_workspace(LOOPBACK)
    capture = Capture()
    errors: list[BaseException] = []
    session = WorkspaceSession(capture, lambda sock_id, err: errors.append(err))
    try:
        first, second = session.open(ws)
        await wait_for(lambda: first.state == "bound" and second.state == "bound", 5,
                       what="both sockets bound")
        assert not errors
        # What the kernel holds, read through getsockopt by the engine:
        assert kernel_options(first.sock) == (7, 3, False, True)
        assert kernel_options(second.sock)[0] == 9 and second.sock.get_multicast_loopback()
        raw = socket.socket(fileno=first.sock.fileno())  # and straight from the descriptor
        try:
            assert raw.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == 7
            assert raw.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 3
            assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
        finally:
            raw.detach()
        # The responder answers, and its reply is logged as a sent datagram.
        port = first.local()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.settimeout(5)
            peer.sendto(b"a ping", ("127.0.0.1", port))
            # Received in a thread: the event loop must keep running to answer.
            assert await asyncio.to_thread(peer.recvfrom, 100) == (b"pong", ("127.0.0.1", port))
        await wait_for(lambda: session.responders[first.id].replies == 1, 5, what="reply counted")
        assert [(r.kind, r.payload) for r in capture.ring if r.kind in ("rx", "tx")] == [
            ("rx", b"a ping"), ("tx", b"pong")]
        # Read back: what the file set, and the kernel's values for what it left out (saved
        # explicitly, so tomorrow's session gets the same); port 0 stays "random".
        snap = session.snapshot()
        assert snap.sockets[0] == ws.sockets[0]
        assert snap.sockets[1] == replace(ws.sockets[1], multicast_ttl=1, broadcast=False)
        assert [p.name for p in snap.payloads] == ["hello"]
        save_workspace(snap, tmp_path / "saved.toml")
        again = load_workspace(tmp_path / "saved.toml")
        assert again.sockets == snap.sockets
        assert [(p.name, p.data, p.to) for p in again.payloads] == [
            ("hello", b"hello", ("127.0.0.1", 5000))]
        # Reopened: new sockets whose kernel options read back the same.
        reopened = Capture()
        try:
            session2 = WorkspaceSession(reopened, lambda sock_id, err: errors.append(err))
            entries = session2.open(again)
            await wait_for(lambda: all(e.state == "bound" for e in entries), 5, what="reopened")
            assert not errors
            assert session2.snapshot().sockets == snap.sockets
            assert [kernel_options(e.sock) for e in entries] == [
                kernel_options(first.sock), kernel_options(second.sock)]
        finally:
            reopened.close_all()
    finally:
        capture.close_all()


async def test_failures_are_reported_and_the_rest_still_opens() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        ws = parse_workspace(f'[[socket]]\nbind = "127.0.0.1:{busy.getsockname()[1]}"\n\n'
                             '[[socket]]\nbind = "127.0.0.1:0"\nttl = 4\n')
        capture = Capture()
        session = WorkspaceSession(capture, lambda sock_id, err: capture.record_error(sock_id, err))
        try:
            taken, ok = session.open(ws)
            # A bind failure arrives as the socket's error event: the capture layer logs it.
            await wait_for(lambda: ok.state == "bound" and capture.error_count, 5,
                           what="bind error and bound")
            (error,) = capture.errors_since(0)
            assert (error.code, error.sock_id) == ("EADDRINUSE", taken.id)
            assert ok.sock.get_ttl() == 4
            assert [s.bind for s in session.snapshot().sockets] == [("127.0.0.1", 0)]
        finally:
            capture.close_all()


@pytest.mark.netns
async def test_joins_in_a_namespace(veth_pair: VethPair, tmp_path: Path) -> None:
    b = veth_pair.b
    text = ('[[socket]]\nbind = "0"\nmulticast_ttl = 2\n'
            f'join = ["239.7.7.7@veth0", "232.7.7.7@veth0 from {veth_pair.a.v4}"]\n\n'
            '[[socket]]\ntype = "udp6"\nbind = "0"\njoin = ["ff15::7@veth0"]\n')
    ws = parse_workspace(text)
    capture = Capture()
    errors: list[BaseException] = []
    session = WorkspaceSession(capture, lambda sock_id, err: errors.append(err))
    try:
        with inside(b.ns):  # sockets, interface names and the joins belong to b's namespace
            v4, v6 = session.open(ws)
            await wait_for(lambda: v4.state == "bound" and v6.state == "bound"
                           and len(session.joins.get(v4.id, [])) == 2 or errors, 5,
                           what="bound and joined")
        assert not errors, errors
        maddr = subprocess.run(["ip", "-n", b.ns, "maddr", "show", "dev", "veth0"],
                               capture_output=True, text=True, timeout=10, check=True).stdout
        assert "239.7.7.7" in maddr and "232.7.7.7" in maddr and "ff15::7" in maddr
        snap = session.snapshot()
        assert snap.sockets[0].joins == [JoinSpec("239.7.7.7", "veth0"),
                                         JoinSpec("232.7.7.7", "veth0", veth_pair.a.v4)]
        assert snap.sockets[0].multicast_ttl == 2
        assert snap.sockets[1].joins == [JoinSpec("ff15::7", "veth0")]
        save_workspace(snap, tmp_path / "joins.toml")
        assert load_workspace(tmp_path / "joins.toml").sockets == snap.sockets
    finally:
        capture.close_all()
