"""`udpscope listen`: bind (and optionally join groups), print one line per event.

Headless on purpose: it is what scripts and pipes use (``--format jsonl``), and what a person
uses on a host without a terminal UI. Every line is flushed so a pipe sees datagrams as they
arrive; payloads go through textsafe/hexdump so no payload byte can drive the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from typing import Any

from udpscope.addresses import family_of
from udpscope.cli.common import (
    Output,
    bind_arg,
    err_line,
    group_arg,
    hostport,
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
from udpscope.files.pcapng_writer import PcapngWriter
from udpscope.hexdump import hexdump_lines
from udpscope.respond import DEFAULT_LIMIT, MAX_LIMIT, Responder
from udpscope.textsafe import safe_text

PROG = "udpscope listen"
TEXT_LIMIT = 2048  # payload bytes shown per line in text format (then "…(+N bytes)")

DESCRIPTION = """\
Bind a UDP socket and print one line per event (listening, message, error, close).
Port 0 binds a random port; the listening line says which. Without ADDR all interfaces are
bound (0.0.0.0, or :: for IPv6). The family follows ADDR, the groups, or --udp6.
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
    return p


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run)


def _plan(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, list]:
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


class _Formatter:
    """One output line (or a few, for hex) per event, in the chosen format."""

    def __init__(self, fmt: str, out: Output) -> None:
        self.fmt = fmt
        self.out = out
        self._second = -1  # the whole second _hms shows: localtime+strftime once per second
        self._hms = ""

    def _clock(self, stamp: float) -> str:
        second = int(stamp)
        if second != self._second:
            self._second = second
            self._hms = time.strftime("%H:%M:%S", time.localtime(second))
        return f"{self._hms}.{int(stamp % 1 * 1e6):06d}"

    def emit_json(self, obj: dict[str, Any]) -> bool:
        return self.out.line(json.dumps(obj))

    def listening(self, info: Any) -> bool:
        if self.fmt == "jsonl":
            return self.emit_json({"event": "listening", "address": info.address,
                                   "family": info.family, "port": info.port})
        return self.out.line(f"listening on {hostport(info.address, info.port)} ({info.family})")

    def joined(self, group: str, source: str | None, iface: str | None) -> bool:
        if self.fmt == "jsonl":
            return True  # jsonl carries exactly the documented events
        text = f"joined {group}"
        if source:
            text += f" from {safe_text(source)}"
        if iface:
            text += f" on {safe_text(iface, limit=40)}"
        return self.out.line(text)

    def message(self, msg: bytes, rinfo: Any, now: float) -> bool:
        if self.fmt == "jsonl":
            obj = {"event": "message", "time": round(now, 6), "address": rinfo.address,
                   "family": rinfo.family, "port": rinfo.port, "size": rinfo.size,
                   "hex": msg.hex()}
            for key in ("destination", "interface", "ttl", "timestamp"):
                value = getattr(rinfo, key, None)
                if value is not None:
                    obj[key] = value
            return self.emit_json(obj)
        head = f"{self._clock(rinfo.timestamp or now)} from {hostport(rinfo.address, rinfo.port)}"
        if rinfo.destination:
            head += f" to {safe_text(rinfo.destination, limit=60)}"
        if rinfo.interface:
            head += f" on {safe_text(rinfo.interface, limit=40)}"
        if rinfo.ttl is not None:
            head += f" ttl {rinfo.ttl}"
        size = rinfo.size
        head += f" {size} byte{'' if size == 1 else 's'}"
        if self.fmt == "hex":
            if not self.out.line(head):
                return False
            return all(self.out.line("  " + row) for row in hexdump_lines(msg))
        if msg:
            head += ": " + safe_text(msg, limit=TEXT_LIMIT)
        return self.out.line(head)

    def sent(self, data: bytes, address: str, family: str, port: int, now: float) -> bool:
        """A reply the responder sent (shown like a datagram, marked as sent)."""
        if self.fmt == "jsonl":
            return self.emit_json({"event": "sent", "time": round(now, 6), "address": address,
                                   "family": family, "port": port, "size": len(data),
                                   "hex": data.hex()})
        size = len(data)
        head = (f"{self._clock(now)} sent to {hostport(address, port)} "
                f"{size} byte{'' if size == 1 else 's'}")
        if self.fmt == "hex":
            if not self.out.line(head):
                return False
            return all(self.out.line("  " + row) for row in hexdump_lines(data))
        if data:
            head += ": " + safe_text(data, limit=TEXT_LIMIT)
        return self.out.line(head)

    def error(self, code: str, message: str) -> bool:
        if self.fmt == "jsonl":
            return self.emit_json({"event": "error", "code": code, "message": message})
        return True  # text/hex: the error line goes to stderr

    def close(self, kernel_drops: int = 0, extra: dict[str, int] | None = None) -> bool:
        if self.fmt == "jsonl":
            event: dict[str, Any] = {"event": "close"}
            if kernel_drops:
                event["kernel_drops"] = kernel_drops
            event.update(extra or {})
            return self.emit_json(event)
        if extra:
            replies, dropped = extra.get("replies", 0), extra.get("replies_dropped", 0)
            return self.out.line(f"closed ({replies} repl{'y' if replies == 1 else 'ies'}, "
                                 f"{dropped} held back by --respond-limit)")
        return self.out.line("closed")


async def _listen(ns: argparse.Namespace, family: str, joins: list, out: Output,
                  writer: PcapngWriter | None = None) -> int:
    import asyncio  # here, not at the top: --help and --version need no event loop

    from udpscope import dgram

    loop = asyncio.get_running_loop()
    fmt = _Formatter(ns.format, out)
    addr, port = ns.bind
    done: asyncio.Future[None] = loop.create_future()
    state = {"status": 0, "received": 0, "listening": False, "closing": False, "drops": 0}
    sock: Any = None
    extras: ListenExtras | None = None

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
        if not fmt.listening(sock.address()):
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
        if not fmt.message(msg, rinfo, now):
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

    def on_close() -> None:
        drops = state["drops"]
        if drops:
            err_line(f"{PROG}: the kernel dropped {drops} datagram{'s' if drops != 1 else ''} "
                     "this socket could not take in time (receive buffer full)")
        fmt.close(drops, extras.close() if extras is not None else None)
        if not done.done():
            done.set_result(None)

    def open_socket(isolate: bool) -> Any:
        nonlocal isolated
        isolated = isolate
        options = dgram.SocketOptions(type=family, reuse_addr=bool(joins), metadata=True,
                                      multicast_all=False if isolate else None)
        s = dgram.create_socket(options)
        s.on("listening", on_listening)
        s.on("message", on_message)
        s.on("error", on_error)
        s.on("close", on_close)
        s.bind(port, addr)
        return s

    if writer is not None or ns.respond:
        responder = Responder(ns.respond, ns.respond_limit) if ns.respond else None
        extras = ListenExtras(writer, responder, ns.write, fail, stop, fmt.sent)
    isolated = True
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
