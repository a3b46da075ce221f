"""Reading the forms of responders and saved payloads.

Plain functions from typed text to a rule or a saved payload (or a `FormError` with one message
per field), checked by the same parsers the CLI and workspaces use (`udpscope.respond`,
`udpscope.workspace`). No Textual or Rich here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from udpscope.addresses import AddressError, parse_endpoint_host, parse_int_range, parse_port
from udpscope.payload import PayloadError
from udpscope.tui.forms import Collect, ComposeFields, FormError, payload_bytes

if TYPE_CHECKING:
    from udpscope.respond import Rule
    from udpscope.workspace.schema import PayloadSpec

__all__ = [
    "MATCH_KINDS",
    "REPLY_KINDS",
    "RuleFields",
    "compose_fields_of",
    "parse_respond_limit",
    "parse_rule_fields",
    "parse_saved_payload",
]

# ---- responders ----------------------------------------------------------------------------------

MATCH_KINDS = ("any", "text", "prefix", "re")  # the words of respond.py's MATCH: *, text:, ...
REPLY_KINDS = ("echo", "text", "hex")


@dataclass(frozen=True)
class RuleFields:
    """The responder dialog's rule fields as typed: a match kind and value, a reply kind and
    value (the values of "any" and "echo" are ignored)."""

    match_kind: str = "any"
    match: str = ""
    reply_kind: str = "echo"
    reply: str = ""


def _rule_text(fields: RuleFields) -> tuple[str, str]:
    match = "*" if fields.match_kind == "any" else f"{fields.match_kind}:{fields.match}"
    reply = "echo" if fields.reply_kind == "echo" else f"{fields.reply_kind}:{fields.reply}"
    return match, reply


def _match_of(rule: Rule) -> tuple[str, bytes, bytes | None]:
    return rule.match_kind, rule.needle, rule.pattern.pattern if rule.pattern is not None else None


def _same_rule(rule: Rule, match: Rule, reply: Rule) -> bool:
    return (_match_of(rule) == _match_of(match)
            and (rule.reply_kind, rule.reply) == (reply.reply_kind, reply.reply))


def parse_rule_fields(fields: RuleFields) -> str:
    """The rule the fields describe, as ``MATCH=>REPLY`` text (what ``listen --respond`` and a
    workspace's ``respond`` take), checked by the responder's own parser.

    Raises:
        FormError: with messages for the boxes "match" and "reply".
    """
    from udpscope.respond import RuleError, parse_rule

    if fields.match_kind not in MATCH_KINDS:
        raise FormError({"match": f"match: choose one of {', '.join(MATCH_KINDS)}"})
    if fields.reply_kind not in REPLY_KINDS:
        raise FormError({"reply": f"reply: choose one of {', '.join(REPLY_KINDS)}"})
    out = Collect()
    match, reply = _rule_text(fields)
    # Each side alone first, so a message lands under its own field.
    parsed: dict[str, Rule] = {}
    for box, text in (("match", f"{match}=>echo"), ("reply", f"*=>{reply}")):
        try:
            parsed[box] = parse_rule(text)
        except RuleError as exc:
            out.fail(box, str(exc))
    out.check()
    text = f"{match}=>{reply}"
    try:
        rule = parse_rule(text)
    except RuleError as exc:  # pragma: no cover - both sides parsed on their own
        raise FormError({"match": str(exc)}) from None
    if not _same_rule(rule, parsed["match"], parsed["reply"]):
        # The rule's text is split at the first "=>" that a reply follows: a match text such
        # as "a=>text:b" would be read back as another rule (in a workspace, too).
        raise FormError({"match": "match: '=>' followed by echo, text: or hex: cannot be part of "
                                  "the match (use re: with [=]> instead)"})
    return text


def parse_respond_limit(text: str) -> int:
    """Replies per second (1 - 1000000).

    Raises:
        FormError: with a message for the box "limit".
    """
    from udpscope.respond import MAX_LIMIT

    try:
        return parse_int_range(text.strip(), 1, MAX_LIMIT, "limit")
    except AddressError as exc:
        raise FormError({"limit": str(exc)}) from None


# ---- saved payloads ------------------------------------------------------------------------------

MAX_NAME = 60


def _payload_name(text: str) -> str:
    name = text.strip()
    if not name:
        raise FormError({"name": "name: required (e.g. hello)"})
    if len(name) > MAX_NAME:
        raise FormError({"name": f"name: {len(name)} characters, more than {MAX_NAME}"})
    if any(not ch.isprintable() for ch in name):
        raise FormError({"name": "name: control characters are not allowed"})
    return name


def parse_saved_payload(name: str, fields: ComposeFields, family: str | None) -> PayloadSpec:
    """The composer's payload (and destination, if one is typed) as a named saved payload.

    Base64 is kept as hex (a workspace stores text, hex or a file). ``family`` is the selected
    socket's type (the size limit follows it), None without a socket.

    Raises:
        FormError: with messages for the boxes "name", "dest" and "payload".
    """
    from udpscope.workspace.schema import PayloadSpec

    out = Collect()
    try:
        checked = _payload_name(name)
    except FormError as exc:
        out.errors.update(exc.errors)
        checked = ""
    to: tuple[str, int] | None = None
    host_text, port_text = fields.host.strip(), fields.port.strip()
    if host_text or port_text:
        try:
            if not host_text:
                raise AddressError("to", "a port without a host: type both, or neither")
            to = (parse_endpoint_host(host_text, what="to"), parse_port(port_text, allow_zero=False))
        except AddressError as exc:
            out.fail("dest", exc)
    data = b""
    try:
        data = payload_bytes(fields.kind, fields.payload, family or "udp6")
    except PayloadError as exc:
        out.fail("payload", exc)
    out.check()
    if fields.kind == "file":
        path = fields.payload.strip()
        full = str(Path(path).expanduser().absolute())
        return PayloadSpec(checked, "file", path, data, to, full)
    if fields.kind == "base64":
        return PayloadSpec(checked, "hex", data.hex(" "), data, to)
    return PayloadSpec(checked, fields.kind, fields.payload, data, to)


def compose_fields_of(spec: PayloadSpec, current: ComposeFields) -> ComposeFields:
    """The composer's fields with a saved payload filled in (its destination too, if it has
    one; otherwise the current one stays)."""
    host, port = current.host, current.port
    if spec.to is not None:
        host, port = spec.to[0], str(spec.to[1])
    value = spec.file if spec.kind == "file" and spec.file else spec.value
    return ComposeFields(host=host, port=port, kind=spec.kind, payload=value, count=current.count,
                         rate=current.rate, probe=current.probe)
