"""Stream health in the capture layer: fed one call per batch, RTP/TS/probes followed without
being asked, a flood of anything else passed over without touching the trackers, a sequence
field and A/B arbitration per socket, the mDNS/SSDP checks, and a tracker bug that stops only
the tracking."""

from __future__ import annotations

import asyncio
import struct

import pytest

from tests.streams.build import pat, rtp, ts_packet
from udpscope.capture import Capture
from udpscope.capture.entries import SocketEntry
from udpscope.capture.streams import SocketStreams, may_hold_streams
from udpscope.dgram import Batch, RemoteInfo
from udpscope.health import HealthBook, parse_seq_spec


async def bound(capture: Capture) -> SocketEntry:
    entry = capture.create_socket("udp4")
    entry.sock.bind(0, "127.0.0.1")
    for _ in range(500):
        if entry.state == "bound":
            return entry
        await asyncio.sleep(0.005)
    raise AssertionError("not bound")


def batch(payloads: list[bytes], source: str = "10.0.0.5", port: int = 40000,
          times: list[float] | None = None, ttl: int | None = 64,
          destination: str | None = "127.0.0.1") -> Batch:
    infos = [RemoteInfo(source, "IPv4", port, len(p), destination, "lo", ttl,
                        times[i] if times else None) for i, p in enumerate(payloads)]
    return Batch(tuple(payloads), infos)


def by_kind(entry: SocketEntry) -> dict[str, list]:  # type: ignore[type-arg]
    assert entry.streams is not None
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for s in entry.streams.streams():
        out.setdefault(s.kind, []).append(s)
    return out


def test_the_flood_shortcut_sees_every_first_byte() -> None:
    assert not may_hold_streams((b"\x01abc",) * 300)
    assert not may_hold_streams((b"hello", b"{\"a\": 1}", b"\x00\x00"))
    for start in (b"\x80", b"\xbf", b"\x47", b"UDPSCOPE-PROBE"):
        assert may_hold_streams((b"\x01abc",) * 255 + (start + b"rest",))
    assert may_hold_streams((b"x", b""))      # an empty payload: left to the trackers
    assert not may_hold_streams((b"\xc0", b"\x7f", b"\x46", b"\x48"))


async def test_rtp_and_ts_are_followed_per_batch_with_loss_jitter_and_kernel_drops() -> None:
    now = [1000.0]
    capture = Capture(clock=lambda: now[0])
    entry = await bound(capture)
    assert entry.streams is None
    capture.track_streams()
    assert entry.streams is not None
    seqs = [s for s in range(100) if s not in (10, 11, 50)]
    packets = [rtp(s, ts=s * 160, pt=0, payload=bytes(160)) for s in seqs]
    times = [2000.0 + s * 0.02 for s in seqs]   # perfectly paced: no jitter
    for start in range(0, len(packets), 32):
        entry.sock.emit("batch", batch(packets[start:start + 32], times=times[start:start + 32]))
    ts = [ts_packet(0, cc, pat({1: 0x100}), pusi=True) for cc in (0, 1, 2, 4)]
    entry.sock.emit("batch", batch([b"".join(ts[:2]), b"".join(ts[2:])], source="10.0.0.6"))
    kinds = by_kind(entry)
    (r,) = kinds["rtp"]
    assert (r.source, r.destination, r.packets, r.lost) == ("10.0.0.5:40000",
                                                             f"127.0.0.1:{entry.local()[1]}",
                                                             97, 3)
    assert r.details["jitter_ms"] == 0.0 and r.kernel_drops == 0
    (t,) = kinds["mpegts"]
    assert (t.source, t.packets, t.details["cc_errors"]) == ("10.0.0.6:40000", 4, 1)
    assert entry.rx_datagrams == 99  # the capture counted them as before


async def test_a_flood_of_anything_else_never_reaches_the_trackers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    original = HealthBook.feed_batch

    def counting(self, b, *args, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(b))
        return original(self, b, *args, **kw)

    monkeypatch.setattr(HealthBook, "feed_batch", counting)
    capture = Capture()
    entry = await bound(capture)
    capture.track_streams()
    for _ in range(50):
        entry.sock.emit("batch", batch([bytes([1, i]) * 32 for i in range(256)]))
    assert calls == [] and entry.streams is not None and entry.streams.passed_over == 50 * 256
    assert entry.rx_datagrams == 50 * 256 and len(capture.ring) >= 50 * 256
    entry.sock.emit("batch", batch([b"\x01" * 64] * 10 + [rtp(1)]))
    assert calls == [11]   # one RTP-looking datagram: the whole batch goes to the trackers


async def test_a_sequence_field_and_ab_arbitration_set_per_socket() -> None:
    capture = Capture()
    entry = await bound(capture)
    capture.track_streams()
    with pytest.raises(ValueError, match="sequence field"):
        capture.set_stream_options(entry.id, None, True)
    capture.set_stream_options(entry.id, parse_seq_spec("0:4"), True)
    assert entry.streams is not None and entry.streams.settings() == {"seq": "0:4",
                                                                        "arbitrate": True}
    line_a = [s for s in range(20) if s not in (3, 4)]
    line_b = [s for s in range(20) if s != 4 and s != 15]
    entry.sock.emit("batch", batch([struct.pack("!I", s) + b"a" for s in line_a],
                                   source="10.0.0.1"))
    entry.sock.emit("batch", batch([struct.pack("!I", s) + b"b" for s in line_b],
                                   source="10.0.0.2"))
    kinds = by_kind(entry)
    assert sorted((s.source, s.lost) for s in kinds["seq"]) == [("10.0.0.1:40000", 2),
                                                                 ("10.0.0.2:40000", 2)]
    (merged,) = kinds["arbitrated"]
    assert (merged.lost, merged.source) == (1, None)   # only 4 is missing on both lines
    with pytest.raises(KeyError):
        capture.set_stream_options(99, None, False)


async def test_sockets_made_later_are_tracked_and_queries_sent_wait_for_replies() -> None:
    now = [1000.0]
    capture = Capture(clock=lambda: now[0])
    capture.track_streams()
    entry = await bound(capture)
    assert isinstance(entry.streams, SocketStreams)
    query = b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x05_http\x04_tcp\x05local\x00\x00\x0c\x00\x01"
    capture.send(entry.id, query, 5353, "127.0.0.1")
    for _ in range(200):
        if entry.tx_datagrams:
            break
        await asyncio.sleep(0.005)
    now[0] += 10
    assert entry.streams is not None
    findings = entry.streams.findings(now[0])
    assert [f.id for f in findings] == ["no-unicast-replies"]
    # A unicast reply from port 5353 is seen even though it is no media (the shortcut is off
    # once this socket asked), so the finding goes away.
    reply = bytearray(query)
    reply[2] = 0x84
    entry.sock.emit("batch", batch([bytes(reply)], source="127.0.0.1", port=5353, ttl=255))
    assert entry.streams.findings(now[0]) == []


async def test_a_tracker_that_raises_stops_tracking_not_the_capture(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(self, *args, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("tracker bug")

    monkeypatch.setattr(HealthBook, "feed_batch", broken)
    capture = Capture()
    entry = await bound(capture)
    capture.track_streams()
    entry.sock.emit("batch", batch([rtp(1), rtp(2)]))
    entry.sock.emit("batch", batch([rtp(3)]))
    assert entry.streams is not None
    assert entry.streams.error == "RuntimeError: tracker bug"
    assert entry.streams.streams() == [] and entry.rx_datagrams == 3
