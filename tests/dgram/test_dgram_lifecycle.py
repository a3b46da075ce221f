"""Contract tests: socket lifecycle (lazy OS socket, async events, listening, failed bind, close).

Each test is one bullet of "Semantics that must hold / Lifecycle" in the engine contract; event
order and counts are asserted exactly, on loopback, with port 0 and bounded waits.
"""

from __future__ import annotations

import errno

import pytest

from tests.dgram.dgram_helpers import ANY, FAMILY, LOOPBACK, raw_socket
from tests.support import EventRecorder, next_event
from tests.waiting import loop_turns, wait_for
from udpscope import dgram

# --------------------------------------------------------------------------- lazy OS socket


async def test_address_before_bind_is_ebadf(kind):
    sock = dgram.create_socket(kind)
    with pytest.raises(dgram.DgramError) as info:
        sock.address()
    err = info.value
    assert err.code == "EBADF"
    assert err.errno == errno.EBADF
    assert err.syscall == "getsockname"
    assert str(err) == "getsockname EBADF"
    assert sock.fileno() == -1  # asking did not create the OS socket
    sock.close()


SETTERS = [
    pytest.param(lambda s, k: s.set_broadcast(True), "setBroadcast", id="set_broadcast"),
    pytest.param(lambda s, k: s.set_ttl(64), "setTTL", id="set_ttl"),
    pytest.param(lambda s, k: s.set_multicast_ttl(1), "setMulticastTTL", id="set_multicast_ttl"),
    pytest.param(
        lambda s, k: s.set_multicast_loopback(True),
        "setMulticastLoopback",
        id="set_multicast_loopback",
    ),
    pytest.param(
        lambda s, k: s.set_multicast_interface("127.0.0.1" if k == "udp4" else "::%lo"),
        "setMulticastInterface",
        id="set_multicast_interface",
    ),
]


@pytest.mark.parametrize(("call", "syscall"), SETTERS)
async def test_option_setters_before_bind_are_ebadf(kind, call, syscall):
    sock = dgram.create_socket(kind)
    with pytest.raises(dgram.DgramError) as info:
        call(sock, kind)
    assert info.value.code == "EBADF"
    assert info.value.errno == errno.EBADF
    assert info.value.syscall == syscall
    assert str(info.value) == f"{syscall} EBADF"
    assert sock.fileno() == -1
    assert sock.state == "unbound"
    sock.close()


BUFFER_CALLS = [
    pytest.param(lambda s: s.get_recv_buffer_size(), id="get_recv_buffer_size"),
    pytest.param(lambda s: s.get_send_buffer_size(), id="get_send_buffer_size"),
    pytest.param(lambda s: s.set_recv_buffer_size(8192), id="set_recv_buffer_size"),
    pytest.param(lambda s: s.set_send_buffer_size(8192), id="set_send_buffer_size"),
]


@pytest.mark.parametrize("call", BUFFER_CALLS)
async def test_buffer_size_calls_before_bind_fail_with_ebadf(kind, call):
    # Node reports these as ERR_SOCKET_BUFFER_SIZE wrapping EBADF; the contract says EBADF.
    sock = dgram.create_socket(kind)
    with pytest.raises(dgram.DgramError) as info:
        call(sock)
    assert info.value.code in ("EBADF", "ERR_SOCKET_BUFFER_SIZE")
    assert info.value.errno == errno.EBADF
    assert sock.fileno() == -1
    sock.close()


@pytest.mark.parametrize(
    ("call", "text"),
    [
        pytest.param(lambda s: s.set_ttl(1000), "setTTL EINVAL", id="ttl-1000"),
        pytest.param(lambda s: s.set_ttl(0), "setTTL EINVAL", id="ttl-0"),
        pytest.param(lambda s: s.set_multicast_ttl(256), "setMulticastTTL EINVAL", id="mttl-256"),
        pytest.param(lambda s: s.set_multicast_ttl(-1), "setMulticastTTL EINVAL", id="mttl-neg"),
    ],
)
async def test_range_check_comes_before_ebadf(kind, call, text):
    sock = dgram.create_socket(kind)
    with pytest.raises(dgram.DgramError) as info:
        call(sock)
    assert info.value.code == "EINVAL"
    assert info.value.errno == errno.EINVAL
    assert str(info.value) == text
    assert sock.fileno() == -1
    sock.close()


async def test_os_socket_created_at_bind(sockets, kind):
    sock = sockets(kind)
    assert sock.fileno() == -1
    sock.bind(0, LOOPBACK[kind])
    await next_event(sock, "listening")
    assert sock.fileno() >= 0
    assert sock.address().family == FAMILY[kind]


async def test_os_socket_created_at_first_membership_call(sockets, kind):
    # A failing membership call still needs the OS socket; after it the setters work.
    sock = sockets(kind)
    with pytest.raises(dgram.DgramError) as info:
        sock.add_membership(LOOPBACK[kind])  # not a multicast group: EINVAL, nothing joined
    assert info.value.code == "EINVAL"
    assert sock.fileno() >= 0
    assert sock.set_ttl(3) == 3


# --------------------------------------------------------------------------- asynchronous events


async def test_bind_emits_nothing_before_returning(sockets, must_call, kind):
    sock = sockets(kind)
    rec = EventRecorder(sock)
    cb = must_call(1, lambda: rec.marker("bind-callback"), name="bind callback")
    sock.bind(0, LOOPBACK[kind], cb)
    rec.marker("returned")
    await rec.wait("listening")
    await cb.wait()
    assert rec.names == ["#returned", "listening", "#bind-callback"]


async def test_send_callback_runs_after_send_returns(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    sender = sockets(kind)
    rec = EventRecorder(sender)
    cb = must_call(1, lambda err, n: rec.marker(f"send-callback {err} {n}"), name="send callback")
    sender.send(b"abc", receiver.address().port, LOOPBACK[kind], cb)
    rec.marker("returned")
    await cb.wait()
    assert rec.names == ["#returned", "listening", "#send-callback None 3"]


async def test_send_on_bound_socket_calls_back_after_returning(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    sender = await sockets.bound(kind)
    order: list[str] = []
    cb = must_call(1, lambda err, n: order.append("callback"))
    sender.send(b"abc", receiver.address().port, LOOPBACK[kind], cb)
    order.append("returned")
    await cb.wait()
    assert order == ["returned", "callback"]


async def test_close_emits_after_returning(sockets, must_call, kind):
    sock = await sockets.bound(kind)
    rec = EventRecorder(sock)
    cb = must_call(1, lambda: rec.marker("close-callback"), name="close callback")
    sock.close(cb)
    rec.marker("returned")
    await cb.wait()
    assert rec.names == ["#returned", "close", "#close-callback"]


async def test_connect_emits_after_returning(sockets, must_call, kind):
    peer = await sockets.bound(kind)
    sock = sockets(kind)
    rec = EventRecorder(sock)
    cb = must_call(1, lambda: rec.marker("connect-callback"), name="connect callback")
    sock.connect(peer.address().port, LOOPBACK[kind], cb)
    rec.marker("returned")
    await cb.wait()
    assert rec.names == ["#returned", "listening", "connect", "#connect-callback"]


async def test_failed_bind_error_emitted_after_returning(sockets, must_call, kind):
    taken = await sockets.bound(kind)
    sock = sockets(kind)
    rec = EventRecorder(sock, ("listening", "error", "close"))
    sock.bind(taken.address().port, LOOPBACK[kind], must_call(0, name="bind callback"))
    rec.marker("returned")
    await rec.wait("error")
    assert rec.names == ["#returned", "error"]


async def test_emit_calls_listeners_synchronously_in_order(sockets):
    sock = sockets("udp4")
    calls: list[tuple[str, tuple]] = []
    sock.on("custom", lambda *a: calls.append(("first", a)))
    sock.once("custom", lambda *a: calls.append(("once", a)))
    sock.on("custom", lambda *a: calls.append(("third", a)))
    assert sock.emit("custom", 1, "x") is True
    assert calls == [("first", (1, "x")), ("once", (1, "x")), ("third", (1, "x"))]
    assert sock.emit("custom") is True
    assert [name for name, _ in calls[3:]] == ["first", "third"]
    assert sock.emit("nobody-listens", 1) is False


async def test_on_once_off_return_the_socket_and_count_listeners(sockets):
    sock = sockets("udp4")

    def listener() -> None:
        pass

    assert sock.on("listening", listener) is sock
    assert sock.once("listening", listener) is sock
    assert sock.listener_count("listening") == 2
    assert sock.off("listening", listener) is sock
    assert sock.listener_count("listening") == 1
    sock.on("close", listener)
    sock.remove_all_listeners("listening")
    assert sock.listener_count("listening") == 0
    assert sock.listener_count("close") == 1
    sock.remove_all_listeners()
    assert sock.listener_count("close") == 0


async def test_emit_error_without_listener_raises(sockets):
    sock = sockets("udp4")
    err = dgram.DgramError("EFAKE", "fake failure")
    with pytest.raises(dgram.DgramError) as info:
        sock.emit("error", err)
    assert info.value is err


async def test_emit_error_with_listener_does_not_raise(sockets, must_call):
    sock = sockets("udp4")
    err = dgram.DgramError("EFAKE", "fake failure")
    listener = must_call(1)
    sock.on("error", listener)
    assert sock.emit("error", err) is True
    assert listener.args == (err,)


# --------------------------------------------------------------------------- listening / bind


async def test_listening_once_and_bind_callback_is_one_shot_listener(sockets, must_call, kind):
    # Node order: listeners added before bind(), then the bind callback, then later listeners.
    sock = sockets(kind)
    order: list[tuple[str, tuple]] = []
    before = must_call(1, lambda *a: order.append(("before", a)), name="listener before bind")
    callback = must_call(1, lambda *a: order.append(("callback", a)), name="bind callback")
    after = must_call(1, lambda *a: order.append(("after", a)), name="listener after bind")
    sock.on("listening", before)
    sock.bind(0, LOOPBACK[kind], callback)
    assert sock.listener_count("listening") == 2  # the callback is a listening listener
    sock.on("listening", after)
    await after.wait()
    assert order == [("before", ()), ("callback", ()), ("after", ())]
    assert sock.listener_count("listening") == 2  # ... and a one-shot one
    # A round trip through the socket afterwards emits no second `listening`.
    got = next_event(sock, "message")
    sock.send(b"ping", sock.address().port, LOOPBACK[kind])
    await got
    await loop_turns()
    assert before.count == 1 and after.count == 1


async def test_bind_without_address_means_all_interfaces(sockets, kind):
    sock = sockets(kind)
    sock.bind()
    await next_event(sock, "listening")
    info = sock.address()
    assert isinstance(info, dgram.AddressInfo)
    assert (info.address, info.family) == (ANY[kind], FAMILY[kind])
    assert 0 < info.port < 65536


async def test_bind_port_zero_picks_distinct_random_ports(sockets, kind):
    first = await sockets.bound(kind)
    second = await sockets.bound(kind)
    assert first.address().port != 0
    assert second.address().port not in (0, first.address().port)
    assert first.address().address == LOOPBACK[kind]


async def test_bind_accepts_callback_as_only_argument(sockets, must_call, kind):
    sock = sockets(kind)
    cb = must_call(1)
    sock.bind(cb)
    await cb.wait()
    assert sock.address().address == ANY[kind]
    assert sock.address().port != 0


async def test_bind_while_binding_or_bound_raises_already_bound(sockets, kind):
    sock = sockets(kind)
    sock.bind(0, LOOPBACK[kind])
    with pytest.raises(dgram.DgramError) as info:
        sock.bind(0, LOOPBACK[kind])
    assert info.value.code == "ERR_SOCKET_ALREADY_BOUND"
    await next_event(sock, "listening")
    with pytest.raises(dgram.DgramError) as info:
        sock.bind()
    assert info.value.code == "ERR_SOCKET_ALREADY_BOUND"
    assert str(info.value) == "Socket is already bound"


# --------------------------------------------------------------------------- failed bind


async def test_failed_bind_is_emitted_not_raised_and_socket_can_bind_again(
    sockets, must_call, kind
):
    taken = await sockets.bound(kind)
    port = taken.address().port
    sock = sockets(kind)
    rec = EventRecorder(sock, ("listening", "error", "close"))
    dropped_callback = must_call(0, name="callback of the failed bind")
    sock.bind(port, LOOPBACK[kind], dropped_callback)  # must not raise
    err = (await rec.wait("error"))[0]
    assert isinstance(err, dgram.DgramError)
    assert err.code == "EADDRINUSE"
    assert err.errno == errno.EADDRINUSE
    assert err.syscall == "bind"
    assert (err.address, err.port) == (LOOPBACK[kind], port)
    assert str(err) == f"bind EADDRINUSE {LOOPBACK[kind]}:{port}"
    assert sock.state == "unbound"
    assert sock.listener_count("listening") == 1  # only the recorder: the callback was dropped

    second_callback = must_call(1, name="callback of the second bind")
    sock.bind(0, LOOPBACK[kind], second_callback)
    await second_callback.wait()
    await loop_turns()
    assert rec.names == ["error", "listening"]
    assert sock.address().port not in (0, port)
    assert sock.state == "bound"


async def test_failed_bind_eaddrnotavail_is_emitted(sockets, must_call, kind):
    # Documentation-range addresses that are not configured on this host: bind fails locally.
    foreign = {"udp4": "192.0.2.1", "udp6": "2001:db8::1"}[kind]
    sock = sockets(kind)
    rec = EventRecorder(sock, ("listening", "error"))
    sock.bind(0, foreign, must_call(0, name="bind callback"))
    err = (await rec.wait("error"))[0]
    assert err.code == "EADDRNOTAVAIL"
    assert err.syscall == "bind"
    assert err.address == foreign
    await loop_turns()
    assert rec.names == ["error"]
    assert sock.state == "unbound"


async def test_failed_bind_lookup_is_emitted_and_socket_can_bind_again(sockets, must_call, kind):
    def lookup(hostname, family, callback):
        callback(OSError(errno.ENOENT, "no such host"), None, None)

    sock = sockets(kind, lookup=lookup)
    rec = EventRecorder(sock, ("listening", "error"))
    sock.bind(0, "no-such-host.test", must_call(0, name="bind callback"))
    err = (await rec.wait("error"))[0]
    assert isinstance(err, dgram.DgramError)
    assert err.syscall == "getaddrinfo"
    assert sock.state == "unbound"
    cb = must_call(1, name="second bind callback")
    sock.bind(0, LOOPBACK[kind], cb)
    await cb.wait()
    assert rec.names == ["error", "listening"]


# --------------------------------------------------------------------------- close


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
async def test_close_emitted_once_and_second_close_raises(sockets, must_call, kind, bound):
    sock = await sockets.bound(kind) if bound else sockets(kind)
    rec = EventRecorder(sock)
    cb = must_call(1, lambda *a: rec.marker(f"callback{a}"), name="close callback")
    assert sock.close(cb) is sock
    assert sock.state == "closed"
    with pytest.raises(dgram.DgramError) as info:
        sock.close()
    assert info.value.code == "ERR_SOCKET_DGRAM_NOT_RUNNING"
    assert str(info.value) == "Not running"
    await cb.wait()
    await loop_turns()
    assert rec.records == [("close", ()), ("#callback()", ())]
    assert sock.fileno() == -1


async def test_no_message_after_close_even_if_already_queued(sockets, must_call, kind):
    # Five datagrams are in the kernel's queue before the engine gets to read any of them; the
    # first message listener closes the socket: the other four must never be emitted.
    receiver = await sockets.bound(kind)
    rec = EventRecorder(receiver)
    receiver.on("message", lambda msg, rinfo: receiver.close())
    with raw_socket(kind) as peer:
        for i in range(5):
            peer.sendto(b"m%d" % i, (LOOPBACK[kind], receiver.address().port))
    await rec.wait("close")
    await loop_turns(20)
    assert rec.names == ["message", "close"]
    assert rec.args_of("message")[0][0] == b"m0"


async def test_close_before_reading_drops_kernel_queued_datagrams(sockets, kind):
    receiver = await sockets.bound(kind)
    rec = EventRecorder(receiver)
    with raw_socket(kind) as peer:
        for i in range(3):
            peer.sendto(b"m%d" % i, (LOOPBACK[kind], receiver.address().port))
    receiver.close()  # the engine has had no chance to read: nothing may be emitted now
    await rec.wait("close")
    await loop_turns(20)
    assert rec.names == ["close"]


async def test_close_drops_sends_queued_behind_pending_bind(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind)
    rec = EventRecorder(sender, ("listening", "message", "close", "error"))
    port = receiver.address().port
    sender.send(b"dropped-1", port, LOOPBACK[kind], must_call(0, name="send callback 1"))
    sender.send(b"dropped-2", port, LOOPBACK[kind], must_call(0, name="send callback 2"))
    sender.close()
    await rec.wait("close")
    # Nothing can leave a closed socket; a sentinel sent now arrives after anything sent before.
    with raw_socket(kind) as peer:
        peer.sendto(b"sentinel", (LOOPBACK[kind], port))
    await got.wait("message")
    await loop_turns()
    assert [args[0] for args in got.args_of("message")] == [b"sentinel"]
    assert rec.count("close") == 1
    assert rec.count("error") == 0


async def test_close_drops_sends_waiting_for_lookup(sockets, must_call, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    pending: list = []

    def lookup(hostname, family, callback):
        pending.append(callback)

    sender = sockets(kind, lookup=lookup)
    rec = EventRecorder(sender, ("listening", "close", "error"))
    port = receiver.address().port
    sender.send(b"dropped", port, "peer.test", must_call(0, name="send callback"))
    await wait_for(lambda: pending, what="the lookup to be called")
    sender.close()
    pending[0](None, LOOPBACK[kind], 4 if kind == "udp4" else 6)  # the answer comes too late
    await rec.wait("close")
    with raw_socket(kind) as peer:
        peer.sendto(b"sentinel", (LOOPBACK[kind], port))
    await got.wait("message")
    await loop_turns()
    assert [args[0] for args in got.args_of("message")] == [b"sentinel"]
    assert rec.count("error") == 0


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s, k: s.bind(), id="bind"),
        pytest.param(lambda s, k: s.send(b"x", 9, LOOPBACK[k]), id="send"),
        pytest.param(lambda s, k: s.connect(9, LOOPBACK[k]), id="connect"),
        pytest.param(lambda s, k: s.address(), id="address"),
        pytest.param(lambda s, k: s.remote_address(), id="remote_address"),
        pytest.param(lambda s, k: s.disconnect(), id="disconnect"),
        pytest.param(lambda s, k: s.set_ttl(5), id="set_ttl"),
        pytest.param(lambda s, k: s.set_multicast_ttl(5), id="set_multicast_ttl"),
        pytest.param(lambda s, k: s.set_broadcast(True), id="set_broadcast"),
        pytest.param(lambda s, k: s.set_multicast_loopback(True), id="set_multicast_loopback"),
        pytest.param(
            lambda s, k: s.set_multicast_interface(LOOPBACK[k] if k == "udp4" else "::%lo"),
            id="set_multicast_interface",
        ),
        pytest.param(
            lambda s, k: s.add_membership("239.255.0.1" if k == "udp4" else "ff15::1"),
            id="add_membership",
        ),
        pytest.param(
            lambda s, k: s.drop_membership("239.255.0.1" if k == "udp4" else "ff15::1"),
            id="drop_membership",
        ),
        pytest.param(lambda s, k: s.get_recv_buffer_size(), id="get_recv_buffer_size"),
        pytest.param(lambda s, k: s.set_recv_buffer_size(8192), id="set_recv_buffer_size"),
        pytest.param(lambda s, k: s.get_send_buffer_size(), id="get_send_buffer_size"),
        pytest.param(lambda s, k: s.set_send_buffer_size(8192), id="set_send_buffer_size"),
        pytest.param(lambda s, k: s.get_send_queue_size(), id="get_send_queue_size"),
        pytest.param(lambda s, k: s.get_send_queue_count(), id="get_send_queue_count"),
        pytest.param(lambda s, k: s.get_ttl(), id="get_ttl"),
        pytest.param(lambda s, k: s.get_multicast_ttl(), id="get_multicast_ttl"),
        pytest.param(lambda s, k: s.get_broadcast(), id="get_broadcast"),
        pytest.param(lambda s, k: s.get_multicast_loopback(), id="get_multicast_loopback"),
    ],
)
async def test_operations_after_close_raise_not_running(sockets, kind, call):
    # Node throws a bare TypeError for the setters here ("do not copy"): NOT_RUNNING instead.
    sock = await sockets.bound(kind)
    sock.close()
    with pytest.raises(dgram.DgramError) as info:
        call(sock, kind)
    assert info.value.code == "ERR_SOCKET_DGRAM_NOT_RUNNING"


async def test_ref_and_unref_are_no_ops_on_a_closed_socket(sockets, kind):
    sock = await sockets.bound(kind)
    sock.close()
    assert sock.ref() is sock
    assert sock.unref() is sock
    assert sock.unref() is sock
    assert sock.ref() is sock
    assert sock.state == "closed"


async def test_listener_args_for_listening_connect_close_are_empty(sockets, must_call, kind):
    peer = await sockets.bound(kind)
    sock = sockets(kind)
    rec = EventRecorder(sock)
    sock.connect(peer.address().port, LOOPBACK[kind])
    await rec.wait("connect")
    sock.close()
    await rec.wait("close")
    assert rec.records == [("listening", ()), ("connect", ()), ("close", ())]
