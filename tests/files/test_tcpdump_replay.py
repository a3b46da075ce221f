"""Captures made by tcpdump and tshark inside a test namespace (Ethernet on a veth, `-i any`
cooked, tshark's pcapng), read by udpscope and replayed into a loopback receiver: the same
payloads, in the same order, at the recorded pace. Real kernel IPv4 fragments included."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from tests.cli.clitools import run_cli
from tests.files.receiver import Receiver
from tests.files.tools import Capturer, capinfos, require_tool, tshark_fields
from tests.netns import VethPair, inside
from udpscope.files.capture_file import read_capture

pytestmark = pytest.mark.netns

PORT = 47000
GAPS = [0.0, 0.12, 0.25, 0.5, 0.55]
PACE_TOLERANCE = 0.08


def send_from(ns: str, family: int, dest: str, payloads: list[bytes], gaps: list[float]) -> None:
    with inside(ns):
        sock = socket.socket(family, socket.SOCK_DGRAM)
    with sock:
        start = time.monotonic()
        for payload, gap in zip(payloads, gaps, strict=True):
            delay = start + gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sock.sendto(payload, (dest, PORT))


def traffic(pair: VethPair) -> list[bytes]:
    """Send the test traffic a -> b: IPv4 with gaps, one datagram fragmented, one IPv6."""
    payloads = [f"paced {i}".encode() for i in range(len(GAPS))]
    payloads[2] = b"F" * 4000  # over the veth's 1500-byte MTU: the kernel fragments it
    send_from(pair.a.ns, socket.AF_INET, pair.b.v4, payloads, GAPS)
    time.sleep(0.05)
    send_from(pair.a.ns, socket.AF_INET6, pair.b.v6, [b"over IPv6"], [0.0])
    time.sleep(0.3)
    return [*payloads, b"over IPv6"]


def replay_and_check(path: str, payloads: list[bytes]) -> None:
    datagrams, summary = read_capture(path)
    assert [d.payload for d in datagrams] == payloads, summary
    assert summary.datagrams == len(payloads) and not summary.truncated
    recorded = [d.time - datagrams[0].time for d in datagrams]
    with Receiver(len(payloads)) as rx:
        res = run_cli("replay", path, "--to", f"127.0.0.1:{rx.port}")
        rx.wait()
    assert res.returncode == 0, res.stderr
    assert rx.payloads == payloads
    for got, want in zip(rx.offsets(), recorded, strict=True):
        assert abs(got - want) < PACE_TOLERANCE, (rx.offsets(), recorded)


def test_tcpdump_ethernet_on_a_veth(veth_pair: VethPair, tmp_path: Path) -> None:
    tcpdump = require_tool("tcpdump")
    path = str(tmp_path / "eth.pcap")
    cap = Capturer(veth_pair.b.ns, [tcpdump, "-i", "veth0", "-U", "-n", "-w", path, "udp"],
                   "listening on")
    try:
        payloads = traffic(veth_pair)
    finally:
        cap.stop()
    assert capinfos(path)["File encapsulation"] == "ether"
    datagrams, summary = read_capture(path)
    assert summary.kind == "pcap"
    first = datagrams[0]
    assert (first.source, first.destination, first.dport) == (veth_pair.a.v4, veth_pair.b.v4, PORT)
    assert datagrams[-1].family == "IPv6" and datagrams[-1].destination == veth_pair.b.v6
    fragments = tshark_fields(path, "ip.flags.mf", "ip.frag_offset")
    assert sum(1 for mf, off in fragments if mf == "1" or (off and off != "0")) >= 3  # real ones
    replay_and_check(path, payloads)
    cut = tmp_path / "cut.pcap"
    data = Path(path).read_bytes()
    cut.write_bytes(data[:len(data) - 20])
    with Receiver(len(payloads) - 1) as rx:
        res = run_cli("replay", str(cut), "--to", f"127.0.0.1:{rx.port}", "--max")
        rx.wait()
    assert res.returncode == 0 and rx.payloads == payloads[:-1]
    assert "cut short" in res.stderr.decode()


@pytest.mark.parametrize("linktype", [None, "LINUX_SLL"])
def test_tcpdump_any_cooked(veth_pair: VethPair, tmp_path: Path, linktype: str | None) -> None:
    tcpdump = require_tool("tcpdump")
    path = str(tmp_path / "any.pcap")
    extra = ["-y", linktype] if linktype else []
    cap = Capturer(veth_pair.b.ns, [tcpdump, "-i", "any", *extra, "-U", "-n", "-w", path,
                                    f"udp port {PORT} or (ip[6:2] & 0x1fff != 0)"], "listening on")
    try:
        payloads = traffic(veth_pair)
    finally:
        cap.stop()
    encapsulation = capinfos(path)["File encapsulation"]
    assert encapsulation == ("linux-sll" if linktype else "linux-sll2"), encapsulation
    replay_and_check(path, payloads)


def test_tshark_pcapng(veth_pair: VethPair, tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    path = str(tmp_path / "tshark.pcapng")
    os.chmod(tmp_path, 0o777)  # tshark's dumpcap may drop privileges before writing
    cap = Capturer(veth_pair.b.ns, [tshark, "-i", "veth0", "-F", "pcapng", "-w", path,
                                    "-f", f"udp port {PORT} or (ip[6:2] & 0x1fff != 0)"],
                   "Capturing on")
    try:
        payloads = traffic(veth_pair)
    finally:
        cap.stop()
    datagrams, summary = read_capture(path)
    assert summary.kind == "pcapng"
    assert {d.interface for d in datagrams} == {"veth0"}
    replay_and_check(path, payloads)
