"""Textual's `Select`, without its crash when a value is shown before the label exists.

`Select` sets its value when it is mounted, and showing the value looks up the `#label` child of
its `SelectCurrent`, which need not be there yet: when the app is closing while a pane with a
`Select` is still being mounted (quit right after start-up, as the composer is built), the
lookup raised `NoMatches`, and the app ended with a traceback (Textual issue #6581, open). Here
the current-value line keeps what it was given and shows it once its label is there.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Generic

from textual.css.query import NoMatches
from textual.widgets import Select as TextualSelect
from textual.widgets import Static
from textual.widgets._select import NoSelection, SelectCurrent, SelectOverlay, SelectType

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.app import ComposeResult


class _CurrentValue(SelectCurrent):
    """The line showing the selected option; tolerates being updated before it is composed."""

    def update(self, label: RenderableType | NoSelection) -> None:
        # Keeps `label` first, then shows it; not composed yet (or no longer): on_mount shows it.
        with contextlib.suppress(NoMatches):
            super().update(label)

    def on_mount(self) -> None:
        label = self.label
        shown = self.placeholder if isinstance(label, NoSelection) else label
        with contextlib.suppress(NoMatches):
            self.query_one("#label", Static).update(shown)


class Select(TextualSelect[SelectType], Generic[SelectType]):
    """A `Select` whose mounting cannot fail on its own label (see the module docstring)."""

    def compose(self) -> ComposeResult:
        yield _CurrentValue(self.prompt)
        yield SelectOverlay(type_to_search=self._type_to_search).data_bind(
            compact=TextualSelect.compact)
