"""What screens and panes may count on from the app, typed.

Textual types `widget.app` as a plain `App`; the panes need udpscope's (its capture, the selected
socket, error reporting). `app_of` gives them the real type, with no type-checker exception at
every use, and the protocols say what the app's timer and the detail view expect of a screen or
a row source, instead of probing with `getattr`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from udpscope.records import Record
    from udpscope.tui.app import UdpscopeApp


def app_of(node: DOMNode) -> UdpscopeApp:
    """The running udpscope app of ``node`` (a widget or screen of it)."""
    return cast("UdpscopeApp", node.app)


@runtime_checkable
class TimerPane(Protocol):
    """A screen the app's timer refreshes: ~20 times a second, ``slow`` every fifth time."""

    def refresh_data(self, slow: bool) -> None:
        """Pull what changed since the last call (never per datagram)."""


class DetailSource(Protocol):
    """Rows the detail view steps through (the live log, whose rows move as traffic arrives)."""

    def step(self, record: Record, delta: int) -> Record | None:
        """The row ``delta`` rows from ``record`` (None at either end, or if it is gone)."""
