"""Small assertions over a Decoded: find a field by name, check ranges are inside the datagram."""

from __future__ import annotations

from udpscope.decode import Decoded, Field


def field(d: Decoded, name: str) -> Field:
    """The first field called `name`, depth-first."""
    for _depth, f in d.walk():
        if f.name == name:
            return f
    raise AssertionError(f"no field {name!r} in {[f.name for _d, f in d.walk()]}")


def values(d: Decoded, name: str) -> list[str]:
    return [f.value for _depth, f in d.walk() if f.name == name]


def assert_ranges_inside(d: Decoded, size: int) -> None:
    """Every field's bytes lie inside the datagram, and children inside their parent."""
    def check(fields: tuple[Field, ...], lo: int, hi: int) -> None:
        for f in fields:
            assert lo <= f.start <= f.end <= hi, (f, lo, hi)
            check(f.children, f.start, f.end)
    check(d.fields, 0, size)
