"""`udpscope bench`: how fast is this host's loopback UDP path through the engine, and the app?

Why it exists: "is udpscope fast enough for my traffic?" has to be answerable on the user's own
machine, with what they have (Python, pip, maybe Node), in under half a minute, without ever
sending anything off the host. So it floods only 127.0.0.1 or ::1, bounds every sender in time
and count, kills every child on exit (Ctrl-C included), and reports ratios measured in the same
run next to the absolute numbers, because one absolute figure on a shared machine means little.
The measurement machinery lives in `udpscope.benchkit`; this module is options and output.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from udpscope.addresses import parse_float_range
from udpscope.benchkit import LOOPBACK
from udpscope.cli.common import Parser, _silence_stdout, argtype, err_line, int_range
from udpscope.payload import MAX_UDP4
from udpscope.textsafe import safe_text

DESCRIPTION = """\
Measure the loopback UDP path through the udpscope engine on this host, in fresh processes
pinned to separate CPUs (measured process on one, its peer on another):

  receive   a `message` listener that keeps every payload, fed by a saturating Python sender
            (UDP GSO, 64 datagrams per system call): received/s over the active window (first
            to last datagram), datagrams lost (= kernel drops), CPU time per datagram
  send      64 send() calls per event-loop turn (unconnected and connected socket) to a
            draining sink: sent/s and CPU time per datagram
  --compare the same with Node's dgram as the peer (needs `node`), interleaved, medians and
            engine/Node ratios; --c-ceiling adds a C recvmmsg counter (needs a C compiler)
  --tui     the real app headless (120x40) under a flood and under a paced stream: ingest rate,
            rows logged, where every datagram went (received / kernel drops / ring evictions),
            key-to-frame latency p50/p95 (overall and per key: help open/close, log cursor up/down,
            page up/down, pause/resume), memory (RSS), start-up time to the first frame

Only 127.0.0.1 and ::1 are ever used. CPU time is the measured process's (user + system).
Default run (receive + send, 3 x 1 s): about 15 s; --compare roughly doubles it."""

EPILOG = """\
--json prints one object:
  schema "udpscope-bench/1"; config {...}; host {system, release, cpus, pinned, python, loop,
  node, rmem_max, busy_before}; sender {pps, method, segments};
  receive {engine|node|c: {pps, received, sent, loss, kernel_drops, window_s, cpu_s, cpu_us,
    cpu_share, spread, limits[], runs[]}};
  send {unconnected|connected: {engine|node: {pps, sent, errors, elapsed_s, cpu_s, cpu_us,
    cpu_share, sink_received, sink_loss, spread, limits[], runs[]}}};
  ratios {receive_engine_vs_node, receive_engine_vs_c, send_unconnected_engine_vs_node,
    send_connected_engine_vs_node: {rate, cpu_per_datagram, pairs},
    tui_ingest_vs_node_receive: {rate} (with --tui and --compare)};
  tui {flood, paced: {sent, ingest_pps, received, kernel_drops, unaccounted, rows, ring,
    ring_size, ring_evictions, frames, fps, key_p50_ms, key_p95_ms, key_idle_p50_ms,
    key_by_kind, key_idle_by_kind {open|close|up|down|pageup|pagedown|pause|resume:
    {p50_ms, p95_ms, n, missed}}, cpu_share, rss_before, rss_after, rss_peak, startup_s, ...},
    pty_startup {startup_s}};
  notes []; elapsed_s.
A measurement that failed has {"error": "..."} instead of numbers. Rates are datagrams/s,
cpu_us is microseconds of process CPU per datagram, cpu_share is CPU seconds / wall seconds,
spread is (max - min) / median over the repetitions."""


def _loopback(text: str) -> str:
    if text not in LOOPBACK:
        raise argparse.ArgumentTypeError(
            f"{safe_text(text, limit=60)} is not allowed: the bench floods its destination, so "
            "only 127.0.0.1 or ::1")
    return text


def _float(what: str, lo: float, hi: float, *, zero: bool = False) -> Any:
    def parse(text: str) -> float:
        if zero and text.strip() in ("0", "0.0"):
            return 0.0
        return parse_float_range(text, what, lo=lo, lo_inclusive=True, hi=hi)

    return argtype(parse)


def build_parser() -> Parser:
    p = Parser(prog="udpscope bench", description=DESCRIPTION, epilog=EPILOG,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=_float("seconds", 0.2, 10.0), default=1.0, metavar="S",
                   help="duration of each measurement (0.2-10, default 1)")
    p.add_argument("--repeat", type=int_range(1, 10, "repeat"), default=3, metavar="N",
                   help="repetitions of each measurement; medians are reported (default 3)")
    p.add_argument("--size", type=int_range(1, MAX_UDP4, "size"), default=64, metavar="BYTES",
                   help="payload bytes per datagram (default 64)")
    fam = p.add_mutually_exclusive_group()
    fam.add_argument("--udp6", action="store_true", help="use ::1 instead of 127.0.0.1")
    fam.add_argument("--host", type=_loopback, default=None, metavar="ADDR",
                     help="127.0.0.1 (default) or ::1; anything else is refused")
    p.add_argument("--compare", action="store_true",
                   help="also measure Node's dgram (needs `node`), interleaved, with ratios")
    p.add_argument("--c-ceiling", action="store_true",
                   help="also measure a C recvmmsg counter (compiled with cc/gcc if present)")
    p.add_argument("--tui", action="store_true", help="also run the real app headless under load")
    p.add_argument("--tui-seconds", type=_float("tui-seconds", 0.5, 10.0), default=3.0,
                   metavar="S", help="length of each TUI run (0.5-10, default 3)")
    p.add_argument("--tui-rate", type=_float("tui-rate", 1.0, 1e6, zero=True), default=20000.0,
                   metavar="PPS", help="rate of the paced TUI run (default 20000; 0 skips it)")
    p.add_argument("--only", metavar="LIST", type=_only, default=None,
                   help="run only these of receive,send,tui (comma-separated)")
    p.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                   help="event loop of the engine processes (auto: uvloop where installed)")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _only(text: str) -> frozenset[str]:
    parts = frozenset(t.strip() for t in text.split(",") if t.strip())
    bad = sorted(parts - {"receive", "send", "tui"})
    if bad or not parts:
        raise argparse.ArgumentTypeError(
            f"'{safe_text(text, limit=60)}': choose from receive, send, tui (comma-separated)")
    return parts


def config_from(ns: argparse.Namespace) -> Any:
    """The benchkit Config for parsed options."""
    from udpscope.benchkit.measure import Config

    host = "::1" if ns.udp6 else (ns.host or "127.0.0.1")
    only = ns.only
    tui = ns.tui or (only is not None and "tui" in only)
    return Config(
        seconds=ns.seconds, repeat=ns.repeat, size=ns.size, host=host,
        receive=only is None or "receive" in only,
        send=only is None or "send" in only,
        compare=ns.compare, c_ceiling=ns.c_ceiling, tui=tui,
        tui_seconds=ns.tui_seconds, tui_rate=ns.tui_rate, loop=ns.loop, pin=not ns.no_pin,
    )


def _check_host(host: str) -> str | None:
    """Why `host` cannot be used here (no IPv6 loopback, ...), or None."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
    except OSError as exc:
        return f"cannot bind {host}: {exc.strerror or exc}"
    return None


def _check_loop(loop: str) -> str | None:
    from udpscope.benchkit.measure import has_uvloop

    if loop == "uvloop" and not has_uvloop():
        return "--loop uvloop: uvloop is not installed"
    return None


def run(ns: argparse.Namespace) -> int:
    from udpscope.benchkit.measure import Bench, detect
    from udpscope.benchkit.report import render

    if sys.platform == "win32":
        err_line("udpscope bench: error: needs Linux (or another POSIX system for a partial run): "
                 "its peers use pipes, ptys and add_reader, which Windows does not offer")
        return 1
    cfg = config_from(ns)
    for problem in (_check_host(cfg.host), _check_loop(cfg.loop)):
        if problem:
            err_line(f"udpscope bench: error: {safe_text(problem, limit=300)}")
            return 1
    progress_on = not ns.quiet and sys.stderr.isatty()

    def progress(msg: str) -> None:
        if progress_on:
            err_line(f"udpscope bench: {msg}")

    host = detect(cfg)
    if host.system != "Linux":
        err_line("udpscope bench: note: not Linux; no UDP GSO, recvmmsg or CPU pinning here, "
                 "so rates are indicative only (running what works)")
    progress(f"about {cfg.estimate_s():.0f} s; Ctrl-C stops it")
    with Bench(cfg, host, progress) as bench:
        report = bench.run()
    if ns.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(render(report) + "\n")
    sys.stdout.flush()
    return 0 if _all_ok(report) else 1


def _all_ok(report: dict[str, Any]) -> bool:
    """False when every run of the engine's own measurements failed."""
    engine = []
    if "receive" in report:
        engine.append(report["receive"].get("engine", {}))
    for by_peer in (report.get("send") or {}).values():
        engine.append(by_peer.get("engine", {}))
    tui = report.get("tui") or {}
    engine.extend(v for k, v in tui.items() if k in ("flood", "paced"))
    return not any("error" in s for s in engine)


def main(argv: list[str]) -> int:
    """`udpscope bench ARGS`; returns the exit status (0 ok, 1 a measurement failed, 2 usage)."""
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    try:
        return run(ns)
    except KeyboardInterrupt:
        err_line("udpscope bench: interrupted (every peer stopped)")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
