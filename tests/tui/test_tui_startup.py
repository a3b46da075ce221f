"""Start-up: the first frame that reaches the terminal is the whole screen, the engine is not
loaded before it, and only an app that is its own process tunes the garbage collector.

Why: `python -m udpscope` drawing its first frame fast is a target (`udpscope bench --tui`).
Textual drops the frame it lays out inside its start-up batch, and the partial updates after it
left the live log and the side pane blank until a later full layout; the engine (ctypes, the
socket state machine) was imported before anything could be drawn.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from tests.tui.pty_app import CSI
from tests.tui.tui_helpers import make_app
from tests.waiting import wait_for
from udpscope.tui import FRAME_RATE
from udpscope.tui import app as app_module
from udpscope.tui.limits import YOUNG_COLLECTION_EVERY


async def test_the_first_frame_out_is_the_whole_screen() -> None:
    app = make_app()
    shown: list[str] = []
    display = app._display

    def first_out(screen, update) -> None:  # type: ignore[no-untyped-def]
        # What Textual would write to a terminal: updates inside its start-up batch are dropped.
        if update is not None and not app._batch_count and not shown:
            text = update.render_segments(app.console)
            shown.append(CSI.sub(b"", text.encode()).decode())
        display(screen, update)

    app._display = first_out  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: bool(shown), what="a frame out of the batch", pilot=pilot)
    frame = shown[0]
    for part in ("udpscope", "1 Sockets", "3 Composer", "4 Live log", "/ filter", "no datagrams yet",
                 "? Help"):
        assert part in frame, f"{part!r} missing from the first frame out"
    assert "TabPane#" not in frame  # a pane waiting for its content draws nothing, not its name


def test_the_start_up_path_does_not_load_the_engine() -> None:
    code = ("import sys; sys.argv = ['udpscope']\n"
            "import udpscope.cli.main, udpscope.tui.app\n"
            "print(sorted(m for m in sys.modules if m.startswith('udpscope.dgram.') or m == 'ctypes'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_settling_freezes_what_is_loaded_and_collects_young_objects_less_often() -> None:
    code = ("import gc\n"
            "from udpscope.tui.limits import settle_collector\n"
            "gc.disable()  # as the CLI starts\n"
            "before = gc.get_freeze_count()\n"
            "settle_collector()\n"
            "print(before, gc.get_freeze_count() > before, gc.get_threshold()[0], gc.isenabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "True", str(YOUNG_COLLECTION_EVERY), "True"]


async def test_an_app_that_is_not_its_own_process_leaves_the_collector_alone() -> None:
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.preload_thread is not None, what="the preload", pilot=pilot)
        thread = app.preload_thread
        assert thread is not None
        await wait_for(lambda: not thread.is_alive(), 30, what="the preload done", pilot=pilot)
        assert app.capture.tracking_streams  # the preload ran to its end
    assert (gc.get_freeze_count(), gc.get_threshold()) == (frozen, threshold)


def test_the_cli_app_is_its_own_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[bool] = []

    def run(self) -> int:  # type: ignore[no-untyped-def]
        seen.append(self.own_process)
        return 0

    monkeypatch.setattr(app_module.UdpscopeApp, "run", run)
    assert app_module.run_app([], [], False, None) == 0
    assert seen == [True]


def test_the_tui_package_sets_the_frame_rate_unless_the_user_did() -> None:
    code = ("import udpscope.tui\n"
            "from textual import constants\n"
            "print(constants.MAX_FPS)")
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env)
    assert out.stdout.strip() == str(FRAME_RATE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "TEXTUAL_FPS": "30"})
    assert out.stdout.strip() == "30"
