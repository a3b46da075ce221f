#!/usr/bin/env python3
"""Measure what the Hosts view (7) costs the UI with 16 hosts (240 cells), headless.

Fake agents (tests/agent/fake_lan.py: no process, no socket, no network) run a real coordinator
while the view is on screen and the app's own timer refreshes it; every refresh is timed. Prints,
for a person to read (timing is never asserted anywhere):

- the view's refresh when nothing changed (the coordinator's snapshot compared by identity),
- the view's refresh after a new report (snapshot rebuilt, host list and changed cells redrawn),
- how many of the 240 cells a refresh changes, and what drawing the grid and the host list costs,
- the event loop's lag meanwhile (the coordinator measures it; the UI shares that loop),
- the share of the run's wall time spent in the view's refreshes.

    .venv/bin/python scripts/hosts_view_cost.py [--hosts 16] [--seconds 6] [--size 140x40]
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

from tests.agent.fake_lan import FakeLan  # noqa: E402
from udpscope.capture import Capture  # noqa: E402
from udpscope.tui.app import UdpscopeApp  # noqa: E402
from udpscope.tui.forms import MatrixFields, parse_matrix_settings  # noqa: E402
from udpscope.tui.hosts_session import HostEntry, HostsSession  # noqa: E402
from udpscope.tui.screens.hosts import HostsScreen  # noqa: E402
from udpscope.tui.widgets.host_grid import HostGrid  # noqa: E402


def _summary(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: none"
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return (f"{label}: n={len(values)} median {statistics.median(values):.3f} ms, "
            f"p99 {p99:.3f} ms, max {values[-1]:.3f} ms")


async def measure(hosts: int, seconds: float, size: tuple[int, int]) -> None:
    names = [f"rack{i // 4 + 1}-node{i % 4 + 1:02d}" for i in range(hosts)]
    lan = FakeLan(drop={(names[3], "multicast"): 1.0, (names[7], "unicast"): 0.1})
    app = UdpscopeApp(capture=Capture(ring_size=1000), theme="udpscope-dark",
                      theme_dirs=[ROOT / "themes"])
    app.hosts_session = HostsSession(link_factory=lan.link)
    rate = 100.0
    count = int(rate * seconds)
    unchanged: list[float] = []
    changed: list[float] = []
    redrawn: list[int] = []
    draw_grid: list[float] = []
    draw_list: list[float] = []
    snapshots: list[float] = []
    async with app.run_test(size=size) as pilot:
        await pilot.press("7")
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, HostsScreen)
        session = screen.session
        for name in names:
            session.add(HostEntry(name, "ssh {host} udpscope agent", ("ssh", name)))
        screen.update_view(force=True)
        grid = screen.query_one(HostGrid)
        original_show = grid.show

        def counted_show(*args, **kwargs):  # type: ignore[no-untyped-def]
            n = original_show(*args, **kwargs)
            redrawn.append(n)
            return n

        grid.show = counted_show  # type: ignore[method-assign]
        original_update = screen.update_view

        def timed_update(force: bool = False) -> bool:
            began = time.perf_counter()
            did = original_update(force)
            (changed if did else unchanged).append((time.perf_counter() - began) * 1000)
            return did

        screen.update_view = timed_update  # type: ignore[method-assign]
        # Drawing happens after a refresh, in Textual's own update: time the view's two tables.
        for widget, into in ((grid, draw_grid), (screen.query_one("#host-list"), draw_list)):
            def timed_render(crop, _orig=widget.render_lines, _into=into):  # type: ignore[no-untyped-def]
                began = time.perf_counter()
                lines = _orig(crop)
                _into.append((time.perf_counter() - began) * 1000)
                return lines

            widget.render_lines = timed_render  # type: ignore[method-assign]
        coordinator = session.start(parse_matrix_settings(
            MatrixFields("239.1.2.3:5000", str(count), str(rate))))
        original_snapshot = coordinator.snapshot

        def timed_snapshot():  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            snap = original_snapshot()
            snapshots.append((time.perf_counter() - began) * 1000)
            return snap

        coordinator.snapshot = timed_snapshot  # type: ignore[method-assign]
        began = time.perf_counter()
        while session.running:
            await pilot.pause(0.1)
        wall = time.perf_counter() - began
        snap = session.snapshot()
        assert snap is not None
        stats = snap.stats
    cells = hosts * (hosts - 1)
    print(f"Hosts view, {hosts} hosts ({cells} cells), {count} probes at {rate:g}/s each way, "
          f"{size[0]}x{size[1]}, run of {wall:.1f} s (fake agents)")
    print(_summary("refresh, nothing new", unchanged))
    print(_summary("refresh after a report (snapshot rebuilt + redraw)", changed))
    print(_summary("  of which the coordinator's snapshot() (all calls)", snapshots))
    if redrawn:
        print(f"cells redrawn per refresh: median {statistics.median(redrawn):.0f}, "
              f"max {max(redrawn)} of {cells}")
    print(_summary("drawing the grid (Line API, visible cells only)", draw_grid))
    print(_summary("drawing the host list (a DataTable)", draw_list))
    spent = (sum(unchanged) + sum(changed) + sum(draw_grid) + sum(draw_list)) / 1000
    print(f"time in the view's refreshes and drawing: {spent * 1000:.0f} ms of {wall:.1f} s "
          f"({100 * spent / wall:.2f} % of the loop)")
    print(f"event-loop lag during the run (coordinator's measure): max {stats.loop_lag_ms_max:.1f} "
          f"ms, p99 {stats.loop_lag_ms_p99:.1f} ms; coordinator CPU {stats.cpu_s:.2f} s, "
          f"{stats.polls} polls")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--size", default="140x40")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    asyncio.run(measure(args.hosts, args.seconds, (width, height)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
