"""What a decoder returns, and the two helpers every decoder reads with.

A decode is for people: a protocol name, one line that says what the datagram is, and a tree of
fields, each knowing which bytes it came from (so a detail view can highlight them beside the
hex dump). Datagrams are untrusted and often broken, so a decoder never raises on bad input:
it reads through a bounds-checked `Reader`, adds fields to a `Tree` as it goes, and when the
bytes run out or make no sense it raises `DecodeError`, which the registry turns into a
*partial* decode that keeps every field read so far.

All text here is raw (it may hold any character a datagram carried): views sanitise it
(udpscope.textsafe) before showing it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

__all__ = ["Decoded", "DecodeError", "Field", "Reader", "Tree", "Truncated"]


@dataclass(frozen=True, slots=True)
class Field:
    """One decoded field: `name`, its value as text, the bytes [start, end) it came from and
    any sub-fields. `end == start` for a field with no bytes of its own (a note)."""

    name: str
    value: str
    start: int
    end: int
    children: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded datagram.

    `proto` is one of the registry's names (``dns``, ``rtp``, …, ``data``); `summary` one line
    (raw text) that already says when the decode is partial; `partial` is True when the bytes
    ended early or contradicted the protocol, and `problem` says how.
    """

    proto: str
    summary: str
    fields: tuple[Field, ...] = ()
    partial: bool = False
    problem: str | None = None

    def walk(self) -> Iterator[tuple[int, Field]]:
        """Every field depth-first as (depth, field), the order a tree view lists them."""
        stack: list[tuple[int, Field]] = [(0, f) for f in reversed(self.fields)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))

    def fields_at(self, offset: int) -> list[Field]:
        """The fields covering byte `offset`, outermost first (for "which field is this byte")."""
        path: list[Field] = []
        level = self.fields
        while True:
            hit = next((f for f in level if f.start <= offset < f.end), None)
            if hit is None:
                return path
            path.append(hit)
            level = hit.children


class DecodeError(Exception):
    """The bytes stop making sense as this protocol; the message says where and why."""


class Truncated(DecodeError):
    """The datagram ended before a field it announced."""


_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")


class Reader:
    """A cursor over a datagram whose reads raise `Truncated` (naming the field) when short."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else min(end, len(data))

    def remaining(self) -> int:
        return self.end - self.pos

    def need(self, n: int, what: str) -> int:
        """Check that `n` more bytes exist; return the current offset. Raises Truncated."""
        if n < 0 or self.pos + n > self.end:
            raise Truncated(f"truncated {what}: needs {n} bytes at offset {self.pos}, "
                            f"{max(0, self.end - self.pos)} left")
        return self.pos

    def take(self, n: int, what: str) -> bytes:
        at = self.need(n, what)
        self.pos = at + n
        return self.data[at:at + n]

    def u8(self, what: str) -> int:
        at = self.need(1, what)
        self.pos = at + 1
        return self.data[at]

    def u16(self, what: str) -> int:
        at = self.need(2, what)
        self.pos = at + 2
        return int(_U16.unpack_from(self.data, at)[0])

    def u32(self, what: str) -> int:
        at = self.need(4, what)
        self.pos = at + 4
        return int(_U32.unpack_from(self.data, at)[0])

    def u64(self, what: str) -> int:
        at = self.need(8, what)
        self.pos = at + 8
        return int(_U64.unpack_from(self.data, at)[0])

    def uint(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "big")


class _Node:
    __slots__ = ("name", "value", "start", "children")

    def __init__(self, name: str, value: str, start: int) -> None:
        self.name = name
        self.value = value
        self.start = start
        self.children: list[Field] = []


class Tree:
    """Collects a decoder's fields and summary as it reads.

    `add` appends a field at the current nesting level; `node` opens a field whose children are
    added inside a ``with`` block and which is kept even when the block raises (so a partial
    decode still shows the half-read record, with the bytes it covered).
    """

    def __init__(self, proto: str) -> None:
        self.proto = proto
        self.summary = ""
        self._stack: list[_Node] = [_Node("", "", 0)]

    def add(self, name: str, value: object, start: int, end: int) -> None:
        """Add a leaf field covering bytes [start, end)."""
        self._stack[-1].children.append(Field(name, str(value), start, max(start, end)))

    def node(self, name: str, value: object, start: int, reader: Reader | None = None,
             end: int | None = None) -> _Scope:
        """A field with children: ``with tree.node(...) as scope:`` adds children to it.

        Its byte range ends at `end`, or where `reader` stands when the block is left, or at
        the last child's end. ``scope.value`` can be updated inside the block.
        """
        return _Scope(self, _Node(name, str(value), start), reader, end)

    def result(self, problem: str | None = None) -> Decoded:
        """The Decoded so far; with `problem`, a partial one whose summary says so."""
        root = self._stack[0]
        summary = self.summary or self.proto
        if problem is not None:
            summary = f"{summary} [malformed: {problem}]"
        return Decoded(self.proto, summary, tuple(root.children), problem is not None, problem)


class _Scope:
    __slots__ = ("_tree", "_node", "_reader", "_end")

    def __init__(self, tree: Tree, node: _Node, reader: Reader | None, end: int | None) -> None:
        self._tree = tree
        self._node = node
        self._reader = reader
        self._end = end

    @property
    def value(self) -> str:
        return self._node.value

    @value.setter
    def value(self, text: object) -> None:
        self._node.value = str(text)

    def __enter__(self) -> _Scope:
        self._tree._stack.append(self._node)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        node = self._tree._stack.pop()
        end = self._end
        if end is None and self._reader is not None:
            end = self._reader.pos
        if end is None:
            end = max((c.end for c in node.children), default=node.start)
        self._tree._stack[-1].children.append(
            Field(node.name, node.value, node.start, max(node.start, end), tuple(node.children)))
