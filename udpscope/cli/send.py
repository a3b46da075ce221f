"""`udpscope send`: send one datagram, or N paced evenly, and say what happened.

Pacing uses absolute deadlines (start + i/rate), so the rate neither bursts nor drifts with
the time each send takes; the last millisecond before a deadline is slept with time.sleep,
which is finer than the event loop's timer. With ``--probe`` each datagram starts with a
udpscope probe header (stream, sequence number, send time) that ``udpscope`` receivers use to
count loss, duplicates, reordering and delay.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import stat
import sys
import time
from typing import TYPE_CHECKING

from udpscope.addresses import family_of
from udpscope.cli.common import (
    CLOSED_STREAMS,
    Output,
    argtype,
    host_arg,
    hostport,
    iface_arg,
    install_signals,
    int_range,
    port_arg,
    positive_float,
    remove_signals,
    report_error,
    resolve_iface,
    run_subcommand,
)
from udpscope.payload import (
    MAX_UDP4,
    MAX_UDP6,
    PayloadError,
    capacity,
    check_payload_size,
    parse_payload,
)
from udpscope.textsafe import safe_text

if TYPE_CHECKING:  # asyncio is imported where the event loop runs: --help needs none
    import asyncio
    from collections.abc import Callable

    from udpscope import dgram

    ProbeEncoder = Callable[..., bytes]  # udpscope.probe.encode_probe

PROG = "udpscope send"
MAX_RATE = 10_000_000.0

DESCRIPTION = """\
Send a datagram to HOST PORT. TEXT is sent as UTF-8 with nothing added; --stdin and --file
send the whole input as one datagram; no payload (or an empty file) sends an empty datagram.
The socket family follows HOST (IPv6 literal: udp6; IPv4 literal or host name: udp4).
Exit status: 0 when everything was sent, 1 if a send failed, 2 on bad usage."""


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("host", metavar="HOST", type=host_arg,
                   help="IPv4/IPv6 address (fe80::1%%eth0 for a scope) or host name")
    p.add_argument("port", metavar="PORT", type=port_arg, help="destination port 1-65535")
    # TEXT stays out of the exclusive group: argparse would match the optional positional
    # before "--stdin" and then reject the text as unrecognised; run() checks it instead.
    p.add_argument("text", metavar="TEXT", nargs="?", default=None, help="payload text (UTF-8)")
    payload = p.add_mutually_exclusive_group()
    payload.add_argument("--hex", metavar="HEX", type=argtype(lambda t: parse_payload(t, "hex")),
                         help="payload as hex digits (spaces allowed)")
    payload.add_argument("--file", metavar="PATH",
                         type=argtype(lambda t: parse_payload(t, "file", max_size=MAX_UDP6)),
                         help="payload: the whole file")
    payload.add_argument("--stdin", action="store_true", help="payload: all of standard input")
    p.add_argument("--count", metavar="N", type=int_range(1, None, "count"), default=1,
                   help="send N datagrams (default 1)")
    p.add_argument("--rate", metavar="PPS", type=positive_float("rate", MAX_RATE),
                   help="datagrams per second, evenly paced (default: as fast as possible)")
    p.add_argument("--ttl", metavar="N", type=int_range(1, 255, "ttl"), help="unicast TTL 1-255")
    p.add_argument("--multicast-ttl", metavar="N", type=int_range(0, 255, "multicast-ttl"),
                   help="multicast TTL 0-255")
    p.add_argument("--broadcast", action="store_true", help="allow sending to a broadcast address")
    p.add_argument("--no-loopback", action="store_true",
                   help="do not loop multicast back to this host")
    p.add_argument("--interface", metavar="ADDR", type=iface_arg,
                   help="interface for outgoing multicast: name, index or address")
    p.add_argument("--probe", action="store_true",
                   help="start each datagram with a udpscope probe (sequence number, send time)")
    return p


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run, intermixed=True)


def _payload(ns: argparse.Namespace, parser: argparse.ArgumentParser, max_size: int) -> tuple[bytes, str]:
    if ns.hex is not None:
        data, arg = ns.hex, "--hex"
    elif ns.file is not None:
        data, arg = ns.file, "--file"
    elif ns.stdin:
        arg = "--stdin"
        data = _read_stdin(parser, max_size)
    elif ns.text is not None:
        arg = "TEXT"
        try:
            data = parse_payload(ns.text, "text", max_size=MAX_UDP6)
        except PayloadError as e:
            parser.error(f"argument TEXT: {e.detail}")
    else:
        data, arg = b"", "TEXT"
    try:
        check_payload_size(data, max_size, arg.lstrip("-").lower())
    except PayloadError as e:
        parser.error(f"argument {arg}: {e.detail}")
    return data, arg


def _read_stdin(parser: argparse.ArgumentParser, max_size: int) -> bytes:
    """All of standard input (at most ``max_size`` bytes), or a usage error saying why not."""
    stream = getattr(sys.stdin, "buffer", None)
    if "stdin" in CLOSED_STREAMS or stream is None:
        parser.error("argument --stdin: standard input is closed (nothing to send)")
    try:
        data = stream.read(max_size + 1)
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        parser.error(f"argument --stdin: cannot read standard input: {safe_text(reason, limit=200)}")
    if len(data) > max_size:
        size = None
        with contextlib.suppress(OSError, ValueError):
            st = os.fstat(stream.fileno())
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
        # Only max_size + 1 bytes were read: the real size is known only for a regular file.
        held = f"{size} bytes, more than" if size is not None else "more than"
        parser.error(f"argument --stdin: standard input holds {held} {capacity(max_size)}")
    return data


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if ns.text is not None:
        for flag, value in (("--hex", ns.hex), ("--file", ns.file), ("--stdin", ns.stdin)):
            if value not in (None, False):
                parser.error(f"argument {flag}: not allowed with argument TEXT")
    family = family_of(ns.host) or "udp4"
    max_size = MAX_UDP6 if family == "udp6" else MAX_UDP4
    data, arg = _payload(ns, parser, max_size)
    if ns.probe:
        from udpscope.probe import HEADER_SIZE

        if HEADER_SIZE + len(data) > max_size:
            parser.error(f"argument --probe: the {HEADER_SIZE}-byte probe header and the "
                         f"{len(data)}-byte payload are more than {max_size} bytes")
    iface = None
    if ns.interface is not None:
        iface = resolve_iface(ns.interface, family, parser, "--interface")
    from udpscope import dgram

    out = Output(prog=PROG)
    status = dgram.run(_send(ns, family, data, iface, out))
    return 1 if out.error is not None and status == 0 else status


def _unit(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


async def _send(ns: argparse.Namespace, family: str, payload: bytes,
                iface: tuple[str, str] | None, out: Output) -> int:
    import asyncio

    from udpscope import dgram

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = install_signals(loop, stop.set)
    sock = dgram.create_socket(family)
    # Errors are awaited per call below; a late one (after close) must not end the process.
    sock.on("error", lambda err: None)
    dest = hostport(ns.host, ns.port)
    sent = nbytes = 0
    status = 0
    sending = False  # the summary line is for runs that got as far as sending
    started = time.monotonic()
    try:
        try:
            await sock.bind_async(0)
            if ns.broadcast:
                sock.set_broadcast(True)
            if ns.ttl is not None:
                sock.set_ttl(ns.ttl)
            if ns.multicast_ttl is not None:
                sock.set_multicast_ttl(ns.multicast_ttl)
            if ns.no_loopback:
                sock.set_multicast_loopback(False)
            if iface is not None:
                sock.set_multicast_interface(iface[0])
        except Exception as e:
            report_error(PROG, e)
            return 1
        encode = None
        stream = random.getrandbits(32)
        if ns.probe:
            from udpscope.probe import encode_probe

            encode = encode_probe
        interval = 1.0 / ns.rate if ns.rate else 0.0
        started = time.monotonic()
        sending = True
        if not interval and ns.count > 1:
            # As fast as possible: issue a chunk per loop turn (the engine hands a run of
            # same-size datagrams to the kernel in one call), then collect the callbacks.
            sent, nbytes, status = await _send_chunked(sock, ns, payload, encode, stream, stop)
            return status
        for i in range(ns.count):
            if stop.is_set():
                break
            if interval:
                deadline = started + i * interval
                delay = deadline - time.monotonic()
                if delay > 0.002:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay - 0.001)
                    if stop.is_set():
                        break
                delay = deadline - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # sub-millisecond precision the loop timer lacks
            data = payload
            if encode is not None:
                data = encode(i, time.time(), stream=stream) + payload
            try:
                n = await sock.send_async(data, ns.port, ns.host)
            except Exception as e:
                report_error(PROG, e)
                status = 1
                break
            sent += 1
            nbytes += n
            if ns.count == 1 and not out.line(f"sent {_unit(n, 'byte')} to {dest}"):
                break
    finally:
        if sending and (ns.count > 1 or status):
            elapsed = time.monotonic() - started
            text = f"sent {sent} of {_unit(ns.count, 'datagram')} ({_unit(nbytes, 'byte')}) to {dest}"
            if ns.count > 1:
                rate = sent / elapsed if elapsed > 0 else 0.0
                text += f" in {elapsed:.3f} s ({rate:.1f}/s)"
            out.line(text)
        remove_signals(loop, installed)
        if sock.state != "closed":
            sock.close()
    return status


CHUNK = 256


async def _send_chunked(sock: dgram.Socket, ns: argparse.Namespace, payload: bytes,
                        encode: ProbeEncoder | None, stream: int,
                        stop: asyncio.Event) -> tuple[int, int, int]:
    """Send ns.count datagrams CHUNK at a time; stop at the chunk holding the first error.

    Returns (sent, bytes, status).
    """
    import asyncio

    loop = asyncio.get_running_loop()
    sent = nbytes = 0
    i = 0
    while i < ns.count and not stop.is_set():
        size = min(CHUNK, ns.count - i)
        results: list[tuple[BaseException | None, int | None]] = []
        done = loop.create_future()

        def on_sent(err: BaseException | None, n: int | None,
                    results: list[tuple[BaseException | None, int | None]] = results,
                    done: asyncio.Future[None] = done, size: int = size) -> None:
            results.append((err, n))
            if len(results) == size and not done.done():
                done.set_result(None)

        for k in range(size):
            data = payload if encode is None else encode(i + k, time.time(), stream=stream) + payload
            sock.send(data, ns.port, ns.host, on_sent)
        await done
        for err, n in results:
            if err is not None:
                report_error(PROG, err)
                return sent, nbytes, 1
            sent += 1
            nbytes += n or 0
        i += size
    return sent, nbytes, 0
