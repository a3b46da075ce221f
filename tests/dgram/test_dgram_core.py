"""Node's dgram rules, checked on the sans-I/O core alone: no socket, no event loop.

Each test plays the shell's part by hand: it calls the core as `Socket` would, performs nothing,
and reports outcomes (`bound`, `resolved`, `connected`, ...) itself, then checks what the core
answers. A rule broken here is broken for every socket, whatever the loop.
"""

from __future__ import annotations

import pytest

from udpscope.dgram.core import (
    Bind,
    Connect,
    Fail,
    Resolve,
    SocketCore,
    Transmit,
)
from udpscope.dgram.errors import DgramError


def _code(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return getattr(excinfo.value, "code", "")


def cb(*args: object) -> None:
    """A callback stand-in (the core never calls callbacks: it hands them back)."""


def bound_core(kind: str = "udp4") -> SocketCore:
    core = SocketCore(kind)
    assert core.bind(0, None, None) == Bind("0.0.0.0" if kind == "udp4" else "::", 0)
    core.bound()
    return core


def drain(core: SocketCore) -> list[object]:
    """Every action the core hands out until it must wait."""
    actions = []
    while (action := core.next_action()) is not None:
        actions.append(action)
    return actions


# ---------------------------------------------------------------------- bind
def test_a_new_core_is_unbound_and_keeps_nothing_alive() -> None:
    core = SocketCore("udp6")
    assert core.state == "unbound"
    assert not core.keeps_alive
    assert not core.idle_bound and not core.idle_connected
    assert core.next_action() is None


def test_bind_answers_where_to_bind_and_is_binding_until_bound() -> None:
    core = SocketCore("udp4")
    assert core.bind(41234, "10.0.0.1", cb) == Bind("10.0.0.1", 41234)
    assert core.state == "binding" and core.keeps_alive
    core.bound()
    assert core.state == "bound" and core.idle_bound


@pytest.mark.parametrize("kind,any_address", [("udp4", "0.0.0.0"), ("udp6", "::")])
def test_bind_without_address_means_all_interfaces(kind: str, any_address: str) -> None:
    assert SocketCore(kind).bind("0", None, None) == Bind(any_address, 0)


def test_bind_while_binding_or_bound_is_already_bound() -> None:
    core = SocketCore("udp4")
    core.bind(0, None, None)
    with pytest.raises(DgramError) as binding:
        core.bind(0, None, None)
    core.bound()
    with pytest.raises(DgramError) as bound:
        core.bind(0, None, None)
    assert _code(binding) == _code(bound) == "ERR_SOCKET_ALREADY_BOUND"


def test_bind_checks_closed_then_bound_then_arguments_and_changes_nothing_on_error() -> None:
    core = SocketCore("udp4")
    with pytest.raises(ValueError) as port:
        core.bind(70000, None, None)
    with pytest.raises(TypeError) as address:
        core.bind(0, 7, None)
    with pytest.raises(TypeError) as callback:
        core.bind(0, None, "not callable")
    assert [_code(port), _code(address), _code(callback)] == [
        "ERR_SOCKET_BAD_PORT", "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"]
    assert core.state == "unbound"
    core.close()
    with pytest.raises(DgramError) as closed:
        core.bind(70000, None, None)  # closed comes before the port check
    assert _code(closed) == "ERR_SOCKET_DGRAM_NOT_RUNNING"


def test_a_failed_bind_drops_queued_sends_and_allows_another_bind() -> None:
    core = SocketCore("udp4")
    assert isinstance(core.send(b"a", 9, "127.0.0.1", cb), Bind)
    assert core.queued == 1
    assert core.bind_failed() is None
    assert core.state == "unbound" and core.queued == 0 and not core.keeps_alive
    assert core.bind(0, None, None) == Bind("0.0.0.0", 0)  # a retry is allowed
    core.bound()
    assert drain(core) == []  # and the dropped send stays dropped


# ---------------------------------------------------------------------- send
def test_sends_before_bind_bind_once_and_go_out_in_call_order() -> None:
    core = SocketCore("udp4")
    assert core.send(b"1", 9, None, cb) == Bind("0.0.0.0", 0)  # the implicit bind
    assert core.send(b"2", 9, "127.0.0.2", None) is None  # queued, no second bind
    assert core.send(b"", 10, "::1", cb) is None
    assert core.next_action() is None  # nothing leaves before the bind
    core.bound()
    assert drain(core) == [
        Transmit(b"1", "127.0.0.1", 9, cb),  # no address: loopback of the family
        Transmit(b"2", "127.0.0.2", 9, None),
        Transmit(b"", "::1", 10, cb),  # a literal of the other family is used as it is
    ]
    assert core.idle_bound


def test_an_idle_bound_socket_transmits_a_literal_send_at_once() -> None:
    core = bound_core("udp6")
    assert core.send(b"x", "41234", None, cb) == Transmit(b"x", "::1", 41234, cb)
    assert core.queued == 0


def test_a_host_name_is_resolved_and_later_sends_wait_behind_it() -> None:
    core = bound_core()
    assert core.send(b"by-name", 9, "localhost", None) is None
    assert not core.idle_bound
    assert core.send(b"literal", 9, "127.0.0.1", None) is None  # may not overtake
    resolve = core.next_action()
    assert isinstance(resolve, Resolve) and resolve.request.address == "localhost"
    assert core.next_action() is None  # one lookup at a time, the head waits
    core.resolved(resolve.request, None, "127.0.0.9")
    assert drain(core) == [Transmit(b"by-name", "127.0.0.9", 9, None),
                           Transmit(b"literal", "127.0.0.1", 9, None)]


def test_a_failed_lookup_fails_its_own_send_only() -> None:
    core = bound_core()
    core.send(b"bad", 9, "nowhere.invalid", cb)
    core.send(b"good", 9, "127.0.0.1", cb)
    resolve = core.next_action()
    assert isinstance(resolve, Resolve)
    error = DgramError("ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.invalid")
    core.resolved(resolve.request, error, None)
    assert drain(core) == [Fail(error, cb), Transmit(b"good", "127.0.0.1", 9, cb)]


@pytest.mark.parametrize("port", [None, 0, 65536, -1, "x", 1.5, True])
def test_an_unconnected_send_needs_a_port_from_1_to_65535(port: object) -> None:
    core = bound_core()
    with pytest.raises(ValueError) as excinfo:
        core.send(b"x", port, "127.0.0.1", None)
    assert _code(excinfo) == "ERR_SOCKET_BAD_PORT"
    assert core.queued == 0


def test_send_after_close_checks_arguments_first_then_closed() -> None:
    core = bound_core()
    core.close()
    with pytest.raises(ValueError):
        core.send(b"x", 0, None, None)
    with pytest.raises(DgramError) as closed:
        core.send(b"x", 9, None, None)
    assert _code(closed) == "ERR_SOCKET_DGRAM_NOT_RUNNING"


# ---------------------------------------------------------------------- connect
def test_connect_queues_behind_the_bind_and_sends_wait_for_it() -> None:
    core = SocketCore("udp4")
    assert core.connect(9, None, cb) == Bind("0.0.0.0", 0)
    assert core.state == "binding" and core.connect_state == 1  # connecting
    assert core.send(b"to-peer", None, None, None) is None  # queued as a connected send
    core.bound()
    connect = core.next_action()
    assert isinstance(connect, Connect)
    assert (connect.request.ip, connect.request.port) == ("127.0.0.1", 9)
    core.connected()
    assert core.state == "connected"
    assert drain(core) == [Transmit(b"to-peer", None, None, None)]
    assert core.idle_connected and not core.idle_bound
    assert core.send(b"now", None, None, cb) == Transmit(b"now", None, None, cb)


def test_connect_twice_or_a_destination_while_connected_is_an_error() -> None:
    core = bound_core()
    core.connect(9, "127.0.0.1", None)
    with pytest.raises(DgramError) as connecting:
        core.connect(9, "127.0.0.1", None)
    drain(core)
    core.connected()
    with pytest.raises(DgramError) as connected:
        core.connect(9, "127.0.0.1", None)
    with pytest.raises(DgramError) as send:
        core.send(b"x", 9, "127.0.0.1", None)
    assert {_code(connecting), _code(connected), _code(send)} == {"ERR_SOCKET_DGRAM_IS_CONNECTED"}


def test_a_failed_connect_goes_to_its_callback_and_fails_the_sends_behind_it() -> None:
    core = bound_core()
    core.connect(9, "peer.invalid", cb)
    core.send(b"x", None, None, None)
    resolve = core.next_action()
    assert isinstance(resolve, Resolve)
    error = DgramError("ENOTFOUND", "getaddrinfo ENOTFOUND peer.invalid")
    core.resolved(resolve.request, error, None)
    failed, not_connected = drain(core)
    assert failed == Fail(error, cb, connect=True)
    assert isinstance(not_connected, Fail) and not not_connected.connect
    assert not_connected.error.code == "ERR_SOCKET_DGRAM_NOT_CONNECTED"
    assert core.state == "bound"
    assert core.connect(9, None, None) is None  # connecting again is allowed


def test_connect_failed_reports_the_syscall_error_to_the_connect_callback() -> None:
    core = bound_core()
    core.connect(9, "127.0.0.1", cb)
    connect = core.next_action()
    assert isinstance(connect, Connect)
    error = DgramError("EINVAL", "connect EINVAL 127.0.0.1:9")
    assert core.connect_failed(connect.request, error) == Fail(error, cb, connect=True)
    assert core.state == "bound" and core.idle_bound


def test_a_failed_bind_abandons_a_waiting_connect() -> None:
    core = SocketCore("udp4")
    core.connect(9, None, cb)
    assert core.bind_failed() is cb  # the shell removes it: it must never run
    assert core.connect_state == 0 and core.queued == 0


def test_disconnect_and_remote_address_need_a_connection() -> None:
    core = bound_core()
    with pytest.raises(DgramError) as unconnected:
        core.check_connected()
    assert _code(unconnected) == "ERR_SOCKET_DGRAM_NOT_CONNECTED"
    core.connect(9, None, None)
    drain(core)
    core.connected()
    core.check_connected()
    core.disconnected()
    assert core.state == "bound" and core.idle_bound
    core.close()
    with pytest.raises(DgramError) as closed:
        core.check_connected()
    assert _code(closed) == "ERR_SOCKET_DGRAM_NOT_RUNNING"


# ---------------------------------------------------------------------- close and ref
def test_close_drops_the_queue_and_a_second_close_is_not_running() -> None:
    core = SocketCore("udp4")
    core.send(b"queued", 9, None, cb)
    core.close()
    assert core.state == "closed" and core.queued == 0 and not core.keeps_alive
    assert not core.idle_bound and not core.idle_connected
    core.bound()  # a bind finishing after close changes nothing that leaves
    assert core.next_action() is None
    with pytest.raises(DgramError) as again:
        core.close()
    assert _code(again) == "ERR_SOCKET_DGRAM_NOT_RUNNING"


def test_a_lookup_finishing_after_close_is_ignored() -> None:
    core = bound_core()
    core.send(b"x", 9, "localhost", None)
    resolve = core.next_action()
    assert isinstance(resolve, Resolve)
    core.close()
    core.resolved(resolve.request, None, "127.0.0.1")
    assert resolve.request.ip is None and core.next_action() is None


def test_only_a_referenced_open_bound_or_binding_socket_keeps_run_alive() -> None:
    core = SocketCore("udp4")
    assert not core.keeps_alive
    core.bind(0, None, None)
    assert core.keeps_alive
    core.referenced = False
    assert not core.keeps_alive
    core.referenced = True
    core.close()
    assert not core.keeps_alive
