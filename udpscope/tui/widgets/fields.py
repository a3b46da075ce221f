"""Small shared pieces for forms: a message line under a field that takes untrusted text safely.

Bad input must be answered next to the field, with the typed text left alone; every such
message may quote what the user typed (or OS error text), so it is shown as Content built by
the sanitiser, never as markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from udpscope.textsafe import safe_text


class FieldMessage(Static):
    """A one-line message under a field: empty (hidden) or an error/ok note."""

    DEFAULT_CSS = """
    FieldMessage { height: auto; display: none; color: $text-error; padding: 0 1; }
    FieldMessage.-visible { display: block; }
    FieldMessage.-ok { color: $text-success; }
    FieldMessage.-info { color: $text-muted; }
    """

    def __init__(self, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, classes=classes, markup=False)

    def error(self, message: str) -> None:
        self._show(message, "")

    def ok(self, message: str) -> None:
        self._show(message, "-ok")

    def info(self, message: str) -> None:
        self._show(message, "-info")

    def _show(self, message: str, cls: str) -> None:
        self.update(Content(safe_text(message, 300)))
        self.set_class(cls == "-ok", "-ok")
        self.set_class(cls == "-info", "-info")
        self.add_class("-visible")

    def clear(self) -> None:
        self.update("")
        self.remove_class("-visible", "-ok", "-info")

    @property
    def text(self) -> str:
        return str(self.render())
