"""`udpscope` entry point: the TUI when no subcommand is given, else `listen` / `send` / `bench`.

Everything heavy (the engine, Textual, the bench) is imported only by the branch that needs it,
so `udpscope --help` and usage errors are instant and a missing part fails with a message,
not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from udpscope import __version__
from udpscope.addresses import family_of
from udpscope.cli.common import Parser, _silence_stdout, bind_arg, err_line, group_arg, int_range
from udpscope.textsafe import safe_text

DESCRIPTION = """\
Debug UDP services and multicast groups. Without a subcommand, open the terminal UI
(--bind/--join create sockets at start-up). Subcommands are headless, for scripts and pipes:
  listen   bind (and join groups), print one line per datagram
  send     send datagrams (text, hex, file or stdin), optionally paced
  bench    measure throughput on loopback
  matrix   who hears whom: probe a group between many hosts (agents over ssh, kubectl, netns)
  agent    the other end of `matrix` (JSON lines on stdin/stdout; not for typing)
Run `udpscope COMMAND --help` for a command's options."""


def build_parser() -> Parser:
    from udpscope.cli import listen, send

    parser = Parser(prog="udpscope", description=DESCRIPTION,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"udpscope {__version__}")
    parser.add_argument("--bind", metavar="[ADDR:]PORT", dest="tui_binds", action="append",
                        type=bind_arg, default=[], help="TUI: bind a socket at start-up (repeatable)")
    parser.add_argument("--udp6", dest="tui_udp6", action="store_true",
                        help="TUI: the start-up sockets are IPv6")
    parser.add_argument("--join", metavar="GROUP[@IFACE]", dest="tui_joins", action="append",
                        type=group_arg, default=[], help="TUI: join a group at start-up (repeatable)")
    parser.add_argument("--theme", metavar="NAME", help="TUI: colour theme")
    parser.add_argument("--ring-size", metavar="N", dest="tui_ring_size",
                        type=int_range(1000, 10_000_000, "ring-size"), default=None,
                        help="TUI: records kept for the live log (default 100000; older ones "
                             "are evicted and counted)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    lp = sub.add_parser("listen", help="bind and print one line per event",
                        description=listen.DESCRIPTION,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    listen.configure(lp)
    lp.set_defaults(run=listen.run, parser=lp)
    sp = sub.add_parser("send", help="send datagrams", description=send.DESCRIPTION,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    send.configure(sp)
    sp.set_defaults(run=send.run, parser=sp)
    bp = sub.add_parser("bench", help="measure throughput on loopback (see `udpscope bench --help`)",
                        add_help=False)
    bp.add_argument("bench_args", nargs=argparse.REMAINDER)
    for name, text in (("matrix", "who hears whom between hosts (see `udpscope matrix --help`)"),
                       ("agent", "the other end of `matrix` (JSON lines on stdin/stdout)")):
        xp = sub.add_parser(name, help=text, add_help=False)
        xp.add_argument("sub_args", nargs=argparse.REMAINDER)
    return parser


def run_bench(argv: list[str]) -> int:
    try:
        from udpscope.cli.bench import main as bench_main
    except ImportError as e:
        err_line("udpscope bench: not available in this installation "
                 f"(cannot import udpscope.cli.bench: {safe_text(str(e), limit=300)})")
        return 1
    return int(bench_main(list(argv)) or 0)


def run_tui(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if ns.tui_udp6:
        for addr, _port in ns.tui_binds:
            if addr and family_of(addr) == "udp4":
                parser.error(f"argument --udp6: --bind {addr} is an IPv4 address")
    try:
        from udpscope.tui.app import run_app
    except ImportError as e:
        err_line(f"udpscope: the terminal UI is not available: {safe_text(str(e), limit=300)}")
        return 1
    extra = {} if ns.tui_ring_size is None else {"ring_size": ns.tui_ring_size}
    return int(run_app(list(ns.tui_binds), list(ns.tui_joins), ns.tui_udp6, ns.theme, **extra) or 0)


def _main(argv: list[str]) -> int:
    # A subcommand named first gets its own parser (prog "udpscope listen", intermixed
    # positionals for send); the full parser below only sees TUI flags or misplaced ones.
    if argv and argv[0] == "bench":
        return run_bench(argv[1:])
    if argv and argv[0] == "listen":
        from udpscope.cli import listen

        return listen.main(argv[1:])
    if argv and argv[0] == "send":
        from udpscope.cli import send

        return send.main(argv[1:])
    if argv and argv[0] == "agent":
        from udpscope.cli import agent

        return agent.main(argv[1:])
    if argv and argv[0] == "matrix":
        from udpscope.cli import matrix

        return matrix.main(argv[1:])
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.command is None:
        return run_tui(ns, parser)
    for flag, value in (("--bind", ns.tui_binds), ("--join", ns.tui_joins),
                        ("--udp6", ns.tui_udp6), ("--theme", ns.theme),
                        ("--ring-size", ns.tui_ring_size)):
        if value:
            parser.error(f"argument {flag}: is a TUI option; put options after "
                         f"'{ns.command}' (udpscope {ns.command} ...)")
    if ns.command == "bench":
        return run_bench(ns.bench_args)
    if ns.command in ("matrix", "agent"):
        return _main([ns.command, *ns.sub_args])
    return ns.run(ns, ns.parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the exit status (0 ok, 1 runtime failure, 2 usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(args)
    except SystemExit as e:  # argparse: --help, --version, usage errors
        if e.code is None:
            return 0
        return e.code if isinstance(e.code, int) else 2
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        _silence_stdout()
        return 0
