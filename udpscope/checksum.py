"""The Internet checksum (RFC 1071): ones'-complement sums of 16-bit big-endian words.

Shared by the capture-file writer (IPv4 header and UDP checksums it builds) and the IGMP/MLD
reader (which verifies them). The sum runs in C (`array.sum`), not a Python loop per word.
"""

from __future__ import annotations

import sys
from array import array

__all__ = ["fold", "internet_checksum", "ones_sum"]

_BIG = sys.byteorder == "big"


def fold(total: int) -> int:
    """`total` folded into 16 bits (end-around carry)."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ones_sum(data: bytes) -> int:
    """The unfolded sum of `data`'s 16-bit big-endian words (an odd length is padded with 0)."""
    if len(data) % 2:
        data += b"\0"
    words = array("H", data)
    if not _BIG:
        words.byteswap()
    return sum(words)


def internet_checksum(data: bytes) -> int:
    """The checksum to put in a header over `data` (whose checksum field is zero)."""
    return ~fold(ones_sum(data)) & 0xFFFF
