"""MPEG-TS stream health: continuity-counter errors per PID, PIDs, PAT/PMT, PCR, bitrate.

An IPTV flood is ~700,000 TS packets a second, so nothing here loops over TS packets in Python:
a batch's packets arrive as one (N, 188) or (N, 12+) uint8 array and every rule is an array
operation. Per-PID state lives in arrays indexed by PID (13 bits: 8192 entries), so the table
of PIDs is bounded by the format itself.

Continuity rules (ISO/IEC 13818-1 2.4.3.3): a packet with payload carries the previous CC + 1
(mod 16); one without keeps it; one packet may be sent twice (the same CC again, once); a
packet whose adaptation field sets the discontinuity indicator may jump; the null PID (0x1FFF)
has no continuity. Packets with a sync byte other than 0x47 or the transport error indicator
set are counted and left out (their PID cannot be trusted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["TsStats", "TsTracker"]

U8 = npt.NDArray[np.uint8]
NPIDS = 8192
NULL_PID = 0x1FFF
PCR_WRAP = (1 << 33) * 300      # PCR is a 33-bit base at 90 kHz times 300, plus a 9-bit extension
PCR_HZ = 27_000_000
MAX_PCR_GAP_S = 10.0             # a longer gap between PCRs is a pause or a restart, not an interval


@dataclass(frozen=True, slots=True)
class TsStats:
    """A snapshot of one TS stream."""

    packets: int               # TS packets counted (sync and TEI errors excluded)
    datagrams: int
    cc_errors: int
    missing: int               # TS packets the CC gaps imply were lost (a lower bound)
    duplicates: int            # allowed duplicate packets
    sync_errors: int
    tei_errors: int
    pids: dict[int, int]       # PID -> packets
    cc_errors_by_pid: dict[int, int]
    pat_seen: bool
    pmt_pids: tuple[int, ...]  # from the PAT
    pmt_seen: bool
    pcr_pids: tuple[int, ...]
    pcr_interval_ms_max: float | None
    pcr_interval_ms_avg: float | None
    bitrate_bps: float | None  # from arrival times
    bytes: int


class TsTracker:
    """One transport stream (raw TS over UDP, or the TS inside one RTP stream)."""

    def __init__(self) -> None:
        self.packets = 0
        self.datagrams = 0
        self.cc_errors = 0
        self.missing = 0
        self.duplicates = 0
        self.sync_errors = 0
        self.tei_errors = 0
        self._pid_packets = np.zeros(NPIDS, dtype=np.int64)
        self._pid_errors = np.zeros(NPIDS, dtype=np.int64)
        self._last_cc = np.full(NPIDS, -1, dtype=np.int16)
        self._last_dup = np.zeros(NPIDS, dtype=np.bool_)
        self._last_pcr = np.full(NPIDS, -1, dtype=np.int64)
        self._pcr_count = np.zeros(NPIDS, dtype=np.int64)
        self._pcr_gap_max = 0
        self._pcr_gap_sum = 0
        self._pcr_gaps = 0
        self._pmt_pids: set[int] = set()
        self._pmt_seen = False
        self._first_time: float | None = None
        self._last_time: float | None = None

    def feed(self, head: U8, datagrams: int, first_time: float, last_time: float,
             packet: Callable[[int], bytes] | None = None) -> None:
        """Count a batch of TS packets.

        `head` is an (N, >=12) uint8 array: the first bytes of each TS packet, in arrival order
        (a view of the received bytes is fine). `packet(i)` returns the whole 188 bytes of
        packet i; it is asked only for the few PAT/PMT packets, to learn the PMT PIDs.
        """
        self.datagrams += datagrams
        if self._first_time is None:
            self._first_time = first_time
        self._last_time = last_time
        if len(head) == 0:
            return
        b1 = head[:, 1]
        bad_sync = head[:, 0] != 0x47
        tei = (b1 & 0x80) != 0
        good = ~(bad_sync | tei)
        if not good.all():
            self.sync_errors += int(np.count_nonzero(bad_sync))
            self.tei_errors += int(np.count_nonzero(tei & ~bad_sync))
            index = np.flatnonzero(good)
            head = head[good]
            b1 = head[:, 1]
        else:
            index = None
        m = len(head)
        if m == 0:
            return
        self.packets += m
        pid = ((b1 & 0x1F).astype(np.int64) << 8) | head[:, 2]
        self._pid_packets += np.bincount(pid, minlength=NPIDS)
        b3 = head[:, 3]
        has_af = (b3 & 0x20) != 0
        has_payload = (b3 & 0x10) != 0
        af_len = head[:, 4]
        af_flags = head[:, 5]
        disc = has_af & (af_len > 0) & ((af_flags & 0x80) != 0)
        self._continuity(pid, (b3 & 0x0F).astype(np.int16), has_payload, disc)
        pcr_at = np.flatnonzero(has_af & (af_len >= 7) & ((af_flags & 0x10) != 0))
        if len(pcr_at):
            self._pcr(head[pcr_at], pid[pcr_at], disc[pcr_at])
        if packet is not None:
            self._tables(pid, (b1 & 0x40) != 0, index, packet)

    def _continuity(self, pid: npt.NDArray[np.int64], cc: npt.NDArray[np.int16],
                    payload: npt.NDArray[np.bool_], disc: npt.NDArray[np.bool_]) -> None:
        keep = pid != NULL_PID
        if not keep.all():
            pid, cc, payload, disc = pid[keep], cc[keep], payload[keep], disc[keep]
        m = len(pid)
        if m == 0:
            return
        order = np.argsort(pid, kind="stable")
        pid, cc, payload, disc = pid[order], cc[order], payload[order], disc[order]
        starts = np.empty(m, dtype=np.bool_)
        starts[0] = True
        starts[1:] = pid[1:] != pid[:-1]
        prev = np.empty(m, dtype=np.int16)
        prev[1:] = cc[:-1]
        prev[starts] = self._last_cc[pid[starts]]
        known = prev >= 0
        same = payload & known & (cc == prev)
        prev_same = np.empty(m, dtype=np.bool_)
        prev_same[1:] = same[:-1]
        prev_same[starts] = self._last_dup[pid[starts]]
        allowed_dup = same & ~prev_same
        expected = np.where(payload, (prev + 1) & 0x0F, prev)
        ok = disc | ~known | (cc == expected) | allowed_dup
        errors = ~ok
        n_err = int(np.count_nonzero(errors))
        if n_err:
            self.cc_errors += n_err
            self._pid_errors += np.bincount(pid[errors], minlength=NPIDS)
            gap = errors & payload & ~same
            self.missing += int(((cc[gap] - prev[gap] - 1) & 0x0F).sum())
        self.duplicates += int(np.count_nonzero(allowed_dup))
        ends = np.empty(m, dtype=np.bool_)
        ends[-1] = True
        ends[:-1] = starts[1:]
        self._last_cc[pid[ends]] = cc[ends]
        self._last_dup[pid[ends]] = same[ends]

    def _pcr(self, head: U8, pid: npt.NDArray[np.int64], disc: npt.NDArray[np.bool_]) -> None:
        raw = head[:, 6:12].astype(np.int64)
        base = (raw[:, 0] << 25) | (raw[:, 1] << 17) | (raw[:, 2] << 9) | (raw[:, 3] << 1) | (
            raw[:, 4] >> 7)
        pcr = base * 300 + (((raw[:, 4] & 1) << 8) | raw[:, 5])
        self._pcr_count += np.bincount(pid, minlength=NPIDS)
        order = np.argsort(pid, kind="stable")
        pid, pcr, disc = pid[order], pcr[order], disc[order]
        m = len(pid)
        starts = np.empty(m, dtype=np.bool_)
        starts[0] = True
        starts[1:] = pid[1:] != pid[:-1]
        prev = np.empty(m, dtype=np.int64)
        prev[1:] = pcr[:-1]
        prev[starts] = self._last_pcr[pid[starts]]
        valid = (prev >= 0) & ~disc
        gaps = (pcr[valid] - prev[valid]) % PCR_WRAP
        gaps = gaps[gaps <= MAX_PCR_GAP_S * PCR_HZ]
        if len(gaps):
            self._pcr_gap_max = max(self._pcr_gap_max, int(gaps.max()))
            self._pcr_gap_sum += int(gaps.sum())
            self._pcr_gaps += len(gaps)
        ends = np.empty(m, dtype=np.bool_)
        ends[-1] = True
        ends[:-1] = starts[1:]
        self._last_pcr[pid[ends]] = pcr[ends]

    def _tables(self, pid: npt.NDArray[np.int64], pusi: npt.NDArray[np.bool_],
                index: npt.NDArray[np.intp] | None, packet: Callable[[int], bytes]) -> None:
        """Learn the PMT PIDs from a PAT, and whether a PMT was seen (a few packets a second)."""
        if not pusi.any():
            return

        def row(i: int) -> int:
            return i if index is None else int(index[i])

        for i in np.flatnonzero((pid == 0) & pusi)[:1]:      # the PAT: which PIDs are PMTs
            table = _section(packet(row(int(i))))
            if table is not None and table[0] == 0:
                body = table[1]
                for at in range(0, len(body) - 3, 4):
                    program = (body[at] << 8) | body[at + 1]
                    if program and len(self._pmt_pids) < 64:
                        self._pmt_pids.add(((body[at + 2] & 0x1F) << 8) | body[at + 3])
        if self._pmt_pids and not self._pmt_seen:
            for i in np.flatnonzero(pusi & np.isin(pid, list(self._pmt_pids)))[:2]:
                table = _section(packet(row(int(i))))
                if table is not None and table[0] == 2:
                    self._pmt_seen = True

    def stats(self) -> TsStats:
        """The counts now."""
        pids = np.flatnonzero(self._pid_packets)
        errs = np.flatnonzero(self._pid_errors)
        pcr_pids = tuple(int(p) for p in np.flatnonzero(self._pcr_count))
        span = (self._last_time or 0.0) - (self._first_time or 0.0)
        total = self.packets * 188
        return TsStats(
            packets=self.packets, datagrams=self.datagrams, cc_errors=self.cc_errors,
            missing=self.missing, duplicates=self.duplicates, sync_errors=self.sync_errors,
            tei_errors=self.tei_errors,
            pids={int(p): int(self._pid_packets[p]) for p in pids},
            cc_errors_by_pid={int(p): int(self._pid_errors[p]) for p in errs},
            pat_seen=bool(self._pid_packets[0]), pmt_pids=tuple(sorted(self._pmt_pids)),
            pmt_seen=self._pmt_seen, pcr_pids=pcr_pids,
            pcr_interval_ms_max=self._pcr_gap_max / PCR_HZ * 1000 if self._pcr_gaps else None,
            pcr_interval_ms_avg=(self._pcr_gap_sum / self._pcr_gaps / PCR_HZ * 1000
                                 if self._pcr_gaps else None),
            bitrate_bps=total * 8 / span if span > 0 else None, bytes=total)


def _section(raw: bytes) -> tuple[int, bytes] | None:
    """(table id, section body without its CRC) of the section starting in a PUSI packet."""
    if len(raw) < 188:
        return None
    afc = (raw[3] >> 4) & 3
    at = 4
    if afc & 2:
        at += 1 + raw[4]
    if not afc & 1 or at >= 188:
        return None
    at += 1 + raw[at]  # pointer field
    if at + 8 > 188:
        return None
    table_id = raw[at]
    length = ((raw[at + 1] & 0x0F) << 8) | raw[at + 2]
    end = min(188, at + 3 + length - 4)
    return table_id, raw[at + 8:end]
