"""Syslog over UDP (port 514): RFC 5424 and the older BSD format of RFC 3164.

Both start with `<PRI>`; RFC 5424 follows it with a version digit and space-separated header
fields, RFC 3164 with a timestamp like `Oct 11 22:14:15`, a host and a tag. Parsed by hand with
a regular expression per format; what does not match is kept as the message.
"""

from __future__ import annotations

import re

from .model import DecodeError, Tree

__all__ = ["FACILITIES", "SEVERITIES", "decode_syslog", "looks_like_syslog"]

FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
              "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
              "local3", "local4", "local5", "local6", "local7"]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
_PRI = re.compile(rb"<(\d{1,3})>")
_5424 = re.compile(rb"1 (\S+) (\S+) (\S+) (\S+) (\S+) ")
_3164 = re.compile(rb"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ")
_TAG = re.compile(rb"([^:\[\s]{1,48})(\[\d+\])?: ?")


def looks_like_syslog(data: bytes) -> bool:
    m = _PRI.match(data)
    return m is not None and int(m.group(1)) < 192 and len(data) > m.end()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def decode_syslog(data: bytes, tree: Tree) -> None:
    m = _PRI.match(data)
    if m is None:
        raise DecodeError("does not start with <PRI>")
    pri = int(m.group(1))
    if pri >= 192:
        raise DecodeError(f"priority {pri} out of range")
    facility = FACILITIES[pri >> 3]
    severity = SEVERITIES[pri & 7]
    with tree.node("Priority", pri, 0, end=m.end()):
        tree.add("Facility", facility, 1, m.end() - 1)
        tree.add("Severity", severity, 1, m.end() - 1)
    pos = m.end()
    host = app = ""
    h = _5424.match(data, pos)
    if h is not None:
        names = ("Timestamp", "Hostname", "App name", "Process id", "Message id")
        for i, name in enumerate(names):
            tree.add(name, _text(h.group(i + 1)), h.start(i + 1), h.end(i + 1))
        host, app = _text(h.group(2)), _text(h.group(3))
        pos = h.end()
        if data[pos:pos + 1] == b"[":  # structured data: up to the first "] " or "]" at end
            end = data.find(b"] ", pos)
            end = len(data) if end < 0 else end + 1
            tree.add("Structured data", _text(data[pos:end]), pos, end)
            pos = min(len(data), end + 1)
        elif data[pos:pos + 2] == b"- ":
            pos += 2
        tree.add("Format", "RFC 5424", 0, 0)
    else:
        b = _3164.match(data, pos)
        if b is not None:
            tree.add("Timestamp", _text(b.group(1)), b.start(1), b.end(1))
            tree.add("Hostname", _text(b.group(2)), b.start(2), b.end(2))
            host = _text(b.group(2))
            pos = b.end()
        t = _TAG.match(data, pos)
        if t is not None:
            tree.add("Tag", _text(t.group(1)), t.start(1), t.end(1))
            if t.group(2):
                tree.add("Process id", _text(t.group(2)[1:-1]), t.start(2), t.end(2))
            app = _text(t.group(1))
            pos = t.end()
        tree.add("Format", "RFC 3164" if b is not None else "unstructured", 0, 0)
    message = data[pos:]
    if message.startswith(b"\xef\xbb\xbf"):  # RFC 5424's UTF-8 BOM before MSG
        message = message[3:]
    tree.add("Message", _text(message.rstrip(b"\r\n\x00")), pos, len(data))
    who = " ".join(x for x in (host, f"{app}:" if app else "") if x and x != "-")
    tree.summary = " ".join(x for x in (f"{facility}.{severity}", who,
                                        _text(message.strip()[:200])) if x)
