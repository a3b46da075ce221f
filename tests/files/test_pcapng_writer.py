"""udpscope's pcapng read back by tshark and capinfos (the oracles) and by udpscope's reader:
counts, addresses, ports, payload bytes, timestamps, interface names, direction and checksums."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.files.tools import capinfos, require_tool, tshark_fields
from udpscope.dgram import RemoteInfo
from udpscope.files.capture_file import read_capture
from udpscope.files.pcapng_writer import SENT_COMMENT, PcapngWriter

T0 = 1_700_000_000.0

DATAGRAMS = [
    # payload, src, sport, dst, dport, time, interface, ttl, sent
    (b"hello", "10.0.0.1", 4000, "239.1.2.3", 5000, T0 + 0.123456, "eth0", 7, False),
    (b"", "10.0.0.2", 4001, "10.0.0.9", 5000, T0 + 1.000001, "eth1", 64, False),
    (bytes(range(256)) * 4, "fd00::1", 4002, "ff05::1:3", 5001, T0 + 2.5, "eth0", 1, False),
    (b"pong\x00\xff", "10.0.0.9", 5000, "10.0.0.2", 4001, T0 + 3.25, "eth1", None, True),
    (b"x" * 1473, "::1", 4003, "::1", 5002, T0 + 4.0, None, 64, False),
]


@pytest.fixture
def written(tmp_path: Path) -> str:
    path = tmp_path / "out.pcapng"
    writer = PcapngWriter.create(path)
    for payload, src, sport, dst, dport, when, iface, ttl, sent in DATAGRAMS:
        assert writer.add(payload, src, sport, dst, dport, when, iface, ttl, sent=sent)
    assert writer.written == 0 and writer.pending == len(DATAGRAMS)  # queued until the flush
    writer.close()
    assert writer.written == len(DATAGRAMS)
    return str(path)


def test_tshark_reads_every_field_back(written: str) -> None:
    rows = tshark_fields(
        written, "frame.time_epoch", "frame.interface_name", "ip.src", "ipv6.src", "ip.dst",
        "ipv6.dst", "udp.srcport", "udp.dstport", "udp.length", "udp.payload", "ip.ttl",
        "ipv6.hlim", "frame.comment", "frame.packet_flags_direction",
        extra=("-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"))
    assert len(rows) == len(DATAGRAMS)
    for row, (payload, src, sport, dst, dport, when, iface, ttl, sent) in zip(rows, DATAGRAMS,
                                                                            strict=True):
        (stamp, name, ip_src, ip6_src, ip_dst, ip6_dst, s_port, d_port, length, data, ip_ttl,
         hlim, comment, direction) = row
        assert abs(float(stamp) - when) < 1e-6
        assert name == (iface or "unknown")
        assert (ip_src or ip6_src, ip_dst or ip6_dst) == (src, dst)
        assert (int(s_port), int(d_port)) == (sport, dport)
        assert int(length) == 8 + len(payload)
        assert bytes.fromhex(data.replace(":", "")) == payload
        assert int(ip_ttl or hlim) == (64 if ttl is None else ttl)
        assert (comment == SENT_COMMENT) is sent
        assert int(direction, 16) == (2 if sent else 1)  # pcapng epb_flags: outbound / inbound


def test_checksums_are_valid_where_present(written: str) -> None:
    rows = tshark_fields(written, "ip.checksum.status", "udp.checksum.status", "ipv6.src",
                         extra=("-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"))
    for ip_status, udp_status, ip6 in rows:
        if ip6:
            assert udp_status == "1"  # IPv6: a good checksum (it is mandatory there)
        else:
            assert ip_status == "1" and udp_status == "3"  # IPv4: good header, UDP "not present"
    tshark = require_tool("tshark")
    res = subprocess.run([tshark, "-r", written, "-z", "expert,warn", "-q",
                          "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert "checksum" not in res.stdout.lower(), res.stdout


def test_capinfos_counts_and_interfaces(written: str) -> None:
    info = capinfos(written)
    assert info["File type"] == "pcapng"
    assert int(info["Number of packets"]) == len(DATAGRAMS)
    assert info["Capture application"] == "udpscope"
    tool = require_tool("capinfos")
    listing = subprocess.run([tool, "-I", written], capture_output=True, text=True, timeout=60,
                             check=False).stdout
    assert re.findall(r"Name = (\S+)", listing) == ["eth0", "eth1", "unknown"]


def test_own_reader_reads_it_back(written: str) -> None:
    datagrams, summary = read_capture(written)
    assert summary.kind == "pcapng" and summary.datagrams == len(DATAGRAMS)
    assert not summary.truncated and summary.damaged is None and not summary.skipped
    for got, (payload, src, sport, dst, dport, when, iface, ttl, sent) in zip(datagrams, DATAGRAMS,
                                                                            strict=True):
        assert (got.payload, got.source, got.sport, got.destination, got.dport) == (
            payload, src, sport, dst, dport)
        assert abs(got.time - when) < 1e-6
        assert got.interface == (iface or "unknown")
        assert got.ttl == (64 if ttl is None else ttl)
        assert got.outbound is sent


def test_received_datagram_uses_metadata_or_the_local_address(tmp_path: Path) -> None:
    path = tmp_path / "rx.pcapng"
    writer = PcapngWriter.create(path)
    with_meta = RemoteInfo("10.1.1.1", "IPv4", 999, 3, "239.9.9.9", "veth0", 3, T0)
    without = RemoteInfo("127.0.0.1", "IPv4", 998, 3)
    assert writer.add_many([(b"abc", with_meta), (b"def", without)], ("0.0.0.0", 7000), T0 + 9)
    writer.close()
    datagrams, _ = read_capture(path)
    assert [(d.destination, d.dport, d.interface, d.time) for d in datagrams] == [
        ("239.9.9.9", 7000, "veth0", T0), ("0.0.0.0", 7000, "unknown", T0 + 9)]


def test_unframeable_address_is_counted_not_raised(tmp_path: Path) -> None:
    writer = PcapngWriter.create(tmp_path / "bad.pcapng")
    assert not writer.add(b"x", "not-an-ip", 1, "127.0.0.1", 2)
    assert not writer.add(b"x", "127.0.0.1", 1, "::1", 2)  # mixed families
    assert writer.skipped == 2
    writer.close()
    assert read_capture(tmp_path / "bad.pcapng")[1].datagrams == 0
