"""The first frame Textual composes reaches the terminal, instead of being composed twice.

Textual runs the app's compose and mount inside a batch (`App._batch_count` > 0) and, while the
first screen is resumed in it, lays that screen out and renders it in full; `App._display` drops
whatever it is given during a batch. The next updates are partial (what changed since), so the
live log and the side pane stayed blank until some later full layout, and repainting every part
after the batch to make up for it cost a second full render (about 13 ms of a 0.35 s start).

Here the updates composed during the start-up batch are kept, in order, and written as soon as
the batch ends, before any update that follows them: the first frame out is the whole screen,
rendered once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.app import App

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.screen import Screen

ReturnType = TypeVar("ReturnType")


class FirstFrameApp(App[ReturnType]):
    """An App that writes the frame composed during its start-up batch once the batch ends."""

    def __init__(self) -> None:
        super().__init__()
        self._starting = True  # until the start-up batch has ended
        self._start_up_updates: list[tuple[Screen, RenderableType]] = []

    def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
        if self._starting and renderable is not None:
            if self._batch_count:
                self._start_up_updates.append((screen, renderable))
                return
            self._starting = False  # a frame out of a batch: the start-up is over
        super()._display(screen, renderable)

    def _end_batch(self) -> None:
        super()._end_batch()
        if self._starting and not self._batch_count and self._start_up_updates:
            self._starting = False
            updates, self._start_up_updates = self._start_up_updates, []
            for screen, renderable in updates:
                if screen is self.screen:  # a screen replaced meanwhile draws itself anew
                    self._display(screen, renderable)
