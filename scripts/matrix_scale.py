#!/usr/bin/env python3
"""Measure the matrix coordinator at scale: N hosts (default 16: 240 cells) on a bridge made of
network namespaces, every host sending --rate probes/s to the group and to every other host.

Why a script and not a test: it prints numbers (the coordinator's CPU, its event-loop lag, the
report round trips, the agents' own CPU, how late their senders ran, kernel drops, and the
loss in the grid) for a person to read; timing is never asserted. Root only; everything runs in
namespaces the script creates and deletes (tests/agent/bridge_net.py); sends are bounded by
--count (rate x seconds).

    sudo .venv/bin/python scripts/matrix_scale.py [--hosts 16] [--rate 100] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.agent import bridge_net as bn  # noqa: E402
from tests.netns import NetnsFactory, netns_unavailable_reason  # noqa: E402
from udpscope.agent.coordinator import Coordinator, MatrixConfig, MatrixSnapshot  # noqa: E402
from udpscope.agent.transport import HostSpec  # noqa: E402


async def measure(names: list[str], config: MatrixConfig,
                  watch_s: float) -> tuple[MatrixSnapshot, list[float]]:
    coordinator = Coordinator(config, [HostSpec.from_template(n, bn.agent_template())
                                       for n in names])
    task = asyncio.get_running_loop().create_task(coordinator.run())
    snapshot_ms: list[float] = []
    # Poll like a view would (4 Hz), timing each snapshot: that is the view's cost per frame.
    while not task.done():
        began = time.perf_counter()
        coordinator.snapshot()
        snapshot_ms.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(watch_s)
    return await task, snapshot_ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    reason = netns_unavailable_reason()
    if reason:
        print(f"cannot measure: {reason}", file=sys.stderr)
        return 1
    count = int(args.rate * args.seconds)
    factory = NetnsFactory()
    try:
        net = bn.build(factory, args.hosts)
        config = MatrixConfig("239.1.2.3", 5000, count=count, rate=args.rate,
                              timeout=args.seconds * 2 + 60)
        snap, snapshot_ms = asyncio.run(measure(net.hosts, config, 0.25))
    finally:
        factory.close()
    n = len(snap.hosts)
    cells = snap.cells
    st = snap.stats
    lost = sum((c.multicast.lost or 0) + (c.unicast.lost or 0) for c in cells)
    warm = sum(c.multicast.warmup_lost or 0 for c in cells)
    sent = sum((c.multicast.sent or 0) + (c.unicast.sent or 0) for c in cells)
    failed = [h for h in snap.hosts if h.error]
    agent_cpu = [h.agent_cpu_s or 0.0 for h in snap.hosts]
    late = [h.late_ms_max or 0.0 for h in snap.hosts]
    drops = sum(h.kernel_drops for h in snap.hosts)
    per_agent_pps = args.rate * n + args.rate * (n - 1) * 2   # sent (1 + n-1) + received (2(n-1))
    print(f"hosts {n}, cells {len(cells)}, {count} probes per destination at {args.rate:g}/s "
          f"({args.seconds:g} s per phase), ok={snap.ok}, failed hosts={len(failed)}")
    for h in failed:
        print(f"  failed {h.name}: {h.error}")
    print(f"probes: {sent} sent in the grid, {lost} lost ({100 * lost / max(sent, 1):.3f} %), "
          f"{warm} multicast warm-up; agents' kernel drops {drops}")
    print(f"coordinator: wall {st.elapsed_s:.2f} s, CPU {st.cpu_s:.2f} s "
          f"({100 * st.cpu_s / max(st.elapsed_s, 1e-9):.1f} % of one core), "
          f"event-loop lag p99 {st.loop_lag_ms_p99:.1f} ms max {st.loop_lag_ms_max:.1f} ms")
    print(f"coordinator polls: {st.polls} rounds of {n} reports, round trip avg "
          f"{st.poll_ms_avg:.1f} ms max {st.poll_ms_max:.1f} ms, {st.report_bytes / 1e6:.1f} MB of "
          "reports read")
    if snapshot_ms:
        print(f"snapshot() (what a view pays per frame, {len(cells)} cells): median "
              f"{statistics.median(snapshot_ms):.2f} ms, max {max(snapshot_ms):.2f} ms")
    print(f"agents: ~{per_agent_pps:.0f} probes/s each in and out; CPU per agent avg "
          f"{statistics.mean(agent_cpu):.2f} s max {max(agent_cpu):.2f} s; sender lateness max "
          f"{max(late):.1f} ms (median of per-agent max {statistics.median(late):.1f} ms)")
    return 0 if snap.ok else 1


if __name__ == "__main__":
    sys.exit(main())
