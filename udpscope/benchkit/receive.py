"""The receive scenario: receiving peers, one at a time, each fed by the saturating sender.

Why one generic scenario: "how fast does X take datagrams off a socket, and at what CPU cost,
next to Y measured seconds apart" is the question behind the engine-vs-Node comparison and
behind later ones (stream-health tracking on, writing a capture file on), so the peers, the
section name, the ratios and the title are parameters. Peers run interleaved (a, b, c, then
c, b, a), and ratios are medians of per-repetition pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from udpscope.benchkit.proc import python_argv
from udpscope.benchkit.report import (
    Symbols,
    limit_lines,
    pct,
    rate,
    ratio,
    si,
    spread_text,
    table,
    us,
)
from udpscope.benchkit.runner import interleaved
from udpscope.benchkit.scenario import Peer, ReceiverSpec, Scenario
from udpscope.benchkit.stats import median, paired, summarize

if TYPE_CHECKING:
    from udpscope.benchkit.runner import Bench, Config

ENGINE_WORKER = "udpscope.benchkit.engine_worker"
SATURATING_PPS = 1_000_000
PER_RUN_OVERHEAD_S = 0.7

ENGINE_RECEIVER: Peer[ReceiverSpec] = Peer(
    "engine", "engine",
    lambda s: python_argv(ENGINE_WORKER, "recv", s.host, s.rcvbuf, s.idle_ms, s.max_s))


@dataclass(frozen=True)
class Ratio:
    """A paired ratio a/b to report as `<section>_<a>_vs_<b>`; with `line`, also as a line
    under the table ("<line>: 0.58x the rate, 2.02x the CPU per datagram")."""

    a: str
    b: str
    line: str | None = None


class ReceiveScenario(Scenario):
    """Receive runs of each peer, fed by the Python sender at full speed (or at `rate`)."""

    def __init__(self, peers: Sequence[Peer[ReceiverSpec]], *, key: str = "receive",
                 title: str = "RECEIVE  a `message` listener that keeps each payload",
                 ratios: Sequence[Ratio] = (), baseline: str | None = None,
                 sender_key: str | None = None, rate: float = 0.0,
                 size: int | None = None, payload: str = "plain") -> None:
        """`peers` in run order; `baseline` is the peer of the "vs <baseline>" column;
        `sender_key` the report key of the sender's summary (default `<key>_sender`);
        `rate`/`size` pace the sender and size its datagrams (default: flat out, cfg.size);
        `payload` what it sends (benchkit.payloads: "plain", "rtp", "rtp-ts")."""
        self.key = key
        self.peers = list(peers)
        self.title = title
        self.ratios = list(ratios)
        self.baseline = baseline
        self.sender_key = sender_key or f"{key}_sender"
        self.rate = rate
        self.size = size
        self.payload = payload
        self.runs: dict[str, list[dict[str, Any]]] = {p.key: [] for p in self.peers}
        self.senders: list[dict[str, Any]] = []

    def estimate_s(self, cfg: Config) -> float:
        return len(self.peers) * (cfg.seconds + PER_RUN_OVERHEAD_S) * cfg.repeat

    def round(self, bench: Bench, index: int) -> None:
        tag = f"{index + 1}/{bench.cfg.repeat}"
        for peer in interleaved(self.peers, index):
            run = partial(bench.receive_once, peer, self.senders, rate=self.rate,
                          size=self.size, payload=self.payload)
            self.runs[peer.key].append(bench.attempt(f"{self.key} {tag}: {peer.key}", run))

    def finish(self, bench: Bench, report: dict[str, Any]) -> None:
        report[self.key] = {k: summarize(runs, "receive") for k, runs in self.runs.items()}
        report[self.sender_key] = self._sender_summary(bench)
        for r in self.ratios:
            if r.a in self.runs and r.b in self.runs:
                report["ratios"][f"{self.key}_{r.a}_vs_{r.b}"] = paired(self.runs[r.a],
                                                                       self.runs[r.b])

    def _sender_summary(self, bench: Bench) -> dict[str, Any]:
        pps = [float(s.get("pps") or 0) for s in self.senders]
        methods = sorted({str(s.get("method")) for s in self.senders})
        segments = sorted({int(s.get("segments") or 1) for s in self.senders})
        mid = median(pps)
        out = {"pps": mid, "method": "/".join(methods) or None,
               "segments": segments[-1] if segments else None, "runs": len(pps)}
        if pps and not self.rate and (mid or 0) < SATURATING_PPS:
            bench.notes.append(
                f"the Python sender reached only {mid or 0:,.0f} datagrams/s (< 1M/s): "
                "receivers that dropped nothing were limited by the sender, not by themselves")
        return out

    def render(self, report: dict[str, Any], sym: Symbols) -> list[str]:
        if self.key not in report:
            return []
        ratios = report.get("ratios") or {}
        sender = report.get(self.sender_key) or {}
        method = sender.get("method") or "?"
        how = (f"UDP GSO, {sender.get('segments')} datagrams per send" if method == "gso"
               else method)
        indent = " " * (len(self.title.split("  ")[0]) + 2)
        out = ["", self.title,
               f"{indent}fed by the Python sender ({how}) at {rate(sender.get('pps'))} "
               "on the other CPU"]
        section = report[self.key]
        base = self.baseline
        has_base = base is not None and any(
            f"{self.key}_{k}_vs_{base}" in ratios for k in section)
        labels = {p.key: p.label for p in self.peers}
        headers = ["peer", "received", f"vs {base}" if has_base else "", "CPU/datagram",
                   "CPU used", "lost (kernel drops)", "spread"]
        rows = []
        for key, s in section.items():
            name = labels.get(key, key)
            if "error" in s:
                rows.append([name, "failed", "", "", "", "", ""])
                continue
            if key == base:
                vs = "1.00" + sym.times
            else:
                vs = (ratio((ratios.get(f"{self.key}_{key}_vs_{base}") or {}).get("rate"), sym)
                      if has_base else "")
            sent = s.get("sent") or 0
            lost = s.get("loss") or 0
            lost_txt = f"{si(lost)} ({pct(lost / sent if sent else None)})"
            rows.append([name, rate(s.get("pps")), vs, f"{us(s.get('cpu_us'))} {sym.mu}s",
                         pct(s.get("cpu_share")), lost_txt, spread_text(s, sym)])
        if not has_base:
            headers.pop(2)
            rows = [r[:2] + r[3:] for r in rows]
        out.extend(table(headers, rows, right=set(range(1, len(headers)))))
        for r in self.ratios:
            pair = ratios.get(f"{self.key}_{r.a}_vs_{r.b}")
            if r.line and pair:
                out.append(f"  {r.line}: {ratio(pair.get('rate'), sym)} the rate, "
                           f"{ratio(pair.get('cpu_per_datagram'), sym)} the CPU per datagram")
        out.extend(limit_lines({labels.get(k, k): s for k, s in section.items()}))
        return out
