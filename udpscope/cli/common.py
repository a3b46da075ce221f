"""What the CLI subcommands share: argument types that fail with a message naming the problem,
a parser whose errors cannot smuggle control bytes to the terminal, and line output that flushes
every line (pipes) and survives a closed pipe.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from udpscope.addresses import (
    AddressError,
    parse_bind_spec,
    parse_endpoint_host,
    parse_float_range,
    parse_group_spec,
    parse_int_range,
    parse_interface_spec,
    parse_ip,
    parse_port,
)
from udpscope.net.hints import errno_hint
from udpscope.payload import PayloadError
from udpscope.textsafe import safe_text

if TYPE_CHECKING:
    import asyncio


class Parser(argparse.ArgumentParser):
    """argparse with exit status 2 and a sanitised message (argparse echoes raw arguments)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {safe_text(message, limit=400)}\n")


def run_subcommand(argv: list[str], prog: str, description: str,
                   configure: Callable[[argparse.ArgumentParser], Any],
                   run: Callable[[argparse.Namespace, argparse.ArgumentParser], int],
                   *, intermixed: bool = False) -> int:
    """Parse ``argv`` with the subcommand's own parser (prog ``udpscope X``), then ``run`` it.

    A usage error or ``--help`` returns its exit status instead of raising SystemExit.
    """
    parser = Parser(prog=prog, description=description,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    configure(parser)
    try:
        ns = parser.parse_intermixed_args(argv) if intermixed else parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    return run(ns, parser)


def argtype(fn: Callable[[str], Any], *, full: bool = False) -> Callable[[str], Any]:
    """Wrap a parser so argparse reports ``argument --x: <detail>`` (or the full message)."""

    def convert(text: str) -> Any:
        try:
            return fn(text)
        except (AddressError, PayloadError) as e:
            raise argparse.ArgumentTypeError(str(e) if full else e.detail) from None

    convert.__name__ = getattr(fn, "__name__", "value")
    return convert


def int_range(lo: int, hi: int | None, what: str) -> Callable[[str], int]:
    return argtype(lambda t: parse_int_range(t, lo, hi, what))


def positive_float(what: str, hi: float | None = None) -> Callable[[str], float]:
    return argtype(lambda t: parse_float_range(t, what, hi=hi))


port_arg = argtype(parse_port)
bind_arg = argtype(parse_bind_spec, full=True)
host_arg = argtype(parse_endpoint_host)
group_arg = argtype(parse_group_spec)
ip_arg = argtype(lambda t: parse_ip(t, what="source"))
iface_arg = argtype(parse_interface_spec)


def hostport(address: str, port: int) -> str:
    """``1.2.3.4:5`` / ``[::1]:5`` for display (address sanitised: a scope is an interface name)."""
    shown = safe_text(address, limit=100)
    return f"[{shown}]:{port}" if ":" in address else f"{shown}:{port}"


class Output:
    """Line-oriented stdout that flushes every line and notices a reader that went away."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.broken = False
        reconfigure = getattr(self.stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")

    def line(self, text: str) -> bool:
        """Write one line; False once the reader is gone (then stdout goes to /dev/null)."""
        if self.broken:
            return False
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
            _silence_stdout()
            return False
        return True


def _silence_stdout() -> None:
    # Point fd 1 at /dev/null so the interpreter's final flush does not raise again.
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def err_line(text: str) -> None:
    """One line to stderr; never raises."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def describe_error(err: BaseException) -> tuple[str, str, str | None]:
    """(code, sanitised message, hint or None) for an engine or OS error."""
    code = getattr(err, "code", None)
    if not isinstance(code, str):
        code = type(err).__name__
    message = safe_text(str(err) or code, limit=400)
    hint = None
    with contextlib.suppress(Exception):
        hint = errno_hint(code, getattr(err, "syscall", None), words="cli")
    return code, message, (safe_text(hint, limit=400) if hint else None)


def report_error(prog: str, err: BaseException) -> tuple[str, str]:
    """Print ``prog: error: ...`` (and a hint) to stderr; return (code, message) for JSON."""
    code, message, hint = describe_error(err)
    err_line(f"{prog}: error: {message}")
    if hint:
        err_line(f"{prog}: hint: {hint}")
    return code, message


def resolve_iface(spec: str, family: str, parser: argparse.ArgumentParser,
                  flag: str) -> tuple[str, str]:
    """(argument for the engine, display name) for an interface spec; a usage error otherwise."""
    from udpscope.net.interfaces import resolve_interface  # psutil: only when a flag names one

    try:
        resolved = resolve_interface(spec, family)
    except (ValueError, OSError) as e:
        msg = str(e).removeprefix("interface: ")
        parser.error(f"argument {flag}: {safe_text(msg, limit=300)}")
    return resolved.dgram_arg, resolved.name


def install_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> list[int]:
    """Make SIGINT/SIGTERM call ``stop`` (where the loop supports it); the signals installed."""
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(sig)
    return installed


def remove_signals(loop: asyncio.AbstractEventLoop, installed: list[int]) -> None:
    for sig in installed:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(sig)
