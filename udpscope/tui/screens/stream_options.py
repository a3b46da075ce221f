"""The dialog that sets what a socket's stream tracking reads beyond RTP, MPEG-TS and probes: a
sequence field in the payload (market-data feeds, in-house protocols) and the A/B merge of every
line carrying it. Fields are read with udpscope.tui.streamforms; bad input is answered under its
field and nothing changes until the form is valid.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from udpscope.tui.forms import FormError
from udpscope.tui.screens.dialogs import _Dialog
from udpscope.tui.streamforms import StreamOptionsRequest, parse_stream_options
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.tick import Tick
from udpscope.tui.workbench import app_of

__all__ = ["StreamOptionsDialog"]

HELP = ("RTP, MPEG-TS and probe streams are followed on their own. A sequence field counts gaps, "
        "duplicates and reordering of any other numbered stream; A/B arbitration merges every "
        "line this socket receives (loss per line, and after the merge). Applying starts this "
        "socket's tracking over.")


class StreamOptionsDialog(_Dialog[StreamOptionsRequest]):
    """Sequence field (OFFSET:WIDTH[:be|le], empty: none) and A/B arbitration for a socket."""

    AUTO_FOCUS = "#seq"
    DEFAULT_CSS = """
    StreamOptionsDialog #stream-help { color: $text-muted; margin-top: 1; }
    StreamOptionsDialog Label { width: 9; }
    """

    def __init__(self, sock_id: int, seq: str = "", arbitrate: bool = False) -> None:
        super().__init__()
        self.sock_id = sock_id
        self.initial = (seq, arbitrate)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Streams of socket #{self.sock_id}"
            box.border_subtitle = "enter apply · esc cancel"
            yield Static(HELP, id="stream-help", markup=False)
            with Horizontal(classes="row"):
                yield Label("seq")
                yield Input(self.initial[0], placeholder="OFFSET:WIDTH[:be|le], e.g. 0:4",
                            id="seq", compact=True)
            yield FieldMessage(id="seq-error")
            with Horizontal(classes="row"):
                yield Label("")
                yield Tick("A/B arbitration (merge the lines)", value=self.initial[1],
                           id="arbitrate", compact=True)
            yield FieldMessage(id="arbitrate-error")
            with Horizontal(classes="row buttons"):
                yield Button("Apply", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def submit(self) -> None:
        boxes = {"seq": self.query_one("#seq-error", FieldMessage),
                 "arbitrate": self.query_one("#arbitrate-error", FieldMessage)}
        for box in boxes.values():
            box.clear()
        app_of(self).flush_typing()
        try:
            request = parse_stream_options(self.query_one("#seq", Input).value,
                                           self.query_one("#arbitrate", Tick).value)
        except FormError as exc:
            for name, message in exc.errors.items():
                boxes[name].error(message)
            return
        self.dismiss(request)
