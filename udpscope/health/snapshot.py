"""Turn a HealthBook's trackers into `StreamHealth` snapshots (on a timer or at close)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .report import StreamHealth

if TYPE_CHECKING:
    from .book import HealthBook
    from .state import Pair

__all__ = ["snapshot"]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _probe(pair: Pair) -> StreamHealth | None:
    if pair.probe is None:
        return None
    st = pair.probe.stats()
    details: dict[str, Any] = {
        "delay_ms_avg": _ms(st.delay_avg), "delay_ms_min": _ms(st.delay_min),
        "delay_ms_max": _ms(st.delay_max), "jitter_ms": _ms(st.jitter),
        "stream": st.stream, "restarts": st.restarts, "stale": st.stale,
    }
    return StreamHealth("probe", pair.source, pair.destination, st.datagrams, st.lost,
                        st.duplicates, st.reordered, pair.kernel_drops, pair.first_seen,
                        pair.last_seen, pair.bytes, details, pair.probe_history.samples())


def _rtp(pair: Pair) -> list[StreamHealth]:
    out = []
    changes = len(pair.rtp) - 1
    for ssrc, entry in pair.rtp.items():
        tracker = entry.tracker
        st = tracker.stats()
        details: dict[str, Any] = {
            "ssrc": ssrc, "jitter_ms": round(tracker.jitter_ms, 3), "pt": tracker.pt,
            "clock_rate": tracker.rate, "ssrc_changes": changes, "restarts": st.restarts,
            "stale": st.stale, "first_seq": st.first, "highest_seq": st.highest,
            "carries_mpegts": pair.ts is not None and pair.ts_over_rtp,
        }
        out.append(StreamHealth("rtp", pair.source, pair.destination, st.packets, st.lost,
                                st.duplicates, st.reordered, pair.kernel_drops,
                                entry.first_seen, entry.last_seen, tracker.bytes, details,
                                entry.history.samples()))
    return out


def _mpegts(pair: Pair) -> StreamHealth | None:
    if pair.ts is None:
        return None
    st = pair.ts.stats()
    details: dict[str, Any] = {
        "cc_errors": st.cc_errors, "pids": len(st.pids), "pcr_pids": list(st.pcr_pids),
        "pat": st.pat_seen, "pmt": st.pmt_seen,
        "pcr_interval_ms_max": None if st.pcr_interval_ms_max is None
        else round(st.pcr_interval_ms_max, 3),
        "pcr_interval_ms_avg": None if st.pcr_interval_ms_avg is None
        else round(st.pcr_interval_ms_avg, 3),
        "bitrate_bps": None if st.bitrate_bps is None else round(st.bitrate_bps),
        "sync_errors": st.sync_errors, "tei_errors": st.tei_errors,
        "datagrams": st.datagrams, "over_rtp": pair.ts_over_rtp,
        "cc_errors_by_pid": {str(k): v for k, v in list(st.cc_errors_by_pid.items())[:32]},
    }
    return StreamHealth("mpegts", pair.source, pair.destination, st.packets, st.missing,
                        st.duplicates, None, pair.kernel_drops, pair.first_seen,
                        pair.last_seen, st.bytes, details, pair.ts_history.samples())


def _seq(book: HealthBook, pair: Pair) -> StreamHealth | None:
    if pair.seq is None or book.seq is None:
        return None
    st = pair.seq.stats()
    details: dict[str, Any] = {"seq": book.seq.text(), "first_seq": st.first,
                               "highest_seq": st.highest, "stale": st.stale,
                               "restarts": st.restarts}
    return StreamHealth("seq", pair.source, pair.destination, st.packets, st.lost,
                        st.duplicates, st.reordered, pair.kernel_drops, pair.first_seen,
                        pair.last_seen, pair.bytes, details, pair.seq_history.samples())


def _arbitrated(book: HealthBook) -> StreamHealth | None:
    counter = book.arbitrated
    if counter is None or book.seq is None or not counter.packets:
        return None
    st = counter.stats()
    lines = []
    destinations = set()
    for pair in book.pairs.values():
        if pair.seq is None:
            continue
        line = pair.seq.stats()
        destinations.add(pair.destination)
        lines.append({"source": pair.source, "destination": pair.destination,
                      "packets": line.packets, "lost": line.lost})
    destination = book.local or (destinations.pop() if len(destinations) == 1 else None)
    details: dict[str, Any] = {"seq": book.seq.text(), "lines": lines, "first_seq": st.first,
                               "highest_seq": st.highest, "stale": st.stale,
                               "restarts": st.restarts}
    drops = 0 if book._drops_base is None else book.kernel_drops - book._drops_base
    return StreamHealth("arbitrated", None, destination, st.packets, st.lost, st.duplicates,
                        st.reordered, drops, book._arb_first or 0.0, book._arb_last,
                        book._arb_bytes, details, book.arbitrated_history.samples())


def snapshot(book: HealthBook) -> list[StreamHealth]:
    """Every followed stream, pair by pair in the order they appeared, then the merge."""
    out: list[StreamHealth] = []
    for pair in book.pairs.values():
        probe = _probe(pair)
        if probe is not None:
            out.append(probe)
        out.extend(_rtp(pair))
        ts = _mpegts(pair)
        if ts is not None:
            out.append(ts)
        seq = _seq(book, pair)
        if seq is not None:
            out.append(seq)
    merged = _arbitrated(book)
    if merged is not None:
        out.append(merged)
    return out
