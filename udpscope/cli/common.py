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
    format_endpoint,
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
from udpscope.units import SizeError, human_bytes, parse_size

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


def size_range(lo: int, hi: int) -> Callable[[str], int]:
    """A byte size (``256MiB``, ``1G``, see units.parse_size) from `lo` to `hi` bytes."""

    def convert(text: str) -> int:
        try:
            size = parse_size(text)
        except SizeError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        if not lo <= size <= hi:
            raise argparse.ArgumentTypeError(
                f"{human_bytes(size)} is outside {human_bytes(lo)}..{human_bytes(hi)}")
        return size

    convert.__name__ = "size"
    return convert


def positive_float(what: str, hi: float | None = None) -> Callable[[str], float]:
    return argtype(lambda t: parse_float_range(t, what, hi=hi))


port_arg = argtype(parse_port)
bind_arg = argtype(parse_bind_spec, full=True)
host_arg = argtype(parse_endpoint_host)
group_arg = argtype(parse_group_spec)
ip_arg = argtype(lambda t: parse_ip(t, what="source"))
iface_arg = argtype(parse_interface_spec)


def hostport(address: str, port: int) -> str:
    """``1.2.3.4:5`` / ``[::1]:5`` for display (sanitised: a scope is an interface name)."""
    return safe_text(format_endpoint(address, port), limit=110)


# Standard streams that were closed when the process started (filled by guard_standard_streams).
CLOSED_STREAMS: set[str] = set()


def guard_standard_streams() -> None:
    """Give closed descriptors 0-2 /dev/null, remembering which were closed.

    Otherwise the first socket takes descriptor 0, 1 or 2: output would go into it, and libuv
    (uvloop) aborts when it closes a descriptor below 3. Call before any socket exists.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        CLOSED_STREAMS.add(name)
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    if sys.stderr is None:
        with contextlib.suppress(OSError):
            sys.stderr = open(2, "w", errors="backslashreplace", closefd=False)  # noqa: SIM115
    if sys.stdout is None:
        with contextlib.suppress(OSError):
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115


class Output:
    """Line-oriented stdout that flushes every line and notices a reader that went away.

    A reader that went away (EPIPE: ``| head -1``) ends output quietly (``broken``); any other
    failure — stdout closed, a full disk, an I/O error — is reported once on stderr and kept in
    ``error``, so the command can exit 1 instead of pretending it reported everything.
    """

    def __init__(self, stream: TextIO | None = None, prog: str = "udpscope") -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.prog = prog
        self.broken = False
        self.error: str | None = None
        if stream is None and "stdout" in CLOSED_STREAMS:
            self.error = "standard output is closed"
        reconfigure = getattr(self.stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")

    def _fail(self, reason: str) -> None:
        self.broken = True
        self.error = reason
        err_line(f"{self.prog}: error: {reason}: nothing more can be reported")
        _silence_stdout()

    def line(self, text: str) -> bool:
        """Write one line; False once output is impossible (then stdout goes to /dev/null)."""
        if self.broken:
            return False
        if self.error is not None:  # closed at start-up: say so on the first line
            self._fail(self.error)
            return False
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
            _silence_stdout()
            return False
        except (OSError, ValueError, AttributeError) as e:
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            self._fail(f"cannot write to standard output: {safe_text(reason, limit=200)}")
            return False
        return True


def _silence_stdout() -> None:
    # Point fd 1 at /dev/null and drop what the text layer still holds, so the interpreter's
    # final flush neither raises nor writes again.
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    with contextlib.suppress(Exception):
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115


def not_a_terminal() -> str | None:
    """Which of stdin / stdout is not a terminal (the TUI needs both), or None."""
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        try:
            if stream is None or not stream.isatty():
                return name
        except (ValueError, OSError):  # closed
            return name
    return None


def err_line(text: str) -> None:
    """One line to stderr; never raises."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
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
    """Make SIGINT, SIGTERM and SIGHUP (a closed terminal) call ``stop`` (where the loop
    supports it); returns the signals installed."""
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
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
