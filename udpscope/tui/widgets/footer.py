"""The key bar at the bottom: whole labels that fit, chosen by importance, the help key always.

Textual's Footer lays its keys out left to right and cuts whatever does not fit mid-word
(`^p paletteo`, `Stat▏` at 80 columns), shows nothing useful while a text field has focus (the
field takes the printable keys), and recomposes a widget per key on every focus change. This bar
is one widget that draws a line: from the screen's active bindings it keeps, in their order, the
most important labels that fit the width (help first, then the pane keys, then the rest), never
a partial one, and names f1 for help while a field takes "?". A click on a label runs its action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.dom import DOMNode

# Lower is kept longer. Bindings are named by their id; anything unnamed ranks last.
PRIORITY = {
    "help": 0,
    "help-f1": 0,
    "leave-field": 1,
    "compose-send": 1,
    "view-back": 1,
    "detail-close": 1,
    "dialog-cancel": 1,
    "dialog-submit": 1,
    "pane-log": 2,
    "pane-compose": 2,
    "pane-sockets": 3,
    "pane-options": 3,
    "pane-stats": 4,
    "pane-multicast": 4,
    "streams-options": 4,
    "streams-health": 6,
    "streams-groups": 6,
    "pane-hosts": 5,  # after 6 Multicast, which a single host needs more often
    "hosts-start": 1,
    "hosts-stop": 1,
    "hosts-add": 2,
    "hosts-remove": 7,
    "hosts-settings": 6,
    "socket-new": 5,
    "detail-prev": 5,
    "detail-next": 5,
    "detail-copy": 6,
    "detail-save": 6,
    "multicast-refresh": 6,
    "multicast-copy-fix": 5,
    "multicast-join-everywhere": 6,
    "socket-close": 7,
    "socket-forget": 8,
    "palette": 9,
}
GAP = 1  # columns between labels


@dataclass(frozen=True)
class KeyLabel:
    """One key in the bar: what to show and what a click runs."""

    key: str
    label: str
    action: str
    namespace: DOMNode
    priority: int

    @property
    def width(self) -> int:
        return len(self.key) + 1 + len(self.label)


def fit_labels(labels: list[KeyLabel], width: int) -> list[KeyLabel]:
    """The labels to show in ``width`` columns: most important first, shown in their order.

    A label is either shown whole or not at all; the most important one (help) is kept even
    when it alone is wider than the bar.
    """
    chosen: set[int] = set()
    used = 0
    for index in sorted(range(len(labels)), key=lambda i: (labels[i].priority, i)):
        need = labels[index].width + (GAP if chosen else 0)
        if used + need <= width or not chosen:
            chosen.add(index)
            used += need
    return [label for i, label in enumerate(labels) if i in chosen]


class KeyFooter(Widget):
    """One line of keys for the current screen and focus."""

    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES = {"key-footer--key"}

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._shown: list[KeyLabel] = []
        self._labels: list[KeyLabel] = []
        self._spans: list[tuple[int, int, KeyLabel]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is not self.screen or not self.is_attached:
            return
        labels = self._collect(screen)
        if labels != self._labels:
            self._labels = labels
            self.refresh()

    def _collect(self, screen: Screen) -> list[KeyLabel]:
        app = self.app
        labels: list[KeyLabel] = []
        seen: set[str] = set()
        active = screen.active_bindings
        for active_binding in active.values():
            binding = active_binding.binding
            if not (binding.show and active_binding.enabled) or binding.action in seen:
                continue
            seen.add(binding.action)
            labels.append(KeyLabel(app.get_key_display(binding), binding.description,
                                   binding.action, active_binding.node,
                                   PRIORITY.get(binding.id or "", 10)))
        if not any(label.priority == 0 for label in labels) and "f1" in active:
            # A field has "?": help is still one key away.
            f1 = active["f1"]
            labels.insert(0, KeyLabel("f1", "Help", f1.binding.action, f1.node, 0))
        palette = app.COMMAND_PALETTE_BINDING
        if app.ENABLE_COMMAND_PALETTE and palette in active:
            found = active[palette]
            labels.append(KeyLabel(app.get_key_display(found.binding), "palette",
                                   found.binding.action, found.node, PRIORITY["palette"]))
        return labels

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    def render(self) -> Content:
        key_style = self.get_visual_style("key-footer--key")
        shown = fit_labels(self._labels, self.size.width)
        parts: list[Content] = []
        spans: list[tuple[int, int, KeyLabel]] = []
        x = 0
        for n, label in enumerate(shown):
            if n:
                parts.append(Content(" " * GAP))
                x += GAP
            parts.append(Content.assemble((label.key, key_style), " ", label.label))
            spans.append((x, x + label.width, label))
            x += label.width
        self._shown = shown
        self._spans = spans
        return Content.assemble(*parts)

    @property
    def shown(self) -> list[KeyLabel]:
        """The labels drawn last (for tests and the help's "what is visible")."""
        return list(self._shown)

    async def on_click(self, event: events.Click) -> None:
        for x0, x1, label in self._spans:
            if x0 <= event.x < x1:
                await self.app.run_action(label.action, label.namespace)
                return
