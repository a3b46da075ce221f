"""Validating addresses, ports, groups and numbers that a person typed, and the few address
facts and spellings everyone shares (`is_multicast`, `format_endpoint`).

Why a module: the CLI and the TUI must reject "70000", "300.1.1.1" or "10.0.0.1 as a group" up
front with a message that names what is wrong, before any socket is touched, and never with a
traceback. Every failure is an :class:`AddressError`; nothing else escapes, whatever the input.

Only syntax is checked here (plus whether an IPv6 scope names an existing interface, which is a
cheap local fact). Whether a host name resolves is reported later by the engine, asynchronously.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from typing import Literal

from udpscope.textsafe import safe_text

__all__ = [
    "AddressError",
    "family_of",
    "format_endpoint",
    "is_multicast",
    "parse_bind_spec",
    "parse_endpoint_host",
    "parse_float_range",
    "parse_group_spec",
    "parse_host_port",
    "parse_interface_spec",
    "parse_int_range",
    "parse_ip",
    "parse_port",
]

Family = Literal["udp4", "udp6"]

_INT_RE = re.compile(r"[+-]?[0-9]+")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_BAD_HOST_CHAR = re.compile(r"[^A-Za-z0-9.-]")
_BAD_IFNAME_CHAR = re.compile(r"[\s/:%\x00-\x1f\x7f]")
IFNAMSIZ = 16  # Linux: names are at most 15 bytes


class AddressError(ValueError):
    """Bad address-like input. ``str(err)`` is ``"<what>: <detail>"``."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.what = what
        self.detail = detail


def _show(text: object, limit: int = 60) -> str:
    return safe_text(str(text), limit=limit)


def _require_str(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise AddressError(what, f"expected text, got {type(text).__name__}")
    return text.strip()


def parse_int_range(text: str, lo: int, hi: int | None, what: str) -> int:
    """A whole number ``lo <= n <= hi`` (``hi=None``: no upper bound), written in decimal."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no value given")
    if not (s.isascii() and _INT_RE.fullmatch(s)):
        raise AddressError(what, f"'{_show(s)}' is not a whole number")
    if len(s.lstrip("+-").lstrip("0")) > 30:
        raise AddressError(what, f"{_show(s, 30)} is out of range {_range(lo, hi)}")
    n = int(s)
    if n < lo or (hi is not None and n > hi):
        raise AddressError(what, f"{n} is out of range {_range(lo, hi)}")
    return n


def _range(lo: int, hi: int | None) -> str:
    return f"{lo}-{hi}" if hi is not None else f"{lo} or more"


def parse_float_range(
    text: str, what: str, *, lo: float = 0.0, lo_inclusive: bool = False, hi: float | None = None
) -> float:
    """A finite decimal number above ``lo`` (or at least ``lo``), at most ``hi``."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no value given")
    try:
        x = float(s) if s.isascii() else math.nan
    except ValueError:
        x = math.nan
    if math.isnan(x) or s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise AddressError(what, f"'{_show(s)}' is not a number")
    if math.isinf(x):
        raise AddressError(what, f"{_show(s, 30)} is too large")
    if x < lo or (x == lo and not lo_inclusive):
        bound = f"at least {lo:g}" if lo_inclusive else f"more than {lo:g}"
        raise AddressError(what, f"{_show(s, 30)} must be {bound}")
    if hi is not None and x > hi:
        raise AddressError(what, f"{_show(s, 30)} must be at most {hi:g}")
    return x


def parse_port(text: str, *, allow_zero: bool = False, what: str = "port") -> int:
    """A UDP port: 1-65535, or 0-65535 with ``allow_zero`` (0 = any free port, for bind)."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no port given")
    if not (s.isascii() and s.isdigit()):
        if s.isascii() and _INT_RE.fullmatch(s):
            raise AddressError(what, f"{_show(s, 30)} is out of range {0 if allow_zero else 1}-65535")
        raise AddressError(what, f"'{_show(s)}' is not a number")
    return parse_int_range(s, 0 if allow_zero else 1, 65535, what)


def family_of(address: str) -> Family | None:
    """"udp4" or "udp6" for an IP literal (IPv6 may carry a %scope or brackets), else None."""
    if not isinstance(address, str):
        return None
    a = address.strip()
    if a.startswith("[") and a.endswith("]"):
        a = a[1:-1]
    a = a.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(a)
    except ValueError:
        return None
    return "udp4" if ip.version == 4 else "udp6"


def is_multicast(address: str) -> bool:
    """True for an IPv4 224.0.0.0/4 or IPv6 ff00::/8 literal ("%scope" allowed); False for
    anything else, malformed or not a string."""
    if not isinstance(address, str):
        return False
    try:
        return ipaddress.ip_address(address.strip().split("%", 1)[0]).is_multicast
    except ValueError:
        return False


def format_endpoint(address: str | None, port: int | None) -> str:
    """``addr:port``, IPv6 in brackets (``[::1]:5``); the address alone without a port, ""
    without an address. Raw, not sanitised: the caller makes it safe to show."""
    if address is None:
        return ""
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _check_scope(scope: str, shown: str, what: str) -> None:
    if not scope:
        raise AddressError(what, f"{shown}: empty scope after '%'")
    if scope.isascii() and scope.isdigit():
        try:
            socket.if_indextoname(int(scope))
        except (OSError, OverflowError, ValueError):
            raise AddressError(what, f"{shown}: no interface has index {_show(scope, 20)}") from None
        return
    try:
        socket.if_nametoindex(scope)
    except (OSError, OverflowError, ValueError):
        raise AddressError(what, f"{shown}: no interface named '{_show(scope, 20)}'") from None


def parse_ip(text: str, *, what: str = "address", scope_ok: bool = True) -> str:
    """An IPv4 or IPv6 literal (IPv6 optionally ``[bracketed]`` and ``%scoped``), no names."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no address given")
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    shown = _show(s)
    addr, pct, scope = s.partition("%")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise AddressError(what, f"'{shown}' is not an IP address") from None
    if pct:
        if ip.version == 4:
            raise AddressError(what, f"'{shown}': an IPv4 address has no %scope")
        if not scope_ok:
            raise AddressError(what, f"'{shown}': a %scope is not allowed here")
        _check_scope(scope, shown, what)
    return s


def parse_endpoint_host(text: str, *, what: str = "host") -> str:
    """An IPv4 literal, an IPv6 literal (``fe80::1%eth0``, brackets allowed) or a host name.

    Host names must follow RFC 1123: dot-separated labels of 1-63 letters, digits and hyphens,
    not starting or ending with a hyphen, 253 characters at most, an optional final dot, and a
    last label that is not all digits (``300.1.1.1`` is a bad IPv4 address, not a name).
    Returns the host without brackets.
    """
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no host given")
    if s.startswith("[") or ":" in s or "%" in s:
        inner = s[1:-1] if s.startswith("[") and s.endswith("]") else s
        if ":" not in inner:
            if "%" in inner and family_of(inner.split("%", 1)[0]) == "udp4":
                raise AddressError(what, f"'{_show(inner)}': an IPv4 address has no %scope")
            raise AddressError(what, f"'{_show(s)}' is not a valid IPv6 address or host name")
        try:
            return parse_ip(inner, what=what)
        except AddressError as e:
            if "not an IP address" in e.detail:
                raise AddressError(what, f"'{_show(inner)}' is not a valid IPv6 address") from None
            raise
    name = s[:-1] if s.endswith(".") else s
    labels = name.split(".")
    if all(lab.isascii() and lab.isdigit() for lab in labels if lab) and labels[-1]:
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise AddressError(what, f"'{_show(s)}' is not a valid IPv4 address") from None
        return name
    m = _BAD_HOST_CHAR.search(name)
    if m:
        hint = " (write non-ASCII names in their xn-- form)" if not m.group().isascii() else ""
        raise AddressError(
            what, f"'{_show(s)}' has a bad character '{_show(m.group())}' for a host name{hint}"
        )
    if len(name) > 253:
        raise AddressError(what, f"host name is {len(name)} characters, more than 253")
    for lab in labels:
        if not lab:
            raise AddressError(what, f"'{_show(s)}' has an empty label")
        if len(lab) > 63:
            raise AddressError(what, f"label '{_show(lab, 20)}' is {len(lab)} characters, more than 63")
        if not _LABEL_RE.fullmatch(lab):
            raise AddressError(what, f"label '{_show(lab)}' starts or ends with '-'")
    if labels[-1].isdigit():
        raise AddressError(what, f"'{_show(s)}': the last label must not be all digits")
    return s


def parse_bind_spec(text: str, *, what: str = "bind") -> tuple[str | None, int]:
    """``PORT``, ``ADDR:PORT``, ``[IPV6]:PORT`` or ``:PORT`` -> (address or None, port 0-65535)."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "nothing given (expected [ADDR:]PORT)")
    if s.startswith("["):
        close = s.find("]")
        if close < 0:
            raise AddressError(what, f"'{_show(s)}' has '[' without ']'")
        host, rest = s[1:close], s[close + 1 :]
        if not rest.startswith(":"):
            raise AddressError(what, f"'{_show(s)}' needs a port after the brackets, e.g. [::1]:5000")
        if ":" not in host:
            raise AddressError(what, f"brackets are for IPv6 addresses, not '{_show(host)}'")
        return parse_ip(host, what=what), parse_port(rest[1:], allow_zero=True)
    if s.count(":") > 1:
        raise AddressError(
            what, f"'{_show(s)}': write an IPv6 address with a port in brackets, e.g. [::1]:5000"
        )
    host, colon, port = s.rpartition(":")
    if not colon:
        return None, parse_port(s, allow_zero=True)
    if not host:
        return None, parse_port(port, allow_zero=True)
    return parse_endpoint_host(host, what=what), parse_port(port, allow_zero=True)


def parse_host_port(text: str, *, what: str = "destination") -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPV6]:PORT`` -> (host, port 1-65535); a host is required."""
    s = _require_str(text, what)
    if s and ":" not in s:
        raise AddressError(what, f"'{_show(s)}' needs a port: HOST:PORT, e.g. 127.0.0.1:5000")
    host, port = parse_bind_spec(s, what=what)
    if host is None:
        raise AddressError(what, f"'{_show(s)}' needs a host before the port")
    if port == 0:
        raise AddressError(what, "port 0 is not a destination (1-65535)")
    return host, port


def parse_interface_spec(text: str, *, what: str = "interface") -> str:
    """An interface given by name (``eth0``), index (``2``) or one of its addresses (syntax only)."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no interface given")
    if s.isascii() and s.isdigit():
        parse_int_range(s, 1, 2**31 - 1, what)
        return s
    if family_of(s) is not None:
        return parse_ip(s, what=what)
    m = _BAD_IFNAME_CHAR.search(s)
    if m:
        raise AddressError(
            what, f"'{_show(s)}' has a bad character '{_show(m.group())}' for an interface name"
        )
    try:
        size = len(s.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        raise AddressError(what, f"'{_show(s)}' cannot be an interface name") from None
    if size >= IFNAMSIZ:
        raise AddressError(
            what, f"'{_show(s, 30)}' is too long for an interface name ({IFNAMSIZ - 1} bytes at most)"
        )
    return s


def parse_group_spec(text: str, *, what: str = "group") -> tuple[str, str | None]:
    """``GROUP`` or ``GROUP@IFACE`` -> (multicast group literal, interface spec or None)."""
    s = _require_str(text, what)
    if not s:
        raise AddressError(what, "no group given")
    group, at, iface = s.partition("@")
    group = group.strip()
    if group.startswith("[") and group.endswith("]"):
        group = group[1:-1]
    if not group:
        raise AddressError(what, f"'{_show(s)}' has no group before '@'")
    if "%" in group:
        raise AddressError(what, f"'{_show(group)}': name the interface as GROUP@IFACE, not with %")
    try:
        ip = ipaddress.ip_address(group)
    except ValueError:
        raise AddressError(what, f"'{_show(group)}' is not an IP address") from None
    if not ip.is_multicast:
        rng = "224.0.0.0/4" if ip.version == 4 else "ff00::/8"
        raise AddressError(what, f"{group} is not a multicast address (those are in {rng})")
    if not at:
        return group, None
    if not iface.strip():
        raise AddressError(what, f"'{_show(s)}' has no interface after '@'")
    return group, parse_interface_spec(iface, what=what)
