"""The capture layer's records saved as pcapng (the TUI's "save log"): received and sent
datagrams with their real endpoints, events left out; a file opened and saved again keeps its
datagrams."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.files import pcapgen as g
from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.files.capture_file import CaptureReader, read_capture
from udpscope.files.export import export_records
from udpscope.files.source import PinnedClock, feed_capture


async def test_live_records_saved(tmp_path: Path) -> None:
    capture = Capture()
    try:
        entry = capture.create_socket("udp4")
        entry.sock.bind(0, "127.0.0.1")
        await wait_for(lambda: entry.state == "bound", 5, what="bound")
        port = entry.local()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.sendto(b"in", ("127.0.0.1", port))
            await wait_for(lambda: entry.rx_datagrams == 1, 5, what="received")
            capture.send(entry.id, b"out", peer.getsockname()[1], "127.0.0.1")
            await wait_for(lambda: entry.tx_datagrams == 1, 5, what="sent")
            peer_port = peer.getsockname()[1]
        records = list(capture.ring)
        assert any(r.kind == "event" for r in records)
        result = export_records(tmp_path / "log.pcapng", records,
                                lambda sock_id: capture.sockets[sock_id].local())
        assert (result.written, result.skipped) == (2, len(records) - 2)
        datagrams, _ = read_capture(tmp_path / "log.pcapng")
        assert [(d.payload, d.source, d.sport, d.destination, d.dport, d.outbound) for d in datagrams] \
            == [(b"in", "127.0.0.1", peer_port, "127.0.0.1", port, False),
                (b"out", "127.0.0.1", port, "127.0.0.1", peer_port, True)]
        assert datagrams[0].interface == "lo"
        # "what the filter shows": any subset of records
        export_records(tmp_path / "tx.pcapng", [r for r in records if r.kind == "tx"],
                       lambda sock_id: capture.sockets[sock_id].local())
        assert [d.payload for d in read_capture(tmp_path / "tx.pcapng")[0]] == [b"out"]
    finally:
        capture.close_all()


def test_opened_file_saved_again_keeps_its_datagrams(tmp_path: Path) -> None:
    original = tmp_path / "in.pcap"
    frames = [(1_700_000_000.0 + i, g.ethernet(g.ipv4("192.0.2.1", "239.1.1.1",
                                                      g.udp(4000 + i, 5004 + i % 2, b"p%d" % i)),
                                               0x0800)) for i in range(6)]
    original.write_bytes(g.pcap(frames, 1))
    clock = PinnedClock()
    capture = Capture(clock=clock)
    with CaptureReader(original) as reader:
        entries = feed_capture(capture, clock, reader, "in.pcap")
    assert len(entries) == 2  # one per local port (5004, 5005)
    export_records(tmp_path / "again.pcapng", list(capture.ring),
                   lambda sock_id: capture.sockets[sock_id].local())
    before, _ = read_capture(original)
    after, _ = read_capture(tmp_path / "again.pcapng")
    assert [(d.time, d.source, d.sport, d.destination, d.dport, d.payload) for d in after] == \
        [(d.time, d.source, d.sport, d.destination, d.dport, d.payload) for d in before]
