"""`udpscope open FILE`: a capture shown in the TUI as if its datagrams had just arrived.

The file is read and checked here, before any screen starts: a file that is not a capture ends
with exit status 2 and one line naming FILE. Its datagrams go into a capture layer (through
`files.source.feed_capture`, read-only, no sockets) that the app then shows.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from udpscope.cli.common import err_line, int_range, not_a_terminal, run_subcommand, size_range
from udpscope.textsafe import safe_text

if TYPE_CHECKING:  # the capture layer is imported when a file is opened
    from udpscope.capture import Capture

PROG = "udpscope open"
DESCRIPTION = """\
Open a pcap or pcapng capture in the terminal UI: its UDP datagrams in the log, detail,
decoding and stats, as if they had just arrived (read-only: no socket is opened).
Exit status: 0 when the UI was closed, 2 if FILE is not a capture (or no terminal)."""


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("file", metavar="FILE", help="a pcap or pcapng capture")
    p.add_argument("--theme", metavar="NAME", help="colour theme")
    p.add_argument("--ring-size", metavar="N", type=int_range(1000, 10_000_000, "ring-size"),
                   default=None, help="records kept (default 100000; older ones are evicted)")
    p.add_argument("--ring-memory", metavar="SIZE", type=size_range(32 << 20, 64 << 30),
                   default=None, help="memory for kept datagrams, e.g. 512MiB or 2G (default "
                                      "256MiB; whichever of this and --ring-size is reached "
                                      "first evicts the oldest, counted)")
    return p


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run)


def load(path: str, ring_size: int | None,
         ring_bytes: int | None = None) -> tuple[Capture, str | None]:
    """(a Capture holding the file, a note about skipped frames or damage). Raises
    CaptureFormatError."""
    from udpscope.capture import DEFAULT_RING_BYTES, DEFAULT_RING_SIZE, Capture
    from udpscope.files.capture_file import CaptureReader
    from udpscope.files.source import PinnedClock, feed_capture

    clock = PinnedClock()
    capture = Capture(ring_size=ring_size or DEFAULT_RING_SIZE, clock=clock,
                      ring_bytes=ring_bytes or DEFAULT_RING_BYTES)
    with CaptureReader(path) as reader:
        entries = feed_capture(capture, clock, reader, os.path.basename(path))
        summary = reader.summary
    notes = []
    if not entries:
        notes.append("no UDP datagram in this file")
    if summary.skipped_total:
        notes.append(f"skipped {summary.skipped_text()}")
    damage = summary.damage_text()
    if damage:
        notes.append(damage)
    if capture.evictions:
        notes.append(f"the first {capture.evictions} rows did not fit the history "
                     "(--ring-size / --ring-memory keep more)")
    return capture, "; ".join(notes) or None


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from udpscope.capture import DEFAULT_RING_BYTES
    from udpscope.files.capture_file import CaptureFormatError, CaptureReader
    from udpscope.tui.limits import fit_ring_budget

    try:
        with CaptureReader(ns.file):  # its header only: a bad FILE is named first
            pass
        missing = not_a_terminal()
        if missing is not None:  # before the whole file is read: a pipe gets a message
            err_line(f"{PROG}: the terminal UI needs a terminal, but {missing} is not one.\n"
                     "To send a capture's datagrams again use `udpscope replay FILE`.")
            return 2
        ring_bytes, _note = fit_ring_budget(ns.ring_memory or DEFAULT_RING_BYTES)
        capture, note = load(ns.file, ns.ring_size, ring_bytes)
    except CaptureFormatError as e:
        parser.error(f"argument FILE: {safe_text(str(e), limit=300)}")
    try:
        from udpscope.tui.app import run_app
    except ImportError as e:
        err_line(f"{PROG}: the terminal UI is not available: {safe_text(str(e), limit=300)}")
        return 1
    title = f"{os.path.basename(ns.file)} (read-only)"
    return int(run_app([], [], False, ns.theme, capture=capture, notice=note, title=title,
                       ring_bytes=ring_bytes) or 0)
