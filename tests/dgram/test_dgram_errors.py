"""Contract tests: the Errors table (one test per code) and Node's `str(err)` formats.

Argument errors are raised synchronously, are DgramError *and* TypeError/ValueError, and leave
the socket as it was (no OS socket created, no event emitted).
"""

from __future__ import annotations

import errno
import socket

import pytest

from tests.dgram.dgram_helpers import LOOPBACK
from tests.support import EventRecorder, next_event
from tests.waiting import loop_turns
from udpscope import dgram

ALL_EVENTS = ("listening", "connect", "message", "close", "error")


def _check(info, code: str, base: type[Exception]) -> dgram.DgramError:
    err = info.value
    assert isinstance(err, dgram.DgramError)
    assert isinstance(err, base)
    assert err.code == code
    return err


async def _assert_untouched(sock, rec) -> None:
    await loop_turns()
    assert rec.names == []
    assert sock.state == "unbound"
    assert sock.fileno() == -1


# --------------------------------------------------------------------------- ERR_SOCKET_BAD_TYPE


@pytest.mark.parametrize(
    "spec",
    ["udp5", "UDP4", "", None, 4, {"type": "tcp"}, {"type": None}, {}],
    ids=repr,
)
def test_bad_socket_type(spec):
    with pytest.raises(TypeError) as info:
        dgram.create_socket(spec)
    err = _check(info, "ERR_SOCKET_BAD_TYPE", TypeError)
    assert str(err) == "Bad socket type specified. Valid types are: udp4, udp6"


def test_bad_socket_type_in_socket_options():
    with pytest.raises(TypeError) as info:
        dgram.create_socket(dgram.SocketOptions(type="udp5"))
    _check(info, "ERR_SOCKET_BAD_TYPE", TypeError)


def test_good_socket_types():
    for spec in ("udp4", "udp6", dgram.SocketOptions(type="udp6"), {"type": "udp4"}):
        sock = dgram.create_socket(spec)
        assert sock.type in ("udp4", "udp6")
        assert sock.state == "unbound"


# --------------------------------------------------------------------------- ERR_SOCKET_BAD_PORT


@pytest.mark.parametrize("port", [0, -1, 65536, 1.5, None, "x", True], ids=repr)
async def test_bad_port_on_send(sockets, kind, port):
    sock = sockets(kind)
    rec = EventRecorder(sock, ALL_EVENTS)
    with pytest.raises(ValueError) as info:
        sock.send(b"x", port, LOOPBACK[kind])
    err = _check(info, "ERR_SOCKET_BAD_PORT", ValueError)
    assert str(err).startswith("Port should be > 0 and < 65536.")
    await _assert_untouched(sock, rec)


@pytest.mark.parametrize("port", [0, -1, 65536, 1.5, None, "x"], ids=repr)
async def test_bad_port_on_connect(sockets, kind, port):
    sock = sockets(kind)
    rec = EventRecorder(sock, ALL_EVENTS)
    with pytest.raises(ValueError) as info:
        sock.connect(port, LOOPBACK[kind])
    err = _check(info, "ERR_SOCKET_BAD_PORT", ValueError)
    assert str(err).startswith("Port should be > 0 and < 65536.")
    await _assert_untouched(sock, rec)


@pytest.mark.parametrize("port", [-1, 65536, 1.5, "x"], ids=repr)
async def test_bad_port_on_bind(sockets, kind, port):
    # Node validates this asynchronously; the contract wants argument errors raised at once.
    sock = sockets(kind)
    rec = EventRecorder(sock, ALL_EVENTS)
    with pytest.raises(ValueError) as info:
        sock.bind(port, LOOPBACK[kind])
    err = _check(info, "ERR_SOCKET_BAD_PORT", ValueError)
    assert str(err).startswith("Port should be >= 0 and < 65536.")
    await _assert_untouched(sock, rec)


async def test_bind_port_zero_is_valid(sockets, kind):
    sock = sockets(kind)
    sock.bind(0, LOOPBACK[kind])  # 0 (random port) is valid for bind, not for send
    await next_event(sock, "listening")


# --------------------------------------------------------------------------- ERR_INVALID_ARG_TYPE


INVALID_ARGS = [
    pytest.param(lambda s, k: s.send(b"x", 9, 5), id="send-address-int"),
    pytest.param(lambda s, k: s.send(b"x", 9, b"127.0.0.1"), id="send-address-bytes"),
    pytest.param(lambda s, k: s.send(5, 9, LOOPBACK[k]), id="send-msg-int"),
    pytest.param(lambda s, k: s.send(None, 9, LOOPBACK[k]), id="send-msg-none"),
    pytest.param(lambda s, k: s.send([b"a", 5], 9, LOOPBACK[k]), id="send-list-with-int"),
    pytest.param(lambda s, k: s.send({b"a"}, 9, LOOPBACK[k]), id="send-msg-set"),
    pytest.param(lambda s, k: s.bind(0, 5), id="bind-address-int"),
    pytest.param(lambda s, k: s.connect(9, 5), id="connect-address-int"),
    pytest.param(lambda s, k: s.set_ttl("64"), id="set_ttl-str"),
    pytest.param(lambda s, k: s.set_ttl(1.5), id="set_ttl-float"),
    pytest.param(lambda s, k: s.set_multicast_interface(None), id="set_multicast_interface-none"),
]


@pytest.mark.parametrize("call", INVALID_ARGS)
async def test_invalid_arg_type(sockets, kind, call):
    sock = sockets(kind)
    rec = EventRecorder(sock, ALL_EVENTS)
    with pytest.raises(TypeError) as info:
        call(sock, kind)
    _check(info, "ERR_INVALID_ARG_TYPE", TypeError)
    await _assert_untouched(sock, rec)


@pytest.mark.parametrize("lookup", [5, "getaddrinfo"], ids=repr)
def test_lookup_must_be_callable(lookup):
    for spec in (
        dgram.SocketOptions(type="udp4", lookup=lookup),
        {"type": "udp4", "lookup": lookup},
    ):
        with pytest.raises(TypeError) as info:
            dgram.create_socket(spec)
        _check(info, "ERR_INVALID_ARG_TYPE", TypeError)


# --------------------------------------------------------------------------- ERR_BUFFER_OUT_OF_BOUNDS


@pytest.mark.parametrize(
    ("offset", "length"),
    [(4, None), (1, 5), (0, 4), (3, 1), (-1, None), (0, -1)],
    ids=lambda v: repr(v),
)
async def test_buffer_out_of_bounds(sockets, kind, offset, length):
    sock = sockets(kind)
    rec = EventRecorder(sock, ALL_EVENTS)
    with pytest.raises(ValueError) as info:
        sock.send(b"abc", 9, LOOPBACK[kind], offset=offset, length=length)
    _check(info, "ERR_BUFFER_OUT_OF_BOUNDS", ValueError)
    await _assert_untouched(sock, rec)


# --------------------------------------------------------------------------- ERR_MISSING_ARGS


@pytest.mark.parametrize("call", ["add_membership", "drop_membership"])
async def test_missing_group(sockets, kind, call):
    sock = sockets(kind)
    with pytest.raises(TypeError) as info:
        getattr(sock, call)()
    err = _check(info, "ERR_MISSING_ARGS", TypeError)
    assert str(err) == 'The "multicastAddress" argument must be specified'
    assert sock.fileno() == -1


# --------------------------------------------------------------------------- state errors


async def test_already_bound(sockets, kind):
    sock = await sockets.bound(kind)
    with pytest.raises(dgram.DgramError) as info:
        sock.bind(0, LOOPBACK[kind])
    assert info.value.code == "ERR_SOCKET_ALREADY_BOUND"


async def test_not_running(sockets, kind):
    sock = sockets(kind)
    sock.close()
    with pytest.raises(dgram.DgramError) as info:
        sock.send(b"x", 9, LOOPBACK[kind])
    assert info.value.code == "ERR_SOCKET_DGRAM_NOT_RUNNING"
    assert str(info.value) == "Not running"


async def test_is_connected_and_not_connected(sockets, kind):
    peer = await sockets.bound(kind)
    sock = sockets(kind)
    with pytest.raises(dgram.DgramError) as info:
        sock.remote_address()
    assert info.value.code == "ERR_SOCKET_DGRAM_NOT_CONNECTED"
    sock.connect(peer.address().port, LOOPBACK[kind])
    await next_event(sock, "connect")
    with pytest.raises(dgram.DgramError) as info:
        sock.send(b"x", peer.address().port, LOOPBACK[kind])
    assert info.value.code == "ERR_SOCKET_DGRAM_IS_CONNECTED"


def _lookup_failing_for_invalid(host, family, callback):
    """A resolver with no network: names ending in .invalid do not exist, literals resolve."""
    if host.endswith(".invalid"):
        callback(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    else:
        callback(None, host, family)


@pytest.mark.parametrize(
    "address,code,message",
    [("nowhere.invalid", "ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.invalid"),
     ("::1", "EINVAL", "connect EINVAL ::1:9")],  # an IPv6 peer for a udp4 socket
    ids=["lookup", "connect"],
)
async def test_a_failed_connect_calls_back_with_the_error_alone(
    sockets, must_call, address, code, message
):
    """Node calls a connect callback as cb(err) on failure (cb() on success), never (err, x)."""
    sock = sockets(dgram.SocketOptions("udp4", lookup=_lookup_failing_for_invalid))
    sock.on("error", must_call(0, name="error listener"))
    sock.on("connect", must_call(0, name="connect listener"))
    done = must_call(1, name="connect callback")
    sock.connect(9, address, done)
    (err,) = await done.wait()
    assert (err.code, str(err)) == (code, message)
    assert sock.state == "bound"  # not connected, and connect may be tried again
    assert sock.listener_count("connect") == 1  # the failed callback was removed


@pytest.mark.parametrize("size", [0, -5, 2.5, "1024"], ids=repr)
def test_bad_buffer_size_in_options(size):
    with pytest.raises(TypeError) as info:
        dgram.create_socket(dgram.SocketOptions(type="udp4", recv_buffer_size=size))
    _check(info, "ERR_SOCKET_BAD_BUFFER_SIZE", TypeError)


# --------------------------------------------------------------------------- message formats


async def test_system_error_messages_match_node(sockets, kind):
    taken = await sockets.bound(kind)
    port = taken.address().port
    unbound = sockets(kind)
    with pytest.raises(dgram.DgramError) as info:
        unbound.address()
    assert str(info.value) == "getsockname EBADF"
    with pytest.raises(dgram.DgramError) as info:
        unbound.set_ttl(1000)
    assert str(info.value) == "setTTL EINVAL"

    clash = sockets(kind)
    rec = EventRecorder(clash, ("error",))
    clash.bind(port, LOOPBACK[kind])
    err = (await rec.wait("error"))[0]
    assert str(err) == f"bind EADDRINUSE {LOOPBACK[kind]}:{port}"
    assert (err.errno, err.syscall, err.address, err.port) == (
        errno.EADDRINUSE,
        "bind",
        LOOPBACK[kind],
        port,
    )

    big = {"udp4": 65508, "udp6": 65528}[kind]
    err, sent = await _send_result(taken, b"\0" * big, port, LOOPBACK[kind])
    assert str(err) == f"send EMSGSIZE {LOOPBACK[kind]}:{port}"
    assert sent is None


async def _send_result(sock, msg, port, address):
    from tests.support import MustCall

    cb = MustCall(1)
    sock.send(msg, port, address, cb)
    await cb.wait()
    cb.verify()
    return cb.args
