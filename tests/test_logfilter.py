"""The log filter judges a whole received chunk exactly as it would judge each of its records."""

from __future__ import annotations

import pytest

from tests.batches import fake_batch
from udpscope.logfilter import FilterError, LogFilter, parse_filter
from udpscope.records import Record
from udpscope.ring import RxChunk

PAYLOADS = [b"hello 1", b"\x00\xffbinary", b"", b"hello world", b"HELLO", b"caf\xc3\xa9 hi"]


def _chunk(sock_id: int = 2, lo: int = 1) -> RxChunk:
    n = len(PAYLOADS)
    batch = fake_batch(PAYLOADS, sources=[f"127.0.0.{i % 3}" if i % 2 else "::1" for i in range(n)],
                       ports=[5000 + i for i in range(n)])
    return RxChunk(100, 1.0, sock_id, batch, lo, n - lo)


@pytest.mark.parametrize("text", [
    "#2", "#3", "dir:rx", "dir:tx", "dir:ev", "hello", "text:hello hex:776f", "hex:00ff",
    "peer:127.0.0.1", "peer:5003", "#2 hello peer:127.0", "dir:rx #2", "sock:2 text:caf\u00e9",
    "HELLO", "zzz",
])
def test_chunk_selection_equals_record_by_record(text: str) -> None:
    flt = parse_filter(text)
    assert isinstance(flt, LogFilter)
    chunk = _chunk()
    records = [chunk.record(j) for j in range(chunk.n)]
    expected = [r for r in records if flt(r)]
    picked = flt.select(chunk)
    got = [picked.record(j) for j in range(picked.n)] if isinstance(picked, RxChunk) else picked
    assert got == expected
    if expected == records:
        assert picked is chunk  # passes whole: shared, nothing built


def test_filter_terms_on_other_records_and_errors() -> None:
    event = Record(1, 0.0, "event", 2, event="listening", text="127.0.0.1:5")
    sent = Record(2, 0.0, "tx", 2, address="127.0.0.1", port=9, size=2, payload=b"hi")
    assert parse_filter("dir:ev")(event) and not parse_filter("dir:ev")(sent)
    assert parse_filter("#2 hi peer:127.0.0.1:9")(sent)
    assert not parse_filter("#1")(sent)
    assert parse_filter("   ") is None
    for bad, words in [("sock:x", "socket must be a number"), ("dir:up", "direction"),
                       ("hex:zz", "not hex"), ("bogus:1", "unknown filter"), ("peer:", "nothing")]:
        with pytest.raises(FilterError, match=words):
            parse_filter(bad)
