"""The capture layer's records written out as pcapng ("save log" in the TUI).

Records carry what the socket knew: for a received datagram its peer, the destination from the
metadata and the kernel time; the local port comes from the socket (``local_of``). Sent datagrams
are written from the socket's local address and marked outbound with a comment. Events and
failed sends are not datagrams and are left out (counted).

Callers pass already-built records (a filtered view of the log, or all of it) so this can run in
a worker thread, off the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from udpscope.files.pcapng_writer import PcapngWriter

__all__ = ["ExportResult", "export_records"]

FLUSH_EVERY = 4096


@dataclass
class ExportResult:
    written: int = 0
    skipped: int = 0  # events, failed sends, datagrams whose addresses cannot be framed


def export_records(path: str | os.PathLike[str], records: Iterable[Any],
                   local_of: Callable[[int], tuple[str, int] | None]) -> ExportResult:
    """Write the datagrams among ``records`` (capture `Record`s) to a new pcapng at ``path``.

    ``local_of(sock_id)`` gives the socket's local (address, port), or None if unknown (then
    the wildcard address and port 0). Raises OSError if the file cannot be written.
    """
    result = ExportResult()
    writer = PcapngWriter.create(path)
    try:
        for record in records:
            if record.kind not in ("rx", "tx") or record.error is not None or record.address is None:
                result.skipped += 1
                continue
            local = local_of(record.sock_id) or ("::" if ":" in record.address else "0.0.0.0", 0)
            if record.kind == "rx":
                ok = writer.add(record.payload, record.address, record.port or 0,
                                record.destination or local[0], local[1],
                                record.timestamp if record.timestamp is not None else record.time,
                                record.interface, record.ttl)
            else:
                source = local[0]
                if (":" in source) != (":" in record.address):
                    source = "::" if ":" in record.address else "0.0.0.0"
                ok = writer.add(record.payload, source, local[1], record.address,
                                record.port or 0, record.time, None, None, sent=True)
            if ok:
                result.written += 1
            else:
                result.skipped += 1
            if writer.pending >= FLUSH_EVERY:
                writer.flush()
    finally:
        writer.close()
    return result
