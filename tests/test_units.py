"""Counts and byte sizes shown to people, and sizes read from flags."""

from __future__ import annotations

import pytest

from udpscope.units import SizeError, human_bytes, human_count, parse_size


@pytest.mark.parametrize("n, shown", [
    (0, "0B"), (1023, "1023B"), (1024, "1.0KiB"), (1536, "1.5KiB"), (5 << 20, "5.0MiB"),
    (3 << 30, "3.0GiB"), (999.9, "999B"),
])
def test_human_bytes_uses_iec_units(n: float, shown: str) -> None:
    assert human_bytes(n) == shown


@pytest.mark.parametrize("n, shown", [(0, "0"), (9999, "9999"), (10_000, "10k"), (25_000_000, "25M")])
def test_human_count(n: int, shown: str) -> None:
    assert human_count(n) == shown


@pytest.mark.parametrize("text, size", [
    ("1048576", 1 << 20), ("256MiB", 256 << 20), ("256mib", 256 << 20), ("256M", 256 << 20),
    ("1G", 1 << 30), ("1.5GiB", 3 << 29), ("64 KiB", 64 << 10), ("500MB", 500_000_000),
    ("2kB", 2000), (" 7B ", 7),
])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text, says", [
    ("", "not a size"), ("-5MiB", "not a size"), ("MiB", "not a size"), ("12 parsecs", "unknown unit"),
    ("1e9", "not a size"), ("5 KB/s", "not a size"), ("\x1b[31m1G", "not a size"),
])
def test_bad_sizes_are_refused_with_a_safe_message(text: str, says: str) -> None:
    with pytest.raises(SizeError) as err:
        parse_size(text)
    assert says in str(err.value) and "\x1b" not in str(err.value)
