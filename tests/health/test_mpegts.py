"""MPEG-TS health: continuity errors per PID (discontinuity indicator, the one allowed
duplicate, adaptation-only packets, the null PID), PAT/PMT, PCR PIDs and interval, bitrate,
sync and TEI errors -- exact counts; and batches counting what one datagram at a time does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.streams.build import pat, pmt, rtp, ts_packet
from udpscope.health import HealthBook, TsTracker

SRC = ("10.0.0.1", 1234)
DST = ("239.1.1.2", 1234)


def track(packets: list[bytes], per_datagram: int = 7, batch: int = 64,
          over_rtp: bool = False) -> TsTracker:
    book = HealthBook(mpegts=True, rtp=over_rtp)
    datagrams = [b"".join(packets[i:i + per_datagram])
                 for i in range(0, len(packets), per_datagram)]
    if over_rtp:
        datagrams = [rtp(i, i * 3000, pt=33, payload=d) for i, d in enumerate(datagrams)]
    times = [100.0 + i * 0.001 for i in range(len(datagrams))]
    for i in range(0, len(datagrams), batch):
        book.feed(SRC, DST, datagrams[i:i + batch], times[i:i + batch])
    (pair,) = book.pairs.values()
    assert pair.ts is not None
    return pair.ts


def cc_run(pid: int, ccs: list[int], **kw: bool) -> list[bytes]:
    return [ts_packet(pid, cc, b"x", **kw) for cc in ccs]


def test_clean_stream_has_no_errors() -> None:
    packets = cc_run(0x100, [i % 16 for i in range(70)])
    st = track(packets).stats()
    assert (st.packets, st.cc_errors, st.missing, st.duplicates) == (70, 0, 0, 0)
    assert st.pids == {0x100: 70}


def test_gaps_duplicates_and_discontinuities() -> None:
    packets = cc_run(0x100, [0, 1, 2, 5, 6, 6, 7, 7, 7, 8])       # gap 3-4; dup 6 ok; 7 twice dup
    packets += [ts_packet(0x100, 3, b"x", discontinuity=True)]     # jump allowed
    packets += cc_run(0x100, [4, 5])
    packets += cc_run(0x101, [9, 10, 12])                          # another PID, gap of 1
    packets += [ts_packet(0x1FFF, 0, b""), ts_packet(0x1FFF, 9, b"")]  # null PID: no rule
    st = track(packets).stats()
    # errors: 2->5 (missing 2), third 7 (a second duplicate), 10->12 (missing 1)
    assert (st.cc_errors, st.missing, st.duplicates) == (3, 3, 2)
    assert st.cc_errors_by_pid == {0x100: 2, 0x101: 1}
    assert st.pids == {0x100: 13, 0x101: 3, 0x1FFF: 2}


def test_adaptation_only_packets_keep_the_counter() -> None:
    packets = cc_run(0x100, [0, 1]) + [ts_packet(0x100, 1, has_payload=False, pcr=0)]
    packets += cc_run(0x100, [2]) + [ts_packet(0x100, 3, has_payload=False)]  # bad: moved
    st = track(packets, per_datagram=1).stats()
    assert st.cc_errors == 1


def test_errors_across_datagram_and_batch_boundaries() -> None:
    ccs = [i % 16 for i in range(100)]
    del ccs[50]                                                    # one TS packet lost
    for per, batch in ((1, 1), (7, 1), (7, 3), (4, 64)):
        st = track(cc_run(0x200, ccs), per_datagram=per, batch=batch).stats()
        assert (st.cc_errors, st.missing) == (1, 1), (per, batch)


def test_pat_pmt_pcr_and_bitrate() -> None:
    packets = [ts_packet(0, 0, pat({1: 0x1000}), pusi=True),
               ts_packet(0x1000, 0, pmt(1, 0x100, [(0x1B, 0x100)]), pusi=True)]
    for i in range(6):                                  # PCR every 40 ms on PID 0x100
        packets.append(ts_packet(0x100, i, b"v", pcr=i * 27_000_000 // 25))
    packets.append(ts_packet(0x100, 6, b"v", pcr=300 * 27_000, discontinuity=True))
    st = track(packets, per_datagram=1).stats()
    assert st.pat_seen and st.pmt_seen and st.pmt_pids == (0x1000,)
    assert st.pcr_pids == (0x100,)
    assert st.pcr_interval_ms_max == st.pcr_interval_ms_avg == 40.0
    # 9 datagrams of 188 bytes over 8 ms of arrival
    assert st.bitrate_bps is not None and abs(st.bitrate_bps - 9 * 188 * 8 / 0.008) < 1


def test_pmt_is_not_seen_without_one() -> None:
    st = track([ts_packet(0, 0, pat({1: 0x1000}), pusi=True)], per_datagram=1).stats()
    assert st.pat_seen and not st.pmt_seen


def test_sync_and_transport_errors_are_counted_and_left_out() -> None:
    good = cc_run(0x100, [0, 1, 2])
    bad_sync = bytearray(ts_packet(0x100, 9, b"x"))
    bad_sync[0] = 0x46
    tei = ts_packet(0x100, 12, b"x", tei=True)
    book = HealthBook(mpegts=True)
    # the bad-sync datagram is not TS at all (first byte 0x46): only the middle one counts
    book.feed(SRC, DST, [good[0] + good[1], bytes(bad_sync), tei + good[2]], [1.0, 1.1, 1.2])
    ts = next(iter(book.pairs.values())).ts
    assert ts is not None
    st = ts.stats()
    assert (st.tei_errors, st.cc_errors, st.packets) == (1, 0, 3)
    head = np.frombuffer(bytes(bad_sync) + good[0], dtype=np.uint8).reshape(2, 188)[:, :12]
    tracker = TsTracker()
    tracker.feed(head.copy(), 1, 1.0, 1.0)
    assert tracker.stats().sync_errors == 1


def test_ts_inside_rtp() -> None:
    ccs = [i % 16 for i in range(70)]
    del ccs[20]
    tracker = track(cc_run(0x100, ccs), over_rtp=True)
    st = tracker.stats()
    assert (st.packets, st.cc_errors, st.missing) == (69, 1, 1)


@settings(max_examples=120, deadline=None)
@given(ccs=st.lists(st.tuples(st.sampled_from([0x100, 0x101, 0x1FFF]), st.integers(0, 15),
                              st.booleans(), st.booleans()), min_size=1, max_size=80),
       cuts=st.lists(st.integers(1, 80), max_size=6))
def test_batches_equal_one_datagram_at_a_time(ccs: list[tuple[int, int, bool, bool]],
                                              cuts: list[int]) -> None:
    packets = [ts_packet(pid, cc, b"x" if payload else b"", has_payload=payload,
                         discontinuity=disc) for pid, cc, payload, disc in ccs]
    one = track(packets, per_datagram=1, batch=1).stats()
    edges = sorted({c for c in cuts if c < len(packets)})
    tracker = TsTracker()
    for lo, hi in zip([0, *edges], [*edges, len(packets)], strict=True):
        head = np.frombuffer(b"".join(packets[lo:hi]), dtype=np.uint8).reshape(-1, 188)[:, :12]
        tracker.feed(head, hi - lo, 100.0, 100.0)
    many = tracker.stats()
    assert (one.cc_errors, one.missing, one.duplicates, one.pids, one.cc_errors_by_pid) == (
        many.cc_errors, many.missing, many.duplicates, many.pids, many.cc_errors_by_pid)
