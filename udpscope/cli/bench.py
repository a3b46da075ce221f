"""`udpscope bench`: how fast is this host's loopback UDP path through the engine?

Why it exists: "is udpscope fast enough for my traffic?" has to be answerable on the user's own
machine, with nothing but the wheel, in under half a minute, without ever sending anything off
the host. So it floods only 127.0.0.1 or ::1, bounds every sender in time and count, kills every
child on exit (Ctrl-C included), and reports the receive and send rates with the CPU time per
datagram. The machinery lives in `udpscope.benchkit`; this module is options and output.

The comparison with Node and C and the TUI under a flood (--compare, --c-ceiling, --tui) are a
developer harness that ships with the source, not the wheel (`bench/` in the checkout, run as
`python -m bench`). Given those options, this command hands the whole run to that harness when
it finds the checkout (next to the imported package, or the current directory), and otherwise
says how to get it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from udpscope.addresses import parse_float_range
from udpscope.benchkit import LOOPBACK
from udpscope.cli.common import Parser, _silence_stdout, argtype, err_line, int_range
from udpscope.payload import MAX_UDP4
from udpscope.textsafe import safe_text

if TYPE_CHECKING:
    from udpscope.benchkit.host import HostInfo
    from udpscope.benchkit.runner import Config
    from udpscope.benchkit.scenario import Scenario

DESCRIPTION = """\
Measure the loopback UDP path through the udpscope engine on this host, in fresh processes
pinned to separate CPUs (measured process on one, its peer on another):

  receive   a `message` listener that keeps every payload, fed by a saturating Python sender
            (UDP GSO, 64 datagrams per system call): received/s over the active window (first
            to last datagram), datagrams lost (= kernel drops), CPU time per datagram
  send      64 send() calls per event-loop turn (unconnected and connected socket) to a
            draining sink: sent/s and CPU time per datagram

From a udpscope source checkout (the developer harness, `python -m bench`; not in the wheel):
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
  rmem_max, busy_before, (harness:) node, cc}; sender {pps, method, segments};
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
  health_rtp, health_ts {node|batch|rtp|mpegts: like receive}; health_rtp_sender,
    health_ts_sender; health_track {rtp|mpegts: {pps, cpu_us, size, target_pps, lost,
    cc_errors, runs[]}} (with --health);
  notes []; elapsed_s.
A measurement that failed has {"error": "..."} instead of numbers. Rates are datagrams/s,
cpu_us is microseconds of process CPU per datagram, cpu_share is CPU seconds / wall seconds,
spread is (max - min) / median over the repetitions. Node, C and TUI keys appear only in a
developer-harness run."""

SECTIONS = ("receive", "send", "tui", "health")
HARNESS = "python -m bench"


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


def _only(text: str) -> frozenset[str]:
    parts = frozenset(t.strip() for t in text.split(",") if t.strip())
    bad = sorted(parts - set(SECTIONS))
    if bad or not parts:
        raise argparse.ArgumentTypeError(
            f"'{safe_text(text, limit=60)}': choose from receive, send, tui, health "
            "(comma-separated)")
    return parts


def build_parser(prog: str = "udpscope bench") -> Parser:
    """The bench's options; the developer harness parses the same ones (with its own `prog`)."""
    p = Parser(prog=prog, description=DESCRIPTION, epilog=EPILOG,
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
    p.add_argument("--only", metavar="LIST", type=_only, default=None,
                   help="run only these of receive,send,tui (comma-separated; tui: harness)")
    p.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                   help="event loop of the engine processes (auto: uvloop where installed)")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    dev = p.add_argument_group("developer harness (needs a udpscope source checkout)")
    dev.add_argument("--compare", action="store_true",
                     help="also measure Node's dgram (needs `node`), interleaved, with ratios")
    dev.add_argument("--c-ceiling", action="store_true",
                     help="also measure a C recvmmsg counter (compiled with cc/gcc if present)")
    dev.add_argument("--tui", action="store_true",
                     help="also run the real app headless under load")
    dev.add_argument("--health", action="store_true",
                     help="also measure stream-health tracking: an RTP flood and MPEG-TS over "
                          "RTP at 100k/s received with tracking on, and the trackers alone")
    dev.add_argument("--tui-seconds", type=_float("tui-seconds", 0.5, 10.0), default=3.0,
                     metavar="S", help="length of each TUI run (0.5-10, default 3)")
    dev.add_argument("--tui-rate", type=_float("tui-rate", 1.0, 1e6, zero=True),
                     default=20000.0, metavar="PPS",
                     help="rate of the paced TUI run (default 20000; 0 skips it)")
    dev.add_argument("--listen-write", action="store_true",
                     help="also measure `udpscope listen` receiving with and without "
                          "--write FILE.pcapng")
    return p


def config_from(ns: argparse.Namespace) -> Config:
    """The benchkit Config for parsed options (what the wheel measures: receive, send)."""
    from udpscope.benchkit.runner import Config

    only = ns.only
    return Config(
        seconds=ns.seconds, repeat=ns.repeat, size=ns.size, host=host_from(ns),
        receive=only is None or "receive" in only, send=only is None or "send" in only,
        loop=ns.loop, pin=not ns.no_pin)


def host_from(ns: argparse.Namespace) -> str:
    """The loopback address the options ask for."""
    return "::1" if ns.udp6 else (ns.host or "127.0.0.1")


def developer_options(ns: argparse.Namespace) -> list[str]:
    """The options given that only the developer harness runs (in command-line spelling)."""
    used = [flag for flag, on in (("--compare", ns.compare), ("--c-ceiling", ns.c_ceiling),
                                  ("--tui", ns.tui), ("--listen-write", ns.listen_write),
                                  ("--health", ns.health)) if on]
    if ns.only is not None and ns.only & {"tui", "health"}:
        used.append("--only")
    return used


# ---- the developer harness, found in a source checkout ---------------------------------------

def is_checkout(root: Path) -> bool:
    """Whether `root` is a udpscope source checkout with the developer harness in it."""
    if not (root / "bench" / "__main__.py").is_file():
        return False
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(project, dict) and project.get("name") == "udpscope"


def find_checkout() -> Path | None:
    """The checkout whose harness to run: the one this package was imported from (an editable
    install, or a run from the checkout), else the current directory; None when neither is."""
    import udpscope

    candidates = [Path(udpscope.__file__).resolve().parent.parent]
    with contextlib.suppress(OSError):  # the current directory was removed
        candidates.append(Path.cwd())
    return next((root for root in candidates if is_checkout(root)), None)


def delegate(argv: Sequence[str], root: Path) -> int:
    """Run `python -m bench ARGV` in the checkout `root`; returns its exit status.

    It runs with the checkout first on the path, so the harness, its workers and the engine
    they measure all come from that checkout.
    """
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(root) + (os.pathsep + path if path else "")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "bench", *argv], cwd=root, env=env)
    except OSError as exc:
        err_line(f"udpscope bench: error: cannot start the developer harness in "
                 f"{safe_text(str(root), limit=200)}: {safe_text(str(exc), limit=200)}")
        return 1
    try:
        status = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        return 130
    return 128 - status if status < 0 else status


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """After our Ctrl-C: a terminal's Ctrl-C reached the harness too and it stops its peers; a
    SIGINT sent to this process alone is passed on; a harness that does not stop is killed."""
    for wait_s, then in ((2.0, proc.send_signal), (15.0, None)):
        try:
            proc.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            if then is not None:
                then(signal.SIGINT)
        except KeyboardInterrupt:  # pressed again: stop waiting politely
            break
    proc.kill()
    proc.wait()


def no_checkout(argv: Sequence[str], used: Sequence[str]) -> int:
    """Say that the options `used` need a source checkout and how to run them; returns 2."""
    command = safe_text(" ".join(shlex.quote(a) for a in argv), limit=300)
    err_line("udpscope bench: the comparison with Node and C and the TUI under a flood are the "
             "developer harness, which ships with the source, not with the installed package. "
             f"In a udpscope source checkout run `{HARNESS} {command}` (or `udpscope bench "
             f"{command}` there, or anywhere once the checkout is installed with "
             "`pip install -e .`).")
    what = "tui " if used[0] == "--only" else ""
    err_line(f"udpscope bench: error: argument {used[0]}: {what}needs a udpscope source checkout")
    return 2


# ---- running and printing (shared with the developer harness) --------------------------------

def preflight(host: str, loop: str) -> int:
    """0 when the bench can run here, else 1 after one error line (platform, address, loop)."""
    from udpscope.benchkit.host import has_uvloop

    if sys.platform == "win32":
        err_line("udpscope bench: error: needs Linux (or another POSIX system for a partial run): "
                 "its peers use pipes, ptys and add_reader, which Windows does not offer")
        return 1
    problem = _check_host(host) or (
        "--loop uvloop: uvloop is not installed" if loop == "uvloop" and not has_uvloop()
        else None)
    if problem:
        err_line(f"udpscope bench: error: {safe_text(problem, limit=300)}")
        return 1
    return 0


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


def progress_printer(quiet: bool) -> Callable[[str], None]:
    """Progress lines on stderr when it is a terminal and not `quiet`."""
    on = not quiet and sys.stderr.isatty()

    def progress(msg: str) -> None:
        if on:
            err_line(f"udpscope bench: {msg}")

    return progress


def prepare(cfg: Config, quiet: bool) -> tuple[HostInfo, Callable[[str], None]] | int:
    """Check the host address and the loop, then look at the host (CPUs, kernel, peers):
    returns the host and a progress printer, or the exit status of a failed check."""
    from udpscope.benchkit.host import detect

    status = preflight(cfg.host, cfg.loop)
    if status:
        return status
    host = detect(cfg.loop, cfg.pin)
    if not host.linux:
        err_line("udpscope bench: note: not Linux; no UDP GSO, recvmmsg or CPU pinning here, "
                 "so rates are indicative only (running what works)")
    return host, progress_printer(quiet)


def emit(report: dict[str, Any], scenarios: Sequence[Scenario], as_json: bool) -> None:
    """Print the report: one JSON object, or the tables."""
    from udpscope.benchkit.report import render

    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(render(report, scenarios) + "\n")
    sys.stdout.flush()


def exit_status(report: dict[str, Any]) -> int:
    """1 when a measurement of the engine (or of the app) failed in every run, else 0."""
    engine = []
    if "receive" in report:
        engine.append(report["receive"].get("engine", {}))
    for by_peer in (report.get("send") or {}).values():
        engine.append(by_peer.get("engine", {}))
    tui = report.get("tui") or {}
    engine.extend(v for k, v in tui.items() if k in ("flood", "paced"))
    return 1 if any("error" in s for s in engine) else 0


def run(ns: argparse.Namespace) -> int:
    """The user's bench: the engine's receive and send paths on loopback."""
    from udpscope.benchkit.receive import ENGINE_RECEIVER, ReceiveScenario
    from udpscope.benchkit.runner import Bench
    from udpscope.benchkit.send import ENGINE_SENDER, SendScenario

    cfg = config_from(ns)
    ready = prepare(cfg, ns.quiet)
    if isinstance(ready, int):
        return ready
    host, progress = ready
    scenarios: list[Scenario] = []
    if cfg.receive:
        scenarios.append(ReceiveScenario([ENGINE_RECEIVER], sender_key="sender"))
    if cfg.send:
        scenarios.append(SendScenario([ENGINE_SENDER]))
    progress(f"about {sum(s.estimate_s(cfg) for s in scenarios):.0f} s; Ctrl-C stops it")
    with Bench(cfg, host, progress) as bench:
        report = bench.run(scenarios)
    emit(report, scenarios, ns.json)
    return exit_status(report)


def main(argv: list[str]) -> int:
    """`udpscope bench ARGS`; returns the exit status (0 ok, 1 a measurement failed, 2 usage)."""
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    used = developer_options(ns)
    if used:
        root = find_checkout()
        return delegate(argv, root) if root is not None else no_checkout(argv, used)
    try:
        return run(ns)
    except KeyboardInterrupt:
        err_line("udpscope bench: interrupted (every peer stopped)")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
