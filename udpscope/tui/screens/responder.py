"""The responder of one socket: rules that answer matching datagrams, a rate limit, counters.

A rule is what `listen --respond` takes (MATCH=>REPLY), built here from two kinds and two values
so nobody has to remember the syntax; `tui/fileforms.parse_rule_fields` checks it with the
responder's own parser and the message lands under the field at fault. Changes apply at once
(the responder is live: adding a rule answers the next datagram), through the session's
`set_rules`, which keeps the counters. Replies go out through the capture layer, so the log
shows them as sent datagrams. The counters follow on the app's tick while the dialog is open.
"""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from udpscope.addresses import format_endpoint
from udpscope.capture import SocketEntry
from udpscope.respond import DEFAULT_LIMIT, Responder, RuleError
from udpscope.textsafe import safe_text
from udpscope.tui.fileforms import RuleFields, parse_respond_limit, parse_rule_fields
from udpscope.tui.forms import FormError
from udpscope.tui.screens.dialogs import _Dialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.select import Select
from udpscope.tui.workbench import app_of

__all__ = ["ResponderDialog", "counters_text"]

MATCHES = [("any datagram", "any"), ("contains text", "text"), ("starts with hex", "prefix"),
           ("bytes regex", "re")]
REPLIES = [("echo it", "echo"), ("text", "text"), ("hex", "hex")]
MATCH_HINTS = {"any": "(matches every datagram)", "text": "text the payload contains, e.g. ping",
               "prefix": "hex bytes it starts with, e.g. 01 02", "re": r"regex, e.g. ^GET \d+"}
REPLY_HINTS = {"echo": "(sends the datagram back)", "text": "reply text, e.g. pong",
               "hex": "reply bytes, e.g. 06 00"}
# What Enter does in each field.
ENTER_DOES = {"match": "add", "reply": "add", "limit": "set-limit", "rules": "remove"}


def counters_text(responder: Responder | None) -> str:
    """``"matched 3 · replies 3 · held back 0 · errors 0"`` ("held back": by the rate limit)."""
    if responder is None or not responder.rules:
        return "no rules: nothing is answered"
    text = (f"matched {responder.matched} · replies {responder.replies} · held back "
            f"{responder.replies_dropped} · errors {responder.reply_errors}")
    if responder.last_error is not None:
        text += f" (last: {safe_text(str(responder.last_error), 80)})"
    return text


class ResponderDialog(_Dialog[None]):
    """Add and remove the rules of socket ``sock_id``; set its reply rate limit."""

    AUTO_FOCUS = "#match-kind"
    BINDINGS = [Binding("delete", "remove", "Remove rule", id="responder-remove")]

    DEFAULT_CSS = """
    ResponderDialog > Vertical { width: 72; }
    ResponderDialog Label { width: 6; }
    ResponderDialog FieldMessage { padding-left: 6; }
    ResponderDialog Select { width: 19; }
    ResponderDialog #rules { height: auto; max-height: 6; border: none; padding: 0;
                             background: $boost; margin-top: 1; }
    ResponderDialog .note { color: $text-muted; height: auto; }
    ResponderDialog #counters { margin-top: 1; height: auto; }
    ResponderDialog Input#limit { width: 10; }
    ResponderDialog .buttons Button { margin-left: 1; }
    """

    def __init__(self, sock_id: int) -> None:
        super().__init__()
        self.sock_id = sock_id
        self._shown_counters = ""
        self._limit = DEFAULT_LIMIT  # the limit while there is no rule (no responder) yet

    # ---- reading the session -----------------------------------------------------------------

    def entry(self) -> SocketEntry | None:
        return app_of(self).capture.sockets.get(self.sock_id)

    def responder(self) -> Responder | None:
        session = app_of(self).workspace_session
        return session.responders.get(self.sock_id) if session is not None else None

    def rules(self) -> list[str]:
        responder = self.responder()
        return responder.rule_texts if responder is not None else []

    def limit(self) -> int:
        responder = self.responder()
        return responder.limit.limit if responder is not None else self._limit

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        entry = self.entry()
        with Vertical() as box:
            where = ""
            if entry is not None:
                local = entry.local()
                where = f" {entry.type} {format_endpoint(*local)}" if local else f" {entry.type}"
            box.border_title = f"Responder of socket #{self.sock_id}{safe_text(where, 60)}"
            box.border_subtitle = "enter add · del remove · esc close"
            yield Static(Content("The first rule that matches answers the sender, once per "
                                 "datagram; replies show in the log as sent."), classes="note")
            yield OptionList(id="rules", compact=True)
            with Horizontal(classes="row"):
                yield Label("match")
                yield Select(MATCHES, value="text", allow_blank=False, id="match-kind", compact=True)
                yield Input(placeholder=MATCH_HINTS["text"], id="match", compact=True)
            yield FieldMessage(id="match-error")
            with Horizontal(classes="row"):
                yield Label("reply")
                yield Select(REPLIES, value="text", allow_blank=False, id="reply-kind", compact=True)
                yield Input(placeholder=REPLY_HINTS["text"], id="reply", compact=True)
            yield FieldMessage(id="reply-error")
            with Horizontal(classes="row"):
                yield Label("limit")
                yield Input(str(self.limit()), id="limit", compact=True)
                yield Label("replies/s", classes="inline")
                yield Button("set", id="set-limit", compact=True)
            yield FieldMessage(id="limit-error")
            yield Static("", id="counters", markup=False)
            with Horizontal(classes="row buttons"):
                yield Button("Add rule", id="add", variant="primary", compact=True)
                yield Button("Remove rule", id="remove", compact=True)
                yield Button("Close", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.show_rules()
        self.refresh_data(True)

    def show_rules(self, highlight: int | None = None) -> None:
        """List the rules as they are now (untrusted text, shown escaped)."""
        rules = self.rules()
        listing = self.query_one("#rules", OptionList)
        listing.clear_options()
        listing.add_options([Option(Content(f"{n}. {safe_text(rule, 200)}"))
                             for n, rule in enumerate(rules, 1)])
        listing.display = bool(rules)
        self.query_one("#remove", Button).disabled = not rules
        if rules:
            listing.highlighted = min(highlight if highlight is not None else len(rules) - 1,
                                      len(rules) - 1)

    def refresh_data(self, slow: bool) -> None:
        """The counters (called by the app's tick while the dialog is on top)."""
        if not slow:
            return
        text = counters_text(self.responder())
        if text != self._shown_counters:
            self._shown_counters = text
            self.query_one("#counters", Static).update(Content(text))

    @on(Select.Changed, "#match-kind")
    def _match_kind(self, event: Select.Changed) -> None:
        event.stop()
        kind = str(event.value)
        field = self.query_one("#match", Input)
        field.placeholder = MATCH_HINTS.get(kind, "")
        field.disabled = kind == "any"
        self.query_one("#match-error", FieldMessage).clear()

    @on(Select.Changed, "#reply-kind")
    def _reply_kind(self, event: Select.Changed) -> None:
        event.stop()
        kind = str(event.value)
        field = self.query_one("#reply", Input)
        field.placeholder = REPLY_HINTS.get(kind, "")
        field.disabled = kind == "echo"
        self.query_one("#reply-error", FieldMessage).clear()

    # ---- acting ------------------------------------------------------------------------------

    def action_submit_from_field(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            self.press(focused.id or "")
            return
        if (isinstance(focused, Select) and focused.expanded) or (
                focused is not None and isinstance(focused.parent, Select)):
            raise SkipAction()
        self.press(ENTER_DOES.get(focused.id or "", "add") if focused is not None else "add")

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        self.press(event.button.id or "")

    def action_remove(self) -> None:
        if self.focused is not None and isinstance(self.focused, Input):
            raise SkipAction()  # delete edits the field
        self.press("remove")

    def press(self, what: str) -> None:
        """Do what button ``what`` does: add, remove, set-limit, cancel."""
        app_of(self).flush_typing()
        if what == "cancel":
            self.dismiss(None)
        elif what == "add":
            self._add()
        elif what == "remove":
            self._remove()
        elif what == "set-limit":
            self._set_limit()

    def _apply(self, rules: list[str], limit: int, box: str) -> bool:
        entry = self.entry()
        message = self.query_one(f"#{box}-error", FieldMessage)
        if entry is None or entry.state == "closed":
            message.error(f"socket #{self.sock_id} is gone or closed: nothing to answer from")
            return False
        try:
            app_of(self).session.set_rules(entry, rules, limit)
        except RuleError as exc:  # pragma: no cover - every rule was checked when added
            message.error(str(exc))
            return False
        self._limit = limit
        self.refresh_data(True)
        return True

    def _add(self) -> None:
        match_box = self.query_one("#match-error", FieldMessage)
        reply_box = self.query_one("#reply-error", FieldMessage)
        match_box.clear()
        reply_box.clear()
        fields = RuleFields(str(self.query_one("#match-kind", Select).value),
                            self.query_one("#match", Input).value,
                            str(self.query_one("#reply-kind", Select).value),
                            self.query_one("#reply", Input).value)
        try:
            rule = parse_rule_fields(fields)
        except FormError as exc:
            for box, text in exc.errors.items():
                (match_box if box == "match" else reply_box).error(text)
            return
        rules = [*self.rules(), rule]
        if self._apply(rules, self.limit(), "match"):
            self.show_rules()
            match_box.ok(f"rule {len(rules)} answers from now on: {rule}")

    def _remove(self) -> None:
        rules = self.rules()
        listing = self.query_one("#rules", OptionList)
        index = listing.highlighted
        if not rules or index is None or not 0 <= index < len(rules):
            self.query_one("#match-error", FieldMessage).error("no rule to remove")
            return
        removed = rules.pop(index)
        limit = self.limit()
        if self._apply(rules, limit, "match"):
            self.show_rules(index)
            self.query_one("#match-error", FieldMessage).ok(f"removed: {removed}")
            if not rules:
                self.set_focus(self.query_one("#match-kind", Select))

    def _set_limit(self) -> None:
        message = self.query_one("#limit-error", FieldMessage)
        message.clear()
        try:
            limit = parse_respond_limit(self.query_one("#limit", Input).value)
        except FormError as exc:
            message.error(str(exc))
            return
        rules = self.rules()
        if not rules:
            self._limit = limit
            message.ok(f"at most {limit} replies a second, once a rule is added")
        elif self._apply(rules, limit, "limit"):
            message.ok(f"at most {limit} replies a second")
