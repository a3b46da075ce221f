"""The TUI's forms as plain functions: typed text in, a request or a message per field out.

No app, no Textual: these are the rules the composer, the dialogs, the options pane and the
"why no traffic?" field apply, checked directly.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from udpscope.addresses import AddressError
from udpscope.tui.forms import (
    ComposeFields,
    FormError,
    NewSocketFields,
    parse_buffer_size,
    parse_check_group,
    parse_compose,
    parse_endpoint,
    parse_membership,
    parse_new_socket,
    parse_ttl,
)
from udpscope.tui.regular_file import FileReadError, read_regular_file, write_new_file


def send(family: str = "udp4", connected_to: str | None = None, **fields: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = {"host": "127.0.0.1", "port": "9", "payload": "hi"}
    base.update(fields)
    return parse_compose(ComposeFields(**base), family=family, connected_to=connected_to)  # type: ignore[arg-type]


def test_a_good_composer_becomes_a_request() -> None:
    req = send(kind="hex", payload="68 69", count="3", rate="10")
    assert (req.payload, req.address, req.port, req.count, req.rate) == (b"hi", "127.0.0.1", 9, 3, 10.0)


def test_every_bad_field_is_answered_at_once() -> None:
    with pytest.raises(FormError) as info:
        send(port="70000", kind="hex", payload="zz", count="0")
    assert set(info.value.errors) == {"dest", "payload", "count"}
    assert "out of range" in info.value.errors["dest"]
    assert "bad character" in info.value.errors["payload"]


@pytest.mark.parametrize(("family", "limit", "words"), [("udp4", 65507, "IPv4"), ("udp6", 65527, "IPv6")])
def test_the_size_limit_quoted_is_the_sockets_family(family: str, limit: int, words: str) -> None:
    assert len(send(family, host="::1" if family == "udp6" else "127.0.0.1",
                    payload="x" * limit).payload) == limit
    with pytest.raises(FormError) as info:
        send(family, host="::1" if family == "udp6" else "127.0.0.1", payload="x" * (limit + 1))
    message = info.value.errors["payload"]
    assert str(limit) in message and words in message
    other = 65527 if limit == 65507 else 65507
    assert str(other) not in message


def test_a_connected_socket_ignores_to_and_port_and_says_so() -> None:
    req = send(connected_to="127.0.0.1:5000", host="10.0.0.1", port="99999")
    assert req.address is None and req.port is None
    assert "ignored" in req.note and "127.0.0.1:5000" in req.note
    assert send(connected_to="127.0.0.1:5000", host="", port="").note == ""


def test_an_address_of_the_other_family_is_refused_before_the_engine() -> None:
    with pytest.raises(FormError) as info:
        send("udp4", host="::1")
    assert "udp4" in info.value.errors["dest"]


def test_as_file_reads_a_regular_file_and_refuses_a_fifo_without_waiting(tmp_path: Path) -> None:
    good = tmp_path / "frame.bin"
    good.write_bytes(b"\x00\x01frame")
    assert send(kind="file", payload=str(good)).payload == b"\x00\x01frame"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(_try(lambda: send(kind="file", payload=str(fifo)))))
    worker.daemon = True
    worker.start()
    worker.join(5)
    _unblock(fifo, worker)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert isinstance(result[0], FormError) and "FIFO" in result[0].errors["payload"]
    with pytest.raises(FormError, match="directory"):
        send(kind="file", payload=str(tmp_path))
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 65508)
    with pytest.raises(FormError) as info:
        send(kind="file", payload=str(big))
    assert "65508" in info.value.errors["payload"] and "65507" in info.value.errors["payload"]


def _try(fn):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except Exception as exc:
        return exc


def test_read_and_write_files_safely(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match="not found"):
        read_regular_file(tmp_path / "nope", 10)
    path = tmp_path / "out.bin"
    assert write_new_file(path, b"\x00\xff") == str(path)
    assert path.read_bytes() == b"\x00\xff"
    with pytest.raises(FileReadError, match="exists already"):
        write_new_file(path, b"again")
    assert path.read_bytes() == b"\x00\xff"
    with pytest.raises(FileReadError, match="does not exist"):
        write_new_file(tmp_path / "no" / "dir.bin", b"")


def test_new_socket_dialog_rules() -> None:
    req = parse_new_socket(NewSocketFields(type="udp6", address="::1", port="0", recv_buffer="4MiB",
                                           ipv6_only=True))
    assert (req.address, req.port, req.recv_buffer_size, req.ipv6_only) == ("::1", 0, 4 << 20, True)
    assert not parse_new_socket(NewSocketFields(type="udp4", ipv6_only=True)).ipv6_only
    with pytest.raises(FormError) as info:
        parse_new_socket(NewSocketFields(type="udp6", address="127.0.0.1", send_buffer="lots"))
    assert "udp6" in info.value.errors["bind"] and "send buffer" in info.value.errors["buffers"]
    unbound = parse_new_socket(NewSocketFields(bind=False, port="99999"))  # not read when not binding
    assert unbound.bind is False


def test_endpoint_dialog_rules() -> None:
    assert parse_endpoint("", "", bind=True).port == 0
    with pytest.raises(FormError, match="required"):
        parse_endpoint("", "9", bind=False)
    with pytest.raises(FormError, match="out of range"):
        parse_endpoint("127.0.0.1", "0", bind=False)
    with pytest.raises(FormError, match="udp4"):
        parse_endpoint("::1", "9", bind=False, sock_type="udp4")


def test_option_values() -> None:
    assert parse_ttl("64", multicast=False) == 64 and parse_ttl("0", multicast=True) == 0
    with pytest.raises(AddressError):
        parse_ttl("0", multicast=False)
    assert parse_buffer_size("212992", "b") == 212992
    assert parse_buffer_size("256K", "b") == parse_buffer_size("256 KiB", "b") == 256 << 10
    assert parse_buffer_size("4MB", "b") == 4_000_000  # SI names are 1000-based
    for bad in ("0", "3GiB", "-1", "many", "4XB"):
        with pytest.raises(AddressError):
            parse_buffer_size(bad, "receive buffer")


def test_memberships_and_the_checked_group_say_what_is_wrong() -> None:
    assert parse_membership("239.1.2.3", "10.0.0.1", "udp4").source == "10.0.0.1"
    with pytest.raises(AddressError, match="not a valid IPv4"):
        parse_check_group("300.1.1.1", None)
    with pytest.raises(AddressError, match="not a multicast address"):
        parse_check_group("10.0.0.1", None)
    with pytest.raises(AddressError, match="IPv6 group but the socket is udp4"):
        parse_check_group("ff15::1", "udp4")
    with pytest.raises(AddressError, match="required"):
        parse_check_group("  ", "udp4")
    with pytest.raises(AddressError, match="a group, not"):
        parse_membership("239.1.2.3", "239.1.2.4", "udp4")
    assert parse_check_group("[ff15::1]", "udp6") == "ff15::1"


def _unblock(fifo: Path, worker: threading.Thread) -> None:
    """If a reader is stuck in open() on the FIFO (the bug), give it a writer so it can end."""
    if worker.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(5)
