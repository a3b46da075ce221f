"""Reading the TUI's forms: the typed text of each field becomes a request, or a message per field.

Why plain functions: the composer, the new-socket and endpoint dialogs, the options pane and the "why no
traffic?" group must all reject bad input next to the field it came from, keep what was
typed, and touch no socket until every field is valid. Written as functions from strings to a
request (or a `FormError`), the rules are tested without an app, and a form is read once, in
the turn of the key that submits it, never half-updated. Parsing itself is the shared parsers'
(udpscope.addresses, udpscope.payload, udpscope.respond), so the TUI and the CLI use the same
words.
No Textual or Rich here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from udpscope.addresses import (
    AddressError,
    family_of,
    is_multicast,
    parse_endpoint_host,
    parse_float_range,
    parse_int_range,
    parse_ip,
    parse_port,
)
from udpscope.capture import MAX_SEND_COUNT
from udpscope.payload import MAX_UDP4, MAX_UDP6, PayloadError, check_payload_size, parse_payload
from udpscope.textsafe import safe_text
from udpscope.tui.regular_file import FileReadError, read_regular_file
from udpscope.units import SizeError, parse_size

if TYPE_CHECKING:  # imported where used: this module is on the start-up path (--bind)
    pass

__all__ = [
    "ComposeFields",
    "EndpointRequest",
    "Collect",
    "FormError",
    "JoinEverywhereRequest",
    "NewSocketFields",
    "SendRequest",
    "SocketRequest",
    "max_payload",
    "parse_buffer_size",
    "payload_bytes",
    "parse_check_group",
    "parse_compose",
    "parse_endpoint",
    "parse_join_everywhere",
    "parse_membership",
    "parse_new_socket",
    "parse_ttl",
]

MAX_RATE = 1_000_000.0
MAX_BUFFER = 2**31 - 1


class FormError(ValueError):
    """Bad input in one or more fields.

    Attributes:
        errors: message per field box (e.g. ``{"dest": "port: 70000 is out of range 1-65535"}``),
            in the order the fields appear; ``str(err)`` is the first message.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values()), "invalid input"))
        self.errors = dict(errors)


class Collect:
    """Gathers one message per box, so every bad field is answered in one go."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, box: str, exc: Exception | str) -> None:
        self.errors.setdefault(box, str(exc))

    def check(self) -> None:
        if self.errors:
            raise FormError(self.errors)


def max_payload(family: str) -> int:
    """The largest UDP payload a socket of ``family`` ("udp4"/"udp6") can send."""
    return MAX_UDP6 if family == "udp6" else MAX_UDP4


# ---- composer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeFields:
    """The composer's fields as typed."""

    host: str = ""
    port: str = ""
    kind: str = "text"
    payload: str = ""
    count: str = "1"
    rate: str = ""
    probe: bool = False


@dataclass(frozen=True)
class SendRequest:
    """A validated send: what the capture layer's `send` takes, plus a note for the user."""

    payload: bytes
    address: str | None
    port: int | None
    count: int = 1
    rate: float | None = None
    probe: bool = False
    note: str = ""


def payload_bytes(kind: str, text: str, family: str) -> bytes:
    """The bytes a payload field holds (text, hex, base64 or a regular file's), within what a
    ``family`` datagram can carry. Raises PayloadError naming the field."""
    limit = max_payload(family)
    if kind == "file":
        try:
            return read_regular_file(text.strip(), limit)
        except FileReadError as exc:
            if exc.size is not None:
                raise PayloadError("file", f"{exc.size} bytes is more than the {limit} a {family} "
                                           "datagram can carry") from None
            raise PayloadError("file", str(exc)) from None
    data = parse_payload(text, kind, max_size=MAX_UDP6)
    return check_payload_size(data, limit, kind)


def parse_compose(fields: ComposeFields, *, family: str, connected_to: str | None = None) -> SendRequest:
    """Validate the composer.

    Args:
        fields: The fields as typed.
        family: The sending socket's type ("udp4"/"udp6"): the payload limit follows it.
        connected_to: The peer of a connected socket (shown text), or None. A connected socket
            sends to its peer: 'to' and 'port' are then ignored, and the note says so.

    Returns:
        The request to send.

    Raises:
        FormError: with messages for the boxes "dest", "payload" and "count".
    """
    out = Collect()
    address: str | None = None
    port: int | None = None
    note = ""
    host_text, port_text = fields.host.strip(), fields.port.strip()
    if connected_to is not None:
        if host_text or port_text:
            note = f"connected to {connected_to}: 'to' and 'port' are ignored"
    else:
        try:
            if not host_text:
                raise AddressError("to", "required (e.g. 127.0.0.1), or connect the socket first")
            address = parse_endpoint_host(host_text, what="to")
            port = parse_port(port_text, allow_zero=False)
        except AddressError as exc:
            out.fail("dest", exc)
        if address is not None and family_of(address) not in (None, family):
            out.fail("dest", f"to: {safe_text(address, 60)} is an "
                             f"{'IPv6' if family == 'udp4' else 'IPv4'} address; this socket is {family}")
    payload = b""
    try:
        payload = payload_bytes(fields.kind, fields.payload, family)
    except PayloadError as exc:
        out.fail("payload", exc)
    count = 1
    rate: float | None = None
    try:
        count = parse_int_range(fields.count.strip() or "1", 1, MAX_SEND_COUNT, "count")
        if fields.rate.strip():
            rate = parse_float_range(fields.rate, "rate", hi=MAX_RATE)
    except AddressError as exc:
        out.fail("count", exc)
    out.check()
    return SendRequest(payload, address, port, count, rate, fields.probe, note)


# ---- sockets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSocketFields:
    """The new-socket dialog's fields as typed."""

    type: str = "udp4"
    bind: bool = True
    address: str = ""
    port: str = ""
    recv_buffer: str = ""
    send_buffer: str = ""
    reuse_addr: bool = False
    reuse_port: bool = False
    ipv6_only: bool = False
    isolate: bool = True


@dataclass(frozen=True)
class SocketRequest:
    """A validated new socket: its options, and where to bind it (if at once)."""

    type: str
    reuse_addr: bool = False
    reuse_port: bool = False
    ipv6_only: bool = False
    isolate: bool = True
    recv_buffer_size: int | None = None
    send_buffer_size: int | None = None
    bind: bool = True
    address: str | None = None
    port: int = 0


@dataclass(frozen=True)
class EndpointRequest:
    """A validated address and port, for bind (address optional) or connect."""

    address: str | None
    port: int


def parse_buffer_size(text: str, what: str) -> int:
    """A socket buffer size in bytes: ``212992``, ``256K``/``256KiB``, ``4M``/``4MiB`` (the
    shared size syntax of udpscope.units; kB/MB are 1000-based).

    Raises:
        AddressError: not a size, or outside 1 byte .. 2 GiB - 1.
    """
    try:
        n = parse_size(text)
    except SizeError as exc:
        raise AddressError(what, str(exc)) from None
    if not 1 <= n <= MAX_BUFFER:
        raise AddressError(what, f"{safe_text(text.strip(), 30)} is out of range 1 byte - 2 GiB")
    return n


def _family_mismatch(address: str, sock_type: str, what: str) -> str | None:
    fam = family_of(address)
    if fam is None or fam == sock_type:
        return None
    kind = "IPv4" if fam == "udp4" else "IPv6"
    return f"{what}: {safe_text(address, 60)} is an {kind} address; the socket is {sock_type}"


def parse_new_socket(fields: NewSocketFields) -> SocketRequest:
    """Validate the new-socket dialog.

    Raises:
        FormError: with messages for the boxes "bind" and "buffers".
    """
    out = Collect()
    sizes: list[int | None] = []
    for text, what in ((fields.recv_buffer, "receive buffer"), (fields.send_buffer, "send buffer")):
        if not text.strip():
            sizes.append(None)
            continue
        try:
            sizes.append(parse_buffer_size(text, what))
        except AddressError as exc:
            out.fail("buffers", exc)
            sizes.append(None)
    address: str | None = None
    port = 0
    if fields.bind:
        try:
            if fields.address.strip():
                address = parse_endpoint_host(fields.address, what="address")
            port = parse_port(fields.port.strip() or "0", allow_zero=True)
        except AddressError as exc:
            out.fail("bind", exc)
        if address is not None:
            mismatch = _family_mismatch(address, fields.type, "address")
            if mismatch:
                out.fail("bind", mismatch)
    out.check()
    return SocketRequest(
        type=fields.type,
        reuse_addr=fields.reuse_addr,
        reuse_port=fields.reuse_port,
        ipv6_only=fields.ipv6_only and fields.type == "udp6",
        isolate=fields.isolate,
        recv_buffer_size=sizes[0],
        send_buffer_size=sizes[1],
        bind=fields.bind,
        address=address,
        port=port,
    )


def parse_endpoint(address: str, port: str, *, bind: bool, sock_type: str | None = None) -> EndpointRequest:
    """Validate the bind / connect dialog: for bind the address is optional and port 0 allowed.

    Raises:
        FormError: with a message for the box "endpoint".
    """
    try:
        addr: str | None = None
        if address.strip():
            addr = parse_endpoint_host(address, what="address")
        elif not bind:
            raise AddressError("address", "required (the peer, e.g. 127.0.0.1)")
        number = parse_port(port.strip() or ("0" if bind else ""), allow_zero=bind)
    except AddressError as exc:
        raise FormError({"endpoint": str(exc)}) from None
    if addr is not None and sock_type is not None:
        mismatch = _family_mismatch(addr, sock_type, "address")
        if mismatch:
            raise FormError({"endpoint": mismatch})
    return EndpointRequest(addr, number)


# ---- options -------------------------------------------------------------------------------------


def parse_ttl(text: str, *, multicast: bool) -> int:
    """A TTL (1-255) or a multicast TTL (0-255). Raises AddressError."""
    if multicast:
        return parse_int_range(text, 0, 255, "multicast TTL")
    return parse_int_range(text, 1, 255, "TTL")


@dataclass(frozen=True)
class Membership:
    """A validated join or leave: the group and, for a source-specific one, the source."""

    group: str
    source: str | None = None
    notes: list[str] = field(default_factory=list)


def _group(text: str, sock_type: str | None, what: str) -> str:
    s = text.strip()
    if not s:
        raise AddressError(what, "required (e.g. 239.1.2.3 or ff15::1)")
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    if family_of(s) is None:
        if re.fullmatch(r"[0-9.]+", s):
            raise AddressError(what, f"'{safe_text(s, 60)}' is not a valid IPv4 address")
        raise AddressError(what, f"'{safe_text(s, 60)}' is not an IP address "
                                 "(a group is one, e.g. 239.1.2.3 or ff15::1)")
    parse_ip(s, what=what)
    if not is_multicast(s):
        raise AddressError(what, f"{safe_text(s, 60)} is not a multicast address "
                                 "(groups are 224.0.0.0/4 and ff00::/8)")
    fam = family_of(s)
    if sock_type is not None and fam != sock_type:
        kind = "IPv6" if fam == "udp6" else "IPv4"
        raise AddressError(what, f"{safe_text(s, 60)} is an {kind} group but the socket is "
                                 f"{sock_type}: use a {fam} socket for it")
    return s


def parse_membership(group: str, source: str, sock_type: str) -> Membership:
    """Validate a join/leave on a socket of ``sock_type``. Raises AddressError."""
    g = _group(group, sock_type, "group")
    src: str | None = None
    if source.strip():
        src = parse_ip(source, what="source")
        if is_multicast(src):
            raise AddressError("source", f"{safe_text(src, 60)} is a group, not a sender's address")
        mismatch = _family_mismatch(src, sock_type, "source")
        if mismatch:
            raise AddressError("source", mismatch.partition(": ")[2])
    return Membership(g, src)


def parse_check_group(text: str, sock_type: str | None) -> str:
    """The group "why no traffic?" checks; ``sock_type`` is the checked socket's (or None).

    Raises:
        AddressError: empty, not an address (``300.1.1.1`` is an invalid IPv4 address), not a
            group, or a group of the other family than the socket.
    """
    return _group(text, sock_type, "group")


@dataclass(frozen=True)
class JoinEverywhereRequest:
    """A validated "join everywhere": the group (canonical spelling, as received datagrams name
    it) and, for a source-specific join, the source."""

    group: str
    source: str | None = None


def parse_join_everywhere(group: str, source: str, sock_type: str) -> JoinEverywhereRequest:
    """Validate the join-everywhere dialog for a socket of ``sock_type``.

    Raises:
        FormError: with messages for the boxes "group" and "source" (both at once).
    """
    import ipaddress

    out = Collect()
    g: str | None = None
    src: str | None = None
    try:
        g = str(ipaddress.ip_address(_group(group, sock_type, "group")))
    except AddressError as exc:
        out.fail("group", exc)
    if source.strip():
        try:
            src = parse_ip(source, what="source")
            if is_multicast(src):
                raise AddressError("source", f"{safe_text(src, 60)} is a group, not a sender's "
                                             "address")
            mismatch = _family_mismatch(src, sock_type, "source")
            if mismatch:
                raise AddressError("source", mismatch.partition(": ")[2])
        except AddressError as exc:
            out.fail("source", exc)
    out.check()
    assert g is not None  # out.check() raised otherwise
    return JoinEverywhereRequest(g, src)
