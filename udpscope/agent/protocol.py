"""The agent's line protocol: one JSON object per line, both ways, versioned.

Why a module of its own: the agent and the coordinator must agree on every shape, and the
agent must turn anything a peer sends — a broken line, an unknown command, a wrong type, a
number over a limit, another protocol version — into one clear error object and keep going.
All of that is pure (no sockets, no clock), so it is tested line by line.

Agent -> coordinator: first, unsolicited, `{"type": "hello", "protocol": 1, ...}`; then one
reply per command (`{"type": "ok", "id": ..., "cmd": ...}` or `{"type": "error", "id": ...,
"code": ..., "message": ...}`), and unsolicited `{"type": "event", ...}` lines.
Coordinator -> agent: `{"id": 1, "cmd": "hello", "protocol": 1, "limits": {...}}` first, then
`open`, `join`, `leave`, `send`, `cancel`, `report`, `ping`, `close`, `bye`.

Limits: the coordinator sets what it will ask for (max count, max rate, max TTL, the groups
allowed); the agent clamps them to its own hard caps, so no coordinator can make an agent flood.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from udpscope.addresses import AddressError, parse_interface_spec
from udpscope.probe import HEADER_SIZE

PROTOCOL_VERSION = 1

# ---- hard caps: what an agent never does, whatever a coordinator asks --------------------------
MAX_LINE_BYTES = 64 * 1024          # one command line (a report the other way may be larger)
REPLY_LINE_LIMIT = 16 * 1024 * 1024  # what a coordinator accepts for one agent line
CAP_COUNT = 100_000                 # probes per target per job
CAP_RATE = 10_000.0                 # probes per second per target
CAP_TOTAL_RATE = 20_000.0           # probes per second over all running jobs of one agent
MIN_RATE = 0.1
CAP_DURATION_S = 3600.0             # count / rate of one job
CAP_TARGETS = 256                   # destinations of one job
CAP_JOBS = 8                        # jobs running at once
CAP_SOCKETS = 4
CAP_GROUPS = 32                     # groups a coordinator may allow
CAP_JOINS = 16                      # memberships per socket
CAP_SIZE = 1472                     # probe datagram bytes (no IPv4 fragmentation on Ethernet)
DEFAULT_SIZE = 64
U32 = 0xFFFFFFFF

COMMANDS = ("hello", "open", "join", "leave", "send", "cancel", "report", "ping", "close", "bye")


class ProtocolError(Exception):
    """Something a peer sent that the agent refuses; becomes one error object on the wire.

    `code` is stable (scripts and the coordinator match on it): bad-line, bad-command,
    unknown-command, bad-argument, version-mismatch, hello-required, limit, not-found, busy,
    os-error, internal-error. `argument` names the offending argument when there is one.
    """

    def __init__(self, code: str, message: str, *, argument: str | None = None,
                 errno_code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.argument = argument
        self.errno_code = errno_code


@dataclass(frozen=True)
class Limits:
    """What a coordinator allows this agent to do (already clamped to the hard caps)."""

    max_count: int = 0
    max_rate: float = 0.0
    max_ttl: int = 1
    groups: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        return {"max_count": self.max_count, "max_rate": self.max_rate, "max_ttl": self.max_ttl,
                "groups": sorted(self.groups)}


def hard_caps() -> dict[str, Any]:
    """The caps an agent announces in its hello, so a coordinator knows them up front."""
    return {"max_count": CAP_COUNT, "max_rate": CAP_RATE, "max_total_rate": CAP_TOTAL_RATE,
            "max_duration_s": CAP_DURATION_S, "max_targets": CAP_TARGETS, "max_jobs": CAP_JOBS,
            "max_sockets": CAP_SOCKETS, "max_size": CAP_SIZE}


@dataclass(frozen=True)
class Command:
    """One validated command: its id (echoed in the reply), name and checked arguments."""

    id: int | str | None
    name: str
    args: dict[str, Any]


# ---- encoding -------------------------------------------------------------------------------

def encode(message: dict[str, Any]) -> bytes:
    """One line of the protocol (ASCII JSON: no byte of any string can reach a terminal raw)."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii") + b"\n"


def decode_line(raw: bytes) -> dict[str, Any]:
    """The JSON object on one line; ProtocolError("bad-line") for anything else. Never raises
    anything but ProtocolError."""
    if len(raw) > MAX_LINE_BYTES:
        raise ProtocolError("bad-line", f"line is {len(raw)} bytes, more than {MAX_LINE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError("bad-line", f"line is not UTF-8 (byte {e.start})") from None
    text = text.strip()
    if not text:
        raise ProtocolError("bad-line", "empty line")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ProtocolError("bad-line", f"line is not JSON: {str(e)[:120]}") from None
    if not isinstance(value, dict):
        raise ProtocolError("bad-line", f"line is JSON but not an object (a {_kind(value)})")
    return value


def _kind(value: object) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def ok_reply(cmd: Command, **fields: Any) -> dict[str, Any]:
    return {"type": "ok", "id": cmd.id, "cmd": cmd.name, **fields}


def error_reply(err: ProtocolError, *, id: int | str | None = None,
                cmd: str | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"type": "error", "id": id, "cmd": cmd, "code": err.code,
                             "message": err.message}
    if err.argument is not None:
        reply["argument"] = err.argument
    if err.errno_code is not None:
        reply["errno"] = err.errno_code
    return reply


# ---- argument checks ------------------------------------------------------------------------

Check = Callable[[str, Any], Any]


def _bad(name: str, message: str) -> ProtocolError:
    return ProtocolError("bad-argument", f"{name}: {message}", argument=name)


def int_arg(lo: int, hi: int) -> Check:
    def check(name: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _bad(name, f"expected an integer, got a {_kind(value)}")
        if not lo <= value <= hi:
            raise _bad(name, f"{value} is out of range {lo}..{hi}")
        return value
    return check


def number_arg(lo: float, hi: float) -> Check:
    def check(name: str, value: Any) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _bad(name, f"expected a number, got a {_kind(value)}")
        if not lo <= value <= hi:
            raise _bad(name, f"{value} is out of range {lo:g}..{hi:g}")
        return float(value)
    return check


def _ip(name: str, value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if not isinstance(value, str) or len(value) > 64:
        raise _bad(name, "expected an IP address literal")
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        raise _bad(name, f"{value!r} is not an IP address literal (names are not looked up)") from None


def group_arg(name: str, value: Any) -> str:
    ip = _ip(name, value)
    if not ip.is_multicast:
        raise _bad(name, f"{value} is not a multicast group")
    return str(ip)


def address_arg(name: str, value: Any) -> str:
    """A destination: a multicast group or a unicast host address, never unspecified."""
    ip = _ip(name, value)
    if ip.is_unspecified or (ip.version == 4 and int(ip) == U32):
        raise _bad(name, f"{value} is not a destination")
    return str(value)


def bind_address_arg(name: str, value: Any) -> str:
    _ip(name, value)
    return str(value)


def family_arg(name: str, value: Any) -> str:
    if value not in ("udp4", "udp6"):
        raise _bad(name, "expected \"udp4\" or \"udp6\"")
    return str(value)


def interface_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(name, f"expected a string, got a {_kind(value)}")
    try:
        return parse_interface_spec(value, what=name)
    except AddressError as e:
        raise _bad(name, e.detail) from None


def limits_arg(name: str, value: Any) -> Limits:
    """The coordinator's limits, clamped to the hard caps (never raised above them)."""
    if not isinstance(value, dict):
        raise _bad(name, f"expected an object, got a {_kind(value)}")
    known = {"max_count", "max_rate", "max_ttl", "groups"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise _bad(f"{name}.{unknown[0]}", "unknown limit")
    count = int_arg(0, 2**63)(f"{name}.max_count", value.get("max_count", 0))
    rate = number_arg(0, 1e12)(f"{name}.max_rate", value.get("max_rate", 0))
    ttl = int_arg(0, 255)(f"{name}.max_ttl", value.get("max_ttl", 1))
    raw_groups = value.get("groups", [])
    if not isinstance(raw_groups, list) or len(raw_groups) > CAP_GROUPS:
        raise _bad(f"{name}.groups", f"expected a list of at most {CAP_GROUPS} groups")
    groups = frozenset(group_arg(f"{name}.groups", g) for g in raw_groups)
    return Limits(min(count, CAP_COUNT), min(rate, CAP_RATE), ttl, groups)


def targets_arg(name: str, value: Any) -> list[dict[str, Any]]:
    """A list of {"to": ADDRESS, "port"?: PORT, "stream": U32}; the port is filled in later."""
    if not isinstance(value, list) or not value:
        raise _bad(name, "expected a non-empty list of targets")
    if len(value) > CAP_TARGETS:
        raise ProtocolError("limit", f"{name}: {len(value)} targets, more than {CAP_TARGETS}",
                            argument=name)
    out = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            raise _bad(where, f"expected an object, got a {_kind(item)}")
        unknown = sorted(set(item) - {"to", "port", "stream"})
        if unknown:
            raise _bad(f"{where}.{unknown[0]}", "unknown argument")
        if "to" not in item or "stream" not in item:
            raise _bad(where, "needs \"to\" and \"stream\"")
        port = item.get("port")
        out.append({
            "to": address_arg(f"{where}.to", item["to"]),
            "port": None if port is None else int_arg(1, 65535)(f"{where}.port", port),
            "stream": int_arg(0, U32)(f"{where}.stream", item["stream"]),
        })
    return out


_SOCKET = int_arg(1, 2**31)
# command -> {argument: (check, required)}
SCHEMA: dict[str, dict[str, tuple[Check, bool]]] = {
    "hello": {"protocol": (int_arg(0, 2**31), True), "limits": (limits_arg, False)},
    "open": {"port": (int_arg(0, 65535), True), "family": (family_arg, False),
             "address": (bind_address_arg, False)},
    "join": {"socket": (_SOCKET, True), "group": (group_arg, True),
             "interface": (interface_arg, False)},
    "leave": {"socket": (_SOCKET, True), "group": (group_arg, True),
              "interface": (interface_arg, False)},
    "send": {"socket": (_SOCKET, True), "targets": (targets_arg, True),
             "count": (int_arg(1, CAP_COUNT), True), "rate": (number_arg(MIN_RATE, CAP_RATE), True),
             "ttl": (int_arg(0, 255), False), "size": (int_arg(HEADER_SIZE, CAP_SIZE), False)},
    "cancel": {"job": (int_arg(1, 2**31), False)},
    "report": {},
    "ping": {},
    "close": {"socket": (_SOCKET, True)},
    "bye": {},
}


def parse_command(message: dict[str, Any]) -> Command:
    """Check one decoded line against the schema. Raises ProtocolError (whose reply should carry
    `message_id(message)` and `message.get("cmd")` when they are usable)."""
    cid = message_id(message)
    if "id" in message and cid is None and message["id"] is not None:
        raise _bad("id", "expected an integer or a short string")
    name = message.get("cmd")
    if not isinstance(name, str):
        raise ProtocolError("bad-command", "a command needs \"cmd\": a string naming it "
                            f"(one of {', '.join(COMMANDS)})", argument="cmd")
    schema = SCHEMA.get(name)
    if schema is None:
        shown = name if len(name) <= 40 and name.isprintable() else repr(name[:40])
        raise ProtocolError("unknown-command",
                            f"unknown command {shown!r}; known: {', '.join(COMMANDS)}",
                            argument="cmd")
    args: dict[str, Any] = {}
    for key, value in message.items():
        if key in ("id", "cmd"):
            continue
        spec = schema.get(key)
        if spec is None:
            raise _bad(key if len(key) <= 40 else key[:40], f"unknown argument for {name}")
        args[key] = spec[0](key, value)
    for key, (_check, required) in schema.items():
        if required and key not in args:
            raise _bad(key, f"missing (required by {name})")
    return Command(cid, name, args)


def message_id(message: dict[str, Any]) -> int | str | None:
    """The command's id if it is one we can echo (an integer or a string of <= 64 chars)."""
    cid = message.get("id")
    if isinstance(cid, bool):
        return None
    if isinstance(cid, int) and -(2**63) <= cid < 2**63:
        return cid
    if isinstance(cid, str) and len(cid) <= 64:
        return cid
    return None
