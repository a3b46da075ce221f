"""Counts and byte sizes for people: shown short (``12k``, ``3.4 MiB``) and read back from flags.

Byte sizes are 1024-based and say so with IEC names (KiB, MiB, GiB): a "MB" that means 2**20 is
how memory budgets get misread. When reading a size a person typed, the IEC names and the
one-letter shorthands (K, M, G, as in `ulimit` and container limits) are 1024-based, and the SI
names (kB, MB, GB) are 1000-based, as their standards define them.
"""

from __future__ import annotations

import re

from udpscope.textsafe import safe_text

__all__ = ["SizeError", "human_bytes", "human_count", "parse_size"]

_IEC = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))
_UNITS = {
    "": 1, "b": 1,
    "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
    "t": 1 << 40, "tib": 1 << 40,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*")


class SizeError(ValueError):
    """A size that cannot be read; the message says why and how to write one."""


def human_count(n: float) -> str:
    """``950``, ``12k``, ``3M``: a count in at most four characters or so (1000-based)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size * 10:
            return f"{n / size:.0f}{unit}"
    return str(int(n))


def human_bytes(n: float) -> str:
    """``512B``, ``1.5KiB``, ``3.4MiB``, ``2.0GiB``: a byte count (or rate) with an IEC unit."""
    for unit, size in _IEC:
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}B"


def parse_size(text: str) -> int:
    """Bytes in a size like ``256MiB``, ``1G``, ``64 KiB``, ``500MB`` or ``1048576``.

    K/KiB, M/MiB, G/GiB, T/TiB are 1024-based, kB, MB, GB, TB 1000-based, case ignored.
    Raises SizeError for anything else (negative, no number, unknown unit); its message
    quotes the text made safe to print.
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise SizeError(f"'{safe_text(text, limit=40)}' is not a size (e.g. 256MiB, 1GiB, 512M)")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise SizeError(f"unknown unit '{unit[:12]}' (use B, KiB, MiB, GiB or kB, MB, GB)")
    return int(float(number) * factor)
