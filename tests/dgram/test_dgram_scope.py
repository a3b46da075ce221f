"""IPv6 scope ids: a `%zone` on a link-local address picks the link, for send, bind and connect.

The topology (tests/netns.py, `TwoLinks`) makes a lost zone visible: a hub namespace has two
links, `left` and `right`, to two leaf namespaces that both own fe80::2, and both leaves listen
on the same port. A datagram whose zone was dropped leaves by whichever link the kernel's route
picks, so it reaches the wrong leaf (or none) instead of passing by luck. Zones are given by
name and by index; Node 20 sends, binds and connects the same way with names (it reads a
numeric zone as a name, which udpscope does not copy: see docs/dgram.md).
"""

from __future__ import annotations

import asyncio
import gc

import pytest

from tests.netns import TwoLinks, inside
from tests.support import EventRecorder, next_event
from tests.waiting import loop_turns, wait_for
from udpscope import dgram

pytestmark = pytest.mark.netns


def _zone(topology: TwoLinks, side: str, form: str) -> str:
    return side if form == "name" else str(topology.index(side))


async def _leaf_listeners(topology: TwoLinks, sockets, **options):
    """A udp6 socket on `::` in each leaf, on the same port: (left, right, port)."""
    with inside(topology.left):
        left = await sockets.bound("udp6", "::", **options)
    port = left.address().port
    with inside(topology.right):
        right = sockets("udp6", **options) if options else sockets("udp6")
        await right.bind_async(port, "::")
    return left, right, port


@pytest.mark.parametrize("form", ["name", "index"])
async def test_send_leaves_by_the_link_its_zone_names(two_links, sockets, must_call, form):
    left, right, port = await _leaf_listeners(two_links, sockets)
    got_left, got_right = EventRecorder(left), EventRecorder(right)
    with inside(two_links.hub):
        sender = await sockets.bound("udp6", "::")
    # Sent from outside the hub's namespace on purpose: the zone is resolved in the socket's.
    for side in ("left", "right", "left", "right"):
        sender.send(side.encode(), port, f"fe80::2%{_zone(two_links, side, form)}",
                    must_call(1, name=f"send callback to {side}"))
    await got_left.wait("message", 2)
    await got_right.wait("message", 2)
    await loop_turns()
    assert [args[0] for args in got_left.args_of("message")] == [b"left", b"left"]
    assert [args[0] for args in got_right.args_of("message")] == [b"right", b"right"]
    rinfo = got_left.args_of("message")[0][1]
    assert (rinfo.address, rinfo.port) == ("fe80::1%v0", sender.address().port)


async def test_an_implicitly_bound_sender_keeps_its_zone(two_links, sockets):
    left, right, port = await _leaf_listeners(two_links, sockets)
    got_right = EventRecorder(right)
    with inside(two_links.hub):
        sender = sockets("udp6")
        sender.send(b"first", port, "fe80::2%right")  # binds, then sends
        await next_event(sender, "listening")
    sender.send(b"second", port, "fe80::2%right")
    await got_right.wait("message", 2)
    assert [args[0] for args in got_right.args_of("message")] == [b"first", b"second"]


@pytest.mark.parametrize("form", ["name", "index"])
async def test_bind_to_a_scoped_link_local_address(two_links, sockets, form):
    """Two hub sockets on one port, bound to fe80::1 on each link: each hears only its link."""
    with inside(two_links.hub):
        on_right = sockets("udp6")
        bound = await on_right.bind_async(0, f"fe80::1%{_zone(two_links, 'right', form)}")
        on_left = sockets("udp6")
        await on_left.bind_async(bound.port, f"fe80::1%{_zone(two_links, 'left', form)}")
    assert bound == dgram.AddressInfo("fe80::1%right", "IPv6", bound.port)  # Node's spelling
    assert on_left.address().address == "fe80::1%left"
    got_right, got_left = EventRecorder(on_right), EventRecorder(on_left)
    senders = {}
    for side, ns in (("left", two_links.left), ("right", two_links.right)):
        with inside(ns):
            senders[side] = await sockets.bound("udp6", "::")
        senders[side].send(f"via {side}".encode(), bound.port, "fe80::1%v0")
    assert (await got_right.wait("message"))[0] == b"via right"
    assert (await got_left.wait("message"))[0] == b"via left"
    await loop_turns()
    assert (got_right.count("message"), got_left.count("message")) == (1, 1)


@pytest.mark.parametrize("form", ["name", "index"])
async def test_connect_to_a_scoped_link_local_peer(two_links, sockets, form):
    left, right, port = await _leaf_listeners(two_links, sockets)
    got = {"left": EventRecorder(left), "right": EventRecorder(right)}
    for side in ("left", "right"):
        with inside(two_links.hub):
            sock = sockets("udp6")
            connected = next_event(sock, "connect")
            sock.connect(port, f"fe80::2%{_zone(two_links, side, form)}")
            await connected
        assert sock.remote_address() == dgram.AddressInfo(f"fe80::2%{side}", "IPv6", port)
        sock.send(side.encode())
    for side in ("left", "right"):
        assert (await got[side].wait("message"))[0] == side.encode()
    await loop_turns()
    assert got["left"].count("message") == got["right"].count("message") == 1


@pytest.mark.parametrize("address", ["::1%lo", "::1%1"])
async def test_loopback_with_a_zone_binds_and_sends(netns, sockets, address):
    with inside(netns):
        receiver = sockets("udp6")
        bound = await receiver.bind_async(0, address)
        got = EventRecorder(receiver)
        sender = sockets("udp6")
        sender.send(b"zoned", bound.port, address)
        msg, rinfo = await got.wait("message")
    assert bound.address == "::1"  # the kernel keeps no scope for loopback, as Node shows
    assert (msg, rinfo.address) == (b"zoned", "::1")


async def test_an_unknown_zone_is_enodev_not_a_guess(netns, sockets, must_call):
    """Node sends unscoped (so maybe out of the wrong link) for an unknown name; udpscope says
    ENODEV, the kernel's own answer for a scope id with no interface."""
    with inside(netns):
        sender = await sockets.bound("udp6")
        done = must_call(1, name="send callback")
        sender.send(b"x", 9, "fe80::2%nosuch", done)
        err, sent = await done.wait()
        sock = sockets("udp6")
        rec = EventRecorder(sock, ("listening", "error"))
        sock.bind(0, "fe80::1%nosuch")
        (bind_err,) = await rec.wait("error")
    assert (err.code, str(err), sent) == ("ENODEV", "send ENODEV fe80::2%nosuch:9", None)
    assert (bind_err.code, str(bind_err)) == ("ENODEV", "bind ENODEV fe80::1%nosuch")
    assert rec.names == ["error"] and sock.state == "unbound"


async def test_a_kept_batch_names_a_scoped_peer_after_close(two_links, sockets):
    """The zone of a link-local sender is an interface of the receiver's namespace: a kept
    batch resolved it while the socket was open and still spells it after close."""
    with inside(two_links.left):
        receiver = dgram.create_socket(dgram.SocketOptions("udp6", metadata=True))
        port = (await receiver.bind_async(0, "::")).port
    kept: list[dgram.Batch] = []
    receiver.on("batch", kept.append)
    with inside(two_links.hub):
        sender = await sockets.bound("udp6", "::")
    for i in range(20):
        sender.send(b"%d" % i, port, "fe80::2%left")
    await wait_for(lambda: sum(map(len, kept)) == 20, what="20 datagrams")
    closed = asyncio.get_running_loop().create_future()
    receiver.close(lambda: closed.set_result(None))
    await wait_for(closed, 5, what="the close callback")
    del receiver
    gc.collect()
    got = [pair for batch in kept for pair in batch]
    assert [m for m, _ in got] == [b"%d" % i for i in range(20)]
    assert {(r.address, r.interface, r.destination) for _, r in got} == {
        ("fe80::1%v0", "v0", "fe80::2")}
