"""From runs to numbers: medians, spread, paired ratios, and what limited a rate.

Why medians of paired ratios: the machines this runs on are shared and noisy, so a ratio is taken
per repetition between runs measured seconds apart (engine and peer, interleaved), and the
median of those is reported, not a ratio of medians. The limits say in plain words why a rate is
what it is (the sender saturated the receiver, the process got only part of its CPU, ...).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from udpscope.benchkit.report import si

BUSY_SHARE = 0.85
RECEIVE_KEYS = ("pps", "received", "sent", "loss", "kernel_drops", "window_s", "cpu_s", "cpu_us",
                "cpu_share", "sender_pps")
SEND_KEYS = ("pps", "sent", "errors", "elapsed_s", "cpu_s", "cpu_us", "cpu_share",
             "sink_received", "sink_loss")


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def spread(values: Sequence[float | None]) -> float | None:
    """(max - min) / median: how much the repetitions disagree."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return None
    mid = statistics.median(present)
    return (max(present) - min(present)) / mid if mid else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def paired(a_runs: list[dict[str, Any]], b_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over repetitions of a/b for the rate and for CPU per datagram."""
    rate: list[float | None] = []
    cpu: list[float | None] = []
    for a, b in zip(a_runs, b_runs, strict=False):
        if a.get("pps") and b.get("pps"):
            rate.append(a["pps"] / b["pps"])
        if a.get("cpu_us") and b.get("cpu_us"):
            cpu.append(a["cpu_us"] / b["cpu_us"])
    return {"rate": median(rate), "cpu_per_datagram": median(cpu), "pairs": len(rate)}


def summarize(runs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Medians of the successful runs, their spread, and what limited them.

    `kind` is "receive" (runs of a receiving peer) or "send" (runs of a sending peer).
    """
    ok = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {"runs": runs, "ok": len(ok)}
    if not ok:
        out["error"] = runs[0]["error"] if runs else "not run"
        out["limits"] = []
        return out
    keys = RECEIVE_KEYS if kind == "receive" else SEND_KEYS
    for key in keys:
        values = [r[key] for r in ok if r.get(key) is not None]
        out[key] = median(values) if values else None
    out["spread"] = spread([r["pps"] for r in ok])
    if len(ok) < len(runs):
        out["failed"] = len(runs) - len(ok)
    out["limits"] = limits(out, kind)
    return out


def limits(s: dict[str, Any], kind: str) -> list[str]:
    """Short plain-language reasons a summary's rate is what it is."""
    notes: list[str] = []
    share = s.get("cpu_share")
    if kind == "receive":
        sent, loss = s.get("sent") or 0, s.get("loss") or 0
        if loss > 0:
            notes.append(f"sender saturated receiver: kernel dropped {si(loss)} of {si(sent)}")
        else:
            notes.append("NOT saturated (nothing dropped): this is the sender's rate "
                         f"({si(s.get('sender_pps') or 0)}/s), not the receiver's limit")
    else:
        if share is not None and share >= BUSY_SHARE:
            notes.append(f"CPU-bound in the sender ({100 * share:.0f}% of a CPU)")
        if s.get("sink_loss"):
            notes.append(f"the sink fell behind and dropped {si(s['sink_loss'])} (the send rate "
                         "is still the sender's)")
        if s.get("errors"):
            notes.append(f"{s['errors']:.0f} send errors")
    if share is not None and share < BUSY_SHARE:
        notes.append(f"got only {100 * share:.0f}% of its CPU (shared with other work)")
    return notes
