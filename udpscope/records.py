"""The one record type of the capture history: a datagram received or sent, or a socket event.

Everything between the engine and the screen speaks `Record`: the ring hands records out, the
log filter tests them, the live log and the detail view show them, the error list keeps them.
A received datagram's record is built only when someone looks at it (see ring.py), from the
engine's `RemoteInfo`, so the two layouts are kept in step here, in one place: `rx_record` is
the only code that builds a record by field position.

No Textual here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from udpscope.dgram import RemoteInfo

__all__ = ["RECORD_OVERHEAD", "Record", "record_cost", "rx_record"]

# What a kept record costs beyond its payload bytes, for the ring's memory budget: the tuple,
# the bytes object's header, the strings and numbers it points to and the ring's bookkeeping
# (measured with tracemalloc; an estimate, on the generous side).
RECORD_OVERHEAD = 256


class Record(NamedTuple):
    """One line of history: a datagram received or sent, or a socket event.

    kind is "rx", "tx" or "event". For events, ``event`` names it (listening, connect, close,
    error) and ``text`` carries the message (untrusted: OS text, addresses). A failed send is a
    "tx" record with ``error`` set and ``size`` the number of bytes attempted.

    Immutable. After its first four fields a received datagram's record holds the engine's
    `RemoteInfo` fields as they are (address, family, port, size, destination, interface, ttl,
    timestamp), so `rx_record` is one tuple concatenation. Received records share their batch's
    time (when it was read); the kernel's own receive time is in ``timestamp``.
    """

    seq: int
    time: float
    kind: str
    sock_id: int
    address: str | None = None
    family: str | None = None
    port: int | None = None
    size: int = 0
    destination: str | None = None
    interface: str | None = None
    ttl: int | None = None
    timestamp: float | None = None
    payload: bytes = b""
    event: str | None = None
    text: str | None = None
    error: str | None = None
    code: str | None = None
    syscall: str | None = None


_new = tuple.__new__
_NO_EVENT = (None, None, None, None, None)  # event, text, error, code, syscall of an rx record


def rx_record(seq: int, time: float, sock_id: int, info: RemoteInfo, payload: bytes) -> Record:
    """The record of a received datagram: `info`'s eight fields laid in after the first four.

    Relies on `Record` listing `RemoteInfo`'s fields in the same order right after ``sock_id``
    (checked by the tests); built without per-field work because a filter may build many.
    """
    record: Record = _new(Record, (seq, time, "rx", sock_id) + info + (payload, *_NO_EVENT))
    return record


def record_cost(record: Record) -> int:
    """Bytes a kept record holds alive, for the ring's budget (payload plus an overhead)."""
    return len(record.payload) + RECORD_OVERHEAD
