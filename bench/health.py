"""The stream-health scenarios: does udpscope follow an RTP or MPEG-TS flood on one core, and
what does the tracking cost, next to Node's bare receive rate?

- HEALTH RTP: a flat-out flood of 172-byte RTP datagrams (G.711-sized), received by Node's
  `message` listener (nothing tracked), the engine's `batch` listener alone, and the same
  listener feeding a HealthBook (loss, duplicates, reordering, jitter).
- HEALTH TS: MPEG-TS over RTP, 1,328-byte datagrams (7 TS packets, 1,316 bytes of TS) paced at
  100,000/s (~1 Gbit/s, 700,000 TS packets/s): the same peers, tracking RTP and TS continuity.
  Paced, so every peer can keep up: the CPU column is the headroom.
- TRACK: the tracking alone, in one process, in datagrams per CPU-second (the rate one core
  would sustain), for both streams.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from udpscope.benchkit.proc import Children, python_argv
from udpscope.benchkit.receive import Ratio, ReceiveScenario
from udpscope.benchkit.report import Symbols, rate, table, us
from udpscope.benchkit.scenario import Peer, ReceiverSpec, Scenario
from udpscope.benchkit.stats import median

if TYPE_CHECKING:
    from udpscope.benchkit.runner import Bench, Config

WORKER = "bench.health_worker"
RTP_SIZE = 172
TS_SIZE = 1328
TS_RATE = 100_000.0
TARGETS = {"rtp": 500_000.0, "mpegts": 100_000.0}


def _peer(kind: str, key: str, label: str) -> Peer[ReceiverSpec]:
    return Peer(key, label, lambda s: python_argv(WORKER, "recv", s.host, s.rcvbuf, s.idle_ms,
                                                  s.max_s, kind))


BATCH_ONLY = _peer("none", "batch", "engine batch listener")
RTP_HEALTH = _peer("rtp", "rtp", "engine + RTP health")
TS_HEALTH = _peer("mpegts", "mpegts", "engine + RTP/MPEG-TS health")


def health_scenarios(node: Peer[ReceiverSpec] | None) -> list[Scenario]:
    """The two receive scenarios (with Node's receiver when given) and the tracking-only one."""
    first = [node] if node is not None else []
    base = "node" if node is not None else "batch"
    rtp = ReceiveScenario(
        [*first, BATCH_ONLY, RTP_HEALTH], key="health_rtp",
        title=f"HEALTH RTP  a {RTP_SIZE}-byte RTP flood, tracked",
        ratios=[Ratio("rtp", "batch", "RTP health / batch listener alone"),
                *([Ratio("rtp", "node", "RTP health / Node bare receive"),
                   Ratio("batch", "node")] if node else [])],
        baseline=base, size=RTP_SIZE, payload="rtp")
    ts = ReceiveScenario(
        [*first, BATCH_ONLY, TS_HEALTH], key="health_ts",
        title=f"HEALTH TS  MPEG-TS over RTP, {TS_SIZE}-byte datagrams at {TS_RATE:,.0f}/s",
        ratios=[Ratio("mpegts", "batch", "TS health / batch listener alone"),
                *([Ratio("mpegts", "node"), Ratio("batch", "node")] if node else [])],
        baseline=base, size=TS_SIZE, payload="rtp-ts", rate=TS_RATE)
    return [rtp, ts, TrackScenario()]


class TrackScenario(Scenario):
    """The trackers alone: datagrams tracked per CPU-second, RTP and MPEG-TS over RTP."""

    key = "health_track"
    kinds = ("rtp", "mpegts")

    def __init__(self) -> None:
        self.runs: dict[str, list[dict[str, Any]]] = {k: [] for k in self.kinds}

    def estimate_s(self, cfg: Config) -> float:
        return len(self.kinds) * (cfg.seconds + 0.7) * cfg.repeat

    def round(self, bench: Bench, index: int) -> None:
        for kind in self.kinds:
            self.runs[kind].append(bench.attempt(
                f"{self.key} {index + 1}/{bench.cfg.repeat}: {kind}",
                partial(self._once, bench, kind)))

    def _once(self, bench: Bench, kind: str) -> dict[str, Any]:
        seconds = bench.cfg.seconds
        with Children() as kids:
            worker = kids.start(python_argv(WORKER, "track", kind, seconds),
                                f"{kind} tracker", bench.cpus()[0], bench.env)
            result = worker.read_json(seconds + 30)
            worker.wait(5)
        return result

    def finish(self, bench: Bench, report: dict[str, Any]) -> None:
        section: dict[str, Any] = {}
        for kind, runs in self.runs.items():
            ok = [r for r in runs if "error" not in r]
            if not ok:
                section[kind] = {"error": runs[0]["error"] if runs else "not run", "runs": runs}
                continue
            pps = median([float(r["pps"]) for r in ok])
            section[kind] = {"pps": pps, "cpu_us": median([float(r["cpu_us"]) for r in ok]),
                             "size": ok[0].get("size"), "target_pps": TARGETS[kind],
                             "lost": max(int(r.get("rtp_lost", 0)) for r in ok),
                             "cc_errors": max(int(r.get("cc_errors", 0)) for r in ok),
                             "runs": runs}
        report[self.key] = section

    def render(self, report: dict[str, Any], sym: Symbols) -> list[str]:
        section = report.get(self.key)
        if not section:
            return []
        rows = []
        labels = {"rtp": "RTP", "mpegts": "MPEG-TS over RTP"}
        for kind, s in section.items():
            if "error" in s:
                rows.append([labels[kind], "failed", "", "", ""])
                continue
            rows.append([labels[kind], f"{s['size']} B", rate(s["pps"]),
                         f"{us(s['cpu_us'])} {sym.mu}s", rate(s["target_pps"])])
        return ["", "TRACK  stream health alone, datagrams per CPU-second (one core)",
                *table(["stream", "datagram", "tracked", "CPU/datagram", "target"], rows,
                       right={1, 2, 3, 4})]
