"""The footer, rebuilt only when the keys it shows change.

Textual's Footer recomposes (unmounts and mounts a widget per key, then lays the screen out again)
on every bindings signal: each focus change and each push/pop of a screen over it, even when the
keys it shows are the same, and even while its screen is hidden under another one. Opening and
closing the help screen paid for that three times per toggle; under a flood that CPU is taken from
the datagram reader on the same event loop. Here the footer compares what it would show with what
it shows, and a hidden screen's footer waits until its screen is current again.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """A Footer that recomposes only when its keys (or their enabled state) change."""

    _shown: tuple[Any, ...] | None = None

    def _keys(self) -> tuple[Any, ...]:
        """What `Footer.compose` would show: the bindings, enabled state and tooltips."""
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple(
            (binding, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        )

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        # A suspended screen's footer is not seen; its screen publishes again on resume.
        if self.is_attached and screen is self.screen and screen.is_current:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached or not self.screen.is_current:
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            await self.recompose()
