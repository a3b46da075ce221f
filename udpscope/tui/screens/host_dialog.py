"""The add-host dialog of the Hosts view: a name, and how its agent is reached.

The transports are the ones people already trust, offered as templates (`{host}` becomes the
name, as one argument, never shell syntax): OpenSSH by default, `ip netns exec`, `kubectl exec`,
or a template of one's own; or this machine, where the agent is this udpscope started as a child.
Bad input is answered under its field (udpscope.tui.hostforms.parse_host), and what was typed stays.
"""

from __future__ import annotations

import shlex

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from udpscope.textsafe import safe_text
from udpscope.tui.forms import FormError
from udpscope.tui.hostforms import (
    TEMPLATE_PRESETS,
    HostFields,
    HostRequest,
    local_agent_argv,
    parse_host,
)
from udpscope.tui.screens.dialogs import _Dialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.select import Select
from udpscope.tui.workbench import app_of

LOCAL = "local"
CUSTOM = "custom"
VIA_CHOICES = [
    ("ssh (OpenSSH, keys)", "ssh"),
    ("ip netns exec", "namespace"),
    ("kubectl exec", "kubectl"),
    ("this machine", LOCAL),
    ("own template", CUSTOM),
]


class AddHostDialog(_Dialog[HostRequest]):
    """Name + template (or this machine); dismissed with a HostRequest, or None on cancel."""

    AUTO_FOCUS = "#host-name"

    DEFAULT_CSS = """
    AddHostDialog > Vertical { width: 72; }
    AddHostDialog Select { width: 24; }
    AddHostDialog .note { color: $text-muted; padding-left: 9; height: auto; }
    """

    def __init__(self, taken: list[str], template: str) -> None:
        super().__init__()
        self.taken = list(taken)
        self.template = template
        self.via = next((name for name, text in TEMPLATE_PRESETS if text == template), CUSTOM)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Add a host"
            box.border_subtitle = "enter add · tab next field · esc cancel"
            with Horizontal(classes="row"):
                yield Label("name")
                yield Input(placeholder="what {host} becomes: h1, user@10.0.0.5, a pod",
                            id="host-name", compact=True)
            yield FieldMessage(id="name-error")
            with Horizontal(classes="row"):
                yield Label("via")
                yield Select(VIA_CHOICES, value=self.via, allow_blank=False, id="via",
                             compact=True)
            with Horizontal(classes="row"):
                yield Label("template")
                yield Input(self.template, placeholder="a command with {host} in it",
                            id="template", compact=True)
            yield FieldMessage(id="template-error")
            yield Static("", id="via-note", classes="note", markup=False)
            with Horizontal(classes="row buttons"):
                yield Button("Add", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._show_via(self.via)

    @on(Select.Changed, "#via")
    def _via_changed(self, event: Select.Changed) -> None:
        self._show_via(str(event.value))

    @on(Input.Changed, "#template")
    def _template_edited(self, event: Input.Changed) -> None:
        # A template edited away from the chosen preset is one's own: say so in "via".
        via = self.query_one("#via", Select)
        presets = dict(TEMPLATE_PRESETS)
        if via.value in presets and event.value != presets[str(via.value)]:
            via.value = CUSTOM

    def _show_via(self, via: str) -> None:
        template = self.query_one("#template", Input)
        note = self.query_one("#via-note", Static)
        presets = dict(TEMPLATE_PRESETS)
        if via in presets and template.value != presets[via]:
            template.value = presets[via]
        template.disabled = via == LOCAL
        if via == LOCAL:
            note.update(Content(safe_text("the agent runs here: " + shlex.join(local_agent_argv()),
                                          300)))
        else:
            note.update("{host} is replaced by the name, as one argument (no shell)")

    def fields(self) -> HostFields:
        """The dialog's fields as they are now."""
        app_of(self).flush_typing()
        return HostFields(name=self.query_one("#host-name", Input).value,
                          template=self.query_one("#template", Input).value,
                          local=self.query_one("#via", Select).value == LOCAL)

    def submit(self) -> None:
        boxes = {"name": self.query_one("#name-error", FieldMessage),
                 "template": self.query_one("#template-error", FieldMessage)}
        for box in boxes.values():
            box.clear()
        try:
            request = parse_host(self.fields(), self.taken)
        except FormError as exc:
            for name, message in exc.errors.items():
                boxes[name].error(message)
            return
        self.dismiss(request)
