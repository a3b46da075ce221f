"""The reader against what other tools write: every link type, VLAN tags, IPv4 and IPv6
fragments, IPv6 extension headers, pcap byte orders and nanoseconds, pcapng with several
interfaces — checked against tshark where it reads the same file — and cut, damaged or foreign
files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.files import pcapgen as g
from tests.files.tools import tshark_fields
from udpscope.files.capture_file import CaptureFormatError, CaptureReader, read_capture

T0 = 1_700_000_100.0
V4 = ("192.0.2.1", "198.51.100.7")
V6 = ("2001:db8::1", "2001:db8::2")


def v4_packet(payload: bytes, sport: int = 1111, dport: int = 2222) -> bytes:
    return g.ipv4(*V4, g.udp(sport, dport, payload))


def v6_packet(payload: bytes, sport: int = 3333, dport: int = 4444) -> bytes:
    return g.ipv6(*V6, g.udp(sport, dport, payload))


FRAMINGS = {
    # name: (linktype, frame builder for (packet, version))
    "ethernet": (1, lambda p, v: g.ethernet(p, 0x0800 if v == 4 else 0x86DD)),
    "ethernet-vlan": (1, lambda p, v: g.ethernet(p, 0x0800 if v == 4 else 0x86DD, (10,))),
    "ethernet-qinq": (1, lambda p, v: g.ethernet(p, 0x0800 if v == 4 else 0x86DD, (100, 20))),
    "sll": (113, lambda p, v: g.sll(p, 0x0800 if v == 4 else 0x86DD)),
    "sll2": (276, lambda p, v: g.sll2(p, 0x0800 if v == 4 else 0x86DD)),
    "raw": (101, lambda p, v: p),
    "raw-ipv4": (228, lambda p, v: p),
    "null-le": (0, lambda p, v: g.null(p, 2 if v == 4 else 30, "<")),
    "null-be": (0, lambda p, v: g.null(p, 2 if v == 4 else 24, ">")),
    "loop": (108, lambda p, v: g.null(p, 2 if v == 4 else 24, ">")),
}


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
def test_link_types(tmp_path: Path, framing: str) -> None:
    linktype, frame = FRAMINGS[framing]
    records = [(T0, frame(v4_packet(b"four"), 4)), (T0 + 0.5, frame(v6_packet(b"six!"), 6))]
    if linktype == 228:  # LINKTYPE_IPV4 carries IPv4 only (IPv6-only 229: the v6 test)
        records = records[:1]
    path = write(tmp_path, f"{framing}.pcap", g.pcap(records, linktype))
    datagrams, summary = read_capture(path)
    expected = [(*V4, 1111, 2222, b"four", "IPv4"), (*V6, 3333, 4444, b"six!", "IPv6")][:len(records)]
    assert [(d.source, d.destination, d.sport, d.dport, d.payload, d.family) for d in datagrams] \
        == [(s, dd, sp, dp, p, f) for s, dd, sp, dp, p, f in expected]
    assert summary.datagrams == len(records) and not summary.skipped
    rows = tshark_fields(path, "udp.payload")  # the oracle agrees on the payloads
    assert [bytes.fromhex(r[0].replace(":", "")) for r in rows] == [d.payload for d in datagrams]


@pytest.mark.parametrize(("nano", "order"), [(False, "<"), (True, "<"), (False, ">"), (True, ">")])
def test_pcap_variants_keep_time(tmp_path: Path, nano: bool, order: str) -> None:
    when = T0 + 0.123456789 if nano else T0 + 0.123456
    path = write(tmp_path, "v.pcap", g.pcap([(when, v4_packet(b"t"))], 101, nano=nano, order=order))
    (d,), _ = read_capture(path)
    assert abs(d.time - when) < (2e-9 if nano else 1e-6) + 1e-7
    ((stamp,),) = tshark_fields(path, "frame.time_epoch")
    assert abs(float(stamp) - d.time) < 1e-6


def test_pcapng_several_interfaces_and_resolutions(tmp_path: Path) -> None:
    data = g.pcapng([(1, "eth0", 6), (113, "any", 9), (101, "tun0", 3)],
                    [(0, T0, g.ethernet(v4_packet(b"a"), 0x0800)),
                     (1, T0 + 0.000000123, g.sll(v6_packet(b"b"), 0x86DD)),
                     (2, T0 + 1.5, v4_packet(b"c")),
                     (0, T0 + 2, g.ethernet(b"\x00" * 28, 0x0806))],  # ARP: skipped
                    order=">")
    path = write(tmp_path, "multi.pcapng", data)
    datagrams, summary = read_capture(path)
    assert [(d.payload, d.interface) for d in datagrams] == [(b"a", "eth0"), (b"b", "any"),
                                                             (b"c", "tun0")]
    assert abs(datagrams[1].time - (T0 + 0.000000123)) < 1e-6
    assert summary.skipped == {"not-ip": 1} and summary.frames == 4
    rows = tshark_fields(path, "frame.interface_name", "udp.payload")
    assert [(r[0], r[1]) for r in rows[:3]] == [("eth0", "61"), ("any", "62"), ("tun0", "63")]


def test_non_udp_and_unsupported_are_counted(tmp_path: Path) -> None:
    tcp = g.ipv4(*V4, b"\x00" * 20, proto=6)
    icmp6 = g.ipv6(*V6, b"\x80\x00" + b"\x00" * 6, nxt=58)
    path = write(tmp_path, "mixed.pcap", g.pcap(
        [(T0, g.ethernet(tcp, 0x0800)), (T0, g.ethernet(icmp6, 0x86DD)),
         (T0, g.ethernet(b"\x00" * 28, 0x0806)), (T0, g.ethernet(v4_packet(b"ok"), 0x0800))], 1))
    datagrams, summary = read_capture(path)
    assert [d.payload for d in datagrams] == [b"ok"]
    assert summary.skipped == {"not-udp": 2, "not-ip": 1}
    assert "2 not UDP" in summary.skipped_text()
    other = write(tmp_path, "ppp.pcap", g.pcap([(T0, b"\xff\x03" + v4_packet(b"x"))], 9))
    assert read_capture(other)[1].skipped == {"linktype": 1}


def test_ipv4_options_and_fragments_out_of_order(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 12  # 3072 bytes: three fragments
    segment = g.udp(5000, 6000, payload)
    frags = g.ipv4_fragments(*V4, segment, 1480)
    with_options = g.ipv4(*V4, g.udp(1, 2, b"opt"), options=b"\x01\x01\x01\x00")
    lonely = g.ipv4_fragments(*V4, g.udp(7, 8, b"z" * 2000), 1480, ident=99)[:1]
    records = [(T0 + i * 0.01, g.ethernet(p, 0x0800))
               for i, p in enumerate([frags[2], with_options, frags[0], *lonely, frags[1]])]
    path = write(tmp_path, "frag.pcap", g.pcap(records, 1))
    datagrams, summary = read_capture(path)
    assert [d.payload for d in datagrams] == [b"opt", payload]
    assert (datagrams[1].sport, datagrams[1].dport) == (5000, 6000)
    assert summary.skipped == {"fragment": 1}  # the one that never completed


def test_ipv6_extension_headers_and_fragments(tmp_path: Path) -> None:
    hop = g.ipv6(*V6, g.ipv6_ext(60, 1) + g.ipv6_ext(17) + g.udp(1, 2, b"ext"), nxt=0)
    segment = g.udp(9, 10, b"Q" * 3000)
    first = g.ipv6(*V6, g.ipv6_fragment(17, 0, True, 42) + segment[:1448], nxt=44)
    second = g.ipv6(*V6, g.ipv6_fragment(17, 1448, False, 42) + segment[1448:], nxt=44)
    atomic = g.ipv6(*V6, g.ipv6_fragment(17, 0, False, 43) + g.udp(3, 4, b"atomic"), nxt=44)
    path = write(tmp_path, "v6.pcap", g.pcap(
        [(T0, hop), (T0 + 1, second), (T0 + 2, first), (T0 + 3, atomic)], 229))
    datagrams, summary = read_capture(path)
    assert [(d.payload, d.sport) for d in datagrams] == [(b"ext", 1), (b"Q" * 3000, 9),
                                                         (b"atomic", 3)]
    assert not summary.skipped


def test_snap_length_cut_packets_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "snap.pcap", g.pcap(
        [(T0, g.ethernet(v4_packet(b"y" * 500), 0x0800)), (T0, g.ethernet(v4_packet(b"s"), 0x0800))],
        1, snaplen=96))
    datagrams, summary = read_capture(path)
    assert [d.payload for d in datagrams] == [b"s"]
    assert summary.skipped == {"cut": 1}


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_truncated_file_yields_the_complete_part_and_says_so(tmp_path: Path, kind: str) -> None:
    packets = [v4_packet(f"p{i}".encode()) for i in range(5)]
    if kind == "pcap":
        data = g.pcap([(T0 + i, p) for i, p in enumerate(packets)], 101)
    else:
        data = g.pcapng([(101, "lo", 6)], [(0, T0 + i, p) for i, p in enumerate(packets)])
    whole = write(tmp_path, "whole", data)
    assert [d.payload for d in read_capture(whole)[0]] == [f"p{i}".encode() for i in range(5)]
    cut = write(tmp_path, "cut", data[:-10])  # inside the last record
    datagrams, summary = read_capture(cut)
    assert [d.payload for d in datagrams] == [f"p{i}".encode() for i in range(4)]
    assert summary.truncated and "cut short" in (summary.damage_text() or "")
    assert not read_capture(whole)[1].truncated


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty file"),
    (b"GIF89a\x01\x00", "not a pcap or pcapng capture (starts with 47 49 46 38)"),
    (b"\x1b]0;evil\x07" + b"x" * 40, "not a pcap or pcapng capture"),
])
def test_not_a_capture_is_a_clear_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = write(tmp_path, "x.bin", content)
    with pytest.raises(CaptureFormatError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        CaptureReader(path)


def test_fifo_directory_and_missing_file_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(CaptureFormatError, match="not a regular file"):
        CaptureReader(fifo)
    with pytest.raises(CaptureFormatError, match="is a directory"):
        CaptureReader(tmp_path)
    with pytest.raises(CaptureFormatError, match="not found"):
        CaptureReader(tmp_path / "missing.pcap")


def test_damaged_block_length_stops_with_a_reason(tmp_path: Path) -> None:
    data = bytearray(g.pcapng([(101, "lo", 6)], [(0, T0, v4_packet(b"one")), (0, T0, v4_packet(b"two"))]))
    second = data.rfind(b"\x06\x00\x00\x00")
    data[second + 4:second + 8] = (7).to_bytes(4, "little")  # a block length that is no length
    datagrams, summary = read_capture(write(tmp_path, "bad.pcapng", bytes(data)))
    assert [d.payload for d in datagrams] == [b"one"]
    assert summary.damaged and "damaged" in (summary.damage_text() or "")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["pcap", "pcapng"]))
def test_garbage_after_a_valid_header_never_raises(data: bytes, kind: str) -> None:
    import tempfile

    head = g.pcap([], 1) if kind == "pcap" else g.pcapng([(1, "eth0", 6)], [])
    with tempfile.NamedTemporaryFile(suffix=".cap") as f:
        f.write(head + data)
        f.flush()
        datagrams, summary = read_capture(f.name)  # whatever it is: no exception
        assert summary.datagrams == len(datagrams)
