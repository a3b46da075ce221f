"""The workspace file: read with `tomllib`, checked key by key, written with `tomli-w`.

Schema (everything but ``[[socket]]`` / ``[[payload]]`` and their keys is an error, so a typo
is caught instead of silently ignored):

    [[socket]]
    type = "udp4"                 # or "udp6"; default: the family of bind / the groups
    bind = "127.0.0.1:5000"       # [ADDR:]PORT, port 0 = random; absent: not bound
    ttl = 5                       # optional: ttl 1-255, multicast_ttl 0-255,
    multicast_ttl = 1             #   multicast_loopback, broadcast (booleans)
    join = ["239.1.2.3@eth0", "232.1.1.1@eth0 from 10.0.0.1"]
    respond = ["text:ping=>text:pong"]
    respond_limit = 1000          # replies per second

    [[payload]]
    name = "hello"
    to = "127.0.0.1:5000"         # optional
    text = "hello"                # exactly one of text, hex, file (relative to the workspace)

`tomllib` gives no positions for keys, so a key's line is found by scanning the source for the
n-th ``[[table]]`` header and the key below it (the layout every TOML writer produces; anything
else falls back to the table's line). One message, ``FILE:LINE: KEY: what is wrong``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from udpscope.addresses import (
    AddressError,
    family_of,
    parse_bind_spec,
    parse_group_spec,
    parse_host_port,
    parse_ip,
)
from udpscope.payload import MAX_UDP6, PayloadError, parse_payload, read_payload_file
from udpscope.respond import DEFAULT_LIMIT, MAX_LIMIT, RuleError, parse_rule
from udpscope.textsafe import safe_text

__all__ = ["JoinSpec", "PayloadSpec", "SocketSpec", "Workspace", "WorkspaceError",
           "dump_workspace", "load_workspace", "parse_workspace", "save_workspace"]

MAX_FILE = 4 * 1024 * 1024  # a workspace is a few kB; anything huge is not one
SOCKET_KEYS = ("type", "bind", "ttl", "multicast_ttl", "multicast_loopback", "broadcast", "join",
               "respond", "respond_limit")
PAYLOAD_KEYS = ("name", "to", "text", "hex", "file")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


class WorkspaceError(ValueError):
    """A workspace that cannot be used. ``str`` is ``FILE:LINE: KEY: detail`` (sanitised)."""

    def __init__(self, path: str, line: int | None, key: str | None, detail: str) -> None:
        self.path, self.line, self.key, self.detail = path, line, key, detail
        where = safe_text(path, limit=200) + (f":{line}" if line else "")
        text = f"{where}: {safe_text(key, limit=80)}: {detail}" if key else f"{where}: {detail}"
        super().__init__(text)


@dataclass(frozen=True)
class JoinSpec:
    """A group to join: ``GROUP[@IFACE]`` or ``GROUP@IFACE from SOURCE``."""

    group: str
    interface: str | None = None
    source: str | None = None

    def text(self) -> str:
        out = self.group + (f"@{self.interface}" if self.interface else "")
        return out + (f" from {self.source}" if self.source else "")


@dataclass
class SocketSpec:
    """One socket of a workspace. Options left None keep the kernel's defaults."""

    type: str = "udp4"
    bind: tuple[str | None, int] | None = None
    ttl: int | None = None
    multicast_ttl: int | None = None
    multicast_loopback: bool | None = None
    broadcast: bool | None = None
    joins: list[JoinSpec] = field(default_factory=list)
    respond: list[str] = field(default_factory=list)
    respond_limit: int = DEFAULT_LIMIT


@dataclass
class PayloadSpec:
    """A saved payload: ``kind`` is "text", "hex" or "file"; ``data`` the bytes it stands for."""

    name: str
    kind: str
    value: str
    data: bytes
    to: tuple[str, int] | None = None
    file: str | None = None  # kind "file": the absolute path it was read from


@dataclass
class Workspace:
    sockets: list[SocketSpec] = field(default_factory=list)
    payloads: list[PayloadSpec] = field(default_factory=list)
    path: str | None = None


# ---- reading -------------------------------------------------------------------------------


class _Locator:
    """Line numbers for keys, found in the source text (see the module docstring)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _header(self, table: str, index: int) -> int | None:
        pattern = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]")
        seen = -1
        for n, line in enumerate(self.lines):
            if pattern.match(line):
                seen += 1
                if seen == index:
                    return n
        return None

    def line(self, table: str | None, index: int, key: str | None) -> int | None:
        start = 0
        if table is not None:
            header = self._header(table, index)
            if header is None:
                return self._anywhere(key)
            start = header
        if key is None:
            return start + 1
        key_re = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
        for n in range(start + (table is not None), len(self.lines)):
            line = self.lines[n]
            if table is not None and line.lstrip().startswith("["):
                break
            if key_re.match(line):
                return n + 1
        return start + 1 if table is not None else self._anywhere(key)

    def _anywhere(self, key: str | None) -> int | None:
        if key is None:
            return None
        key_re = re.compile(rf"^\s*(?:{re.escape(key)}\s*=|\[+\s*{re.escape(key)}\s*\]+)")
        return next((n + 1 for n, line in enumerate(self.lines) if key_re.match(line)), None)


class _Checker:
    def __init__(self, path: str, text: str, base: Path) -> None:
        self.path = path
        self.locate = _Locator(text)
        self.base = base

    def fail(self, table: str | None, index: int, key: str | None, detail: str) -> WorkspaceError:
        name = key
        if table is not None:
            name = f"{table}[{index + 1}]" + (f".{key}" if key else "")
        return WorkspaceError(self.path, self.locate.line(table, index, key), name, detail)

    def _get(self, item: dict[str, Any], table: str, index: int, key: str, kinds: tuple[type, ...],
             what: str) -> Any:
        value = item.get(key)
        if value is None:
            return None
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise self.fail(table, index, key, f"must be {what}, not {_toml_type(value)}")
        return value

    def _int(self, item: dict[str, Any], index: int, key: str, lo: int, hi: int) -> int | None:
        value = self._get(item, "socket", index, key, (int,), "an integer")
        if value is not None and not lo <= value <= hi:
            raise self.fail("socket", index, key, f"{value} is out of range ({lo}-{hi})")
        return value

    def socket(self, item: Any, index: int) -> SocketSpec:
        if not isinstance(item, dict):
            raise self.fail(None, index, "socket", "must be a table ([[socket]])")
        _unknown(self, item, "socket", index, SOCKET_KEYS)
        spec = SocketSpec()
        bind = self._get(item, "socket", index, "bind", (str, int), 'text like "127.0.0.1:5000"')
        if bind is not None:
            try:
                spec.bind = parse_bind_spec(str(bind))
            except AddressError as e:
                raise self.fail("socket", index, "bind", e.detail) from None
        groups: list[JoinSpec] = []
        for n, text in enumerate(self._list(item, index, "join")):
            groups.append(self._join(text, index, n))
        kind = self._get(item, "socket", index, "type", (str,), '"udp4" or "udp6"')
        if kind is not None and kind not in ("udp4", "udp6"):
            raise self.fail("socket", index, "type", f'"{safe_text(kind, limit=20)}" is not "udp4" or "udp6"')
        bind_family = family_of(spec.bind[0]) if spec.bind and spec.bind[0] else None
        spec.type = kind or bind_family or (family_of(groups[0].group) if groups else None) or "udp4"
        if bind_family and bind_family != spec.type:
            raise self.fail("socket", index, "bind", f"{spec.bind[0] if spec.bind else ''} is not "
                            f"an {_fam(spec.type)} address (type is {spec.type})")
        for n, join in enumerate(groups):
            if family_of(join.group) != spec.type:
                raise self.fail("socket", index, "join", f"entry {n + 1}: {join.group} is not an "
                                f"{_fam(spec.type)} group (type is {spec.type})")
        spec.joins = groups
        spec.ttl = self._int(item, index, "ttl", 1, 255)
        spec.multicast_ttl = self._int(item, index, "multicast_ttl", 0, 255)
        spec.multicast_loopback = self._get(item, "socket", index, "multicast_loopback", (bool,),
                                            "true or false")
        spec.broadcast = self._get(item, "socket", index, "broadcast", (bool,), "true or false")
        for n, rule in enumerate(self._list(item, index, "respond")):
            try:
                parse_rule(rule)
            except RuleError as e:
                raise self.fail("socket", index, "respond", f"entry {n + 1}: {e}") from None
            spec.respond.append(rule)
        limit = self._int(item, index, "respond_limit", 1, MAX_LIMIT)
        spec.respond_limit = DEFAULT_LIMIT if limit is None else limit
        if spec.bind is None:
            for key in ("ttl", "multicast_ttl", "multicast_loopback", "broadcast", "join", "respond"):
                if item.get(key) not in (None, []):
                    raise self.fail("socket", index, key, "needs bind: options, joins and "
                                    "responders apply to a bound socket")
        return spec

    def _list(self, item: dict[str, Any], index: int, key: str) -> list[str]:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("socket", index, key, "must be a list of strings")
        return value

    def _join(self, text: str, index: int, n: int) -> JoinSpec:
        spec, sep, source = text.partition(" from ")
        try:
            group, iface = parse_group_spec(spec.strip())
            src = parse_ip(source.strip(), what="source") if sep else None
        except AddressError as e:
            raise self.fail("socket", index, "join", f"entry {n + 1}: {e}") from None
        if src is not None and family_of(src) != family_of(group):
            raise self.fail("socket", index, "join", f"entry {n + 1}: source {src} and group "
                            f"{group} are of different families")
        return JoinSpec(group, iface, src)

    def payload(self, item: Any, index: int) -> PayloadSpec:
        if not isinstance(item, dict):
            raise self.fail(None, index, "payload", "must be a table ([[payload]])")
        _unknown(self, item, "payload", index, PAYLOAD_KEYS)
        name = self._get(item, "payload", index, "name", (str,), "text")
        if not name:
            raise self.fail("payload", index, "name" if "name" in item else None,
                            "needs a name (name = \"...\")")
        to = self._get(item, "payload", index, "to", (str,), 'text like "127.0.0.1:5000"')
        destination = None
        if to is not None:
            try:
                destination = parse_host_port(to)
            except AddressError as e:
                raise self.fail("payload", index, "to", e.detail) from None
        given = [k for k in ("text", "hex", "file") if k in item]
        if len(given) != 1:
            key = given[1] if len(given) > 1 else None
            raise self.fail("payload", index, key, "needs exactly one of text, hex or file"
                            + (f" (has {', '.join(given)})" if given else ""))
        kind = given[0]
        value = self._get(item, "payload", index, kind, (str,), "text")
        try:
            source = None
            if kind == "file":
                path = Path(value).expanduser()
                source = str((path if path.is_absolute() else self.base / path).absolute())
                data = read_payload_file(source, MAX_UDP6)
            else:
                data = parse_payload(value, kind, max_size=MAX_UDP6)
        except PayloadError as e:
            raise self.fail("payload", index, kind, e.detail) from None
        return PayloadSpec(name, kind, value, data, destination, source)


def _fam(kind: str) -> str:
    return "IPv4" if kind == "udp4" else "IPv6"


def _unknown(checker: _Checker, item: dict[str, Any], table: str, index: int,
             known: tuple[str, ...]) -> None:
    for key in item:
        if key not in known:
            raise checker.fail(table, index, key, f"unknown key (known: {', '.join(known)})")


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def parse_workspace(text: str, path: str = "<workspace>", base: Path | None = None) -> Workspace:
    """Parse and validate workspace source ``text``; ``base`` resolves payload files.

    Raises WorkspaceError naming ``path``, the line and the key of the first problem.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        found = _TOML_POSITION.search(message)
        line = int(found.group(1)) if found and found.group(1) else None
        detail = _TOML_POSITION.sub("", message).strip()
        key = None
        lines = text.splitlines()
        if line is not None and 0 < line <= len(lines):
            key = lines[line - 1].partition("=")[0].strip() or None
        raise WorkspaceError(path, line, key, f"not valid TOML: {detail}") from None
    checker = _Checker(path, text, base or Path("."))
    for key in data:
        if key not in ("socket", "payload"):
            raise checker.fail(None, 0, key, "unknown key (a workspace has [[socket]] and [[payload]])")
    workspace = Workspace(path=path)
    for name in ("socket", "payload"):
        if not isinstance(data.get(name, []), list):
            raise checker.fail(None, 0, name, f"must be an array of tables ([[{name}]])")
    workspace.sockets = [checker.socket(item, n) for n, item in enumerate(data.get("socket", []))]
    workspace.payloads = [checker.payload(item, n) for n, item in enumerate(data.get("payload", []))]
    return workspace


def load_workspace(path: str | os.PathLike[str]) -> Workspace:
    """Read and validate a workspace file. Raises WorkspaceError (never OSError)."""
    shown = os.fspath(path)
    try:
        data = read_payload_file(path, MAX_FILE)
    except PayloadError as e:
        raise WorkspaceError(shown, None, None, e.detail) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise WorkspaceError(shown, line, None, "not UTF-8 text") from None
    return parse_workspace(text, shown, Path(shown).parent)


# ---- writing -------------------------------------------------------------------------------


def _bind_text(bind: tuple[str | None, int]) -> str:
    address, port = bind
    if address is None:
        return str(port)
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def to_toml_data(workspace: Workspace, directory: Path | None = None) -> dict[str, Any]:
    """The workspace as plain TOML data (what `dump_workspace` writes); payload files are
    written relative to ``directory`` (where the file will be) when they were read from disk."""
    sockets = []
    for s in workspace.sockets:
        item: dict[str, Any] = {"type": s.type}
        if s.bind is not None:
            item["bind"] = _bind_text(s.bind)
        for key in ("ttl", "multicast_ttl", "multicast_loopback", "broadcast"):
            if getattr(s, key) is not None:
                item[key] = getattr(s, key)
        if s.joins:
            item["join"] = [j.text() for j in s.joins]
        if s.respond:
            item["respond"] = list(s.respond)
            if s.respond_limit != DEFAULT_LIMIT:
                item["respond_limit"] = s.respond_limit
        sockets.append(item)
    payloads = []
    for p in workspace.payloads:
        entry: dict[str, Any] = {"name": p.name}
        if p.to is not None:
            entry["to"] = _bind_text(p.to)
        value = p.value
        if p.kind == "file" and p.file is not None and directory is not None:
            value = os.path.relpath(p.file, directory.absolute())
        entry[p.kind] = value
        payloads.append(entry)
    data: dict[str, Any] = {}
    if sockets:
        data["socket"] = sockets
    if payloads:
        data["payload"] = payloads
    return data


def dump_workspace(workspace: Workspace, directory: Path | None = None) -> str:
    """The workspace as TOML text (`parse_workspace` reads it back to an equal workspace)."""
    import tomli_w

    return "# udpscope workspace\n" + tomli_w.dumps(to_toml_data(workspace, directory))


def save_workspace(workspace: Workspace, path: str | os.PathLike[str]) -> None:
    """Write atomically (a temporary file renamed over ``path``). Raises OSError."""
    target = Path(path)
    text = dump_workspace(workspace, target.parent)
    fd, tmp = tempfile.mkstemp(prefix=".udpscope-", suffix=".toml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
