"""The Stats pane's stream health as text: timelines per second, sparklines in a cell, the
"is it me or the network" verdict, and a stream's one-line description.

Plain functions of `StreamHealth` snapshots (udpscope.health) and the clock, so the pane's
timer only lays them out, and tests check them without an app. A sparkline here is a run of
block characters, one per second, scaled to its own largest value: a table row can carry one
beside its numbers, where people look rather than read. Every address in the output is raw
(the kernel's): the pane sanitises what it shows. No Textual here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from udpscope.health import StreamHealth

__all__ = ["BLOCKS", "KIND_NAMES", "describe", "spark", "timeline", "verdict"]

BLOCKS = "▁▂▃▄▅▆▇█"
NO_DATA = " "
KIND_NAMES = {"rtp": "rtp", "mpegts": "ts", "probe": "probe", "seq": "seq", "arbitrated": "A/B"}


def timeline(stream: StreamHealth, now: float, seconds: int
             ) -> tuple[list[int | None], list[float | None]]:
    """(lost, jitter in ms) for each of the last `seconds` seconds up to `now`, oldest first;
    None for a second in which the stream brought nothing (jitter: or none applies). For
    MPEG-TS, "lost" is the continuity errors of that second.

    Never negative: late datagrams that fill an earlier gap lower the total, not the count
    of the second they came in."""
    per_second: dict[int, tuple[int, float | None]] = {}
    before = 0
    for sample in stream.history:   # cumulative, one per second, oldest first
        total = sample.errors if stream.kind == "mpegts" else sample.lost
        per_second[sample.second] = (max(0, total - before), sample.jitter_ms)
        before = total
    last = int(now)
    lost: list[int | None] = []
    jitter: list[float | None] = []
    for second in range(last - seconds + 1, last + 1):
        found = per_second.get(second)
        lost.append(None if found is None else found[0])
        jitter.append(None if found is None else found[1])
    return lost, jitter


def spark(values: Sequence[float | None], top: float | None = None) -> str:
    """One block character per value, scaled to `top` (default: the largest value); a value
    of 0 is the lowest block, a missing one (None) a blank."""
    present = [v for v in values if v is not None]
    high = top if top is not None else max(present, default=0.0)
    out = []
    for v in values:
        if v is None:
            out.append(NO_DATA)
        elif high <= 0 or v <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[max(1, min(len(BLOCKS) - 1, round(v / high * (len(BLOCKS) - 1))))])
    return "".join(out)


def verdict(stream: StreamHealth) -> tuple[str, str]:
    """("ok" | "network" | "host", one sentence) on where the stream's loss happened."""
    lost = int(stream.details.get("cc_errors") or 0) if stream.kind == "mpegts" else stream.lost
    drops = stream.kernel_drops
    if not lost:
        if drops:
            return "host", (f"no loss in this stream, but this socket's kernel dropped {drops} "
                            "datagrams meanwhile (its receive buffer was full)")
        return "ok", "no loss, and the kernel dropped nothing on this socket"
    what = "continuity errors" if stream.kind == "mpegts" else "lost"
    if not drops:
        return "network", (f"{lost} {what}; the kernel dropped nothing on this socket: the loss "
                           "is upstream (the network or the sender)")
    return "host", (f"{lost} {what} while this socket's kernel dropped {drops}: some or all of "
                    "it may be this host (a bigger receive buffer: 2 Options)")


def describe(stream: StreamHealth) -> str:
    """One line naming the stream: kind, source -> destination and its kind's particulars."""
    kind = KIND_NAMES.get(stream.kind, stream.kind)
    source = stream.source or "(merged lines)"
    parts = [f"{kind} {source} → {stream.destination or '?'}"]
    d = stream.details
    if stream.kind == "rtp":
        parts.append(f"SSRC 0x{int(d.get('ssrc') or 0):08x}")
        if d.get("pt") is not None:
            parts.append(f"PT {d['pt']}" + (f" ({int(d['clock_rate']) // 1000} kHz)"
                                            if d.get("clock_rate") else ""))
        if d.get("carries_mpegts"):
            parts.append("carries MPEG-TS")
        if d.get("ssrc_changes"):
            parts.append(f"{d['ssrc_changes']} SSRC changes")
    elif stream.kind == "mpegts":
        parts.append(f"{d.get('pids', 0)} PIDs")
        parts.append("PAT " + ("seen" if d.get("pat") else "missing"))
        parts.append("PMT " + ("seen" if d.get("pmt") else "missing"))
        if d.get("bitrate_bps"):
            parts.append(f"{d['bitrate_bps'] / 1e6:.2f} Mbit/s")
        if d.get("over_rtp"):
            parts.append("inside RTP")
    elif stream.kind in ("seq", "arbitrated"):
        parts.append(f"field {d.get('seq')}")
        if stream.kind == "arbitrated":
            parts.append(f"{len(d.get('lines') or [])} lines")
    elif stream.kind == "probe" and d.get("delay_ms_avg") is not None:
        parts.append(f"delay {d['delay_ms_avg']:.2f} ms")
    return " · ".join(parts)
