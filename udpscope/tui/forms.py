"""Reading the TUI's forms: the typed text of each field becomes a request, or a message per field.

Why plain functions: the composer, the new-socket and endpoint dialogs, the options pane and the
"why no traffic?" group must all reject bad input next to the field it came from, keep what was
typed, and touch no socket until every field is valid. Written as functions from strings to a
request (or a `FormError`), the rules are tested without an app, and a form is read once, in
the turn of the key that submits it, never half-updated. Parsing itself is the shared parsers'
(udpscope.addresses, udpscope.payload), so the TUI and the CLI use the same words.
No Textual or Rich here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from udpscope.addresses import (
    AddressError,
    family_of,
    is_multicast,
    parse_bind_spec,
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

__all__ = [
    "ComposeFields",
    "EndpointRequest",
    "FormError",
    "JoinEverywhereRequest",
    "HostFields",
    "HostRequest",
    "MatrixFields",
    "MatrixSettings",
    "NewSocketFields",
    "SendRequest",
    "SocketRequest",
    "max_payload",
    "parse_buffer_size",
    "parse_check_group",
    "parse_compose",
    "parse_endpoint",
    "parse_join_everywhere",
    "parse_host",
    "parse_matrix_settings",
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


class _Collect:
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


def _payload(kind: str, text: str, family: str) -> bytes:
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
    out = _Collect()
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
        payload = _payload(fields.kind, fields.payload, family)
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
    out = _Collect()
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

    out = _Collect()
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


# ---- hosts (the Hosts view: who hears whom) ------------------------------------------------------

TEMPLATE_PRESETS: tuple[tuple[str, str], ...] = (
    ("ssh", "ssh -T -o BatchMode=yes {host} udpscope agent"),
    ("namespace", "ip netns exec {host} udpscope agent"),
    ("kubectl", "kubectl exec -i {host} -- udpscope agent"),
)
LOCAL_HOST = "local"  # the name the local host gets when none is typed
MAX_HOSTS = 64  # as `udpscope matrix` allows
MATRIX_MAX_COUNT = 100_000
MATRIX_MAX_RATE = 10_000.0
MATRIX_MAX_SECONDS = 3600.0  # what an agent sends for at most (count / rate)


def local_agent_argv() -> tuple[str, ...]:
    """The agent on this machine: this very udpscope, started as a child (no template)."""
    import sys

    return (sys.executable, "-m", "udpscope", "agent")


@dataclass(frozen=True)
class HostFields:
    """The add-host dialog as typed: a name and a template, or this machine (``local``)."""

    name: str = ""
    template: str = ""
    local: bool = False


@dataclass(frozen=True)
class HostRequest:
    """A host to add: its name, the template it was added with ("" for the local host) and
    the argv that starts its agent."""

    name: str
    template: str
    argv: tuple[str, ...]


def parse_host(fields: HostFields, taken: Iterable[str] = ()) -> HostRequest:
    """Validate the add-host dialog; ``taken`` are the names already in the list.

    Raises:
        FormError: with messages for the boxes "name" and "template".
    """
    from udpscope.agent.transport import TemplateError, check_host, command_for, parse_template

    out = _Collect()
    name = fields.name.strip() or (LOCAL_HOST if fields.local else "")
    names = set(taken)
    try:
        if not name:
            raise TemplateError("required: what {host} becomes, e.g. h1, user@10.0.0.5, a pod")
        check_host(name)
        if name in names:
            raise TemplateError(f"{safe_text(name, 60)} is in the list already")
        if len(names) >= MAX_HOSTS:
            raise TemplateError(f"at most {MAX_HOSTS} hosts")
    except TemplateError as exc:
        out.fail("name", f"name: {safe_text(str(exc), 200)}")
    words: tuple[str, ...] = ()
    template = "" if fields.local else fields.template.strip()
    if not fields.local:
        try:
            words = parse_template(template)
        except TemplateError as exc:
            out.fail("template", f"template: {safe_text(str(exc), 200)}")
    out.check()
    argv = local_agent_argv() if fields.local else command_for(words, name)
    return HostRequest(name, template, argv)


@dataclass(frozen=True)
class MatrixFields:
    """The Hosts view's settings as typed."""

    group: str = ""
    count: str = "100"
    rate: str = "100"
    ttl: str = "1"
    max_loss: str = "0"


@dataclass(frozen=True)
class MatrixSettings:
    """Validated settings of one run (what `udpscope matrix` takes as flags)."""

    group: str
    port: int
    count: int
    rate: float
    ttl: int
    max_loss: float

    @property
    def endpoint(self) -> str:
        return f"[{self.group}]:{self.port}" if ":" in self.group else f"{self.group}:{self.port}"


def _group_port(text: str) -> tuple[str, int]:
    s = text.strip()
    if not s:
        raise AddressError("group", "required, GROUP:PORT (e.g. 239.1.2.3:5000 or [ff15::1]:5000)")
    address, port = parse_bind_spec(s, what="group") if ":" in s else (None, 0)
    if address is None:
        raise AddressError("group", f"'{safe_text(s, 60)}' needs GROUP:PORT, e.g. 239.1.2.3:5000")
    if family_of(address) is None:
        raise AddressError("group", f"'{safe_text(address, 60)}' is not a group address "
                                    "(an IP literal, e.g. 239.1.2.3)")
    if not is_multicast(address):
        raise AddressError("group", f"{safe_text(address, 60)} is not a multicast address "
                                    "(groups are 224.0.0.0/4 and ff00::/8)")
    if port == 0:
        raise AddressError("group", "the port must be 1-65535")
    return address, port


def parse_matrix_settings(fields: MatrixFields) -> MatrixSettings:
    """Validate the Hosts view's settings (the limits `udpscope matrix` has).

    Raises:
        FormError: with messages for the boxes "group", "count", "rate", "ttl", "max_loss".
    """
    out = _Collect()
    group, port = "", 0
    count, rate, ttl, max_loss = 0, 0.0, 1, 0.0
    try:
        group, port = _group_port(fields.group)
    except AddressError as exc:
        out.fail("group", exc)
    try:
        count = parse_int_range(fields.count.strip(), 1, MATRIX_MAX_COUNT, "count")
    except AddressError as exc:
        out.fail("count", exc)
    try:
        rate = parse_float_range(fields.rate, "rate", hi=MATRIX_MAX_RATE)
    except AddressError as exc:
        out.fail("rate", exc)
    try:
        ttl = parse_int_range(fields.ttl.strip(), 1, 255, "TTL")
    except AddressError as exc:
        out.fail("ttl", exc)
    try:
        max_loss = parse_float_range(fields.max_loss, "max loss", lo_inclusive=True, hi=100.0)
    except AddressError as exc:
        out.fail("max_loss", exc)
    if count and rate and count / rate > MATRIX_MAX_SECONDS:
        out.fail("rate", f"rate: {count} probes at {rate:g}/s take {count / rate:.0f} s; an agent "
                         f"sends for at most {MATRIX_MAX_SECONDS:.0f} s")
    out.check()
    return MatrixSettings(group, port, count, rate, ttl, max_loss)
