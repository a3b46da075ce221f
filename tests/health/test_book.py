"""The HealthBook: which streams it follows, --seq and A/B arbitration with exact gaps, the
socket's kernel drops beside each stream, bounds, mixed batches, histories; and the mDNS/SSDP
sanity findings."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import pytest

from tests.batches import fake_batch
from udpscope import probe as probes
from udpscope.dgram import Batch, RemoteInfo
from udpscope.health import (
    DiscoveryCheck,
    HealthBook,
    Limits,
    SeqSpec,
    SeqSpecError,
    StreamHealth,
    parse_seq_spec,
)


def feed_seq(book: HealthBook, src: tuple[str, int], seqs: list[int], t0: float = 1.0,
             fmt: str = "!I", drops: int | None = None) -> None:
    payloads = [struct.pack(fmt, s) + b"payload" for s in seqs]
    book.feed(src, ("239.9.9.9", 6000), payloads, [t0 + i * 0.001 for i in range(len(seqs))],
              kernel_drops=drops)


def kinds(book: HealthBook) -> dict[str, list[StreamHealth]]:
    out: dict[str, list[StreamHealth]] = {}
    for s in book.streams():
        out.setdefault(s.kind, []).append(s)
    return out


def test_seq_field_parsing() -> None:
    spec = parse_seq_spec("4:2")
    assert (spec.offset, spec.width, spec.little_endian, spec.text()) == (4, 2, False, "4:2")
    le = parse_seq_spec("0x10:8:LE")
    assert (le.offset, le.little_endian, le.text()) == (16, True, "0x10:8:LE")   # as given
    assert SeqSpec(16, 8, True).text() == "16:8:le"
    for bad, word in (("4", "OFFSET:WIDTH"), ("x:2", "offset"), ("1:3", "width 3"),
                      ("1:2:xx", "byte order"), ("-1:2", "offset"), ("1:2:be:x", "OFFSET")):
        with pytest.raises(SeqSpecError, match=word):
            parse_seq_spec(bad)


def test_seq_reads_big_and_little_endian_and_skips_short_payloads() -> None:
    book = HealthBook(seq=parse_seq_spec("2:2:le"))
    payloads = [b"hd" + struct.pack("<H", s) for s in (1, 2, 4)] + [b"hd"]
    book.feed(("10.0.0.1", 1), ("10.0.0.2", 2), payloads, [1.0] * 4)
    (s,) = kinds(book)["seq"]
    assert (s.packets, s.lost, s.details["seq"], s.details["highest_seq"]) == (3, 1, "2:2:le", 4)
    assert s.details["seq"] == "2:2:le"


def test_ab_arbitration_loss_per_line_and_after_merging() -> None:
    book = HealthBook(seq=parse_seq_spec("0:4"), arbitrate=True)
    a_gaps, b_gaps, both = {10, 11, 50}, {11, 30, 31}, {11}
    a = [s for s in range(100) if s not in a_gaps]
    b = [s for s in range(100) if s not in b_gaps]
    for i in range(0, 100, 10):     # interleave the lines' batches as a socket would
        feed_seq(book, ("10.0.0.1", 7000), [s for s in a if i <= s < i + 10], t0=i)
        feed_seq(book, ("10.0.0.2", 7000), [s for s in b if i <= s < i + 10], t0=i + 0.5)
    found = kinds(book)
    lines = {s.source: s for s in found["seq"]}
    assert (lines["10.0.0.1:7000"].lost, lines["10.0.0.2:7000"].lost) == (3, 3)
    (merged,) = found["arbitrated"]
    assert merged.lost == len(both) == 1
    assert merged.packets == len(a) + len(b)
    assert merged.duplicates == len(a) + len(b) - (100 - len(both))
    assert merged.source is None and merged.destination == "239.9.9.9:6000"
    assert sorted((ln["source"], ln["lost"]) for ln in merged.details["lines"]) == [
        ("10.0.0.1:7000", 3), ("10.0.0.2:7000", 3)]
    assert merged.to_json()["kind"] == "arbitrated"


def test_arbitration_needs_a_sequence_field() -> None:
    with pytest.raises(ValueError):
        HealthBook(arbitrate=True)


def test_kernel_drops_are_those_while_the_stream_ran() -> None:
    book = HealthBook(seq=parse_seq_spec("0:4"))
    feed_seq(book, ("10.0.0.1", 1), [0, 1, 2], drops=100)   # the first reading: the baseline
    feed_seq(book, ("10.0.0.1", 1), [3, 9], drops=105)       # 5 dropped meanwhile
    feed_seq(book, ("10.0.0.3", 1), [0, 1], drops=112)       # 7 dropped while it was queued
    feed_seq(book, ("10.0.0.1", 1), [10], drops=112)
    feed_seq(book, ("10.0.0.4", 1), [0, 1], drops=112)       # nothing dropped in its time
    streams = {s.source: s for s in kinds(book)["seq"]}
    assert streams["10.0.0.1:1"].kernel_drops == 12
    assert streams["10.0.0.1:1"].lost == 5
    assert streams["10.0.0.3:1"].kernel_drops == 7
    assert streams["10.0.0.4:1"].kernel_drops == 0
    fresh = HealthBook(seq=parse_seq_spec("0:4"), kernel_drops_base=0)   # a new socket
    feed_seq(fresh, ("10.0.0.1", 1), [0, 5], drops=4)        # dropped before the first read
    assert fresh.streams()[0].kernel_drops == 4


def test_probe_streams_are_always_followed() -> None:
    book = HealthBook()
    payloads = [probes.encode_probe(s, 10.0, size=40) for s in (0, 1, 3, 3)]
    book.feed(("10.0.0.1", 1), ("10.0.0.2", 2), payloads + [b"other"], [10.002] * 5)
    (s,) = book.streams()
    assert (s.kind, s.packets, s.lost, s.duplicates) == ("probe", 4, 1, 1)
    assert s.details["delay_ms_avg"] == pytest.approx(2.0, abs=1e-6)
    event = s.to_json()
    assert list(event)[:8] == ["event", "kind", "source", "destination", "packets", "lost",
                               "duplicates", "reordered"]
    assert event["kernel_drops"] == 0


def test_bounds_count_what_they_leave_out() -> None:
    book = HealthBook(seq=parse_seq_spec("0:4"), limits=Limits(pairs=2, seq_streams=1))
    for port in range(4):
        feed_seq(book, ("10.0.0.1", port), [0, 1, 2])
    assert len(book.pairs) == 2
    assert len(kinds(book)["seq"]) == 1
    assert book.untracked == 3 + 3 + 3       # one pair without a tracker, two without a pair


def test_feed_batch_groups_a_mixed_batch_by_stream() -> None:
    items = [("10.0.0.1", 0, 1.0), ("10.0.0.2", 0, 1.0), ("10.0.0.1", 2, None),
             ("10.0.0.2", 1, 1.2), ("10.0.0.1", 3, 1.3)]
    batch = fake_batch([struct.pack("!I", seq) for _src, seq, _t in items],
                       sources=[src for src, _seq, _t in items], port=7000, interface="lo",
                       ttl=64, timestamps=[t for _src, _seq, t in items])
    book = HealthBook(seq=parse_seq_spec("0:4"), arbitrate=True)
    book.feed_batch(batch, ("127.0.0.1", 6000), now=5.0, kernel_drops=7, limit=4)
    found = kinds(book)
    lines = {s.source: s for s in found["seq"]}
    assert lines["10.0.0.1:7000"].packets == 2 and lines["10.0.0.1:7000"].lost == 1
    assert lines["10.0.0.1:7000"].destination == "127.0.0.1:6000"
    assert lines["10.0.0.1:7000"].last_seen == 5.0          # no kernel time: `now`
    (merged,) = found["arbitrated"]
    assert (merged.packets, merged.lost, merged.duplicates) == (4, 0, 1)


def test_history_keeps_one_sample_per_second() -> None:
    book = HealthBook(seq=parse_seq_spec("0:4"))
    feed_seq(book, ("10.0.0.1", 1), [0, 1, 2], t0=100.1)
    feed_seq(book, ("10.0.0.1", 1), [5, 6], t0=100.5)
    feed_seq(book, ("10.0.0.1", 1), [7, 9], t0=102.0)
    (s,) = book.streams()
    assert [(h.second, h.packets, h.lost) for h in s.history] == [(100, 5, 2), (102, 7, 3)]
    from udpscope.health import History
    h = History()
    for sample in s.history:
        h.record(sample.second, sample.packets, sample.lost, 0, 0, None)
    assert [(x.packets, x.lost) for x in h.per_second()] == [(5, 2), (2, 1)]


def mdns(response: bool) -> bytes:
    return struct.pack("!HHHHHH", 0, 0x8400 if response else 0, 0 if response else 1,
                       1 if response else 0, 0, 0) + b"\x00\x00\x0c\x00\x01"


def test_mdns_responses_with_a_ttl_other_than_255_are_flagged() -> None:
    book = HealthBook(discovery=True)
    book.feed(("192.168.1.7", 5353), ("224.0.0.251", 5353), [mdns(True)] * 3, [1.0] * 3,
              ttls=[1, 1, 1])
    book.feed(("192.168.1.8", 5353), ("224.0.0.251", 5353), [mdns(True)], [1.0], ttls=[255])
    (finding,) = book.findings(2.0)
    assert finding.id == "mdns-ttl" and finding.severity == "warning"
    assert "3 mDNS responses" in finding.title and "192.168.1.7 (TTL 1)" in finding.detail
    assert "192.168.1.8" not in finding.detail


def test_queries_without_unicast_replies_point_at_a_stateful_firewall() -> None:
    check = DiscoveryCheck()
    search = b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"
    check.sent(search, 1900, now=10.0)
    assert check.findings(11.0) == []           # still within the reply window
    (finding,) = check.findings(14.0)
    assert finding.id == "no-unicast-replies" and "stateful firewall" in finding.detail
    check.observe(b"HTTP/1.1 200 OK\r\n\r\n", "192.168.1.9", 1900, 50000, "192.168.1.2",
                  False, 64)
    assert check.findings(15.0) == []


def test_mdns_queries_seen_but_never_answered() -> None:
    book = HealthBook(discovery=True)
    book.feed(("192.168.1.7", 5353), ("224.0.0.251", 5353), [mdns(False)] * 3, [1.0] * 3)
    (finding,) = book.findings(9.0)
    assert finding.id == "no-replies" and finding.severity == "info"
    book.feed(("192.168.1.8", 5353), ("224.0.0.251", 5353), [mdns(True)], [2.0], ttls=[255])
    assert book.findings(9.0) == []


def test_ts_stats_by_the_stream_text_a_view_shows() -> None:
    from tests.streams.build import ts_packet

    book = HealthBook(mpegts=True)
    packets = [ts_packet(0x100, cc, b"x") for cc in (0, 1, 3)] + [ts_packet(0x101, 0, b"y")]
    book.feed(("10.0.0.1", 1234), ("239.1.1.1", 1234), [b"".join(packets)], [1.0])
    (s,) = book.streams()
    st = book.ts_stats(s.source or "", s.destination or "")
    assert st is not None and st.pids == {0x100: 3, 0x101: 1}
    assert st.cc_errors_by_pid == {0x100: 1}
    assert book.ts_stats("10.0.0.9:1", "239.1.1.1:1234") is None


class OneSenderBatch(Batch):
    """A batch the engine knows is one sender's (as a live socket's batch can claim, with its
    kernel receive times): rinfo(i) must not be needed."""

    __slots__ = ("stamps", "rinfo_calls")

    def __init__(self, payloads: tuple[bytes, ...], rinfos: Sequence[RemoteInfo]) -> None:
        super().__init__(payloads, rinfos)
        self.stamps: list[float] | None = None
        self.rinfo_calls = 0

    def rinfo(self, index: int) -> RemoteInfo:
        self.rinfo_calls += 1
        return super().rinfo(index)

    def uniform(self) -> tuple[RemoteInfo, int, int]:
        return self._rinfos[-1], 64, 64

    def timestamps(self) -> list[float] | None:
        return self.stamps


def one_sender_batch(seqs: list[int], stamps: list[float] | None) -> OneSenderBatch:
    batch = fake_batch([struct.pack("!I", s) for s in seqs], sources="10.0.0.1", port=7000,
                       destination="239.1.1.1", interface="e0", ttl=64,
                       batch_class=OneSenderBatch)
    batch.stamps = stamps
    return batch


def test_one_sender_batches_are_fed_whole_with_their_timestamps() -> None:
    batch = one_sender_batch([0, 1, 3], [1.0, 1.1, 1.2])
    book = HealthBook(seq=parse_seq_spec("0:4"), rtp=True)
    book.feed_batch(batch, ("0.0.0.0", 6000), now=9.0)
    (s,) = book.streams()
    assert (s.packets, s.lost, s.destination, s.last_seen) == (3, 1, "239.1.1.1:6000", 1.2)
    assert batch.rinfo_calls == 0
    plain = one_sender_batch([0, 1, 3], None)           # no timestamps: seq needs none
    book = HealthBook(seq=parse_seq_spec("0:4"))
    book.feed_batch(plain, ("0.0.0.0", 6000), now=9.0)
    assert plain.rinfo_calls == 0 and book.streams()[0].last_seen == 9.0
