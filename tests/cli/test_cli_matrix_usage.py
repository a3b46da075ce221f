"""`udpscope matrix` bad usage: exit 2 with a last stderr line naming the argument, no traceback,
and no agent started (every case fails before any transport is run)."""

from __future__ import annotations

import pytest

from tests.cli.clitools import run_cli

OK = ["h1", "h2", "--group", "239.1.2.3:5000", "--via", "false {host}"]


@pytest.mark.parametrize(("args", "names"), [
    (["h1", "h2"], "--group"),
    (["h1", "h2", "--group", "10.0.0.1:5000"], "--group"),
    (["h1", "h2", "--group", "239.1.2.3"], "--group"),
    (["h1", "h2", "--group", "239.1.2.3:0"], "--group"),
    (["h1", "h2", "--group", "[ff15::1]:99999"], "--group"),
    (["h1", "--group", "239.1.2.3:5000"], "HOST"),
    (["h1", "h1", "--group", "239.1.2.3:5000"], "HOST"),
    (["h1", "-oProxyCommand=x", "--group", "239.1.2.3:5000"], "-oProxyCommand=x"),
    (["--group", "239.1.2.3:5000", "--", "h1", "-oProxyCommand=x"], "-oProxyCommand=x"),
    (["h1", "h;reboot", "--group", "239.1.2.3:5000"], "HOST"),
    ([*OK[:4], "--via", "ssh host udpscope agent"], "--via"),
    ([*OK[:4], "--via", "ssh '{host}"], "--via"),
    ([*OK, "--ttl", "300"], "--ttl"),
    ([*OK, "--count", "0"], "--count"),
    ([*OK, "--rate", "-5"], "--rate"),
    ([*OK, "--max-loss", "101"], "--max-loss"),
    ([*OK, "--timeout", "2", "--count", "1000", "--rate", "100"], "--timeout"),
    ([*OK, "--format", "xml"], "--format"),
])
def test_bad_usage_exits_2_naming_the_argument(args: list[str], names: str) -> None:
    proc = run_cli("matrix", *args, timeout=30)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    assert names in err.strip().splitlines()[-1], err
    assert proc.stdout == b""


def test_help_names_the_default_template() -> None:
    proc = run_cli("matrix", "--help", timeout=30)
    assert proc.returncode == 0
    assert b"ssh -T -o BatchMode=yes {host} udpscope agent" in proc.stdout.replace(b"\n", b" ")
