"""Timing what the user sees: when the app composes a frame, and which change a frame shows.

Why a wrapper on `App._display`: headless frames are composed in full, just not written to a
terminal, so the moment a frame is produced is the moment a terminal would get it; and a key's
effect is "shown" only by a frame whose update covers the line where the change is drawn. The
memory readers are here too because the TUI worker samples them between frames.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def rss_bytes() -> int | None:
    """Resident set size of this process now."""
    try:
        psutil = importlib.import_module("psutil")  # typed Any: psutil ships no stubs
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


class Shown:
    """Waits for the first frame that shows a widget in a wanted state.

    `wanted()` is asked each time the widget renders (what it renders then is that state); the
    frame counts once the widget rendered it and the frame's update covers `line()`, the screen
    line where the change is drawn (a full-screen update covers every line).
    """

    def __init__(self, widget: Any, wanted: Callable[[], bool], line: Callable[[], Any]) -> None:
        self.widget = widget
        self.wanted = wanted
        self.line = line
        self.rendered = False
        self.at: float | None = None


def covers(renderable: Any, line: Any) -> bool:
    """Does a compositor update redraw (part of) this one-line screen region?"""
    if line is None:
        return False
    spans = getattr(renderable, "spans", None)
    if spans is None:  # a full update (LayoutUpdate) redraws every line
        return True
    x0, y, width = line.x, line.y, line.width
    return any(sy == y and x1 < x0 + width and x2 > x0 for sy, x1, x2 in spans)


class Frames:
    """Times of the frames the app composes, per screen class, via a wrapper on `_display`."""

    def __init__(self, app: Any, visible: Callable[[Any], bool]) -> None:
        self.first: float | None = None
        self.count = 0
        self.latest: dict[type, float] = {}
        self.waiting: list[Shown] = []
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
                for shown in self.waiting:
                    if shown.rendered and shown.at is None and covers(renderable, shown.line()):
                        shown.at = now
            original(screen, renderable)

        app._display = display

    def watch_renders(self, widget: Any) -> None:
        """Note, each time `widget` renders, which waiting states it renders (harness-only)."""
        original = widget.render_lines

        def render_lines(crop: Any) -> Any:
            lines = original(crop)
            for shown in self.waiting:
                if shown.widget is widget and not shown.rendered and shown.wanted():
                    shown.rendered = True
            return lines

        widget.render_lines = render_lines

    def since(self, cls: type, t0: float) -> float | None:
        t = self.latest.get(cls)
        return t if t is not None and t >= t0 else None
