"""WS-Discovery (SOAP-over-UDP, port 3702): what Windows network discovery and ONVIF cameras say.

Read with the standard library's expat, event by event, because it reports each element's byte
offset (so fields keep their ranges) and because a datagram is untrusted XML: any DOCTYPE or
entity declaration stops the parse before expansion can start (no entity bombs, no external
entities), which is all `defusedxml` would add for this use.
"""

from __future__ import annotations

import xml.parsers.expat

from .model import DecodeError, Tree

__all__ = ["decode_wsd", "looks_like_wsd"]

_NAMESPACES = (b"schemas.xmlsoap.org/ws/2005/04/discovery",
               b"docs.oasis-open.org/ws-dd/ns/discovery")
# Elements worth a field of their own (local names); everything else is only walked.
_KEPT = {"To", "Action", "MessageID", "RelatesTo", "Address", "Types", "Scopes", "XAddrs",
         "MetadataVersion", "AppSequence"}
MAX_FIELDS = 64


def looks_like_wsd(data: bytes) -> bool:
    head = data[:2048]
    return head.lstrip().startswith(b"<") and any(ns in head for ns in _NAMESPACES)


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> int:
    raise _Refused("DTD or entity declarations are not allowed")


def decode_wsd(data: bytes, tree: Tree) -> None:
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    stack: list[tuple[str, int, list[str]]] = []
    found: dict[str, str] = {}
    body_first: list[str] = []
    depth_of_body = [-1]
    fields = [0]

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if depth_of_body[0] >= 0 and len(stack) == depth_of_body[0] + 1 and not body_first:
            body_first.append(local)
        if local == "Body":
            depth_of_body[0] = len(stack)
        if local == "AppSequence" and fields[0] < MAX_FIELDS:
            seq = " ".join(f"{k.rsplit(' ', 1)[-1]}={v}" for k, v in attrs.items())
            found.setdefault("AppSequence", seq)
        stack.append((local, parser.CurrentByteIndex, []))

    def end(name: str) -> None:
        local, at, text = stack.pop()
        close = data.find(b">", parser.CurrentByteIndex)
        stop = len(data) if close < 0 else close + 1
        if local in _KEPT and fields[0] < MAX_FIELDS:
            value = "".join(text).strip() or found.get(local, "")
            tree.add(local, value, at, stop)
            fields[0] += 1
            found.setdefault(local, value)

    def chars(text: str) -> None:
        if stack:
            stack[-1][2].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    problem = None
    try:
        parser.Parse(data, True)
    except _Refused as e:
        problem = str(e)
    except LookupError as e:  # an encoding declaration Python does not know
        problem = f"unknown XML encoding: {e}"
    except xml.parsers.expat.ExpatError as e:
        problem = f"not well-formed XML: {xml.parsers.expat.ErrorString(e.code)} at offset " \
                  f"{parser.CurrentByteIndex}"
    action = found.get("Action", "")
    kind = action.rstrip("/").rsplit("/", 1)[-1] if action else (body_first[0] if body_first
                                                                 else "message")
    bits = [kind]
    for key in ("Types", "XAddrs", "Address"):
        if found.get(key):
            bits.append(f"{key} {found[key].split()[0]}")
    tree.summary = " ".join(bits)
    if problem:
        raise DecodeError(problem)
