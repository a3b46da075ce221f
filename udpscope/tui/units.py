"""Numbers for people: byte sizes in IEC units (KiB, MiB, GiB), counts in k / M / G.

Sizes were 1024-based but labelled kB/MB; a size now says what it is (1 KiB = 1024 bytes),
while counts of datagrams stay decimal (12k = 12,000). No Textual here.
"""

from __future__ import annotations

__all__ = ["human_count", "iec_bytes"]


def iec_bytes(n: float) -> str:
    """``n`` bytes as ``512 B``, ``1.5 KiB``, ``208 KiB``, ``4.0 MiB``, ``1.2 GiB``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{int(n)} B"


def human_count(n: int) -> str:
    """A count: exact below 10,000, then ``12k``, ``3M``, ``1G`` (decimal)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size * 10:
            return f"{n / size:.0f}{unit}"
    return str(n)
