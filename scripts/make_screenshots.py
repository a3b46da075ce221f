#!/usr/bin/env python3
"""Regenerate screenshots/*.svg from the real app with real loopback traffic in it.

The README shows these, so they must come from the app as it is, not from mock-ups: two real
sockets on 127.0.0.1 exchange datagrams (text, JSON, binary with control bytes, a paced burst
of probes) through the same capture layer the app uses, then each view is saved with
App.save_screenshot. Loopback only; bounded sends.

    .venv/bin/python scripts/make_screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.widgets import Input  # noqa: E402

from udpscope.tui.app import UdpscopeApp  # noqa: E402
from udpscope.tui.screens.detail import PacketDetail  # noqa: E402
from udpscope.tui.widgets.compose import ComposePane  # noqa: E402
from udpscope.tui.widgets.message_log import MessageLog  # noqa: E402

SIZE = (140, 40)
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


async def wait_until(pilot, cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {cond}")
        await pilot.pause(0.02)


async def traffic(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
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
    await pilot.pause(0.6)
    # Pre-fill the composer the way a user would leave it.
    screen = app.screen
    screen.query_one("#dest-host", Input).value = "127.0.0.1"
    screen.query_one("#dest-port", Input).value = str(PORT_RX)
    screen.query_one("#payload", Input).value = "hello from udpscope"
    for inp in screen.query(Input):
        inp.cursor_blink = False
    # Send it the way a user would (the composer's own send), so its result line is real too.
    before = rx.rx_datagrams
    composer = screen.query_one(ComposePane)
    composer.action_send()
    await wait_until(pilot, lambda: rx.rx_datagrams > before and composer.job is not None
                     and composer.job.done)
    await pilot.pause(0.4)
    screen.query_one(MessageLog).focus()
    await pilot.pause(0.3)


async def shoot(out: Path, theme: str, views: list[str]) -> list[str]:
    app = UdpscopeApp(binds=[("127.0.0.1", PORT_RX), ("127.0.0.1", PORT_TX)], theme=theme)
    written = []
    async with app.run_test(size=SIZE) as pilot:
        await traffic(pilot)

        def save(name: str) -> None:
            app.save_screenshot(filename=name, path=str(out))
            written.append(name)

        for view in views:
            if view == "main":
                save("main.svg" if theme == THEMES[0] else f"theme-{theme}.svg")
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
                await pilot.pause(0.3)
                save("options.svg")
                await pilot.press("escape", "4")
            elif view == "stats":
                await pilot.press("5")
                await pilot.pause(0.8)
                save("stats.svg")
                await pilot.press("escape")
        if theme == THEMES[0]:
            save("theme-udpscope-dark.svg")
    return written


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = await shoot(args.out, THEMES[0], ["main", "detail", "options", "stats"])
    for theme in THEMES[1:]:
        written += await shoot(args.out, theme, ["main"])
    for name in written:
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
