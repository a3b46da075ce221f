"""`udpscope` entry point: the TUI when no subcommand is given, else one of the headless commands.

Everything heavy (the engine, Textual, the bench) is imported only by the branch that needs it,
so `udpscope --help` and usage errors are instant and a missing part fails with a message,
not a traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from udpscope import __version__
from udpscope.addresses import family_of
from udpscope.cli.common import (
    Parser,
    _silence_stdout,
    bind_arg,
    err_line,
    group_arg,
    guard_standard_streams,
    int_range,
    not_a_terminal,
    size_range,
)
from udpscope.textsafe import safe_text

# Each subcommand: the module under udpscope.cli that implements it (its `main(argv)` parses its
# own arguments) and the line `udpscope --help` shows. Imported only when named.
COMMANDS: dict[str, tuple[str, str]] = {
    "listen": ("listen", "bind (and join groups), print one line per datagram"),
    "send": ("send", "send datagrams (text, hex, file or stdin), optionally paced"),
    "doctor": ("doctor", "join a group for a while and diagnose it (querier, firewall, ...)"),
    "replay": ("replay", "send a pcap/pcapng capture's UDP datagrams again, at the recorded pace"),
    "open": ("open_file", "show a pcap/pcapng capture in the terminal UI (read-only)"),
    "matrix": ("matrix", "who hears whom: probe a group between many hosts (ssh, kubectl, netns)"),
    "agent": ("agent", "the other end of `matrix` (JSON lines on stdin/stdout; not for typing)"),
    "bench": ("bench", "measure the engine's throughput on loopback"),
}

DESCRIPTION = """\
Debug UDP services and multicast groups. Without a subcommand, open the terminal UI
(--bind/--join create sockets at start-up). Subcommands are headless, for scripts and pipes.
Run `udpscope COMMAND --help` for a command's options."""


def build_parser() -> Parser:
    """The top-level parser: TUI flags, and the subcommands only as names (each parses its own)."""
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
    parser.add_argument("--workspace", metavar="FILE.toml", dest="tui_workspace",
                        help="TUI: open the sockets, options, joins, responders and saved "
                             "payloads of a workspace file")
    parser.add_argument("--ring-size", metavar="N", dest="tui_ring_size",
                        type=int_range(1000, 10_000_000, "ring-size"), default=None,
                        help="TUI: records kept for the live log (default 100000; older ones "
                             "are evicted and counted)")
    parser.add_argument("--ring-memory", metavar="SIZE", dest="tui_ring_memory",
                        type=size_range(32 << 20, 64 << 30), default=None,
                        help="TUI: memory for kept datagrams, e.g. 512MiB or 2G (default "
                             "256MiB; whichever of this and --ring-size is reached first "
                             "evicts the oldest)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (_module, summary) in COMMANDS.items():
        command = sub.add_parser(name, help=summary, add_help=False)
        command.add_argument("sub_args", nargs=argparse.REMAINDER)
    return parser


def run_command(name: str, argv: list[str]) -> int:
    """Run subcommand `name` with its own arguments; a part missing from the installation is a
    message and exit 1, not a traceback."""
    module_name = f"udpscope.cli.{COMMANDS[name][0]}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        err_line(f"udpscope {name}: not available in this installation "
                 f"(cannot import {module_name}: {safe_text(str(e), limit=300)})")
        return 1
    return int(module.main(list(argv)) or 0)


MIN_TUI_FDS = 20  # the app's own descriptors (~8), imports, /proc reads, and a few sockets


def _fd_shortage() -> int | None:
    """The open-file limit if it is below what the TUI needs (after trying to raise the soft
    limit up to the hard one), else None."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < MIN_TUI_FDS:
            wanted = MIN_TUI_FDS if hard == resource.RLIM_INFINITY else min(hard, MIN_TUI_FDS)
            if wanted > soft:
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
                soft = wanted
        return int(soft) if soft != resource.RLIM_INFINITY and soft < MIN_TUI_FDS else None
    except (ImportError, OSError, ValueError):
        return None


def run_tui(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if ns.tui_udp6:
        for addr, _port in ns.tui_binds:
            if addr and family_of(addr) == "udp4":
                parser.error(f"argument --udp6: --bind {addr} is an IPv4 address")
    workspace = None
    if ns.tui_workspace is not None:
        from udpscope.workspace import WorkspaceError, load_workspace

        try:
            workspace = load_workspace(ns.tui_workspace)
        except WorkspaceError as e:
            parser.error(f"argument --workspace: {e}")
    # Before anything is imported or bound: a pipe would get escape sequences, not an app.
    missing = not_a_terminal()
    if missing is not None:
        err_line(f"udpscope: the terminal UI needs a terminal, but {missing} is not one.\n"
                 "For pipes and scripts use `udpscope listen PORT` (one line per datagram) or "
                 "`udpscope send HOST PORT ...`; see `udpscope --help`.")
        return 2
    limit = _fd_shortage()
    if limit is not None:
        err_line(f"udpscope: the terminal UI needs at least {MIN_TUI_FDS} open files, but this "
                 f"process may open only {limit} (ulimit -n).\n"
                 "Raise the limit (e.g. ulimit -n 1024), or use `udpscope listen PORT`.")
        return 2
    # Loading the TUI and starting it allocates what lives as long as the process (modules, the
    # UI), and the cyclic collector would only walk it over and over: about 150 collections,
    # 25-40 ms, before the first frame. It stays off until the app is up
    # (udpscope.tui.limits.settle_collector); main() turns it on again however this ends.
    gc.disable()
    try:
        from udpscope.tui.app import run_app
    except ImportError as e:
        err_line(f"udpscope: the terminal UI is not available: {safe_text(str(e), limit=300)}")
        return 1
    extra: dict[str, Any] = {} if ns.tui_ring_size is None else {"ring_size": ns.tui_ring_size}
    if ns.tui_ring_memory is not None:
        extra["ring_bytes"] = ns.tui_ring_memory
    if workspace is not None:
        extra["workspace"] = workspace
    return int(run_app(list(ns.tui_binds), list(ns.tui_joins), ns.tui_udp6, ns.theme, **extra) or 0)


def _main(argv: list[str]) -> int:
    # A subcommand named first parses its own arguments (prog "udpscope listen", intermixed
    # positionals for send); the parser below only sees TUI flags, or options put before a
    # subcommand by mistake.
    if argv and argv[0] in COMMANDS:
        return run_command(argv[0], argv[1:])
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.command is None:
        return run_tui(ns, parser)
    for flag, value in (("--bind", ns.tui_binds), ("--join", ns.tui_joins),
                        ("--udp6", ns.tui_udp6), ("--theme", ns.theme),
                        ("--ring-size", ns.tui_ring_size), ("--ring-memory", ns.tui_ring_memory),
                        ("--workspace", ns.tui_workspace)):
        if value:
            parser.error(f"argument {flag}: is a TUI option; put options after "
                         f"'{ns.command}' (udpscope {ns.command} ...)")
    return run_command(ns.command, ns.sub_args)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the exit status (0 ok, 1 runtime failure, 2 usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    guard_standard_streams()
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
    finally:
        gc.enable()  # off while the TUI started (run_tui); on again however it ended
