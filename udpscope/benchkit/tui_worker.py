"""The real app, headless, under a flood: does the UI stay usable, and where do datagrams go?

Why in its own process: memory (RSS) and CPU time must be the app's alone, and the app must run on
its own pinned CPU with the sender on the other, as a user's terminal would. The app is the one
users run (`UdpscopeApp` with a socket bound at start-up, like `udpscope --bind 127.0.0.1:0`),
driven by `run_test` at 120x40; nothing in it is patched except a wrapper around `App._display`
that notes the time of every frame the compositor produces (headless frames are composed in full,
just not written to a terminal).

Key-to-frame latency: a key event is posted the way a terminal driver posts one (no pilot waits,
which would add idle-detection sleeps), and the time runs until the first frame that shows the
result: `?` opens the help screen (a frame of the help screen with its text laid out), Escape
closes it (a frame of the main screen again).

Protocol: prints `READY <port> <rcvbuf>` once the socket is bound and the idle baseline is taken;
then waits for the flood, presses keys while it lasts, and prints one JSON line when no datagram
has arrived for IDLE_MS (or MAX_S passed).

    python -m udpscope.benchkit.tui_worker HOST RCVBUF IDLE_MS MAX_S
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from udpscope.benchkit import LOOPBACK, finish

TICK = 0.01
KEY_TIMEOUT = 3.0
IDLE_PRESSES = 6
GAP = 0.05


def rss_bytes() -> int | None:
    """Resident set size of this process now."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        pass
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int | None:
    """The largest RSS this process has had (Linux reports KiB, macOS bytes)."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (ImportError, OSError):
        return None
    return int(peak if sys.platform == "darwin" else peak * 1024)


class Frames:
    """Times of the frames the app composes, per screen class, via a wrapper on `_display`."""

    def __init__(self, app: Any, visible: Callable[[Any], bool]) -> None:
        self.first: float | None = None
        self.count = 0
        self.latest: dict[type, float] = {}
        self._visible = visible
        original = app._display
        perf = time.perf_counter

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                now = perf()
                self.count += 1
                if self.first is None:
                    self.first = now
                if self._visible(screen):
                    self.latest[type(screen)] = now
            original(screen, renderable)

        app._display = display

    def since(self, cls: type, t0: float) -> float | None:
        t = self.latest.get(cls)
        return t if t is not None and t >= t0 else None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def _until(cond: Callable[[], bool], timeout: float, step: float = 0.005) -> bool:
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(step)
    return True


async def run(host: str, rcvbuf: int, idle_s: float, max_s: float) -> dict[str, Any]:
    rss_before = rss_bytes()
    from textual import events

    from udpscope.tui.app import UdpscopeApp
    from udpscope.tui.screens.help import HelpScreen
    from udpscope.tui.screens.main import MainScreen
    from udpscope.tui.widgets.message_log import MessageLog

    rss_imported = rss_bytes()

    def visible(screen: Any) -> bool:
        if isinstance(screen, HelpScreen):
            texts = list(screen.query("#help-text"))
            return not texts or any(w.region.area > 0 for w in texts)
        return True

    perf = time.perf_counter
    t_construct = perf()
    app = UdpscopeApp(binds=[(host, 0)], udp6=":" in host)
    frames = Frames(app, visible)
    result: dict[str, Any] = {"rss_before": rss_before, "rss_imported": rss_imported}
    latencies: list[float] = []
    idle_latencies: list[float] = []
    by_kind: dict[bool, list[float]] = {True: [], False: []}
    missed = 0

    async def toggle(pilot: Any, open_help: bool) -> float | None:
        driver = app._driver
        key = events.Key("question_mark", "?") if open_help else events.Key("escape", "\x1b")
        target = HelpScreen if open_help else MainScreen
        t0 = perf()
        driver.send_message(key)
        if not await _until(lambda: frames.since(target, t0) is not None, KEY_TIMEOUT, 0.001):
            return None
        return (frames.since(target, t0) or t0) - t0

    async with app.run_test(size=(120, 40)) as pilot:
        if not await _until(lambda: frames.first is not None, 15):
            raise RuntimeError("the app drew no frame within 15 s")
        result["startup_s"] = (frames.first or t_construct) - t_construct
        entries = app.capture.sockets

        def bound() -> bool:
            return any(e.state == "bound" for e in entries.values())

        if not await _until(bound, 10):
            raise RuntimeError("the app's socket did not bind within 10 s")
        entry = next(e for e in entries.values() if e.state == "bound")
        if rcvbuf > 0:
            try:
                entry.sock.set_recv_buffer_size(rcvbuf)
            except Exception as exc:
                result["rcvbuf_error"] = str(exc)
        got = entry.sock.get_recv_buffer_size()
        await pilot.pause()
        for _ in range(IDLE_PRESSES):
            for opening in (True, False):
                lat = await toggle(pilot, opening)
                if lat is not None:
                    idle_latencies.append(lat)
            await asyncio.sleep(GAP)
        await _until(lambda: isinstance(app.screen, MainScreen), KEY_TIMEOUT)
        result["rss_ready"] = rss_bytes()
        port = entry.local()[1] if entry.local() else 0
        rx0 = entry.rx_datagrams
        t_ready = perf()
        # Inside run_test Textual captures print(): the parent reads the real stdout.
        real_stdout = sys.__stdout__ or sys.stdout
        real_stdout.write(f"READY {port} {got}\n")
        real_stdout.flush()

        if not await _until(lambda: entry.rx_datagrams > rx0, max_s):
            raise RuntimeError(f"no datagram arrived within {max_s:.0f} s")
        t_first = perf()
        cpu0 = time.process_time()
        frames0 = frames.count
        state = {"seen": entry.rx_datagrams, "changed": t_first, "done": False}

        sampled = [rss_bytes() or 0]

        async def watch() -> None:
            ticks = 0
            while not state["done"]:
                await asyncio.sleep(TICK)
                ticks += 1
                if ticks % 10 == 0:
                    sampled.append(rss_bytes() or 0)
                now = perf()
                if entry.rx_datagrams != state["seen"]:
                    state["seen"] = entry.rx_datagrams
                    state["changed"] = now
                if now - state["changed"] >= idle_s or now - t_ready >= max_s:
                    state["done"] = True

        watcher = asyncio.ensure_future(watch())
        try:
            while not state["done"]:
                for opening in (True, False):
                    lat = await toggle(pilot, opening)
                    if lat is None:
                        missed += 1
                    elif not state["done"]:
                        latencies.append(lat)
                        by_kind[opening].append(lat)
                await asyncio.sleep(GAP)
        finally:
            state["done"] = True
            await asyncio.wait_for(watcher, 5)
        cpu = time.process_time() - cpu0
        # Flood over: close the help screen if a press was missed, let the log catch up.
        if not isinstance(app.screen, MainScreen):
            await toggle(pilot, False)
        log = app.screen.query_one(MessageLog)
        await _until(lambda: log.last_seq >= app.capture.seq, 3)
        window = float(state["changed"]) - TICK / 2 - t_first
        capture = app.capture
        result.update({
            "received": entry.rx_datagrams - rx0,
            "window": window,
            "pps": (entry.rx_datagrams - rx0) / window if window > 0 else 0.0,
            "drops": entry.sock.get_kernel_drops(),
            "ring_size": capture.ring_size,
            "ring": len(capture.ring),
            "records": capture.seq,
            "evictions": capture.evictions,
            "rows": len(log.rows),
            "cpu_s": cpu,
            "frames": frames.count - frames0,
            "rcvbuf": got,
            "key_ms": [round(x * 1000, 3) for x in latencies],
            "key_idle_ms": [round(x * 1000, 3) for x in idle_latencies],
            "key_open_ms": [round(x * 1000, 3) for x in by_kind[True]],
            "key_close_ms": [round(x * 1000, 3) for x in by_kind[False]],
            "key_missed": missed,
            "rss_after": rss_bytes(),
        })
    # ru_maxrss lags the current RSS a little on Linux: the peak is the larger of it and samples.
    result["rss_peak"] = max(peak_rss_bytes() or 0, max(sampled), result.get("rss_after") or 0,
                             result.get("rss_ready") or 0) or None
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] not in LOOPBACK:
        print("usage: tui_worker 127.0.0.1|::1 RCVBUF IDLE_MS MAX_S (loopback only)",
              file=sys.stderr)
        return 2
    return finish("tui_worker", lambda: asyncio.run(
        run(args[0], int(args[1]), float(args[2]) / 1000, min(float(args[3]), 60.0))))


if __name__ == "__main__":
    raise SystemExit(main())
