"""`udpscope listen`: bind (and optionally join groups), print one line per event.

Headless on purpose: it is what scripts and pipes use (``--format jsonl``), and what a person
uses on a host without a terminal UI. Every line is flushed so a pipe sees datagrams as they
arrive; payloads go through textsafe/hexdump so no payload byte can drive the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

from udpscope.addresses import family_of
from udpscope.cli.common import (
    Output,
    bind_arg,
    err_line,
    group_arg,
    install_signals,
    int_range,
    ip_arg,
    positive_float,
    remove_signals,
    report_error,
    resolve_iface,
    run_subcommand,
)
from udpscope.cli.listen_extras import ListenExtras, open_capture_writer, rule_arg
from udpscope.cli.listen_output import Formatter
from udpscope.files.pcapng_writer import PcapngWriter
from udpscope.respond import DEFAULT_LIMIT, MAX_LIMIT, Responder
from udpscope.textsafe import safe_text

PROG = "udpscope listen"

DESCRIPTION = """\
Bind a UDP socket and print one line per event (listening, message, error, close).
Port 0 binds a random port; the listening line says which. Without ADDR all interfaces are
bound (0.0.0.0, or :: for IPv6). The family follows ADDR, the groups, or --udp6.
Before closing, one `stream` line per stream it could follow: udpscope probes always, RTP and
MPEG-TS with --decode, any payload with --seq (and the A/B merge with --arbitrate).
Exit status: 0 when done (--count, --timeout, Ctrl-C), 1 on a runtime failure, 2 on bad usage."""


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("bind", metavar="[ADDR:]PORT", type=bind_arg,
                   help="where to bind: 5000, 127.0.0.1:5000, [::1]:5000 (port 0 = random)")
    p.add_argument("--udp6", action="store_true", help="use IPv6 (bind :: when no ADDR is given)")
    p.add_argument("--join", metavar="GROUP[@IFACE]", action="append", type=group_arg, default=[],
                   help="join a multicast group after binding, on IFACE (name, index or address); repeatable")
    p.add_argument("--source", metavar="SRC", type=ip_arg,
                   help="make the joins source-specific: only datagrams from SRC")
    p.add_argument("--count", metavar="N", type=int_range(1, None, "count"),
                   help="exit after N datagrams")
    p.add_argument("--timeout", metavar="SECONDS", type=positive_float("timeout"),
                   help="exit after SECONDS")
    p.add_argument("--format", choices=("text", "hex", "jsonl"), default="text",
                   help="text (default): one line per datagram; hex: plus a hex dump; "
                        "jsonl: one JSON object per event")
    p.add_argument("--write", metavar="FILE.pcapng",
                   help="also write every datagram (and every reply) to a pcapng file, as it goes")
    p.add_argument("--respond", metavar="RULE", action="append", type=rule_arg, default=[],
                   help="answer matching datagrams: MATCH=>REPLY, MATCH one of *, text:STR, "
                        "prefix:HEX, re:REGEX; REPLY one of echo, text:STR, hex:HEX (repeatable; "
                        "the first matching rule answers)")
    p.add_argument("--respond-limit", metavar="PPS", type=int_range(1, MAX_LIMIT, "respond-limit"),
                   default=DEFAULT_LIMIT, help=f"replies per second at most (default {DEFAULT_LIMIT})")
    p.add_argument("--decode", action="store_true",
                   help="name each datagram's protocol (mdns, ssdp, rtp, mpegts, …) with a "
                        "one-line summary, and follow RTP and MPEG-TS stream health")
    p.add_argument("--seq", metavar="OFFSET:WIDTH[:be|le]", type=seq_arg,
                   help="follow a sequence number of WIDTH bytes (1, 2, 4, 8) at OFFSET of "
                        "every payload: gaps, duplicates, reordering per stream")
    p.add_argument("--arbitrate", action="store_true",
                   help="with --seq: merge every stream's sequence (A/B lines) and report the "
                        "numbers that arrived on no line")
    return p


def seq_arg(text: str) -> Any:
    """argparse type for --seq: the parsed field, or what is wrong with it."""
    from udpscope.health.seqfield import SeqSpecError, parse_seq_spec

    try:
        return parse_seq_spec(text)
    except SeqSpecError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run)


def _plan(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, list[Any]]:
    """Pick the family and resolve join interfaces; usage errors exit 2 via parser.error."""
    addr, _port = ns.bind
    addr_family = family_of(addr) if addr else None
    group_families = {family_of(g) for g, _ in ns.join}
    if len(group_families) > 1:
        parser.error("argument --join: mixes IPv4 and IPv6 groups; one socket has one family")
    group_family = next(iter(group_families), None)
    if ns.udp6:
        if addr_family == "udp4":
            parser.error(f"argument --udp6: {addr} is an IPv4 address")
        family = "udp6"
    else:
        family = addr_family or group_family or "udp4"
    if group_family is not None and group_family != family:
        group = ns.join[0][0]
        parser.error(
            f"argument --join: {group} is {'IPv4' if group_family == 'udp4' else 'IPv6'} but "
            f"the socket is {'IPv4' if family == 'udp4' else 'IPv6'}"
        )
    if ns.arbitrate and ns.seq is None:
        parser.error("argument --arbitrate: needs --seq OFFSET:WIDTH (the sequence number the "
                     "lines share)")
    if ns.source is not None:
        if not ns.join:
            parser.error("argument --source: needs --join GROUP (the source applies to the joins)")
        if family_of(ns.source) != family:
            parser.error(f"argument --source: {safe_text(ns.source)} is not an "
                         f"{'IPv4' if family == 'udp4' else 'IPv6'} address like the groups")
    joins = []
    for group, iface in ns.join:
        arg = name = None
        if iface is not None:
            arg, name = resolve_iface(iface, family, parser, "--join")
        joins.append((group, arg, name))
    return family, joins


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    family, joins = _plan(ns, parser)
    from udpscope import dgram

    if ns.respond_limit != DEFAULT_LIMIT and not ns.respond:
        parser.error("argument --respond-limit: needs --respond RULE (it limits the replies)")
    writer = open_capture_writer(ns.write, parser) if ns.write is not None else None
    out = Output(prog=PROG)
    status = dgram.run(_listen(ns, family, joins, out, writer))
    return 1 if out.error is not None and status == 0 else status


async def _listen(ns: argparse.Namespace, family: str, joins: list[Any], out: Output,
                  writer: PcapngWriter | None = None) -> int:
    import asyncio  # here, not at the top: --help and --version need no event loop

    from udpscope import dgram
    from udpscope.cli.listen_streams import StreamWatch

    loop = asyncio.get_running_loop()
    fmt = Formatter(ns.format, out)
    watch = StreamWatch(ns)
    addr, port = ns.bind
    done: asyncio.Future[None] = loop.create_future()
    state = {"status": 0, "received": 0, "listening": False, "closing": False, "drops": 0}
    sock: Any = None
    extras: ListenExtras | None = None
    isolated = True

    def fail(err: BaseException) -> None:
        state["status"] = 1
        code, message = report_error(PROG, err)
        fmt.error(code, message)

    def stop() -> None:
        state["closing"] = True
        if sock is not None and sock.state != "closed":
            # Read the kernel's drop counter while the socket still exists: a flood must be
            # reported, never lost silently.
            with contextlib.suppress(Exception):
                state["drops"] = sock.get_kernel_drops()
            sock.close()
        elif not done.done():
            done.set_result(None)

    def on_listening() -> None:
        state["listening"] = True
        if extras is not None:
            extras.listening(sock)
        info = sock.address()
        watch.listening(info.address, info.port)
        if not fmt.listening(info):
            stop()
            return
        for group, arg, name in joins:
            try:
                if ns.source is not None:
                    sock.add_source_specific_membership(ns.source, group, arg)
                else:
                    sock.add_membership(group, arg)
            except Exception as e:  # DgramError, or an argument error for an odd interface
                fail(e)
                stop()
                return
            if not fmt.joined(group, ns.source, name):
                stop()
                return

    def on_message(msg: bytes, rinfo: Any) -> None:
        if state["closing"]:
            return
        state["received"] += 1
        now = time.time()
        if not fmt.message(msg, rinfo, now, watch.decoded(msg, rinfo)):
            stop()
            return
        if extras is not None:
            extras.received(sock, msg, rinfo, now)
        if ns.count is not None and state["received"] >= ns.count:
            # Close after this loop turn: a reply to the last datagram still leaves first.
            state["closing"] = True
            loop.call_soon(stop)

    def on_error(err: BaseException) -> None:
        nonlocal sock
        if (not state["listening"] and isolated and getattr(err, "code", None) == "ENOPROTOOPT"
                and not state["closing"]):
            # This kernel cannot isolate the socket from other sockets' groups: go on without.
            err_line(f"{PROG}: note: multicast isolation (IP_MULTICAST_ALL) is not available; "
                     "this socket may also receive groups joined by other sockets")
            old = sock
            old.remove_all_listeners()
            with contextlib.suppress(Exception):
                old.close()
            sock = open_socket(False)
            return
        fail(err)
        if not state["listening"]:
            stop()

    def on_batch(batch: Any) -> None:
        if not state["closing"]:
            watch.on_batch(sock, batch)

    def on_close() -> None:
        drops = state["drops"]
        if drops:
            err_line(f"{PROG}: the kernel dropped {drops} datagram{'s' if drops != 1 else ''} "
                     "this socket could not take in time (receive buffer full)")
        findings = watch.report(fmt)
        fmt.close(drops, extras.close() if extras is not None else None, findings)
        if not done.done():
            done.set_result(None)

    def open_socket(isolate: bool) -> Any:
        nonlocal isolated
        isolated = isolate
        options = dgram.SocketOptions(type=family, reuse_addr=bool(joins), metadata=True,
                                      multicast_all=False if isolate else None)
        s = dgram.create_socket(options)
        s.on("listening", on_listening)
        s.on("batch", on_batch)
        s.on("message", on_message)
        s.on("error", on_error)
        s.on("close", on_close)
        s.bind(port, addr)
        return s

    if writer is not None or ns.respond:
        responder = Responder(ns.respond, ns.respond_limit) if ns.respond else None
        extras = ListenExtras(writer, responder, ns.write, fail, stop, fmt.sent)
    installed = install_signals(loop, stop)
    timer = loop.call_later(ns.timeout, stop) if ns.timeout is not None else None
    try:
        try:
            sock = open_socket(True)
        except Exception as e:  # argument errors from the engine (should not happen after checks)
            fail(e)
            return 1
        await done
    finally:
        if timer is not None:
            timer.cancel()
        remove_signals(loop, installed)
        if extras is not None:
            extras.close()  # a bind that failed never closes the socket: the file still ends
        elif writer is not None:
            writer.close()
    return state["status"]
