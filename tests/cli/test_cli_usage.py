"""Bad usage: exit 2, a short message whose last line names the argument and what is wrong,
never a traceback, nothing on stdout. Plus --help/--version and the TUI/bench dispatch."""

from __future__ import annotations

import sys
import types

import pytest

from tests.cli.clitools import run_cli
from udpscope.cli import main as cli_main

# (argv, what the last stderr line must contain). {big}, {dir}, {missing}, {big6} are files.
BAD_USAGE = [
    # listen
    (["listen"], "the following arguments are required: [ADDR:]PORT"),
    (["listen", "70000"], "argument [ADDR:]PORT: port: 70000 is out of range 0-65535"),
    (["listen", "http"], "argument [ADDR:]PORT: port: 'http' is not a number"),
    (["listen", "::1:5000"], "argument [ADDR:]PORT: bind: '::1:5000': write an IPv6 address with a port in brackets"),
    (["listen", "[::1]"], "argument [ADDR:]PORT: bind: '[::1]' needs a port after the brackets"),
    (["listen", "300.1.1.1:5000"], "argument [ADDR:]PORT: bind: '300.1.1.1' is not a valid IPv4 address"),
    (["listen", "[fe80::1%nosuchif0]:5000"], "argument [ADDR:]PORT: bind: fe80::1%nosuchif0: no interface named 'nosuchif0'"),
    (["listen", "0", "--count", "0"], "argument --count: 0 is out of range 1 or more"),
    (["listen", "0", "--count", "-1"], "argument --count: -1 is out of range 1 or more"),
    (["listen", "0", "--count", "many"], "argument --count: 'many' is not a whole number"),
    (["listen", "0", "--timeout", "0"], "argument --timeout: 0 must be more than 0"),
    (["listen", "0", "--timeout", "soon"], "argument --timeout: 'soon' is not a number"),
    (["listen", "0", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["listen", "0", "--join", "10.0.0.1"], "argument --join: 10.0.0.1 is not a multicast address"),
    (["listen", "0", "--join", "239.1.2.3@nosuchif0"], "argument --join: no interface named 'nosuchif0'"),
    (["listen", "0", "--join", "239.1.2.3", "--join", "ff02::1"], "argument --join: mixes IPv4 and IPv6 groups"),
    (["listen", "127.0.0.1:0", "--join", "ff02::1"], "argument --join: ff02::1 is IPv6 but the socket is IPv4"),
    (["listen", "127.0.0.1:0", "--udp6"], "argument --udp6: 127.0.0.1 is an IPv4 address"),
    (["listen", "0", "--source", "10.0.0.1"], "argument --source: needs --join GROUP"),
    (["listen", "0", "--source", "::1", "--join", "239.1.2.3"], "argument --source: ::1 is not an IPv4 address"),
    (["listen", "0", "--source", "example.com"], "argument --source: 'example.com' is not an IP address"),
    (["listen", "0", "--bogus"], "unrecognized arguments: --bogus"),
    # send
    (["send"], "the following arguments are required: HOST, PORT"),
    (["send", "127.0.0.1"], "the following arguments are required: PORT"),
    (["send", "127.0.0.1", "0"], "argument PORT: 0 is out of range 1-65535"),
    (["send", "127.0.0.1", "70000"], "argument PORT: 70000 is out of range 1-65535"),
    (["send", "127.0.0.1", "echo"], "argument PORT: 'echo' is not a number"),
    (["send", "300.1.1.1", "9"], "argument HOST: '300.1.1.1' is not a valid IPv4 address"),
    (["send", "a..b", "9"], "argument HOST: 'a..b' has an empty label"),
    (["send", "fe80::1%nosuchif0", "9"], "argument HOST: fe80::1%nosuchif0: no interface named 'nosuchif0'"),
    (["send", "127.0.0.1", "9", "--ttl", "300"], "argument --ttl: 300 is out of range 1-255"),
    (["send", "127.0.0.1", "9", "--ttl", "0"], "argument --ttl: 0 is out of range 1-255"),
    (["send", "127.0.0.1", "9", "--multicast-ttl", "256"], "argument --multicast-ttl: 256 is out of range 0-255"),
    (["send", "127.0.0.1", "9", "--rate", "0"], "argument --rate: 0 must be more than 0"),
    (["send", "127.0.0.1", "9", "--rate", "-5"], "argument --rate: -5 must be more than 0"),
    (["send", "127.0.0.1", "9", "--rate", "fast"], "argument --rate: 'fast' is not a number"),
    (["send", "127.0.0.1", "9", "--rate", "inf"], "argument --rate: 'inf' is not a number"),
    (["send", "127.0.0.1", "9", "--count", "-1"], "argument --count: -1 is out of range 1 or more"),
    (["send", "127.0.0.1", "9", "--count", "0"], "argument --count: 0 is out of range 1 or more"),
    (["send", "127.0.0.1", "9", "--hex", "abc"], "argument --hex: odd number of digits (3)"),
    (["send", "127.0.0.1", "9", "--hex", "zz"], "argument --hex: bad character 'z' at position 1"),
    (["send", "127.0.0.1", "9", "--file", "{missing}"], "argument --file: not found: {missing}"),
    (["send", "127.0.0.1", "9", "--file", "{dir}"], "argument --file: is a directory: {dir}"),
    (["send", "127.0.0.1", "9", "--file", "{big}"], "argument --file: 70000 bytes is more than the 65527 a UDP/IPv6 datagram can carry"),
    (["send", "127.0.0.1", "9", "--file", "{big4}"], "argument --file: 65508 bytes is more than the 65507 a UDP/IPv4 datagram can carry"),
    (["send", "127.0.0.1", "9", "--probe", "--file", "{max4}"], "argument --probe: the 35-byte probe header and the 65507-byte payload are more than 65507 bytes"),
    (["send", "127.0.0.1", "9", "hello", "--file", "{max4}"], "argument --file: not allowed with argument TEXT"),
    (["send", "127.0.0.1", "9", "--hex", "00", "--file", "{max4}"], "argument --file: not allowed with argument --hex"),
    (["send", "127.0.0.1", "9", "--stdin", "hello"], "argument --stdin: not allowed with argument TEXT"),
    (["send", "127.0.0.1", "9", "--hex", "00", "hello"], "argument --hex: not allowed with argument TEXT"),
    (["send", "127.0.0.1", "9", "--interface", "nosuchif0"], "argument --interface: no interface named 'nosuchif0'"),
    (["send", "127.0.0.1", "9", "--interface", "a/b"], "argument --interface: 'a/b' has a bad character '/'"),
    # the TUI flags and the dispatcher
    (["--bind", "70000"], "argument --bind: port: 70000 is out of range 0-65535"),
    (["--join", "10.0.0.1"], "argument --join: 10.0.0.1 is not a multicast address"),
    (["--udp6", "--bind", "127.0.0.1:5000"], "argument --udp6: --bind 127.0.0.1 is an IPv4 address"),
    (["--bind", "5000", "listen", "0"], "argument --bind: is a TUI option"),
    (["lisen", "5000"], "argument COMMAND: invalid choice: 'lisen'"),
]


@pytest.fixture
def files(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 70000)
    big4 = tmp_path / "big4.bin"
    big4.write_bytes(b"x" * 65508)
    max4 = tmp_path / "max4.bin"
    max4.write_bytes(b"x" * 65507)
    return {"big": str(big), "big4": str(big4), "max4": str(max4), "dir": str(tmp_path),
            "missing": str(tmp_path / "missing.bin")}


@pytest.mark.parametrize(("argv", "expected"), BAD_USAGE, ids=[" ".join(a) for a, _ in BAD_USAGE])
def test_bad_usage(argv: list[str], expected: str, files: dict[str, str]) -> None:
    argv = [a.format(**files) for a in argv]
    expected = expected.format(**files)
    res = run_cli(*argv, timeout=30)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert "Traceback" not in err
    assert res.stdout == b""
    last = err.rstrip("\n").splitlines()[-1]
    assert ": error: " in last
    assert expected in last, last
    assert len(err.splitlines()) <= 8  # short: a usage line or two, then the message


def test_oversized_text_and_stdin() -> None:
    res = run_cli("send", "127.0.0.1", "9", "x" * 65508)
    assert res.returncode == 2
    assert res.stderr.decode().splitlines()[-1].endswith(
        "argument TEXT: 65508 bytes is more than the 65507 a UDP/IPv4 datagram can carry")
    res = run_cli("send", "::1", "9", "--stdin", input=b"y" * 65528)
    assert res.returncode == 2
    assert res.stderr.decode().splitlines()[-1].endswith(
        "argument --stdin: standard input holds more than the 65527 a UDP/IPv6 datagram can carry")


def test_hostile_argument_is_not_echoed_raw() -> None:
    res = run_cli("send", "127.0.0.1", "9", "a", "\x1b]0;pwned\x07")
    assert res.returncode == 2
    assert b"\x1b" not in res.stderr and b"\x07" not in res.stderr
    assert "unrecognized arguments" in res.stderr.decode().splitlines()[-1]
    res = run_cli("listen", "\x1b[6n")
    assert res.returncode == 2
    assert b"\x1b" not in res.stderr


def test_help_and_version() -> None:
    res = run_cli("--help")
    assert res.returncode == 0
    out = res.stdout.decode()
    for word in ("listen", "send", "bench", "--bind", "--join", "--udp6", "--theme"):
        assert word in out
    res = run_cli("--version")
    assert res.returncode == 0 and res.stdout.decode().strip() == "udpscope 0.1.0"
    for cmd, flags in (("listen", ["--udp6", "--join", "--source", "--count", "--timeout", "--format"]),
                       ("send", ["--hex", "--file", "--stdin", "--count", "--rate", "--ttl",
                                 "--multicast-ttl", "--broadcast", "--no-loopback", "--interface"])):
        res = run_cli(cmd, "--help")
        assert res.returncode == 0
        for flag in flags:
            assert flag in res.stdout.decode()


def test_no_subcommand_runs_the_tui(monkeypatch) -> None:
    monkeypatch.setattr(cli_main, "not_a_terminal", lambda: None)
    calls = []
    fake = types.ModuleType("udpscope.tui.app")
    fake.run_app = lambda binds, joins, udp6, theme: calls.append((binds, joins, udp6, theme)) or 0
    monkeypatch.setitem(sys.modules, "udpscope.tui.app", fake)
    assert cli_main.main(["--bind", "127.0.0.1:5000", "--bind", "6000", "--join", "239.1.2.3@eth0",
                          "--theme", "dark"]) == 0
    assert calls == [([("127.0.0.1", 5000), (None, 6000)], [("239.1.2.3", "eth0")], False, "dark")]
    calls.clear()
    assert cli_main.main(["--udp6", "--bind", "[::1]:0"]) == 0
    assert calls == [([("::1", 0)], [], True, None)]


def test_ring_size_reaches_the_tui_and_is_validated(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli_main, "not_a_terminal", lambda: None)
    calls = []
    fake = types.ModuleType("udpscope.tui.app")
    fake.run_app = lambda binds, joins, udp6, theme, **kw: calls.append(kw) or 0
    monkeypatch.setitem(sys.modules, "udpscope.tui.app", fake)
    assert cli_main.main(["--ring-size", "5000"]) == 0
    assert calls == [{"ring_size": 5000}]
    for bad in ("10", "abc", "99999999999"):
        assert cli_main.main(["--ring-size", bad]) == 2
        assert "ring-size" in capsys.readouterr().err.strip().splitlines()[-1]
    assert len(calls) == 1


def test_ring_memory_reaches_the_tui_and_is_validated(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli_main, "not_a_terminal", lambda: None)
    calls = []
    fake = types.ModuleType("udpscope.tui.app")
    fake.run_app = lambda binds, joins, udp6, theme, **kw: calls.append(kw) or 0
    monkeypatch.setitem(sys.modules, "udpscope.tui.app", fake)
    assert cli_main.main(["--ring-memory", "512MiB"]) == 0
    assert cli_main.main(["--ring-memory", "1G", "--ring-size", "2000"]) == 0
    assert calls == [{"ring_bytes": 512 << 20}, {"ring_size": 2000, "ring_bytes": 1 << 30}]
    for bad, says in (("12 parsecs", "unknown unit"), ("1MiB", "outside"), ("-5", "not a size"),
                      ("\x1b]0;x\x07", "not a size"), ("100TiB", "outside")):
        assert cli_main.main(["--ring-memory", bad]) == 2
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert "argument --ring-memory" in last and says in last and "\x1b" not in last
    assert cli_main.main(["--ring-memory", "1G", "listen", "5000"]) == 2
    assert "is a TUI option" in capsys.readouterr().err
    assert len(calls) == 2


def test_bench_dispatch(monkeypatch, capsys) -> None:
    seen = []
    fake = types.ModuleType("udpscope.cli.bench")
    fake.main = lambda argv: seen.append(argv) or 7
    monkeypatch.setitem(sys.modules, "udpscope.cli.bench", fake)
    assert cli_main.main(["bench", "--help", "-x", "3"]) == 7
    assert seen == [["--help", "-x", "3"]]
    monkeypatch.setitem(sys.modules, "udpscope.cli.bench", None)  # as if the module were missing
    assert cli_main.main(["bench"]) == 1
    assert "udpscope bench: not available" in capsys.readouterr().err


def test_the_collector_is_off_while_the_tui_starts_and_on_for_subcommands_and_after(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Start-up allocates what stays: the TUI starts with the cyclic collector off (the app
    turns it on once it is up); a subcommand runs with it on; main returns with it on."""
    import gc

    monkeypatch.setattr(cli_main, "not_a_terminal", lambda: None)
    seen: list[tuple[str, bool]] = []
    tui = types.ModuleType("udpscope.tui.app")
    tui.run_app = lambda *a, **kw: seen.append(("tui", gc.isenabled())) or 0
    monkeypatch.setitem(sys.modules, "udpscope.tui.app", tui)
    listen = types.ModuleType("udpscope.cli.listen")
    listen.main = lambda argv: seen.append(("listen", gc.isenabled())) or 0
    monkeypatch.setitem(sys.modules, "udpscope.cli.listen", listen)
    assert gc.isenabled()
    assert cli_main.main([]) == 0
    assert gc.isenabled()
    assert cli_main.main(["listen", "0"]) == 0
    assert gc.isenabled()
    assert cli_main.main(["--theme", "dark", "--bind", "zz"]) == 2  # a usage error
    assert gc.isenabled()
    assert seen == [("tui", False), ("listen", True)]
