"""The capture layer between the engine and the UI: every socket's counters, a bounded history
and per-stream statistics, kept cheaply enough to keep up with the wire.

    core.py      the `Capture` facade: watches sockets, takes each received batch in one step
    entries.py   `SocketEntry`: one watched socket, its exact counters and tick-time rates
    sending.py   `SendJob`: bounded, paced series of sends and their results
    groups.py    `GroupTable`: per (group, source) statistics, bounded, with probe tracking
    streams.py   `SocketStreams`: a socket's stream health (RTP, MPEG-TS, probes, --seq, A/B),
                 fed a batch at a time once `Capture.track_streams()` is called

The history itself is `udpscope.ring` (records in `udpscope.records`). No Textual here.
"""

from udpscope.capture.core import DEFAULT_RING_BYTES, DEFAULT_RING_SIZE, Capture
from udpscope.capture.entries import SocketEntry
from udpscope.capture.groups import DEFAULT_MAX_STREAMS, GroupStats, GroupTable
from udpscope.capture.sending import MAX_SEND_COUNT, SendJob

__all__ = [
    "DEFAULT_MAX_STREAMS",
    "DEFAULT_RING_BYTES",
    "DEFAULT_RING_SIZE",
    "MAX_SEND_COUNT",
    "Capture",
    "GroupStats",
    "GroupTable",
    "SendJob",
    "SocketEntry",
]
