"""`python -m bench`: the engine next to Node and C, and the app under load, in one run.

Why it shares `udpscope bench`'s options, runner and report: the numbers must be measured the
same way whether a user runs `udpscope bench` or a developer compares against Node, so this adds
peers and scenarios to the same runner and prints the same tables (the options are the same
parser, so `udpscope bench --compare ...` can hand its arguments over unchanged).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.health import health_scenarios
from bench.reference import build_c, c_receiver, find_cc, find_node, node_receiver, node_sender
from bench.tui import TuiScenario
from udpscope.benchkit.host import HostInfo
from udpscope.benchkit.proc import python_argv
from udpscope.benchkit.receive import ENGINE_RECEIVER, Ratio, ReceiveScenario
from udpscope.benchkit.runner import Bench, Config
from udpscope.benchkit.scenario import Peer, ReceiverSpec, Scenario
from udpscope.benchkit.send import ENGINE_SENDER, SendScenario
from udpscope.cli.bench import (
    build_parser,
    emit,
    exit_status,
    host_from,
    prepare,
)
from udpscope.cli.common import _silence_stdout, err_line

PROG = "python -m bench"
ROOT = Path(__file__).resolve().parent.parent  # the checkout: workers import bench from it
LISTEN_PLAIN: Peer[ReceiverSpec] = Peer("listen", "udpscope listen", lambda s: python_argv(
    "bench.listen_worker", s.host, s.rcvbuf, s.idle_ms, s.max_s, "plain"))
LISTEN_WRITING: Peer[ReceiverSpec] = Peer("listen-write", "listen --write", lambda s: python_argv(
    "bench.listen_worker", s.host, s.rcvbuf, s.idle_ms, s.max_s, "write"))
LISTEN_WRITE = ReceiveScenario(
    [LISTEN_PLAIN, LISTEN_WRITING], key="listen_write",
    title="LISTEN  `udpscope listen --format jsonl`, with and without --write FILE.pcapng",
    ratios=[Ratio("listen-write", "listen", "--write / without")], baseline="listen")
RECEIVE_RATIOS = (Ratio("engine", "node"), Ratio("engine", "c", "engine / C ceiling"),
                  Ratio("c", "node"))


@dataclass
class HarnessConfig(Config):
    """The user bench's Config plus what only the harness measures."""

    compare: bool = False
    c_ceiling: bool = False
    tui: bool = False
    tui_seconds: float = 3.0
    tui_rate: float = 20_000.0
    listen_write: bool = False
    health: bool = False


def config_from(ns: argparse.Namespace) -> HarnessConfig:
    """The harness's config for parsed options."""
    only = ns.only
    return HarnessConfig(
        seconds=ns.seconds, repeat=ns.repeat, size=ns.size, host=host_from(ns),
        receive=only is None or "receive" in only, send=only is None or "send" in only,
        loop=ns.loop, pin=not ns.no_pin, compare=ns.compare, c_ceiling=ns.c_ceiling,
        tui=ns.tui or (only is not None and "tui" in only), tui_seconds=ns.tui_seconds,
        tui_rate=ns.tui_rate, listen_write=ns.listen_write,
        health=ns.health or (only is not None and "health" in only))


def plan(cfg: HarnessConfig, host: HostInfo, bench: Bench) -> list[Scenario]:
    """The scenarios `cfg` asks for, with the peers found here (notes say what is missing).

    Compiles the C peer into one of `bench`'s temp dirs; records Node's version and the C
    compiler in the report's host object.
    """
    node, node_version = find_node() if cfg.compare or cfg.health else (None, None)
    cc = find_cc() if cfg.c_ceiling else None
    host.extra.update(node=node_version, cc=cc)
    receivers = [ENGINE_RECEIVER]
    senders = [ENGINE_SENDER]
    if cfg.compare:
        if node:
            receivers.append(node_receiver(node))
            senders.append(node_sender(node))
        else:
            bench.notes.append("Node comparison skipped: `node` is not on PATH")
    if cfg.c_ceiling and cfg.receive:
        binary, why = build_c(cc, host.linux, bench.temp_dir())
        if binary:
            receivers.append(c_receiver(binary))
        elif why:
            bench.notes.append(why)
    scenarios: list[Scenario] = []
    if cfg.receive:
        scenarios.append(ReceiveScenario(receivers, ratios=RECEIVE_RATIOS, baseline="node",
                                         sender_key="sender"))
    if cfg.send:
        scenarios.append(SendScenario(senders, baseline="node"))
    if cfg.tui:
        scenarios.append(TuiScenario(cfg.tui_seconds, cfg.tui_rate))
    if cfg.listen_write:
        scenarios.append(LISTEN_WRITE)
    if cfg.health:
        if not node:
            bench.notes.append("health: Node's bare receive rate skipped: `node` is not on PATH")
        scenarios.extend(health_scenarios(node_receiver(node) if node else None))
    return scenarios


def run(ns: argparse.Namespace) -> int:
    """Every scenario the options ask for; returns the exit status."""
    cfg = config_from(ns)
    ready = prepare(cfg, ns.quiet)
    if isinstance(ready, int):
        return ready
    host, progress = ready
    with Bench(cfg, host, progress, pythonpath=[str(ROOT)]) as bench:
        scenarios = plan(cfg, host, bench)
        progress(f"about {sum(s.estimate_s(cfg) for s in scenarios):.0f} s; Ctrl-C stops it")
        report = bench.run(scenarios)
    emit(report, scenarios, ns.json)
    return exit_status(report)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench ARGS`; returns the exit status (0 ok, 1 a measurement failed, 2 usage)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        ns = build_parser(prog=PROG).parse_args(args)
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
