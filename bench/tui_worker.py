"""The real app, headless, under a flood: does the UI stay usable, and where do datagrams go?

Why in its own process: memory (RSS) and CPU time must be the app's alone, and the app must run on
its own pinned CPU with the sender on the other, as a user's terminal would. The app is the one
users run (`UdpscopeApp` with a socket bound at start-up, like `udpscope --bind 127.0.0.1:0`),
driven by `run_test` at 120x40; nothing in it is patched except a wrapper around `App._display`
that notes the time of every frame the compositor produces (headless frames are composed in full,
just not written to a terminal).

Key-to-frame latency: a key event is posted the way a terminal driver posts one (no pilot waits,
which would add idle-detection sleeps), and the time runs until the first frame that shows the
result. Each kind of key has its own test of "shows": `?` opens the help screen (a frame of the
help screen with its text laid out), Escape closes it (a frame of the main screen again); in the
live log (focused) ↑ ↓ PgUp PgDn move the selection (a frame, after the log rendered a selected
row other than the one before, whose update covers the line of that row) and space pauses and
resumes (a frame, after the status line rendered the new state, whose update covers that line).
One cycle presses open+close, then each log key, waiting for each key's frame and GAP after each;
the same cycle runs idle (over a few hundred rows sent from here to the app over loopback before
READY) and for as long as the flood lasts.

Protocol: prints `READY <port> <rcvbuf>` once the socket is bound and the idle baseline is taken;
then waits for the flood, presses keys while it lasts, and prints one JSON line when no datagram
has arrived for IDLE_MS (or MAX_S passed).

    python -m bench.tui_worker HOST RCVBUF IDLE_MS MAX_S   (from the checkout)
"""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.frames import Frames, Shown, peak_rss_bytes, rss_bytes
from udpscope.benchkit import LOOPBACK, finish

TICK = 0.01
KEY_TIMEOUT = 3.0
IDLE_PRESSES = 6  # idle cycles
IDLE_ROWS = 300  # datagrams sent to the app before the idle cycles, for the log keys to move over
GAP = 0.05
# One cycle: help open and close back to back (as before), then the keys of the live log.
CYCLE = ("open", "close", "up", "pageup", "down", "pagedown", "pause", "resume")
LOG_KEYS = {
    "up": ("up", None),
    "pageup": ("pageup", None),
    "down": ("down", None),
    "pagedown": ("pagedown", None),
    "pause": ("space", " "),
    "resume": ("space", " "),
}


def ms(seconds: list[float]) -> list[float]:
    return [round(x * 1000, 3) for x in seconds]


async def _until(cond: Callable[[], bool], timeout: float, step: float = 0.005) -> bool:
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(step)
    return True


async def run(host: str, rcvbuf: int, idle_s: float, max_s: float) -> dict[str, Any]:
    rss_before = rss_bytes()
    gc.disable()  # as `udpscope` starts: the app turns the collector on once it is up
    # The app before Textual, as `udpscope` loads it: udpscope.tui sets Textual's frame rate,
    # which Textual reads once, when it is first imported.
    from udpscope.tui.app import UdpscopeApp  # noqa: I001
    from textual import events
    from textual.geometry import Region
    from textual.widgets import Static
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
    app = UdpscopeApp(binds=[(host, 0)], udp6=":" in host, own_process=True)  # as run_app
    frames = Frames(app, visible)
    result: dict[str, Any] = {"rss_before": rss_before, "rss_imported": rss_imported}
    latencies: list[float] = []
    idle_latencies: list[float] = []
    by_kind: dict[str, list[float]] = {kind: [] for kind in CYCLE}
    idle_by_kind: dict[str, list[float]] = {kind: [] for kind in CYCLE}
    missed_by_kind: dict[str, int] = {kind: 0 for kind in CYCLE}
    idle_missed: dict[str, int] = {kind: 0 for kind in CYCLE}

    async def toggle(open_help: bool) -> float | None:
        driver = app._driver
        assert driver is not None  # inside run_test the headless driver is running
        key = events.Key("question_mark", "?") if open_help else events.Key("escape", "\x1b")
        target = HelpScreen if open_help else MainScreen
        t0 = perf()
        driver.send_message(key)
        if not await _until(lambda: frames.since(target, t0) is not None, KEY_TIMEOUT, 0.001):
            return None
        return (frames.since(target, t0) or t0) - t0

    def log_widgets() -> tuple[Any, Any]:
        screen = app.screen
        return screen.query_one(MessageLog), screen.query_one("#log-status", Static)

    def selected_seq(log: Any) -> int | None:
        record = log.selected
        return None if record is None else record.seq

    def cursor_line(log: Any) -> Region | None:
        if log.cursor is None:
            return None
        content = log.scrollable_content_region
        y = content.y + log.cursor - int(log.scroll_y)
        return Region(content.x, y, content.width, 1) if content.y <= y < content.bottom else None

    async def press_log_key(kind: str) -> float | None:
        log, status = log_widgets()
        if kind in ("pause", "resume"):
            want = kind == "pause"
            # the status line says "paused" exactly while the log is paused
            shown = Shown(status, lambda: ("paused" in str(status.content)) == want,
                          lambda: status.region)
        else:
            before = selected_seq(log)
            shown = Shown(log, lambda: selected_seq(log) not in (None, before),
                          lambda: cursor_line(log))
        name, char = LOG_KEYS[kind]
        driver = app._driver
        assert driver is not None  # inside run_test the headless driver is running
        frames.waiting.append(shown)
        t0 = perf()
        try:
            driver.send_message(events.Key(name, char))
            if not await _until(lambda: shown.at is not None, KEY_TIMEOUT, 0.001):
                return None
            return (shown.at or t0) - t0
        finally:
            frames.waiting.remove(shown)

    async def press(kind: str) -> float | None:
        if kind in ("open", "close"):
            return await toggle(kind == "open")
        return await press_log_key(kind)

    async def recover() -> None:
        """After a missed key: back to the main screen, log focused and running."""
        if not isinstance(app.screen, MainScreen):
            await toggle(False)
            await _until(lambda: isinstance(app.screen, MainScreen), KEY_TIMEOUT)
        log, _ = log_widgets()
        if log.paused:
            log.paused = False
        if not log.has_focus:
            log.focus()

    async def run_cycle(record: Callable[[str, float | None], None]) -> None:
        for kind in CYCLE:
            lat = await press(kind)
            record(kind, lat)
            if lat is None:
                await recover()
            if kind != "open":  # open and close back to back, as the harness always did
                await asyncio.sleep(GAP)

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
        # Rows for the log keys to move over: a few hundred datagrams from here, over loopback.
        local = entry.local()
        port = local[1] if local else 0
        log, _ = log_widgets()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as tx:
            for i in range(IDLE_ROWS):
                tx.sendto(b"idle row %d" % i, (host, port))
        if not await _until(lambda: len(log.rows) >= IDLE_ROWS, 10):
            raise RuntimeError(f"the log did not show {IDLE_ROWS} rows within 10 s")
        frames.watch_renders(log)
        frames.watch_renders(log_widgets()[1])
        log.focus()
        await pilot.pause()

        def idle_record(kind: str, lat: float | None) -> None:
            if lat is None:
                idle_missed[kind] += 1
            else:
                idle_latencies.append(lat)
                idle_by_kind[kind].append(lat)

        for _ in range(IDLE_PRESSES):
            await run_cycle(idle_record)
        await _until(lambda: isinstance(app.screen, MainScreen), KEY_TIMEOUT)
        # The flood meets the app as it runs for good: preloaded, the collector back on.
        if not await _until(lambda: app.preload_thread is not None
                            and not app.preload_thread.is_alive() and gc.isenabled(), 30):
            raise RuntimeError("the app's preload did not finish within 30 s")
        result["rss_ready"] = rss_bytes()
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

        def flood_record(kind: str, lat: float | None) -> None:
            if lat is None:
                missed_by_kind[kind] += 1
            elif not state["done"]:
                latencies.append(lat)
                by_kind[kind].append(lat)

        try:
            while not state["done"]:
                await run_cycle(flood_record)
        finally:
            state["done"] = True
            await asyncio.wait_for(watcher, 5)
        cpu = time.process_time() - cpu0
        # Flood over: close the help screen if a press was missed, let the log catch up.
        await recover()
        log, _ = log_widgets()
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
            "key_ms": ms(latencies),
            "key_idle_ms": ms(idle_latencies),
            "key_open_ms": ms(by_kind["open"]),
            "key_close_ms": ms(by_kind["close"]),
            "key_kind_ms": {kind: ms(v) for kind, v in by_kind.items()},
            "key_idle_kind_ms": {kind: ms(v) for kind, v in idle_by_kind.items()},
            "key_kind_missed": missed_by_kind,
            "key_idle_kind_missed": idle_missed,
            "key_missed": sum(missed_by_kind.values()),
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
