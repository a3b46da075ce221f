"""The send scenario: sending peers, unconnected and connected, each to a draining sink.

Why a sink that does nothing per datagram (recvmmsg, 64 at a time): the sender under test must
be what limits the rate. Peers run interleaved within each socket mode, and ratios against the
baseline peer are medians of per-repetition pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from udpscope.benchkit.proc import python_argv
from udpscope.benchkit.receive import ENGINE_WORKER, PER_RUN_OVERHEAD_S
from udpscope.benchkit.report import Symbols, limit_lines, pct, rate, ratio, spread_text, table, us
from udpscope.benchkit.runner import interleaved
from udpscope.benchkit.scenario import Peer, Scenario, SenderSpec
from udpscope.benchkit.stats import paired, summarize

if TYPE_CHECKING:
    from udpscope.benchkit.runner import Bench, Config

MODES = ("unconnected", "connected")

ENGINE_SENDER: Peer[SenderSpec] = Peer(
    "engine", "engine",
    lambda s: python_argv(ENGINE_WORKER, "send", s.host, s.port, s.size, s.seconds, s.mode))


class SendScenario(Scenario):
    """Send runs of each peer in each socket mode; `baseline` is the peer ratios are taken to."""

    key = "send"

    def __init__(self, peers: Sequence[Peer[SenderSpec]], baseline: str | None = None) -> None:
        self.peers = list(peers)
        self.baseline = baseline
        self.runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            m: {p.key: [] for p in self.peers} for m in MODES}

    def estimate_s(self, cfg: Config) -> float:
        return len(MODES) * len(self.peers) * (cfg.seconds + PER_RUN_OVERHEAD_S) * cfg.repeat

    def round(self, bench: Bench, index: int) -> None:
        tag = f"{index + 1}/{bench.cfg.repeat}"
        order = interleaved(self.peers, index)
        for mode in MODES:
            for peer in order:
                self.runs[mode][peer.key].append(bench.attempt(
                    f"send {mode} {tag}: {peer.key}", partial(bench.send_once, peer, mode)))

    def finish(self, bench: Bench, report: dict[str, Any]) -> None:
        report["send"] = {m: {k: summarize(runs, "send") for k, runs in by_peer.items()}
                          for m, by_peer in self.runs.items()}
        base = self.baseline
        if base is None:
            return
        for mode, by_peer in self.runs.items():
            for key, runs in by_peer.items():
                if key != base and base in by_peer:
                    report["ratios"][f"send_{mode}_{key}_vs_{base}"] = paired(runs, by_peer[base])

    def render(self, report: dict[str, Any], sym: Symbols) -> list[str]:
        if "send" not in report:
            return []
        ratios = report.get("ratios") or {}
        out = ["", "SEND  64 send() calls per event-loop turn",
               "      to a draining sink (recvmmsg) on the other CPU"]
        send = report["send"]
        base = self.baseline
        labels = {p.key: p.label for p in self.peers}
        has_base = base is not None and any(
            f"send_{m}_{k}_vs_{base}" in ratios for m in send for k in send[m])
        headers = ["peer", "socket", "sent", f"vs {base}", "CPU/datagram", "CPU used",
                   "sink got", "spread"]
        rows = []
        limited: dict[str, Any] = {}
        for mode, by_peer in send.items():
            for key, s in by_peer.items():
                name = labels.get(key, key)
                limited[f"{name} {mode}"] = s
                if "error" in s:
                    rows.append([name, mode, "failed", "", "", "", "", ""])
                    continue
                if key == base:
                    vs = "1.00" + sym.times
                else:
                    vs = ratio((ratios.get(f"send_{mode}_{key}_vs_{base}") or {}).get("rate"),
                               sym)
                sent = s.get("sent") or 0
                rows.append([name, mode, rate(s.get("pps")), vs,
                             f"{us(s.get('cpu_us'))} {sym.mu}s", pct(s.get("cpu_share")),
                             pct((s.get("sink_received") or 0) / sent if sent else None),
                             spread_text(s, sym)])
        if not has_base:
            headers.pop(3)
            rows = [r[:3] + r[4:] for r in rows]
        out.extend(table(headers, rows, right=set(range(2, len(headers)))))
        out.extend(limit_lines(limited))
        return out
