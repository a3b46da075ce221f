#!/usr/bin/env python3
"""Regenerate screenshots/*.svg from the real app with real loopback traffic in it.

The README shows these, so they must come from the app as it is, not from mock-ups: two real
sockets on 127.0.0.1 exchange datagrams (text, JSON, binary with control bytes, a paced burst
of probes) through the same capture layer the app uses, the composer is filled and sent with
keys as a user would, then each view is saved with App.save_screenshot. The main screen is taken
at 140x40 and at 80x24 (where the log takes the width). Loopback only; bounded sends.

    .venv/bin/python scripts/make_screenshots.py [--out screenshots]

It prints the path of every file it wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from udpscope.tui.app import UdpscopeApp
from udpscope.tui.screens.detail import PacketDetail
from udpscope.tui.widgets.message_log import MessageLog

ROOT = Path(__file__).resolve().parents[1]
WIDE = (140, 40)
SMALL = (80, 24)
PORT_RX = 47411
PORT_TX = 47412
THEMES = ["udpscope-dark", "udpscope-light", "high-contrast"]
PAYLOADS = [
    b"hello from udpscope",
    b'{"sensor": "t1", "celsius": 21.5, "seq": 42}',
    b"\x1b[31mESC sequences are shown, not obeyed\x1b[0m \x07 [bold]markup too[/]",
    bytes(range(0, 32)),
    "UTF-8 is fine: grüße, 日本語".encode(),
]


async def wait_until(pilot: Pilot, cond: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {cond}")
        await pilot.pause(0.02)


def no_blink(app: UdpscopeApp) -> None:
    for inp in app.screen.query(Input):
        inp.cursor_blink = False


async def traffic(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, UdpscopeApp)
    capture = app.capture
    await wait_until(pilot, lambda: len(capture.sockets) == 2
                     and all(e.state == "bound" for e in capture.sockets.values()))
    rx = capture.sockets[1]
    job = capture.send(2, b"", PORT_RX, "127.0.0.1", count=40, rate=400, probe=True)
    await wait_until(pilot, lambda: job.done and rx.rx_datagrams >= 40)
    for n, payload in enumerate(PAYLOADS, 41):
        capture.send(2, payload, PORT_RX, "127.0.0.1")
        await wait_until(pilot, lambda n=n: rx.rx_datagrams >= n)
        await pilot.pause(0.05)
    app.selected_socket = 1
    # The composer, typed and sent the way a user would: 3, the fields, Enter.
    before = rx.rx_datagrams
    await pilot.press("3")
    await wait_until(pilot, lambda: isinstance(app.focused, Input) and app.focused.id == "dest-host")
    await pilot.press(*"127.0.0.1", "tab", *str(PORT_RX), "tab", "tab", *"hello from udpscope", "enter")
    await wait_until(pilot, lambda: rx.rx_datagrams > before)
    await pilot.press("escape")  # back to the log, which then has the focus
    await pilot.press("up", "up")  # a selected row
    await pilot.pause(0.5)
    no_blink(app)


async def shoot(out: Path, theme: str, size: tuple[int, int], views: list[str]) -> list[Path]:
    app = UdpscopeApp(binds=[("127.0.0.1", PORT_RX), ("127.0.0.1", PORT_TX)], theme=theme)
    written: list[Path] = []
    async with app.run_test(size=size) as pilot:
        await traffic(pilot)

        def save(name: str) -> None:
            written.append(Path(app.save_screenshot(filename=name, path=str(out))))

        for view in views:
            if view == "main":
                save("main.svg" if theme == THEMES[0] else f"theme-{theme}.svg")
            elif view == "small":
                save("main-80x24.svg")
            elif view == "detail":
                log = app.screen.query_one(MessageLog)
                log.cursor = next(i for i, r in enumerate(log.rows)
                                  if r.kind == "rx" and r.payload == PAYLOADS[2])
                log.action_open()
                await wait_until(pilot, lambda: isinstance(app.screen, PacketDetail))
                await pilot.pause(0.2)
                save("detail.svg")
                app.pop_screen()
                await pilot.pause(0.1)
            elif view == "options":
                await pilot.press("2")
                await pilot.pause(0.4)
                save("options.svg")
                await pilot.press("4")
            elif view == "stats":
                await pilot.press("5")
                await pilot.pause(0.8)
                save("stats.svg")
                await pilot.press("escape")
        if theme == THEMES[0] and size == WIDE:
            save("theme-udpscope-dark.svg")
    return written


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = await shoot(args.out, THEMES[0], WIDE, ["main", "detail", "options", "stats"])
    written += await shoot(args.out, THEMES[0], SMALL, ["small"])
    for theme in THEMES[1:]:
        written += await shoot(args.out, theme, WIDE, ["main"])
    for path in written:
        print(path.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
