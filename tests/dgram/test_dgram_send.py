"""Contract tests: sending (implicit bind, call order, default address, lookup, message types,
callback arguments, lookup and kernel send errors, the EAGAIN queue, connected sockets).
"""

from __future__ import annotations

import errno
import socket

import pytest

from tests.dgram.dgram_helpers import ANY, FAMILY, LOOPBACK, free_port
from tests.support import EventRecorder, next_event
from tests.waiting import loop_turns, wait_for
from udpscope import dgram

FAMILY_NUMBER = {"udp4": 4, "udp6": 6}
MAX_PAYLOAD = {"udp4": 65507, "udp6": 65527}


async def test_first_send_binds_implicitly_with_one_listening(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind)
    rec = EventRecorder(sender, ("listening", "close", "error"))
    port = receiver.address().port
    first = must_call(1, name="first send callback")
    second = must_call(1, name="second send callback")
    sender.send(b"one", port, LOOPBACK[kind], first)
    assert sender.state == "binding"
    sender.send(b"two", port, LOOPBACK[kind], second)
    await got.wait("message", 2)
    await first.wait()
    await second.wait()
    sender.send(b"three", port, LOOPBACK[kind])
    await got.wait("message", 3)
    await loop_turns()
    assert rec.names == ["listening"]
    assert first.args == (None, 3) and second.args == (None, 3)
    info = sender.address()
    assert (info.address, info.family) == (ANY[kind], FAMILY[kind])
    assert info.port != 0
    assert [a[1].port for a in got.args_of("message")] == [info.port] * 3


async def test_sends_issued_before_bind_completes_keep_call_order(sockets, kind):
    receiver = await sockets.bound(kind, recv_buffer_size=1 << 21)
    got = EventRecorder(receiver)
    sender = sockets(kind)
    order: list[int] = []
    port = receiver.address().port
    for i in range(100):
        sender.send(b"%03d" % i, port, LOOPBACK[kind], lambda err, n, i=i: order.append(i))
    await got.wait("message", 100)
    await wait_for(lambda: len(order) == 100, what="100 send callbacks")
    assert [args[0] for args in got.args_of("message")] == [b"%03d" % i for i in range(100)]
    assert order == list(range(100))


async def test_send_without_address_goes_to_loopback(sockets, must_call, kind):
    looked_up = must_call(0, name="lookup")
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind, lookup=looked_up)
    cb = must_call(1)
    sender.send(b"default", receiver.address().port, None, cb)
    msg, rinfo = await got.wait("message")
    await cb.wait()
    assert msg == b"default"
    assert rinfo.address == LOOPBACK[kind]
    assert cb.args == (None, 7)


@pytest.mark.parametrize("hostname", ["localhost", "peer.test"])
async def test_hostname_goes_through_custom_lookup(sockets, must_call, kind, hostname):
    calls: list[tuple] = []

    def lookup(hostname, family, callback):
        calls.append((hostname, family))
        callback(None, LOOPBACK[kind], family)

    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind, lookup=lookup)
    cb = must_call(1)
    sender.send(b"via lookup", receiver.address().port, hostname, cb)
    msg, _ = await got.wait("message")
    await cb.wait()
    assert msg == b"via lookup"
    assert cb.args == (None, 10)
    # The implicit bind uses the wildcard literal: only the destination is looked up.
    assert calls == [(hostname, FAMILY_NUMBER[kind])]


async def test_ip_literals_are_not_looked_up(sockets, must_call, kind):
    lookup = must_call(0, name="lookup")
    receiver = sockets(kind, lookup=lookup)
    got = EventRecorder(receiver)
    receiver.bind(0, LOOPBACK[kind])
    await got.wait("listening")
    sender = sockets(kind, lookup=lookup)
    rec = EventRecorder(sender)
    sender.send(b"literal", receiver.address().port, LOOPBACK[kind])
    sender.connect(receiver.address().port, LOOPBACK[kind])
    await got.wait("message")
    await rec.wait("connect")


async def test_localhost_resolves_with_the_default_lookup(sockets, must_call, kind):
    try:
        socket.getaddrinfo(
            "localhost", None, {"udp4": socket.AF_INET, "udp6": socket.AF_INET6}[kind]
        )
    except socket.gaierror:
        pytest.skip(f"'localhost' has no {kind} address on this host")
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind)
    cb = must_call(1)
    sender.send(b"hello", receiver.address().port, "localhost", cb)
    msg, rinfo = await got.wait("message")
    await cb.wait()
    assert msg == b"hello"
    assert rinfo.family == FAMILY[kind]
    assert cb.args == (None, 5)


MESSAGES = [
    pytest.param(b"bytes", b"bytes", id="bytes"),
    pytest.param(bytearray(b"bytearray"), b"bytearray", id="bytearray"),
    pytest.param(memoryview(b"memoryview"), b"memoryview", id="memoryview"),
    pytest.param("h\u00e9llo \u2603", "h\u00e9llo \u2603".encode(), id="str-utf8"),
    pytest.param(
        [b"a", bytearray(b"b"), memoryview(b"c"), "\u00e9"], b"abc\xc3\xa9", id="list-mixed"
    ),
    pytest.param(b"", b"", id="empty-bytes"),
    pytest.param("", b"", id="empty-str"),
    pytest.param([], b"", id="empty-list"),
]


@pytest.mark.parametrize(("msg", "wire"), MESSAGES)
async def test_message_types(sockets, must_call, kind, msg, wire):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind)
    cb = must_call(1)
    sender.send(msg, receiver.address().port, LOOPBACK[kind], cb)
    data, rinfo = await got.wait("message")
    await cb.wait()
    assert type(data) is bytes
    assert data == wire
    assert rinfo.size == len(wire)
    assert cb.args == (None, len(wire))


async def test_list_is_copied_at_call_time(sockets, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind)  # unbound: the send waits behind the implicit bind
    parts = [b"ab", b"cd"]
    sender.send(parts, receiver.address().port, LOOPBACK[kind])
    parts.append(b"zz")
    parts[0] = b"XX"
    msg, _ = await got.wait("message")
    assert msg == b"abcd"


async def test_offset_and_length_select_a_slice(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind)
    cb = must_call(1)
    port = receiver.address().port
    sender.send(b"hello world", port, LOOPBACK[kind], cb, offset=6, length=5)
    sender.send(b"hello world", port, LOOPBACK[kind], offset=6)
    sender.send(b"hello world", port, LOOPBACK[kind], length=5)
    await got.wait("message", 3)
    await cb.wait()
    assert [a[0] for a in got.args_of("message")] == [b"world", b"world", b"hello"]
    assert cb.args == (None, 5)


async def test_largest_datagram_is_delivered_whole(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind)
    cb = must_call(1)
    payload = bytes(range(256)) * (MAX_PAYLOAD[kind] // 256) + b"x" * (MAX_PAYLOAD[kind] % 256)
    sender.send(payload, receiver.address().port, LOOPBACK[kind], cb)
    msg, rinfo = await got.wait("message")
    await cb.wait()
    assert msg == payload and rinfo.size == MAX_PAYLOAD[kind]
    assert cb.args == (None, MAX_PAYLOAD[kind])


# --------------------------------------------------------------------------- send errors


def _failing_lookup(hostname, family, callback):
    callback(OSError(errno.ENOENT, "not found"), None, None)


async def test_lookup_failure_goes_to_callback(sockets, must_call, kind):
    sender = await sockets.bound(kind, lookup=_failing_lookup)
    sender.on("error", must_call(0, name="error listener"))
    cb = must_call(1)
    sender.send(b"x", 9, "no-such-host.test", cb)
    err, sent = await cb.wait()
    assert isinstance(err, dgram.DgramError)
    assert err.syscall == "getaddrinfo"
    assert err.code
    assert sent is None
    assert len(cb.args) == 2


async def test_lookup_failure_without_callback_is_emitted_as_error(sockets, must_call, kind):
    sender = await sockets.bound(kind, lookup=_failing_lookup)
    rec = EventRecorder(sender, ("error", "close"))
    sender.send(b"x", 9, "no-such-host.test")
    err = (await rec.wait("error"))[0]
    assert isinstance(err, dgram.DgramError)
    assert err.syscall == "getaddrinfo"
    await loop_turns()
    assert rec.names == ["error"]


async def test_emsgsize_goes_to_callback_with_address_and_port(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind)
    sender.on("error", must_call(0, name="error listener"))
    port = receiver.address().port
    cb = must_call(1)
    sender.send(b"\0" * (MAX_PAYLOAD[kind] + 1), port, LOOPBACK[kind], cb)
    err, sent = await cb.wait()
    assert sent is None
    assert isinstance(err, dgram.DgramError)
    assert err.code == "EMSGSIZE"
    assert err.errno == errno.EMSGSIZE
    assert err.syscall == "send"
    assert (err.address, err.port) == (LOOPBACK[kind], port)
    assert str(err) == f"send EMSGSIZE {LOOPBACK[kind]}:{port}"
    # The socket keeps working after a failed send.
    sender.send(b"after", port, LOOPBACK[kind])
    msg, _ = await got.wait("message")
    assert msg == b"after"


async def test_emsgsize_without_callback_is_emitted_as_error(sockets, kind):
    sender = await sockets.bound(kind)
    rec = EventRecorder(sender, ("error", "close"))
    port = free_port(kind)
    sender.send(b"\0" * (MAX_PAYLOAD[kind] + 1), port, LOOPBACK[kind])
    err = (await rec.wait("error"))[0]
    assert err.code == "EMSGSIZE"
    assert err.syscall == "send"
    assert (err.address, err.port) == (LOOPBACK[kind], port)
    await loop_turns()
    assert rec.names == ["error"]


async def test_burst_loses_no_datagram_and_queue_drains(sockets, must_call, kind):
    # On loopback the kernel rarely says EAGAIN (see the namespace test for that); whatever the
    # engine queues, 2000 datagrams from a tiny send buffer must all arrive, in order.
    total = 2000
    receiver = await sockets.bound(kind, recv_buffer_size=4 * 1024 * 1024)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind, send_buffer_size=4096)
    sender.on("error", must_call(0, name="sender error listener"))
    port = receiver.address().port
    payload = b"." * 200
    for i in range(total):
        sender.send([b"%06d" % i, payload], port, LOOPBACK[kind])
    await got.wait("message", total, timeout=15)
    await wait_for(lambda: sender.get_send_queue_count() == 0, what="the send queue to drain")
    assert sender.get_send_queue_size() == 0
    seqs = [int(args[0][:6]) for args in got.args_of("message")]
    assert seqs == list(range(total))
    assert receiver.get_kernel_drops() == 0


async def test_lone_surrogates_go_out_as_replacement_characters(sockets, kind):
    """Node encodes a string as UTF-8 with U+FFFD for each lone surrogate, and a surrogate pair
    as the one character it stands for; a str with them is sent the same way, not refused with
    a bare UnicodeEncodeError."""
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind)
    port = receiver.address().port
    sender.send("a\ud800b\ud83d\ude00c\udc80", port, LOOPBACK[kind])
    sender.send(["x\udfff", b"|", "\ud800"], port, LOOPBACK[kind])
    await got.wait("message", 2)
    assert [args[0] for args in got.args_of("message")] == [
        b"a\xef\xbf\xbdb\xf0\x9f\x98\x80c\xef\xbf\xbd", b"x\xef\xbf\xbd|\xef\xbf\xbd"]


async def test_send_queue_counts_only_what_the_kernel_refused(sockets, kind):
    """As in Node, get_send_queue_size/count report the backlog of datagrams the kernel could
    not take yet, not sends still waiting for the implicit bind or for a lookup: 0 and 0."""
    sock = sockets(dgram.SocketOptions(kind, lookup=lambda host, family, callback: None))
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sock.send(b"behind the bind", receiver.address().port, LOOPBACK[kind])
    assert (sock.get_send_queue_size(), sock.get_send_queue_count()) == (0, 0)
    await next_event(sock, "listening")
    sock.send(b"behind a lookup that never ends", 9, "host.invalid")
    assert (sock.get_send_queue_size(), sock.get_send_queue_count()) == (0, 0)
    await got.wait("message")  # the first one did leave
    assert (sock.get_send_queue_size(), sock.get_send_queue_count()) == (0, 0)


# --------------------------------------------------------------------------- connected sockets


async def test_connect_then_send_without_destination(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sock = sockets(kind)
    rec = EventRecorder(sock)
    port = receiver.address().port
    connected = must_call(1, name="connect callback")
    sock.connect(port, LOOPBACK[kind], connected)
    await connected.wait()
    assert rec.names == ["listening", "connect"]
    assert sock.state == "connected"
    remote = sock.remote_address()
    assert isinstance(remote, dgram.AddressInfo)
    assert tuple(remote) == (LOOPBACK[kind], FAMILY[kind], port)
    cb = must_call(1)
    sock.send(b"to peer", None, None, cb)
    msg, rinfo = await got.wait("message")
    await cb.wait()
    assert msg == b"to peer" and rinfo.port == sock.address().port
    assert cb.args == (None, 7)


async def test_connect_without_address_means_loopback(sockets, kind):
    receiver = await sockets.bound(kind)
    sock = sockets(kind)
    sock.connect(receiver.address().port)
    await next_event(sock, "connect")
    assert sock.remote_address().address == LOOPBACK[kind]


@pytest.mark.parametrize("with_callback", [False, True], ids=["no-callback", "callback"])
async def test_send_with_destination_while_connected_raises(
    sockets, must_call, kind, with_callback
):
    # Node accepts this without a callback ("do not copy"): it must raise in both cases.
    receiver = await sockets.bound(kind)
    sock = sockets(kind)
    port = receiver.address().port
    sock.connect(port, LOOPBACK[kind])
    await next_event(sock, "connect")
    cb = must_call(0, name="send callback") if with_callback else None
    with pytest.raises(dgram.DgramError) as info:
        sock.send(b"x", port, LOOPBACK[kind], cb)
    assert info.value.code == "ERR_SOCKET_DGRAM_IS_CONNECTED"
    with pytest.raises(dgram.DgramError) as info:
        sock.send(b"x", port, None, cb)
    assert info.value.code == "ERR_SOCKET_DGRAM_IS_CONNECTED"


async def test_connect_twice_raises_is_connected(sockets, kind):
    receiver = await sockets.bound(kind)
    sock = sockets(kind)
    port = receiver.address().port
    sock.connect(port, LOOPBACK[kind])
    with pytest.raises(dgram.DgramError) as info:
        sock.connect(port, LOOPBACK[kind])  # while connecting
    assert info.value.code == "ERR_SOCKET_DGRAM_IS_CONNECTED"
    await next_event(sock, "connect")
    with pytest.raises(dgram.DgramError) as info:
        sock.connect(port, LOOPBACK[kind])
    assert info.value.code == "ERR_SOCKET_DGRAM_IS_CONNECTED"
    assert str(info.value) == "Already connected"


async def test_disconnect_and_remote_address_when_not_connected(sockets, kind):
    receiver = await sockets.bound(kind)
    sock = sockets(kind)
    for call in (sock.remote_address, sock.disconnect):
        with pytest.raises(dgram.DgramError) as info:
            call()
        assert info.value.code == "ERR_SOCKET_DGRAM_NOT_CONNECTED"
        assert str(info.value) == "Not connected"
    sock.connect(receiver.address().port, LOOPBACK[kind])
    await next_event(sock, "connect")
    sock.disconnect()
    assert sock.state == "bound"
    for call in (sock.remote_address, sock.disconnect):
        with pytest.raises(dgram.DgramError) as info:
            call()
        assert info.value.code == "ERR_SOCKET_DGRAM_NOT_CONNECTED"
    with pytest.raises(dgram.DgramError) as info:
        sock.send(b"x")  # no destination any more
    assert info.value.code == "ERR_SOCKET_BAD_PORT"


async def test_disconnected_socket_sends_with_destination_again(sockets, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sock = sockets(kind)
    port = receiver.address().port
    sock.connect(port, LOOPBACK[kind])
    await next_event(sock, "connect")
    sock.disconnect()
    sock.send(b"unconnected", port, LOOPBACK[kind])
    msg, _ = await got.wait("message")
    assert msg == b"unconnected"


async def test_connected_socket_reports_icmp_port_unreachable(sockets, kind):
    sock = sockets(kind)
    rec = EventRecorder(sock, ("listening", "connect", "error", "close"))
    sock.connect(free_port(kind), LOOPBACK[kind])
    await rec.wait("connect")
    sock.send(b"anyone?")
    err = (await rec.wait("error"))[0]
    assert isinstance(err, dgram.DgramError)
    assert err.code == "ECONNREFUSED"
    assert err.errno == errno.ECONNREFUSED
    assert err.syscall == "recvmsg"
    assert str(err) == "recvmsg ECONNREFUSED"
    assert rec.names == ["listening", "connect", "error"]


async def test_unconnected_socket_gets_no_icmp_error(sockets, must_call, kind):
    # Reference signal instead of a sleep: a connected probe sending to the same closed port
    # gets its ECONNREFUSED; by then the ICMP for the earlier unconnected send was handled too.
    closed = free_port(kind)
    sender = await sockets.bound(kind)
    sender_errors = must_call(0, name="unconnected sender's error listener")
    sender.on("error", sender_errors)
    cb = must_call(1)
    sender.send(b"nobody", closed, LOOPBACK[kind], cb)
    await cb.wait()
    assert cb.args == (None, 6)
    probe = sockets(kind)
    probe_rec = EventRecorder(probe, ("connect", "error"))
    probe.connect(closed, LOOPBACK[kind])
    await probe_rec.wait("connect")
    probe.send(b"nobody")
    await probe_rec.wait("error")
    # The sender still works and has seen no error.
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender.send(b"still fine", receiver.address().port, LOOPBACK[kind])
    await got.wait("message")
    await loop_turns()
    assert sender_errors.count == 0
