"""The log filter judges a whole received chunk exactly as it would judge each of its records."""

from __future__ import annotations

import pytest

from tests.batches import fake_batch
from udpscope.dgram import Batch
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


# ---- proto: terms -----------------------------------------------------------------------------

from tests.decode.test_dns_family import mdns_query, mdns_response  # noqa: E402
from tests.streams.build import rtp, ts_packet  # noqa: E402
from udpscope.logdecode import RecordDecoder  # noqa: E402

MIXED = [mdns_query(), rtp(7, payload=b"\x00" * 20), b"plain text", mdns_response(),
         ts_packet(0x100, 3), b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"]
MIXED_PORTS = [5353, 40000, 40000, 5353, 40001, 50000]


def _mixed_chunk(lo: int = 0, ports: list[int] | None = None) -> RxChunk:
    batch = fake_batch(MIXED, ports=ports or MIXED_PORTS)
    return RxChunk(500, 1.0, 3, batch, lo, len(MIXED) - lo)


class OneSenderBatch(Batch):
    """A batch from one sender that says so, as the engine's recvmmsg batches do."""

    def uniform(self):  # type: ignore[no-untyped-def]
        return self.rinfo(len(self) - 1), 64, 64


def _one_sender_chunk(port: int, lo: int = 0) -> RxChunk:
    plain = fake_batch(MIXED, port=port)
    batch = OneSenderBatch(plain.payloads, [plain.rinfo(i) for i in range(len(MIXED))])
    return RxChunk(700, 1.0, 3, batch, lo, len(MIXED) - lo)


@pytest.mark.parametrize("text", [
    "proto:mdns", "proto:rtp", "proto:mpegts", "proto:ssdp", "proto:data", "proto:mdns,rtp",
    "proto:MDNS", "proto:ntp", "proto:mdns proto:rtp", "proto:rtp #3", "proto:data text:plain",
    "proto:mdns peer:5353",
])
def test_proto_terms_judge_a_chunk_as_each_record(text: str) -> None:
    decoder = RecordDecoder(lambda sid: 5353 if sid == 3 else None)
    flt = parse_filter(text, decoder)
    assert isinstance(flt, LogFilter)
    for lo in (0, 2):
        chunk = _mixed_chunk(lo)
        records = [chunk.record(j) for j in range(chunk.n)]
        expected = [r for r in records if flt(r)]
        picked = flt.select(chunk)
        got = [picked.record(j) for j in range(picked.n)] if isinstance(picked, RxChunk) else picked
        assert got == expected


@pytest.mark.parametrize("text", ["proto:mdns", "proto:rtp", "proto:data", "proto:ssdp,mpegts",
                                  "proto:mdns text:_tcp", "proto:ntp"])
@pytest.mark.parametrize("port", [5353, 40000])
def test_a_one_sender_chunk_is_judged_as_each_record(text: str, port: int) -> None:
    decoder = RecordDecoder(lambda sid: 40001)
    flt = parse_filter(text, decoder)
    assert isinstance(flt, LogFilter)
    for lo in (0, 1):
        chunk = _one_sender_chunk(port, lo)
        expected = [r for r in (chunk.record(j) for j in range(chunk.n)) if flt(r)]
        picked = flt.select(chunk)
        got = [picked.record(j) for j in range(picked.n)] if isinstance(picked, RxChunk) else picked
        assert got == expected
    if text == "proto:mdns" and port == 40000:
        assert decoder.classified == 0   # ruled out for the whole batch by its ports


def test_proto_terms_pick_the_protocols_named() -> None:
    decoder = RecordDecoder(lambda sid: 40000)   # the socket's own port is not 5353
    chunk = _mixed_chunk()

    def picked(text: str) -> list[bytes]:
        result = parse_filter(text, decoder).select(chunk)  # type: ignore[union-attr]
        records = [result.record(j) for j in range(result.n)] if isinstance(result, RxChunk) \
            else result
        return [r.payload for r in records]

    assert picked("proto:mdns") == [MIXED[0], MIXED[3]]          # by the peer's port 5353
    assert picked("proto:rtp") == [MIXED[1]]
    assert picked("proto:mpegts") == [MIXED[4]]
    assert picked("proto:ssdp") == [MIXED[5]]
    assert picked("proto:rtp,mpegts") == [MIXED[1], MIXED[4]]
    assert picked("proto:data") == [MIXED[2]]
    event = Record(1, 0.0, "event", 3, event="listening", text="x")
    assert not parse_filter("proto:data", decoder)(event)   # type: ignore[misc]
    sent = Record(2, 0.0, "tx", 3, address="224.0.0.251", port=5353, payload=mdns_query())
    assert parse_filter("proto:mdns", decoder)(sent)   # type: ignore[misc]


def test_proto_filters_classify_once_and_rule_out_port_only_protocols_by_port() -> None:
    decoder = RecordDecoder(lambda sid: 40000)
    chunk = _mixed_chunk(ports=[40002] * len(MIXED))      # nothing on 5353
    assert parse_filter("proto:mdns", decoder).select(chunk) == []  # type: ignore[union-attr]
    assert decoder.classified == 0                         # ruled out by the ports alone
    parse_filter("proto:rtp", decoder).select(chunk)      # type: ignore[union-attr]
    assert decoder.classified == len(MIXED)
    parse_filter("proto:rtp text:x", decoder).select(chunk)  # type: ignore[union-attr]
    parse_filter("proto:data", decoder).select(chunk)      # type: ignore[union-attr]
    assert decoder.classified == len(MIXED)                # memoised per record
    assert decoder.decodes == 0                            # no field tree was built


def test_unknown_protocols_get_a_clear_message() -> None:
    with pytest.raises(FilterError, match="unknown protocol; did you mean mdns\\?") as err:
        parse_filter("proto:mdsn")
    assert "known: dns mdns llmnr" in str(err.value)
    with pytest.raises(FilterError, match="unknown protocol; known:"):
        parse_filter("#1 proto:rtp,zzzzzz")
    with pytest.raises(FilterError, match="name a protocol"):
        parse_filter("proto:,")
    with pytest.raises(FilterError, match="unknown protocol") as hostile:
        parse_filter("proto:\x1b[31m")
    assert "\x1b" not in str(hostile.value)
