"""Payload parsing: every notation round-trips, every mistake gets its own message, and no input
raises anything but PayloadError."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udpscope.payload import (
    MAX_UDP4,
    MAX_UDP6,
    PayloadError,
    check_payload_size,
    parse_payload,
    read_payload_file,
)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("hello", "text", b"hello"),
        ("", "text", b""),
        ("é", "text", "é".encode()),
        ("x\udcff", "text", b"x\xff"),  # an undecodable argv byte goes out as that byte
        ("68656c6c6f", "hex", b"hello"),
        ("DE AD be ef\n00", "hex", b"\xde\xad\xbe\xef\x00"),
        ("", "hex", b""),
        ("aGVsbG8=", "base64", b"hello"),
        ("aGVsbG8", "base64", b"hello"),
        ("aGVs\nbG8=", "base64", b"hello"),
        ("-_-_", "base64", b"\xfb\xff\xbf"),
        ("+/+/", "base64", b"\xfb\xff\xbf"),
        ("", "base64", b""),
    ],
)
def test_good(text: str, kind: str, expected: bytes) -> None:
    assert parse_payload(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("abcdefa", "hex", "hex: odd number of digits (7)"),
        ("abg4", "hex", "hex: bad character 'g' at position 3"),
        ("0x10", "hex", "hex: bad character 'x' at position 2"),
        ("ab\x1b", "hex", "hex: bad character '\\e' at position 3"),
        ("aGV!", "base64", "base64: bad character '!' at position 4"),
        ("a", "base64", "base64: 1 digits is not a valid length"),
        ("a=b", "base64", "base64: '=' padding before the end (position 3)"),
        ("aGVsbG8===", "base64", "base64: wrong '=' padding"),
        ("ab+_", "base64", "base64: mixes"),
        ("x\ud800", "text", "text: character '\\ud800' at position 2 cannot be encoded"),
        ("x", "morse", "payload: unknown kind 'morse'"),
    ],
)
def test_bad(text: str, kind: str, message: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_payload(text, kind)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_size_limits_name_the_family() -> None:
    with pytest.raises(PayloadError, match=r"^text: 65508 bytes is more than the 65507 a UDP/IPv4"):
        parse_payload("x" * 65508, "text", max_size=MAX_UDP4)
    assert len(parse_payload("x" * 65507, "text", max_size=MAX_UDP4)) == 65507
    with pytest.raises(PayloadError, match=r"UDP/IPv6 datagram can carry"):
        parse_payload("00" * (MAX_UDP6 + 1), "hex")
    with pytest.raises(PayloadError, match=r"^stdin: 3 bytes is more than the limit of 2"):
        check_payload_size(b"abc", 2, "stdin")


def test_file(tmp_path) -> None:
    p = tmp_path / "payload.bin"
    data = bytes(range(256)) * 10
    p.write_bytes(data)
    assert parse_payload(str(p), "file") == data
    assert read_payload_file(p) == data
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert parse_payload(str(empty), "file") == b""


def test_file_errors(tmp_path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(PayloadError, match=f"^file: not found: {missing}$"):
        parse_payload(str(missing), "file")
    with pytest.raises(PayloadError, match="^file: is a directory: "):
        parse_payload(str(tmp_path), "file")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 70000)
    with pytest.raises(PayloadError) as info:
        read_payload_file(big, MAX_UDP4)
    assert str(info.value) == "file: 70000 bytes is more than the 65507 a UDP/IPv4 datagram can carry"
    with pytest.raises(PayloadError, match="^file: no path given"):
        parse_payload("", "file")
    with pytest.raises(PayloadError, match="^file: cannot open"):
        parse_payload("a\x00b", "file")
    with pytest.raises(PayloadError, match=r"^file: not found: .*\\e\]0;x\\x07"):
        parse_payload(str(tmp_path / "\x1b]0;x\x07"), "file")  # the name is shown safely


@pytest.mark.skipif(os.path.exists("/dev/zero") is False, reason="no /dev/zero")
def test_devices_and_fifos_are_not_payload_files(tmp_path) -> None:
    # /dev/zero never ends and a FIFO without a writer would block: only regular files are read.
    with pytest.raises(PayloadError, match="^file: not a regular file"):
        read_payload_file("/dev/zero", MAX_UDP4)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(PayloadError, match="^file: not a regular file"):
        read_payload_file(fifo, MAX_UDP4)


def test_oversized_regular_file_names_its_size(tmp_path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"z" * 70000)
    with pytest.raises(PayloadError, match="^file: 70000 bytes is more than the 65507 a"):
        read_payload_file(big, MAX_UDP4)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path) -> None:
    p = tmp_path / "secret"
    p.write_bytes(b"x")
    p.chmod(0)
    with pytest.raises(PayloadError, match="^file: permission denied: "):
        parse_payload(str(p), "file")


@given(st.binary(max_size=300))
def test_hex_round_trip(data: bytes) -> None:
    assert parse_payload(data.hex(), "hex") == data
    assert parse_payload(data.hex(" ").upper(), "hex") == data


@given(st.binary(max_size=300), st.booleans(), st.booleans())
def test_base64_round_trip(data: bytes, urlsafe: bool, strip: bool) -> None:
    text = (base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)).decode()
    if strip:
        text = text.rstrip("=")
    assert parse_payload(text, "base64") == data


@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=80),
       st.sampled_from(["text", "hex", "base64", "file", "bogus", ""]))
@settings(max_examples=500)
def test_only_payload_errors(text: str, kind: str) -> None:
    try:
        out = parse_payload(text, kind, max_size=50)
    except PayloadError:
        return
    assert isinstance(out, bytes) and len(out) <= 50


@given(st.text(alphabet="0123456789abcdefABCDEF =-_+/!\n\t", max_size=40),
       st.sampled_from(["hex", "base64"]))
@settings(max_examples=500)
def test_only_payload_errors_near_valid(text: str, kind: str) -> None:
    try:
        out = parse_payload(text, kind)
    except PayloadError:
        return
    assert isinstance(out, bytes)
