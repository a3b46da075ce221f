"""Reading the stream-tracking form: a sequence field and A/B arbitration for one socket.

The same words as `listen --seq OFFSET:WIDTH[:be|le] --arbitrate` (udpscope.health parses the
field for both), checked before anything changes: a bad field is answered under the field with
the typed text kept, and the socket's tracking is left as it was. Plain functions, no Textual;
numpy (under udpscope.health) is imported only when a field is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from udpscope.tui.forms import FormError

if TYPE_CHECKING:
    from udpscope.health import SeqSpec

__all__ = ["StreamOptionsRequest", "parse_stream_options"]


@dataclass(frozen=True)
class StreamOptionsRequest:
    """What to follow on a socket besides RTP, MPEG-TS and probes."""

    seq: SeqSpec | None
    arbitrate: bool

    def describe(self) -> str:
        """A short sentence for a notification."""
        if self.seq is None:
            return "no sequence field"
        field = f"sequence field {self.seq.text()}"
        return field + (" with A/B arbitration" if self.arbitrate else "")


def parse_stream_options(seq: str, arbitrate: bool) -> StreamOptionsRequest:
    """The form's fields -> a request, or FormError with a message per box ("seq",
    "arbitrate"). An empty field means none."""
    errors: dict[str, str] = {}
    spec = None
    text = seq.strip()
    if text:
        from udpscope.health import SeqSpecError, parse_seq_spec

        try:
            spec = parse_seq_spec(text)
        except SeqSpecError as exc:
            errors["seq"] = f"{exc} (e.g. 0:4, 8:2:le)"
    if arbitrate and spec is None and "seq" not in errors:
        errors["arbitrate"] = ("A/B arbitration merges the lines by their sequence field: "
                               "give one (OFFSET:WIDTH[:be|le])")
    if errors:
        raise FormError(errors)
    return StreamOptionsRequest(spec, arbitrate)
