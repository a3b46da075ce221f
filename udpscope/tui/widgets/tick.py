"""A checkbox that reads as on or off at a glance, in any theme and without colour.

Textual's Checkbox draws an X in both states and tells them apart by the X's colour only (a dark
X next to a green X), which some themes make nearly equal and high-contrast users cannot rely
on. Here the box shows its state by shape: `[x]` when on, `[ ]` when off; colour only adds to it.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.widgets import Checkbox

ON = "[x]"
OFF = "[ ]"


class Tick(Checkbox):
    """A Checkbox drawn as ``[x]`` / ``[ ]``."""

    DEFAULT_CSS = """
    Tick > .toggle--button, Tick.-on > .toggle--button { background: transparent; }
    Tick > .toggle--button { color: $text-muted; }
    Tick.-on > .toggle--button { color: $text-success; text-style: bold; }
    Tick:focus > .toggle--button, Tick:focus.-on > .toggle--button {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
    }
    """

    def _box(self) -> Content:
        return Content.styled(ON if self.value else OFF, self.get_visual_style("toggle--button"))

    def render(self) -> Content:
        label = self.label
        if not label:
            return self._box()
        label_style = self.get_visual_style("toggle--label")
        return Content.assemble(self._box(), label.pad(1, 1).stylize_before(label_style))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        label = self.label
        return len(ON) + ((label.cell_length + 2) if label else 0)
