"""A capture file as the UDP datagrams in it, with an honest account of everything else.

`replay` and `open` want datagrams (addresses, ports, payload, time), not frames; and a user
should learn what was left out: frames that are not UDP, fragments that never completed, a file
cut short. `CaptureReader` streams datagrams (a file larger than memory replays fine) and keeps
that account in a `ReadSummary`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import NamedTuple

from udpscope.files.containers import CaptureFormatError, FrameReader, open_capture_file
from udpscope.files.decode import SKIP_REASONS, Decoded, Reassembler, decode_frame

__all__ = ["CaptureFormatError", "CaptureReader", "CapturedDatagram", "ReadSummary", "read_capture"]


class CapturedDatagram(NamedTuple):
    """A UDP datagram read from a capture file."""

    time: float
    source: str
    sport: int
    destination: str
    dport: int
    payload: bytes
    ttl: int
    family: str  # "IPv4" / "IPv6"
    interface: str | None = None
    outbound: bool = False  # marked as sent by the capturing side (pcapng direction flag)


@dataclass
class ReadSummary:
    """What a read found: datagrams, frames skipped by reason, damage."""

    kind: str = ""
    frames: int = 0
    datagrams: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    truncated: bool = False
    damaged: str | None = None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skipped_text(self) -> str:
        """``"3 not UDP (TCP, ICMP, ...), 1 IP fragment never completed"`` or ``""``."""
        return ", ".join(f"{n} {SKIP_REASONS.get(k, k)}" for k, n in self.skipped.most_common())

    def damage_text(self) -> str | None:
        """A sentence about a cut or damaged file, or None when it was read to its end."""
        if self.truncated:
            return (f"the file is cut short: read the {self.frames} complete "
                    f"frame{'s' if self.frames != 1 else ''} before the cut")
        if self.damaged:
            return f"the file is damaged ({self.damaged}): read up to there"
        return None


class CaptureReader:
    """Iterate the UDP datagrams of a pcap/pcapng file; ``summary`` is final after iteration.

    Raises CaptureFormatError on construction for a file that cannot be opened or is not a
    capture. Use as a context manager (or call `close`).
    """

    def __init__(self, path: str | os.PathLike[str], max_pending_fragments: int = 256) -> None:
        self.path = os.fspath(path)
        self._stream = open_capture_file(path)
        try:
            self._frames = FrameReader(self._stream)
        except (CaptureFormatError, OSError) as e:
            self._stream.close()
            if isinstance(e, OSError):
                raise CaptureFormatError(f"cannot read {self.path}: {e.strerror or e}") from None
            raise
        self.summary = ReadSummary(kind=self._frames.kind)
        self._reassembler = Reassembler(max_pending_fragments)

    def __iter__(self) -> Iterator[CapturedDatagram]:
        summary = self.summary
        reassembler = self._reassembler
        frames = self._frames
        try:
            for frame in frames:
                found = decode_frame(frame.linktype, frame.data)
                if isinstance(found, str):
                    summary.skipped[found] += 1
                    continue
                if not isinstance(found, Decoded):
                    done = reassembler.add(found)
                    if done is None:
                        continue
                    if isinstance(done, str):
                        summary.skipped[done] += 1
                        continue
                    found = done
                summary.datagrams += 1
                yield CapturedDatagram(frame.time, found.source, found.sport, found.destination,
                                       found.dport, found.payload, found.ttl, found.family,
                                       frame.interface, frame.outbound)
        except OSError as e:  # a read error mid-file: keep what was read, say so
            frames.damaged = f"read error: {e.strerror or e}"
        finally:
            summary.frames = frames.frames
            summary.truncated = frames.truncated
            summary.damaged = frames.damaged
            abandoned = reassembler.finish()
            if abandoned:
                summary.skipped["fragment"] = abandoned

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def read_capture(path: str | os.PathLike[str], limit: int | None = None
                 ) -> tuple[list[CapturedDatagram], ReadSummary]:
    """All (or the first ``limit``) datagrams of a file, and the summary. Raises CaptureFormatError."""
    out: list[CapturedDatagram] = []
    with CaptureReader(path) as reader:
        for datagram in reader:
            out.append(datagram)
            if limit is not None and len(out) >= limit:
                break
        return out, reader.summary
