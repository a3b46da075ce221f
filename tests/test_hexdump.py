"""The hex dump: hexdump -C layout, and an ASCII column nothing can escape from."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from udpscope.hexdump import hexdump_lines

LINE = re.compile(r"[0-9a-f]{8}  [0-9a-f ]{48}  \|[\x20-\x7e]{1,16}\|")


def test_layout() -> None:
    assert hexdump_lines(b"hello\n") == [
        "00000000  68 65 6c 6c 6f 0a                                 |hello.|"
    ]
    data = bytes(range(0x1e, 0x30))
    assert hexdump_lines(data) == [
        "00000000  1e 1f 20 21 22 23 24 25  26 27 28 29 2a 2b 2c 2d  |.. !\"#$%&'()*+,-|",
        "00000010  2e 2f                                             |./|",
    ]


def test_empty() -> None:
    assert hexdump_lines(b"") == []


def test_non_printable_bytes_are_dots() -> None:
    (line,) = hexdump_lines(b"\x1b]0;x\x07\x7f\x80\xff\x00 ~")
    assert line.endswith("|.]0;x..... ~|")


def test_width() -> None:
    assert hexdump_lines(b"abcde", width=4) == ["00000000  61 62 63 64  |abcd|", "00000004  65           |e|"]
    assert hexdump_lines(bytes(32), width=32)[0].count("  ") >= 4
    with pytest.raises(ValueError):
        hexdump_lines(b"x", width=0)


def test_max_datagram() -> None:
    data = bytes(range(256)) * 255 + bytes(227)
    lines = hexdump_lines(data)
    assert len(lines) == (65507 + 15) // 16
    assert lines[-1].startswith(f"{(len(lines) - 1) * 16:08x}  ")


@given(st.binary(max_size=300))
def test_every_line_is_well_formed_and_reads_back(data: bytes) -> None:
    lines = hexdump_lines(data)
    back = bytearray()
    for i, line in enumerate(lines):
        assert LINE.fullmatch(line), line
        assert int(line[:8], 16) == i * 16
        back += bytes.fromhex(line[10:58])
    assert bytes(back) == data


@pytest.mark.skipif(shutil.which("hexdump") is None, reason="hexdump(1) not installed")
def test_matches_hexdump_c() -> None:
    data = bytes(range(256)) + b"tail"
    ours = hexdump_lines(data)
    theirs = subprocess.run(["hexdump", "-C"], input=data, capture_output=True, timeout=10,
                            check=True).stdout.decode().splitlines()
    # hexdump -C folds repeated lines with "*" and ends with the total length; ours never folds
    assert [line.rstrip() for line in ours] == [line.rstrip() for line in theirs[:-1]]


@pytest.mark.parametrize("width", [8, 16, 5])
def test_byte_spans_and_byte_at_point_at_the_bytes_drawn(width: int) -> None:
    from udpscope.hexdump import byte_at, byte_spans, line_width

    data = bytes(range(0x41, 0x41 + 40))   # "ABC…": each byte's ASCII is its own letter
    lines = hexdump_lines(data, width)
    assert all(len(line) == line_width(width) for line in lines[:-1])
    for start, end in [(0, 1), (3, 11), (7, 9), (0, 40), (15, 17), (39, 40)]:
        spans = byte_spans(start, end, width)
        hex_text = "".join(lines[ln][a:b] for ln, a, b in spans[0::2])
        ascii_text = "".join(lines[ln][a:b] for ln, a, b in spans[1::2])
        assert ascii_text == data[start:end].decode()
        assert bytes.fromhex(hex_text) == data[start:end]
        for ln, a, b in spans:
            for col in range(a, b):
                found = byte_at(ln, col, width)
                assert found is None or start <= found < end   # the gaps between bytes: None
            assert byte_at(ln, a, width) in range(start, end)
    assert byte_spans(5, 5, width) == [] and byte_at(0, 3, width) is None
