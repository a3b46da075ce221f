"""`udpscope replay`: send a capture's UDP payloads again from a plain socket (no root).

The summary (sent, skipped, duration) goes to stdout; what the file left out (non-UDP frames,
incomplete fragments) and a cut or damaged file are said on stderr, and are not failures: the
complete part is replayed. A send that fails makes the exit status 1.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from udpscope.addresses import parse_host_port
from udpscope.cli.common import (
    Output,
    argtype,
    err_line,
    iface_arg,
    install_signals,
    int_range,
    positive_float,
    remove_signals,
    report_error,
    run_subcommand,
)
from udpscope.textsafe import safe_text

if TYPE_CHECKING:  # the reader and the engine are imported when a file is replayed
    from udpscope.files.capture_file import CaptureReader
    from udpscope.files.replay import ReplayOptions

PROG = "udpscope replay"
DESCRIPTION = """\
Send the UDP datagrams of a pcap or pcapng file (tcpdump, Wireshark, udpscope listen --write)
from a plain UDP socket: to their original destination, or all to --to HOST:PORT; with the
recorded gaps divided by --speed, or as fast as possible with --max.
Exit status: 0 when everything was sent, 1 if a send failed, 2 on bad usage (or a file that
is not a capture)."""


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("file", metavar="FILE", help="a pcap or pcapng capture")
    p.add_argument("--to", metavar="HOST:PORT", type=argtype(parse_host_port),
                   help="send every datagram here instead of its original destination")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", metavar="FACTOR", type=positive_float("speed", 1e6), default=1.0,
                      help="divide the recorded gaps by FACTOR (default 1: as recorded)")
    pace.add_argument("--max", action="store_true", help="send as fast as possible")
    p.add_argument("--count", metavar="N", type=int_range(1, None, "count"),
                   help="send the first N datagrams only")
    p.add_argument("--ttl", metavar="N", type=int_range(1, 255, "ttl"), help="unicast TTL 1-255")
    p.add_argument("--multicast-ttl", metavar="N", type=int_range(0, 255, "multicast-ttl"),
                   help="multicast TTL 0-255")
    p.add_argument("--interface", metavar="ADDR", type=iface_arg,
                   help="interface for outgoing multicast: name, index or address")
    p.add_argument("--no-loopback", action="store_true",
                   help="do not loop multicast back to this host")
    p.add_argument("--broadcast", action="store_true", help="allow sending to broadcast addresses")
    return p


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run)


def _interfaces(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, str]:
    """The engine's multicast-interface argument per family the interface has an address of."""
    if ns.interface is None:
        return {}
    from udpscope.net.interfaces import resolve_interface

    out: dict[str, str] = {}
    reasons = []
    for family in ("udp4", "udp6"):
        try:
            out[family] = resolve_interface(ns.interface, family).dgram_arg
        except (ValueError, OSError) as e:
            reasons.append(str(e).removeprefix("interface: "))
    if not out:
        parser.error(f"argument --interface: {safe_text(reasons[0], limit=300)}")
    return out


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from udpscope.files.capture_file import CaptureFormatError, CaptureReader

    try:
        reader = CaptureReader(ns.file)
    except CaptureFormatError as e:
        parser.error(f"argument FILE: {safe_text(str(e), limit=300)}")
    with reader:
        from udpscope import dgram
        from udpscope.files.replay import ReplayOptions

        options = ReplayOptions(to=ns.to, speed=ns.speed, as_fast_as_possible=ns.max, count=ns.count,
                                ttl=ns.ttl, multicast_ttl=ns.multicast_ttl,
                                multicast_loopback=False if ns.no_loopback else None,
                                broadcast=ns.broadcast, interfaces=_interfaces(ns, parser))
        out = Output(prog=PROG)
        status = dgram.run(_replay(reader, options, out))
        return 1 if out.error is not None and status == 0 else status


async def _replay(reader: CaptureReader, options: ReplayOptions, out: Output) -> int:
    import asyncio

    from udpscope.files.replay import replay

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = install_signals(loop, stop.set)
    try:
        def on_error(err: BaseException) -> None:
            report_error(PROG, err)

        result = await replay(reader, options, stop=stop, on_error=on_error)
    except Exception as e:  # a socket that could not be set up (an option this host refuses)
        report_error(PROG, e)
        return 1
    finally:
        remove_signals(loop, installed)
    summary = reader.summary
    text = (f"replayed {result.sent} datagram{'s' if result.sent != 1 else ''} "
            f"({result.bytes} bytes) from {safe_text(os.path.basename(reader.path), limit=100)} "
            f"in {result.duration:.3f} s")
    if result.failed:
        text += f"; {result.failed} failed"
    if summary.skipped_total:
        text += f"; skipped {summary.skipped_total} frame{'s' if summary.skipped_total != 1 else ''}"
    if result.stopped:
        text += " (stopped)"
    out.line(text)
    if summary.skipped_total:
        err_line(f"{PROG}: skipped: {summary.skipped_text()}")
    damage = summary.damage_text()
    if damage:
        err_line(f"{PROG}: note: {damage}")
    return 1 if result.failed else 0
