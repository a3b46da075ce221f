"""Keys land where they were typed, in the order they were typed, however fast they come.

Textual forwards each key to the focused widget's message queue. A printable key is inserted
there; a key bound to an action (Tab, Enter, ctrl+u, backspace, Escape, the pane keys) runs only
after it has bubbled back up through every ancestor's queue to the app. Keys that arrive together
(tmux send-keys, a paste without bracketed-paste mode, a script, a busy event loop) are
therefore reordered: "127.0.0.1", Tab, "5555" put "5555" in the first field (the Tab moved focus
after the digits had gone to the old one), and ctrl+u, "41 42", Enter cleared the text typed
after it and sent an empty datagram. A plain Textual app with two inputs does the same when keys
arrive in one read.

Here the app handles each key in its own turn, completely, before it looks at the next: text goes
straight into the focused input (a run of it in one insert, so a 100 kB unbracketed paste costs
one copy per chunk the terminal delivers, not one per key), a bound key runs its action at once,
and actions move focus synchronously (`Screen.set_focus`, never the deferred `Widget.focus`).
While a newly shown screen is not yet ready for keys, keys wait for it instead of going to the
screen below. Keys nobody binds still reach the focused widget the usual way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from textual import events
from textual.app import App
from textual.widgets import Input

ReturnType = TypeVar("ReturnType")

HOLD_POLL = 0.01  # seconds between looks at a screen that is not ready for keys yet
HOLD_LIMIT = 2.0  # after this long, held keys go to whatever is there (never lost)


class OrderedKeysApp(App[ReturnType]):
    """An App whose keys are handled one at a time, in order, at the moment they are read."""

    def __init__(self) -> None:
        super().__init__()
        self._typing: Input | None = None  # the input a run of typed text is for
        self._typed: list[str] = []
        self._typing_flush_posted = False
        self._held_keys: list[events.Key] = []
        self._held_since = 0.0
        self._barriers: set[asyncio.Task[None]] = set()

    # ---- entry -------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if not self.app_focus:
                self.app_focus = True
            if self._held_keys or not self._ready_for_keys():
                self._hold(event)
                return
            await self._handle_key(event)
            return
        if isinstance(event, events.Paste) and not event.is_forwarded:
            focused = self.focused
            if isinstance(focused, Input) and not self._held_keys:
                # The same as Input's own paste (its first line), but now, in order.
                lines = event.text.splitlines()
                self._type_into(focused, lines[0] if lines else "")
                self.flush_typing()
                return
            self.flush_typing()
        elif isinstance(event, events.InputEvent) and not event.is_forwarded:
            # A click or scroll acts on what was typed before it.
            self.flush_typing()
        await super().on_event(event)

    async def _handle_key(self, event: events.Key) -> None:
        focused = self.focused
        character = event.character
        if (
            isinstance(focused, Input)
            and event.is_printable
            and character is not None
            and focused.check_consume_key(event.key, character)
        ):
            self._type_into(focused, character)
            return
        self.flush_typing()
        screen = self.screen
        if not (screen.maximized is not None and event.key == "escape"):
            # Bindings now, not after the key has travelled through every ancestor's queue.
            # `_check_bindings` is what Textual itself runs for a key (priority bindings from the
            # app down, then the focus chain upwards); calling it here only changes *when*.
            if await self._check_bindings(event.key, priority=True):
                return
            if await self._check_bindings(event.key):
                return
        # Nobody binds it: the focused widget may handle it itself (e.g. a Select's search).
        await super().on_event(event)

    # ---- typed text --------------------------------------------------------------------------

    def _type_into(self, widget: Input, text: str) -> None:
        if self._typing is not widget:
            self.flush_typing()
            self._typing = widget
        self._typed.append(text)
        if not self._typing_flush_posted:
            # After the keys already read (a paste arrives as many keys at once), not per key.
            self._typing_flush_posted = True
            self.call_later(self._flush_posted)

    def _flush_posted(self) -> None:
        self._typing_flush_posted = False
        self.flush_typing()

    def flush_typing(self) -> None:
        """Put the text typed so far into its input (call before reading an input's value)."""
        widget, typed = self._typing, self._typed
        if widget is None or not typed:
            self._typing = None
            return
        self._typing = None
        self._typed = []
        if not widget.is_attached:
            return
        if widget.restrict or widget.max_length or widget.type != "text":
            # Each character is checked on its own by such an input: keep them separate.
            for ch in "".join(typed):
                _insert(widget, ch)
        else:
            _insert(widget, "".join(typed))

    # ---- screens that are not ready yet ------------------------------------------------------

    def hold_keys_until(self, ready: Awaitable[object], then: Callable[[], object] | None = None) -> None:
        """Keep keys read from now on waiting until ``ready`` is done (e.g. a pane being mounted),
        then call ``then`` (e.g. focus that pane) before they are handled."""

        async def wait() -> None:
            try:
                await ready
                if then is not None:
                    then()
            finally:
                self._barriers.discard(task)

        task = asyncio.get_running_loop().create_task(wait())
        self._barriers.add(task)

    def _ready_for_keys(self) -> bool:
        if self._barriers:
            return False
        try:
            screen = self.screen
        except Exception:
            return False
        return screen.is_mounted

    def _hold(self, event: events.Key) -> None:
        if not self._held_keys:
            self._held_since = time.monotonic()
            self.set_timer(HOLD_POLL, self._release_held_keys)
        self._held_keys.append(event)

    async def _release_held_keys(self) -> None:
        released = False
        while self._held_keys and (
            self._ready_for_keys() or time.monotonic() - self._held_since > HOLD_LIMIT
        ):
            await self._handle_key(self._held_keys.pop(0))
            released = True
        if self._held_keys:
            if released:  # a released key opened another screen: a new wait starts
                self._held_since = time.monotonic()
            self.set_timer(HOLD_POLL, self._release_held_keys)


def _insert(widget: Input, text: str) -> None:
    start, end = widget.selection
    if start == end:
        widget.insert_text_at_cursor(text)
    else:
        widget.replace(text, *sorted((start, end)))
