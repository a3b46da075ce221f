"""The app's `Select` (udpscope.tui.widgets.select): its value line can be given a value before
its label exists, as happens when the app closes while a pane with a Select is being mounted
(Textual's own raised NoMatches there, and the app ended with a traceback)."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Static
from textual.widgets._select import SelectCurrent

import udpscope.tui
from tests.waiting import wait_for
from udpscope.tui.widgets.select import Select, _CurrentValue


def test_the_value_line_takes_a_value_before_it_is_composed() -> None:
    current = _CurrentValue("(none)")
    current.update("hex")  # no label child yet: Textual's own raises NoMatches here
    assert current.label == "hex" and current.has_value


async def test_a_value_given_early_is_shown_once_mounted() -> None:
    current = _CurrentValue("(none)")
    current.update("hex")

    class OneLine(App[None]):
        def compose(self) -> ComposeResult:
            yield current

    app = OneLine()
    async with app.run_test() as pilot:
        label = current.query_one("#label", Static)
        await wait_for(lambda: str(label.render()) == "hex", what="the kept value shown",
                       pilot=pilot)


async def test_the_select_works_as_textuals() -> None:
    class Form(App[None]):
        def compose(self) -> ComposeResult:
            yield Select([("text", "text"), ("hex", "hex")], value="text", allow_blank=False,
                         id="kind")

    app = Form()
    async with app.run_test() as pilot:
        select = app.query_one("#kind", Select)
        assert isinstance(select.query_one(SelectCurrent), _CurrentValue)
        select.value = "hex"
        label = select.query_one("#label", Static)
        await wait_for(lambda: str(label.render()) == "hex", what="hex shown", pilot=pilot)


def test_the_app_uses_its_own_select_everywhere() -> None:
    root = Path(udpscope.tui.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "select.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "textual.widgets" and any(
                    alias.name == "Select" for alias in node.names):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
