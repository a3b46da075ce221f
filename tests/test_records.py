"""A received datagram's record is the engine's RemoteInfo laid into Record by position."""

from __future__ import annotations

from udpscope.dgram import RemoteInfo
from udpscope.records import RECORD_OVERHEAD, Record, record_cost, rx_record


def test_record_lists_remoteinfo_fields_in_order_after_its_first_four() -> None:
    assert Record._fields[:4] == ("seq", "time", "kind", "sock_id")
    assert Record._fields[4:4 + len(RemoteInfo._fields)] == RemoteInfo._fields
    assert Record._fields[12] == "payload"


def test_rx_record_carries_every_field() -> None:
    info = RemoteInfo("10.0.0.1", "IPv4", 5000, 3, "239.1.1.1", "eth0", 7, 12.5)
    record = rx_record(9, 1.5, 2, info, b"abc")
    assert type(record) is Record
    assert record == Record(9, 1.5, "rx", 2, "10.0.0.1", "IPv4", 5000, 3, "239.1.1.1", "eth0", 7,
                            12.5, b"abc")
    assert (record.event, record.text, record.error, record.code, record.syscall) == (None,) * 5
    assert record_cost(record) == 3 + RECORD_OVERHEAD
